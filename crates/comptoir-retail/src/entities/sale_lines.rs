use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "retail_sale_lines")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub org_id: Uuid,
    pub sale_id: Uuid,
    pub line_no: i32,
    pub product_id: Uuid,
    /// Negative for a return.
    pub quantity: i64,
    /// Excluding VAT.
    pub unit_price_e4: i64,
    pub discount_e4: i64,
    pub vat_rate_e4: i64,
    pub amount_excl_e4: i64,
    pub amount_incl_e4: i64,
    /// Quantity × the product's purchase price at import time.
    pub cost_e4: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

comptoir_kernel::tenant_scoped!(Entity, Column::OrgId, Column::Id);

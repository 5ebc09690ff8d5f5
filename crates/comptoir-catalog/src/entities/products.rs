use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "catalog_products")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub org_id: Uuid,
    pub sku: String,
    pub name: String,
    pub description: Option<String>,
    pub brand_id: Option<Uuid>,
    pub category_id: Option<Uuid>,
    pub product_type_id: Option<Uuid>,
    /// Values of the product type attributes, validated against its definition.
    pub attributes: Json,
    pub purchase_price_e4: Option<i64>,
    pub sale_price_e4: i64,
    pub currency: String,
    /// VAT in percent, e.g. 20 or 5.5 (ten-thousandths).
    pub vat_rate_e4: i64,
    pub availability: String,
    /// Image references (URLs or object-store keys).
    pub images: Json,
    /// `draft`, `active` or `archived`.
    pub status: String,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

comptoir_kernel::tenant_scoped!(Entity, Column::OrgId, Column::Id);

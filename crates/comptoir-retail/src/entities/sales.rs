use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "retail_sales")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub org_id: Uuid,
    pub receipt: String,
    pub store_id: Uuid,
    pub customer_id: Option<Uuid>,
    pub sold_at: DateTimeUtc,
    /// The calendar day of `sold_at` (the rollups' key).
    pub day: Date,
    pub total_excl_e4: i64,
    pub total_incl_e4: i64,
    pub import_id: Option<Uuid>,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

comptoir_kernel::tenant_scoped!(Entity, Column::OrgId, Column::Id);

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "catalog_locations")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub org_id: Uuid,
    pub code: String,
    pub name: String,
    /// `warehouse` or `store`.
    pub kind: String,
    pub region: Option<String>,
    pub address: Option<String>,
    /// Degrees, in millionths (exact on both engines).
    pub latitude_e6: Option<i64>,
    pub longitude_e6: Option<i64>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

comptoir_kernel::tenant_scoped!(Entity, Column::OrgId, Column::Id);

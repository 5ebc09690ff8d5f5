use sea_orm::entity::prelude::*;

/// One immutable version of a scenario (1, 2, ...): every update adds one.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "retail_scenario_versions")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub org_id: Uuid,
    pub scenario_id: Uuid,
    pub version: i32,
    pub name: String,
    pub description: String,
    /// First projected month, `YYYY-MM`.
    pub from_month: String,
    pub horizon: i32,
    /// `last_year` or `forecast`.
    pub baseline: String,
    /// The levers, as the what-if takes them.
    pub levers: Json,
    pub created_by: Uuid,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

comptoir_kernel::tenant_scoped!(Entity, Column::OrgId, Column::Id);

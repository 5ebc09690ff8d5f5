use sea_orm::entity::prelude::*;

/// A saved what-if scenario; its content lives in immutable versions
/// ([`super::scenario_versions`]), `latest_version` being the current one.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "retail_scenarios")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub org_id: Uuid,
    /// The member who created it.
    pub owner_id: Uuid,
    /// The owner's part of the chain when it was created: both absent for the whole chain.
    pub scope_region_id: Option<Uuid>,
    pub scope_store_id: Option<Uuid>,
    pub latest_version: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    /// Set by a delete: the scenario is gone from the API, its versions kept.
    pub archived_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

comptoir_kernel::tenant_scoped!(Entity, Column::OrgId, Column::Id);

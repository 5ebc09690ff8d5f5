use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "retail_reports")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub org_id: Uuid,
    /// First day of the month reported.
    pub month: Date,
    /// The scope: a region, a store, or neither (the whole chain).
    pub region_id: Option<Uuid>,
    pub store_id: Option<Uuid>,
    /// The scope in words, as the dashboard names it.
    pub label: String,
    /// `pending`, `running`, `completed` or `failed`.
    pub status: String,
    pub error: Option<String>,
    /// The schedule that produced it (absent for a report asked for through the API).
    pub schedule_id: Option<Uuid>,
    pub task_id: Option<Uuid>,
    /// The member the report is computed for (their scope when the job runs).
    pub created_by: Option<Uuid>,
    pub created_at: DateTimeUtc,
    pub finished_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

comptoir_kernel::tenant_scoped!(Entity, Column::OrgId, Column::Id);

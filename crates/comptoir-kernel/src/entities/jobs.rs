use sea_orm::entity::prelude::*;

/// One unit of background work. Times used for claiming are epoch milliseconds so that
/// both engines compare plain integers.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "jobs")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// None for system jobs (alerts, maintenance).
    pub org_id: Option<Uuid>,
    pub kind: String,
    pub payload: Json,
    /// queued, running, succeeded, failed (will retry), dead.
    pub status: String,
    pub attempts: i32,
    pub max_attempts: i32,
    pub run_at: i64,
    pub locked_by: Option<String>,
    pub locked_until: Option<i64>,
    #[sea_orm(unique)]
    pub unique_key: Option<String>,
    pub result: Option<Json>,
    pub last_error: Option<String>,
    /// Every failed attempt: `[{attempt, at, error}]`.
    pub errors: Json,
    pub progress_done: Option<i64>,
    pub progress_total: Option<i64>,
    pub correlation_id: Option<String>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub finished_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

crate::tenant_scoped!(Entity, Column::OrgId, Column::Id);

use sea_orm::entity::prelude::*;

/// One row per execution of a `kernel.selftest` job (not idempotent on purpose: it shows
/// how often a job actually ran).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "job_selftest_runs")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub key: String,
    pub worker: String,
    pub started_at: i64,
    pub finished_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

//! `kernel.selftest`: a job that proves the queue works end to end on a deployment. Each
//! run records itself in `job_selftest_runs`; its effect (one row per key in
//! `job_selftest_effects`) is idempotent, so a job re-run after a crash changes nothing.
//! `comptoir jobs selftest` enqueues them; the crash-safety tests count their effects.

use std::time::Duration;

use chrono::Utc;
use sea_orm::sea_query::OnConflict;
use sea_orm::{EntityTrait, Set};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use uuid::Uuid;

use super::{Job, JobContext, JobError, store::now_ms};
use crate::entities::{job_selftest_effects as effects, job_selftest_runs as runs};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SelfTest {
    /// The effect's idempotency key.
    pub key: String,
    /// Simulated work, so that a batch takes a while.
    #[serde(default)]
    pub sleep_ms: u64,
    /// Fail every attempt (to exercise retries and dead letters).
    #[serde(default)]
    pub fail: bool,
}

impl Job for SelfTest {
    const KIND: &'static str = "kernel.selftest";

    async fn run(self, ctx: JobContext) -> Result<Value, JobError> {
        let started = now_ms();
        if self.sleep_ms > 0 {
            tokio::time::sleep(Duration::from_millis(self.sleep_ms.min(60_000))).await;
        }
        if self.fail {
            return Err(JobError::retry(format!(
                "selftest {} failed on purpose (attempt {})",
                self.key, ctx.attempt
            )));
        }
        effects::Entity::insert(effects::ActiveModel {
            key: Set(self.key.clone()),
            worker: Set(ctx.worker_id.clone()),
            created_at: Set(Utc::now()),
        })
        .on_conflict(
            OnConflict::column(effects::Column::Key)
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(&ctx.state.db)
        .await?;
        runs::Entity::insert(runs::ActiveModel {
            id: Set(Uuid::now_v7()),
            key: Set(self.key.clone()),
            worker: Set(ctx.worker_id.clone()),
            started_at: Set(started),
            finished_at: Set(now_ms()),
        })
        .exec_without_returning(&ctx.state.db)
        .await?;
        Ok(json!({ "key": self.key, "worker": ctx.worker_id }))
    }
}

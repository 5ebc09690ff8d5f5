//! Background work of the catalog: CSV imports run as durable jobs. The upload is stored
//! and its job enqueued in one transaction; the job processes the file in chunks and, if a
//! worker dies, the next attempt resumes after the last finished chunk.

use comptoir_kernel::AppResult;
use comptoir_kernel::auth::Caller;
use comptoir_kernel::jobs::{self, EnqueueOptions, Job, JobContext, JobError, JobRegistry, TaskId};
use sea_orm::DatabaseConnection;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::import;
use crate::model::ImportId;
use crate::views::ImportOptions;

/// Processes one stored import.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ImportJob {
    pub import_id: ImportId,
}

impl Job for ImportJob {
    const KIND: &'static str = "catalog.import";

    async fn run(self, ctx: JobContext) -> Result<Value, JobError> {
        let org = ctx
            .org_id
            .ok_or_else(|| JobError::permanent("an import job needs an organization"))?;
        let done = import::run_import(&ctx.state.db, org, self.import_id).await?;
        ctx.progress(done.processed_rows, done.total_rows).await?;
        Ok(json!({
            "import_id": done.id,
            "status": done.status,
            "accepted_rows": done.accepted_rows,
            "rejected_rows": done.rejected_rows,
        }))
    }
}

/// The catalog's job kinds.
pub fn register(registry: &mut JobRegistry) {
    registry.register::<ImportJob>();
}

/// Stores an upload and queues its processing, atomically: an accepted upload is never
/// left without a job.
pub async fn queue_import(
    db: &DatabaseConnection,
    caller: &Caller,
    options: ImportOptions,
    content: String,
) -> AppResult<(ImportId, TaskId)> {
    let txn = comptoir_kernel::db::begin_write(db).await?;
    let id = import::start_import(&txn, caller, options, content).await?;
    let job = ImportJob { import_id: id };
    let options = EnqueueOptions {
        unique_key: Some(format!("catalog.import:{id}")),
        ..Default::default()
    };
    let task = jobs::enqueue(&txn, Some(caller.org_id), &job, options).await?;
    txn.commit().await?;
    Ok((id, task))
}

//! Background work of the retail slice: sales imports run as durable jobs, as the member
//! who uploaded the file (with the role and scope that member has when the job runs).

use comptoir_kernel::AppResult;
use comptoir_kernel::auth::caller::from_membership;
use comptoir_kernel::auth::{AuthVia, Caller};
use comptoir_kernel::ids::UserId;
use comptoir_kernel::jobs::{self, EnqueueOptions, Job, JobContext, JobError, JobRegistry, TaskId};
use comptoir_kernel::tenancy::find_in_org;
use sea_orm::DatabaseConnection;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::entities::imports;
use crate::import::{self, SalesImportOptions};
use crate::model::SalesImportId;

/// Processes one stored sales import.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SalesImportJob {
    pub import_id: SalesImportId,
}

impl Job for SalesImportJob {
    const KIND: &'static str = "retail.import";

    async fn run(self, ctx: JobContext) -> Result<Value, JobError> {
        let org = ctx
            .org_id
            .ok_or_else(|| JobError::permanent("an import job needs an organization"))?;
        let row = find_in_org::<imports::Entity>(&ctx.state.db, org, self.import_id.0).await?;
        let user = row
            .created_by
            .ok_or_else(|| JobError::permanent("the import has no author"))?;
        drop(row);
        let caller = from_membership(&ctx.state, org, UserId(user), AuthVia::System)
            .await
            .map_err(|e| JobError::permanent(format!("the import's author: {e}")))?;
        let done = import::run_import(&ctx.state.db, &caller, self.import_id).await?;
        ctx.progress(done.processed_rows, done.total_rows).await?;
        Ok(json!({
            "import_id": done.id,
            "status": done.status,
            "accepted_rows": done.accepted_rows,
            "rejected_rows": done.rejected_rows,
        }))
    }
}

/// The retail job kinds.
pub fn register(registry: &mut JobRegistry) {
    registry.register::<SalesImportJob>();
    registry
        .register::<crate::reports::jobs::ReportJob>()
        .every(
            std::time::Duration::from_secs(3600),
            &crate::reports::jobs::ScheduleSweep::default(),
        );
}

/// Stores an upload and queues its processing in one transaction.
pub async fn queue_import(
    db: &DatabaseConnection,
    caller: &Caller,
    options: SalesImportOptions,
    content: Vec<u8>,
) -> AppResult<(SalesImportId, TaskId)> {
    let txn = comptoir_kernel::db::begin_write(db).await?;
    let id = import::start_import(&txn, caller, options, content).await?;
    let options = EnqueueOptions {
        unique_key: Some(format!("retail.import:{id}")),
        ..Default::default()
    };
    let task = jobs::enqueue(
        &txn,
        Some(caller.org_id),
        &SalesImportJob { import_id: id },
        options,
    )
    .await?;
    txn.commit().await?;
    Ok((id, task))
}

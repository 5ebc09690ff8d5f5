//! The durable job queue, in our own database (both engines): enqueue inside the caller's
//! transaction, workers claim batches (`FOR UPDATE SKIP LOCKED` on PostgreSQL, one atomic
//! `UPDATE ... RETURNING` on SQLite), a visibility timeout re-claims jobs of dead workers,
//! retries back off exponentially with jitter, the last failure makes a dead letter that can
//! be replayed, unique keys stop duplicate work, and periodic jobs are enqueued once per
//! slot across all processes.
//!
//! A slice defines a job by implementing [`Job`] and registering it in its `jobs()`:
//! ```ignore
//! #[derive(Serialize, Deserialize)]
//! struct ImportProducts { import_id: Uuid }
//! impl Job for ImportProducts {
//!     const KIND: &'static str = "catalog.import";
//!     async fn run(self, ctx: JobContext) -> Result<Value, JobError> { ... }
//! }
//! registry.register::<ImportProducts>();
//! jobs::enqueue(&txn, Some(org), &ImportProducts { import_id }, EnqueueOptions::default()).await?;
//! ```

pub mod api;
pub mod selftest;
pub mod store;
pub mod worker;

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::ids::OrgId;
use crate::state::AppState;

pub use store::{EnqueueOptions, enqueue};

crate::typed_id!(
    /// A job, also called a task in the status API.
    TaskId
);

/// Why a job attempt failed, and whether trying again can help.
#[derive(Debug, Clone)]
pub struct JobError {
    pub message: String,
    /// False: the job goes straight to the dead letters (bad payload, invalid input).
    pub retryable: bool,
}

impl JobError {
    pub fn retry(message: impl std::fmt::Display) -> Self {
        Self {
            message: message.to_string(),
            retryable: true,
        }
    }

    pub fn permanent(message: impl std::fmt::Display) -> Self {
        Self {
            message: message.to_string(),
            retryable: false,
        }
    }
}

impl<E: std::fmt::Display> From<E> for JobError {
    fn from(e: E) -> Self {
        Self::retry(e)
    }
}

/// What a running job knows about itself.
#[derive(Clone)]
pub struct JobContext {
    pub state: AppState,
    pub task_id: TaskId,
    pub org_id: Option<OrgId>,
    /// 1 for the first attempt.
    pub attempt: i32,
    pub worker_id: String,
}

impl JobContext {
    /// Records progress, shown by `GET /api/v1/tasks/{id}`.
    pub async fn progress(&self, done: i64, total: i64) -> Result<(), JobError> {
        store::set_progress(&self.state.db, self.task_id, done, total)
            .await
            .map_err(JobError::retry)
    }
}

/// A kind of background work.
pub trait Job: Serialize + DeserializeOwned + Send + Sync + 'static {
    /// Stable name, `slice.verb` (stored in the database: never rename).
    const KIND: &'static str;
    /// Attempts before the job becomes a dead letter.
    const MAX_ATTEMPTS: i32 = 5;

    fn run(self, ctx: JobContext) -> impl Future<Output = Result<Value, JobError>> + Send;
}

type BoxFuture = Pin<Box<dyn Future<Output = Result<Value, JobError>> + Send>>;
type Handler = Arc<dyn Fn(Value, JobContext) -> BoxFuture + Send + Sync>;

/// A periodic job: enqueued once per `every` slot (aligned on the epoch) by whichever
/// process gets there first.
#[derive(Clone)]
pub struct Periodic {
    pub kind: &'static str,
    pub every: Duration,
    pub payload: Value,
}

/// Every job kind the workers can run.
#[derive(Clone, Default)]
pub struct JobRegistry {
    handlers: HashMap<&'static str, Handler>,
    periodic: Vec<Periodic>,
}

impl JobRegistry {
    pub fn new() -> Self {
        let mut registry = Self::default();
        registry.register::<selftest::SelfTest>();
        registry
    }

    pub fn register<J: Job>(&mut self) -> &mut Self {
        let handler: Handler = Arc::new(|payload, ctx| {
            Box::pin(async move {
                let job: J = serde_json::from_value(payload).map_err(|e| {
                    JobError::permanent(format!("bad payload for {}: {e}", J::KIND))
                })?;
                job.run(ctx).await
            })
        });
        self.handlers.insert(J::KIND, handler);
        self
    }

    /// Runs `job` every `every` (the first slot after start-up, then each slot).
    pub fn every<J: Job>(&mut self, every: Duration, job: &J) -> &mut Self {
        self.register::<J>();
        let payload = serde_json::to_value(job).unwrap_or(Value::Null);
        self.periodic.push(Periodic {
            kind: J::KIND,
            every,
            payload,
        });
        self
    }

    pub fn kinds(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.handlers.keys().copied()
    }

    fn handler(&self, kind: &str) -> Option<Handler> {
        self.handlers.get(kind).cloned()
    }
}

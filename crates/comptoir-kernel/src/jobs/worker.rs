//! The worker loop: claim a batch, run its jobs concurrently (each in its own task, so a
//! panic fails one job, not the worker), record outcomes, repeat. Idle workers sleep until
//! a PostgreSQL NOTIFY, an in-process wake-up or the poll interval. On shutdown the current
//! batch may finish within a grace period; what is still running then is released.

use std::sync::Arc;
use std::time::Duration;

use sea_orm::DbBackend;
use serde_json::Value;
use tokio::sync::{Notify, watch};
use uuid::Uuid;

use super::store::{self, now_ms};
use super::{JobContext, JobError, JobRegistry, TaskId};
use crate::entities::jobs;
use crate::ids::OrgId;
use crate::state::AppState;

/// Tuning of a worker (from `[jobs]` in the configuration).
#[derive(Debug, Clone)]
pub struct WorkerConfig {
    pub batch_size: u64,
    pub poll_interval: Duration,
    pub visibility_timeout: Duration,
    pub backoff_base_ms: u64,
    pub backoff_max_ms: u64,
    pub shutdown_grace: Duration,
}

impl WorkerConfig {
    pub fn from_config(c: &crate::config::JobsConfig) -> Self {
        Self {
            batch_size: c.batch_size.max(1),
            poll_interval: Duration::from_millis(c.poll_interval_ms.max(10)),
            visibility_timeout: Duration::from_secs(c.visibility_timeout_secs.max(1)),
            backoff_base_ms: c.backoff_base_ms,
            backoff_max_ms: c.backoff_max_secs * 1000,
            shutdown_grace: Duration::from_secs(c.shutdown_grace_secs),
        }
    }
}

/// Wakes this process's idle workers when a job is enqueued here (SQLite has no NOTIFY).
pub(crate) static WAKE: Notify = Notify::const_new();

pub struct Worker {
    state: AppState,
    registry: Arc<JobRegistry>,
    config: WorkerConfig,
    pub id: String,
}

impl Worker {
    pub fn new(state: AppState, registry: Arc<JobRegistry>, config: WorkerConfig) -> Self {
        let host = std::env::var("HOSTNAME").unwrap_or_else(|_| "worker".into());
        let id = format!(
            "{host}-{}-{}",
            std::process::id(),
            &Uuid::new_v4().simple().to_string()[..6]
        );
        Self {
            state,
            registry,
            config,
            id,
        }
    }

    /// Runs until `shutdown` turns true.
    pub async fn run(self, mut shutdown: watch::Receiver<bool>) -> anyhow::Result<()> {
        if self.state.db.get_database_backend() == DbBackend::Postgres {
            spawn_listener(&self.state, shutdown.clone());
        }
        spawn_scheduler(self.state.clone(), self.registry.clone(), shutdown.clone());
        tracing::info!(worker = %self.id, batch = self.config.batch_size, "worker started");
        crate::metrics::workers_alive(1);
        while !stopping(&shutdown) {
            let until = now_ms() + self.config.visibility_timeout.as_millis() as i64;
            let batch =
                match store::claim(&self.state.db, &self.id, self.config.batch_size, until).await {
                    Ok(batch) => batch,
                    Err(e) => {
                        tracing::warn!(error = %e, "claiming jobs failed; retrying");
                        tokio::time::sleep(self.config.poll_interval).await;
                        continue;
                    }
                };
            if batch.is_empty() {
                tokio::select! {
                    _ = WAKE.notified() => {}
                    _ = tokio::time::sleep(self.config.poll_interval) => {}
                    _ = shutdown.changed() => {}
                }
                continue;
            }
            self.run_batch(batch, &mut shutdown).await;
        }
        crate::metrics::workers_alive(-1);
        tracing::info!(worker = %self.id, "worker stopped");
        Ok(())
    }

    async fn run_batch(&self, batch: Vec<jobs::Model>, shutdown: &mut watch::Receiver<bool>) {
        let ids: Vec<Uuid> = batch.iter().map(|j| j.id).collect();
        let heartbeat = self.spawn_heartbeat(ids.clone());
        let mut tasks = Vec::with_capacity(batch.len());
        for job in batch {
            let outcome = self.start(&job);
            tasks.push((job, outcome));
        }
        // Armed only once shutdown starts.
        let grace = tokio::time::sleep(Duration::from_secs(365 * 24 * 3600));
        tokio::pin!(grace);
        let mut shutting_down = false;
        for (job, handle) in tasks {
            let Some(mut handle) = handle else { continue };
            let result = loop {
                tokio::select! {
                    // A finished job is always recorded, even once the grace period is over.
                    biased;
                    r = &mut handle => break Some(r),
                    _ = shutdown.changed(), if !shutting_down && !stopping(shutdown) => {}
                    _ = std::future::ready(()), if !shutting_down && stopping(shutdown) => {
                        shutting_down = true;
                        grace.as_mut().reset(tokio::time::Instant::now() + self.config.shutdown_grace);
                    }
                    _ = &mut grace, if shutting_down => {
                        handle.abort();
                        break None;
                    }
                }
            };
            match result {
                Some(Ok(Ok(value))) => self.finish_ok(&job, value).await,
                Some(Ok(Err(e))) => self.finish_err(&job, e).await,
                Some(Err(join)) => {
                    self.finish_err(&job, JobError::retry(format!("the job panicked: {join}")))
                        .await
                }
                None => {
                    let _ = store::release(&self.state.db, &self.id, &[job.id]).await;
                    tracing::info!(job = %job.id, kind = %job.kind, "released at shutdown");
                }
            }
        }
        heartbeat.abort();
    }

    /// Starts one job; None when it was settled without running.
    fn start(&self, job: &jobs::Model) -> Option<tokio::task::JoinHandle<Result<Value, JobError>>> {
        let Some(handler) = self.registry.handler(&job.kind) else {
            let (state, id, job) = (self.state.clone(), self.id.clone(), job.clone());
            tokio::spawn(async move {
                let msg = format!("no handler for job kind {} in this binary", job.kind);
                let _ = store::fail(&state.db, &id, &job, &msg, false, (0, 0)).await;
            });
            return None;
        };
        if job.attempts > job.max_attempts {
            // Claimed again after its worker died during the last allowed attempt.
            let (state, id, job, backoff) = (
                self.state.clone(),
                self.id.clone(),
                job.clone(),
                self.backoff(),
            );
            tokio::spawn(async move {
                let msg = "the worker running the last attempt stopped before finishing";
                let _ = store::fail(&state.db, &id, &job, msg, false, backoff).await;
            });
            return None;
        }
        let ctx = JobContext {
            state: self.state.clone(),
            task_id: TaskId(job.id),
            org_id: job.org_id.map(OrgId),
            attempt: job.attempts,
            worker_id: self.id.clone(),
        };
        let payload = job.payload.clone();
        let correlation = job
            .correlation_id
            .clone()
            .unwrap_or_else(|| job.id.simple().to_string());
        let span = tracing::info_span!("job", kind = %job.kind, job = %job.id, attempt = job.attempts, request_id = %correlation);
        use tracing::Instrument;
        Some(tokio::spawn(
            crate::http::request_id::with_correlation_id(correlation, handler(payload, ctx))
                .instrument(span),
        ))
    }

    fn backoff(&self) -> (u64, u64) {
        (self.config.backoff_base_ms, self.config.backoff_max_ms)
    }

    async fn finish_ok(&self, job: &jobs::Model, value: Value) {
        match store::succeed(&self.state.db, &self.id, job.id, value).await {
            Ok(true) => crate::metrics::job_finished(&job.kind, store::SUCCEEDED),
            Ok(false) => {
                tracing::warn!(job = %job.id, "finished after its lock was taken over; result dropped")
            }
            Err(e) => tracing::error!(job = %job.id, error = %e, "could not record success"),
        }
    }

    async fn finish_err(&self, job: &jobs::Model, error: JobError) {
        match store::fail(
            &self.state.db,
            &self.id,
            job,
            &error.message,
            error.retryable,
            self.backoff(),
        )
        .await
        {
            Ok(status) => {
                crate::metrics::job_finished(&job.kind, status);
                tracing::warn!(job = %job.id, kind = %job.kind, attempt = job.attempts, status, error = %error.message, "job failed");
            }
            Err(e) => tracing::error!(job = %job.id, error = %e, "could not record failure"),
        }
    }

    fn spawn_heartbeat(&self, ids: Vec<Uuid>) -> tokio::task::JoinHandle<()> {
        let (state, id, vis) = (
            self.state.clone(),
            self.id.clone(),
            self.config.visibility_timeout,
        );
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(vis / 3);
            tick.tick().await;
            loop {
                tick.tick().await;
                let until = now_ms() + vis.as_millis() as i64;
                if let Err(e) = store::extend(&state.db, &id, &ids, until).await {
                    tracing::warn!(error = %e, "could not extend job locks");
                }
            }
        })
    }
}

/// True once shutdown was requested, or its sender is gone (nobody can ask any more).
fn stopping(shutdown: &watch::Receiver<bool>) -> bool {
    *shutdown.borrow() || shutdown.has_changed().is_err()
}

/// PostgreSQL LISTEN: wakes idle workers as soon as another process enqueues. Stops with
/// the worker, giving its pooled connection back.
fn spawn_listener(state: &AppState, mut shutdown: watch::Receiver<bool>) {
    let pool = state.db.get_postgres_connection_pool().clone();
    tokio::spawn(async move {
        while !stopping(&shutdown) {
            match sea_orm::sqlx::postgres::PgListener::connect_with(&pool).await {
                Ok(mut listener) => {
                    if listener.listen("comptoir_jobs").await.is_ok() {
                        loop {
                            tokio::select! {
                                received = listener.recv() => match received {
                                    Ok(_) => WAKE.notify_waiters(),
                                    Err(_) => break,
                                },
                                _ = shutdown.changed() => {
                                    if stopping(&shutdown) {
                                        return;
                                    }
                                }
                            }
                        }
                    }
                }
                Err(e) => tracing::warn!(error = %e, "LISTEN failed; polling only"),
            }
            tokio::select! {
                _ = tokio::time::sleep(Duration::from_secs(5)) => {}
                _ = shutdown.changed() => {}
            }
        }
    });
}

/// Enqueues periodic jobs once per slot; the unique key makes that true across processes.
fn spawn_scheduler(
    state: AppState,
    registry: Arc<JobRegistry>,
    mut shutdown: watch::Receiver<bool>,
) {
    if registry.periodic.is_empty() {
        return;
    }
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        while !stopping(&shutdown) {
            tokio::select! { _ = tick.tick() => {}, _ = shutdown.changed() => continue }
            for p in &registry.periodic {
                let every = p.every.as_millis().max(1000) as i64;
                let slot = now_ms() / every;
                let options = store::EnqueueOptions {
                    run_at_ms: Some(slot * every),
                    unique_key: Some(format!("periodic:{}:{slot}", p.kind)),
                    max_attempts: Some(1),
                };
                if let Err(e) =
                    store::enqueue_raw(&state.db, None, p.kind, p.payload.clone(), 1, options).await
                {
                    tracing::warn!(kind = p.kind, error = %e, "could not schedule periodic job");
                }
            }
        }
    });
}

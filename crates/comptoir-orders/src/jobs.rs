//! The order jobs, on the kernel's durable queue: `orders.process` (one per order,
//! enqueued with it) and `orders.outbox` (periodic, hands new events to subscribers).
//!
//! Batching: the kernel worker claims up to `jobs.batch_size` jobs and runs them at once;
//! their `orders.process` runs meet in this process's [`Pipeline`], which groups up to
//! `orders.batch_size` of them into one transaction ([`crate::pipeline::process_batch`]).
//! Retries, dead letters and replay are the kernel's, per order.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use comptoir_kernel::AppState;
use comptoir_kernel::cache::Cache;
use comptoir_kernel::ids::OrgId;
use comptoir_kernel::jobs::{Job, JobContext, JobError, JobRegistry};
use sea_orm::DatabaseConnection;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tokio::sync::{mpsc, oneshot};

use crate::model::OrderId;
use crate::pipeline::{self, Shortage};
use crate::state::Status;

/// Processes one order (validation, reservation, confirmation).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ProcessOrder {
    pub order_id: OrderId,
}

impl Job for ProcessOrder {
    const KIND: &'static str = "orders.process";

    async fn run(self, ctx: JobContext) -> Result<Value, JobError> {
        let org = ctx
            .org_id
            .ok_or_else(|| JobError::permanent("an order job needs an organization"))?;
        let runtime = ctx.state.ext::<Pipeline>();
        let result = match &runtime {
            Some(p) => p.submit(&ctx.state.db, org, self.order_id).await,
            None => {
                let shortage =
                    Shortage::from_config(&ctx.state.config.orders.on_insufficient_stock);
                pipeline::process_batch(&ctx.state.db, &[(org, self.order_id)], shortage)
                    .await
                    .pop()
                    .unwrap_or_else(|| Err(JobError::retry("empty batch")))
            }
        };
        if let Some(p) = &runtime {
            p.invalidate(&ctx.state, org, self.order_id).await;
        }
        match result {
            Ok(status) => Ok(json!({"order_id": self.order_id, "status": status})),
            Err(e) => {
                if e.retryable && ctx.attempt < Self::MAX_ATTEMPTS {
                    return Err(e);
                }
                // Out of attempts (or hopeless): the order says so, the job goes dead.
                if let Err(mark) =
                    pipeline::mark_failed(&ctx.state.db, org, self.order_id, &e.message).await
                {
                    tracing::warn!(order = %self.order_id.0, error = %mark, "could not mark the order failed");
                }
                if let Some(p) = &runtime {
                    p.invalidate(&ctx.state, org, self.order_id).await;
                }
                Err(e)
            }
        }
    }
}

struct Item {
    org: OrgId,
    order: OrderId,
    reply: oneshot::Sender<Result<Status, JobError>>,
}

/// This process's order batcher and the orders' GET cache (an `AppState` extension).
#[derive(Clone)]
pub struct Pipeline(Arc<Inner>);

struct Inner {
    batch_size: usize,
    shortage: Shortage,
    cache_ttl: Duration,
    queue: OnceLock<mpsc::UnboundedSender<Item>>,
    cache: OnceLock<Cache>,
}

impl Pipeline {
    pub fn new(config: &comptoir_kernel::config::OrdersConfig) -> Self {
        Self(Arc::new(Inner {
            batch_size: config.batch_size.clamp(1, 1000) as usize,
            shortage: Shortage::from_config(&config.on_insufficient_stock),
            cache_ttl: Duration::from_secs(config.cache_ttl_secs),
            queue: OnceLock::new(),
            cache: OnceLock::new(),
        }))
    }

    /// The orders' GET cache; None when caching is off (`cache_ttl_secs = 0`).
    pub fn cache(&self, state: &AppState) -> Option<&Cache> {
        if self.0.cache_ttl.is_zero() {
            return None;
        }
        Some(
            self.0
                .cache
                .get_or_init(|| state.caches.cache("orders", self.0.cache_ttl, 10_000)),
        )
    }

    /// Drops the cached answers about an order and the org's lists.
    pub async fn invalidate(&self, state: &AppState, org: OrgId, order: OrderId) {
        if let Some(cache) = self.cache(state) {
            cache
                .invalidate(&format!("{}:order:{}", org.0, order.0))
                .await;
            cache
                .invalidate_tag(&format!("orders-list:{}", org.0))
                .await;
        }
    }

    /// Processes an order within the next batch of this process.
    pub async fn submit(
        &self,
        db: &DatabaseConnection,
        org: OrgId,
        order: OrderId,
    ) -> Result<Status, JobError> {
        let queue = self.0.queue.get_or_init(|| {
            let (tx, rx) = mpsc::unbounded_channel();
            tokio::spawn(batch_loop(
                db.clone(),
                rx,
                self.0.batch_size,
                self.0.shortage,
            ));
            tx
        });
        let (reply, answer) = oneshot::channel();
        queue
            .send(Item { org, order, reply })
            .map_err(|_| JobError::retry("the order pipeline stopped"))?;
        answer
            .await
            .map_err(|_| JobError::retry("the order batch was dropped"))?
    }
}

/// Gathers what is waiting (a claimed batch's jobs arrive within microseconds of each
/// other; a short wait collects them) and processes it as one batch.
async fn batch_loop(
    db: DatabaseConnection,
    mut rx: mpsc::UnboundedReceiver<Item>,
    size: usize,
    shortage: Shortage,
) {
    while let Some(first) = rx.recv().await {
        let mut batch = vec![first];
        while batch.len() < size {
            match tokio::time::timeout(Duration::from_millis(3), rx.recv()).await {
                Ok(Some(item)) => batch.push(item),
                _ => break,
            }
        }
        let items: Vec<(OrgId, OrderId)> = batch.iter().map(|i| (i.org, i.order)).collect();
        let results = pipeline::process_batch(&db, &items, shortage).await;
        for (item, result) in batch.into_iter().zip(results) {
            let _ = item.reply.send(result);
        }
    }
}

/// Hands new outbox events to their subscribers, then marks them published.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct DrainOutbox {}

impl Job for DrainOutbox {
    const KIND: &'static str = "orders.outbox";
    const MAX_ATTEMPTS: i32 = 1;

    async fn run(self, ctx: JobContext) -> Result<Value, JobError> {
        let published = crate::outbox::drain(&ctx.state, 500).await?;
        Ok(json!({ "published": published }))
    }
}

/// The order slice's job kinds.
pub fn register(registry: &mut JobRegistry) {
    registry.register::<ProcessOrder>();
    registry.register::<crate::connectors::ExportOrderJob>();
    registry.every(Duration::from_secs(1), &DrainOutbox {});
}

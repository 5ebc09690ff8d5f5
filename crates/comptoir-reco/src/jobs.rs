//! Background work of the slice (kernel jobs):
//!
//! - `reco.score_reviews`: scores every unscored review of the organization in batches,
//!   refreshes the aggregates, then the embeddings of the products concerned; queued in
//!   the transaction that stores reviews (API or import);
//! - `reco.import_reviews`: processes a stored CSV upload;
//! - `reco.embed`: recomputes the organization's stale embeddings (`force`: all of them),
//!   reporting progress (`comptoir reco reindex`);
//! - `reco.embed_sweep`: every minute, the same for every organization, so catalog edits
//!   reach the index without a hook in the catalog;
//! - `reco.recommend`: `POST /api/v1/recommendations/async`.

#![allow(missing_docs)] // fields of plain data types, named for what they hold

use std::time::Duration;

use comptoir_catalog::entities::products;
use comptoir_kernel::AppResult;
use comptoir_kernel::ids::OrgId;
use comptoir_kernel::jobs::{self, EnqueueOptions, Job, JobContext, JobError, JobRegistry};
use sea_orm::{ConnectionTrait, EntityTrait, QuerySelect};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::recommend::RecommendationRequest;
use crate::reviews::ReviewImportId;

fn org_of(ctx: &JobContext) -> Result<OrgId, JobError> {
    ctx.org_id
        .ok_or_else(|| JobError::permanent("this job needs an organization"))
}

/// Queues the scoring of the organization's new reviews (in the caller's transaction).
pub async fn queue_scoring(db: &impl ConnectionTrait, org: OrgId) -> AppResult<()> {
    jobs::enqueue(db, Some(org), &ScoreReviews {}, EnqueueOptions::default()).await?;
    Ok(())
}

/// Scores new reviews, then refreshes aggregates and embeddings.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ScoreReviews {}

impl Job for ScoreReviews {
    const KIND: &'static str = "reco.score_reviews";

    async fn run(self, ctx: JobContext) -> Result<Value, JobError> {
        let org = org_of(&ctx)?;
        let touched = crate::reviews::stats::score_pending(&ctx.state, org).await?;
        let refreshed = if touched.is_empty() {
            Default::default()
        } else {
            let r = crate::embeddings::refresh(&ctx.state, org, false, &mut |_, _| {}).await?;
            crate::recommend::invalidate(&ctx.state, org).await;
            r
        };
        Ok(json!({"products": touched.len(), "embedded": refreshed.embedded}))
    }
}

/// Processes one stored review import.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ImportReviews {
    pub import_id: ReviewImportId,
}

impl Job for ImportReviews {
    const KIND: &'static str = "reco.import_reviews";

    async fn run(self, ctx: JobContext) -> Result<Value, JobError> {
        let org = org_of(&ctx)?;
        let done = crate::reviews::import::run_import(&ctx.state.db, org, self.import_id).await?;
        Ok(json!({
            "import_id": done.id,
            "status": done.status,
            "accepted_rows": done.accepted_rows,
            "rejected_rows": done.rejected_rows,
        }))
    }
}

/// Recomputes the organization's embeddings (the stale ones, or all with `force`).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Embed {
    #[serde(default)]
    pub force: bool,
}

impl Job for Embed {
    const KIND: &'static str = "reco.embed";
    const MAX_ATTEMPTS: i32 = 3;

    async fn run(self, ctx: JobContext) -> Result<Value, JobError> {
        let org = org_of(&ctx)?;
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<(usize, usize)>();
        let state = ctx.state.clone();
        let work = tokio::spawn(async move {
            crate::embeddings::refresh(&state, org, self.force, &mut |done, total| {
                let _ = tx.send((done, total));
            })
            .await
        });
        while let Some((done, total)) = rx.recv().await {
            ctx.progress(done as i64, total as i64).await?;
        }
        let refreshed = work
            .await
            .map_err(|e| JobError::retry(format!("embedding task failed: {e}")))??;
        crate::recommend::invalidate(&ctx.state, org).await;
        Ok(json!(refreshed))
    }
}

/// Every minute: stale embeddings of every organization.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct EmbedSweep {}

impl Job for EmbedSweep {
    const KIND: &'static str = "reco.embed_sweep";
    const MAX_ATTEMPTS: i32 = 1;

    async fn run(self, ctx: JobContext) -> Result<Value, JobError> {
        let orgs: Vec<uuid::Uuid> = products::Entity::find()
            .select_only()
            .column(products::Column::OrgId)
            .distinct()
            .into_tuple()
            .all(&ctx.state.db)
            .await
            .map_err(|e| JobError::retry(e.to_string()))?;
        let mut embedded = 0;
        for org in orgs {
            let r =
                crate::embeddings::refresh(&ctx.state, OrgId(org), false, &mut |_, _| {}).await?;
            embedded += r.embedded;
        }
        Ok(json!({"embedded": embedded}))
    }
}

/// Computes a recommendation in the background.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Recommend {
    pub request: RecommendationRequest,
    pub correlation_id: String,
}

impl Job for Recommend {
    const KIND: &'static str = "reco.recommend";
    const MAX_ATTEMPTS: i32 = 2;

    async fn run(self, ctx: JobContext) -> Result<Value, JobError> {
        let org = org_of(&ctx)?;
        let answer =
            crate::recommend::recommend(&ctx.state, org, &self.request, self.correlation_id)
                .await?;
        serde_json::to_value(answer).map_err(|e| JobError::permanent(e.to_string()))
    }
}

/// The slice's job kinds.
pub fn register(registry: &mut JobRegistry) {
    registry
        .register::<ScoreReviews>()
        .register::<ImportReviews>()
        .register::<Embed>()
        .register::<Recommend>()
        .every(Duration::from_secs(60), &EmbedSweep {});
}

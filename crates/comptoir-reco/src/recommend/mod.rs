//! Recommendations (seed 3, module 2): the sentiment of the comment, its embedding, the
//! top-100 candidates of the product's type from the index (the product left out), and
//! `score = w_s·similarity + w_a·availability + w_r·reputation` (weights per organization,
//! default 0.6 / 0.25 / 0.15). See [`score`] for the query and how a negative comment
//! steers it.
//!
//! Answers are cached (kernel cache `recommendations`, Redis when configured) under a hash
//! of the normalized request (comment trimmed, lower-cased, spaces collapsed; `client_id`
//! left out since it does not change the answer) and of a fingerprint of the candidate
//! set: number and latest change of the organization's products, latest stock movement,
//! latest review aggregate, latest embedding, and the weights. Any change to the candidate
//! set changes the key, so a stale answer is never served; old entries expire (10 min).

#![allow(missing_docs)] // fields of plain data types, named for what they hold

pub mod api;
pub mod model;
pub mod score;
pub mod settings;

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use comptoir_catalog::entities::{brands, product_types, products, stock};
use comptoir_catalog::model::ProductId;
use comptoir_kernel::cache::Cache;
use comptoir_kernel::ids::OrgId;
use comptoir_kernel::tenancy::{find_in_org, scoped};
use comptoir_kernel::{AppError, AppResult, AppState};
use comptoir_ml::EmbedKind;
use comptoir_ml::sentiment::SentimentLabel;
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::embeddings::{self, ProductIndex, index};
use crate::entities::{embeddings as stored, product_stats};
use crate::reviews::stats::{NEUTRAL_REPUTATION, sentiments};
pub use model::*;
use score::Weights;

/// Candidates taken from the index before scoring.
pub const CANDIDATES: usize = 100;
/// Default and largest `top_k`.
pub const DEFAULT_TOP_K: i64 = 10;
pub const MAX_TOP_K: i64 = 100;
/// Longest comment, in characters.
pub const MAX_COMMENT: usize = 5_000;

/// The slice's answer cache, created on first use from the state's backend.
#[derive(Clone, Default)]
pub struct RecoCache(Arc<OnceLock<Cache>>);

impl RecoCache {
    fn get(state: &AppState) -> Cache {
        let this = state.ext::<RecoCache>().unwrap_or_default();
        this.0
            .get_or_init(|| {
                state
                    .caches
                    .cache("recommendations", Duration::from_secs(600), 10_000)
            })
            .clone()
    }
}

/// A request whose fields are checked.
#[derive(Debug, Clone)]
pub struct ValidRequest {
    pub product: products::Model,
    pub type_id: Option<Uuid>,
    pub type_code: Option<String>,
    pub comment: String,
    pub top_k: usize,
    pub explain: bool,
}

/// Checks a request against the organization's catalog.
pub async fn validate(
    db: &impl ConnectionTrait,
    org: OrgId,
    req: &RecommendationRequest,
) -> AppResult<ValidRequest> {
    let top_k = req.top_k.unwrap_or(DEFAULT_TOP_K);
    if !(1..=MAX_TOP_K).contains(&top_k) {
        return Err(AppError::field("top_k", "must be an integer from 1 to 100"));
    }
    let comment = req.commentaire.trim();
    if comment.chars().count() > MAX_COMMENT {
        return Err(AppError::field(
            "commentaire",
            "must be at most 5000 characters",
        ));
    }
    match &req.client_id {
        None | Some(serde_json::Value::Null) | Some(serde_json::Value::Number(_)) => {}
        Some(serde_json::Value::String(s)) if s.chars().count() <= 200 => {}
        Some(_) => {
            return Err(AppError::field(
                "client_id",
                "must be a number or a string of at most 200 characters",
            ));
        }
    }
    let product = find_in_org::<products::Entity>(db, org, req.product_id.0)
        .await
        .map_err(|_| AppError::field("product_id", "no such product"))?;
    let (type_id, type_code) = match req.product_type.as_deref().map(str::trim) {
        Some(code) if code.chars().any(char::is_control) || code.len() > 100 => {
            return Err(AppError::field("product_type", "unknown product type"));
        }
        Some(code) if !code.is_empty() => {
            let t = scoped::<product_types::Entity>(org)
                .filter(product_types::Column::Code.eq(code))
                .one(db)
                .await?;
            match t {
                Some(t) => (Some(t.id), Some(t.code)),
                None => {
                    let known: Vec<String> = scoped::<product_types::Entity>(org)
                        .order_by_asc(product_types::Column::Code)
                        .all(db)
                        .await?
                        .into_iter()
                        .map(|t| t.code)
                        .collect();
                    return Err(AppError::field(
                        "product_type",
                        format!("unknown product type; known: {}", known.join(", ")),
                    ));
                }
            }
        }
        _ => match product.product_type_id {
            Some(id) => (
                Some(id),
                product_types::Entity::find_by_id(id)
                    .one(db)
                    .await?
                    .map(|t| t.code),
            ),
            None => (None, None),
        },
    };
    Ok(ValidRequest {
        product,
        type_id,
        type_code,
        comment: comment.to_owned(),
        top_k: top_k as usize,
        explain: req.explain,
    })
}

/// What the cache keeps: everything but the per-request id and timing.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Computed {
    pub recommendations: Vec<Recommendation>,
    pub sentiment_score: f64,
}

async fn latest<E, C>(
    db: &impl ConnectionTrait,
    org: OrgId,
    org_col: C,
    col: C,
) -> AppResult<Option<DateTime<Utc>>>
where
    E: EntityTrait,
    C: ColumnTrait,
{
    Ok(E::find()
        .select_only()
        .column(col)
        .filter(org_col.eq(org.0))
        .order_by_desc(col)
        .into_tuple::<DateTime<Utc>>()
        .one(db)
        .await?)
}

/// A fingerprint of everything a recommendation of `org` depends on.
pub async fn fingerprint(db: &impl ConnectionTrait, org: OrgId) -> AppResult<String> {
    let count = scoped::<products::Entity>(org).count(db).await?;
    let p = latest::<products::Entity, _>(
        db,
        org,
        products::Column::OrgId,
        products::Column::UpdatedAt,
    )
    .await?;
    let s =
        latest::<stock::Entity, _>(db, org, stock::Column::OrgId, stock::Column::UpdatedAt).await?;
    let r = latest::<product_stats::Entity, _>(
        db,
        org,
        product_stats::Column::OrgId,
        product_stats::Column::UpdatedAt,
    )
    .await?;
    let e = latest::<stored::Entity, _>(db, org, stored::Column::OrgId, stored::Column::UpdatedAt)
        .await?;
    Ok(format!("{count}|{p:?}|{s:?}|{r:?}|{e:?}"))
}

/// The comment as the cache sees it: trimmed, lower-cased, spaces collapsed.
pub fn normalize_comment(comment: &str) -> String {
    comment
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

fn cache_key(org: OrgId, v: &ValidRequest, weights: &Weights, fingerprint: &str) -> String {
    let normalized = serde_json::json!({
        "product": v.product.id,
        "type": v.type_id,
        "comment": normalize_comment(&v.comment),
        "top_k": v.top_k,
        "explain": v.explain,
        "weights": weights,
        "fingerprint": fingerprint,
    });
    format!(
        "{org}:{}",
        hex::encode(Sha256::digest(normalized.to_string().as_bytes()))
    )
}

/// Recommends products for a checked request (through the cache).
pub async fn recommend(
    state: &AppState,
    org: OrgId,
    req: &RecommendationRequest,
    correlation_id: String,
) -> AppResult<RecommendationResponse> {
    let started = Instant::now();
    let valid = validate(&state.db, org, req).await?;
    let weights = settings::weights(&state.db, org).await?;
    // Vectors missing for this product (first use, or newer than the last sweep) are stored
    // before the fingerprint is taken, so the answer is cached under the state it saw.
    let index = ProductIndex::of(state);
    index.catch_up(&state.db, org).await?;
    let model = embeddings::current_model(state);
    if index.is_empty(org, &model)
        || product_vector(&state.db, org, valid.product.id, &model)
            .await?
            .is_none()
    {
        embeddings::refresh(state, org, false, &mut |_, _| {}).await?;
    }
    let fp = fingerprint(&state.db, org).await?;
    let key = cache_key(org, &valid, &weights, &fp);
    let tag = format!("org:{org}");
    let computed = RecoCache::get(state)
        .get_or_compute(&key, &[tag.as_str()], || {
            compute(state, org, &valid, weights)
        })
        .await?;
    Ok(RecommendationResponse {
        status: "success".into(),
        total: computed.recommendations.len(),
        recommendations: computed.recommendations,
        sentiment_score: computed.sentiment_score,
        correlation_id,
        processing_time_ms: started.elapsed().as_millis() as u64,
    })
}

/// Drops the organization's cached answers (after reindexing).
pub async fn invalidate(state: &AppState, org: OrgId) {
    RecoCache::get(state)
        .invalidate_tag(&format!("org:{org}"))
        .await;
}

/// The stored vector of a product, when it was made with `model`.
async fn product_vector(
    db: &impl ConnectionTrait,
    org: OrgId,
    product: Uuid,
    model: &str,
) -> AppResult<Option<Vec<f32>>> {
    Ok(scoped::<stored::Entity>(org)
        .filter(stored::Column::Id.eq(product))
        .one(db)
        .await?
        .filter(|row| row.model == model)
        .map(|row| index::decode(&row.vector)))
}

/// Computes a recommendation without the cache.
pub async fn compute(
    state: &AppState,
    org: OrgId,
    v: &ValidRequest,
    weights: Weights,
) -> AppResult<Computed> {
    let db = &state.db;
    let (sentiment_score, negative) = if v.comment.is_empty() {
        (0.0, false)
    } else {
        let s = sentiments(state, &[v.comment.as_str()]).await.remove(0);
        let score = f64::from(s.score.clamp(-1.0, 1.0));
        let negative = s.label == SentimentLabel::Negative || s.score <= score::NEGATIVE_BELOW;
        (score, negative)
    };

    let index = ProductIndex::of(state);
    index.catch_up(db, org).await?;
    let model = embeddings::current_model(state);
    let mut p = product_vector(db, org, v.product.id, &model).await?;
    if p.is_none() || index.is_empty(org, &model) {
        // First use with this model, or a product newer than the last sweep.
        embeddings::refresh(state, org, false, &mut |_, _| {}).await?;
        p = product_vector(db, org, v.product.id, &model).await?;
    }
    let c = if v.comment.is_empty() {
        None
    } else {
        let (used, mut vectors) =
            embeddings::embed(state, EmbedKind::Query, &[v.comment.as_str()]).await?;
        (used == model).then(|| vectors.remove(0))
    };
    let (q, steered) = score::query_vector(c.as_deref(), p.as_deref(), negative);
    let hits = index.search(org, &model, &q, v.type_id, v.product.id, CANDIDATES);
    let ids: Vec<Uuid> = hits.iter().map(|h| h.0).collect();

    let rows: HashMap<Uuid, products::Model> = scoped::<products::Entity>(org)
        .filter(products::Column::Id.is_in(ids.clone()))
        .filter(products::Column::Status.eq("active"))
        .all(db)
        .await?
        .into_iter()
        .map(|p| (p.id, p))
        .collect();
    let brand_ids: HashSet<Uuid> = rows.values().filter_map(|p| p.brand_id).collect();
    let brands: HashMap<Uuid, String> = scoped::<brands::Entity>(org)
        .filter(brands::Column::Id.is_in(brand_ids))
        .all(db)
        .await?
        .into_iter()
        .map(|b| (b.id, b.name))
        .collect();
    let mut free: HashMap<Uuid, i64> = HashMap::new();
    for s in scoped::<stock::Entity>(org)
        .filter(stock::Column::ProductId.is_in(ids.clone()))
        .all(db)
        .await?
    {
        *free.entry(s.product_id).or_default() += (s.on_hand - s.reserved).max(0);
    }
    let reputation: HashMap<Uuid, f64> = scoped::<product_stats::Entity>(org)
        .filter(product_stats::Column::Id.is_in(ids))
        .all(db)
        .await?
        .into_iter()
        .map(|s| (s.id, s.reputation))
        .collect();

    let kept: Vec<(Uuid, f32)> = hits
        .into_iter()
        .filter(|h| rows.contains_key(&h.0))
        .collect();
    let cosines: Vec<f32> = kept.iter().map(|h| h.1).collect();
    let similarity = score::min_max(&cosines);
    let mut recommendations: Vec<Recommendation> = kept
        .iter()
        .zip(similarity)
        .filter_map(|((id, cosine), sim)| {
            let p = rows.get(id)?;
            let stock = free.get(id).copied().unwrap_or(0);
            let avail = score::availability(&p.availability, stock);
            let rep = reputation.get(id).copied().unwrap_or(NEUTRAL_REPUTATION);
            let total = score::score(&weights, sim, avail, rep);
            // With a reversed query the raw cosine to `c + p` is the opposite of the hit's.
            let shown = if steered { -cosine } else { *cosine };
            Some(Recommendation {
                id: ProductId(p.id),
                nom: p.name.clone(),
                score: round(total),
                prix: p.sale_price_e4 as f64 / 10_000.0,
                disponible: avail >= 1.0,
                marque: p.brand_id.and_then(|b| brands.get(&b).cloned()),
                product_type: v.type_code.clone(),
                explain: v.explain.then(|| Explanation {
                    cosine: round(f64::from(shown)),
                    similarity: round(sim),
                    availability: avail,
                    reputation: round(rep),
                    weights,
                    steered_away: steered,
                }),
            })
        })
        .collect();
    recommendations.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.id.cmp(&b.id)));
    recommendations.truncate(v.top_k);
    Ok(Computed {
        recommendations,
        sentiment_score: round(sentiment_score),
    })
}

fn round(x: f64) -> f64 {
    (x * 1e6).round() / 1e6
}

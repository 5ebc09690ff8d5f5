//! Sentiment scoring of stored reviews and the per-product aggregates that feed the
//! reputation used by recommendations.
//!
//! Reputation in [0, 1] (README, "Reputation"):
//!
//! ```text
//! R = (PRIOR_WEIGHT·3 + Σ rating) / (PRIOR_WEIGHT + n)        rating mean pulled toward 3
//! S = (Σ sentiment) / (PRIOR_WEIGHT + n_scored)                 sentiment mean pulled toward 0
//! T = clamp(trend, -1, 1)
//! reputation = 0.5·(R − 1)/4 + 0.4·(S + 1)/2 + 0.1·(T + 1)/2
//! ```
//!
//! The prior (`PRIOR_WEIGHT` = 5 phantom neutral reviews) keeps one enthusiastic review
//! from outranking a product with a hundred good ones; an unreviewed product sits at 0.5.

#![allow(missing_docs)] // fields of plain data types, named for what they hold

use std::collections::BTreeSet;

use chrono::{DateTime, Duration, Utc};
use comptoir_kernel::ids::OrgId;
use comptoir_kernel::tenancy::scoped;
use comptoir_kernel::{AppResult, AppState};
use comptoir_ml::sentiment::{Sentiment, SentimentLabel, SentimentMethod};
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter,
    QueryOrder, QuerySelect, Set,
};
use uuid::Uuid;

use super::service::now;
use crate::entities::{product_stats, reviews};

/// Reputation of a product without reviews.
pub const NEUTRAL_REPUTATION: f64 = 0.5;
/// Phantom neutral reviews every product starts with.
pub const PRIOR_WEIGHT: f64 = 5.0;
/// Reviews younger than this count as recent for the trend.
pub const RECENT_DAYS: i64 = 30;
/// Reviews scored per model call.
pub const SCORE_BATCH: u64 = 64;

/// One review as the aggregates see it.
#[derive(Debug, Clone, Copy)]
pub struct ReviewPoint {
    pub rating: i16,
    pub sentiment: Option<f64>,
    pub created_at: DateTime<Utc>,
}

/// The aggregates of a product's reviews, as of `at`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Aggregates {
    pub review_count: i32,
    pub scored_count: i32,
    pub rating_mean: f64,
    pub sentiment_mean: f64,
    pub recent_sentiment_mean: f64,
    pub trend: f64,
    pub reputation: f64,
}

fn mean(xs: &[f64]) -> Option<f64> {
    (!xs.is_empty()).then(|| xs.iter().sum::<f64>() / xs.len() as f64)
}

/// Aggregates and reputation of `points` (see the module documentation).
pub fn aggregate(points: &[ReviewPoint], at: DateTime<Utc>) -> Aggregates {
    let n = points.len() as f64;
    let ratings: Vec<f64> = points.iter().map(|p| f64::from(p.rating)).collect();
    let scored: Vec<f64> = points.iter().filter_map(|p| p.sentiment).collect();
    let cutoff = at - Duration::days(RECENT_DAYS);
    let recent: Vec<f64> = points
        .iter()
        .filter(|p| p.created_at >= cutoff)
        .filter_map(|p| p.sentiment)
        .collect();
    let older: Vec<f64> = points
        .iter()
        .filter(|p| p.created_at < cutoff)
        .filter_map(|p| p.sentiment)
        .collect();
    let trend = match (mean(&recent), mean(&older)) {
        (Some(r), Some(o)) => r - o,
        _ => 0.0,
    };
    let r = (PRIOR_WEIGHT * 3.0 + ratings.iter().sum::<f64>()) / (PRIOR_WEIGHT + n);
    let s = scored.iter().sum::<f64>() / (PRIOR_WEIGHT + scored.len() as f64);
    let t = trend.clamp(-1.0, 1.0);
    let reputation = 0.5 * (r - 1.0) / 4.0 + 0.4 * (s + 1.0) / 2.0 + 0.1 * (t + 1.0) / 2.0;
    Aggregates {
        review_count: points.len() as i32,
        scored_count: scored.len() as i32,
        rating_mean: mean(&ratings).unwrap_or(0.0),
        sentiment_mean: mean(&scored).unwrap_or(0.0),
        recent_sentiment_mean: mean(&recent).unwrap_or(0.0),
        trend,
        reputation: reputation.clamp(0.0, 1.0),
    }
}

/// The sentiment of `texts` with the app's model when it is loaded (lexicon otherwise).
pub async fn sentiments(state: &AppState, texts: &[&str]) -> Vec<Sentiment> {
    match state.ext::<comptoir_ml::runtime::Embeddings>() {
        Some(e) => e.sentiment(texts).await,
        None => comptoir_ml::sentiment::analyze(None, texts).await,
    }
}

/// The stored name of a label or method.
pub fn label_str(label: SentimentLabel) -> &'static str {
    match label {
        SentimentLabel::Negative => "negative",
        SentimentLabel::Neutral => "neutral",
        SentimentLabel::Positive => "positive",
    }
}

fn method_str(method: SentimentMethod) -> &'static str {
    match method {
        SentimentMethod::Model => "model",
        SentimentMethod::Lexicon => "lexicon",
    }
}

/// Scores every unscored review of `org`, [`SCORE_BATCH`] at a time, then refreshes the
/// aggregates of the products concerned. Returns those products.
pub async fn score_pending(state: &AppState, org: OrgId) -> AppResult<BTreeSet<Uuid>> {
    let db = &state.db;
    let mut touched = BTreeSet::new();
    loop {
        let batch = scoped::<reviews::Entity>(org)
            .filter(reviews::Column::ScoredAt.is_null())
            .order_by_asc(reviews::Column::CreatedAt)
            .order_by_asc(reviews::Column::Id)
            .limit(SCORE_BATCH)
            .all(db)
            .await?;
        if batch.is_empty() {
            break;
        }
        let texts: Vec<&str> = batch.iter().map(|r| r.comment.as_str()).collect();
        let scores = sentiments(state, &texts).await;
        let at = now();
        for (row, s) in batch.into_iter().zip(scores) {
            touched.insert(row.product_id);
            let mut active = row.into_active_model();
            active.sentiment_score = Set(Some(f64::from(s.score.clamp(-1.0, 1.0))));
            active.sentiment_label = Set(Some(label_str(s.label).to_owned()));
            active.sentiment_confidence = Set(Some(f64::from(s.confidence.clamp(0.0, 1.0))));
            active.sentiment_method = Set(Some(method_str(s.method).to_owned()));
            active.scored_at = Set(Some(at));
            active.update(db).await?;
        }
    }
    for product in &touched {
        refresh_stats(db, org, *product).await?;
    }
    Ok(touched)
}

/// Recomputes and stores the aggregates of one product from its reviews.
pub async fn refresh_stats(db: &impl ConnectionTrait, org: OrgId, product: Uuid) -> AppResult<()> {
    let points: Vec<ReviewPoint> = scoped::<reviews::Entity>(org)
        .filter(reviews::Column::ProductId.eq(product))
        .all(db)
        .await?
        .into_iter()
        .map(|r| ReviewPoint {
            rating: r.rating,
            sentiment: r.sentiment_score,
            created_at: r.created_at,
        })
        .collect();
    let at = now();
    let a = aggregate(&points, at);
    let row = product_stats::ActiveModel {
        id: Set(product),
        org_id: Set(org.0),
        review_count: Set(a.review_count),
        scored_count: Set(a.scored_count),
        rating_mean: Set(a.rating_mean),
        sentiment_mean: Set(a.sentiment_mean),
        recent_sentiment_mean: Set(a.recent_sentiment_mean),
        trend: Set(a.trend),
        reputation: Set(a.reputation),
        updated_at: Set(at),
    };
    product_stats::Entity::insert(row)
        .on_conflict(
            OnConflict::column(product_stats::Column::Id)
                .update_columns([
                    product_stats::Column::ReviewCount,
                    product_stats::Column::ScoredCount,
                    product_stats::Column::RatingMean,
                    product_stats::Column::SentimentMean,
                    product_stats::Column::RecentSentimentMean,
                    product_stats::Column::Trend,
                    product_stats::Column::Reputation,
                    product_stats::Column::UpdatedAt,
                ])
                .to_owned(),
        )
        .exec(db)
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(rating: i16, sentiment: f64, days_ago: i64) -> ReviewPoint {
        ReviewPoint {
            rating,
            sentiment: Some(sentiment),
            created_at: Utc::now() - Duration::days(days_ago),
        }
    }

    #[test]
    fn no_reviews_is_neutral() {
        let a = aggregate(&[], Utc::now());
        assert!((a.reputation - NEUTRAL_REPUTATION).abs() < 1e-12);
        assert_eq!(a.review_count, 0);
    }

    #[test]
    fn reputation_follows_ratings_and_sentiment_with_a_prior() {
        let now = Utc::now();
        let one_great = aggregate(&[p(5, 1.0, 1)], now);
        let many_great: Vec<_> = (0..100).map(|i| p(5, 0.9, i % 20)).collect();
        let many_great = aggregate(&many_great, now);
        let many_bad: Vec<_> = (0..100).map(|i| p(1, -0.9, i % 20)).collect();
        let many_bad = aggregate(&many_bad, now);
        assert!(one_great.reputation > NEUTRAL_REPUTATION);
        assert!(many_great.reputation > one_great.reputation);
        assert!(many_bad.reputation < 0.2, "{}", many_bad.reputation);
        for a in [one_great, many_great, many_bad] {
            assert!((0.0..=1.0).contains(&a.reputation));
        }
        assert_eq!(many_great.rating_mean, 5.0);
    }

    #[test]
    fn the_trend_compares_the_last_30_days_with_before() {
        let now = Utc::now();
        let a = aggregate(&[p(2, -0.8, 90), p(5, 0.6, 2)], now);
        assert!((a.trend - 1.4).abs() < 1e-9);
        assert!((a.recent_sentiment_mean - 0.6).abs() < 1e-9);
        let only_recent = aggregate(&[p(5, 0.6, 2)], now);
        assert_eq!(only_recent.trend, 0.0);
    }

    #[test]
    fn unscored_reviews_count_for_ratings_only() {
        let mut point = p(5, 0.0, 1);
        point.sentiment = None;
        let a = aggregate(&[point], Utc::now());
        assert_eq!((a.review_count, a.scored_count), (1, 0));
        assert_eq!(a.sentiment_mean, 0.0);
    }
}

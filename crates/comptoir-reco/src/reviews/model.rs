//! What the reviews API reads and returns.

#![allow(missing_docs)] // fields of plain data types, named for what they hold

use chrono::{DateTime, Utc};
use comptoir_catalog::model::ProductId;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::entities::{product_stats, reviews};

comptoir_kernel::typed_id!(
    /// A product review.
    ReviewId
);
comptoir_kernel::typed_id!(
    /// A CSV import of reviews.
    ReviewImportId
);

/// A review to record.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReviewInput {
    pub product_id: ProductId,
    /// The customer's reference in your systems (free text, at most 200 characters).
    pub customer_ref: Option<String>,
    /// 1 to 5.
    pub rating: i64,
    /// 1 to 5,000 characters.
    pub comment: String,
    /// ISO 639-1 code such as `fr` or `en`; guessed from the text when absent.
    pub language: Option<String>,
    /// How many readers found the review helpful (default 0).
    pub helpful_votes: Option<i64>,
    /// When the review was written (default now); not in the future.
    pub created_at: Option<DateTime<Utc>>,
}

/// The sentiment stored with a review (absent until the scoring job has run).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq)]
pub struct StoredSentiment {
    /// In [-1, 1].
    pub score: f64,
    /// `negative`, `neutral` or `positive`.
    pub label: String,
    /// In [0, 1].
    pub confidence: f64,
    /// `model` or `lexicon`.
    pub method: String,
}

/// A stored review.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Review {
    pub id: ReviewId,
    pub product_id: ProductId,
    pub customer_ref: Option<String>,
    pub rating: i16,
    pub comment: String,
    pub language: String,
    pub helpful_votes: i32,
    pub sentiment: Option<StoredSentiment>,
    pub created_at: DateTime<Utc>,
}

impl From<reviews::Model> for Review {
    fn from(m: reviews::Model) -> Self {
        let sentiment = match (m.sentiment_score, m.sentiment_label, m.sentiment_confidence) {
            (Some(score), Some(label), Some(confidence)) => Some(StoredSentiment {
                score,
                label,
                confidence,
                method: m.sentiment_method.unwrap_or_default(),
            }),
            _ => None,
        };
        Review {
            id: ReviewId(m.id),
            product_id: ProductId(m.product_id),
            customer_ref: m.customer_ref,
            rating: m.rating,
            comment: m.comment,
            language: m.language,
            helpful_votes: m.helpful_votes,
            sentiment,
            created_at: m.created_at,
        }
    }
}

/// Filters of `GET /api/v1/reviews`.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ReviewFilter {
    /// Only the reviews of this product.
    pub product_id: Option<ProductId>,
    /// Only reviews with this sentiment label (`negative`, `neutral`, `positive`).
    pub label: Option<String>,
    /// At most this many (1-500, default 50), newest first.
    pub limit: Option<u64>,
    /// Skip this many (default 0).
    pub offset: Option<u64>,
}

/// Review aggregates of one product.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ProductReviewStats {
    pub product_id: ProductId,
    pub review_count: i32,
    /// Reviews whose sentiment is computed.
    pub scored_count: i32,
    /// Mean rating (1-5); 0 without reviews.
    pub rating_mean: f64,
    /// Mean sentiment in [-1, 1] over scored reviews.
    pub sentiment_mean: f64,
    /// Mean sentiment of the last 30 days' reviews (0 when none).
    pub recent_sentiment_mean: f64,
    /// Last 30 days' mean sentiment minus the older reviews' (0 when either side is empty).
    pub trend: f64,
    /// In [0, 1]; 0.5 without reviews (see README, "Reputation").
    pub reputation: f64,
    pub updated_at: Option<DateTime<Utc>>,
}

impl From<product_stats::Model> for ProductReviewStats {
    fn from(m: product_stats::Model) -> Self {
        ProductReviewStats {
            product_id: ProductId(m.id),
            review_count: m.review_count,
            scored_count: m.scored_count,
            rating_mean: m.rating_mean,
            sentiment_mean: m.sentiment_mean,
            recent_sentiment_mean: m.recent_sentiment_mean,
            trend: m.trend,
            reputation: m.reputation,
            updated_at: Some(m.updated_at),
        }
    }
}

impl ProductReviewStats {
    /// The aggregates of a product nobody reviewed yet.
    pub fn empty(product_id: ProductId) -> Self {
        ProductReviewStats {
            product_id,
            review_count: 0,
            scored_count: 0,
            rating_mean: 0.0,
            sentiment_mean: 0.0,
            recent_sentiment_mean: 0.0,
            trend: 0.0,
            reputation: crate::reviews::stats::NEUTRAL_REPUTATION,
            updated_at: None,
        }
    }
}

/// A CSV import of reviews.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ReviewImport {
    pub id: ReviewImportId,
    /// `pending`, `done` or `failed`.
    pub status: String,
    pub total_rows: i32,
    pub accepted_rows: i32,
    pub rejected_rows: i32,
    /// The first 1,000 rejected rows: `[{line, field, reason}]` (line 1 is the header).
    pub rejected: Vec<RejectedRow>,
    pub error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
}

/// One rejected CSV row.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
pub struct RejectedRow {
    pub line: u64,
    pub field: String,
    pub reason: String,
}

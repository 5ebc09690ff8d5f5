//! The request and response of `POST /api/v1/recommendations`, in the seed's shape.

#![allow(missing_docs)] // fields of plain data types, named for what they hold

use comptoir_catalog::model::ProductId;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use super::score::Weights;

/// A recommendation request (the seed's fields, plus `explain`).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RecommendationRequest {
    /// The product the comment is about (its id in the catalog).
    pub product_id: ProductId,
    /// The customer (a number or a string; recorded, not used for ranking).
    #[schema(value_type = Option<Object>)]
    pub client_id: Option<Value>,
    /// The customer's comment, French or English (at most 5,000 characters; may be empty).
    pub commentaire: String,
    /// Product type code of the candidates (default: the product's type).
    pub product_type: Option<String>,
    /// How many recommendations (1-100, default 10).
    pub top_k: Option<i64>,
    /// Adds each score's parts to every recommendation.
    #[serde(default)]
    pub explain: bool,
}

/// The parts of one recommendation's score.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq)]
pub struct Explanation {
    /// Cosine of the product's embedding to the query (before scaling).
    pub cosine: f64,
    /// Similarity in [0, 1] (cosine min-max scaled over the candidates).
    pub similarity: f64,
    /// Availability in [0, 1].
    pub availability: f64,
    /// Reputation in [0, 1].
    pub reputation: f64,
    /// The weights in effect.
    pub weights: Weights,
    /// Whether a negative comment reversed the query (see README, "Recommendations").
    pub steered_away: bool,
}

/// One recommended product.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq)]
pub struct Recommendation {
    pub id: ProductId,
    /// Product name.
    pub nom: String,
    /// In [0, 1].
    pub score: f64,
    /// Sale price.
    pub prix: f64,
    /// Sellable and in stock.
    pub disponible: bool,
    /// Brand name.
    pub marque: Option<String>,
    /// Product type code.
    #[serde(rename = "type")]
    pub product_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub explain: Option<Explanation>,
}

/// The answer of `POST /api/v1/recommendations` (the seed's shape).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct RecommendationResponse {
    /// `success`.
    pub status: String,
    pub recommendations: Vec<Recommendation>,
    /// Number of recommendations returned.
    pub total: usize,
    /// Sentiment of the comment in [-1, 1].
    pub sentiment_score: f64,
    /// The request id (`X-Request-Id`).
    pub correlation_id: String,
    pub processing_time_ms: u64,
}

/// The answer of `POST /api/v1/recommendations/async` (202).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RecommendationQueued {
    /// `processing`.
    pub status: String,
    pub task_id: comptoir_kernel::jobs::TaskId,
    pub message: String,
    /// `GET` it for the result (`result` holds the same object as the synchronous answer).
    pub check_status_url: String,
}

/// The recommendation settings of an organization.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RecommendationSettings {
    pub weights: Weights,
}

//! Sentiment of short texts (product reviews, comments) in French and English.
//!
//! INTERFACE PLACEHOLDER (session 2 integration): the types and `Embeddings::sentiment` are
//! the contract between the ML runtime and its users; the classifier head over e5
//! embeddings and the lexicon fallback replace `analyze` below before this lands.

use serde::{Deserialize, Serialize};

use crate::Embedder;

/// The class of a text.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SentimentLabel {
    Negative,
    Neutral,
    Positive,
}

/// What produced a score: the classifier head over embeddings, or the lexicon fallback.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SentimentMethod {
    Model,
    Lexicon,
}

/// The sentiment of one text: `score` = P(positive) − P(negative) in [-1, 1], the most
/// probable `label`, and its probability as `confidence` in [0, 1].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Sentiment {
    pub score: f32,
    pub label: SentimentLabel,
    pub confidence: f32,
    pub method: SentimentMethod,
}

/// Scores `texts`, in order: with the model when `embedder` is given, else with the lexicons.
pub async fn analyze(_embedder: Option<&Embedder>, texts: &[&str]) -> Vec<Sentiment> {
    texts
        .iter()
        .map(|_| Sentiment {
            score: 0.0,
            label: SentimentLabel::Neutral,
            confidence: 0.0,
            method: SentimentMethod::Lexicon,
        })
        .collect()
}

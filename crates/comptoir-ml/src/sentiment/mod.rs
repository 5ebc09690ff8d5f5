//! Sentiment of short texts (product reviews, comments) in French and English.
//!
//! Two methods behind one contract: a classifier head over e5 embeddings when the embedding
//! model is loaded (see `head`), and a lexicon fallback otherwise (see `lexicon`), which needs
//! neither the model nor the network.

pub mod corpus;
pub mod head;
pub mod lexicon;
pub mod train;

use std::path::Path;
use std::sync::LazyLock;

use serde::{Deserialize, Serialize};

use head::SentimentHead;

use crate::Embedder;

/// The class of a text.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SentimentLabel {
    Negative,
    Neutral,
    Positive,
}

impl SentimentLabel {
    /// Every label, in the order of the classifier's outputs.
    pub const ALL: [SentimentLabel; 3] = [Self::Negative, Self::Neutral, Self::Positive];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Negative => "negative",
            Self::Neutral => "neutral",
            Self::Positive => "positive",
        }
    }
}

impl std::str::FromStr for SentimentLabel {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim() {
            "negative" | "neg" => Ok(Self::Negative),
            "neutral" | "neu" => Ok(Self::Neutral),
            "positive" | "pos" => Ok(Self::Positive),
            other => Err(format!("unknown sentiment label {other:?}")),
        }
    }
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

/// Compound scores within this distance of zero are neutral for the lexicon.
pub const LEXICON_NEUTRAL_BAND: f32 = 0.05;

/// The lexicon fallback's verdict. Its score is VADER's compound score; its confidence is a
/// heuristic (not a calibrated probability): low for texts with no sentiment word, rising
/// with the distance of the score from the neutral band.
pub fn lexicon_sentiment(text: &str) -> Sentiment {
    let s = lexicon::score(text);
    let c = s.compound;
    let (label, confidence) = if c >= LEXICON_NEUTRAL_BAND {
        (SentimentLabel::Positive, 0.5 + 0.5 * c)
    } else if c <= -LEXICON_NEUTRAL_BAND {
        (SentimentLabel::Negative, 0.5 - 0.5 * c)
    } else if s.hits == 0 {
        (SentimentLabel::Neutral, 0.4)
    } else {
        (SentimentLabel::Neutral, 0.6 - c.abs() * 2.0)
    };
    Sentiment {
        score: c,
        label,
        confidence: confidence.clamp(0.0, 1.0),
        method: SentimentMethod::Lexicon,
    }
}

/// A retrained head in the models directory replaces the one compiled in.
pub const HEAD_FILE: &str = "sentiment-head.json";

static BUILTIN: LazyLock<Option<SentimentHead>> = LazyLock::new(|| {
    match SentimentHead::builtin() {
        Ok(h) => Some(h),
        Err(e) => {
            tracing::warn!(error = %e, "the built-in sentiment head is unusable; sentiment uses the lexicons");
            None
        }
    }
});

/// The head to use for `model` with models in `models_dir`: `<models_dir>/sentiment-head.json`
/// when it exists, is valid and was trained on `model` (logged and skipped otherwise), else
/// the built-in one when it was; `None` (the lexicons answer) when no head fits the model.
pub fn load_head(models_dir: &Path, model: &str) -> Option<SentimentHead> {
    let path = models_dir.join(HEAD_FILE);
    if path.is_file() {
        match std::fs::read_to_string(&path)
            .map_err(|e| e.to_string())
            .and_then(|t| SentimentHead::from_json(&t).map_err(|e| e.to_string()))
        {
            Ok(h) if h.made_for(model) => return Some(h),
            Ok(h) => {
                tracing::warn!(path = %path.display(), head = %h.embedding_model, model, "ignoring the sentiment head file: trained on another model")
            }
            Err(e) => {
                tracing::warn!(path = %path.display(), error = %e, "ignoring the sentiment head file")
            }
        }
    }
    match BUILTIN.as_ref() {
        Some(h) if h.made_for(model) => Some(h.clone()),
        _ => {
            tracing::warn!(
                model,
                "no sentiment head for this model; sentiment uses the lexicons (train one: comptoir models train-sentiment)"
            );
            None
        }
    }
}

/// Scores `texts`, in order: with the model when `embedder` is given, else with the lexicons.
pub async fn analyze(embedder: Option<&Embedder>, texts: &[&str]) -> Vec<Sentiment> {
    analyze_with(embedder, BUILTIN.as_ref(), texts).await
}

/// Like [`analyze`] with an explicit head. The model answers only when the embedder and a
/// head trained on its features are both there; if embedding fails, the lexicons answer.
pub async fn analyze_with(
    embedder: Option<&Embedder>,
    head: Option<&SentimentHead>,
    texts: &[&str],
) -> Vec<Sentiment> {
    if let (Some(embedder), Some(head)) = (embedder, head)
        && head.made_for(embedder.name())
        && head.fits(embedder.dim(), embedder.layers())
    {
        match train::embed_all(embedder, texts, &head.layers).await {
            Ok(vectors) => {
                return vectors
                    .iter()
                    .zip(texts)
                    .map(|(v, t)| head.sentiment(v).unwrap_or_else(|| lexicon_sentiment(t)))
                    .collect();
            }
            Err(e) => {
                tracing::warn!(error = %e, "embedding failed; sentiment falls back to the lexicons")
            }
        }
    }
    texts.iter().map(|t| lexicon_sentiment(t)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn without_a_model_the_lexicon_answers() {
        let out = analyze(
            None,
            &[
                "Produit excellent, livraison rapide !",
                "Awful, it broke.",
                "",
            ],
        )
        .await;
        assert_eq!(out.len(), 3);
        assert_eq!(out[0].label, SentimentLabel::Positive);
        assert_eq!(out[1].label, SentimentLabel::Negative);
        assert_eq!(out[2].label, SentimentLabel::Neutral);
        for s in &out {
            assert_eq!(s.method, SentimentMethod::Lexicon);
            assert!((-1.0..=1.0).contains(&s.score));
            assert!((0.0..=1.0).contains(&s.confidence));
        }
        assert!(out[0].score > 0.0 && out[1].score < 0.0);
    }

    #[test]
    fn labels_round_trip() {
        for l in SentimentLabel::ALL {
            assert_eq!(l.as_str().parse::<SentimentLabel>(), Ok(l));
        }
        assert!("great".parse::<SentimentLabel>().is_err());
    }
}

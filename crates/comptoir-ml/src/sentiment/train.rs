//! Training the head from the corpus (`comptoir models train-sentiment`).

use super::corpus::{Example, Report, Split};
use super::head::{SentimentHead, TrainConfig};
use super::{SentimentLabel, lexicon_sentiment};
use crate::{EmbedError, Embedder};

/// Name recorded in the head file; the head is only used with an embedder of that width.
pub const EMBEDDING_MODEL: &str = "multilingual-e5-small (query: prefix)";

/// Regularisation strengths tried; the best on a validation fifth of the training split is
/// kept, then the head is retrained on the whole training split.
pub const L2_GRID: [f32; 7] = [1e-3, 3e-3, 1e-2, 3e-2, 1e-1, 3e-1, 1.0];

/// A trained head and how it does on the held-out split, beside the lexicon.
#[derive(Debug)]
pub struct TrainOutcome {
    pub head: SentimentHead,
    pub model_test: Report,
    pub lexicon_test: Report,
    /// (l2, validation accuracy) for each candidate.
    pub validation: Vec<(f32, f64)>,
}

fn class(label: SentimentLabel) -> usize {
    SentimentLabel::ALL
        .iter()
        .position(|l| *l == label)
        .unwrap_or(1)
}

/// Embeds texts as queries, 64 at a time.
pub async fn embed_all(embedder: &Embedder, texts: &[&str]) -> Result<Vec<Vec<f32>>, EmbedError> {
    let mut out = Vec::with_capacity(texts.len());
    for chunk in texts.chunks(64) {
        out.extend(embedder.embed_queries(chunk).await?);
    }
    Ok(out)
}

/// Trains on the `train` split of `examples` and evaluates on the `test` split.
pub async fn train_from_corpus(
    embedder: &Embedder,
    examples: &[Example],
) -> Result<TrainOutcome, EmbedError> {
    let texts: Vec<&str> = examples.iter().map(|e| e.text.as_str()).collect();
    let vectors = embed_all(embedder, &texts).await?;
    Ok(train_from_vectors(examples, &vectors))
}

/// [`train_from_corpus`] once the examples are embedded (one vector per example, in order).
pub fn train_from_vectors(examples: &[Example], vectors: &[Vec<f32>]) -> TrainOutcome {
    let (mut train_x, mut train_y, mut test_idx) = (Vec::new(), Vec::new(), Vec::new());
    for (i, (e, v)) in examples.iter().zip(vectors).enumerate() {
        match e.split {
            Split::Train => {
                train_x.push(v.clone());
                train_y.push(class(e.label));
            }
            Split::Test => test_idx.push(i),
        }
    }
    let config = TrainConfig::default();
    // Validation: every fifth training example (the file's order mixes classes and domains).
    let (mut fit_x, mut fit_y, mut val_x, mut val_y) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for (i, (x, y)) in train_x.iter().zip(&train_y).enumerate() {
        if i % 5 == 2 {
            val_x.push(x.clone());
            val_y.push(*y);
        } else {
            fit_x.push(x.clone());
            fit_y.push(*y);
        }
    }
    let mut validation = Vec::new();
    for l2 in L2_GRID {
        let head = SentimentHead::train(
            EMBEDDING_MODEL,
            &fit_x,
            &fit_y,
            TrainConfig { l2, ..config },
        );
        let right = val_x
            .iter()
            .zip(&val_y)
            .filter(|(x, y)| head.sentiment(x).is_some_and(|s| class(s.label) == **y))
            .count();
        validation.push((l2, right as f64 / val_x.len().max(1) as f64));
    }
    // Ties go to the stronger regularisation (the later entry of the grid).
    let best = validation
        .iter()
        .copied()
        .reduce(|a, b| if b.1 >= a.1 { b } else { a })
        .map_or(config.l2, |(l2, _)| l2);
    let head = SentimentHead::train(
        EMBEDDING_MODEL,
        &train_x,
        &train_y,
        TrainConfig { l2: best, ..config },
    );
    let model_test = Report::new(test_idx.iter().map(|&i| {
        let label = head
            .sentiment(&vectors[i])
            .map_or(SentimentLabel::Neutral, |s| s.label);
        (&examples[i], label)
    }));
    let lexicon_test = Report::new(
        test_idx
            .iter()
            .map(|&i| (&examples[i], lexicon_sentiment(&examples[i].text).label)),
    );
    TrainOutcome {
        head,
        model_test,
        lexicon_test,
        validation,
    }
}

//! The sentiment classifier head: multinomial logistic regression over e5 sentence
//! embeddings (negative, neutral, positive), with the feature standardisation learnt from
//! the training set. Small enough to live in the repository as JSON (~45 kB) and be
//! compiled into the binary.
//!
//! Training is full-batch gradient descent on the L2-regularised cross-entropy, from zero,
//! with a fixed number of steps: deterministic, so the same corpus and embeddings give the
//! same file.

use serde::{Deserialize, Serialize};

use super::{Sentiment, SentimentLabel, SentimentMethod};

/// Number of classes, in `SentimentLabel::ALL` order.
pub const CLASSES: usize = 3;

/// The head trained by `comptoir models train-sentiment` from the repository's corpus.
pub const DEFAULT_HEAD_JSON: &str = include_str!("../../models/sentiment-head.json");

/// A trained head.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct SentimentHead {
    /// The embedding model the head was trained on, and the prefix used ("query: ").
    pub embedding_model: String,
    pub dim: usize,
    /// Per-feature mean and inverse standard deviation of the training embeddings.
    pub mean: Vec<f32>,
    pub inv_std: Vec<f32>,
    /// `CLASSES` rows of `dim` weights, row-major, then one bias per class.
    pub weights: Vec<f32>,
    pub bias: Vec<f32>,
    /// How it was trained (for the record; not used to predict).
    pub l2: f32,
    pub steps: usize,
    pub train_examples: usize,
}

/// Why a head file cannot be used.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum HeadError {
    #[error("sentiment head file: {0}")]
    Parse(String),
    #[error("sentiment head is inconsistent: {0}")]
    Shape(String),
}

/// Training settings.
#[derive(Clone, Copy, Debug)]
pub struct TrainConfig {
    pub l2: f32,
    pub steps: usize,
    pub learning_rate: f32,
}

impl Default for TrainConfig {
    fn default() -> Self {
        Self {
            l2: 1e-2,
            steps: 600,
            learning_rate: 0.5,
        }
    }
}

impl SentimentHead {
    /// Parses and checks a head file.
    pub fn from_json(text: &str) -> Result<Self, HeadError> {
        let head: Self = serde_json::from_str(text).map_err(|e| HeadError::Parse(e.to_string()))?;
        let d = head.dim;
        if d == 0
            || head.mean.len() != d
            || head.inv_std.len() != d
            || head.weights.len() != CLASSES * d
            || head.bias.len() != CLASSES
        {
            return Err(HeadError::Shape(format!(
                "dim {d}, mean {}, inv_std {}, weights {}, bias {}",
                head.mean.len(),
                head.inv_std.len(),
                head.weights.len(),
                head.bias.len()
            )));
        }
        let all = head
            .mean
            .iter()
            .chain(&head.inv_std)
            .chain(&head.weights)
            .chain(&head.bias);
        if !all.clone().all(|x| x.is_finite()) {
            return Err(HeadError::Shape("non-finite parameter".into()));
        }
        Ok(head)
    }

    /// The head compiled into the binary.
    pub fn builtin() -> Result<Self, HeadError> {
        Self::from_json(DEFAULT_HEAD_JSON)
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// Class probabilities (negative, neutral, positive) of one embedding, or `None` when
    /// its dimension does not match.
    pub fn probabilities(&self, embedding: &[f32]) -> Option<[f32; CLASSES]> {
        if embedding.len() != self.dim {
            return None;
        }
        let x = self.standardise(embedding);
        Some(softmax(self.logits(&x)))
    }

    /// The sentiment of one embedding: score = P(positive) − P(negative), label = argmax,
    /// confidence = its probability.
    pub fn sentiment(&self, embedding: &[f32]) -> Option<Sentiment> {
        let p = self.probabilities(embedding)?;
        let best = (0..CLASSES)
            .max_by(|&a, &b| p[a].total_cmp(&p[b]))
            .unwrap_or(1);
        Some(Sentiment {
            score: (p[2] - p[0]).clamp(-1.0, 1.0),
            label: SentimentLabel::ALL[best],
            confidence: p[best],
            method: SentimentMethod::Model,
        })
    }

    fn standardise(&self, x: &[f32]) -> Vec<f32> {
        x.iter()
            .zip(&self.mean)
            .zip(&self.inv_std)
            .map(|((v, m), s)| (v - m) * s)
            .collect()
    }

    fn logits(&self, x: &[f32]) -> [f32; CLASSES] {
        let mut z = [0f32; CLASSES];
        for (c, zc) in z.iter_mut().enumerate() {
            let row = &self.weights[c * self.dim..(c + 1) * self.dim];
            *zc = self.bias[c] + row.iter().zip(x).map(|(w, v)| w * v).sum::<f32>();
        }
        z
    }

    /// Trains a head on embeddings `xs` with class indices `ys` (0 negative, 1 neutral,
    /// 2 positive). Panics on no data or mismatched lengths (caller bugs, not user input).
    pub fn train(
        embedding_model: &str,
        xs: &[Vec<f32>],
        ys: &[usize],
        config: TrainConfig,
    ) -> Self {
        assert!(!xs.is_empty() && xs.len() == ys.len(), "training data");
        let dim = xs[0].len();
        let n = xs.len() as f32;
        let mut mean = vec![0f32; dim];
        for x in xs {
            for (m, v) in mean.iter_mut().zip(x) {
                *m += v / n;
            }
        }
        let mut var = vec![0f32; dim];
        for x in xs {
            for ((s, v), m) in var.iter_mut().zip(x).zip(&mean) {
                *s += (v - m) * (v - m) / n;
            }
        }
        let inv_std: Vec<f32> = var.iter().map(|v| 1.0 / (v.sqrt() + 1e-6)).collect();
        let mut head = Self {
            embedding_model: embedding_model.to_string(),
            dim,
            mean,
            inv_std,
            weights: vec![0.0; CLASSES * dim],
            bias: vec![0.0; CLASSES],
            l2: config.l2,
            steps: config.steps,
            train_examples: xs.len(),
        };
        let std_xs: Vec<Vec<f32>> = xs.iter().map(|x| head.standardise(x)).collect();
        for _ in 0..config.steps {
            let mut grad_w = vec![0f32; CLASSES * dim];
            let mut grad_b = [0f32; CLASSES];
            for (x, &y) in std_xs.iter().zip(ys) {
                let p = softmax(head.logits(x));
                for c in 0..CLASSES {
                    let err = (p[c] - if c == y { 1.0 } else { 0.0 }) / n;
                    grad_b[c] += err;
                    let row = &mut grad_w[c * dim..(c + 1) * dim];
                    for (g, v) in row.iter_mut().zip(x) {
                        *g += err * v;
                    }
                }
            }
            for (w, g) in head.weights.iter_mut().zip(&grad_w) {
                *w -= config.learning_rate * (g + config.l2 * *w);
            }
            for (b, g) in head.bias.iter_mut().zip(grad_b) {
                *b -= config.learning_rate * g;
            }
        }
        head
    }

    /// Mean cross-entropy plus the L2 penalty: what training minimises.
    pub fn loss(&self, xs: &[Vec<f32>], ys: &[usize]) -> f32 {
        let n = xs.len().max(1) as f32;
        let ce: f32 = xs
            .iter()
            .zip(ys)
            .filter_map(|(x, &y)| Some(-self.probabilities(x)?[y].max(1e-12).ln()))
            .sum::<f32>()
            / n;
        ce + 0.5 * self.l2 * self.weights.iter().map(|w| w * w).sum::<f32>()
    }
}

fn softmax(z: [f32; CLASSES]) -> [f32; CLASSES] {
    let max = z.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let e = z.map(|v| (v - max).exp());
    let sum: f32 = e.iter().sum();
    e.map(|v| v / sum)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Three Gaussian-ish clusters (xorshift noise) around distinct directions.
    fn clusters(n: usize, dim: usize) -> (Vec<Vec<f32>>, Vec<usize>) {
        let mut s = 0x9E37_79B9_7F4A_7C15u64;
        let mut noise = move || {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            (s >> 11) as f32 / (1u64 << 53) as f32 - 0.5
        };
        let mut xs = Vec::new();
        let mut ys = Vec::new();
        for i in 0..n {
            let y = i % CLASSES;
            let x: Vec<f32> = (0..dim)
                .map(|d| if d == y { 1.0 } else { 0.0 } + 0.6 * noise())
                .collect();
            xs.push(x);
            ys.push(y);
        }
        (xs, ys)
    }

    #[test]
    fn learns_separable_classes_and_lowers_the_loss() {
        let (xs, ys) = clusters(300, 8);
        let untrained = SentimentHead::train(
            "t",
            &xs,
            &ys,
            TrainConfig {
                steps: 0,
                ..Default::default()
            },
        );
        let head = SentimentHead::train("t", &xs, &ys, TrainConfig::default());
        assert!(head.loss(&xs, &ys) < untrained.loss(&xs, &ys) * 0.5);
        assert!((untrained.loss(&xs, &ys) - (CLASSES as f32).ln()).abs() < 1e-4);
        let (test_x, test_y) = clusters(90, 8);
        let correct = test_x
            .iter()
            .zip(&test_y)
            .filter(|(x, y)| {
                let s = head.sentiment(x).expect("dim matches");
                SentimentLabel::ALL[**y] == s.label
            })
            .count();
        assert!(correct >= 80, "{correct}/90");
    }

    #[test]
    fn outputs_are_probabilities_and_score_is_their_difference() {
        let (xs, ys) = clusters(60, 4);
        let head = SentimentHead::train("t", &xs, &ys, TrainConfig::default());
        for x in &xs {
            let p = head.probabilities(x).expect("dim");
            assert!((p.iter().sum::<f32>() - 1.0).abs() < 1e-5);
            let s = head.sentiment(x).expect("dim");
            assert!((s.score - (p[2] - p[0])).abs() < 1e-6);
            assert!((-1.0..=1.0).contains(&s.score));
            assert_eq!(s.confidence, p.iter().copied().fold(0.0, f32::max));
            assert_eq!(s.method, SentimentMethod::Model);
        }
        assert!(head.probabilities(&[0.0; 3]).is_none(), "wrong dimension");
    }

    #[test]
    fn gradient_matches_finite_differences() {
        // One step from zero with lr = 1 and no penalty moves each weight by −gradient;
        // compare with the numerical derivative of the loss at zero.
        let (xs, ys) = clusters(30, 3);
        let cfg = TrainConfig {
            l2: 0.0,
            steps: 1,
            learning_rate: 1.0,
        };
        let stepped = SentimentHead::train("t", &xs, &ys, cfg);
        let zero = SentimentHead::train("t", &xs, &ys, TrainConfig { steps: 0, ..cfg });
        let eps = 1e-3;
        for i in 0..zero.weights.len() {
            let mut plus = zero.clone();
            plus.weights[i] += eps;
            let mut minus = zero.clone();
            minus.weights[i] -= eps;
            let numeric = (plus.loss(&xs, &ys) - minus.loss(&xs, &ys)) / (2.0 * eps);
            let analytic = -stepped.weights[i];
            assert!(
                (numeric - analytic).abs() < 1e-3,
                "w{i}: {numeric} vs {analytic}"
            );
        }
    }

    #[test]
    fn json_round_trip_and_bad_files() {
        let (xs, ys) = clusters(30, 4);
        let head = SentimentHead::train("t", &xs, &ys, TrainConfig::default());
        assert_eq!(SentimentHead::from_json(&head.to_json()), Ok(head.clone()));
        assert!(matches!(
            SentimentHead::from_json("{"),
            Err(HeadError::Parse(_))
        ));
        let mut broken = head.clone();
        broken.bias.pop();
        assert!(matches!(
            SentimentHead::from_json(&broken.to_json()),
            Err(HeadError::Shape(_))
        ));
    }

    #[test]
    fn the_builtin_head_loads() {
        let head = SentimentHead::builtin().expect("models/sentiment-head.json");
        assert_eq!(head.dim, 384);
        assert!(head.train_examples >= 1_000);
    }
}

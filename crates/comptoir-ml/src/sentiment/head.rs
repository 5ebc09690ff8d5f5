//! The sentiment classifier head over e5 features (negative, neutral, positive), with the
//! feature standardisation learnt from the training set: multinomial logistic regression,
//! or the same with one hidden ReLU layer in front (a small MLP). Small enough to live in
//! the repository as JSON and be compiled into the binary.
//!
//! Training is full-batch and deterministic (fixed steps, initialisation and dropout masks
//! from a seeded generator), so the same corpus and features give the same file: the
//! linear head by Nesterov's accelerated gradient from zero, the hidden layer by AdamW.

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
    /// The encoder layers whose pooled hidden states, concatenated, are the features
    /// (see `Embedder::embed_layers`); empty = the usual sentence embedding (head files
    /// written before this field).
    #[serde(default)]
    pub layers: Vec<usize>,
    pub dim: usize,
    /// Per-feature mean and inverse standard deviation of the training embeddings.
    pub mean: Vec<f32>,
    pub inv_std: Vec<f32>,
    /// The hidden layer, if any: `hidden_bias.len()` rows of `dim` weights, row-major,
    /// and one bias per unit, followed by a ReLU. Empty = a linear head (files written
    /// before this field).
    #[serde(default)]
    pub hidden_weights: Vec<f32>,
    #[serde(default)]
    pub hidden_bias: Vec<f32>,
    /// `CLASSES` rows of weights (one per hidden unit, or per feature for a linear head),
    /// row-major, then one bias per class.
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
    /// L2 penalty (linear head) or AdamW's decoupled weight decay (hidden layer).
    pub l2: f32,
    pub steps: usize,
    /// Gradient step; `None` sets it to 1/L from the data for a linear head (see `train`)
    /// and to 1e-3 for AdamW.
    pub learning_rate: Option<f32>,
    /// Hidden ReLU units; 0 = a linear head.
    pub hidden: usize,
    /// Dropout probability on the inputs and the hidden units while training.
    pub dropout: f32,
}

impl Default for TrainConfig {
    fn default() -> Self {
        Self {
            l2: 1e-2,
            steps: 600,
            learning_rate: None,
            hidden: 0,
            dropout: 0.0,
        }
    }
}

impl SentimentHead {
    /// Parses and checks a head file.
    pub fn from_json(text: &str) -> Result<Self, HeadError> {
        let head: Self = serde_json::from_str(text).map_err(|e| HeadError::Parse(e.to_string()))?;
        let d = head.dim;
        let width = head.width();
        if d == 0
            || (!head.layers.is_empty() && !d.is_multiple_of(head.layers.len()))
            || head.mean.len() != d
            || head.inv_std.len() != d
            || head.hidden_weights.len() != head.hidden_bias.len() * d
            || head.weights.len() != CLASSES * width
            || head.bias.len() != CLASSES
        {
            return Err(HeadError::Shape(format!(
                "dim {d}, layers {:?}, mean {}, inv_std {}, hidden {} × {}, weights {}, bias {}",
                head.layers,
                head.mean.len(),
                head.inv_std.len(),
                head.hidden_bias.len(),
                head.hidden_weights.len(),
                head.weights.len(),
                head.bias.len()
            )));
        }
        let all = head
            .mean
            .iter()
            .chain(&head.inv_std)
            .chain(&head.hidden_weights)
            .chain(&head.hidden_bias)
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

    /// Records which pooled layers the training features were made of.
    pub fn with_layers(mut self, layers: &[usize]) -> Self {
        self.layers = layers.to_vec();
        self
    }

    /// Whether the head was trained on `model`'s features (a head of another model may have
    /// the same shape and still mean nothing).
    pub fn made_for(&self, model: &str) -> bool {
        self.embedding_model.split(" (").next() == Some(model)
    }

    /// Whether the head reads the features of an encoder of width `hidden` and `depth`
    /// layers.
    pub fn fits(&self, hidden: usize, depth: usize) -> bool {
        if self.layers.is_empty() {
            self.dim == hidden
        } else {
            self.dim == hidden * self.layers.len() && self.layers.iter().all(|&l| l <= depth)
        }
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

    /// Inputs of the output layer: the hidden units, or the features of a linear head.
    fn width(&self) -> usize {
        if self.hidden_bias.is_empty() {
            self.dim
        } else {
            self.hidden_bias.len()
        }
    }

    fn logits(&self, x: &[f32]) -> [f32; CLASSES] {
        if self.hidden_bias.is_empty() {
            return logits(&self.weights, &self.bias, x);
        }
        let h: Vec<f32> = self
            .hidden_weights
            .chunks_exact(self.dim)
            .zip(&self.hidden_bias)
            .map(|(row, b)| (b + row.iter().zip(x).map(|(w, v)| w * v).sum::<f32>()).max(0.0))
            .collect();
        logits(&self.weights, &self.bias, &h)
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
            layers: Vec::new(),
            dim,
            mean,
            inv_std,
            hidden_weights: Vec::new(),
            hidden_bias: Vec::new(),
            weights: vec![0.0; CLASSES * dim],
            bias: vec![0.0; CLASSES],
            l2: config.l2,
            steps: config.steps,
            train_examples: xs.len(),
        };
        let std_xs: Vec<Vec<f32>> = xs.iter().map(|x| head.standardise(x)).collect();
        if config.hidden > 0 {
            let (hw, hb, w, b) = train_hidden(&std_xs, ys, config)
                .expect("CPU tensors of consistent shapes (checked above)");
            (
                head.hidden_weights,
                head.hidden_bias,
                head.weights,
                head.bias,
            ) = (hw, hb, w, b);
            return head;
        }
        // The loss is smooth with constant L ≤ ½·λmax(X̃ᵀX̃/n) + l2 (X̃ = standardised
        // features plus the bias column), so a step of 1/L never overshoots, whatever the
        // width or the correlation of the features.
        let step = config
            .learning_rate
            .unwrap_or_else(|| 1.0 / (0.5 * largest_eigenvalue(&std_xs) + config.l2));
        // Nesterov's accelerated gradient: `theta` = the weights then the biases, `ahead`
        // the look-ahead point where the gradient is taken.
        let mut theta = vec![0f32; CLASSES * dim + CLASSES];
        let mut ahead = theta.clone();
        let mut t = 1f32;
        for _ in 0..config.steps {
            let grad = gradient(&ahead, dim, &std_xs, ys, config.l2);
            let next: Vec<f32> = ahead.iter().zip(&grad).map(|(a, g)| a - step * g).collect();
            let t_next = 0.5 * (1.0 + (1.0 + 4.0 * t * t).sqrt());
            let momentum = (t - 1.0) / t_next;
            for ((a, n), old) in ahead.iter_mut().zip(&next).zip(&theta) {
                *a = n + momentum * (n - old);
            }
            theta = next;
            t = t_next;
        }
        head.bias = theta.split_off(CLASSES * dim);
        head.weights = theta;
        head
    }

    /// Mean cross-entropy plus the L2 penalty on the output weights: what the linear
    /// head's training minimises.
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

/// Trains a hidden ReLU layer of `config.hidden` units and the output layer on
/// standardised features by full-batch AdamW on the cross-entropy, with dropout on the
/// inputs and the hidden units. Returns the hidden weights (`hidden` rows of `dim`) and
/// biases, then the output weights (`CLASSES` rows of `hidden`) and biases.
#[allow(clippy::type_complexity)]
fn train_hidden(
    xs: &[Vec<f32>],
    ys: &[usize],
    config: TrainConfig,
) -> candle_core::Result<(Vec<f32>, Vec<f32>, Vec<f32>, Vec<f32>)> {
    use candle_core::{DType, Device, Tensor, Var};
    use candle_nn::{AdamW, Optimizer, ParamsAdamW};

    let (n, dim, hidden) = (xs.len(), xs[0].len(), config.hidden);
    let dev = Device::Cpu;
    let x = Tensor::from_vec(xs.concat(), (n, dim), &dev)?;
    let y = Tensor::from_vec(ys.iter().map(|&c| c as u32).collect(), n, &dev)?;
    let mut rng = XorShift(0x9E37_79B9_7F4A_7C15);
    // Glorot-uniform initialisation; weights stored transposed (inputs × outputs).
    let mut glorot = |fan_in: usize, fan_out: usize| {
        let a = (6.0 / (fan_in + fan_out) as f32).sqrt();
        let w: Vec<f32> = (0..fan_in * fan_out)
            .map(|_| a * (2.0 * rng.next() - 1.0))
            .collect();
        Var::from_vec(w, (fan_in, fan_out), &dev)
    };
    let w1 = glorot(dim, hidden)?;
    let w2 = glorot(hidden, CLASSES)?;
    let b1 = Var::zeros(hidden, DType::F32, &dev)?;
    let b2 = Var::zeros(CLASSES, DType::F32, &dev)?;
    let mut opt = AdamW::new(
        vec![w1.clone(), b1.clone(), w2.clone(), b2.clone()],
        ParamsAdamW {
            lr: f64::from(config.learning_rate.unwrap_or(1e-3)),
            weight_decay: f64::from(config.l2),
            ..Default::default()
        },
    )?;
    // Inverted dropout: keep with probability 1 − p, scale the kept by 1/(1 − p).
    let keep = 1.0 - config.dropout.clamp(0.0, 0.95);
    let mut dropout = |t: Tensor| -> candle_core::Result<Tensor> {
        if keep >= 1.0 {
            return Ok(t);
        }
        let mask: Vec<f32> = (0..t.elem_count())
            .map(|_| if rng.next() < keep { 1.0 / keep } else { 0.0 })
            .collect();
        t.mul(&Tensor::from_vec(mask, t.shape(), &dev)?)
    };
    for _ in 0..config.steps {
        let h = dropout(x.clone())?
            .matmul(w1.as_tensor())?
            .broadcast_add(b1.as_tensor())?
            .relu()?;
        let logits = dropout(h)?
            .matmul(w2.as_tensor())?
            .broadcast_add(b2.as_tensor())?;
        let loss = candle_nn::loss::cross_entropy(&logits, &y)?;
        opt.backward_step(&loss)?;
    }
    let rows = |v: &Var| -> candle_core::Result<Vec<f32>> {
        v.as_tensor().t()?.contiguous()?.flatten_all()?.to_vec1()
    };
    Ok((
        rows(&w1)?,
        b1.as_tensor().to_vec1()?,
        rows(&w2)?,
        b2.as_tensor().to_vec1()?,
    ))
}

/// A small deterministic generator (xorshift64) for initialisation and dropout masks.
struct XorShift(u64);

impl XorShift {
    /// Uniform in [0, 1).
    fn next(&mut self) -> f32 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 40) as f32 / (1u64 << 24) as f32
    }
}

/// Gradient of the mean cross-entropy plus ½·l2·‖W‖² at `theta` (weights, then biases).
fn gradient(theta: &[f32], dim: usize, xs: &[Vec<f32>], ys: &[usize], l2: f32) -> Vec<f32> {
    let n = xs.len() as f32;
    let (w, b) = theta.split_at(CLASSES * dim);
    let mut grad = vec![0f32; theta.len()];
    for (x, &y) in xs.iter().zip(ys) {
        let p = softmax(logits(w, b, x));
        for c in 0..CLASSES {
            let err = (p[c] - if c == y { 1.0 } else { 0.0 }) / n;
            grad[CLASSES * dim + c] += err;
            for (g, v) in grad[c * dim..(c + 1) * dim].iter_mut().zip(x) {
                *g += err * v;
            }
        }
    }
    for (g, w) in grad.iter_mut().zip(w) {
        *g += l2 * w;
    }
    grad
}

/// Largest eigenvalue of X̃ᵀX̃/n (`xs` with a constant 1 appended), by power iteration
/// from the all-ones vector: an upper bound within a few percent after 50 rounds, which
/// the 1/L step tolerates.
fn largest_eigenvalue(xs: &[Vec<f32>]) -> f32 {
    let dim = xs.first().map_or(0, Vec::len);
    let n = xs.len().max(1) as f32;
    let mut v = vec![1f32 / ((dim + 1) as f32).sqrt(); dim + 1];
    let mut lambda = 1f32;
    for _ in 0..50 {
        let mut next = vec![0f32; dim + 1];
        for x in xs {
            let dot = x.iter().zip(&v).map(|(a, b)| a * b).sum::<f32>() + v[dim];
            for (o, a) in next.iter_mut().zip(x) {
                *o += dot * a / n;
            }
            next[dim] += dot / n;
        }
        lambda = next.iter().map(|a| a * a).sum::<f32>().sqrt();
        if lambda <= f32::EPSILON {
            return 1.0;
        }
        v = next.into_iter().map(|a| a / lambda).collect();
    }
    // Power iteration approaches λmax from below; a margin keeps the step safe.
    lambda * 1.05
}

/// `W·x + b` for `CLASSES` rows of `x.len()` weights.
fn logits(w: &[f32], b: &[f32], x: &[f32]) -> [f32; CLASSES] {
    let dim = x.len();
    let mut z = [0f32; CLASSES];
    for (c, zc) in z.iter_mut().enumerate() {
        let row = &w[c * dim..(c + 1) * dim];
        *zc = b[c] + row.iter().zip(x).map(|(w, v)| w * v).sum::<f32>();
    }
    z
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
        noisy_clusters(n, dim, 0.6)
    }

    /// [`clusters`] with noise of amplitude `spread` (above 2 they overlap).
    fn noisy_clusters(n: usize, dim: usize, spread: f32) -> (Vec<Vec<f32>>, Vec<usize>) {
        let mut rng = XorShift(0x9E37_79B9_7F4A_7C15);
        let mut noise = move || rng.next() - 0.5;
        let mut xs = Vec::new();
        let mut ys = Vec::new();
        for i in 0..n {
            let y = i % CLASSES;
            let x: Vec<f32> = (0..dim)
                .map(|d| if d == y { 1.0 } else { 0.0 } + spread * noise())
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
            learning_rate: Some(1.0),
            ..Default::default()
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
        assert_eq!(head.layers, [4, 8, 12]);
        assert_eq!(head.dim, 3 * 384);
        assert!(head.fits(384, 12));
        assert!(head.train_examples >= 1_000);
        assert_eq!(head.hidden_bias.len(), 64);
        assert_eq!(head.hidden_weights.len(), 64 * head.dim);
        assert_eq!(head.weights.len(), CLASSES * 64);
    }

    /// Points of the square [-1.5, 1.5]², labelled by their distance to the centre
    /// (rings 0–0.7, 0.7–1.2, beyond): no straight line separates the classes.
    fn rings(n: usize, seed: u64) -> (Vec<Vec<f32>>, Vec<usize>) {
        let mut rng = XorShift(seed);
        (0..n)
            .map(|_| {
                let x = vec![3.0 * rng.next() - 1.5, 3.0 * rng.next() - 1.5];
                let r = x[0].hypot(x[1]);
                (x, usize::from(r > 0.7) + usize::from(r > 1.2))
            })
            .unzip()
    }

    fn accuracy(head: &SentimentHead, xs: &[Vec<f32>], ys: &[usize]) -> f32 {
        let right = xs
            .iter()
            .zip(ys)
            .filter(|(x, y)| {
                head.sentiment(x)
                    .is_some_and(|s| SentimentLabel::ALL[**y] == s.label)
            })
            .count();
        right as f32 / xs.len() as f32
    }

    #[test]
    fn a_hidden_layer_learns_what_a_linear_head_cannot() {
        let (xs, ys) = rings(600, 7);
        let (test_x, test_y) = rings(300, 11);
        let linear = SentimentHead::train("t", &xs, &ys, TrainConfig::default());
        let config = TrainConfig {
            l2: 1e-4,
            steps: 800,
            learning_rate: Some(1e-2),
            hidden: 32,
            dropout: 0.0,
        };
        let mlp = SentimentHead::train("t", &xs, &ys, config);
        let (lin, deep) = (
            accuracy(&linear, &test_x, &test_y),
            accuracy(&mlp, &test_x, &test_y),
        );
        assert!(lin < 0.65, "linear head {lin}");
        assert!(deep > 0.9, "hidden layer {deep}");
        assert!(mlp.loss(&xs, &ys) < linear.loss(&xs, &ys) * 0.5);
        // Deterministic: the same data and settings give the same file, dropout included.
        let dropped = TrainConfig {
            dropout: 0.3,
            steps: 50,
            ..config
        };
        assert_eq!(
            SentimentHead::train("t", &xs, &ys, dropped),
            SentimentHead::train("t", &xs, &ys, dropped)
        );
        assert_eq!(SentimentHead::from_json(&mlp.to_json()), Ok(mlp.clone()));
        let mut broken = mlp;
        broken.hidden_bias.pop();
        assert!(matches!(
            SentimentHead::from_json(&broken.to_json()),
            Err(HeadError::Shape(_))
        ));
    }

    #[test]
    fn wide_correlated_features_converge() {
        // Overlapping classes, every feature repeated 60 times: the curvature grows
        // 60-fold, so a fixed step (the trainer's former 0.5) overshoots and the loss never
        // settles; with the step taken from the data, 600 steps reach the optimum that
        // 4 times as many reach.
        let (xs, ys) = noisy_clusters(300, 8, 3.0);
        let xs: Vec<Vec<f32>> = xs
            .into_iter()
            .map(|x| x.iter().flat_map(|&v| std::iter::repeat_n(v, 60)).collect())
            .collect();
        let config = TrainConfig {
            l2: 1e-3,
            ..Default::default()
        };
        let untrained = SentimentHead::train("t", &xs, &ys, TrainConfig { steps: 0, ..config });
        let head = SentimentHead::train("t", &xs, &ys, config);
        let longer = SentimentHead::train(
            "t",
            &xs,
            &ys,
            TrainConfig {
                steps: 2_400,
                ..config
            },
        );
        let (start, loss, optimum) = (
            untrained.loss(&xs, &ys),
            head.loss(&xs, &ys),
            longer.loss(&xs, &ys),
        );
        assert!(head.weights.iter().all(|w| w.is_finite()));
        assert!(loss < start * 0.9, "{start} → {loss}");
        assert!(
            loss <= optimum * 1.01,
            "{loss} after 600 steps, {optimum} after 2,400"
        );
    }

    #[test]
    fn layers_say_which_encoders_a_head_reads() {
        let (xs, ys) = clusters(30, 4);
        // A head file from before `layers` reads the plain embedding.
        let plain = SentimentHead::train("t", &xs, &ys, TrainConfig::default());
        let mut json: serde_json::Value = serde_json::from_str(&plain.to_json()).expect("json");
        json.as_object_mut().expect("object").remove("layers");
        let old = SentimentHead::from_json(&json.to_string()).expect("old file");
        assert!(old.layers.is_empty());
        assert!(old.fits(4, 12) && !old.fits(2, 12));
        // Two layers of width 2: the features are 4 wide, and the encoder must be deep enough.
        let two = plain.clone().with_layers(&[3, 6]);
        assert!(two.fits(2, 6) && two.fits(2, 12));
        assert!(!two.fits(2, 5), "layer 6 missing");
        assert!(!two.fits(4, 12), "width");
        assert_eq!(SentimentHead::from_json(&two.to_json()), Ok(two.clone()));
        // Features not a whole number of layers wide are refused.
        let three = plain.with_layers(&[1, 2, 3]);
        assert!(matches!(
            SentimentHead::from_json(&three.to_json()),
            Err(HeadError::Shape(_))
        ));
    }
}

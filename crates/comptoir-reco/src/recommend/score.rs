//! The pure parts of a recommendation: the query vector (and how a negative comment steers
//! it), the similarity scale, availability, weights and the final score.
//!
//! **Steering.** The query is `q = normalize(c + p)`, with `c` the comment's embedding
//! and `p` the stored embedding of the product it is about: a positive or neutral comment
//! looks for products close to both. When the comment is negative (sentiment label
//! `negative`), everything it talks about — the product and the aspects it names — is what
//! the customer did not like, so the query is reversed: `q = −normalize(c + p)`. The
//! candidates are then the products of the same type *least* like the criticized product
//! and the criticism (same need, since the type is kept; different brand, model or
//! features). `explain` shows `steered_away: true` and the raw cosine to `c + p`.
//!
//! **Similarity** is the candidates' cosine to `q`, min-max scaled over the candidate set
//! to [0, 1] (1 for every candidate when they are all equal): e5 cosines bunch up in a
//! narrow band, and unscaled they would let availability alone decide.

#![allow(missing_docs)] // fields of plain data types, named for what they hold

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::embeddings::hashing::normalize;

/// Sentiment at or below which a comment counts as negative for steering (the label's
/// boundary when the classifier gives no label).
pub const NEGATIVE_BELOW: f32 = -0.25;

/// The weights of the final score (per organization; they must sum to 1).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Weights {
    pub similarity: f64,
    pub availability: f64,
    pub reputation: f64,
}

impl Default for Weights {
    fn default() -> Self {
        Weights {
            similarity: 0.6,
            availability: 0.25,
            reputation: 0.15,
        }
    }
}

impl Weights {
    /// `Err((field, reason))` unless every weight is finite, in [0, 1], and they sum to 1
    /// (within 1e-6).
    pub fn check(&self) -> Result<(), (String, String)> {
        for (name, w) in [
            ("similarity", self.similarity),
            ("availability", self.availability),
            ("reputation", self.reputation),
        ] {
            if !w.is_finite() || !(0.0..=1.0).contains(&w) {
                return Err((
                    format!("weights.{name}"),
                    "must be a number from 0 to 1".into(),
                ));
            }
        }
        let sum = self.sum();
        if (sum - 1.0).abs() > 1e-6 {
            return Err((
                "weights".into(),
                format!("must sum to 1 (they sum to {sum})"),
            ));
        }
        Ok(())
    }

    /// The sum of the weights.
    pub fn sum(&self) -> f64 {
        self.similarity + self.availability + self.reputation
    }
}

/// The query vector of a comment about a product, and whether it was reversed.
pub fn query_vector(
    comment: Option<&[f32]>,
    product: Option<&[f32]>,
    negative: bool,
) -> (Vec<f32>, bool) {
    let dim = comment.or(product).map_or(0, <[f32]>::len);
    let mut q = vec![0f32; dim];
    for v in [comment, product].into_iter().flatten() {
        if v.len() == dim {
            q.iter_mut().zip(v).for_each(|(a, b)| *a += b);
        }
    }
    normalize(&mut q);
    if negative {
        q.iter_mut().for_each(|x| *x = -*x);
    }
    (q, negative)
}

/// Min-max scaling to [0, 1]; all ones when the values are all equal.
pub fn min_max(values: &[f32]) -> Vec<f64> {
    let (lo, hi) = values
        .iter()
        .fold((f32::INFINITY, f32::NEG_INFINITY), |(lo, hi), v| {
            (lo.min(*v), hi.max(*v))
        });
    if !(hi - lo).is_finite() || hi - lo < 1e-9 {
        return vec![1.0; values.len()];
    }
    values
        .iter()
        .map(|v| f64::from((v - lo) / (hi - lo)))
        .collect()
}

/// Availability in [0, 1]: 1 sellable and in stock, 0.5 sellable later (on order,
/// pre-order, or available with nothing on hand), 0 discontinued.
pub fn availability(availability: &str, free_stock: i64) -> f64 {
    match availability {
        "available" if free_stock > 0 => 1.0,
        "available" | "on_order" | "preorder" => 0.5,
        _ => 0.0,
    }
}

/// The final score.
pub fn score(w: &Weights, similarity: f64, availability: f64, reputation: f64) -> f64 {
    w.similarity * similarity + w.availability * availability + w.reputation * reputation
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_weights_are_the_seeds_and_sum_to_one() {
        let w = Weights::default();
        assert_eq!(
            (w.similarity, w.availability, w.reputation),
            (0.6, 0.25, 0.15)
        );
        assert!(w.check().is_ok());
        let bad = Weights {
            similarity: 0.7,
            ..w
        };
        assert_eq!(bad.check().unwrap_err().0, "weights");
        let neg = Weights {
            similarity: 1.1,
            availability: -0.1,
            reputation: 0.0,
        };
        assert_eq!(neg.check().unwrap_err().0, "weights.similarity");
        let nan = Weights {
            reputation: f64::NAN,
            ..w
        };
        assert_eq!(nan.check().unwrap_err().0, "weights.reputation");
    }

    #[test]
    fn a_negative_comment_reverses_the_query() {
        let c = [1.0, 0.0, 0.0];
        let p = [0.0, 1.0, 0.0];
        let (pos, steered) = query_vector(Some(&c), Some(&p), false);
        assert!(!steered);
        let (neg, steered) = query_vector(Some(&c), Some(&p), true);
        assert!(steered);
        let same = [0.7f32, 0.7, 0.0];
        let other = [0.0f32, 0.0, 1.0];
        assert!(comptoir_ml::cosine(&pos, &same) > comptoir_ml::cosine(&pos, &other));
        assert!(comptoir_ml::cosine(&neg, &same) < comptoir_ml::cosine(&neg, &other));
        // Without a comment, the product alone.
        let (only, _) = query_vector(None, Some(&p), false);
        assert_eq!(only, vec![0.0, 1.0, 0.0]);
    }

    #[test]
    fn scaling_availability_and_score() {
        let scaled = min_max(&[0.8, 0.9, 1.0]);
        assert_eq!((scaled[0], scaled[2]), (0.0, 1.0));
        assert!((scaled[1] - 0.5).abs() < 1e-5);
        assert_eq!(min_max(&[0.5, 0.5]), vec![1.0, 1.0]);
        assert!(min_max(&[]).is_empty());
        assert_eq!(availability("available", 3), 1.0);
        assert_eq!(availability("available", 0), 0.5);
        assert_eq!(availability("preorder", 0), 0.5);
        assert_eq!(availability("discontinued", 9), 0.0);
        let s = score(&Weights::default(), 1.0, 1.0, 1.0);
        assert!((s - 1.0).abs() < 1e-12);
        assert!((score(&Weights::default(), 0.5, 0.0, 1.0) - 0.45).abs() < 1e-12);
    }
}

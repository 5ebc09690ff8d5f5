//! TOPSIS (phase 3): closeness of each alternative to the ideal one.
//!
//! Textbook method (Hwang & Yoon, 1981): each column is divided by its Euclidean norm,
//! multiplied by its weight; the ideal takes the best value of each column (max for a
//! benefit criterion, min for a cost), the anti-ideal the worst; the closeness is
//! D⁻ / (D⁺ + D⁻) with D⁺, D⁻ the Euclidean distances to the ideal and anti-ideal.

/// Whether more of a criterion is better or worse.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// More is better (reputation, capacity, vehicle suitability).
    Benefit,
    /// Less is better (distance).
    Cost,
}

/// Closeness coefficients in [0, 1] of `rows` (one per alternative, `K` criteria each),
/// in the order of `rows`.
///
/// Entries must be finite (the caller validates them). Two conventions cover cases where
/// the textbook divides by zero: a column of zeros has norm 0 and is left at 0 (it cannot
/// tell alternatives apart); an alternative at distance 0 from both the ideal and the
/// anti-ideal, which happens only when every alternative is identical on every weighted
/// criterion (e.g. a single candidate), gets 1: it is as good as the best available.
pub fn closeness<const K: usize>(
    rows: &[[f64; K]],
    weights: &[f64; K],
    directions: &[Direction; K],
) -> Vec<f64> {
    let mut norms = [0.0_f64; K];
    for row in rows {
        for (n, x) in norms.iter_mut().zip(row) {
            *n += x * x;
        }
    }
    // Scale factor per column: weight / norm, so that v = x × scale.
    let mut scale = [0.0_f64; K];
    for k in 0..K {
        let norm = norms[k].sqrt();
        scale[k] = if norm > 0.0 { weights[k] / norm } else { 0.0 };
    }
    let mut ideal = [0.0_f64; K];
    let mut anti = [0.0_f64; K];
    for k in 0..K {
        let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
        for row in rows {
            let v = row[k] * scale[k];
            lo = lo.min(v);
            hi = hi.max(v);
        }
        (ideal[k], anti[k]) = match directions[k] {
            Direction::Benefit => (hi, lo),
            Direction::Cost => (lo, hi),
        };
    }
    rows.iter()
        .map(|row| {
            let (mut plus, mut minus) = (0.0, 0.0);
            for k in 0..K {
                let v = row[k] * scale[k];
                plus += (v - ideal[k]).powi(2);
                minus += (v - anti[k]).powi(2);
            }
            let (plus, minus) = (plus.sqrt(), minus.sqrt());
            if plus + minus > 0.0 {
                (minus / (plus + minus)).clamp(0.0, 1.0)
            } else {
                1.0
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use Direction::{Benefit, Cost};

    #[test]
    fn dominant_alternative_scores_one_and_dominated_zero() {
        let rows = [[1.0, 9.0], [2.0, 5.0], [3.0, 1.0]];
        let c = closeness(&rows, &[0.5, 0.5], &[Cost, Benefit]);
        assert!((c[0] - 1.0).abs() < 1e-12 && c[2].abs() < 1e-12, "{c:?}");
        assert!(c[1] > 0.0 && c[1] < 1.0);
    }

    #[test]
    fn hand_computed_two_by_two() {
        // Norms: col0 = √(9+16) = 5, col1 = √(1+1) = √2. Weighted: a = (0.6·w0, w1/√2),
        // b = (0.8·w0, w1/√2); with w = (1, 0) and benefit: a is the anti-ideal.
        let c = closeness(&[[3.0, 1.0], [4.0, 1.0]], &[1.0, 0.0], &[Benefit, Benefit]);
        assert_eq!(c, vec![0.0, 1.0]);
    }

    #[test]
    fn degenerate_inputs_do_not_produce_nan() {
        assert_eq!(
            closeness(&[[0.0, 3.0]], &[0.5, 0.5], &[Cost, Benefit]),
            vec![1.0]
        );
        let c = closeness(&[[0.0, 1.0], [0.0, 2.0]], &[0.5, 0.5], &[Cost, Benefit]);
        assert_eq!(c, vec![0.0, 1.0]);
        assert!(closeness::<3>(&[], &[0.3; 3], &[Benefit; 3]).is_empty());
    }
}

//! Analytic Hierarchy Process (phase 2): criteria weights from a pairwise comparison matrix.
//!
//! Weights are the principal (Perron) eigenvector of the matrix, normalised to sum 1, as
//! Saaty defines them; λmax is its eigenvalue, CI = (λmax − n)/(n − 1) and CR = CI / RI with
//! Saaty's random index ([`SAATY_RANDOM_INDEX`]). A positive matrix has a simple dominant
//! eigenvalue, so power iteration converges; it needs no linear-algebra dependency and
//! reaches the eigenvector to ~1e-15.

use super::error::RankError;

/// Number of ranking criteria: proximité, réputation, capacité, type de véhicule.
pub const CRITERIA: usize = 4;

/// Saaty's random consistency index RI for n = 1..=10 (Saaty, *The Analytic Hierarchy
/// Process*, 1980), the table most AHP texts use. Larger matrices are not supported.
pub const SAATY_RANDOM_INDEX: [f64; 10] =
    [0.0, 0.0, 0.58, 0.90, 1.12, 1.24, 1.32, 1.41, 1.45, 1.49];

/// Relative tolerance on `a[i][j] × a[j][i] = 1`: users type 0.333 for 1/3.
const RECIPROCITY_TOLERANCE: f64 = 1e-2;
/// Power iteration stops when no weight moves by more than this.
const CONVERGENCE_EPS: f64 = 1e-15;
/// Safety net against a loop; positive matrices converge in a few dozen steps.
const MAX_ITERATIONS: usize = 10_000;

/// A validated pairwise comparison matrix: square, 1 ≤ n ≤ 10, entries finite and > 0, unit
/// diagonal, reciprocal within 1 %.
#[derive(Debug, Clone, PartialEq)]
pub struct PairwiseMatrix {
    n: usize,
    a: Vec<f64>,
}

impl PairwiseMatrix {
    /// Validates `rows`; `field` is the path of the matrix, used in errors
    /// (`<field>[i][j]`).
    pub fn parse(rows: &[Vec<f64>], field: &str) -> Result<Self, RankError> {
        let invalid = |field: String, reason: String| RankError::InvalidMatrix { field, reason };
        let n = rows.len();
        if n == 0 || n > SAATY_RANDOM_INDEX.len() {
            let reason = format!("size {n} not supported (1 to {})", SAATY_RANDOM_INDEX.len());
            return Err(invalid(field.to_owned(), reason));
        }
        for (i, row) in rows.iter().enumerate() {
            if row.len() != n {
                let reason = format!("row has {} entries, the matrix is {n}x{n}", row.len());
                return Err(invalid(format!("{field}[{i}]"), reason));
            }
            for (j, &x) in row.iter().enumerate() {
                if !(x.is_finite() && x > 0.0) {
                    return Err(invalid(
                        format!("{field}[{i}][{j}]"),
                        format!("{x} is not > 0"),
                    ));
                }
            }
        }
        for (i, row) in rows.iter().enumerate() {
            if row[i] != 1.0 {
                let reason = format!("diagonal entry is {}, must be 1", row[i]);
                return Err(invalid(format!("{field}[{i}][{i}]"), reason));
            }
            for (j, other) in rows.iter().enumerate().skip(i + 1) {
                if (row[j] * other[i] - 1.0).abs() > RECIPROCITY_TOLERANCE {
                    let reason = format!("{} is not the reciprocal of [{j}][{i}]", row[j]);
                    return Err(invalid(format!("{field}[{i}][{j}]"), reason));
                }
            }
        }
        Ok(Self {
            n,
            a: rows.concat(),
        })
    }

    /// Like [`parse`](Self::parse), and requires the [`CRITERIA`]×[`CRITERIA`] shape of the
    /// courier ranking.
    pub fn parse_criteria(rows: &[Vec<f64>], field: &str) -> Result<Self, RankError> {
        if rows.len() != CRITERIA {
            let reason = format!(
                "{CRITERIA}x{CRITERIA} expected (proximite, reputation, capacite, type_vehicule), \
                 got {} rows",
                rows.len()
            );
            return Err(RankError::InvalidMatrix {
                field: field.to_owned(),
                reason,
            });
        }
        Self::parse(rows, field)
    }

    /// Order of the matrix.
    pub fn size(&self) -> usize {
        self.n
    }

    fn mul(&self, w: &[f64], out: &mut [f64]) {
        for (i, o) in out.iter_mut().enumerate() {
            *o = self.a[i * self.n..(i + 1) * self.n]
                .iter()
                .zip(w)
                .map(|(a, w)| a * w)
                .sum();
        }
    }
}

/// Weights and consistency of a pairwise matrix.
#[derive(Debug, Clone, PartialEq)]
pub struct AhpWeights {
    /// Principal eigenvector, normalised to sum 1.
    pub weights: Vec<f64>,
    /// Principal eigenvalue (≥ n; = n for a perfectly consistent matrix).
    pub lambda_max: f64,
    /// Consistency index (λmax − n)/(n − 1), 0 for n = 1; clamped at 0 against rounding.
    pub ci: f64,
    /// Consistency ratio CI / RI; 0 for n ≤ 2, where every reciprocal matrix is consistent.
    pub cr: f64,
    /// Power iterations used.
    pub iterations: usize,
}

/// Computes the AHP weights of `m` by power iteration; `field` names the matrix in errors.
pub fn weights(m: &PairwiseMatrix, field: &str) -> Result<AhpWeights, RankError> {
    let n = m.n;
    // Start from the row geometric means, the exact answer for a consistent matrix and a
    // close one otherwise, so that few iterations are needed.
    let mut w: Vec<f64> = (0..n)
        .map(|i| m.a[i * n..(i + 1) * n].iter().map(|x| x.ln()).sum::<f64>() / n as f64)
        .map(f64::exp)
        .collect();
    normalise(&mut w);
    let mut next = vec![0.0; n];
    let mut iterations = 0;
    loop {
        m.mul(&w, &mut next);
        normalise(&mut next);
        iterations += 1;
        let moved = w
            .iter()
            .zip(&next)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f64::max);
        std::mem::swap(&mut w, &mut next);
        if moved <= CONVERGENCE_EPS {
            break;
        }
        // Rounding can make the last digits oscillate between two values; a step smaller
        // than 1e-13 after many iterations is converged for every practical purpose.
        if iterations >= MAX_ITERATIONS {
            if moved <= 1e-13 {
                break;
            }
            return Err(RankError::NotConverged {
                field: field.to_owned(),
            });
        }
    }
    m.mul(&w, &mut next);
    // Σ(Aw) = λ Σw = λ, since Σw = 1.
    let lambda_max: f64 = next.iter().sum();
    let ci = if n > 1 {
        ((lambda_max - n as f64) / (n as f64 - 1.0)).max(0.0)
    } else {
        0.0
    };
    let ri = SAATY_RANDOM_INDEX[n - 1];
    let cr = if ri > 0.0 { ci / ri } else { 0.0 };
    Ok(AhpWeights {
        weights: w,
        lambda_max,
        ci,
        cr,
        iterations,
    })
}

fn normalise(w: &mut [f64]) {
    let s: f64 = w.iter().sum();
    w.iter_mut().for_each(|x| *x /= s);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(rows: Vec<Vec<f64>>) -> PairwiseMatrix {
        PairwiseMatrix::parse(&rows, "m").expect("valid test matrix")
    }

    #[test]
    fn consistent_matrix_gives_exact_ratios_and_zero_cr() {
        let v = [0.5, 0.25, 0.15, 0.1];
        let rows = (0..4)
            .map(|i| (0..4).map(|j| v[i] / v[j]).collect())
            .collect();
        let r = weights(&parse(rows), "m").expect("converges");
        for (got, want) in r.weights.iter().zip(v) {
            assert!((got - want).abs() < 1e-12, "{got} vs {want}");
        }
        assert!((r.lambda_max - 4.0).abs() < 1e-12);
        assert!(r.cr.abs() < 1e-12);
    }

    #[test]
    fn saaty_textbook_example() {
        // Classic 3×3 example: weights ≈ (0.637, 0.258, 0.105), λmax ≈ 3.039, CR ≈ 0.033.
        let r = weights(
            &parse(vec![
                vec![1.0, 3.0, 5.0],
                vec![1.0 / 3.0, 1.0, 3.0],
                vec![1.0 / 5.0, 1.0 / 3.0, 1.0],
            ]),
            "m",
        )
        .expect("converges");
        let want = [0.6370, 0.2583, 0.1047];
        for (got, want) in r.weights.iter().zip(want) {
            assert!((got - want).abs() < 1e-3, "{got} vs {want}");
        }
        assert!((r.lambda_max - 3.0385).abs() < 1e-3, "{}", r.lambda_max);
        assert!((r.cr - 0.0332).abs() < 1e-3, "{}", r.cr);
    }

    #[test]
    fn eigen_equation_holds() {
        let m = parse(vec![
            vec![1.0, 9.0, 1.0 / 7.0, 2.0],
            vec![1.0 / 9.0, 1.0, 5.0, 1.0 / 3.0],
            vec![7.0, 1.0 / 5.0, 1.0, 4.0],
            vec![0.5, 3.0, 0.25, 1.0],
        ]);
        let r = weights(&m, "m").expect("converges");
        let mut aw = vec![0.0; 4];
        m.mul(&r.weights, &mut aw);
        for (x, w) in aw.iter().zip(&r.weights) {
            assert!((x - r.lambda_max * w).abs() < 1e-12);
        }
        assert!(r.cr > 0.1, "this matrix is wildly inconsistent: {}", r.cr);
    }
}

//! Tunables of the courier ranking, deserializable from the `[reco.couriers]`-style section
//! of our configuration file. Every field has a default, so a partial section is enough.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::ahp::{self, AhpWeights, PairwiseMatrix};
use super::error::RankError;

/// Configuration of [`super::rank`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RankingConfig {
    /// Ellipse tolerance per delivery type, in km. Its keys are the accepted
    /// `type_livraison` values.
    pub tolerance_km: BTreeMap<String, f64>,
    /// Default pairwise comparison matrix, rows and columns in the order proximité,
    /// réputation, capacité, type de véhicule (Saaty's 1–9 scale).
    pub ahp_matrix: Vec<Vec<f64>>,
    /// A matrix whose consistency ratio is at or above this value is rejected (Saaty: 0.1).
    pub max_consistency_ratio: f64,
    /// Vehicle suitability in [0, 1] per delivery type, then per vehicle type. Each
    /// delivery type of `tolerance_km` needs an entry.
    pub vehicle_suitability: BTreeMap<String, BTreeMap<String, f64>>,
    /// Upper bound of the reputation scale (the seed uses scores like 8.5 on 10).
    pub reputation_max: f64,
}

impl Default for RankingConfig {
    fn default() -> Self {
        let tolerance_km =
            [("standard", 10.0), ("express", 5.0), ("same_day", 3.0)].map(|(k, v)| (k.into(), v));
        // Proximity matters most, then reputation, capacity, vehicle: weights ≈ 0.546, 0.232,
        // 0.138, 0.084 with CR ≈ 0.019, close to the seed's example (0.54, 0.24, 0.13, 0.09).
        let ahp_matrix = vec![
            vec![1.0, 3.0, 4.0, 5.0],
            vec![1.0 / 3.0, 1.0, 2.0, 3.0],
            vec![1.0 / 4.0, 1.0 / 2.0, 1.0, 2.0],
            vec![1.0 / 5.0, 1.0 / 3.0, 1.0 / 2.0, 1.0],
        ];
        // Two-wheelers beat traffic (express), cars and vans carry more and keep a schedule
        // (standard, same day); a bicycle is always possible but rarely the best.
        let table = |rows: [(&str, f64); 5]| rows.map(|(k, v)| (k.to_owned(), v)).into();
        let vehicle_suitability = BTreeMap::from([
            (
                "standard".to_owned(),
                table([
                    ("velo", 0.4),
                    ("scooter", 0.6),
                    ("moto", 0.7),
                    ("voiture", 0.9),
                    ("camionnette", 1.0),
                ]),
            ),
            (
                "express".to_owned(),
                table([
                    ("velo", 0.6),
                    ("scooter", 0.9),
                    ("moto", 1.0),
                    ("voiture", 0.7),
                    ("camionnette", 0.5),
                ]),
            ),
            (
                "same_day".to_owned(),
                table([
                    ("velo", 0.5),
                    ("scooter", 0.7),
                    ("moto", 0.8),
                    ("voiture", 1.0),
                    ("camionnette", 0.9),
                ]),
            ),
        ]);
        Self {
            tolerance_km: BTreeMap::from(tolerance_km),
            ahp_matrix,
            max_consistency_ratio: 0.1,
            vehicle_suitability,
            reputation_max: 10.0,
        }
    }
}

impl RankingConfig {
    /// Checks the configuration; call it once at load time (ranking calls it too, so a bad
    /// configuration is an [`RankError::InvalidConfig`], never a panic).
    pub fn validate(&self) -> Result<(), RankError> {
        self.validated_weights().map(|_| ())
    }

    /// Validates the configuration and returns the weights of its AHP matrix, so that
    /// ranking does not compute them twice.
    pub(crate) fn validated_weights(&self) -> Result<AhpWeights, RankError> {
        let bad = |field: String, reason: &str| RankError::InvalidConfig {
            field: format!("config.{field}"),
            reason: reason.to_owned(),
        };
        if self.tolerance_km.is_empty() {
            return Err(bad("tolerance_km".into(), "no delivery type configured"));
        }
        for (kind, &tol) in &self.tolerance_km {
            if !(tol.is_finite() && tol >= 0.0) {
                return Err(bad(
                    format!("tolerance_km.{kind}"),
                    "must be finite and >= 0",
                ));
            }
            let Some(table) = self.vehicle_suitability.get(kind) else {
                return Err(bad(format!("vehicle_suitability.{kind}"), "missing table"));
            };
            for (vehicle, &score) in table {
                if !(0.0..=1.0).contains(&score) {
                    let field = format!("vehicle_suitability.{kind}.{vehicle}");
                    return Err(bad(field, "must be in [0, 1]"));
                }
            }
        }
        if !(self.max_consistency_ratio > 0.0 && self.max_consistency_ratio <= 1.0) {
            return Err(bad("max_consistency_ratio".into(), "must be in (0, 1]"));
        }
        if !(self.reputation_max.is_finite() && self.reputation_max > 0.0) {
            return Err(bad("reputation_max".into(), "must be finite and > 0"));
        }
        let as_config = |e: RankError| RankError::InvalidConfig {
            field: e.field().to_owned(),
            reason: e.to_string(),
        };
        let matrix = PairwiseMatrix::parse_criteria(&self.ahp_matrix, "config.ahp_matrix")
            .map_err(as_config)?;
        let ahp = ahp::weights(&matrix, "config.ahp_matrix").map_err(as_config)?;
        if ahp.cr >= self.max_consistency_ratio {
            let reason = format!("inconsistent comparisons, CR = {:.4}", ahp.cr);
            return Err(bad("ahp_matrix".into(), &reason));
        }
        Ok(ahp)
    }
}

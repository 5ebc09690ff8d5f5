//! The one error type of courier ranking, with stable machine codes for the HTTP layer.

use serde_json::{Value, json};

/// Why a ranking request could not be answered with a ranking.
///
/// Every variant has a stable [`code`](RankError::code) that clients may switch on and the
/// [`field`](RankError::field) at fault, a dotted path into the request JSON such as
/// `livreurs_candidats[3].position_actuelle.latitude` (`config.*` for the server's own
/// configuration). The HTTP layer maps them to `{code, message, details}`: everything is a
/// 4xx (422 for [`RankError::InconsistentWeights`]) except [`RankError::InvalidConfig`]
/// and [`RankError::NotConverged`], which are server faults.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RankError {
    /// The body is not JSON of the expected shape (syntax, missing or unknown field, type).
    #[error("malformed request at `{field}`: {reason}")]
    Malformed {
        /// Path of the offending value (empty when the error is at the top level).
        field: String,
        /// The parser's explanation.
        reason: String,
    },
    /// `livreurs_candidats` is empty: there is nobody to rank.
    #[error("no courier candidates were given")]
    NoCandidates,
    /// A number is NaN or infinite (only reachable from Rust callers: JSON has neither).
    #[error("`{field}` must be a finite number")]
    NotFinite {
        /// Path of the value.
        field: String,
    },
    /// A number lies outside its allowed range.
    #[error("`{field}` = {value} is outside [{min}, {max}]")]
    OutOfRange {
        /// Path of the value.
        field: String,
        /// The value received.
        value: f64,
        /// Smallest allowed value.
        min: f64,
        /// Largest allowed value.
        max: f64,
    },
    /// A required text (an id) is empty or blank.
    #[error("`{field}` must not be empty")]
    Empty {
        /// Path of the value.
        field: String,
    },
    /// Two candidates share a `livreur_id`.
    #[error("`{field}`: courier id {id:?} already given at livreurs_candidats[{first_index}]")]
    DuplicateCourier {
        /// Path of the second occurrence.
        field: String,
        /// The repeated id.
        id: String,
        /// Index of the first occurrence.
        first_index: usize,
    },
    /// `type_livraison` is not one of the configured delivery types.
    #[error("`{field}`: unknown delivery type {value:?} (known: {known:?})")]
    UnknownDeliveryType {
        /// Path of the value.
        field: String,
        /// The value received.
        value: String,
        /// The configured delivery types.
        known: Vec<String>,
    },
    /// `type_vehicule` has no suitability score for this delivery type.
    #[error("`{field}`: unknown vehicle type {value:?} (known: {known:?})")]
    UnknownVehicleType {
        /// Path of the value.
        field: String,
        /// The value received.
        value: String,
        /// The vehicle types configured for the delivery type.
        known: Vec<String>,
    },
    /// The pairwise comparison matrix is malformed (shape, non-positive or non-reciprocal
    /// entries, unsupported size).
    #[error("`{field}`: invalid pairwise matrix: {reason}")]
    InvalidMatrix {
        /// Path of the matrix or of the offending entry.
        field: String,
        /// What is wrong.
        reason: String,
    },
    /// The comparison matrix is too inconsistent (CR at or above the threshold): the
    /// weights it yields would be arbitrary. Maps to HTTP 422 carrying the CR.
    #[error("`{field}`: inconsistent comparisons, CR = {cr:.4} >= {threshold}")]
    InconsistentWeights {
        /// Path of the matrix (`matrice_ahp` or `config.ahp_matrix`).
        field: String,
        /// Consistency ratio found.
        cr: f64,
        /// Largest accepted CR (exclusive).
        threshold: f64,
    },
    /// The principal eigenvector did not converge (never seen for positive matrices; kept
    /// so that a pathological input yields an error instead of a loop or a panic).
    #[error("`{field}`: eigenvector iteration did not converge")]
    NotConverged {
        /// Path of the matrix.
        field: String,
    },
    /// The server configuration is invalid.
    #[error("invalid ranking configuration at `{field}`: {reason}")]
    InvalidConfig {
        /// Path inside the configuration, prefixed by `config.`.
        field: String,
        /// What is wrong.
        reason: String,
    },
}

impl RankError {
    /// Stable machine code, part of the API contract.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Malformed { .. } => "malformed_request",
            Self::NoCandidates => "no_candidates",
            Self::NotFinite { .. } | Self::OutOfRange { .. } | Self::Empty { .. } => {
                "validation_failed"
            }
            Self::DuplicateCourier { .. } => "duplicate_courier",
            Self::UnknownDeliveryType { .. } => "unknown_delivery_type",
            Self::UnknownVehicleType { .. } => "unknown_vehicle_type",
            Self::InvalidMatrix { .. } => "invalid_matrix",
            Self::InconsistentWeights { .. } => "inconsistent_weights",
            Self::NotConverged { .. } => "ahp_not_converged",
            Self::InvalidConfig { .. } => "invalid_config",
        }
    }

    /// Path of the value at fault in the request (or `config.*`).
    pub fn field(&self) -> &str {
        match self {
            Self::NoCandidates => "livreurs_candidats",
            Self::Malformed { field, .. }
            | Self::NotFinite { field }
            | Self::OutOfRange { field, .. }
            | Self::Empty { field }
            | Self::DuplicateCourier { field, .. }
            | Self::UnknownDeliveryType { field, .. }
            | Self::UnknownVehicleType { field, .. }
            | Self::InvalidMatrix { field, .. }
            | Self::InconsistentWeights { field, .. }
            | Self::NotConverged { field }
            | Self::InvalidConfig { field, .. } => field,
        }
    }

    /// Machine-readable details for the `details` member of an error response.
    pub fn details(&self) -> Value {
        let mut details = json!({ "field": self.field() });
        let extra = match self {
            Self::OutOfRange {
                value, min, max, ..
            } => {
                json!({ "value": value, "min": min, "max": max })
            }
            Self::DuplicateCourier {
                id, first_index, ..
            } => {
                json!({ "livreur_id": id, "first_index": first_index })
            }
            Self::UnknownDeliveryType { value, known, .. }
            | Self::UnknownVehicleType { value, known, .. } => {
                json!({ "value": value, "known": known })
            }
            Self::InconsistentWeights { cr, threshold, .. } => {
                json!({ "CR": cr, "threshold": threshold })
            }
            _ => return details,
        };
        if let (Some(map), Value::Object(extra)) = (details.as_object_mut(), extra) {
            map.extend(extra);
        }
        details
    }
}

/// Checks that `value` is finite and within `[min, max]`. The path is built only on
/// failure: validation runs once per candidate and must stay cheap for 10,000 of them.
pub(crate) fn check_range(
    value: f64,
    min: f64,
    max: f64,
    field: impl FnOnce() -> String,
) -> Result<f64, RankError> {
    if !value.is_finite() {
        return Err(RankError::NotFinite { field: field() });
    }
    if value < min || value > max {
        return Err(RankError::OutOfRange {
            field: field(),
            value,
            min,
            max,
        });
    }
    Ok(value)
}

//! Request and response of `POST /api/v1/livreurs/rank`, with the seed's French field
//! names, and the parsing of a request into validated types ("parse, don't validate").
//!
//! Two optional request fields extend the seed (absent means seed behaviour):
//! `annonce.poids_colis_kg` (parcel weight, checked against each courier's capacity) and
//! `matrice_ahp` (a per-request pairwise matrix overriding the configured one). The response
//! adds `raison` when the ranking is empty and two counters to `statistiques_filtrage`.

use std::collections::HashMap;

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize, Serializer};
use utoipa::ToSchema;

use super::ahp::PairwiseMatrix;
use super::config::RankingConfig;
use super::error::{RankError, check_range};

/// Largest accepted weight or capacity, in kg (a road train carries ~60 t). Bounding it
/// keeps squares in TOPSIS's column norms far from overflow.
pub const MAX_KG: f64 = 1_000_000.0;

/// Body of a ranking request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({
    "annonce": {
        "annonce_id": "ANN-2024-001",
        "type_livraison": "express",
        "point_ramassage": {"latitude": 48.8566, "longitude": 2.3522},
        "point_livraison": {"latitude": 48.8738, "longitude": 2.2950}
    },
    "livreurs_candidats": [
        {"livreur_id": "LIV-001", "position_actuelle": {"latitude": 48.8606, "longitude": 2.3376},
         "reputation": 8.5, "capacite_max_kg": 30, "type_vehicule": "moto"},
        {"livreur_id": "LIV-002", "position_actuelle": {"latitude": 48.8556, "longitude": 2.3486},
         "reputation": 9.0, "capacite_max_kg": 50, "type_vehicule": "voiture"}
    ]
}))]
#[serde(deny_unknown_fields)]
pub struct RankRequest {
    /// The delivery to staff.
    pub annonce: Annonce,
    /// Couriers to rank; ids must be unique.
    pub livreurs_candidats: Vec<LivreurCandidat>,
    /// Optional pairwise comparison matrix overriding the configured one; rows and columns
    /// in the order proximité, réputation, capacité, type de véhicule.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub matrice_ahp: Option<Vec<Vec<f64>>>,
}

/// A delivery announcement.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Annonce {
    /// Caller's id of the announcement, echoed in the response.
    pub annonce_id: String,
    /// Delivery type, one of the configured ones (`standard`, `express`, `same_day`).
    pub type_livraison: String,
    /// Where the parcel is picked up.
    pub point_ramassage: Position,
    /// Where the parcel is delivered.
    pub point_livraison: Position,
    /// Parcel weight in kg, in [0, [`MAX_KG`]]; couriers whose capacity is lower are not
    /// eligible.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub poids_colis_kg: Option<f64>,
}

/// A point in decimal degrees (WGS 84).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Position {
    /// Latitude in degrees, in [-90, 90].
    pub latitude: f64,
    /// Longitude in degrees, in [-180, 180].
    pub longitude: f64,
}

/// A courier who could take the delivery.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LivreurCandidat {
    /// Courier id, unique within the request.
    pub livreur_id: String,
    /// Where the courier is now.
    pub position_actuelle: Position,
    /// Reputation score, in [0, `reputation_max`] (10 by default).
    pub reputation: f64,
    /// Largest load the courier can carry, in kg, in [0, [`MAX_KG`]].
    pub capacite_max_kg: f64,
    /// Vehicle type, a key of the configured suitability table.
    pub type_vehicule: String,
}

impl RankRequest {
    /// Parses a JSON body, reporting the path of the first offending value.
    pub fn from_json(body: &[u8]) -> Result<Self, RankError> {
        let mut de = serde_json::Deserializer::from_slice(body);
        serde_path_to_error::deserialize(&mut de).map_err(|e| {
            let path = e.path().to_string();
            RankError::Malformed {
                field: if path == "." { String::new() } else { path },
                reason: e.into_inner().to_string(),
            }
        })
    }
}

/// Result of a ranking.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct RankResponse {
    /// Always `"success"`: failures are [`RankError`]s.
    #[schema(value_type = String, example = "success")]
    pub status: &'static str,
    /// Echo of `annonce.annonce_id`.
    pub annonce_id: String,
    /// When the ranking was computed (RFC 3339, UTC, seconds).
    #[serde(serialize_with = "rfc3339_seconds")]
    #[schema(value_type = String, format = DateTime)]
    pub timestamp: DateTime<Utc>,
    /// Eligible couriers, best first.
    pub livreurs_classes: Vec<LivreurClasse>,
    /// Why `livreurs_classes` is empty; absent otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub raison: Option<RaisonClassementVide>,
    /// How the ranking was obtained.
    pub metadata: Metadata,
}

/// Why a ranking is empty.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RaisonClassementVide {
    /// Every candidate was outside the zone or lacked capacity.
    AucunLivreurEligible,
}

/// One ranked courier.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct LivreurClasse {
    /// 1-based rank.
    pub rang: usize,
    /// The courier's id.
    pub livreur_id: String,
    /// TOPSIS closeness in [0, 1], 1 being the ideal courier (not rounded).
    pub score_final: f64,
}

/// Ranking metadata.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Metadata {
    /// Echo of the delivery type.
    pub type_livraison: String,
    /// Tolerance used by the spatial filter, in km.
    pub tolerance_spatiale_km: f64,
    /// Filtering counts.
    pub statistiques_filtrage: StatistiquesFiltrage,
    /// Criteria weights and their consistency.
    pub poids_ahp: PoidsAhp,
    /// Time spent ranking, in milliseconds (fractional: a ranking often takes < 1 ms).
    pub duree_traitement_ms: f64,
}

/// Filtering counts; `candidats_rejetes = rejetes_hors_zone + rejetes_capacite`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
pub struct StatistiquesFiltrage {
    /// Number of candidates received.
    pub total_candidats: usize,
    /// Number ranked.
    pub candidats_eligibles: usize,
    /// Number not ranked.
    pub candidats_rejetes: usize,
    /// Rejected because outside the ellipse.
    pub rejetes_hors_zone: usize,
    /// Rejected because their capacity is below the parcel weight (checked first).
    pub rejetes_capacite: usize,
}

/// AHP weights of the four criteria.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, ToSchema)]
pub struct PoidsAhp {
    /// Weight of proximity (distance to the pickup point).
    pub proximite_geographique: f64,
    /// Weight of reputation.
    pub reputation: f64,
    /// Weight of capacity.
    pub capacite: f64,
    /// Weight of vehicle suitability.
    pub type_vehicule: f64,
    /// Consistency ratio CI / RI (Saaty's RI).
    #[serde(rename = "CR")]
    pub cr: f64,
    /// CR below the configured threshold (always true in a response: otherwise the request
    /// fails with [`RankError::InconsistentWeights`]).
    pub est_coherent: bool,
}

fn rfc3339_seconds<S: Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&t.to_rfc3339_opts(SecondsFormat::Secs, true))
}

/// A validated WGS 84 position.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Coordinates {
    latitude: f64,
    longitude: f64,
}

impl Coordinates {
    /// Validates latitude in [-90, 90] and longitude in [-180, 180]; `field` is the path of
    /// the position, used in errors (`<field>.latitude`).
    pub fn new(latitude: f64, longitude: f64, field: &str) -> Result<Self, RankError> {
        Self::parse_at(latitude, longitude, || field.to_owned())
    }

    /// [`new`](Self::new) with the path of the position built only on failure.
    pub(crate) fn parse_at(
        latitude: f64,
        longitude: f64,
        field: impl Fn() -> String,
    ) -> Result<Self, RankError> {
        let latitude = check_range(latitude, -90.0, 90.0, || format!("{}.latitude", field()))?;
        let longitude = check_range(longitude, -180.0, 180.0, || {
            format!("{}.longitude", field())
        })?;
        Ok(Self {
            latitude,
            longitude,
        })
    }

    /// Latitude in degrees.
    pub fn latitude(self) -> f64 {
        self.latitude
    }

    /// Longitude in degrees.
    pub fn longitude(self) -> f64 {
        self.longitude
    }
}

/// A non-blank courier id.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CourierId(String);

impl CourierId {
    /// Rejects blank ids.
    pub fn parse(raw: String, field: &str) -> Result<Self, RankError> {
        if raw.trim().is_empty() {
            return Err(RankError::Empty {
                field: field.to_owned(),
            });
        }
        Ok(Self(raw))
    }

    /// The id as given.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A validated candidate, its vehicle already scored for the delivery type.
#[derive(Debug, Clone, PartialEq)]
pub struct Courier {
    /// Unique id.
    pub id: CourierId,
    /// Current position.
    pub position: Coordinates,
    /// Reputation in [0, reputation_max].
    pub reputation: f64,
    /// Capacity in kg, ≥ 0.
    pub capacity_kg: f64,
    /// Vehicle suitability for the delivery type, from the configuration.
    pub vehicle_score: f64,
}

/// A request that passed every check, ready for [`super::service`].
#[derive(Debug, Clone, PartialEq)]
pub struct ValidRequest {
    /// Echo of `annonce.annonce_id`.
    pub annonce_id: String,
    /// A configured delivery type.
    pub delivery_type: String,
    /// Ellipse tolerance for that type, in km.
    pub tolerance_km: f64,
    /// Pickup point.
    pub pickup: Coordinates,
    /// Delivery point.
    pub delivery: Coordinates,
    /// Parcel weight, ≥ 0, when given.
    pub parcel_kg: Option<f64>,
    /// Candidates, in request order, ids unique.
    pub couriers: Vec<Courier>,
    /// The per-request matrix, when given (validated, 4×4).
    pub ahp_matrix: Option<PairwiseMatrix>,
}

impl RankRequest {
    /// Checks everything the ranking relies on, against a validated configuration.
    pub fn validate(self, config: &RankingConfig) -> Result<ValidRequest, RankError> {
        let a = self.annonce;
        if a.annonce_id.trim().is_empty() {
            return Err(RankError::Empty {
                field: "annonce.annonce_id".into(),
            });
        }
        let Some(&tolerance_km) = config.tolerance_km.get(&a.type_livraison) else {
            return Err(RankError::UnknownDeliveryType {
                field: "annonce.type_livraison".into(),
                value: a.type_livraison,
                known: config.tolerance_km.keys().cloned().collect(),
            });
        };
        let p = a.point_ramassage;
        let pickup = Coordinates::new(p.latitude, p.longitude, "annonce.point_ramassage")?;
        let d = a.point_livraison;
        let delivery = Coordinates::new(d.latitude, d.longitude, "annonce.point_livraison")?;
        let parcel_kg = match a.poids_colis_kg {
            Some(w) => Some(check_range(w, 0.0, MAX_KG, || {
                "annonce.poids_colis_kg".into()
            })?),
            None => None,
        };
        if self.livreurs_candidats.is_empty() {
            return Err(RankError::NoCandidates);
        }
        let suitability = config.vehicle_suitability.get(&a.type_livraison);
        let at = |i: usize, leaf: &str| format!("livreurs_candidats[{i}].{leaf}");
        // Duplicates first, on borrowed ids, so that the loop below can move the strings.
        let mut first_seen = HashMap::with_capacity(self.livreurs_candidats.len());
        for (i, c) in self.livreurs_candidats.iter().enumerate() {
            if let Some(&first_index) = first_seen.get(c.livreur_id.as_str()) {
                let id = c.livreur_id.clone();
                return Err(RankError::DuplicateCourier {
                    field: at(i, "livreur_id"),
                    id,
                    first_index,
                });
            }
            first_seen.insert(c.livreur_id.as_str(), i);
        }
        drop(first_seen);
        let mut couriers = Vec::with_capacity(self.livreurs_candidats.len());
        for (i, c) in self.livreurs_candidats.into_iter().enumerate() {
            if c.livreur_id.trim().is_empty() {
                return Err(RankError::Empty {
                    field: at(i, "livreur_id"),
                });
            }
            let pos = c.position_actuelle;
            let position =
                Coordinates::parse_at(pos.latitude, pos.longitude, || at(i, "position_actuelle"))?;
            let reputation = check_range(c.reputation, 0.0, config.reputation_max, || {
                at(i, "reputation")
            })?;
            let capacity_kg =
                check_range(c.capacite_max_kg, 0.0, MAX_KG, || at(i, "capacite_max_kg"))?;
            let Some(&vehicle_score) = suitability.and_then(|s| s.get(&c.type_vehicule)) else {
                return Err(RankError::UnknownVehicleType {
                    field: at(i, "type_vehicule"),
                    value: c.type_vehicule,
                    known: suitability
                        .map(|s| s.keys().cloned().collect())
                        .unwrap_or_default(),
                });
            };
            let id = CourierId(c.livreur_id);
            couriers.push(Courier {
                id,
                position,
                reputation,
                capacity_kg,
                vehicle_score,
            });
        }
        let ahp_matrix = match self.matrice_ahp {
            Some(rows) => Some(PairwiseMatrix::parse_criteria(&rows, "matrice_ahp")?),
            None => None,
        };
        Ok(ValidRequest {
            annonce_id: a.annonce_id,
            delivery_type: a.type_livraison,
            tolerance_km,
            pickup,
            delivery,
            parcel_kg,
            couriers,
            ahp_matrix,
        })
    }
}

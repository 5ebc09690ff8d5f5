//! Courier ranking for a delivery announcement ("annonce"), in three phases:
//!
//! 1. [`geo`]: spatial filter, an ellipse whose foci are the pickup and delivery points;
//! 2. [`ahp`]: criteria weights from a pairwise comparison matrix, with a consistency check;
//! 3. [`topsis`]: closeness of each eligible courier to the ideal one.
//!
//! [`service::rank`] runs the three phases over a validated request ([`model`]).
//!
//! Choices the seed left open, in one place:
//! - criteria, in AHP matrix order: distance courier → pickup in km (cost), reputation
//!   (benefit, 0 to 10), capacity in kg (benefit), vehicle suitability for the delivery
//!   type from [`RankingConfig::vehicle_suitability`] (benefit, 0 to 1);
//! - capacity below the parcel weight is checked before the zone, and each rejected
//!   courier is counted once, under its first failing reason;
//! - CR uses Saaty's random index; CR ≥ `max_consistency_ratio` (0.1) is an error, so
//!   `est_coherent` is always true in a response;
//! - scores are not rounded; ties keep the request order;
//! - an empty candidate list is an error (`no_candidates`), while a list where nobody is
//!   eligible is an empty ranking with `raison: "aucun_livreur_eligible"`.

pub mod ahp;
pub mod config;
pub mod error;
pub mod geo;
pub mod model;
pub mod service;
pub mod topsis;

pub use config::RankingConfig;
pub use error::RankError;
pub use model::{RankRequest, RankResponse};
pub use service::rank;

//! Courier ranking for a delivery announcement ("annonce"), in three phases:
//!
//! 1. [`geo`]: spatial filter, an ellipse whose foci are the pickup and delivery points;
//! 2. [`ahp`]: criteria weights from a pairwise comparison matrix, with a consistency check;
//! 3. [`topsis`]: closeness of each eligible courier to the ideal one.
//!
//! [`service::rank`] runs the three phases over a validated request ([`model`]).

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

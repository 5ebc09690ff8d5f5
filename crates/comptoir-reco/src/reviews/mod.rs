//! Reviews: storage and validation ([`service`]), sentiment scoring and per-product
//! aggregates ([`stats`]), CSV import ([`import`]), HTTP ([`api`]).

pub mod api;
pub mod import;
pub mod model;
pub mod service;
pub mod stats;

pub use model::*;

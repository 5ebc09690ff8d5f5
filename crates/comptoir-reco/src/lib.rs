//! Slice E of Comptoir: reviews, recommendations and courier ranking.
//!
//! For now this crate holds the pure courier-ranking core ([`couriers`]): no HTTP, no
//! storage. The HTTP layer (`POST /api/v1/livreurs/rank`) will parse the body into
//! [`couriers::RankRequest`], call [`couriers::rank`] and map [`couriers::RankError`] to
//! `{code, message, details}` responses.

#![warn(missing_docs)]

pub mod couriers;

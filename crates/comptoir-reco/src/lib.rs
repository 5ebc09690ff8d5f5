//! Slice E of Comptoir: reviews, recommendations and courier ranking.
//!
//! - [`couriers`]: the pure courier-ranking core (ellipse filter, AHP, TOPSIS), no HTTP, no
//!   storage;
//! - [`api`]: `POST /api/v1/livreurs/rank` and `GET /api/v1/livreurs/health`, mapping
//!   [`couriers::RankError`] to the kernel's `{code, message, details}` errors.
//!
//! The application wires the slice with [`router`], registers the ranking configuration
//! ([`api::ranking_config_from`]) in its state and [`api::RankingHealth`] as a health check.

#![warn(missing_docs)]

pub mod api;
pub mod couriers;

use comptoir_kernel::AppState;
use utoipa_axum::router::OpenApiRouter;

/// The slice's API routes (with their OpenAPI), for the application's `api()`.
pub fn router() -> OpenApiRouter<AppState> {
    api::router()
}

//! The kernel every Comptoir slice builds on: configuration, errors, storage, tenancy,
//! authentication, secrets, health and HTTP plumbing.

pub mod alerts;
pub mod audit;
pub mod auth;
pub mod cache;
pub mod config;
pub mod db;
pub mod entities;
pub mod error;
pub mod health;
pub mod http;
pub mod ids;
pub mod jobs;
pub mod metrics;
pub mod progress;
pub mod ratelimit;
pub mod secrets;
pub mod state;
pub mod telemetry;
pub mod tenancy;
pub mod validate;

pub use error::{AppError, AppResult, ErrorCode};
pub use state::AppState;

use utoipa_axum::router::OpenApiRouter;

/// The kernel's own API routes (auth, me, API keys, members, audit, health).
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .merge(auth::api::router())
        .merge(tenancy::api::router())
        .merge(health::router())
        .merge(jobs::api::router())
}

//! Slice E of Comptoir: reviews, recommendations and courier ranking.
//!
//! - [`reviews`]: reviews (API, CSV import), their sentiment (computed by a job, stored),
//!   per-product aggregates and reputation;
//! - [`sentiment_api`]: `POST /api/v1/sentiment`;
//! - [`embeddings`]: product embeddings, stored, and the in-memory index;
//! - [`recommend`]: `POST /api/v1/recommendations` (and `/async`), with per-organization
//!   weights and a cache;
//! - [`couriers`]: the pure courier-ranking core (ellipse filter, AHP, TOPSIS), no HTTP, no
//!   storage; [`api`]: `POST /api/v1/livreurs/rank` and `GET /api/v1/livreurs/health`;
//! - [`jobs`]: the background work; [`ui`]: the review analytics page.
//!
//! The application wires the slice with [`router`], [`pages`], [`migrations`],
//! [`jobs::register`], registers the ranking configuration ([`api::ranking_config_from`]),
//! [`api::RankingHealth`], and the [`Runtime`] extensions ([`runtime`]).

#![warn(missing_docs)]

pub mod api;
pub mod cli;
pub mod couriers;
pub mod embeddings;
#[allow(missing_docs)] // table rows, documented in the migration
pub mod entities;
pub mod jobs;
mod migrations;
pub mod recommend;
pub mod reviews;
pub mod sentiment_api;
mod ui;

use axum::Router;
use comptoir_kernel::AppState;
use comptoir_kernel::state::AppStateBuilder;
use sea_orm_migration::MigrationTrait;
use utoipa_axum::router::OpenApiRouter;

/// The slice's API routes (with their OpenAPI), for the application's `api()`.
pub fn router() -> OpenApiRouter<AppState> {
    api::router()
        .merge(reviews::api::router())
        .merge(sentiment_api::router())
        .merge(recommend::api::router())
}

/// The slice's web pages (`/reviews`).
pub fn pages() -> Router<AppState> {
    ui::router()
}

/// The slice's migrations, in order (after the catalog's).
pub fn migrations() -> Vec<Box<dyn MigrationTrait>> {
    migrations::migrations()
}

/// Registers the slice's in-process services: the product index and the answer cache.
pub fn runtime(builder: AppStateBuilder) -> AppStateBuilder {
    builder
        .extension(embeddings::ProductIndex::default())
        .extension(recommend::RecoCache::default())
}

/// Loads the stored product vectors into the index, in the background.
pub fn warm(state: &AppState) {
    tokio::spawn(embeddings::index::warm(state.clone()));
}

//! The order pipeline (PRODUCT.md F, seed 4): `POST /api/v1/orders` stores the order and
//! its job in one transaction (202, `Idempotency-Key`), workers of the kernel's queue
//! process orders in batches (validation → all-or-nothing reservation through the
//! catalog's primitives → confirmation), every change goes through the state machine of
//! [`state`] and is stored with its history row and outbox event, transitions through the
//! API release or commit the reservation, and optional connectors export to external
//! systems.

mod api;
pub mod connectors;
pub mod entities;
pub mod intake;
pub mod jobs;
mod migrations;
pub mod model;
pub mod outbox;
pub mod pipeline;
pub mod queries;
pub mod scope;
pub mod state;
mod store;
pub mod transitions;
mod ui;

use axum::Router;
use comptoir_kernel::AppState;
use sea_orm_migration::MigrationTrait;
use utoipa_axum::router::OpenApiRouter;

pub use jobs::Pipeline;

/// The orders API (`/api/v1/orders...`).
pub fn router() -> OpenApiRouter<AppState> {
    api::router()
}

/// The order pages (`/orders...`).
pub fn pages() -> Router<AppState> {
    ui::router()
}

/// The order slice's migrations, in order (after the catalog's).
pub fn migrations() -> Vec<Box<dyn MigrationTrait>> {
    migrations::migrations()
}

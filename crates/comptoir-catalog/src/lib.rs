//! Catalog and stock, the slice every other one builds on: products (typed attributes per
//! product type), categories (a tree), brands, locations (warehouses and stores), stock
//! levels with a movement ledger, the reservation primitives of the order pipeline, CSV
//! import/export, web pages and demo data.
//!
//! Other slices use [`service`] (e.g. `service::reserve`), never the tables.

mod api;
mod csv_columns;
pub mod csv_lines;
pub mod demo;
pub mod entities;
pub mod import;
mod import_row;
pub mod jobs;
mod migrations;
pub mod model;
pub mod products;
mod reports;
pub mod reservations;
pub mod service;
pub mod stock;
mod store;
mod ui;
pub mod views;

use axum::Router;
use comptoir_kernel::AppState;
use sea_orm_migration::MigrationTrait;
use utoipa_axum::router::OpenApiRouter;

pub use api::{CsvBody, IMPORT_BODY_LIMIT};

/// The catalog API (`/api/v1/catalog/...`).
pub fn router() -> OpenApiRouter<AppState> {
    api::router()
}

/// The catalog's web pages (`/catalog/...`).
pub fn pages() -> Router<AppState> {
    ui::router()
}

/// The catalog's migrations, in order (after the kernel's).
pub fn migrations() -> Vec<Box<dyn MigrationTrait>> {
    migrations::migrations()
}

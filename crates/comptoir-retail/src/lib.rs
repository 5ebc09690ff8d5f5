//! Retail performance management (PRODUCT.md D): regions, stores (catalog locations of
//! kind `store`) with revenue targets, customers, sales and sale lines; the sales import
//! (CSV/XLSX, as a job); rollups kept by the import; the role-scoped dashboard, the what-if
//! simulator with saved scenarios and a forecast baseline, and their web pages; monthly
//! consolidation reports (PDF/XLSX, as a job, on a schedule); the demo chain.
//!
//! Every query starts from [`scope::visible_stores`]: directors, analysts, owners and
//! admins see the chain, a regional manager their region, a store manager their store.

mod api;
pub mod dashboard;
pub mod demo;
pub mod entities;
pub mod forecast;
pub mod import;
pub mod jobs;
mod migrations;
pub mod model;
pub mod reports;
pub mod rollup;
pub mod scenarios;
pub mod scope;
pub mod setup;
mod ui;
pub mod whatif;

use axum::Router;
use comptoir_kernel::AppState;
use sea_orm_migration::MigrationTrait;
use utoipa_axum::router::OpenApiRouter;

/// The retail API (`/api/v1/retail/...`).
pub fn router() -> OpenApiRouter<AppState> {
    api::router()
}

/// The retail pages (`/retail`, `/retail/whatif`).
pub fn pages() -> Router<AppState> {
    ui::router()
}

/// The retail migrations, in order (after the catalog's).
pub fn migrations() -> Vec<Box<dyn MigrationTrait>> {
    migrations::migrations()
}

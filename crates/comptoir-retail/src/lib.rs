//! Retail performance management (PRODUCT.md D): regions, stores (catalog locations of
//! kind `store`) with revenue targets, customers, sales and sale lines; the sales import
//! (CSV/XLSX, as a job); rollups kept by the import; the role-scoped dashboard.
//!
//! Every query starts from [`scope::visible_stores`]: directors, analysts, owners and
//! admins see the chain, a regional manager their region, a store manager their store.

mod api;
pub mod dashboard;
pub mod entities;
pub mod import;
pub mod jobs;
mod migrations;
pub mod model;
pub mod rollup;
pub mod scope;
pub mod setup;
pub mod whatif;

use comptoir_kernel::AppState;
use sea_orm_migration::MigrationTrait;
use utoipa_axum::router::OpenApiRouter;

/// The retail API (`/api/v1/retail/...`).
pub fn router() -> OpenApiRouter<AppState> {
    api::router()
}

/// The retail migrations, in order (after the catalog's).
pub fn migrations() -> Vec<Box<dyn MigrationTrait>> {
    migrations::migrations()
}

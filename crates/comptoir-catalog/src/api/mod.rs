//! `/api/v1/catalog/...`: handlers with their OpenAPI description. Handlers only extract
//! and call the service; tenancy and roles are enforced there.

mod imports;
mod products;
mod reference;
mod stock;

use axum::extract::DefaultBodyLimit;
use comptoir_kernel::AppState;
use utoipa_axum::router::OpenApiRouter;

pub use imports::CsvBody;

/// Largest CSV upload (the global body limit stays small for everything else).
pub const IMPORT_BODY_LIMIT: usize = 64 * 1024 * 1024;

/// The catalog API routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .merge(products::router())
        .merge(reference::router())
        .merge(stock::router())
        .merge(imports::upload_router().layer(DefaultBodyLimit::max(IMPORT_BODY_LIMIT)))
        .merge(imports::router())
}

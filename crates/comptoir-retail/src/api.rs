//! `/api/v1/retail/...`: handlers with their OpenAPI description. Handlers extract and call
//! the services; tenancy, roles and region/store scoping are enforced there.

use std::collections::HashMap;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, FromRequest, Request, State};
use axum::http::header::CONTENT_TYPE;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use comptoir_kernel::auth::{Caller, Permission};
use comptoir_kernel::error::ErrorBody;
use comptoir_kernel::http::{ApiJson, ApiPath, ApiQuery};
use comptoir_kernel::{AppError, AppResult, AppState, ErrorCode};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::dashboard::{self, CsvPart, Dashboard, DashboardQuery};
use crate::forecast::api as fc;
use crate::import::{self, SalesImport, SalesImportOptions};
use crate::model::*;
use crate::scenarios::api as sc;
use crate::{rollup, setup};

/// The retail API routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_regions, create_region))
        .routes(routes!(get_region, update_region))
        .routes(routes!(list_stores, create_store))
        .routes(routes!(get_store, update_store))
        .routes(routes!(get_targets, put_targets))
        .merge(
            OpenApiRouter::new()
                .routes(routes!(list_imports, create_import))
                .layer(DefaultBodyLimit::max(comptoir_catalog::IMPORT_BODY_LIMIT)),
        )
        .routes(routes!(get_import))
        .routes(routes!(import_rejected))
        .routes(routes!(list_mappings, put_mapping))
        .routes(routes!(get_dashboard))
        .routes(routes!(get_dashboard_csv))
        .routes(routes!(rebuild_rollups))
        .routes(routes!(run_whatif))
        // Saved, versioned scenarios and the forecast baseline.
        .routes(routes!(sc::list_scenarios, sc::create_scenario))
        .routes(routes!(sc::compare_scenarios))
        .routes(routes!(
            sc::get_scenario,
            sc::update_scenario,
            sc::delete_scenario
        ))
        .routes(routes!(sc::run_scenario))
        .routes(routes!(fc::get_forecast))
        .routes(routes!(fc::get_backtest))
        // Monthly consolidation reports and their schedules (`crate::reports`).
        .merge(crate::reports::api::router())
}

// ---- regions and stores ------------------------------------------------------------

/// Regions the caller sees.
#[utoipa::path(get, path = "/api/v1/retail/regions", tag = "retail",
    security(("bearer" = []), ("api_key" = [])),
    responses((status = 200, body = Vec<Region>), (status = 403, body = ErrorBody)))]
async fn list_regions(State(s): State<AppState>, caller: Caller) -> AppResult<Json<Vec<Region>>> {
    Ok(Json(setup::list_regions(&s.db, &caller).await?))
}

/// Create a region (roles that see the whole chain).
#[utoipa::path(post, path = "/api/v1/retail/regions", tag = "retail", request_body = RegionInput,
    security(("bearer" = []), ("api_key" = [])),
    responses((status = 201, body = Region), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn create_region(
    State(s): State<AppState>,
    caller: Caller,
    ApiJson(input): ApiJson<RegionInput>,
) -> AppResult<(StatusCode, Json<Region>)> {
    Ok((
        StatusCode::CREATED,
        Json(setup::create_region(&s.db, &caller, input).await?),
    ))
}

/// One region (404 outside the caller's scope).
#[utoipa::path(get, path = "/api/v1/retail/regions/{id}", tag = "retail", params(("id" = Uuid, Path)),
    security(("bearer" = []), ("api_key" = [])),
    responses((status = 200, body = Region), (status = 404, body = ErrorBody)))]
async fn get_region(
    State(s): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<RegionId>,
) -> AppResult<Json<Region>> {
    Ok(Json(setup::get_region(&s.db, &caller, id).await?))
}

/// Rename a region.
#[utoipa::path(put, path = "/api/v1/retail/regions/{id}", tag = "retail", params(("id" = Uuid, Path)), request_body = RegionInput,
    security(("bearer" = []), ("api_key" = [])),
    responses((status = 200, body = Region), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn update_region(
    State(s): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<RegionId>,
    ApiJson(input): ApiJson<RegionInput>,
) -> AppResult<Json<Region>> {
    Ok(Json(setup::update_region(&s.db, &caller, id, input).await?))
}

/// Stores the caller sees.
#[utoipa::path(get, path = "/api/v1/retail/stores", tag = "retail",
    security(("bearer" = []), ("api_key" = [])),
    responses((status = 200, body = Vec<Store>), (status = 403, body = ErrorBody)))]
async fn list_stores(State(s): State<AppState>, caller: Caller) -> AppResult<Json<Vec<Store>>> {
    Ok(Json(setup::list_stores(&s.db, &caller).await?))
}

/// Declare a store: an existing catalog location of kind `store`, or a new one.
#[utoipa::path(post, path = "/api/v1/retail/stores", tag = "retail", request_body = StoreInput,
    security(("bearer" = []), ("api_key" = [])),
    responses((status = 201, body = Store), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn create_store(
    State(s): State<AppState>,
    caller: Caller,
    ApiJson(input): ApiJson<StoreInput>,
) -> AppResult<(StatusCode, Json<Store>)> {
    Ok((
        StatusCode::CREATED,
        Json(setup::create_store(&s.db, &caller, input).await?),
    ))
}

/// One store (404 outside the caller's scope).
#[utoipa::path(get, path = "/api/v1/retail/stores/{id}", tag = "retail", params(("id" = Uuid, Path)),
    security(("bearer" = []), ("api_key" = [])),
    responses((status = 200, body = Store), (status = 404, body = ErrorBody)))]
async fn get_store(
    State(s): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<StoreId>,
) -> AppResult<Json<Store>> {
    Ok(Json(setup::get_store(&s.db, &caller, id).await?))
}

/// Move a store to another region.
#[utoipa::path(patch, path = "/api/v1/retail/stores/{id}", tag = "retail", params(("id" = Uuid, Path)), request_body = StorePatch,
    security(("bearer" = []), ("api_key" = [])),
    responses((status = 200, body = Store), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn update_store(
    State(s): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<StoreId>,
    ApiJson(patch): ApiJson<StorePatch>,
) -> AppResult<Json<Store>> {
    Ok(Json(setup::update_store(&s.db, &caller, id, patch).await?))
}

/// A store's revenue targets.
#[utoipa::path(get, path = "/api/v1/retail/stores/{id}/targets", tag = "retail", params(("id" = Uuid, Path)),
    security(("bearer" = []), ("api_key" = [])),
    responses((status = 200, body = Vec<Target>), (status = 404, body = ErrorBody)))]
async fn get_targets(
    State(s): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<StoreId>,
) -> AppResult<Json<Vec<Target>>> {
    Ok(Json(setup::list_targets(&s.db, &caller, id).await?))
}

/// Set revenue targets (each replaces the target of the same month or year).
#[utoipa::path(put, path = "/api/v1/retail/stores/{id}/targets", tag = "retail", params(("id" = Uuid, Path)), request_body = Vec<Target>,
    security(("bearer" = []), ("api_key" = [])),
    responses((status = 200, body = Vec<Target>), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn put_targets(
    State(s): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<StoreId>,
    ApiJson(input): ApiJson<Vec<Target>>,
) -> AppResult<Json<Vec<Target>>> {
    Ok(Json(setup::put_targets(&s.db, &caller, id, input).await?))
}

// ---- imports ----------------------------------------------------------------------

const XLSX_MIME: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// A CSV (`text/csv`) or XLSX body.
pub struct SalesFile(pub Vec<u8>);

impl<S: Send + Sync> FromRequest<S> for SalesFile {
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, AppError> {
        let mime = req
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .map(|m| m.trim().to_ascii_lowercase())
            .unwrap_or_default();
        if !matches!(mime.as_str(), "text/csv" | "application/csv" | XLSX_MIME) {
            return Err(AppError::new(
                ErrorCode::UnsupportedMediaType,
                format!("expected a body with Content-Type: text/csv or {XLSX_MIME}"),
            ));
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|e| {
            if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                AppError::new(ErrorCode::PayloadTooLarge, "the file is too large")
            } else {
                AppError::new(
                    ErrorCode::BadRequest,
                    format!("could not read the body: {e}"),
                )
            }
        })?;
        let bytes = bytes.to_vec();
        let is_xlsx = bytes.starts_with(b"PK\x03\x04");
        if mime == XLSX_MIME && !is_xlsx {
            return Err(AppError::field("body", "not an XLSX workbook"));
        }
        if mime != XLSX_MIME && std::str::from_utf8(&bytes).is_err() {
            return Err(AppError::field("body", "the file is not UTF-8 text"));
        }
        Ok(SalesFile(bytes))
    }
}

/// An accepted upload: the import (pending) and the job that processes it.
#[derive(Debug, Serialize, ToSchema)]
pub struct SalesImportQueued {
    #[serde(flatten)]
    pub import: SalesImport,
    #[schema(value_type = String, format = Uuid)]
    pub task_id: comptoir_kernel::jobs::TaskId,
    pub status_url: String,
    pub task_url: String,
}

/// Import sales from CSV or XLSX (one row per sale line). The file is stored and a job
/// queued (202); follow `status_url`. Columns: `receipt, store, sold_at, sku, quantity,
/// unit_price` and optionally `customer, discount, vat_rate, total_excl, total_incl`.
#[utoipa::path(post, path = "/api/v1/retail/imports", tag = "retail", params(SalesImportOptions),
    request_body(content = String, content_type = "text/csv", description = "The CSV file (or an XLSX workbook with its content type)"),
    security(("bearer" = []), ("api_key" = [])),
    responses((status = 202, body = SalesImportQueued), (status = 403, body = ErrorBody), (status = 413, body = ErrorBody),
        (status = 415, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn create_import(
    State(s): State<AppState>,
    caller: Caller,
    ApiQuery(options): ApiQuery<SalesImportOptions>,
    SalesFile(content): SalesFile,
) -> AppResult<(StatusCode, Json<SalesImportQueued>)> {
    let (id, task) = crate::jobs::queue_import(&s.db, &caller, options, content).await?;
    let import = import::get_import(&s.db, &caller, id).await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(SalesImportQueued {
            status_url: format!("/api/v1/retail/imports/{id}"),
            task_url: format!("/api/v1/tasks/{task}"),
            task_id: task,
            import,
        }),
    ))
}

/// Import history: the last 100 imports (a manager sees their own).
#[utoipa::path(get, path = "/api/v1/retail/imports", tag = "retail",
    security(("bearer" = []), ("api_key" = [])),
    responses((status = 200, body = Vec<SalesImport>), (status = 403, body = ErrorBody)))]
async fn list_imports(
    State(s): State<AppState>,
    caller: Caller,
) -> AppResult<Json<Vec<SalesImport>>> {
    Ok(Json(import::list_imports(&s.db, &caller).await?))
}

/// One import: status, progress, counts, the first 1,000 rejected rows.
#[utoipa::path(get, path = "/api/v1/retail/imports/{id}", tag = "retail", params(("id" = Uuid, Path)),
    security(("bearer" = []), ("api_key" = [])),
    responses((status = 200, body = SalesImport), (status = 404, body = ErrorBody)))]
async fn get_import(
    State(s): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<SalesImportId>,
) -> AppResult<Json<SalesImport>> {
    Ok(Json(import::get_import(&s.db, &caller, id).await?))
}

/// Every rejected row as CSV: `line,column,reason,raw`.
#[utoipa::path(get, path = "/api/v1/retail/imports/{id}/rejected.csv", tag = "retail", params(("id" = Uuid, Path)),
    security(("bearer" = []), ("api_key" = [])),
    responses((status = 200, body = String, content_type = "text/csv"), (status = 404, body = ErrorBody)))]
async fn import_rejected(
    State(s): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<SalesImportId>,
) -> AppResult<impl IntoResponse> {
    let csv = import::rejected_csv(&s.db, &caller, id).await?;
    Ok(([(header::CONTENT_TYPE, "text/csv; charset=utf-8")], csv))
}

/// A source's saved column mapping: file header → our column.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Mapping {
    /// 1 to 64 letters, digits, `-`, `_` or `.`.
    pub source: String,
    pub map: HashMap<String, String>,
}

/// Saved column mappings, one per source.
#[utoipa::path(get, path = "/api/v1/retail/mappings", tag = "retail",
    security(("bearer" = []), ("api_key" = [])),
    responses((status = 200, body = Vec<Mapping>), (status = 403, body = ErrorBody)))]
async fn list_mappings(State(s): State<AppState>, caller: Caller) -> AppResult<Json<Vec<Mapping>>> {
    use comptoir_kernel::tenancy::scoped;
    use sea_orm::QueryOrder;
    crate::scope::Visibility::of(&caller)?;
    let rows = scoped::<crate::entities::mappings::Entity>(caller.org_id)
        .order_by_asc(crate::entities::mappings::Column::Source)
        .all(&s.db)
        .await?;
    Ok(Json(
        rows.into_iter()
            .map(|m| Mapping {
                source: m.source,
                map: serde_json::from_value(m.map).unwrap_or_default(),
            })
            .collect(),
    ))
}

/// Save (replace) the column mapping of a source; the next imports from it use it.
#[utoipa::path(put, path = "/api/v1/retail/mappings", tag = "retail", request_body = Mapping,
    security(("bearer" = []), ("api_key" = [])),
    responses((status = 200, body = Mapping), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn put_mapping(
    State(s): State<AppState>,
    caller: Caller,
    ApiJson(input): ApiJson<Mapping>,
) -> AppResult<Json<Mapping>> {
    import::save_mapping(&s.db, &caller, &input.source, &input.map).await?;
    let map = import::load_mapping(&s.db, caller.org_id, &input.source)
        .await?
        .unwrap_or_default();
    Ok(Json(Mapping {
        source: input.source,
        map,
    }))
}

// ---- dashboard --------------------------------------------------------------------

/// Figures, series, drill-down breakdown, performers, store ranking and margin by category
/// for a period (whole months) and a scope; rows outside the caller's scope never count.
#[utoipa::path(get, path = "/api/v1/retail/dashboard", tag = "retail", params(DashboardQuery),
    security(("bearer" = []), ("api_key" = [])),
    responses((status = 200, body = Dashboard), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn get_dashboard(
    State(s): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<DashboardQuery>,
) -> AppResult<Json<Dashboard>> {
    Ok(Json(dashboard::dashboard(&s.db, &caller, &q).await?))
}

/// The dashboard's query plus the table to export.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DashboardCsvQuery {
    pub from: Option<String>,
    pub to: Option<String>,
    pub region_id: Option<Uuid>,
    pub store_id: Option<Uuid>,
    pub category_id: Option<Uuid>,
    pub product_id: Option<Uuid>,
    /// `figures` (default), `series`, `children`, `top`, `bottom`, `stores`, `categories`.
    #[param(value_type = Option<String>)]
    pub part: Option<CsvPart>,
}

/// One table of the dashboard as CSV.
#[utoipa::path(get, path = "/api/v1/retail/dashboard.csv", tag = "retail", params(DashboardCsvQuery),
    security(("bearer" = []), ("api_key" = [])),
    responses((status = 200, body = String, content_type = "text/csv"), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn get_dashboard_csv(
    State(s): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<DashboardCsvQuery>,
) -> AppResult<impl IntoResponse> {
    let part = q.part.unwrap_or_default();
    let query = DashboardQuery {
        from: q.from,
        to: q.to,
        region_id: q.region_id,
        store_id: q.store_id,
        category_id: q.category_id,
        product_id: q.product_id,
    };
    let d = dashboard::dashboard(&s.db, &caller, &query).await?;
    let csv = dashboard::to_csv(&d, part)?;
    let name = format!(
        "attachment; filename=\"dashboard-{}-{}-{:?}.csv\"",
        d.from, d.to, part
    )
    .to_lowercase();
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (header::CONTENT_DISPOSITION, name),
        ],
        csv,
    ))
}

/// The result of a rebuild.
#[derive(Debug, Serialize, ToSchema)]
pub struct Rebuilt {
    pub receipts: u64,
}

/// Recompute every rollup from the sale lines (owners and admins).
#[utoipa::path(post, path = "/api/v1/retail/rollups/rebuild", tag = "retail",
    security(("bearer" = []), ("api_key" = [])),
    responses((status = 200, body = Rebuilt), (status = 403, body = ErrorBody)))]
async fn rebuild_rollups(State(s): State<AppState>, caller: Caller) -> AppResult<Json<Rebuilt>> {
    caller.require(Permission::ManageJobs)?;
    let receipts = rollup::rebuild(&s.db, caller.org_id).await?;
    Ok(Json(Rebuilt { receipts }))
}

/// Project a what-if scenario (levers on scopes) from last year's same months over a
/// horizon, for the stores the caller sees. Formulas in the README.
#[utoipa::path(post, path = "/api/v1/retail/whatif", tag = "retail", request_body = crate::whatif::WhatIfInput,
    security(("bearer" = []), ("api_key" = [])),
    responses((status = 200, body = crate::whatif::Projection), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn run_whatif(
    State(s): State<AppState>,
    caller: Caller,
    ApiJson(input): ApiJson<crate::whatif::WhatIfInput>,
) -> AppResult<Json<crate::whatif::Projection>> {
    Ok(Json(crate::whatif::simulate(&s.db, &caller, &input).await?))
}

//! Stock levels, the ledger, adjustments and catalog events.

use axum::Json;
use axum::extract::State;
use comptoir_kernel::auth::Caller;
use comptoir_kernel::error::ErrorBody;
use comptoir_kernel::http::{ApiJson, ApiQuery};
use comptoir_kernel::{AppResult, AppState};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::service;
use crate::views::*;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_stock))
        .routes(routes!(list_movements))
        .routes(routes!(create_adjustment))
        .routes(routes!(list_events))
}

/// Stock levels (on hand, reserved, available), by product and location.
#[utoipa::path(get, path = "/api/v1/catalog/stock", tag = "catalog", params(StockFilter),
    security(("bearer" = []), ("api_key" = [])),
    responses((status = 200, body = Vec<StockLevel>), (status = 400, body = ErrorBody)))]
async fn list_stock(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(filter): ApiQuery<StockFilter>,
) -> AppResult<Json<Vec<StockLevel>>> {
    Ok(Json(
        service::list_stock(&state.db, caller.org_id, &filter).await?,
    ))
}

/// The stock ledger, newest first.
#[utoipa::path(get, path = "/api/v1/catalog/stock/movements", tag = "catalog", params(MovementFilter),
    security(("bearer" = []), ("api_key" = [])),
    responses((status = 200, body = Vec<Movement>), (status = 400, body = ErrorBody)))]
async fn list_movements(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(filter): ApiQuery<MovementFilter>,
) -> AppResult<Json<Vec<Movement>>> {
    Ok(Json(
        service::list_movements(&state.db, caller.org_id, &filter).await?,
    ))
}

/// Receive, correct or count stock; recorded in the ledger. Optionally sets the
/// low-stock threshold.
#[utoipa::path(post, path = "/api/v1/catalog/stock/adjustments", tag = "catalog", request_body = AdjustmentInput,
    security(("bearer" = []), ("api_key" = [])),
    responses((status = 200, body = AdjustmentResult), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn create_adjustment(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(input): ApiJson<AdjustmentInput>,
) -> AppResult<Json<AdjustmentResult>> {
    Ok(Json(service::adjust(&state.db, &caller, input).await?))
}

/// How many events to list.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct EventQuery {
    /// 1 to 1000, default 100.
    limit: Option<u64>,
}

/// Catalog events (low stock), newest first.
#[utoipa::path(get, path = "/api/v1/catalog/events", tag = "catalog", params(EventQuery),
    security(("bearer" = []), ("api_key" = [])),
    responses((status = 200, body = Vec<CatalogEvent>), (status = 400, body = ErrorBody)))]
async fn list_events(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<EventQuery>,
) -> AppResult<Json<Vec<CatalogEvent>>> {
    Ok(Json(
        service::list_events(&state.db, caller.org_id, q.limit).await?,
    ))
}

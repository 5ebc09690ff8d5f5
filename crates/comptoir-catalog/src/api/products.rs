//! Products: CRUD, filtered list with cursor, CSV export, stock and movements of one.

use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use comptoir_kernel::auth::Caller;
use comptoir_kernel::error::ErrorBody;
use comptoir_kernel::http::{ApiJson, ApiPath, ApiQuery};
use comptoir_kernel::{AppResult, AppState};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::model::ProductId;
use crate::service;
use crate::views::*;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_products, create_product))
        .routes(routes!(export_products))
        .routes(routes!(get_product, update_product, delete_product))
        .routes(routes!(product_stock))
        .routes(routes!(product_movements))
}

/// Products, newest first, filtered; pass `next_cursor` back as `cursor` for the next page.
#[utoipa::path(get, path = "/api/v1/catalog/products", tag = "catalog", params(ProductFilter),
    security(("bearer" = []), ("api_key" = [])),
    responses((status = 200, body = ProductPage), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
async fn list_products(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(filter): ApiQuery<ProductFilter>,
) -> AppResult<Json<ProductPage>> {
    Ok(Json(
        service::list_products(&state.db, caller.org_id, &filter).await?,
    ))
}

/// The products of a filter as CSV (every page; same columns as the import).
#[utoipa::path(get, path = "/api/v1/catalog/products/export.csv", tag = "catalog", params(ProductFilter),
    security(("bearer" = []), ("api_key" = [])),
    responses((status = 200, body = String, content_type = "text/csv"), (status = 400, body = ErrorBody)))]
async fn export_products(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(filter): ApiQuery<ProductFilter>,
) -> AppResult<impl IntoResponse> {
    let csv = service::export_products_csv(&state.db, caller.org_id, &filter).await?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"products.csv\"",
            ),
        ],
        csv,
    ))
}

/// Create a product; attributes are checked against its product type.
#[utoipa::path(post, path = "/api/v1/catalog/products", tag = "catalog", request_body = ProductInput,
    security(("bearer" = []), ("api_key" = [])),
    responses((status = 201, body = Product), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn create_product(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(input): ApiJson<ProductInput>,
) -> AppResult<(StatusCode, Json<Product>)> {
    Ok((
        StatusCode::CREATED,
        Json(service::create_product(&state.db, &caller, input).await?),
    ))
}

/// One product.
#[utoipa::path(get, path = "/api/v1/catalog/products/{id}", tag = "catalog", params(("id" = Uuid, Path)),
    security(("bearer" = []), ("api_key" = [])),
    responses((status = 200, body = Product), (status = 404, body = ErrorBody)))]
async fn get_product(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<ProductId>,
) -> AppResult<Json<Product>> {
    Ok(Json(
        service::get_product(&state.db, caller.org_id, id).await?,
    ))
}

/// Replace a product (every field).
#[utoipa::path(put, path = "/api/v1/catalog/products/{id}", tag = "catalog", params(("id" = Uuid, Path)), request_body = ProductInput,
    security(("bearer" = []), ("api_key" = [])),
    responses((status = 200, body = Product), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn update_product(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<ProductId>,
    ApiJson(input): ApiJson<ProductInput>,
) -> AppResult<Json<Product>> {
    Ok(Json(
        service::update_product(&state.db, &caller, id, input).await?,
    ))
}

/// Delete a product that never moved stock (409 otherwise: archive it instead).
#[utoipa::path(delete, path = "/api/v1/catalog/products/{id}", tag = "catalog", params(("id" = Uuid, Path)),
    security(("bearer" = []), ("api_key" = [])),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn delete_product(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<ProductId>,
) -> AppResult<StatusCode> {
    service::delete_product(&state.db, &caller, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Stock of one product at every location.
#[utoipa::path(get, path = "/api/v1/catalog/products/{id}/stock", tag = "catalog", params(("id" = Uuid, Path)),
    security(("bearer" = []), ("api_key" = [])),
    responses((status = 200, body = Vec<StockLevel>), (status = 404, body = ErrorBody)))]
async fn product_stock(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<ProductId>,
) -> AppResult<Json<Vec<StockLevel>>> {
    service::get_product(&state.db, caller.org_id, id).await?;
    let filter = StockFilter {
        product_id: Some(id),
        limit: Some(1000),
        ..Default::default()
    };
    Ok(Json(
        service::list_stock(&state.db, caller.org_id, &filter).await?,
    ))
}

/// The ledger of one product, newest first (last 1,000 movements).
#[utoipa::path(get, path = "/api/v1/catalog/products/{id}/movements", tag = "catalog", params(("id" = Uuid, Path)),
    security(("bearer" = []), ("api_key" = [])),
    responses((status = 200, body = Vec<Movement>), (status = 404, body = ErrorBody)))]
async fn product_movements(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<ProductId>,
) -> AppResult<Json<Vec<Movement>>> {
    service::get_product(&state.db, caller.org_id, id).await?;
    let filter = MovementFilter {
        product_id: Some(id),
        limit: Some(1000),
        ..Default::default()
    };
    Ok(Json(
        service::list_movements(&state.db, caller.org_id, &filter).await?,
    ))
}

//! `/api/v1/reviews...`: handlers only extract and call the service, where roles and
//! tenancy are enforced. Any member reads; writing needs `Permission::Write`.

#![allow(missing_docs)] // fields of plain data types, named for what they hold

use axum::Json;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::StatusCode;
use comptoir_catalog::CsvBody;
use comptoir_catalog::model::ProductId;
use comptoir_kernel::auth::Caller;
use comptoir_kernel::error::ErrorBody;
use comptoir_kernel::http::{ApiJson, ApiPath, ApiQuery};
use comptoir_kernel::jobs::TaskId;
use comptoir_kernel::{AppResult, AppState};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::model::*;
use super::{import, service};

/// Largest review CSV upload.
pub const IMPORT_BODY_LIMIT: usize = 32 * 1024 * 1024;

/// The reviews API routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_reviews, create_review))
        .routes(routes!(get_review))
        .routes(routes!(product_stats))
        .merge(
            OpenApiRouter::new()
                .routes(routes!(list_imports, create_import))
                .layer(DefaultBodyLimit::max(IMPORT_BODY_LIMIT)),
        )
        .routes(routes!(get_import))
}

/// Record a review. Its sentiment is computed by a background job (`sentiment` is null
/// until then) and the product's aggregates and embedding follow.
#[utoipa::path(post, path = "/api/v1/reviews", tag = "reviews", request_body = ReviewInput,
    security(("bearer" = []), ("api_key" = [])),
    responses((status = 201, body = Review), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn create_review(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(input): ApiJson<ReviewInput>,
) -> AppResult<(StatusCode, Json<Review>)> {
    // The review and its scoring job commit together.
    let txn = comptoir_kernel::db::begin_write(&state.db).await?;
    let review = service::create_review(&txn, &caller, input).await?;
    txn.commit().await?;
    Ok((StatusCode::CREATED, Json(review)))
}

/// Reviews, newest first; filter by product or sentiment label.
#[utoipa::path(get, path = "/api/v1/reviews", tag = "reviews", params(ReviewFilter),
    security(("bearer" = []), ("api_key" = [])),
    responses((status = 200, body = Vec<Review>), (status = 400, body = ErrorBody)))]
async fn list_reviews(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(filter): ApiQuery<ReviewFilter>,
) -> AppResult<Json<Vec<Review>>> {
    Ok(Json(
        service::list_reviews(&state.db, caller.org_id, &filter).await?,
    ))
}

/// One review.
#[utoipa::path(get, path = "/api/v1/reviews/{id}", tag = "reviews", params(("id" = Uuid, Path)),
    security(("bearer" = []), ("api_key" = [])),
    responses((status = 200, body = Review), (status = 404, body = ErrorBody)))]
async fn get_review(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<ReviewId>,
) -> AppResult<Json<Review>> {
    Ok(Json(
        service::get_review(&state.db, caller.org_id, id).await?,
    ))
}

/// Review aggregates and reputation of one product.
#[utoipa::path(get, path = "/api/v1/reviews/products/{id}/stats", tag = "reviews", params(("id" = Uuid, Path)),
    security(("bearer" = []), ("api_key" = [])),
    responses((status = 200, body = ProductReviewStats), (status = 404, body = ErrorBody)))]
async fn product_stats(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<ProductId>,
) -> AppResult<Json<ProductReviewStats>> {
    Ok(Json(
        service::product_stats(&state.db, caller.org_id, id).await?,
    ))
}

/// An accepted upload and the job that processes it.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReviewImportQueued {
    #[serde(flatten)]
    pub import: ReviewImport,
    pub task_id: TaskId,
    pub status_url: String,
    pub task_url: String,
}

/// Import reviews from CSV (`sku` or `product_id`, `rating`, `comment`, optional
/// `language`, `customer_ref`, `helpful_votes`, `created_at`). The file is stored and a
/// job queued (202); follow `status_url` for the row-level report.
#[utoipa::path(post, path = "/api/v1/reviews/imports", tag = "reviews",
    request_body(content = String, content_type = "text/csv"),
    security(("bearer" = []), ("api_key" = [])),
    responses((status = 202, body = ReviewImportQueued), (status = 403, body = ErrorBody), (status = 413, body = ErrorBody),
        (status = 415, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn create_import(
    State(state): State<AppState>,
    caller: Caller,
    CsvBody(content): CsvBody,
) -> AppResult<(StatusCode, Json<ReviewImportQueued>)> {
    let (import, task) = import::queue_import(&state.db, &caller, content).await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(ReviewImportQueued {
            status_url: format!("/api/v1/reviews/imports/{}", import.id),
            task_url: format!("/api/v1/tasks/{task}"),
            task_id: task,
            import,
        }),
    ))
}

/// The organization's last 100 review imports.
#[utoipa::path(get, path = "/api/v1/reviews/imports", tag = "reviews",
    security(("bearer" = []), ("api_key" = [])),
    responses((status = 200, body = Vec<ReviewImport>)))]
async fn list_imports(
    State(state): State<AppState>,
    caller: Caller,
) -> AppResult<Json<Vec<ReviewImport>>> {
    Ok(Json(import::list_imports(&state.db, caller.org_id).await?))
}

/// One review import: status, counts, rejected rows with their line and field.
#[utoipa::path(get, path = "/api/v1/reviews/imports/{id}", tag = "reviews", params(("id" = Uuid, Path)),
    security(("bearer" = []), ("api_key" = [])),
    responses((status = 200, body = ReviewImport), (status = 404, body = ErrorBody)))]
async fn get_import(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<ReviewImportId>,
) -> AppResult<Json<ReviewImport>> {
    Ok(Json(
        import::get_import(&state.db, caller.org_id, id).await?,
    ))
}

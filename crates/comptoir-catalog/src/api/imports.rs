//! CSV imports: upload (runs to completion in the request for now), status, report.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{FromRequest, Request, State};
use axum::http::header::CONTENT_TYPE;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use comptoir_kernel::auth::Caller;
use comptoir_kernel::error::ErrorBody;
use comptoir_kernel::http::{ApiPath, ApiQuery};
use comptoir_kernel::{AppError, AppResult, AppState, ErrorCode};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::import;
use crate::model::ImportId;
use crate::service;
use crate::views::*;

pub fn upload_router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_imports, create_import))
}

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(get_import))
        .routes(routes!(import_report))
}

/// A `text/csv` body in UTF-8.
pub struct CsvBody(pub String);

impl<S: Send + Sync> FromRequest<S> for CsvBody {
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, AppError> {
        let is_csv = req
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .is_some_and(|m| {
                matches!(
                    m.trim().to_ascii_lowercase().as_str(),
                    "text/csv" | "application/csv"
                )
            });
        if !is_csv {
            return Err(AppError::new(
                ErrorCode::UnsupportedMediaType,
                "expected a body with Content-Type: text/csv",
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
        String::from_utf8(bytes.to_vec())
            .map(CsvBody)
            .map_err(|_| AppError::field("body", "the file is not UTF-8 text"))
    }
}

/// Import products (or stock levels, `kind=stock`) from CSV. The file is stored and a
/// background job queued (202); the job processes it in chunks of 500 rows. Follow
/// `status_url` (the import: status, progress, counts, rejected rows) or `task_url`.
#[utoipa::path(post, path = "/api/v1/catalog/imports", tag = "catalog", params(ImportOptions),
    request_body(content = String, content_type = "text/csv", description = "The CSV file; header on the first line, `,` or `;` separated"),
    security(("bearer" = []), ("api_key" = [])),
    responses((status = 202, body = ImportQueued), (status = 403, body = ErrorBody), (status = 413, body = ErrorBody),
        (status = 415, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn create_import(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(options): ApiQuery<ImportOptions>,
    CsvBody(content): CsvBody,
) -> AppResult<(StatusCode, Json<ImportQueued>)> {
    let (id, task) = crate::jobs::queue_import(&state.db, &caller, options, content).await?;
    let import = import::get_import(&state.db, caller.org_id, id).await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(ImportQueued {
            status_url: format!("/api/v1/catalog/imports/{id}"),
            task_url: format!("/api/v1/tasks/{task}"),
            task_id: task,
            import,
        }),
    ))
}

/// An accepted upload: the import (pending) and the job that processes it.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct ImportQueued {
    #[serde(flatten)]
    pub import: Import,
    pub task_id: comptoir_kernel::jobs::TaskId,
    pub status_url: String,
    pub task_url: String,
}

/// The organization's last 100 imports.
#[utoipa::path(get, path = "/api/v1/catalog/imports", tag = "catalog",
    security(("bearer" = []), ("api_key" = [])),
    responses((status = 200, body = Vec<Import>)))]
async fn list_imports(
    State(state): State<AppState>,
    caller: Caller,
) -> AppResult<Json<Vec<Import>>> {
    Ok(Json(import::list_imports(&state.db, caller.org_id).await?))
}

/// One import: status, progress, counts, first 1,000 rejected rows.
#[utoipa::path(get, path = "/api/v1/catalog/imports/{id}", tag = "catalog", params(("id" = Uuid, Path)),
    security(("bearer" = []), ("api_key" = [])),
    responses((status = 200, body = Import), (status = 404, body = ErrorBody)))]
async fn get_import(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<ImportId>,
) -> AppResult<Json<Import>> {
    Ok(Json(
        import::get_import(&state.db, caller.org_id, id).await?,
    ))
}

/// Every rejected row of an import as CSV: `line,column,reason,raw`.
#[utoipa::path(get, path = "/api/v1/catalog/imports/{id}/report.csv", tag = "catalog", params(("id" = Uuid, Path)),
    security(("bearer" = []), ("api_key" = [])),
    responses((status = 200, body = String, content_type = "text/csv"), (status = 404, body = ErrorBody)))]
async fn import_report(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<ImportId>,
) -> AppResult<impl IntoResponse> {
    let csv = service::import_report_csv(&state.db, caller.org_id, id).await?;
    Ok(([(header::CONTENT_TYPE, "text/csv; charset=utf-8")], csv))
}

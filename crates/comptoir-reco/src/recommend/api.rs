//! `POST /api/v1/recommendations` (and `/async`), `GET|PUT /api/v1/recommendations/settings`.
//! Any member may ask for recommendations (nothing is written); changing the weights
//! needs `Permission::Write`.

use axum::extract::State;
use axum::http::StatusCode;
use axum::{Extension, Json};
use comptoir_kernel::auth::Caller;
use comptoir_kernel::error::ErrorBody;
use comptoir_kernel::http::ApiJson;
use comptoir_kernel::http::request_id::RequestId;
use comptoir_kernel::jobs::{self, EnqueueOptions};
use comptoir_kernel::{AppResult, AppState};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::model::*;
use super::{recommend, settings, validate};

/// The recommendation API routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(recommendations))
        .routes(routes!(recommendations_async))
        .routes(routes!(get_settings, put_settings))
}

fn correlation(id: Option<Extension<RequestId>>) -> String {
    id.map(|Extension(RequestId(id))| id)
        .unwrap_or_else(|| uuid::Uuid::new_v4().simple().to_string())
}

/// Products to recommend after a customer's comment on a product (seed 3's request and
/// answer). `score = w_s·similarity + w_a·availability + w_r·reputation`; a negative
/// comment steers away from what it criticizes; `explain: true` adds each score's parts.
#[utoipa::path(post, path = "/api/v1/recommendations", tag = "recommendations", request_body = RecommendationRequest,
    security(("bearer" = []), ("api_key" = [])),
    responses((status = 200, body = RecommendationResponse), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 422, description = "`validation_failed` with the field", body = ErrorBody),
        (status = 503, description = "The embedding model failed", body = ErrorBody)))]
async fn recommendations(
    State(state): State<AppState>,
    caller: Caller,
    request_id: Option<Extension<RequestId>>,
    ApiJson(request): ApiJson<RecommendationRequest>,
) -> AppResult<Json<RecommendationResponse>> {
    Ok(Json(
        recommend(&state, caller.org_id, &request, correlation(request_id)).await?,
    ))
}

/// The same as `POST /api/v1/recommendations`, as a background task (202): the request
/// is checked at once, then `check_status_url` gives the task, whose `result` is the
/// synchronous answer once `status` is `succeeded`.
#[utoipa::path(post, path = "/api/v1/recommendations/async", tag = "recommendations", request_body = RecommendationRequest,
    security(("bearer" = []), ("api_key" = [])),
    responses((status = 202, body = RecommendationQueued), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn recommendations_async(
    State(state): State<AppState>,
    caller: Caller,
    request_id: Option<Extension<RequestId>>,
    ApiJson(request): ApiJson<RecommendationRequest>,
) -> AppResult<(StatusCode, Json<RecommendationQueued>)> {
    validate(&state.db, caller.org_id, &request).await?;
    let job = crate::jobs::Recommend {
        request,
        correlation_id: correlation(request_id),
    };
    let task = jobs::enqueue(
        &state.db,
        Some(caller.org_id),
        &job,
        EnqueueOptions::default(),
    )
    .await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(RecommendationQueued {
            status: "processing".into(),
            task_id: task,
            message: "Recommendation task started".into(),
            check_status_url: format!("/api/v1/tasks/{task}"),
        }),
    ))
}

/// The organization's recommendation weights.
#[utoipa::path(get, path = "/api/v1/recommendations/settings", tag = "recommendations",
    security(("bearer" = []), ("api_key" = [])),
    responses((status = 200, body = RecommendationSettings)))]
async fn get_settings(
    State(state): State<AppState>,
    caller: Caller,
) -> AppResult<Json<RecommendationSettings>> {
    Ok(Json(RecommendationSettings {
        weights: settings::weights(&state.db, caller.org_id).await?,
    }))
}

/// Sets the organization's recommendation weights; they must each be in [0, 1] and sum
/// to 1, else 422 `inconsistent_weights` (with `details.sum`).
#[utoipa::path(put, path = "/api/v1/recommendations/settings", tag = "recommendations", request_body = RecommendationSettings,
    security(("bearer" = []), ("api_key" = [])),
    responses((status = 200, body = RecommendationSettings), (status = 403, body = ErrorBody),
        (status = 422, description = "`inconsistent_weights`", body = ErrorBody)))]
async fn put_settings(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<RecommendationSettings>,
) -> AppResult<Json<RecommendationSettings>> {
    let weights = settings::set_weights(&state.db, &caller, body.weights).await?;
    Ok(Json(RecommendationSettings { weights }))
}

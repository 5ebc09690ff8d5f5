//! `GET /api/v1/tasks/{id}` (any member of the task's organization) and the dead letters
//! (owners and admins): list, replay one, replay all.

use axum::Json;
use axum::extract::State;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{TaskId, store};
use crate::auth::{Caller, Permission};
use crate::entities::jobs;
use crate::error::{AppError, AppResult, ErrorBody};
use crate::http::{ApiPath, ApiQuery};
use crate::state::AppState;
use crate::tenancy::find_in_org;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(get_task))
        .routes(routes!(list_dead))
        .routes(routes!(replay_one))
        .routes(routes!(replay_all))
}

/// A background task and its outcome.
#[derive(Debug, Serialize, ToSchema)]
pub struct TaskView {
    pub task_id: TaskId,
    pub kind: String,
    /// queued, running, succeeded, failed (an attempt failed; it will be retried) or dead.
    pub status: String,
    pub attempts: i32,
    pub max_attempts: i32,
    #[schema(value_type = Option<Object>)]
    pub result: Option<Value>,
    pub error: Option<String>,
    /// Every failed attempt: `[{attempt, at, error}]`.
    #[schema(value_type = Vec<Object>)]
    pub errors: Value,
    pub progress: Option<Progress>,
    pub run_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Progress {
    pub done: i64,
    pub total: i64,
}

impl From<jobs::Model> for TaskView {
    fn from(j: jobs::Model) -> Self {
        TaskView {
            task_id: TaskId(j.id),
            kind: j.kind,
            status: j.status,
            attempts: j.attempts,
            max_attempts: j.max_attempts,
            result: j.result,
            error: j.last_error,
            errors: j.errors,
            progress: j.progress_total.map(|total| Progress {
                done: j.progress_done.unwrap_or(0),
                total,
            }),
            run_at: DateTime::from_timestamp_millis(j.run_at).unwrap_or_default(),
            created_at: j.created_at,
            updated_at: j.updated_at,
            finished_at: j.finished_at,
        }
    }
}

/// Status and result of a background task.
#[utoipa::path(get, path = "/api/v1/tasks/{id}", tag = "tasks", params(("id" = Uuid, Path)), security(("bearer" = []), ("api_key" = [])),
    responses((status = 200, body = TaskView), (status = 404, body = ErrorBody)))]
async fn get_task(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<TaskId>,
) -> AppResult<Json<TaskView>> {
    let job = find_in_org::<jobs::Entity>(&state.db, caller.org_id, id.0)
        .await
        .map_err(|_| AppError::not_found("task"))?;
    Ok(Json(job.into()))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct DeadQuery {
    /// At most this many (1-500, default 100), newest first.
    pub limit: Option<u64>,
}

/// Dead letters of the organization: tasks that failed every attempt.
#[utoipa::path(get, path = "/api/v1/jobs/dead", tag = "tasks", params(DeadQuery), security(("bearer" = []), ("api_key" = [])),
    responses((status = 200, body = Vec<TaskView>), (status = 403, body = ErrorBody)))]
async fn list_dead(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<DeadQuery>,
) -> AppResult<Json<Vec<TaskView>>> {
    caller.require(Permission::ManageJobs)?;
    let rows = store::dead(
        &state.db,
        Some(caller.org_id),
        q.limit.unwrap_or(100).clamp(1, 500),
    )
    .await?;
    Ok(Json(rows.into_iter().map(TaskView::from).collect()))
}

/// How many tasks went back to the queue.
#[derive(Debug, Serialize, ToSchema)]
pub struct Replayed {
    pub replayed: u64,
}

/// Replay one dead letter: it is queued again with fresh attempts (its error history kept).
#[utoipa::path(post, path = "/api/v1/jobs/dead/{id}/replay", tag = "tasks", params(("id" = Uuid, Path)), security(("bearer" = []), ("api_key" = [])),
    responses((status = 200, body = Replayed), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn replay_one(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<TaskId>,
) -> AppResult<Json<Replayed>> {
    caller.require(Permission::ManageJobs)?;
    let n = store::replay(&state.db, Some(caller.org_id), Some(id)).await?;
    if n == 0 {
        return Err(AppError::not_found("dead letter"));
    }
    Ok(Json(Replayed { replayed: n }))
}

/// Replay every dead letter of the organization.
#[utoipa::path(post, path = "/api/v1/jobs/dead/replay", tag = "tasks", security(("bearer" = []), ("api_key" = [])),
    responses((status = 200, body = Replayed), (status = 403, body = ErrorBody)))]
async fn replay_all(State(state): State<AppState>, caller: Caller) -> AppResult<Json<Replayed>> {
    caller.require(Permission::ManageJobs)?;
    Ok(Json(Replayed {
        replayed: store::replay(&state.db, Some(caller.org_id), None).await?,
    }))
}

//! `/api/v1/retail/scenarios...`: saved, versioned what-if scenarios.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use comptoir_kernel::auth::Caller;
use comptoir_kernel::error::ErrorBody;
use comptoir_kernel::http::{ApiJson, ApiPath, ApiQuery};
use comptoir_kernel::{AppError, AppResult, AppState};
use serde::Deserialize;
use utoipa::IntoParams;

use super::compare::{self, CompareInput, Comparison};
use super::{Scenario, ScenarioId, ScenarioInput, ScenarioSummary};
use crate::whatif::Projection;

/// Which version of a scenario.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct VersionQuery {
    /// 1 or more (default: the latest).
    pub version: Option<i32>,
}

impl VersionQuery {
    fn checked(&self) -> AppResult<Option<i32>> {
        match self.version {
            Some(v) if v < 1 => Err(AppError::invalid_parameter("version", "1 or more")),
            v => Ok(v),
        }
    }
}

/// The saved scenarios the caller sees, most recently changed first.
#[utoipa::path(get, path = "/api/v1/retail/scenarios", tag = "retail",
    security(("bearer" = []), ("api_key" = [])),
    responses((status = 200, body = Vec<ScenarioSummary>), (status = 403, body = ErrorBody)))]
pub async fn list_scenarios(
    State(s): State<AppState>,
    caller: Caller,
) -> AppResult<Json<Vec<ScenarioSummary>>> {
    Ok(Json(super::list(&s.db, &caller).await?))
}

/// Save a scenario (version 1). Analysts are read-only (403).
#[utoipa::path(post, path = "/api/v1/retail/scenarios", tag = "retail", request_body = ScenarioInput,
    security(("bearer" = []), ("api_key" = [])),
    responses((status = 201, body = Scenario), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_scenario(
    State(s): State<AppState>,
    caller: Caller,
    ApiJson(input): ApiJson<ScenarioInput>,
) -> AppResult<(StatusCode, Json<Scenario>)> {
    Ok((
        StatusCode::CREATED,
        Json(super::create(&s.db, &caller, &input).await?),
    ))
}

/// A scenario: the latest version, or `?version=N`, and the list of its versions.
#[utoipa::path(get, path = "/api/v1/retail/scenarios/{id}", tag = "retail",
    params(("id" = Uuid, Path), VersionQuery),
    security(("bearer" = []), ("api_key" = [])),
    responses((status = 200, body = Scenario), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_scenario(
    State(s): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<ScenarioId>,
    ApiQuery(q): ApiQuery<VersionQuery>,
) -> AppResult<Json<Scenario>> {
    Ok(Json(super::get(&s.db, &caller, id, q.checked()?).await?))
}

/// Save the next version of a scenario (its owner, or a role that sees the whole chain).
/// With `expected_version`, 409 when someone saved a newer version in between.
#[utoipa::path(put, path = "/api/v1/retail/scenarios/{id}", tag = "retail",
    params(("id" = Uuid, Path)), request_body = ScenarioInput,
    security(("bearer" = []), ("api_key" = [])),
    responses((status = 200, body = Scenario), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update_scenario(
    State(s): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<ScenarioId>,
    ApiJson(input): ApiJson<ScenarioInput>,
) -> AppResult<Json<Scenario>> {
    Ok(Json(super::update(&s.db, &caller, id, &input).await?))
}

/// Archive a scenario: it leaves the API, its versions are kept.
#[utoipa::path(delete, path = "/api/v1/retail/scenarios/{id}", tag = "retail",
    params(("id" = Uuid, Path)),
    security(("bearer" = []), ("api_key" = [])),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn delete_scenario(
    State(s): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<ScenarioId>,
) -> AppResult<StatusCode> {
    super::archive(&s.db, &caller, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Project a saved version (the latest, or `?version=N`) within the caller's stores.
#[utoipa::path(post, path = "/api/v1/retail/scenarios/{id}/run", tag = "retail",
    params(("id" = Uuid, Path), VersionQuery),
    security(("bearer" = []), ("api_key" = [])),
    responses((status = 200, body = Projection), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn run_scenario(
    State(s): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<ScenarioId>,
    ApiQuery(q): ApiQuery<VersionQuery>,
) -> AppResult<Json<Projection>> {
    Ok(Json(compare::run(&s.db, &caller, id, q.checked()?).await?))
}

/// 2 to 4 scenario versions side by side: totals, per region and per store deltas vs
/// each one's baseline, and each one's margin sensitivity.
#[utoipa::path(post, path = "/api/v1/retail/scenarios/compare", tag = "retail", request_body = CompareInput,
    security(("bearer" = []), ("api_key" = [])),
    responses((status = 200, body = Comparison), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn compare_scenarios(
    State(s): State<AppState>,
    caller: Caller,
    ApiJson(input): ApiJson<CompareInput>,
) -> AppResult<Json<Comparison>> {
    Ok(Json(compare::compare(&s.db, &caller, &input).await?))
}

//! `/api/v1/members` (owners and admins manage, everyone reads) and `/api/v1/audit`.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::service::{self, MemberChange, MemberView, NewMember};
use crate::audit::{self, AuditEntry};
use crate::auth::{Caller, Permission, Role};
use crate::error::{AppResult, ErrorBody};
use crate::http::{ApiJson, ApiPath, ApiQuery};
use crate::ids::MembershipId;
use crate::state::AppState;
use crate::validate::{Email, NewPassword};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_members, add_member))
        .routes(routes!(get_member, update_member, remove_member))
        .routes(routes!(list_audit))
}

/// A member to add; a new user is created when the e-mail is unknown (then `password` is
/// required).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddMember {
    pub email: String,
    pub name: Option<String>,
    pub password: Option<String>,
    pub role: Role,
    /// Required for a regional_manager.
    pub region_id: Option<Uuid>,
    /// Required for a store_manager.
    pub store_id: Option<Uuid>,
}

/// A change of role or scope; absent fields stay as they are, `null` clears a scope.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateMember {
    pub role: Option<Role>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<Uuid>)]
    pub region_id: Option<Option<Uuid>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<Uuid>)]
    pub store_id: Option<Option<Uuid>>,
}

fn double_option<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Option<Uuid>>, D::Error> {
    Option::<Uuid>::deserialize(d).map(Some)
}

/// Members of the caller's organization.
#[utoipa::path(get, path = "/api/v1/members", tag = "members", security(("bearer" = []), ("api_key" = [])),
    responses((status = 200, body = Vec<MemberView>), (status = 401, body = ErrorBody)))]
async fn list_members(
    State(state): State<AppState>,
    caller: Caller,
) -> AppResult<Json<Vec<MemberView>>> {
    Ok(Json(service::list_members(&state.db, caller.org_id).await?))
}

/// Add a member (owners and admins).
#[utoipa::path(post, path = "/api/v1/members", tag = "members", request_body = AddMember, security(("bearer" = []), ("api_key" = [])),
    responses((status = 201, body = MemberView), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn add_member(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<AddMember>,
) -> AppResult<(StatusCode, Json<MemberView>)> {
    caller.require(Permission::ManageMembers)?;
    let new = NewMember {
        email: Email::parse("email", &req.email)?,
        name: req.name,
        password: req
            .password
            .as_deref()
            .map(|p| NewPassword::parse("password", p))
            .transpose()?,
        role: req.role,
        region_id: req.region_id,
        store_id: req.store_id,
    };
    let member = service::add_member(&state.db, caller.org_id, new, Some(&caller)).await?;
    Ok((StatusCode::CREATED, Json(member)))
}

/// One member.
#[utoipa::path(get, path = "/api/v1/members/{id}", tag = "members", params(("id" = Uuid, Path)), security(("bearer" = []), ("api_key" = [])),
    responses((status = 200, body = MemberView), (status = 404, body = ErrorBody)))]
async fn get_member(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<MembershipId>,
) -> AppResult<Json<MemberView>> {
    Ok(Json(
        service::get_member(&state.db, caller.org_id, id).await?,
    ))
}

/// Change a member's role or scope (owners and admins).
#[utoipa::path(patch, path = "/api/v1/members/{id}", tag = "members", params(("id" = Uuid, Path)), request_body = UpdateMember, security(("bearer" = []), ("api_key" = [])),
    responses((status = 200, body = MemberView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn update_member(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<MembershipId>,
    ApiJson(req): ApiJson<UpdateMember>,
) -> AppResult<Json<MemberView>> {
    let change = MemberChange {
        role: req.role,
        region_id: req.region_id,
        store_id: req.store_id,
    };
    Ok(Json(
        service::update_member(&state.db, &caller, id, change).await?,
    ))
}

/// Remove a member from the organization (owners and admins).
#[utoipa::path(delete, path = "/api/v1/members/{id}", tag = "members", params(("id" = Uuid, Path)), security(("bearer" = []), ("api_key" = [])),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn remove_member(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<MembershipId>,
) -> AppResult<StatusCode> {
    service::remove_member(&state.db, &caller, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct AuditQuery {
    /// At most this many entries, newest first (1-500, default 100).
    pub limit: Option<u64>,
}

/// The organization's audit log (owners and admins).
#[utoipa::path(get, path = "/api/v1/audit", tag = "members", params(AuditQuery), security(("bearer" = []), ("api_key" = [])),
    responses((status = 200, body = Vec<AuditEntry>), (status = 403, body = ErrorBody)))]
async fn list_audit(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<AuditQuery>,
) -> AppResult<Json<Vec<AuditEntry>>> {
    caller.require(Permission::ViewAudit)?;
    let limit = q.limit.unwrap_or(100).clamp(1, 500);
    Ok(Json(audit::list(&state.db, caller.org_id, limit).await?))
}

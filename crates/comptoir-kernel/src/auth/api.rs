//! `/api/v1/auth/*`, `/api/v1/me` and `/api/v1/api-keys`.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::api_keys::{self, ApiKeyCreated, ApiKeyView, CreateApiKey};
use super::service::{self, TokenPair};
use super::{AuthVia, Caller, Role};
use crate::entities::{memberships, orgs, users};
use crate::error::{AppError, AppResult, ErrorBody};
use crate::http::{ApiJson, ApiPath, ClientIp};
use crate::ids::{ApiKeyId, OrgId, UserId};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(login))
        .routes(routes!(refresh))
        .routes(routes!(logout))
        .routes(routes!(me))
        .routes(routes!(list_api_keys, create_api_key))
        .routes(routes!(get_api_key, revoke_api_key))
}

/// Credentials for `POST /api/v1/auth/login`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    pub email: String,
    pub password: String,
    /// The organization's slug, for users in several; default: the first one joined.
    pub org: Option<String>,
}

/// A refresh token to trade or revoke.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefreshRequest {
    pub refresh_token: String,
}

/// Sign in with e-mail and password; returns an access token (JWT) and a refresh token.
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "auth", request_body = LoginRequest,
    responses((status = 200, body = TokenPair), (status = 401, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn login(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    ApiJson(req): ApiJson<LoginRequest>,
) -> AppResult<Json<TokenPair>> {
    if req.email.len() > 254 || req.password.len() > 1024 {
        return Err(AppError::field("email", "too long"));
    }
    let ip = ip.map(|i| i.to_string());
    let (user, org) =
        service::authenticate(&state, &req.email, &req.password, req.org.as_deref(), ip).await?;
    Ok(Json(service::issue_tokens(&state, user, org).await?))
}

/// Trade a refresh token for a new token pair; the old refresh token stops working.
#[utoipa::path(post, path = "/api/v1/auth/refresh", tag = "auth", request_body = RefreshRequest,
    responses((status = 200, body = TokenPair), (status = 401, body = ErrorBody)))]
async fn refresh(
    State(state): State<AppState>,
    ApiJson(req): ApiJson<RefreshRequest>,
) -> AppResult<Json<TokenPair>> {
    Ok(Json(service::refresh(&state, &req.refresh_token).await?))
}

/// Revoke a refresh token.
#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "auth", request_body = RefreshRequest,
    responses((status = 204), (status = 422, body = ErrorBody)))]
async fn logout(
    State(state): State<AppState>,
    ApiJson(req): ApiJson<RefreshRequest>,
) -> AppResult<StatusCode> {
    service::revoke_refresh(&state, &req.refresh_token).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The caller: user, organization, role and scope.
#[derive(Debug, Serialize, ToSchema)]
pub struct Me {
    pub user: MeUser,
    pub org: MeOrg,
    pub role: Role,
    pub region_id: Option<Uuid>,
    pub store_id: Option<Uuid>,
    /// `access_token`, `api_key` or `session`.
    pub authenticated_by: String,
    /// Every organization the user belongs to.
    pub memberships: Vec<MeMembership>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MeUser {
    pub id: UserId,
    pub email: String,
    pub name: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MeOrg {
    pub id: OrgId,
    pub name: String,
    pub slug: String,
    pub plan: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MeMembership {
    pub org_slug: String,
    pub org_name: String,
    pub role: Role,
}

/// Who am I?
#[utoipa::path(get, path = "/api/v1/me", tag = "auth", security(("bearer" = []), ("api_key" = [])),
    responses((status = 200, body = Me), (status = 401, body = ErrorBody)))]
async fn me(State(state): State<AppState>, caller: Caller) -> AppResult<Json<Me>> {
    Ok(Json(load_me(&state, &caller).await?))
}

/// The `Me` of a caller (the web UI shows the same).
pub async fn load_me(state: &AppState, caller: &Caller) -> AppResult<Me> {
    let user = users::Entity::find_by_id(caller.user_id.0)
        .one(&state.db)
        .await?
        .ok_or_else(AppError::unauthenticated)?;
    let org = orgs::Entity::find_by_id(caller.org_id.0)
        .one(&state.db)
        .await?
        .ok_or_else(AppError::unauthenticated)?;
    let memberships = memberships::Entity::find()
        .filter(memberships::Column::UserId.eq(user.id))
        .order_by_asc(memberships::Column::CreatedAt)
        .find_also_related(orgs::Entity)
        .all(&state.db)
        .await?
        .into_iter()
        .filter_map(|(m, o)| {
            o.map(|o| MeMembership {
                org_slug: o.slug,
                org_name: o.name,
                role: Role::parse(&m.role).unwrap_or(Role::Analyst),
            })
        })
        .collect();
    Ok(Me {
        user: MeUser {
            id: UserId(user.id),
            email: user.email,
            name: user.name,
        },
        org: MeOrg {
            id: OrgId(org.id),
            name: org.name,
            slug: org.slug,
            plan: org.plan,
        },
        role: caller.role,
        region_id: caller.region_id,
        store_id: caller.store_id,
        authenticated_by: match caller.via {
            AuthVia::AccessToken => "access_token",
            AuthVia::ApiKey { .. } => "api_key",
            AuthVia::Session { .. } => "session",
            AuthVia::System => "system",
        }
        .into(),
        memberships,
    })
}

/// API keys: yours, or all of the organization's for owners and admins.
#[utoipa::path(get, path = "/api/v1/api-keys", tag = "api-keys", security(("bearer" = []), ("api_key" = [])),
    responses((status = 200, body = Vec<ApiKeyView>), (status = 401, body = ErrorBody)))]
async fn list_api_keys(
    State(state): State<AppState>,
    caller: Caller,
) -> AppResult<Json<Vec<ApiKeyView>>> {
    Ok(Json(api_keys::list(&state.db, &caller).await?))
}

/// Create an API key. The key is in this response and nowhere else, ever.
#[utoipa::path(post, path = "/api/v1/api-keys", tag = "api-keys", request_body = CreateApiKey, security(("bearer" = []), ("api_key" = [])),
    responses((status = 201, body = ApiKeyCreated), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn create_api_key(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<CreateApiKey>,
) -> AppResult<(StatusCode, Json<ApiKeyCreated>)> {
    Ok((
        StatusCode::CREATED,
        Json(api_keys::create(&state.db, &caller, req).await?),
    ))
}

/// One API key (without its secret).
#[utoipa::path(get, path = "/api/v1/api-keys/{id}", tag = "api-keys", params(("id" = Uuid, Path)), security(("bearer" = []), ("api_key" = [])),
    responses((status = 200, body = ApiKeyView), (status = 404, body = ErrorBody)))]
async fn get_api_key(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<ApiKeyId>,
) -> AppResult<Json<ApiKeyView>> {
    Ok(Json(api_keys::get(&state.db, &caller, id).await?))
}

/// Revoke an API key; it stops working at once.
#[utoipa::path(delete, path = "/api/v1/api-keys/{id}", tag = "api-keys", params(("id" = Uuid, Path)), security(("bearer" = []), ("api_key" = [])),
    responses((status = 200, body = ApiKeyView), (status = 404, body = ErrorBody)))]
async fn revoke_api_key(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<ApiKeyId>,
) -> AppResult<Json<ApiKeyView>> {
    Ok(Json(api_keys::revoke(&state.db, &caller, id).await?))
}

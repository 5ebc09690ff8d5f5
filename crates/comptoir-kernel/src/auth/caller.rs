//! Who is calling: one extractor gives every API handler the caller's organization, user,
//! role and region/store scope, from a bearer JWT, an API key (`Authorization: Bearer
//! cpt_...` or `X-Api-Key`), or the web session cookie (unsafe methods then need the
//! `X-CSRF-Token` header).

use axum::extract::{FromRef, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, header};
use chrono::Utc;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};
use uuid::Uuid;

use super::role::{Permission, Role, Scope};
use super::sessions;
use super::tokens::{API_KEY_PREFIX, hash_token};
use crate::entities::{api_keys, memberships, users};
use crate::error::{AppError, AppResult, ErrorCode};
use crate::ids::{ApiKeyId, OrgId, UserId};
use crate::state::AppState;

/// How the caller proved who they are.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AuthVia {
    AccessToken,
    ApiKey {
        id: ApiKeyId,
        scopes: Vec<Scope>,
    },
    Session {
        id: Uuid,
    },
    /// The command line, acting for a member (an owner) of the organization.
    System,
}

/// The authenticated caller of a request.
#[derive(Clone, Debug)]
pub struct Caller {
    pub org_id: OrgId,
    /// For an API key: the member who created it.
    pub user_id: UserId,
    pub role: Role,
    pub region_id: Option<Uuid>,
    pub store_id: Option<Uuid>,
    pub via: AuthVia,
}

impl Caller {
    /// 403 unless the caller's role allows `permission`.
    pub fn require(&self, permission: Permission) -> AppResult<()> {
        if self.role.can(permission) {
            Ok(())
        } else {
            Err(AppError::forbidden(format!(
                "the {} role may not do this",
                self.role
            )))
        }
    }

    pub fn api_key_id(&self) -> Option<ApiKeyId> {
        match &self.via {
            AuthVia::ApiKey { id, .. } => Some(*id),
            _ => None,
        }
    }
}

fn is_safe(method: &Method) -> bool {
    matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then_some(token.trim())
}

impl<S> FromRequestParts<S> for Caller
where
    AppState: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> AppResult<Self> {
        if let Some(caller) = parts.extensions.get::<Caller>() {
            return Ok(caller.clone());
        }
        let state = AppState::from_ref(state);
        let api_key = bearer(&parts.headers)
            .filter(|t| t.starts_with(API_KEY_PREFIX))
            .or_else(|| parts.headers.get("x-api-key").and_then(|v| v.to_str().ok()));
        let caller = if let Some(key) = api_key {
            from_api_key(&state, key, &parts.method).await?
        } else if let Some(token) = bearer(&parts.headers) {
            let claims = state.jwt.verify(token)?;
            from_membership(&state, claims.org, claims.sub, AuthVia::AccessToken).await?
        } else if let Some(session) = sessions::from_headers(&state, &parts.headers).await? {
            if !is_safe(&parts.method) {
                let sent = parts
                    .headers
                    .get("x-csrf-token")
                    .and_then(|v| v.to_str().ok());
                if sent != Some(session.csrf_token.as_str()) {
                    return Err(AppError::new(
                        ErrorCode::CsrfFailed,
                        "missing or wrong X-CSRF-Token header",
                    ));
                }
            }
            let via = AuthVia::Session { id: session.id };
            from_membership(&state, OrgId(session.org_id), UserId(session.user_id), via).await?
        } else {
            return Err(AppError::unauthenticated());
        };
        parts.extensions.insert(caller.clone());
        Ok(caller)
    }
}

/// The caller for a user in an org, with the role their membership has *now*.
pub async fn from_membership(
    state: &AppState,
    org: OrgId,
    user: UserId,
    via: AuthVia,
) -> AppResult<Caller> {
    let member = memberships::Entity::find()
        .filter(memberships::Column::OrgId.eq(org.0))
        .filter(memberships::Column::UserId.eq(user.0))
        .one(&state.db)
        .await?
        .ok_or_else(|| {
            AppError::new(
                ErrorCode::InvalidToken,
                "the user is no longer a member of this organization",
            )
        })?;
    let active = users::Entity::find_by_id(user.0)
        .filter(users::Column::DisabledAt.is_null())
        .one(&state.db)
        .await?
        .is_some();
    if !active {
        return Err(AppError::new(
            ErrorCode::InvalidToken,
            "the user is disabled",
        ));
    }
    let role = Role::parse(&member.role)
        .ok_or_else(|| AppError::internal(anyhow::anyhow!("bad role in db")))?;
    Ok(Caller {
        org_id: org,
        user_id: user,
        role,
        region_id: member.region_id,
        store_id: member.store_id,
        via,
    })
}

async fn from_api_key(state: &AppState, key: &str, method: &Method) -> AppResult<Caller> {
    let invalid = || AppError::new(ErrorCode::InvalidToken, "the API key is invalid or revoked");
    if !key.starts_with(API_KEY_PREFIX) || key.len() > 128 {
        return Err(invalid());
    }
    let row = api_keys::Entity::find()
        .filter(api_keys::Column::KeyHash.eq(hash_token(key)))
        .one(&state.db)
        .await?
        .ok_or_else(invalid)?;
    let now = Utc::now();
    if row.revoked_at.is_some() {
        return Err(invalid());
    }
    if row.expires_at.is_some_and(|t| t <= now) {
        return Err(AppError::new(
            ErrorCode::TokenExpired,
            "the API key has expired",
        ));
    }
    let scopes = Scope::parse_list(&row.scopes);
    if !is_safe(method) && !scopes.contains(&Scope::Write) {
        return Err(AppError::new(
            ErrorCode::InsufficientScope,
            "this API key is read-only",
        ));
    }
    if is_safe(method) && !scopes.contains(&Scope::Read) && !scopes.contains(&Scope::Write) {
        return Err(AppError::new(
            ErrorCode::InsufficientScope,
            "this API key has no scope",
        ));
    }
    let via = AuthVia::ApiKey {
        id: ApiKeyId(row.id),
        scopes,
    };
    let creator =
        from_membership(state, OrgId(row.org_id), UserId(row.user_id), via.clone()).await?;
    let key_role = Role::parse(&row.role).ok_or_else(invalid)?;
    if !creator.role.can_grant(key_role) {
        return Err(AppError::forbidden(
            "the key's role exceeds its creator's current role",
        ));
    }
    // Record use at most once a minute, so reads don't turn into writes.
    if row
        .last_used_at
        .is_none_or(|t| now - t > chrono::Duration::seconds(60))
    {
        let mut active: api_keys::ActiveModel = row.clone().into();
        active.last_used_at = Set(Some(now));
        active.update(&state.db).await?;
    }
    Ok(Caller {
        role: key_role,
        region_id: row.region_id,
        store_id: row.store_id,
        via,
        ..creator
    })
}

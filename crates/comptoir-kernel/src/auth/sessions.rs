//! Web UI sessions: an opaque token in an HttpOnly, SameSite=Lax cookie, stored hashed, with
//! a CSRF token that every form must send back.

use axum::http::{HeaderMap, header};
use chrono::Utc;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};
use uuid::Uuid;

use super::tokens::{hash_token, random_token};
use crate::entities::sessions;
use crate::error::AppResult;
use crate::ids::{OrgId, UserId};
use crate::state::AppState;

pub const SESSION_COOKIE: &str = "comptoir_session";

/// Starts a session; returns the cookie value (shown to the browser only).
pub async fn create(
    state: &AppState,
    org: OrgId,
    user: UserId,
) -> AppResult<(String, sessions::Model)> {
    let token = random_token(32);
    let now = Utc::now();
    let row = sessions::ActiveModel {
        id: Set(Uuid::now_v7()),
        org_id: Set(org.0),
        user_id: Set(user.0),
        token_hash: Set(hash_token(&token)),
        csrf_token: Set(random_token(24)),
        created_at: Set(now),
        expires_at: Set(now + chrono::Duration::seconds(state.config.auth.session_ttl_secs as i64)),
    }
    .insert(&state.db)
    .await?;
    Ok((token, row))
}

/// The live session named by the request's cookie, if any.
pub async fn from_headers(
    state: &AppState,
    headers: &HeaderMap,
) -> AppResult<Option<sessions::Model>> {
    let Some(token) = cookie(headers, SESSION_COOKIE) else {
        return Ok(None);
    };
    Ok(sessions::Entity::find()
        .filter(sessions::Column::TokenHash.eq(hash_token(&token)))
        .filter(sessions::Column::ExpiresAt.gt(Utc::now()))
        .one(&state.db)
        .await?)
}

pub async fn delete(state: &AppState, id: Uuid) -> AppResult<()> {
    sessions::Entity::delete_by_id(id).exec(&state.db).await?;
    Ok(())
}

/// The `Set-Cookie` value for a session (or its removal when `token` is None).
pub fn set_cookie(state: &AppState, name: &str, token: Option<&str>, max_age_secs: u64) -> String {
    let secure = if state.config.auth.cookie_secure {
        "; Secure"
    } else {
        ""
    };
    match token {
        Some(t) => {
            format!("{name}={t}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age_secs}{secure}")
        }
        None => format!("{name}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0{secure}"),
    }
}

/// One cookie's value from the request headers.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_owned())
}

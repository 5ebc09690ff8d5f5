//! Signing in with a password, refreshing and revoking tokens.

use std::sync::OnceLock;

use chrono::Utc;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::tokens::{REFRESH_PREFIX, hash_password, hash_token, random_token, verify_password};
use crate::audit::{self, AuditEvent};
use crate::entities::{memberships, orgs, refresh_tokens, users};
use crate::error::{AppError, AppResult, ErrorCode};
use crate::ids::{OrgId, UserId};
use crate::state::AppState;

/// Tokens handed out by login and refresh.
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenPair {
    pub access_token: String,
    pub refresh_token: String,
    /// Always `Bearer`.
    pub token_type: String,
    /// Seconds until the access token expires.
    pub expires_in: u64,
}

fn invalid_credentials() -> AppError {
    AppError::new(ErrorCode::InvalidCredentials, "wrong e-mail or password")
}

/// A hash to verify against when the e-mail is unknown, so both cases take the same time.
fn dummy_hash() -> &'static str {
    static HASH: OnceLock<String> = OnceLock::new();
    HASH.get_or_init(|| hash_password("dummy password for timing").unwrap_or_default())
}

/// Checks e-mail and password and picks the organization (by slug, or the user's first).
pub async fn authenticate(
    state: &AppState,
    email: &str,
    password: &str,
    org_slug: Option<&str>,
    ip: Option<String>,
) -> AppResult<(UserId, OrgId)> {
    let email = email.trim().to_lowercase();
    // Text with control characters can't match anything, and some engines refuse NUL.
    if email
        .chars()
        .chain(org_slug.unwrap_or_default().chars())
        .any(char::is_control)
    {
        return Err(invalid_credentials());
    }
    let user = users::Entity::find()
        .filter(users::Column::Email.eq(&email))
        .one(&state.db)
        .await?;
    let phc = user
        .as_ref()
        .map(|u| u.password_hash.clone())
        .unwrap_or_else(|| dummy_hash().to_owned());
    let pw = password.to_owned();
    let ok = tokio::task::spawn_blocking(move || verify_password(&pw, &phc))
        .await
        .map_err(AppError::internal)?;
    let user = match user {
        Some(u) if ok && u.disabled_at.is_none() => u,
        other => {
            audit::record(
                &state.db,
                AuditEvent {
                    user: other.map(|u| UserId(u.id)),
                    action: "auth.login_failed",
                    target: Some(email),
                    ip,
                    ..Default::default()
                },
            )
            .await?;
            return Err(invalid_credentials());
        }
    };
    let mut query = memberships::Entity::find()
        .filter(memberships::Column::UserId.eq(user.id))
        .order_by_asc(memberships::Column::CreatedAt);
    if let Some(slug) = org_slug {
        let org = orgs::Entity::find()
            .filter(orgs::Column::Slug.eq(slug))
            .one(&state.db)
            .await?;
        query = query
            .filter(memberships::Column::OrgId.eq(org.map(|o| o.id).unwrap_or_else(Uuid::nil)));
    }
    let membership = query.one(&state.db).await?.ok_or_else(|| {
        AppError::new(
            ErrorCode::Forbidden,
            "this user is not a member of that organization",
        )
    })?;
    let (user_id, org_id) = (UserId(user.id), OrgId(membership.org_id));
    audit::record(
        &state.db,
        AuditEvent {
            org: Some(org_id),
            user: Some(user_id),
            action: "auth.login",
            ip,
            ..Default::default()
        },
    )
    .await?;
    Ok((user_id, org_id))
}

/// Issues an access token and a new refresh token.
pub async fn issue_tokens(state: &AppState, user: UserId, org: OrgId) -> AppResult<TokenPair> {
    let refresh = format!("{REFRESH_PREFIX}{}", random_token(32));
    let now = Utc::now();
    refresh_tokens::ActiveModel {
        id: Set(Uuid::now_v7()),
        org_id: Set(org.0),
        user_id: Set(user.0),
        token_hash: Set(hash_token(&refresh)),
        created_at: Set(now),
        expires_at: Set(now + chrono::Duration::seconds(state.config.auth.refresh_ttl_secs as i64)),
        revoked_at: Set(None),
    }
    .insert(&state.db)
    .await?;
    Ok(TokenPair {
        access_token: state.jwt.issue(user, org)?,
        refresh_token: refresh,
        token_type: "Bearer".into(),
        expires_in: state.jwt.access_ttl_secs,
    })
}

/// Trades a refresh token for a new pair. Each refresh token works once: the revocation is
/// a conditional UPDATE, so two concurrent uses cannot both succeed.
pub async fn refresh(state: &AppState, token: &str) -> AppResult<TokenPair> {
    let invalid = || {
        AppError::new(
            ErrorCode::InvalidToken,
            "the refresh token is invalid, used or expired",
        )
    };
    let hash = hash_token(token);
    let row = refresh_tokens::Entity::find()
        .filter(refresh_tokens::Column::TokenHash.eq(&hash))
        .one(&state.db)
        .await?
        .ok_or_else(invalid)?;
    let now = Utc::now();
    let used = refresh_tokens::Entity::update_many()
        .col_expr(
            refresh_tokens::Column::RevokedAt,
            sea_orm::sea_query::Expr::value(now),
        )
        .filter(refresh_tokens::Column::Id.eq(row.id))
        .filter(refresh_tokens::Column::RevokedAt.is_null())
        .filter(refresh_tokens::Column::ExpiresAt.gt(now))
        .exec(&state.db)
        .await?;
    if used.rows_affected != 1 {
        return Err(invalid());
    }
    // The membership may have been removed since: check before issuing.
    super::caller::from_membership(
        state,
        OrgId(row.org_id),
        UserId(row.user_id),
        super::AuthVia::AccessToken,
    )
    .await?;
    issue_tokens(state, UserId(row.user_id), OrgId(row.org_id)).await
}

/// Revokes a refresh token (logout). Unknown tokens are ignored: logout always succeeds.
pub async fn revoke_refresh(state: &AppState, token: &str) -> AppResult<()> {
    refresh_tokens::Entity::update_many()
        .col_expr(
            refresh_tokens::Column::RevokedAt,
            sea_orm::sea_query::Expr::value(Utc::now()),
        )
        .filter(refresh_tokens::Column::TokenHash.eq(hash_token(token)))
        .filter(refresh_tokens::Column::RevokedAt.is_null())
        .exec(&state.db)
        .await?;
    Ok(())
}

//! The rate-limit middleware: finds the subject (API key, user, session or IP), the route
//! class and the organization's plan, asks the limiter, and answers 429 with
//! `Retry-After` — or lets the request through with `RateLimit-*` headers.

use std::net::SocketAddr;
use std::time::Duration;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

use crate::auth::sessions::{SESSION_COOKIE, cookie};
use crate::auth::tokens::{API_KEY_PREFIX, hash_token};
use crate::entities::{api_keys, orgs, sessions};
use crate::error::{AppError, ErrorCode};
use crate::ratelimit::Decision;
use crate::state::AppState;

/// Paths never limited: health checks, metrics, static files, API docs.
fn exempt(path: &str) -> bool {
    path.starts_with("/api/v1/health")
        || path == "/metrics"
        || path.starts_with("/static/")
        || path.starts_with("/docs")
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers
        .get(axum::http::header::AUTHORIZATION)?
        .to_str()
        .ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then_some(token.trim())
}

/// The org's plan, cached for a minute (plans change rarely; a change applies within it).
async fn plan_of_org(state: &AppState, org: uuid::Uuid) -> String {
    let key = format!("org:{org}");
    state
        .plan_cache
        .get_or_compute(&key, &[], || async {
            Ok(orgs::Entity::find_by_id(org)
                .one(&state.db)
                .await?
                .map(|o| o.plan)
                .unwrap_or_else(|| "free".into()))
        })
        .await
        .unwrap_or_else(|_| "free".into())
}

async fn org_of_key(state: &AppState, hash: &str) -> Option<uuid::Uuid> {
    let key = format!("key:{hash}");
    state
        .plan_cache
        .get_or_compute(&key, &[], || async {
            Ok(api_keys::Entity::find()
                .filter(api_keys::Column::KeyHash.eq(hash))
                .one(&state.db)
                .await?
                .map(|k| k.org_id))
        })
        .await
        .ok()
        .flatten()
}

async fn org_of_session(state: &AppState, hash: &str) -> Option<uuid::Uuid> {
    let key = format!("session:{hash}");
    state
        .plan_cache
        .get_or_compute(&key, &[], || async {
            Ok(sessions::Entity::find()
                .filter(sessions::Column::TokenHash.eq(hash))
                .one(&state.db)
                .await?
                .map(|s| s.org_id))
        })
        .await
        .ok()
        .flatten()
}

/// (class, subject, plan) of a request; None when it is not limited.
async fn classify(
    state: &AppState,
    path: &str,
    headers: &HeaderMap,
    ip: &str,
) -> Option<(&'static str, String, String)> {
    if exempt(path) {
        return None;
    }
    let anonymous = || Some(("anonymous", format!("ip:{ip}"), "free".to_owned()));
    if path.starts_with("/api/v1/auth/") || path == "/login" {
        return Some(("auth", format!("ip:{ip}"), "free".to_owned()));
    }
    let api_key = bearer(headers)
        .filter(|t| t.starts_with(API_KEY_PREFIX))
        .or_else(|| headers.get("x-api-key").and_then(|v| v.to_str().ok()));
    if let Some(key) = api_key {
        let hash = hash_token(key);
        return match org_of_key(state, &hash).await {
            Some(org) => Some((
                "default",
                format!("key:{}", &hash[..24]),
                plan_of_org(state, org).await,
            )),
            None => anonymous(),
        };
    }
    if let Some(token) = bearer(headers) {
        return match state.jwt.verify(token) {
            Ok(claims) => Some((
                "default",
                format!("user:{}", claims.sub),
                plan_of_org(state, claims.org.0).await,
            )),
            Err(_) => anonymous(),
        };
    }
    if let Some(session) = cookie(headers, SESSION_COOKIE) {
        let hash = hash_token(&session);
        if let Some(org) = org_of_session(state, &hash).await {
            return Some((
                "default",
                format!("session:{}", &hash[..24]),
                plan_of_org(state, org).await,
            ));
        }
    }
    anonymous()
}

fn set(headers: &mut HeaderMap, name: &'static str, value: u64) {
    if let Ok(v) = HeaderValue::from_str(&value.to_string()) {
        headers.insert(HeaderName::from_static(name), v);
    }
}

fn decorate(headers: &mut HeaderMap, d: &Decision) {
    set(headers, "ratelimit-limit", d.limit.into());
    set(headers, "ratelimit-remaining", d.remaining.into());
    set(headers, "ratelimit-reset", d.reset_secs);
}

pub async fn rate_limit(State(state): State<AppState>, req: Request, next: Next) -> Response {
    if !state.rate_limiter.config.enabled {
        return next.run(req).await;
    }
    let ip = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip().to_string())
        .unwrap_or_else(|| "unknown".into());
    let path = req.uri().path().to_owned();
    let headers = req.headers().clone();
    let Some((class, subject, plan)) = classify(&state, &path, &headers, &ip).await else {
        return next.run(req).await;
    };
    let decision = state.rate_limiter.check(&plan, class, &subject).await;
    if !decision.allowed {
        crate::metrics::rate_limited(class);
        let mut err = AppError::new(
            ErrorCode::RateLimited,
            format!(
                "too many requests; retry in {} s",
                decision.retry_after_secs
            ),
        )
        .with_details(
            serde_json::json!({ "class": class, "retry_after_secs": decision.retry_after_secs }),
        );
        err.retry_after = Some(decision.retry_after_secs);
        let mut response = err.into_response();
        decorate(response.headers_mut(), &decision);
        return response;
    }
    let mut response = next.run(req).await;
    decorate(response.headers_mut(), &decision);
    response
}

/// How long plan and key lookups are cached.
pub const PLAN_TTL: Duration = Duration::from_secs(60);

//! Sign-in, sign-out, the dashboard and the capability areas.

use axum::Form;
use axum::extract::rejection::FormRejection;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{AppendHeaders, IntoResponse, Redirect, Response};
use comptoir_kernel::auth::service::authenticate;
use comptoir_kernel::auth::sessions::{self, SESSION_COOKIE, cookie, set_cookie};
use comptoir_kernel::auth::tokens::random_token;
use comptoir_kernel::http::{ApiPath, ClientIp};
use comptoir_kernel::{AppError, AppState, ErrorCode};
use serde::Deserialize;

use super::session::constant_time_eq;
use super::{AREAS, UiError, UiSession, render, ser};

const LOGIN_CSRF_COOKIE: &str = "comptoir_login_csrf";

pub async fn dashboard(
    State(state): State<AppState>,
    session: UiSession,
) -> Result<Response, UiError> {
    let mut health = Vec::new();
    for check in &state.health_checks {
        health.push(check.check().await);
    }
    let ctx = minijinja::context! { health => ser(&health), ..session.context("dashboard") };
    Ok(render("dashboard.html", ctx)?.into_response())
}

pub async fn area(session: UiSession, ApiPath(key): ApiPath<String>) -> Result<Response, UiError> {
    let area = AREAS
        .iter()
        .find(|a| a.key == key)
        .ok_or_else(|| UiError(AppError::not_found("page")))?;
    Ok(render(
        "area.html",
        minijinja::context! { area => ser(area), ..session.context(area.key) },
    )?
    .into_response())
}

#[derive(Debug, Deserialize, Default)]
pub struct LoginQuery {
    next: Option<String>,
}

/// Only local paths, so the form can't be used to bounce users to another site.
fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n)
            if n.starts_with('/')
                && !n.starts_with("//")
                && !n.contains('\\')
                && !n.starts_with("/login") =>
        {
            n.to_owned()
        }
        _ => "/".to_owned(),
    }
}

fn login_page(
    status: StatusCode,
    error: Option<&str>,
    email: &str,
    org: &str,
    next: &str,
) -> Result<Response, UiError> {
    // A fresh double-submit token for the sign-in form (there is no session yet).
    let csrf = random_token(24);
    let ctx = minijinja::context! { error, email, org, next, csrf_token => &csrf, me => () };
    let cookie =
        format!("{LOGIN_CSRF_COOKIE}={csrf}; Path=/; HttpOnly; SameSite=Strict; Max-Age=3600");
    Ok((
        status,
        AppendHeaders([(header::SET_COOKIE, cookie)]),
        render("login.html", ctx)?,
    )
        .into_response())
}

pub async fn login_form(Query(q): Query<LoginQuery>) -> Result<Response, UiError> {
    login_page(StatusCode::OK, None, "", "", &safe_next(q.next.as_deref()))
}

#[derive(Debug, Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    org: String,
    #[serde(default)]
    next: String,
}

pub async fn login(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    form: Result<Form<LoginForm>, FormRejection>,
) -> Result<Response, UiError> {
    let Form(form) =
        form.map_err(|e| UiError(AppError::new(ErrorCode::BadRequest, e.body_text())))?;
    let next = safe_next(Some(&form.next));
    let expected = cookie(&headers, LOGIN_CSRF_COOKIE).unwrap_or_default();
    if expected.is_empty() || !constant_time_eq(expected.as_bytes(), form.csrf_token.as_bytes()) {
        return login_page(
            StatusCode::FORBIDDEN,
            Some("The form expired. Please sign in again."),
            &form.email,
            &form.org,
            &next,
        );
    }
    let org = Some(form.org.trim()).filter(|o| !o.is_empty());
    match authenticate(
        &state,
        &form.email,
        &form.password,
        org,
        ip.map(|i| i.to_string()),
    )
    .await
    {
        Ok((user, org)) => {
            let (token, _) = sessions::create(&state, org, user).await?;
            let ttl = state.config.auth.session_ttl_secs;
            let cookies = AppendHeaders([
                (
                    header::SET_COOKIE,
                    set_cookie(&state, SESSION_COOKIE, Some(&token), ttl),
                ),
                (
                    header::SET_COOKIE,
                    format!("{LOGIN_CSRF_COOKIE}=; Path=/; Max-Age=0"),
                ),
            ]);
            Ok((cookies, Redirect::to(&next)).into_response())
        }
        Err(e) if matches!(e.code, ErrorCode::InvalidCredentials | ErrorCode::Forbidden) => {
            login_page(
                StatusCode::UNAUTHORIZED,
                Some(&e.message),
                &form.email,
                &form.org,
                &next,
            )
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Debug, Deserialize)]
pub struct CsrfForm {
    #[serde(default)]
    csrf_token: String,
}

pub async fn logout(
    State(state): State<AppState>,
    session: UiSession,
    form: Result<Form<CsrfForm>, FormRejection>,
) -> Result<Response, UiError> {
    let Form(form) =
        form.map_err(|e| UiError(AppError::new(ErrorCode::BadRequest, e.body_text())))?;
    session.check_csrf(&form.csrf_token)?;
    if let comptoir_kernel::auth::AuthVia::Session { id } = session.caller.via {
        sessions::delete(&state, id).await?;
    }
    let clear = set_cookie(&state, SESSION_COOKIE, None, 0);
    Ok((
        AppendHeaders([(header::SET_COOKIE, clear)]),
        Redirect::to("/login"),
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn next_is_always_local() {
        assert_eq!(safe_next(Some("/settings/members")), "/settings/members");
        for bad in [
            "//evil.example",
            "https://evil.example",
            "/\\evil",
            "/login?next=/x",
            "",
        ] {
            assert_eq!(safe_next(Some(bad)), "/", "{bad}");
        }
        assert_eq!(safe_next(None), "/");
    }
}

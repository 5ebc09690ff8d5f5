//! Members and API keys pages.

use axum::Form;
use axum::extract::rejection::FormRejection;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use comptoir_kernel::auth::api_keys::{self, CreateApiKey};
use comptoir_kernel::auth::{Permission, Role, Scope};
use comptoir_kernel::http::ApiPath;
use comptoir_kernel::ids::{ApiKeyId, MembershipId};
use comptoir_kernel::tenancy::service::{self as members, MemberChange, NewMember};
use comptoir_kernel::validate::{Email, NewPassword};
use comptoir_kernel::{AppError, AppState, ErrorCode};
use serde::Deserialize;
use uuid::Uuid;

use super::{UiError, UiSession, render, ser};

fn form<T>(form: Result<Form<T>, FormRejection>) -> Result<T, UiError> {
    form.map(|Form(f)| f)
        .map_err(|e| UiError(AppError::new(ErrorCode::BadRequest, e.body_text())))
}

#[derive(Debug, Deserialize, Default)]
pub struct Done {
    done: Option<String>,
}

fn notice(done: Option<&str>) -> Option<&'static str> {
    match done? {
        "added" => Some("Member added."),
        "updated" => Some("Role updated."),
        "removed" => Some("Member removed."),
        "revoked" => Some("Key revoked; it stops working at once."),
        _ => None,
    }
}

pub async fn members(
    State(state): State<AppState>,
    session: UiSession,
    Query(q): Query<Done>,
) -> Result<Response, UiError> {
    let list = members::list_members(&state.db, session.caller.org_id).await?;
    let roles: Vec<&str> = Role::ALL
        .iter()
        .filter(|r| session.caller.role.can_grant(**r))
        .map(|r| r.as_str())
        .collect();
    let ctx = minijinja::context! {
        members => ser(&list), roles, notice => notice(q.done.as_deref()),
        can_manage => session.caller.role.can(Permission::ManageMembers),
        ..session.context("members")
    };
    Ok(render("members.html", ctx)?.into_response())
}

#[derive(Debug, Deserialize)]
pub struct AddMemberForm {
    #[serde(default)]
    csrf_token: String,
    email: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    password: String,
    role: String,
    #[serde(default)]
    region_id: String,
    #[serde(default)]
    store_id: String,
}

fn optional_uuid(field: &str, raw: &str) -> Result<Option<Uuid>, AppError> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Ok(None);
    }
    Uuid::parse_str(raw)
        .map(Some)
        .map_err(|_| AppError::field(field, "not a valid id"))
}

fn role(raw: &str) -> Result<Role, AppError> {
    Role::parse(raw).ok_or_else(|| AppError::field("role", "unknown role"))
}

pub async fn add_member(
    State(state): State<AppState>,
    session: UiSession,
    f: Result<Form<AddMemberForm>, FormRejection>,
) -> Result<Response, UiError> {
    let f = form(f)?;
    session.check_csrf(&f.csrf_token)?;
    let new = NewMember {
        email: Email::parse("email", &f.email)?,
        name: Some(f.name).filter(|n| !n.trim().is_empty()),
        password: Some(f.password)
            .filter(|p| !p.is_empty())
            .map(|p| NewPassword::parse("password", &p))
            .transpose()?,
        role: role(&f.role)?,
        region_id: optional_uuid("region_id", &f.region_id)?,
        store_id: optional_uuid("store_id", &f.store_id)?,
    };
    members::add_member(&state.db, session.caller.org_id, new, Some(&session.caller)).await?;
    Ok(Redirect::to("/settings/members?done=added").into_response())
}

#[derive(Debug, Deserialize)]
pub struct RoleForm {
    #[serde(default)]
    csrf_token: String,
    role: String,
}

pub async fn change_role(
    State(state): State<AppState>,
    session: UiSession,
    ApiPath(id): ApiPath<MembershipId>,
    f: Result<Form<RoleForm>, FormRejection>,
) -> Result<Response, UiError> {
    let f = form(f)?;
    session.check_csrf(&f.csrf_token)?;
    let change = MemberChange {
        role: Some(role(&f.role)?),
        ..Default::default()
    };
    members::update_member(&state.db, &session.caller, id, change).await?;
    Ok(Redirect::to("/settings/members?done=updated").into_response())
}

#[derive(Debug, Deserialize)]
pub struct CsrfOnly {
    #[serde(default)]
    csrf_token: String,
}

pub async fn remove_member(
    State(state): State<AppState>,
    session: UiSession,
    ApiPath(id): ApiPath<MembershipId>,
    f: Result<Form<CsrfOnly>, FormRejection>,
) -> Result<Response, UiError> {
    session.check_csrf(&form(f)?.csrf_token)?;
    members::remove_member(&state.db, &session.caller, id).await?;
    Ok(Redirect::to("/settings/members?done=removed").into_response())
}

async fn keys_page(
    state: &AppState,
    session: &UiSession,
    created: Option<String>,
    done: Option<&str>,
) -> Result<Response, UiError> {
    let keys = api_keys::list(&state.db, &session.caller).await?;
    let ctx = minijinja::context! { keys => ser(&keys), created, notice => notice(done), ..session.context("api-keys") };
    Ok(render("api_keys.html", ctx)?.into_response())
}

pub async fn api_keys(
    State(state): State<AppState>,
    session: UiSession,
    Query(q): Query<Done>,
) -> Result<Response, UiError> {
    keys_page(&state, &session, None, q.done.as_deref()).await
}

#[derive(Debug, Deserialize)]
pub struct CreateKeyForm {
    #[serde(default)]
    csrf_token: String,
    name: String,
    #[serde(default)]
    access: String,
    #[serde(default)]
    expires_in_days: String,
}

pub async fn create_api_key(
    State(state): State<AppState>,
    session: UiSession,
    f: Result<Form<CreateKeyForm>, FormRejection>,
) -> Result<Response, UiError> {
    let f = form(f)?;
    session.check_csrf(&f.csrf_token)?;
    let scopes = match f.access.as_str() {
        "read" => Some(vec![Scope::Read]),
        _ => None,
    };
    let expires_in_days =
        match f.expires_in_days.trim() {
            "" => None,
            d => Some(d.parse::<u32>().map_err(|_| {
                AppError::field("expires_in_days", "must be a whole number of days")
            })?),
        };
    let req = CreateApiKey {
        name: f.name,
        role: None,
        scopes,
        expires_in_days,
    };
    let created = api_keys::create(&state.db, &session.caller, req).await?;
    keys_page(&state, &session, Some(created.key), None).await
}

pub async fn revoke_api_key(
    State(state): State<AppState>,
    session: UiSession,
    ApiPath(id): ApiPath<ApiKeyId>,
    f: Result<Form<CsrfOnly>, FormRejection>,
) -> Result<Response, UiError> {
    session.check_csrf(&form(f)?.csrf_token)?;
    api_keys::revoke(&state.db, &session.caller, id).await?;
    Ok(Redirect::to("/settings/api-keys?done=revoked").into_response())
}

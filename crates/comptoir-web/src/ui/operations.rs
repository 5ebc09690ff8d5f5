//! The Operations page (owners and admins): the organization's jobs by kind and status,
//! recent failures, dead letters with replay buttons, and alerts.

use axum::Form;
use axum::extract::rejection::FormRejection;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use comptoir_kernel::auth::Permission;
use comptoir_kernel::http::ApiPath;
use comptoir_kernel::jobs::api::TaskView;
use comptoir_kernel::jobs::{TaskId, store};
use comptoir_kernel::{AppError, AppState, ErrorCode};
use serde::{Deserialize, Serialize};

use super::{UiError, UiSession, render, ser};

#[derive(Debug, Deserialize, Default)]
pub struct Done {
    replayed: Option<u64>,
}

#[derive(Serialize)]
struct AlertRow {
    rule: String,
    severity: String,
    message: String,
    opened_at: String,
    resolved_at: Option<String>,
}

pub async fn page(
    State(state): State<AppState>,
    session: UiSession,
    Query(q): Query<Done>,
) -> Result<Response, UiError> {
    session.caller.require(Permission::ManageJobs)?;
    let org = session.caller.org_id;
    let counts = store::org_counts(&state.db, org).await?;
    let dead: Vec<TaskView> = store::dead(&state.db, Some(org), 100)
        .await?
        .into_iter()
        .map(TaskView::from)
        .collect();
    let failures: Vec<TaskView> = store::org_failures(&state.db, org, 20)
        .await?
        .into_iter()
        .map(TaskView::from)
        .collect();
    let alerts: Vec<AlertRow> = comptoir_kernel::alerts::recent(&state.db, 20)
        .await?
        .into_iter()
        .map(|a| AlertRow {
            rule: a.rule,
            severity: a.severity,
            message: a.message,
            opened_at: a.opened_at.to_rfc3339(),
            resolved_at: a.resolved_at.map(|t| t.to_rfc3339()),
        })
        .collect();
    let notice = q.replayed.map(|n| format!("{n} task(s) queued again."));
    let ctx = minijinja::context! {
        counts => ser(&counts), dead => ser(&dead), failures => ser(&failures), alerts => ser(&alerts), notice,
        ..session.context("operations")
    };
    Ok(render("operations.html", ctx)?.into_response())
}

#[derive(Debug, Deserialize)]
pub struct CsrfOnly {
    #[serde(default)]
    csrf_token: String,
}

async fn replay(
    state: &AppState,
    session: &UiSession,
    form: Result<Form<CsrfOnly>, FormRejection>,
    id: Option<TaskId>,
) -> Result<Response, UiError> {
    let Form(form) =
        form.map_err(|e| UiError(AppError::new(ErrorCode::BadRequest, e.body_text())))?;
    session.check_csrf(&form.csrf_token)?;
    session.caller.require(Permission::ManageJobs)?;
    let n = store::replay(&state.db, Some(session.caller.org_id), id).await?;
    if id.is_some() && n == 0 {
        return Err(UiError(AppError::not_found("dead letter")));
    }
    Ok(Redirect::to(&format!("/operations?replayed={n}")).into_response())
}

pub async fn replay_one(
    State(state): State<AppState>,
    session: UiSession,
    ApiPath(id): ApiPath<TaskId>,
    form: Result<Form<CsrfOnly>, FormRejection>,
) -> Result<Response, UiError> {
    replay(&state, &session, form, Some(id)).await
}

pub async fn replay_all(
    State(state): State<AppState>,
    session: UiSession,
    form: Result<Form<CsrfOnly>, FormRejection>,
) -> Result<Response, UiError> {
    replay(&state, &session, form, None).await
}

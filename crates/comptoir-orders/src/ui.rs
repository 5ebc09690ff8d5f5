//! Web pages: the orders list with status filters and live counts (refreshed from
//! `/api/v1/orders/counts`), and an order's page with its lines, reservation, timeline and
//! the transitions its state allows. Dead letters and their replay live on the Operations
//! page. Everything goes through the same services as the API.

use std::collections::HashMap;
use std::sync::OnceLock;

use axum::Form;
use axum::Router;
use axum::extract::rejection::FormRejection;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use comptoir_kernel::auth::Permission;
use comptoir_kernel::http::ApiPath;
use comptoir_kernel::{AppError, AppState, ErrorCode};
use comptoir_web::ui::{LAYOUT_TEMPLATES, UiError, UiSession, render_with, ser};
use minijinja::{Environment, context};
use serde::Deserialize;

use crate::model::OrderId;
use crate::queries::{self, OrderFilter};
use crate::scope::OrderScope;
use crate::state::{Status, transition};
use crate::transitions;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/orders", get(list))
        .route("/orders/{id}", get(show))
        .route("/orders/{id}/{action}", post(act))
}

fn env() -> &'static Environment<'static> {
    static ENV: OnceLock<Environment<'static>> = OnceLock::new();
    ENV.get_or_init(|| {
        let mut env = Environment::new();
        let own: &[(&'static str, &'static str)] = &[
            (
                "orders_list.html",
                include_str!("../templates/orders_list.html"),
            ),
            (
                "orders_show.html",
                include_str!("../templates/orders_show.html"),
            ),
        ];
        for (name, source) in LAYOUT_TEMPLATES.iter().chain(own) {
            env.add_template(name, source)
                .expect("embedded templates are valid");
        }
        env
    })
}

fn page(name: &str, ctx: minijinja::Value) -> Result<Response, UiError> {
    Ok((StatusCode::OK, render_with(env(), name, ctx)?).into_response())
}

async fn list(
    State(state): State<AppState>,
    session: UiSession,
    Query(raw): Query<HashMap<String, String>>,
) -> Result<Response, UiError> {
    let org = session.caller.org_id;
    let get = |k: &str| {
        raw.get(k)
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    };
    let filter = OrderFilter {
        status: get("status"),
        q: get("q"),
        cursor: get("cursor"),
        ..Default::default()
    };
    let scope = OrderScope::of(&state.db, &session.caller).await?;
    let (result, error) = match queries::list_orders(&state.db, org, &scope, &filter).await {
        Ok(p) => (p, None),
        Err(e) if e.code.status().is_client_error() => (
            crate::model::OrderPage {
                items: vec![],
                next_cursor: None,
            },
            Some(e.message),
        ),
        Err(e) => return Err(e.into()),
    };
    let counts = queries::counts(&state.db, org, &scope).await?;
    let ctx = context! {
        page => ser(&result), error, counts => ser(&counts),
        status => filter.status, q => filter.q,
        statuses => ser(&Status::ALL.iter().map(|s| s.as_str()).collect::<Vec<_>>()),
        ..session.context("orders")
    };
    page("orders_list.html", ctx)
}

const ACTIONS: [(&str, Status); 4] = [
    ("invoice", Status::Invoiced),
    ("ship", Status::Shipped),
    ("deliver", Status::Delivered),
    ("cancel", Status::Cancelled),
];

async fn show(
    State(state): State<AppState>,
    session: UiSession,
    ApiPath(id): ApiPath<OrderId>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, UiError> {
    let scope = OrderScope::of(&state.db, &session.caller).await?;
    let order = queries::within(
        queries::get_order(&state.db, session.caller.org_id, id).await?,
        &scope,
    )?;
    let can_write = session.caller.role.can(Permission::Write);
    let actions: Vec<&str> = ACTIONS
        .iter()
        .filter(|(_, to)| can_write && transition(order.summary.status, *to).is_ok())
        .map(|(a, _)| *a)
        .collect();
    let ctx = context! {
        o => ser(&order), actions, notice => q.get("done").cloned(),
        can_replay => session.caller.role.can(Permission::ManageJobs),
        ..session.context("orders")
    };
    page("orders_show.html", ctx)
}

#[derive(Debug, Deserialize)]
struct ActionForm {
    #[serde(default)]
    csrf_token: String,
    reason: Option<String>,
}

async fn act(
    State(state): State<AppState>,
    session: UiSession,
    ApiPath((id, action)): ApiPath<(OrderId, String)>,
    form: Result<Form<ActionForm>, FormRejection>,
) -> Result<Response, UiError> {
    let Form(form) =
        form.map_err(|e| UiError(AppError::new(ErrorCode::BadRequest, e.body_text())))?;
    session.check_csrf(&form.csrf_token)?;
    let Some((_, to)) = ACTIONS.iter().find(|(a, _)| *a == action) else {
        return Err(UiError(AppError::not_found("action")));
    };
    let result = transitions::change(&state.db, &session.caller, id, *to, form.reason).await;
    if let Some(p) = state.ext::<crate::Pipeline>() {
        p.invalidate(&state, session.caller.org_id, id).await;
    }
    result?;
    Ok(Redirect::to(&format!("/orders/{}?done={}", id.0, to.as_str())).into_response())
}

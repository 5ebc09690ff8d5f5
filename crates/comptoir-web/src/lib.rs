//! Router composition: the API routes of every slice (with their OpenAPI), `/docs`, the
//! server-rendered web UI, embedded static assets, and the middleware every request goes
//! through (request id, panic guard, timeout, body limit, security headers).

mod assets;
mod fallback;
pub mod openapi;
pub use utoipa_axum::router::OpenApiRouter;
pub mod ui;

use std::time::Duration;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Request};
use axum::http::{HeaderName, HeaderValue};
use axum::middleware::{Next, from_fn, from_fn_with_state};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use comptoir_kernel::http::ratelimit::rate_limit;
use comptoir_kernel::http::request_id::request_context;
use comptoir_kernel::{AppError, AppState, ErrorCode};
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::set_header::SetResponseHeaderLayer;
/// The whole HTTP application. `api` holds the API routes of the kernel and every slice,
/// `pages` the slices' web pages (they share the UI's security headers).
pub fn app(state: AppState, api: OpenApiRouter<AppState>, pages: Router<AppState>) -> Router {
    let (api_router, spec) = openapi::split(api);
    let timeout = Duration::from_secs(state.config.http.request_timeout_secs);
    Router::new()
        .merge(api_router)
        .merge(openapi::docs(spec))
        .merge(ui::router())
        .merge(ui::with_ui_headers(pages))
        .route("/static/{file}", get(assets::serve))
        .route("/metrics", get(metrics))
        .fallback(fallback::not_found)
        .method_not_allowed_fallback(fallback::method_not_allowed)
        .layer(DefaultBodyLimit::max(state.config.http.body_limit_bytes))
        .layer(from_fn(move |req: Request, next: Next| {
            with_timeout(timeout, req, next)
        }))
        .layer(CatchPanicLayer::custom(|_| {
            AppError::internal(anyhow::anyhow!("handler panicked")).into_response()
        }))
        .layer(header("x-content-type-options", "nosniff"))
        .layer(header("x-frame-options", "DENY"))
        .layer(header("referrer-policy", "same-origin"))
        .layer(from_fn_with_state(state.clone(), rate_limit))
        .layer(from_fn(request_context))
        .with_state(state)
}

fn header(name: &'static str, value: &'static str) -> SetResponseHeaderLayer<HeaderValue> {
    SetResponseHeaderLayer::if_not_present(
        HeaderName::from_static(name),
        HeaderValue::from_static(value),
    )
}

/// Prometheus text exposition (version 0.0.4).
async fn metrics(axum::extract::State(state): axum::extract::State<AppState>) -> Response {
    let body = comptoir_kernel::metrics::render(&state).await;
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        body,
    )
        .into_response()
}

async fn with_timeout(limit: Duration, req: Request, next: Next) -> Response {
    match tokio::time::timeout(limit, next.run(req)).await {
        Ok(response) => response,
        Err(_) => AppError::new(ErrorCode::Timeout, "the request took too long").into_response(),
    }
}

//! The server-rendered web UI: sign-in, the dashboard shell with one area per capability,
//! members and API keys. Forms work without JavaScript and carry a CSRF token.

mod operations;
mod pages;
mod session;
mod settings;

use std::sync::OnceLock;

use axum::Router;
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use comptoir_kernel::{AppError, AppState, ErrorCode};
use minijinja::Environment;
use serde::Serialize;
use tower_http::set_header::SetResponseHeaderLayer;

pub use session::UiSession;

pub fn router() -> Router<AppState> {
    with_ui_headers(shell())
}

fn shell() -> Router<AppState> {
    Router::new()
        .route("/", get(pages::dashboard))
        .route("/login", get(pages::login_form).post(pages::login))
        .route("/logout", post(pages::logout))
        .route("/area/{key}", get(pages::area))
        .route(
            "/settings/members",
            get(settings::members).post(settings::add_member),
        )
        .route("/settings/members/{id}/role", post(settings::change_role))
        .route(
            "/settings/members/{id}/remove",
            post(settings::remove_member),
        )
        .route(
            "/settings/api-keys",
            get(settings::api_keys).post(settings::create_api_key),
        )
        .route(
            "/settings/api-keys/{id}/revoke",
            post(settings::revoke_api_key),
        )
        .route("/operations", get(operations::page))
        .route("/operations/dead/replay", post(operations::replay_all))
        .route("/operations/dead/{id}/replay", post(operations::replay_one))
}

/// Adds the UI's security headers (CSP) to a router of pages (the shell's, or a slice's).
pub fn with_ui_headers(router: Router<AppState>) -> Router<AppState> {
    router.layer(SetResponseHeaderLayer::if_not_present(
        HeaderName::from_static("content-security-policy"),
        HeaderValue::from_static("default-src 'self'; form-action 'self'; frame-ancestors 'none'"),
    ))
}

/// The layout templates a slice's own environment needs so its pages can
/// `{% extends "base.html" %}`.
pub const LAYOUT_TEMPLATES: &[(&str, &str)] = &[
    ("base.html", include_str!("../../templates/base.html")),
    (
        "error_body.html",
        include_str!("../../templates/error_body.html"),
    ),
];

/// Renders a page of a slice's environment (built with [`LAYOUT_TEMPLATES`]).
pub fn render_with(
    env: &Environment<'_>,
    name: &str,
    ctx: minijinja::Value,
) -> Result<Html<String>, UiError> {
    env.get_template(name)
        .and_then(|t| t.render(ctx))
        .map(Html)
        .map_err(|e| {
            UiError(AppError::internal(anyhow::anyhow!(
                "template {name}: {e:#}"
            )))
        })
}

/// One capability in the navigation.
#[derive(Debug, Clone, Serialize)]
pub struct Area {
    pub key: &'static str,
    pub title: &'static str,
    pub href: &'static str,
    pub blurb: &'static str,
    pub ready: bool,
}

/// The capabilities, in navigation order. A slice flips `ready` and its `href` when its
/// pages land.
pub const AREAS: &[Area] = &[
    Area {
        key: "catalog",
        title: "Catalog & stock",
        href: "/catalog",
        blurb: "Products, categories, locations and stock levels.",
        ready: true,
    },
    Area {
        key: "seo",
        title: "Product sheets",
        href: "/area/seo",
        blurb: "SEO product sheets generated and published to your shops.",
        ready: false,
    },
    Area {
        key: "keywords",
        title: "Keywords",
        href: "/area/keywords",
        blurb: "Marketplace keyword research, trends and forecasts.",
        ready: false,
    },
    Area {
        key: "retail",
        title: "Retail performance",
        href: "/retail",
        blurb: "Multi-store dashboards, consolidation and what-if planning.",
        ready: true,
    },
    Area {
        key: "reco",
        title: "Reviews & couriers",
        href: "/reco/couriers",
        blurb: "Review sentiment, recommendations and courier ranking.",
        ready: true,
    },
    Area {
        key: "orders",
        title: "Orders",
        href: "/orders",
        blurb: "Order intake, stock reservation and fulfilment.",
        ready: true,
    },
    Area {
        key: "billing",
        title: "Invoices",
        href: "/area/billing",
        blurb: "Invoices, credit notes and Factur-X.",
        ready: false,
    },
    Area {
        key: "documents",
        title: "Documents",
        href: "/area/documents",
        blurb: "Uploads, OCR, classification and search.",
        ready: false,
    },
    Area {
        key: "notify",
        title: "Notifications",
        href: "/area/notify",
        blurb: "E-mail, webhooks, SMS and in-app messages.",
        ready: false,
    },
];

fn env() -> &'static Environment<'static> {
    static ENV: OnceLock<Environment<'static>> = OnceLock::new();
    ENV.get_or_init(|| {
        let mut env = Environment::new();
        for (name, source) in [
            ("base.html", include_str!("../../templates/base.html")),
            ("login.html", include_str!("../../templates/login.html")),
            (
                "dashboard.html",
                include_str!("../../templates/dashboard.html"),
            ),
            ("area.html", include_str!("../../templates/area.html")),
            ("members.html", include_str!("../../templates/members.html")),
            (
                "api_keys.html",
                include_str!("../../templates/api_keys.html"),
            ),
            ("error.html", include_str!("../../templates/error.html")),
            (
                "error_body.html",
                include_str!("../../templates/error_body.html"),
            ),
            (
                "operations.html",
                include_str!("../../templates/operations.html"),
            ),
        ] {
            env.add_template(name, source)
                .expect("embedded templates are valid");
        }
        env
    })
}

/// Any serializable value as a template value.
pub fn ser<T: Serialize + ?Sized>(value: &T) -> minijinja::Value {
    minijinja::Value::from(minijinja::value::Serde(value))
}

/// Renders a page; templates named `*.html` are auto-escaped.
pub fn render(name: &str, ctx: minijinja::Value) -> Result<Html<String>, UiError> {
    env()
        .get_template(name)
        .and_then(|t| t.render(ctx))
        .map(Html)
        .map_err(|e| {
            UiError(AppError::internal(anyhow::anyhow!(
                "template {name}: {e:#}"
            )))
        })
}

/// An error shown as an HTML page with the same status and code the API would use.
#[derive(Debug)]
pub struct UiError(pub AppError);

impl From<AppError> for UiError {
    fn from(e: AppError) -> Self {
        UiError(e)
    }
}

impl IntoResponse for UiError {
    fn into_response(self) -> Response {
        let status = self.0.code.status();
        let body = self.0.body();
        if self.0.code == ErrorCode::InternalError {
            // Log the cause through the API error path.
            let _ = self.0.into_response();
        }
        let title = status.canonical_reason().unwrap_or("Error");
        let ctx = minijinja::context! {
            status => status.as_u16(), title, message => body.message, correlation_id => body.correlation_id,
        };
        match env().get_template("error.html").and_then(|t| t.render(ctx)) {
            Ok(html) => (status, Html(html)).into_response(),
            Err(_) => (StatusCode::INTERNAL_SERVER_ERROR, "error").into_response(),
        }
    }
}

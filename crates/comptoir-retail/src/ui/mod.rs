//! Web pages: the retail dashboard (`/retail`: period and scope, figures, charts,
//! drill-down, performers, CSV links), the what-if simulator (`/retail/whatif`) and the
//! saved scenarios (`/retail/scenarios`: list, one scenario, comparison). Both go
//! through the same services as the API ([`crate::dashboard::dashboard`],
//! [`crate::whatif::simulate`]), so the caller's role scoping applies unchanged: an id
//! outside it is a 404 page.

mod dashboard;
mod fmt;
mod scenarios;
pub mod svg;
mod whatif;
mod whatif_csv;

use std::collections::HashMap;
use std::sync::OnceLock;

use axum::Router;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use comptoir_kernel::error::FieldError;
use comptoir_kernel::{AppError, AppState, ErrorCode};
use comptoir_web::ui::{LAYOUT_TEMPLATES, UiError, render_with};
use minijinja::Environment;
use uuid::Uuid;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/retail", get(dashboard::show))
        .route("/retail/whatif", get(whatif::show))
        .route("/retail/whatif.csv", get(whatif::csv))
        .route("/retail/scenarios", get(scenarios::list).post(whatif::save))
        .route("/retail/scenarios/compare", get(scenarios::compare))
        .route("/retail/scenarios/{id}", get(scenarios::show))
}

fn env() -> &'static Environment<'static> {
    static ENV: OnceLock<Environment<'static>> = OnceLock::new();
    ENV.get_or_init(|| {
        let mut env = Environment::new();
        let own: &[(&'static str, &'static str)] = &[
            (
                "retail_nav.html",
                include_str!("../../templates/retail_nav.html"),
            ),
            (
                "retail_dashboard.html",
                include_str!("../../templates/retail_dashboard.html"),
            ),
            (
                "retail_whatif.html",
                include_str!("../../templates/retail_whatif.html"),
            ),
            (
                "retail_macros.html",
                include_str!("../../templates/retail_macros.html"),
            ),
            (
                "retail_scenarios.html",
                include_str!("../../templates/retail_scenarios.html"),
            ),
            (
                "retail_scenario.html",
                include_str!("../../templates/retail_scenario.html"),
            ),
            (
                "retail_compare.html",
                include_str!("../../templates/retail_compare.html"),
            ),
        ];
        for (name, source) in LAYOUT_TEMPLATES.iter().chain(own) {
            env.add_template(name, source)
                .expect("embedded templates are valid");
        }
        fmt::register(&mut env);
        env
    })
}

fn page(name: &str, status: StatusCode, ctx: minijinja::Value) -> Result<Response, UiError> {
    Ok((status, render_with(env(), name, ctx)?).into_response())
}

/// The query of a page as typed: trimmed, empty fields absent.
struct Params(HashMap<String, String>);

impl Params {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).map(|v| v.trim()).filter(|v| !v.is_empty())
    }

    /// An optional id; a malformed one is reported on its field.
    fn id(&self, key: &str, errors: &mut Vec<FieldError>) -> Option<Uuid> {
        let raw = self.get(key)?;
        match Uuid::parse_str(raw) {
            Ok(id) => Some(id),
            Err(_) => {
                errors.push(field_error(key, "not an id"));
                None
            }
        }
    }
}

fn field_error(field: &str, reason: &str) -> FieldError {
    FieldError {
        field: field.into(),
        reason: reason.into(),
    }
}

/// The field errors of a client error (`details.fields`), if it has any: such errors are
/// shown next to the form's fields; any other error is an error page.
fn field_errors(e: &AppError) -> Option<Vec<FieldError>> {
    if !matches!(
        e.code,
        ErrorCode::ValidationFailed | ErrorCode::InvalidParameter
    ) {
        return None;
    }
    let fields = e.details.get("fields")?.as_array()?;
    let out: Vec<FieldError> = fields
        .iter()
        .filter_map(|f| {
            Some(field_error(
                f.get("field")?.as_str()?,
                f.get("reason")?.as_str()?,
            ))
        })
        .collect();
    (!out.is_empty()).then_some(out)
}

/// Field errors as `field → reason`, for the templates.
fn error_map(errors: &[FieldError]) -> HashMap<String, String> {
    let mut map = HashMap::new();
    for e in errors {
        map.entry(e.field.clone())
            .or_insert_with(|| e.reason.clone());
    }
    map
}

/// A region or store offered in a form's list.
#[derive(serde::Serialize)]
struct Choice<'a> {
    id: Uuid,
    code: &'a str,
    name: &'a str,
}

fn region_choices(regions: &[crate::entities::regions::Model]) -> Vec<Choice<'_>> {
    regions
        .iter()
        .map(|r| Choice {
            id: r.id,
            code: &r.code,
            name: &r.name,
        })
        .collect()
}

fn store_choices(stores: &[crate::scope::StoreRow]) -> Vec<Choice<'_>> {
    stores
        .iter()
        .map(|s| Choice {
            id: s.id,
            code: &s.code,
            name: &s.name,
        })
        .collect()
}

fn to_f64(d: rust_decimal::Decimal) -> f64 {
    rust_decimal::prelude::ToPrimitive::to_f64(&d).unwrap_or(0.0)
}

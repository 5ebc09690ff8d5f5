//! `/retail/whatif`: the simulator's form (levers on one scope, start month, horizon) and,
//! once submitted, the projection of [`crate::whatif::simulate`]: totals, regions and stores
//! (baseline vs projected revenue, margin and attainment) and the sensitivity as a chart.
//! The form is a GET (a simulation changes nothing, and the URL can be shared); bad input
//! is shown next to its field with a 400, a scope outside the caller's is a 404 page.
//! Under the projection, a POST form saves the same fields as a scenario ([`save`]).

use std::collections::HashMap;

use axum::extract::rejection::FormRejection;
use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{Datelike, Utc};
use comptoir_kernel::auth::Permission;
use comptoir_kernel::error::FieldError;
use comptoir_kernel::{AppError, AppState, ErrorCode};
use comptoir_web::ui::{UiError, UiSession, ser};
use minijinja::context;
use serde::Serialize;
use serde_json::{Value, json};
use uuid::Uuid;

use super::svg::{self, Bar};
use super::{
    Params, error_map, field_error, field_errors, page, region_choices, store_choices, to_f64,
};
use crate::dashboard::period::parse_month;
use crate::scenarios::{self, ScenarioInput};
use crate::scope::{visible_regions, visible_stores};
use crate::whatif::{self, Projection, WhatIfInput};

/// The percentage levers of the form: field, lever kind, label.
const LEVERS: [(&str, &str, &str); 4] = [
    ("price", "price", "Price change (%)"),
    ("volume", "volume", "Volume change (%)"),
    ("cost", "cost", "Purchase cost change (%)"),
    ("target", "target", "Target change (%)"),
];

/// The form as typed, shown again with its errors.
#[derive(Debug, Default, Serialize)]
struct Form {
    from: String,
    months: String,
    /// `last_year` (default) or `forecast`.
    baseline: String,
    scope: String,
    price: String,
    volume: String,
    cost: String,
    elasticity: String,
    target: String,
}

impl Form {
    fn from_params(p: &Params) -> Form {
        let get = |k: &str| p.get(k).unwrap_or_default().to_owned();
        Form {
            from: get("from"),
            months: get("months"),
            baseline: get("baseline"),
            scope: get("scope"),
            price: get("price"),
            volume: get("volume"),
            cost: get("cost"),
            elasticity: get("elasticity"),
            target: get("target"),
        }
    }

    fn defaults() -> Form {
        let today = Utc::now().date_naive();
        Form {
            from: format!("{:04}-{:02}", today.year(), today.month()),
            months: "12".into(),
            ..Form::default()
        }
    }

    /// The form as a query string (what the CSV links repeat).
    fn query(&self) -> String {
        let mut q = url::form_urlencoded::Serializer::new(String::new());
        q.append_pair("run", "1");
        for (k, v) in [
            ("from", &self.from),
            ("months", &self.months),
            ("baseline", &self.baseline),
            ("scope", &self.scope),
            ("price", &self.price),
            ("volume", &self.volume),
            ("cost", &self.cost),
            ("elasticity", &self.elasticity),
            ("target", &self.target),
        ] {
            if !v.is_empty() {
                q.append_pair(k, v);
            }
        }
        q.finish()
    }

    fn value(&self, field: &str) -> &str {
        match field {
            "price" => &self.price,
            "volume" => &self.volume,
            "cost" => &self.cost,
            "target" => &self.target,
            _ => &self.elasticity,
        }
    }
}

/// `12`, `-3.5`, `+2,5` (a decimal comma is accepted); empty is absent.
fn number(field: &str, raw: &str, errors: &mut Vec<FieldError>) -> Option<f64> {
    let s = raw.trim().replace(',', ".");
    if s.is_empty() {
        return None;
    }
    match s.trim_start_matches('+').parse::<f64>() {
        Ok(v) if v.is_finite() => Some(v),
        _ => {
            errors.push(field_error(field, "not a number"));
            None
        }
    }
}

/// The lever scope named by the form's `scope` (`region:ID`, `store:ID`, `category:ID` or
/// empty for everything), checked against what the caller sees.
async fn lever_scope(
    state: &AppState,
    session: &UiSession,
    raw: &str,
    errors: &mut Vec<FieldError>,
) -> Result<Value, UiError> {
    if raw.is_empty() || raw == "all" {
        return Ok(json!({}));
    }
    let parsed = raw
        .split_once(':')
        .and_then(|(kind, id)| Some((kind, Uuid::parse_str(id).ok()?)));
    let Some((kind, id)) = parsed else {
        errors.push(field_error("scope", "choose a scope from the list"));
        return Ok(json!({}));
    };
    let (db, caller) = (&state.db, &session.caller);
    let visible = match kind {
        "region" => visible_regions(db, caller)
            .await?
            .iter()
            .any(|r| r.id == id),
        "store" => visible_stores(db, caller).await?.iter().any(|s| s.id == id),
        "category" => comptoir_catalog::service::list_categories(db, caller.org_id)
            .await?
            .iter()
            .any(|c| c.id.0 == id),
        _ => {
            errors.push(field_error("scope", "choose a scope from the list"));
            return Ok(json!({}));
        }
    };
    if !visible {
        return Err(UiError(AppError::not_found(kind)));
    }
    Ok(json!({ format!("{kind}_id"): id }))
}

/// Builds the simulator's input from the form; `fields[i]` is the form field of lever `i`.
async fn input(
    state: &AppState,
    session: &UiSession,
    form: &Form,
    errors: &mut Vec<FieldError>,
) -> Result<(Value, Vec<&'static str>), UiError> {
    let scope = lever_scope(state, session, &form.scope, errors).await?;
    let mut levers = Vec::new();
    let mut fields = Vec::new();
    for (field, kind, _) in LEVERS {
        if let Some(pct) = number(field, form.value(field), errors)
            && pct != 0.0
        {
            levers.push(json!({"kind": kind, "pct": pct, "scope": scope}));
            fields.push(field);
        }
    }
    if let Some(value) = number("elasticity", &form.elasticity, errors) {
        levers.push(json!({"kind": "elasticity", "value": value, "scope": scope}));
        fields.push("elasticity");
    }
    let months = match form.months.parse::<u32>() {
        Ok(m) => m,
        Err(_) => {
            errors.push(field_error("months", "a whole number of months"));
            0
        }
    };
    if parse_month("from", &form.from).is_err() {
        errors.push(field_error("from", "a month as YYYY-MM"));
    }
    let baseline = match form.baseline.as_str() {
        "" | "last_year" => "last_year",
        "forecast" => "forecast",
        _ => {
            errors.push(field_error("baseline", "last year or forecast"));
            "last_year"
        }
    };
    Ok((
        json!({"from": form.from, "months": months, "baseline": baseline, "levers": levers}),
        fields,
    ))
}

/// The simulator's field names (`levers[2].pct`) as the form's.
fn form_field(field: &str, fields: &[&str]) -> String {
    field
        .strip_prefix("levers[")
        .and_then(|rest| rest.split_once(']'))
        .and_then(|(i, _)| i.parse::<usize>().ok())
        .and_then(|i| fields.get(i))
        .map_or_else(|| field.to_owned(), |f| (*f).to_owned())
}

fn sensitivity_chart(p: &Projection) -> String {
    let bars: Vec<Bar> = p
        .sensitivity
        .iter()
        .map(|s| Bar::new(format!("{} +1 pt", s.lever), to_f64(s.margin_change)))
        .collect();
    svg::hbars(
        "Margin change for one more point of each lever",
        "chart-sensitivity",
        &bars,
    )
}

/// Runs the submitted form: its field errors, or the projection.
async fn project(
    state: &AppState,
    session: &UiSession,
    form: &Form,
) -> Result<(Vec<FieldError>, Option<Projection>), UiError> {
    let mut errors = Vec::new();
    let (body, fields) = input(state, session, form, &mut errors).await?;
    if !errors.is_empty() {
        return Ok((errors, None));
    }
    let run = match serde_json::from_value::<WhatIfInput>(body) {
        Ok(input) => whatif::simulate(&state.db, &session.caller, &input).await,
        Err(e) => Err(AppError::field("levers", e.to_string())),
    };
    match run {
        Ok(p) => Ok((errors, Some(p))),
        Err(e) => {
            let errors = field_errors(&e)
                .ok_or(UiError(e))?
                .into_iter()
                .map(|f| FieldError {
                    field: form_field(&f.field, &fields),
                    reason: f.reason,
                })
                .collect();
            Ok((errors, None))
        }
    }
}

pub(super) async fn show(
    State(state): State<AppState>,
    session: UiSession,
    Query(raw): Query<HashMap<String, String>>,
) -> Result<Response, UiError> {
    let p = Params(raw);
    let submitted = p.get("run").is_some();
    let form = if submitted {
        Form::from_params(&p)
    } else {
        Form::defaults()
    };
    let (errors, projection) = if submitted {
        project(&state, &session, &form).await?
    } else {
        (Vec::new(), None)
    };
    render(
        &state,
        &session,
        &form,
        &errors,
        projection,
        &SaveFields::default(),
    )
    .await
}

/// The page: the form as typed with its errors, the projection if any, and the form that
/// saves it as a scenario (for the roles that may).
async fn render(
    state: &AppState,
    session: &UiSession,
    form: &Form,
    errors: &[FieldError],
    projection: Option<Projection>,
    save: &SaveFields,
) -> Result<Response, UiError> {
    let caller = &session.caller;
    let regions = visible_regions(&state.db, caller).await?;
    let stores = visible_stores(&state.db, caller).await?;
    let categories = comptoir_catalog::service::list_categories(&state.db, caller.org_id).await?;
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::BAD_REQUEST
    };
    let levers: Vec<_> = LEVERS
        .iter()
        .map(|(field, _, label)| context! { field => *field, label => *label, value => form.value(field) })
        .collect();
    let csv = |part: &str| format!("/retail/whatif.csv?{}&part={part}", form.query());
    let ctx = context! {
        form => ser(form), levers, errors => ser(&error_map(errors)),
        save => ser(save), can_save => caller.role.can(Permission::Write),
        p => projection.as_ref().map(ser),
        sensitivity => projection.as_ref().map(sensitivity_chart),
        csv_outcomes => csv("outcomes"), csv_sensitivity => csv("sensitivity"),
        default_elasticity => whatif::formula::DEFAULT_ELASTICITY,
        max_horizon => whatif::MAX_HORIZON,
        regions => ser(&region_choices(&regions)), stores => ser(&store_choices(&stores)),
        categories => ser(&categories),
        tab => "whatif",
        ..session.context("retail")
    };
    page("retail_whatif.html", status, ctx)
}

/// The name and description typed in the save form.
#[derive(Debug, Default, Serialize)]
struct SaveFields {
    name: String,
    description: String,
}

/// `POST /retail/scenarios`: the what-if form (the hidden copy of its fields) saved as a
/// scenario, then its page. Bad input shows the what-if page again with the errors on their
/// fields (400); an analyst's save is refused (403), as in the API.
pub(super) async fn save(
    State(state): State<AppState>,
    session: UiSession,
    form: Result<axum::extract::Form<HashMap<String, String>>, FormRejection>,
) -> Result<Response, UiError> {
    let axum::extract::Form(raw) =
        form.map_err(|e| UiError(AppError::new(ErrorCode::BadRequest, e.body_text())))?;
    session.check_csrf(raw.get("csrf_token").map_or("", String::as_str))?;
    let p = Params(raw);
    let form = Form::from_params(&p);
    let fields = SaveFields {
        name: p.get("name").unwrap_or_default().to_owned(),
        description: p.get("description").unwrap_or_default().to_owned(),
    };
    let mut errors = Vec::new();
    let (body, lever_fields) = input(&state, &session, &form, &mut errors).await?;
    if errors.is_empty() {
        let run: WhatIfInput = serde_json::from_value(body)
            .map_err(|e| UiError(AppError::field("levers", e.to_string())))?;
        let scenario = ScenarioInput {
            name: fields.name.clone(),
            description: fields.description.clone(),
            from: run.from,
            months: run.months,
            baseline: run.baseline,
            levers: run.levers,
            expected_version: None,
        };
        match scenarios::create(&state.db, &session.caller, &scenario).await {
            Ok(saved) => {
                return Ok(
                    Redirect::to(&format!("/retail/scenarios/{}?saved=1", saved.id.0))
                        .into_response(),
                );
            }
            Err(e) => {
                errors = field_errors(&e)
                    .ok_or(UiError(e))?
                    .into_iter()
                    .map(|f| FieldError {
                        field: form_field(&f.field, &lever_fields),
                        reason: f.reason,
                    })
                    .collect();
            }
        }
    }
    // The projection stays on screen when only the name or description is at fault.
    let (lever_errors, projection) = project(&state, &session, &form).await?;
    for e in lever_errors {
        if !errors.iter().any(|known| known.field == e.field) {
            errors.push(e);
        }
    }
    render(&state, &session, &form, &errors, projection, &fields).await
}

/// The projection on screen as CSV (`part=outcomes`, the default, or `sensitivity`), from
/// the same form fields; bad fields are a 422 page here.
pub(super) async fn csv(
    State(state): State<AppState>,
    session: UiSession,
    Query(raw): Query<HashMap<String, String>>,
) -> Result<Response, UiError> {
    let p = Params(raw);
    let sensitivity = match p.get("part") {
        None | Some("outcomes") => false,
        Some("sensitivity") => true,
        Some(_) => {
            return Err(UiError(AppError::invalid_parameter(
                "part",
                "outcomes or sensitivity",
            )));
        }
    };
    let form = Form::from_params(&p);
    let (errors, projection) = project(&state, &session, &form).await?;
    let Some(projection) = projection else {
        return Err(UiError(AppError::fields(errors)));
    };
    let body = super::whatif_csv::to_csv(&projection, sensitivity)?;
    let name = format!(
        "attachment; filename=\"whatif-{}-{}m-{}.csv\"",
        projection.from,
        projection.months,
        if sensitivity {
            "sensitivity"
        } else {
            "outcomes"
        }
    );
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (header::CONTENT_DISPOSITION, name),
        ],
        body,
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_and_field_names() {
        let mut errors = Vec::new();
        assert_eq!(number("price", " +2,5 ", &mut errors), Some(2.5));
        assert_eq!(number("price", "", &mut errors), None);
        assert!(errors.is_empty());
        assert_eq!(number("volume", "ten", &mut errors), None);
        assert_eq!(number("cost", "NaN", &mut errors), None);
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["volume", "cost"]);
        assert_eq!(form_field("levers[1].pct", &["price", "cost"]), "cost");
        assert_eq!(form_field("levers[7].pct", &["price"]), "levers[7].pct");
        assert_eq!(form_field("months", &[]), "months");
    }
}

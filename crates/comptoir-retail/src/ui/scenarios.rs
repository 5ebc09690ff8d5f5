//! `/retail/scenarios`: the saved what-if scenarios the caller sees (the latest version of
//! each, newest first), one scenario (a version's levers, its history and its projection for
//! the caller) and 2–4 versions side by side. The what-if page saves its form as a scenario
//! ([`super::whatif::save`]). Everything goes through [`crate::scenarios`], so visibility is
//! the API's: a scenario the caller does not see is a 404 page.

use std::collections::HashMap;

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use comptoir_kernel::auth::Permission;
use comptoir_kernel::http::ApiPath;
use comptoir_kernel::{AppError, AppState};
use comptoir_web::ui::{UiError, UiSession, ser};
use minijinja::context;
use serde::Serialize;
use uuid::Uuid;

use super::{page, to_f64};
use crate::scenarios::compare::{self, CompareInput, CompareItem};
use crate::scenarios::{self, ScenarioId};
use crate::scope::{visible_regions, visible_stores};
use crate::whatif::formula::{Lever, LeverScope};

pub(super) async fn list(
    State(state): State<AppState>,
    session: UiSession,
) -> Result<Response, UiError> {
    let items = scenarios::list(&state.db, &session.caller).await?;
    let ctx = context! {
        items => ser(&items),
        tab => "scenarios",
        ..session.context("retail")
    };
    page("retail_scenarios.html", StatusCode::OK, ctx)
}

/// Names of what a lever may point at, for the caller; what they don't see stays unnamed.
struct Names(HashMap<Uuid, String>);

impl Names {
    async fn load(state: &AppState, session: &UiSession) -> Result<Names, UiError> {
        let caller = &session.caller;
        let mut names = HashMap::new();
        for r in visible_regions(&state.db, caller).await? {
            names.insert(r.id, format!("region {}", r.name));
        }
        for s in visible_stores(&state.db, caller).await? {
            names.insert(s.id, format!("store {} ({})", s.name, s.code));
        }
        for c in comptoir_catalog::service::list_categories(&state.db, caller.org_id).await? {
            names.insert(c.id.0, format!("category {}", c.name));
        }
        Ok(Names(names))
    }

    fn of(&self, id: &Uuid, what: &str) -> String {
        self.0
            .get(id)
            .cloned()
            .unwrap_or_else(|| format!("a {what} outside your part of the chain"))
    }

    fn scope(&self, s: &LeverScope) -> String {
        let mut parts = Vec::new();
        if let Some(id) = &s.region_id {
            parts.push(self.of(id, "region"));
        }
        if let Some(id) = &s.store_id {
            parts.push(self.of(id, "store"));
        }
        if let Some(id) = &s.category_id {
            parts.push(self.of(id, "category"));
        }
        if parts.is_empty() {
            "everything".into()
        } else {
            parts.join(", ")
        }
    }

    /// One lever in words: "Price +5 % on store Lille (N1)".
    fn describe(&self, lever: &Lever) -> String {
        let pct = |what: &str, pct: f64, scope: &LeverScope| {
            format!("{what} {pct:+} % on {}", self.scope(scope))
        };
        match lever {
            Lever::Price { pct: p, scope } => pct("Price", *p, scope),
            Lever::Volume { pct: p, scope } => pct("Volume", *p, scope),
            Lever::Cost { pct: p, scope } => pct("Purchase cost", *p, scope),
            Lever::Target { pct: p, scope } => pct("Target", *p, scope),
            Lever::Elasticity { value, scope } => {
                format!("Price elasticity {value} on {}", self.scope(scope))
            }
            Lever::CloseStore { store_id, from } => {
                format!("Close {} from {from}", self.of(store_id, "store"))
            }
            Lever::OpenStore {
                name,
                like_store_id,
                from,
            } => format!(
                "Open {name} from {from}, selling like {}",
                self.of(like_store_id, "store")
            ),
        }
    }
}

/// `?version=N` (default: the latest).
fn version_param(raw: &HashMap<String, String>) -> Result<Option<i32>, UiError> {
    match raw
        .get("version")
        .map(|v| v.trim())
        .filter(|v| !v.is_empty())
    {
        None => Ok(None),
        Some(v) => v
            .parse::<i32>()
            .ok()
            .filter(|v| *v >= 1)
            .map(Some)
            .ok_or_else(|| UiError(AppError::invalid_parameter("version", "1 or more"))),
    }
}

pub(super) async fn show(
    State(state): State<AppState>,
    session: UiSession,
    ApiPath(id): ApiPath<ScenarioId>,
    Query(raw): Query<HashMap<String, String>>,
) -> Result<Response, UiError> {
    let version = version_param(&raw)?;
    let caller = &session.caller;
    let s = scenarios::get(&state.db, caller, id, version).await?;
    let projection = compare::run(&state.db, caller, id, Some(s.current.version)).await?;
    let names = Names::load(&state, &session).await?;
    let levers: Vec<String> = s.current.levers.iter().map(|l| names.describe(l)).collect();
    let ctx = context! {
        s => ser(&s), levers, p => ser(&projection),
        saved => raw.contains_key("saved"),
        can_write => caller.role.can(Permission::Write),
        tab => "scenarios",
        ..session.context("retail")
    };
    page("retail_scenario.html", StatusCode::OK, ctx)
}

/// A compared version as the page shows it.
#[derive(Serialize)]
struct Column {
    scenario: compare::ComparedScenario,
    /// Projected revenue change per store, by store id.
    store_change: HashMap<Uuid, Option<rust_decimal::Decimal>>,
}

/// `?s=ID&s=ID:2…`: 2 to 4 scenario versions (`ID` alone is the latest).
pub(super) async fn compare(
    State(state): State<AppState>,
    session: UiSession,
    Query(raw): Query<Vec<(String, String)>>,
) -> Result<Response, UiError> {
    let mut items = Vec::new();
    for (key, value) in &raw {
        if key != "s" {
            continue;
        }
        let (id, version) = match value.split_once(':') {
            Some((id, v)) => (id, Some(v)),
            None => (value.as_str(), None),
        };
        let id = Uuid::parse_str(id.trim())
            .map_err(|_| UiError(AppError::invalid_parameter("s", "a scenario id")))?;
        let version = match version {
            None => None,
            Some(v) => Some(
                v.trim()
                    .parse::<i32>()
                    .map_err(|_| UiError(AppError::invalid_parameter("s", "ID or ID:version")))?,
            ),
        };
        items.push(CompareItem {
            id: ScenarioId(id),
            version,
        });
    }
    if !(2..=4).contains(&items.len()) {
        let ctx = context! {
            error => "Choose 2 to 4 scenarios to compare.",
            items => ser(&scenarios::list(&state.db, &session.caller).await?),
            tab => "scenarios",
            ..session.context("retail")
        };
        return page("retail_scenarios.html", StatusCode::BAD_REQUEST, ctx);
    }
    let cmp = compare::compare(
        &state.db,
        &session.caller,
        &CompareInput { scenarios: items },
    )
    .await?;
    // Stores in the order of the first scenario (every run covers the caller's stores).
    let stores: Vec<(Uuid, String)> = cmp.scenarios[0]
        .stores
        .iter()
        .map(|d| (d.id, format!("{} ({})", d.label, d.code)))
        .collect();
    let columns: Vec<Column> = cmp
        .scenarios
        .into_iter()
        .map(|scenario| Column {
            store_change: scenario
                .stores
                .iter()
                .map(|d| (d.id, d.revenue_change_pct))
                .collect(),
            scenario,
        })
        .collect();
    let best = columns
        .iter()
        .max_by(|a, b| {
            to_f64(a.scenario.total.projected_margin)
                .total_cmp(&to_f64(b.scenario.total.projected_margin))
        })
        .map(|c| (c.scenario.id.0, c.scenario.version));
    let ctx = context! {
        columns => ser(&columns),
        stores => ser(&stores),
        best => best.map(|(id, v)| format!("{id}:{v}")),
        tab => "scenarios",
        ..session.context("retail")
    };
    page("retail_compare.html", StatusCode::OK, ctx)
}

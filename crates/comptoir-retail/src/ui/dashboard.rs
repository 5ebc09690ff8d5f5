//! `/retail`: the dashboard of a period and a scope. Each row of a breakdown links to the
//! dashboard scoped to it (org → region → store → category → product), and each block links
//! to the API's CSV of the same numbers (`/api/v1/retail/dashboard.csv?…&part=`), which the
//! session cookie authenticates.

use std::collections::HashMap;

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use comptoir_kernel::AppState;
use comptoir_web::ui::{UiError, UiSession, ser};
use minijinja::context;
use serde::Serialize;
use uuid::Uuid;

use super::svg::{self, Bar};
use super::{Params, error_map, field_errors, page, region_choices, store_choices, to_f64};
use crate::dashboard::{self, Dashboard, DashboardQuery, Row};
use crate::scope::{Visibility, visible_regions, visible_stores};

/// Period and scope, as they appear in the page's links.
#[derive(Clone, Debug, Default)]
pub(super) struct Scope {
    pub from: Option<String>,
    pub to: Option<String>,
    pub region_id: Option<Uuid>,
    pub store_id: Option<Uuid>,
    pub category_id: Option<Uuid>,
    pub product_id: Option<Uuid>,
}

impl Scope {
    fn of(d: &Dashboard) -> Scope {
        Scope {
            from: Some(d.from.clone()),
            to: Some(d.to.clone()),
            region_id: d.region_id,
            store_id: d.store_id,
            category_id: d.category_id,
            product_id: d.product_id,
        }
    }

    fn query(&self) -> DashboardQuery {
        DashboardQuery {
            from: self.from.clone(),
            to: self.to.clone(),
            region_id: self.region_id,
            store_id: self.store_id,
            category_id: self.category_id,
            product_id: self.product_id,
        }
    }

    /// The same scope narrowed to one row of a breakdown of `level`.
    fn with(&self, level: &str, id: Uuid) -> Scope {
        let mut s = self.clone();
        match level {
            "region" => s.region_id = Some(id),
            "store" => s.store_id = Some(id),
            "category" => s.category_id = Some(id),
            _ => s.product_id = Some(id),
        }
        s
    }

    pub fn query_string(&self) -> String {
        let mut q = url::form_urlencoded::Serializer::new(String::new());
        let ids = [
            ("region_id", self.region_id),
            ("store_id", self.store_id),
            ("category_id", self.category_id),
            ("product_id", self.product_id),
        ];
        for (k, v) in [("from", &self.from), ("to", &self.to)] {
            if let Some(v) = v {
                q.append_pair(k, v);
            }
        }
        for (k, v) in ids {
            if let Some(v) = v {
                q.append_pair(k, &v.to_string());
            }
        }
        q.finish()
    }

    fn href(&self) -> String {
        format!("/retail?{}", self.query_string())
    }

    fn csv(&self, part: &str) -> String {
        format!(
            "/api/v1/retail/dashboard.csv?{}&part={part}",
            self.query_string()
        )
    }
}

/// A breakdown row with the link that drills into it.
#[derive(Serialize)]
struct Linked<'a> {
    #[serde(flatten)]
    row: &'a Row,
    href: String,
}

#[derive(Serialize)]
struct Crumb {
    label: String,
    href: String,
}

fn linked<'a>(scope: &Scope, level: &str, rows: &'a [Row]) -> Vec<Linked<'a>> {
    rows.iter()
        .map(|row| Linked {
            row,
            href: scope.with(level, row.id).href(),
        })
        .collect()
}

/// How far the store-ranking chart goes; the table and CSV keep every store.
const CHART_ROWS: usize = 25;

fn charts(d: &Dashboard, scope: &Scope) -> HashMap<&'static str, String> {
    let months: Vec<Bar> = d
        .series
        .iter()
        .map(|p| Bar::new(&p.month, to_f64(p.revenue_excl)))
        .collect();
    let targets: Vec<Option<f64>> = d.series.iter().map(|p| p.target.map(to_f64)).collect();
    let rows = |rows: &[Row], level: &str, value: fn(&Row) -> f64| -> Vec<Bar> {
        rows.iter()
            .take(CHART_ROWS)
            .map(|r| Bar::new(&r.label, value(r)).linked(scope.with(level, r.id).href()))
            .collect()
    };
    HashMap::from([
        (
            "revenue",
            svg::columns(
                "Revenue excl. VAT vs target by month",
                "chart-revenue",
                &months,
                Some(("Target", &targets)),
            ),
        ),
        (
            "categories",
            svg::hbars(
                "Gross margin by category",
                "chart-categories",
                &rows(&d.categories, "category", |r| to_f64(r.gross_margin)),
            ),
        ),
        (
            "stores",
            svg::hbars(
                "Store ranking by revenue excl. VAT",
                "chart-stores",
                &rows(&d.stores, "store", |r| to_f64(r.revenue_excl)),
            ),
        ),
    ])
}

/// The path from the whole chain to the scope, each step a link.
fn crumbs(
    d: &Dashboard,
    scope: &Scope,
    names: &HashMap<Uuid, String>,
    whole_chain: bool,
) -> Vec<Crumb> {
    let mut s = Scope {
        from: scope.from.clone(),
        to: scope.to.clone(),
        ..Scope::default()
    };
    let mut out = Vec::new();
    if whole_chain {
        out.push(Crumb {
            label: "Whole chain".into(),
            href: s.href(),
        });
    }
    let steps = [
        ("region", "Region", d.region_id),
        ("store", "Store", d.store_id),
        ("category", "Category", d.category_id),
        ("product", "Product", d.product_id),
    ];
    for (level, word, id) in steps {
        if let Some(id) = id {
            s = s.with(level, id);
            let name = names.get(&id).cloned().unwrap_or_else(|| {
                // A product is named by the dashboard's label only.
                d.label
                    .rsplit(" › ")
                    .next()
                    .unwrap_or_default()
                    .trim_start_matches("Product ")
                    .to_owned()
            });
            out.push(Crumb {
                label: format!("{word} {name}"),
                href: s.href(),
            });
        }
    }
    out
}

pub(super) async fn show(
    State(state): State<AppState>,
    session: UiSession,
    Query(raw): Query<HashMap<String, String>>,
) -> Result<Response, UiError> {
    let caller = &session.caller;
    let p = Params(raw);
    let mut errors = Vec::new();
    let mut asked = Scope {
        from: p.get("from").map(str::to_owned),
        to: p.get("to").map(str::to_owned),
        region_id: p.id("region_id", &mut errors),
        store_id: p.id("store_id", &mut errors),
        category_id: p.id("category_id", &mut errors),
        product_id: p.id("product_id", &mut errors),
    };
    // A regional or store manager lands on their region or store, one click from a store.
    let visibility = Visibility::of(caller)?;
    let unscoped = asked.region_id.is_none()
        && asked.store_id.is_none()
        && asked.category_id.is_none()
        && asked.product_id.is_none();
    if unscoped && errors.is_empty() {
        match visibility {
            Visibility::Region(r) => asked.region_id = Some(r),
            Visibility::Store(s) => asked.store_id = Some(s),
            Visibility::All => {}
        }
    }
    // The selectors offer only what the caller sees.
    let regions = visible_regions(&state.db, caller).await?;
    let stores = visible_stores(&state.db, caller).await?;
    let categories = comptoir_catalog::service::list_categories(&state.db, caller.org_id).await?;
    let mut d = None;
    if errors.is_empty() {
        match dashboard::dashboard(&state.db, caller, &asked.query()).await {
            Ok(v) => d = Some(v),
            Err(e) => errors = field_errors(&e).ok_or(UiError(e))?,
        }
    }
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::BAD_REQUEST
    };
    let mut names: HashMap<Uuid, String> = HashMap::new();
    names.extend(regions.iter().map(|r| (r.id, r.name.clone())));
    names.extend(stores.iter().map(|s| (s.id, s.name.clone())));
    names.extend(categories.iter().map(|c| (c.id.0, c.name.clone())));
    let view = d.as_ref().map(|d| {
        let scope = Scope::of(d);
        let csv: HashMap<&str, String> = [
            "figures",
            "series",
            "children",
            "top",
            "bottom",
            "stores",
            "categories",
        ]
        .into_iter()
        .map(|part| (part, scope.csv(part)))
        .collect();
        context! {
            d => ser(d),
            children => ser(&linked(&scope, &d.children_level, &d.children)),
            top => ser(&linked(&scope, &d.children_level, &d.top)),
            bottom => ser(&linked(&scope, &d.children_level, &d.bottom)),
            stores => ser(&linked(&scope, "store", &d.stores)),
            categories => ser(&linked(&scope, "category", &d.categories)),
            crumbs => ser(&crumbs(d, &scope, &names, visibility.is_all())),
            charts => charts(d, &scope),
            csv,
        }
    });
    let form = context! {
        from => d.as_ref().map(|d| d.from.clone()).or(asked.from.clone()),
        to => d.as_ref().map(|d| d.to.clone()).or(asked.to.clone()),
        region_id => asked.region_id.map(|v| v.to_string()),
        store_id => asked.store_id.map(|v| v.to_string()),
        category_id => asked.category_id.map(|v| v.to_string()),
        product_id => asked.product_id.map(|v| v.to_string()),
    };
    let ctx = context! {
        view, form, errors => ser(&error_map(&errors)),
        regions => ser(&region_choices(&regions)), stores => ser(&store_choices(&stores)),
        categories => ser(&categories),
        tab => "dashboard",
        ..session.context("retail")
    };
    page("retail_dashboard.html", status, ctx)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_keep_the_period_and_narrow_the_scope() {
        let (r, s) = (Uuid::now_v7(), Uuid::now_v7());
        let scope = Scope {
            from: Some("2025-03".into()),
            to: Some("2025-04".into()),
            region_id: Some(r),
            ..Scope::default()
        };
        assert_eq!(
            scope.with("store", s).href(),
            format!("/retail?from=2025-03&to=2025-04&region_id={r}&store_id={s}")
        );
        assert_eq!(
            scope.csv("stores"),
            format!(
                "/api/v1/retail/dashboard.csv?from=2025-03&to=2025-04&region_id={r}&part=stores"
            )
        );
        assert_eq!(Scope::default().href(), "/retail?");
    }
}

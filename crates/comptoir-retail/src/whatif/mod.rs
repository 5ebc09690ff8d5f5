//! The what-if simulator: a scenario's levers applied to a baseline (last year's same
//! months, from the monthly store × category rollup, or the forecast of each store ×
//! category: [`baseline`]) over a horizon, within the caller's visible stores. Formulas:
//! [`formula`].

pub mod baseline;
pub mod formula;

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{Months, NaiveDate};
use comptoir_catalog::entities::categories;
use comptoir_kernel::auth::Caller;
use comptoir_kernel::tenancy::scoped;
use comptoir_kernel::{AppError, AppResult};
use rust_decimal::Decimal;
use rust_decimal::prelude::FromPrimitive;
use sea_orm::ConnectionTrait;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::dashboard::period::parse_month;
use crate::scope::{visible_regions, visible_stores};
use formula::{Amounts, CellKey, Lever, LeverScope};

/// Longest horizon, in months.
pub const MAX_HORIZON: u32 = 36;

/// A simulation request.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WhatIfInput {
    /// First projected month, `YYYY-MM`.
    pub from: String,
    /// Months projected (1 to 36).
    pub months: u32,
    #[serde(default)]
    pub levers: Vec<Lever>,
    /// `last_year` (default) or `forecast`.
    #[serde(default)]
    pub baseline: BaselineKind,
}

/// Where the baseline of a projection comes from.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum BaselineKind {
    /// Last year's same months, from the monthly rollup.
    #[default]
    LastYear,
    /// The forecast mean of each store × category ([`crate::forecast`]), with last
    /// year's cost and unit ratios of the cell.
    Forecast,
}

impl BaselineKind {
    pub fn as_str(self) -> &'static str {
        match self {
            BaselineKind::LastYear => "last_year",
            BaselineKind::Forecast => "forecast",
        }
    }

    pub fn parse(s: &str) -> Option<BaselineKind> {
        [BaselineKind::LastYear, BaselineKind::Forecast]
            .into_iter()
            .find(|b| b.as_str() == s)
    }
}

/// Baseline and projection of one store (or region, or the whole scope).
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Outcome {
    pub id: Uuid,
    pub code: String,
    pub label: String,
    #[schema(value_type = String)]
    pub baseline_revenue: Decimal,
    #[schema(value_type = String)]
    pub projected_revenue: Decimal,
    #[schema(value_type = String)]
    pub baseline_margin: Decimal,
    #[schema(value_type = String)]
    pub projected_margin: Decimal,
    #[schema(value_type = String)]
    pub baseline_target: Decimal,
    #[schema(value_type = String)]
    pub projected_target: Decimal,
    #[schema(value_type = Option<String>)]
    pub baseline_attainment_pct: Option<Decimal>,
    #[schema(value_type = Option<String>)]
    pub projected_attainment_pct: Option<Decimal>,
}

/// How much the projected margin moves when one lever kind rises by one point on
/// everything, on top of the scenario.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Sensitivity {
    /// `price`, `volume` or `cost`.
    pub lever: String,
    #[schema(value_type = String)]
    pub margin_change: Decimal,
}

/// A projection: totals, per store, per region, and the sensitivity of the margin.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Projection {
    pub from: String,
    pub months: u32,
    pub baseline: BaselineKind,
    pub total: Outcome,
    pub regions: Vec<Outcome>,
    pub stores: Vec<Outcome>,
    /// Largest absolute margin change first.
    pub sensitivity: Vec<Sensitivity>,
}

#[derive(Clone, Copy, Default)]
struct Acc {
    base: Amounts,
    proj: Amounts,
    base_target: f64,
    proj_target: f64,
}

fn money(x: f64) -> Decimal {
    Decimal::from_f64(x).unwrap_or_default().round_dp(2)
}

fn outcome(id: Uuid, code: &str, label: &str, a: &Acc) -> Outcome {
    let pct = |r: f64, t: f64| (t.abs() > 1e-9).then(|| money(r / t * 100.0));
    Outcome {
        id,
        code: code.into(),
        label: label.into(),
        baseline_revenue: money(a.base.revenue),
        projected_revenue: money(a.proj.revenue),
        baseline_margin: money(a.base.revenue - a.base.cost),
        projected_margin: money(a.proj.revenue - a.proj.cost),
        baseline_target: money(a.base_target),
        projected_target: money(a.proj_target),
        baseline_attainment_pct: pct(a.base.revenue, a.base_target),
        projected_attainment_pct: pct(a.proj.revenue, a.proj_target),
    }
}

fn add(x: &mut Amounts, y: Amounts) {
    x.revenue += y.revenue;
    x.cost += y.cost;
    x.units += y.units;
}

/// At most this many levers in one what-if or scenario.
pub const MAX_LEVERS: usize = 200;

fn lever_number(lever: &Lever) -> Option<(&'static str, f64, f64, f64)> {
    // (field, value, lowest allowed, highest allowed)
    match lever {
        // A price cut of 100 % would make the elasticity term infinite.
        Lever::Price { pct, .. } => Some(("pct", *pct, -99.99, 1000.0)),
        Lever::Volume { pct, .. } | Lever::Cost { pct, .. } | Lever::Target { pct, .. } => {
            Some(("pct", *pct, -100.0, 1000.0))
        }
        Lever::Elasticity { value, .. } => Some(("value", *value, -100.0, 100.0)),
        _ => None,
    }
}

/// Checks a what-if's period and levers against the caller's part of the chain, before any
/// work: finite numbers in range, valid months, and every lever's region, store and category
/// existing and visible to the caller (422 naming the lever's field, e.g.
/// `levers[2].scope.store_id`). Returns the first projected month. The stateless what-if
/// and saved scenarios share it.
pub async fn validate(
    db: &impl ConnectionTrait,
    caller: &Caller,
    from: &str,
    months: u32,
    levers: &[Lever],
) -> AppResult<NaiveDate> {
    let from =
        parse_month("from", from).map_err(|_| AppError::field("from", "a month as YYYY-MM"))?;
    if !(1..=MAX_HORIZON).contains(&months) {
        return Err(AppError::field("months", format!("1 to {MAX_HORIZON}")));
    }
    if levers.len() > MAX_LEVERS {
        return Err(AppError::field(
            "levers",
            format!("at most {MAX_LEVERS} levers"),
        ));
    }
    let stores: HashSet<Uuid> = visible_stores(db, caller)
        .await?
        .iter()
        .map(|s| s.id)
        .collect();
    let regions: HashSet<Uuid> = visible_regions(db, caller)
        .await?
        .iter()
        .map(|r| r.id)
        .collect();
    let categories: HashSet<Uuid> = scoped::<categories::Entity>(caller.org_id)
        .all(db)
        .await?
        .iter()
        .map(|c| c.id)
        .collect();
    for (i, lever) in levers.iter().enumerate() {
        let field = |f: &str| format!("levers[{i}].{f}");
        if let Some((f, n, lo, hi)) = lever_number(lever)
            && (!n.is_finite() || !(lo..=hi).contains(&n))
        {
            return Err(AppError::field(
                field(f),
                format!("a number from {lo} to {hi}"),
            ));
        }
        let scope = match lever {
            Lever::Price { scope, .. }
            | Lever::Volume { scope, .. }
            | Lever::Cost { scope, .. }
            | Lever::Elasticity { scope, .. }
            | Lever::Target { scope, .. } => Some(scope),
            _ => None,
        };
        if let Some(LeverScope {
            region_id,
            store_id,
            category_id,
        }) = scope
        {
            if region_id.is_some_and(|r| !regions.contains(&r)) {
                return Err(AppError::field(field("scope.region_id"), "no such region"));
            }
            if store_id.is_some_and(|s| !stores.contains(&s)) {
                return Err(AppError::field(field("scope.store_id"), "no such store"));
            }
            if category_id.is_some_and(|c| !categories.contains(&c)) {
                return Err(AppError::field(
                    field("scope.category_id"),
                    "no such category",
                ));
            }
        }
        let (store, month, name) = match lever {
            Lever::CloseStore { store_id, from } => (Some((store_id, "store_id")), from, None),
            Lever::OpenStore {
                name,
                like_store_id,
                from,
            } => (Some((like_store_id, "like_store_id")), from, Some(name)),
            _ => continue,
        };
        if let Some((id, f)) = store
            && !stores.contains(id)
        {
            return Err(AppError::field(field(f), "no such store"));
        }
        if parse_month("from", month).is_err() {
            return Err(AppError::field(field("from"), "a month as YYYY-MM"));
        }
        if let Some(name) = name
            && (name.trim().is_empty() || name.chars().count() > 200)
        {
            return Err(AppError::field(field("name"), "1 to 200 characters"));
        }
    }
    Ok(from)
}

/// Runs a what-if for the caller, once its levers are checked ([`validate`]).
pub async fn simulate(
    db: &impl ConnectionTrait,
    caller: &Caller,
    input: &WhatIfInput,
) -> AppResult<Projection> {
    validate(db, caller, &input.from, input.months, &input.levers).await?;
    project(db, caller, input).await
}

/// Projects levers checked beforehand, over the caller's stores: a saved scenario's, checked
/// when it was saved, which a narrower caller runs too. A lever on a region or store outside
/// the caller's part matches no cell of theirs (the caller of a run leaves out the closings
/// and openings of stores they don't see).
pub(crate) async fn project(
    db: &impl ConnectionTrait,
    caller: &Caller,
    input: &WhatIfInput,
) -> AppResult<Projection> {
    let from = parse_month("from", &input.from)?;
    let stores = visible_stores(db, caller).await?;
    let by_id: HashMap<Uuid, &crate::scope::StoreRow> = stores.iter().map(|s| (s.id, s)).collect();
    let mut closings: HashMap<Uuid, NaiveDate> = HashMap::new();
    let mut openings: Vec<(Uuid, String, Uuid, NaiveDate)> = Vec::new();
    for lever in &input.levers {
        match lever {
            Lever::CloseStore { store_id, from } => {
                closings.insert(*store_id, parse_month("from", from)?);
            }
            Lever::OpenStore {
                name,
                like_store_id,
                from,
            } => {
                let m = parse_month("from", from)?;
                openings.push((Uuid::now_v7(), name.trim().to_owned(), *like_store_id, m));
            }
            _ => {}
        }
    }
    let last = from + Months::new(input.months.saturating_sub(1));
    let ids: Vec<Uuid> = stores.iter().map(|s| s.id).collect();
    let targets = crate::dashboard::monthly_targets(db, caller, &ids).await?;
    // Baseline cells: (store, category, projected month).
    let cells = match input.baseline {
        BaselineKind::LastYear => baseline::last_year(db, caller.org_id, &ids, from, last).await?,
        BaselineKind::Forecast => baseline::forecast(db, caller.org_id, &ids, from, last).await?,
    };
    let run = |levers: &[Lever]| -> BTreeMap<Uuid, Acc> {
        let mut per: BTreeMap<Uuid, Acc> = BTreeMap::new();
        for (store, category, month, base) in &cells {
            let Some(s) = by_id.get(store) else { continue };
            let key = CellKey {
                region: s.region_id,
                store: *store,
                category: *category,
            };
            let mut proj = formula::project(*base, &formula::factors(levers, &key));
            if closings.get(store).is_some_and(|c| month >= c) {
                proj = Amounts::default();
            }
            let acc = per.entry(*store).or_default();
            add(&mut acc.base, *base);
            add(&mut acc.proj, proj);
            for (id, _, like, opened) in &openings {
                if like == store && month >= opened {
                    add(&mut per.entry(*id).or_default().proj, proj);
                }
            }
        }
        for s in &stores {
            let key = CellKey {
                region: s.region_id,
                store: s.id,
                category: Uuid::nil(),
            };
            let factor = formula::target_factor(levers, &key);
            let acc = per.entry(s.id).or_default();
            let mut m = from;
            while m <= last {
                let t = targets.get(&(s.id, m)).copied().unwrap_or(0) as f64 / 10_000.0;
                acc.base_target += t;
                acc.proj_target += t * factor;
                m = m + Months::new(1);
            }
        }
        per
    };
    let per = run(&input.levers);
    let mut store_rows = Vec::new();
    let mut regions: BTreeMap<Uuid, (String, String, Acc)> = BTreeMap::new();
    let mut total = Acc::default();
    let merge = |into: &mut Acc, a: &Acc| {
        add(&mut into.base, a.base);
        add(&mut into.proj, a.proj);
        into.base_target += a.base_target;
        into.proj_target += a.proj_target;
    };
    for s in &stores {
        let a = per.get(&s.id).copied().unwrap_or_default();
        store_rows.push(outcome(s.id, &s.code, &s.name, &a));
        let r = regions
            .entry(s.region_id)
            .or_insert_with(|| (s.region_code.clone(), s.region_name.clone(), Acc::default()));
        merge(&mut r.2, &a);
        merge(&mut total, &a);
    }
    for (id, name, like, _) in &openings {
        let a = per.get(id).copied().unwrap_or_default();
        store_rows.push(outcome(*id, "NEW", name, &a));
        if let Some(s) = by_id.get(like) {
            let r = regions
                .entry(s.region_id)
                .or_insert_with(|| (s.region_code.clone(), s.region_name.clone(), Acc::default()));
            merge(&mut r.2, &a);
        }
        merge(&mut total, &a);
    }
    let margin_of = |per: &BTreeMap<Uuid, Acc>| -> f64 {
        per.values().map(|a| a.proj.revenue - a.proj.cost).sum()
    };
    let current = margin_of(&per);
    let mut sensitivity: Vec<Sensitivity> = ["price", "volume", "cost"]
        .into_iter()
        .map(|kind| {
            let mut levers = input.levers.clone();
            let scope = formula::LeverScope::default();
            levers.push(match kind {
                "price" => Lever::Price { pct: 1.0, scope },
                "volume" => Lever::Volume { pct: 1.0, scope },
                _ => Lever::Cost { pct: 1.0, scope },
            });
            Sensitivity {
                lever: kind.into(),
                margin_change: money(margin_of(&run(&levers)) - current),
            }
        })
        .collect();
    sensitivity.sort_by_key(|s| std::cmp::Reverse(s.margin_change.abs()));
    Ok(Projection {
        from: input.from.clone(),
        months: input.months,
        baseline: input.baseline,
        total: outcome(Uuid::nil(), "TOTAL", "Scope", &total),
        regions: regions
            .into_iter()
            .map(|(id, (code, name, a))| outcome(id, &code, &name, &a))
            .collect(),
        stores: store_rows,
        sensitivity,
    })
}

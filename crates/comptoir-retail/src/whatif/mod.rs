//! The what-if simulator: a scenario's levers applied to a baseline (last year's same
//! months, from the monthly store × category rollup) over a horizon, within the caller's
//! visible stores. Formulas: [`formula`].

pub mod formula;

use std::collections::{BTreeMap, HashMap};

use chrono::{Months, NaiveDate};
use comptoir_kernel::auth::Caller;
use comptoir_kernel::{AppError, AppResult};
use rust_decimal::Decimal;
use rust_decimal::prelude::FromPrimitive;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::dashboard::period::parse_month;
use crate::entities::monthly;
use crate::scope::visible_stores;
use formula::{Amounts, CellKey, Lever};

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

/// Runs a scenario for the caller.
pub async fn simulate(
    db: &impl ConnectionTrait,
    caller: &Caller,
    input: &WhatIfInput,
) -> AppResult<Projection> {
    let from = parse_month("from", &input.from)
        .map_err(|_| AppError::field("from", "a month as YYYY-MM"))?;
    if !(1..=MAX_HORIZON).contains(&input.months) {
        return Err(AppError::field("months", format!("1 to {MAX_HORIZON}")));
    }
    if input.levers.len() > 200 {
        return Err(AppError::field("levers", "at most 200 levers"));
    }
    let stores = visible_stores(db, caller).await?;
    let by_id: HashMap<Uuid, &crate::scope::StoreRow> = stores.iter().map(|s| (s.id, s)).collect();
    // Check the levers before any work: finite numbers, visible stores, valid months.
    let mut closings: HashMap<Uuid, NaiveDate> = HashMap::new();
    let mut openings: Vec<(Uuid, String, Uuid, NaiveDate)> = Vec::new();
    for (i, lever) in input.levers.iter().enumerate() {
        let field = |f: &str| format!("levers[{i}].{f}");
        let number = match lever {
            Lever::Price { pct, .. }
            | Lever::Volume { pct, .. }
            | Lever::Cost { pct, .. }
            | Lever::Target { pct, .. } => Some(*pct),
            Lever::Elasticity { value, .. } => Some(*value),
            _ => None,
        };
        if let Some(n) = number
            && (!n.is_finite() || !(-100.0..=1000.0).contains(&n))
        {
            return Err(AppError::field(
                field("pct"),
                "a number between -100 and 1000",
            ));
        }
        match lever {
            Lever::CloseStore { store_id, from } => {
                if !by_id.contains_key(store_id) {
                    return Err(AppError::not_found("store"));
                }
                let m = parse_month("from", from)
                    .map_err(|_| AppError::field(field("from"), "a month as YYYY-MM"))?;
                closings.insert(*store_id, m);
            }
            Lever::OpenStore {
                name,
                like_store_id,
                from,
            } => {
                if !by_id.contains_key(like_store_id) {
                    return Err(AppError::not_found("store"));
                }
                if name.trim().is_empty() || name.chars().count() > 200 {
                    return Err(AppError::field(field("name"), "1 to 200 characters"));
                }
                let m = parse_month("from", from)
                    .map_err(|_| AppError::field(field("from"), "a month as YYYY-MM"))?;
                openings.push((Uuid::now_v7(), name.trim().to_owned(), *like_store_id, m));
            }
            _ => {}
        }
    }
    let last = from + Months::new(input.months - 1);
    let ids: Vec<Uuid> = stores.iter().map(|s| s.id).collect();
    let rows = monthly::Entity::find()
        .filter(monthly::Column::OrgId.eq(caller.org_id.0))
        .filter(monthly::Column::StoreId.is_in(ids.clone()))
        .filter(monthly::Column::Month.gte(from - Months::new(12)))
        .filter(monthly::Column::Month.lte(last - Months::new(12)))
        .all(db)
        .await?;
    let targets = crate::dashboard::monthly_targets(db, caller, &ids).await?;
    // Baseline cells: (store, category, projected month).
    let cells: Vec<(Uuid, Uuid, NaiveDate, Amounts)> = rows
        .iter()
        .map(|r| {
            let a = Amounts {
                revenue: r.revenue_excl_e4 as f64 / 10_000.0,
                cost: r.cost_e4 as f64 / 10_000.0,
                units: r.units as f64,
            };
            (r.store_id, r.category_id, r.month + Months::new(12), a)
        })
        .collect();
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
        total: outcome(Uuid::nil(), "TOTAL", "Scope", &total),
        regions: regions
            .into_iter()
            .map(|(id, (code, name, a))| outcome(id, &code, &name, &a))
            .collect(),
        stores: store_rows,
        sensitivity,
    })
}

//! Running saved scenarios, alone or 2 to 4 side by side, within the caller's scope.
//!
//! A saved version runs through the what-if simulator for the caller: only the stores the
//! caller sees are projected, and the store-opening and closing levers that name a store
//! outside them are left out (they concern another part of the chain). A regional
//! manager's run of a chain-wide scenario therefore covers their region only.

use std::collections::HashSet;

use comptoir_kernel::auth::Caller;
use comptoir_kernel::{AppError, AppResult};
use rust_decimal::Decimal;
use sea_orm::ConnectionTrait;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::{ScenarioId, load_version, load_visible};
use crate::scope::visible_stores;
use crate::whatif::formula::Lever;
use crate::whatif::{self, BaselineKind, Outcome, Projection, Sensitivity, WhatIfInput};

/// A saved version and its projection for the caller.
async fn project(
    db: &impl ConnectionTrait,
    caller: &Caller,
    id: ScenarioId,
    version: Option<i32>,
) -> AppResult<(i32, String, Projection)> {
    let s = load_visible(db, caller, id).await?;
    let v = super::version_view(load_version(db, &s, version).await?)?;
    let visible: HashSet<Uuid> = visible_stores(db, caller)
        .await?
        .iter()
        .map(|s| s.id)
        .collect();
    let levers: Vec<Lever> = v
        .levers
        .into_iter()
        .filter(|l| match l {
            Lever::CloseStore { store_id, .. } => visible.contains(store_id),
            Lever::OpenStore { like_store_id, .. } => visible.contains(like_store_id),
            _ => true,
        })
        .collect();
    let input = WhatIfInput {
        from: v.from,
        months: v.months,
        levers,
        baseline: v.baseline,
    };
    Ok((
        v.version,
        v.name,
        whatif::project(db, caller, &input).await?,
    ))
}

/// The projection of a saved version (the latest by default) for the caller.
pub async fn run(
    db: &impl ConnectionTrait,
    caller: &Caller,
    id: ScenarioId,
    version: Option<i32>,
) -> AppResult<Projection> {
    Ok(project(db, caller, id, version).await?.2)
}

/// One scenario version to compare.
#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CompareItem {
    pub id: ScenarioId,
    /// Default: the latest.
    pub version: Option<i32>,
}

/// 2 to 4 scenario versions (the same scenario may appear with different versions).
#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CompareInput {
    pub scenarios: Vec<CompareItem>,
}

/// Baseline, projection and their difference for a store, a region or the total.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Delta {
    pub id: Uuid,
    pub code: String,
    pub label: String,
    #[schema(value_type = String)]
    pub baseline_revenue: Decimal,
    #[schema(value_type = String)]
    pub projected_revenue: Decimal,
    /// Projected − baseline.
    #[schema(value_type = String)]
    pub revenue_change: Decimal,
    /// Percent of the baseline; absent when the baseline is zero.
    #[schema(value_type = Option<String>)]
    pub revenue_change_pct: Option<Decimal>,
    #[schema(value_type = String)]
    pub baseline_margin: Decimal,
    #[schema(value_type = String)]
    pub projected_margin: Decimal,
    #[schema(value_type = String)]
    pub margin_change: Decimal,
    #[schema(value_type = Option<String>)]
    pub margin_change_pct: Option<Decimal>,
    #[schema(value_type = Option<String>)]
    pub projected_attainment_pct: Option<Decimal>,
}

impl From<&Outcome> for Delta {
    fn from(o: &Outcome) -> Delta {
        let pct = |change: Decimal, base: Decimal| {
            (!base.is_zero()).then(|| (change / base * Decimal::ONE_HUNDRED).round_dp(2))
        };
        let revenue_change = o.projected_revenue - o.baseline_revenue;
        let margin_change = o.projected_margin - o.baseline_margin;
        Delta {
            id: o.id,
            code: o.code.clone(),
            label: o.label.clone(),
            baseline_revenue: o.baseline_revenue,
            projected_revenue: o.projected_revenue,
            revenue_change,
            revenue_change_pct: pct(revenue_change, o.baseline_revenue),
            baseline_margin: o.baseline_margin,
            projected_margin: o.projected_margin,
            margin_change,
            margin_change_pct: pct(margin_change, o.baseline_margin.abs()),
            projected_attainment_pct: o.projected_attainment_pct,
        }
    }
}

/// One compared scenario version.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct ComparedScenario {
    pub id: ScenarioId,
    pub version: i32,
    pub name: String,
    pub from: String,
    pub months: u32,
    pub baseline: BaselineKind,
    pub total: Delta,
    pub regions: Vec<Delta>,
    pub stores: Vec<Delta>,
    /// Margin change for one more point of each lever kind, largest first.
    pub sensitivity: Vec<Sensitivity>,
}

/// Scenario versions side by side, in the order asked.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Comparison {
    pub scenarios: Vec<ComparedScenario>,
}

/// Runs 2 to 4 scenario versions for the caller.
pub async fn compare(
    db: &impl ConnectionTrait,
    caller: &Caller,
    input: &CompareInput,
) -> AppResult<Comparison> {
    if !(2..=4).contains(&input.scenarios.len()) {
        return Err(AppError::field("scenarios", "2 to 4 scenario versions"));
    }
    for (i, item) in input.scenarios.iter().enumerate() {
        if item.version.is_some_and(|v| v < 1) {
            return Err(AppError::field(
                format!("scenarios[{i}].version"),
                "1 or more",
            ));
        }
    }
    let mut out = Vec::new();
    for item in &input.scenarios {
        let (version, name, p) = project(db, caller, item.id, item.version).await?;
        out.push(ComparedScenario {
            id: item.id,
            version,
            name,
            from: p.from,
            months: p.months,
            baseline: p.baseline,
            total: Delta::from(&p.total),
            regions: p.regions.iter().map(Delta::from).collect(),
            stores: p.stores.iter().map(Delta::from).collect(),
            sensitivity: p.sensitivity,
        });
    }
    Ok(Comparison { scenarios: out })
}

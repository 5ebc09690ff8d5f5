//! The forecast and its backtest for a scope (the caller's visible stores, or one of them;
//! all categories, or one with its subcategories), from the monthly rollup.
//!
//! History runs from the scope's first month with sales to the last complete month (the
//! current month is left out: a partial month would drag the forecast down); months
//! without sales inside it count as zero.

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate, Utc};
use comptoir_kernel::auth::Caller;
use comptoir_kernel::{AppError, AppResult};
use rust_decimal::Decimal;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::{DEFAULT_LEVEL, LEVELS, Method};
use crate::entities::monthly;
use crate::scope::{visible_store, visible_stores};

/// Longest forecast, in months.
pub const MAX_MONTHS: u32 = 36;
/// Longest backtest holdout, in months.
pub const MAX_HOLDOUT: u32 = 24;

/// `year × 12 + month − 1`: consecutive months are consecutive integers.
pub fn month_index(d: NaiveDate) -> i32 {
    d.year() * 12 + d.month0() as i32
}

/// The first day of the month of an index.
pub fn month_of_index(i: i32) -> NaiveDate {
    NaiveDate::from_ymd_opt(i.div_euclid(12), i.rem_euclid(12) as u32 + 1, 1)
        .unwrap_or(NaiveDate::MIN)
}

/// The first day of the current month.
pub fn this_month() -> NaiveDate {
    let today = Utc::now().date_naive();
    today.with_day(1).unwrap_or(today)
}

/// Revenue (excl. VAT) of a scope per month, before `before`; months without sales
/// between the first and the last month with data are zeros. `None` without data.
pub fn revenue_series(rows: &[monthly::Model], before: NaiveDate) -> Option<(NaiveDate, Vec<f64>)> {
    let mut per: BTreeMap<i32, f64> = BTreeMap::new();
    for r in rows.iter().filter(|r| r.month < before) {
        *per.entry(month_index(r.month)).or_default() += r.revenue_excl_e4 as f64 / 10_000.0;
    }
    let (&first, _) = per.first_key_value()?;
    let (&last, _) = per.last_key_value()?;
    let series = (first..=last)
        .map(|i| per.get(&i).copied().unwrap_or(0.0))
        .collect();
    Some((month_of_index(first), series))
}

/// The scope of a forecast or a backtest.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ForecastQuery {
    /// One store (default: every store the caller sees).
    pub store_id: Option<Uuid>,
    /// One category and its subcategories (default: all).
    pub category_id: Option<Uuid>,
    /// Months forecast after the history (1 to 36, default 12).
    pub months: Option<u32>,
    /// Interval level in percent: 80 (default), 90, 95 or 99.
    pub level: Option<u32>,
    /// Backtest only: months held out (1 to 24, default 6).
    pub holdout: Option<u32>,
}

/// A month's revenue.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MonthRevenue {
    pub month: String,
    #[schema(value_type = String)]
    pub revenue: Decimal,
}

/// A forecast month: mean and prediction interval (revenue excl. VAT).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ForecastPoint {
    pub month: String,
    #[schema(value_type = String)]
    pub mean: Decimal,
    #[schema(value_type = String)]
    pub lower: Decimal,
    #[schema(value_type = String)]
    pub upper: Decimal,
}

/// The forecast of a scope.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ForecastView {
    pub store_id: Option<Uuid>,
    pub category_id: Option<Uuid>,
    /// Interval level, in percent.
    pub level: u32,
    pub method: Method,
    pub history: Vec<MonthRevenue>,
    pub points: Vec<ForecastPoint>,
}

/// A held-out month: the actual, the forecast and the seasonal-naive forecast.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct BacktestPoint {
    pub month: String,
    #[schema(value_type = String)]
    pub actual: Decimal,
    #[schema(value_type = String)]
    pub mean: Decimal,
    #[schema(value_type = String)]
    pub lower: Decimal,
    #[schema(value_type = String)]
    pub upper: Decimal,
    #[schema(value_type = String)]
    pub naive: Decimal,
}

/// The backtest of a scope: MAPE of the forecast and of seasonal naive, interval coverage.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct BacktestView {
    pub store_id: Option<Uuid>,
    pub category_id: Option<Uuid>,
    pub level: u32,
    pub holdout: u32,
    pub method: Method,
    /// Percent; absent when every held-out actual is zero.
    #[schema(value_type = Option<String>)]
    pub mape_pct: Option<Decimal>,
    #[schema(value_type = Option<String>)]
    pub naive_mape_pct: Option<Decimal>,
    /// Share of held-out months inside the interval, percent.
    #[schema(value_type = String)]
    pub coverage_pct: Decimal,
    pub points: Vec<BacktestPoint>,
}

fn money(x: f64) -> Decimal {
    use rust_decimal::prelude::FromPrimitive;
    Decimal::from_f64(x).unwrap_or_default().round_dp(2)
}

fn label(d: NaiveDate) -> String {
    d.format("%Y-%m").to_string()
}

/// Checks an interval level.
pub fn parse_level(raw: Option<u32>) -> AppResult<u32> {
    let level = raw.unwrap_or(DEFAULT_LEVEL);
    if LEVELS.iter().any(|(l, _)| *l == level) {
        Ok(level)
    } else {
        Err(AppError::invalid_parameter("level", "80, 90, 95 or 99"))
    }
}

fn bounded(name: &str, raw: Option<u32>, default: u32, max: u32) -> AppResult<u32> {
    let v = raw.unwrap_or(default);
    if (1..=max).contains(&v) {
        Ok(v)
    } else {
        Err(AppError::invalid_parameter(name, format!("1 to {max}")))
    }
}

/// The monthly rows of the query's scope (404 for a store outside the caller's scope or an
/// unknown category).
async fn scope_rows(
    db: &impl ConnectionTrait,
    caller: &Caller,
    q: &ForecastQuery,
) -> AppResult<Vec<monthly::Model>> {
    let stores: Vec<Uuid> = match q.store_id {
        Some(id) => vec![visible_store(db, caller, id).await?.id],
        None => visible_stores(db, caller)
            .await?
            .iter()
            .map(|s| s.id)
            .collect(),
    };
    let mut query = monthly::Entity::find()
        .filter(monthly::Column::OrgId.eq(caller.org_id.0))
        .filter(monthly::Column::StoreId.is_in(stores));
    if let Some(c) = q.category_id {
        let (names, children) = crate::dashboard::category_tree(db, caller).await?;
        if !names.contains_key(&c) {
            return Err(AppError::not_found("category"));
        }
        query = query
            .filter(monthly::Column::CategoryId.is_in(crate::dashboard::subtree(c, &children)));
    }
    Ok(query.all(db).await?)
}

/// The forecast of the query's scope after its last complete month.
pub async fn forecast(
    db: &impl ConnectionTrait,
    caller: &Caller,
    q: &ForecastQuery,
) -> AppResult<ForecastView> {
    let level = parse_level(q.level)?;
    let months = bounded("months", q.months, 12, MAX_MONTHS)?;
    if q.holdout.is_some() {
        return Err(AppError::invalid_parameter(
            "holdout",
            "only for the backtest",
        ));
    }
    let rows = scope_rows(db, caller, q).await?;
    let (first, y) = revenue_series(&rows, this_month()).unwrap_or((this_month(), Vec::new()));
    let start = month_index(first) + y.len() as i32;
    let f = tokio::task::spawn_blocking(move || {
        let f = super::forecast(&y, months as usize, level);
        (y, f)
    })
    .await
    .map_err(AppError::internal)?;
    let (y, f) = f;
    Ok(ForecastView {
        store_id: q.store_id,
        category_id: q.category_id,
        level,
        method: f.method,
        history: y
            .iter()
            .enumerate()
            .map(|(i, r)| MonthRevenue {
                month: label(month_of_index(month_index(first) + i as i32)),
                revenue: money(*r),
            })
            .collect(),
        points: f
            .points
            .iter()
            .enumerate()
            .map(|(i, p)| ForecastPoint {
                month: label(month_of_index(start + i as i32)),
                mean: money(p.mean),
                lower: money(p.lower),
                upper: money(p.upper),
            })
            .collect(),
    })
}

/// The backtest of the query's scope: the last `holdout` complete months forecast from the
/// months before them. 422 on `holdout` when the history is shorter than `holdout` + 3.
pub async fn backtest(
    db: &impl ConnectionTrait,
    caller: &Caller,
    q: &ForecastQuery,
) -> AppResult<BacktestView> {
    let level = parse_level(q.level)?;
    let holdout = bounded("holdout", q.holdout, 6, MAX_HOLDOUT)?;
    if q.months.is_some() {
        return Err(AppError::invalid_parameter(
            "months",
            "only for the forecast",
        ));
    }
    let rows = scope_rows(db, caller, q).await?;
    let (first, y) = revenue_series(&rows, this_month()).unwrap_or((this_month(), Vec::new()));
    if y.len() < holdout as usize + 3 {
        return Err(AppError::field(
            "holdout",
            format!(
                "the scope has {} months of history; a backtest needs at least holdout + 3",
                y.len()
            ),
        ));
    }
    let start = month_index(first) + (y.len() - holdout as usize) as i32;
    let b = tokio::task::spawn_blocking(move || super::backtest(&y, holdout as usize, level))
        .await
        .map_err(AppError::internal)?
        .ok_or_else(|| AppError::field("holdout", "leaves no month to train on"))?;
    Ok(BacktestView {
        store_id: q.store_id,
        category_id: q.category_id,
        level,
        holdout,
        method: b.method,
        mape_pct: b.mape.map(money),
        naive_mape_pct: b.naive_mape.map(money),
        coverage_pct: money(b.coverage),
        points: b
            .points
            .iter()
            .enumerate()
            .map(|(i, p)| BacktestPoint {
                month: label(month_of_index(start + i as i32)),
                actual: money(p.actual),
                mean: money(p.forecast.mean),
                lower: money(p.forecast.lower),
                upper: money(p.forecast.upper),
                naive: money(p.naive),
            })
            .collect(),
    })
}

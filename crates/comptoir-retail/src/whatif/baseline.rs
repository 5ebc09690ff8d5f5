//! The baseline cells of a projection: revenue, cost and units per store × category ×
//! projected month.
//!
//! - `last_year`: the cell's actuals twelve months before the projected month.
//! - `forecast`: the cell's monthly revenue history (months before `from` and before the
//!   current month) is forecast ([`crate::forecast::forecast`]) up to the horizon's last
//!   month; revenue = the forecast mean, cost = revenue × C/R and units = revenue × U/R,
//!   with C/R and U/R the cell's ratios in the same calendar month of its last year of
//!   history (the cell's whole-history ratios when that month sold nothing).

use std::collections::BTreeMap;

use chrono::{Months, NaiveDate};
use comptoir_kernel::ids::OrgId;
use comptoir_kernel::{AppError, AppResult};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use uuid::Uuid;

use super::formula::Amounts;
use crate::entities::monthly;
use crate::forecast::service::{month_index, month_of_index, this_month};

/// A baseline cell: store, category, projected month, amounts.
pub type Cell = (Uuid, Uuid, NaiveDate, Amounts);

/// How far past the last month with sales a forecast baseline may end.
pub const MAX_MONTHS_AHEAD: i32 = 120;

fn amounts(r: &monthly::Model) -> Amounts {
    Amounts {
        revenue: r.revenue_excl_e4 as f64 / 10_000.0,
        cost: r.cost_e4 as f64 / 10_000.0,
        units: r.units as f64,
    }
}

/// Last year's same months.
pub async fn last_year(
    db: &impl ConnectionTrait,
    org: OrgId,
    stores: &[Uuid],
    from: NaiveDate,
    last: NaiveDate,
) -> AppResult<Vec<Cell>> {
    let rows = monthly::Entity::find()
        .filter(monthly::Column::OrgId.eq(org.0))
        .filter(monthly::Column::StoreId.is_in(stores.to_vec()))
        .filter(monthly::Column::Month.gte(from - Months::new(12)))
        .filter(monthly::Column::Month.lte(last - Months::new(12)))
        .all(db)
        .await?;
    Ok(rows
        .iter()
        .map(|r| {
            (
                r.store_id,
                r.category_id,
                r.month + Months::new(12),
                amounts(r),
            )
        })
        .collect())
}

/// The forecast of each store × category.
pub async fn forecast(
    db: &impl ConnectionTrait,
    org: OrgId,
    stores: &[Uuid],
    from: NaiveDate,
    last: NaiveDate,
) -> AppResult<Vec<Cell>> {
    let before = from.min(this_month());
    let rows = monthly::Entity::find()
        .filter(monthly::Column::OrgId.eq(org.0))
        .filter(monthly::Column::StoreId.is_in(stores.to_vec()))
        .filter(monthly::Column::Month.lt(before))
        .all(db)
        .await?;
    let Some(end) = rows.iter().map(|r| month_index(r.month)).max() else {
        return Ok(Vec::new());
    };
    let horizon = month_index(last) - end;
    if horizon > MAX_MONTHS_AHEAD {
        return Err(AppError::field(
            "from",
            format!(
                "a forecast baseline ends at most {MAX_MONTHS_AHEAD} months after the last month with sales ({})",
                month_of_index(end).format("%Y-%m")
            ),
        ));
    }
    let mut history: BTreeMap<(Uuid, Uuid), BTreeMap<i32, Amounts>> = BTreeMap::new();
    for r in &rows {
        history
            .entry((r.store_id, r.category_id))
            .or_default()
            .insert(month_index(r.month), amounts(r));
    }
    let (first, last) = (month_index(from), month_index(last));
    tokio::task::spawn_blocking(move || {
        let mut out = Vec::new();
        for ((store, category), months) in history {
            out.extend(
                cell_forecast(&months, end, first, last)
                    .into_iter()
                    .map(|(m, a)| (store, category, month_of_index(m), a)),
            );
        }
        out
    })
    .await
    .map_err(AppError::internal)
}

/// One cell's projected months `first..=last` from its history (month index → amounts),
/// which ends at `end` (< `first`).
pub fn cell_forecast(
    months: &BTreeMap<i32, Amounts>,
    end: i32,
    first: i32,
    last: i32,
) -> Vec<(i32, Amounts)> {
    let Some((&start, _)) = months.first_key_value() else {
        return Vec::new();
    };
    let y: Vec<f64> = (start..=end)
        .map(|i| months.get(&i).map_or(0.0, |a| a.revenue))
        .collect();
    let f = crate::forecast::forecast_mean(&y, (last - end).max(0) as usize);
    let total = months.values().fold(Amounts::default(), |mut t, a| {
        t.revenue += a.revenue;
        t.cost += a.cost;
        t.units += a.units;
        t
    });
    let ratios = |a: &Amounts| (a.cost / a.revenue, a.units / a.revenue);
    let overall = if total.revenue > 0.0 {
        ratios(&total)
    } else {
        (0.0, 0.0)
    };
    (first..=last)
        .filter_map(|m| {
            let mean = f.points.get((m - end - 1) as usize)?.mean;
            // The same calendar month in the last year of history.
            let mut j = m - 12;
            while j > end {
                j -= 12;
            }
            let (cost, units) = months
                .get(&j)
                .filter(|a| a.revenue > 0.0)
                .map_or(overall, ratios);
            Some((
                m,
                Amounts {
                    revenue: mean,
                    cost: mean * cost,
                    units: mean * units,
                },
            ))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_forecast_cell_takes_last_years_ratios_of_the_same_month() {
        // Three years of a flat 100/month cell, cost 60 % except in month index 11 of the
        // last year (cost 80 %); forecast the next 14 months.
        let mut months = BTreeMap::new();
        for i in 0..36 {
            let cost = if i == 35 { 80.0 } else { 60.0 };
            months.insert(
                i,
                Amounts {
                    revenue: 100.0,
                    cost,
                    units: 10.0,
                },
            );
        }
        let out = cell_forecast(&months, 35, 36, 49);
        assert_eq!(out.len(), 14);
        for (m, a) in &out {
            assert!((a.revenue - 100.0).abs() < 1.0, "{m}: {a:?}");
            let ratio = if (m - 35) % 12 == 0 { 0.8 } else { 0.6 };
            assert!((a.cost / a.revenue - ratio).abs() < 1e-9, "{m}: {a:?}");
            assert!((a.units / a.revenue - 0.1).abs() < 1e-9);
        }
        // Months before `first` are not returned; an empty history gives nothing.
        assert_eq!(cell_forecast(&months, 35, 40, 41)[0].0, 40);
        assert!(cell_forecast(&BTreeMap::new(), 35, 36, 40).is_empty());
    }
}

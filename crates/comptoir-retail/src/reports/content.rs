//! What a consolidation report says, computed by the dashboard service so that every
//! figure equals the dashboard's for the same month and scope: the scope's totals, one
//! dashboard per region (totals with growth), the store ranking and the categories.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use comptoir_kernel::AppResult;
use comptoir_kernel::auth::Caller;
use sea_orm::ConnectionTrait;
use uuid::Uuid;

use super::ReportScope;
use crate::dashboard::period::Period;
use crate::dashboard::{self, DashboardQuery, Figures, Row};
use crate::scope::visible_stores;

/// One region's totals.
#[derive(Debug, Clone)]
pub struct RegionLine {
    pub id: Uuid,
    pub code: String,
    pub name: String,
    pub figures: Figures,
}

/// One store of the ranking (by revenue excl. VAT, best first).
#[derive(Debug, Clone)]
pub struct StoreLine {
    pub rank: usize,
    pub region_code: String,
    pub row: Row,
}

/// Everything a report shows.
#[derive(Debug, Clone)]
pub struct Consolidation {
    pub organization: String,
    /// `YYYY-MM`.
    pub month: String,
    /// "March 2025".
    pub month_name: String,
    pub label: String,
    pub generated_at: DateTime<Utc>,
    pub totals: Figures,
    pub regions: Vec<RegionLine>,
    pub stores: Vec<StoreLine>,
    pub categories: Vec<Row>,
}

fn query(month: &str, scope: ReportScope, region: Option<Uuid>) -> DashboardQuery {
    DashboardQuery {
        from: Some(month.to_owned()),
        to: Some(month.to_owned()),
        region_id: region.or(scope.region_id),
        store_id: scope.store_id,
        category_id: None,
        product_id: None,
    }
}

/// Computes the report of `month` over `scope` for `caller` (whose visibility applies: a
/// scope they no longer see is a 404).
pub async fn gather(
    db: &impl ConnectionTrait,
    caller: &Caller,
    organization: String,
    month: NaiveDate,
    scope: ReportScope,
) -> AppResult<Consolidation> {
    let label = Period::label(month);
    let whole = dashboard::dashboard(db, caller, &query(&label, scope, None)).await?;
    let region_of: BTreeMap<Uuid, (Uuid, String, String)> = visible_stores(db, caller)
        .await?
        .into_iter()
        .map(|s| (s.id, (s.region_id, s.region_code, s.region_name)))
        .collect();
    // The regions of the stores in scope, by code.
    let mut regions: BTreeMap<String, (Uuid, String)> = BTreeMap::new();
    for s in &whole.stores {
        if let Some((id, code, name)) = region_of.get(&s.id) {
            regions.insert(code.clone(), (*id, name.clone()));
        }
    }
    let mut region_lines = Vec::with_capacity(regions.len());
    for (code, (id, name)) in regions {
        let d = dashboard::dashboard(db, caller, &query(&label, scope, Some(id))).await?;
        region_lines.push(RegionLine {
            id,
            code,
            name,
            figures: d.figures,
        });
    }
    let stores = whole
        .stores
        .iter()
        .enumerate()
        .map(|(i, row)| StoreLine {
            rank: i + 1,
            region_code: region_of
                .get(&row.id)
                .map(|r| r.1.clone())
                .unwrap_or_default(),
            row: row.clone(),
        })
        .collect();
    Ok(Consolidation {
        organization,
        month: label,
        month_name: month.format("%B %Y").to_string(),
        label: whole.label,
        generated_at: Utc::now(),
        totals: whole.figures,
        regions: region_lines,
        stores,
        categories: whole.categories,
    })
}

/// The measures of the totals and region tables: label, value and kind, in order.
pub fn figure_lines(f: &Figures) -> Vec<(&'static str, Value)> {
    use Value::*;
    vec![
        ("Revenue excl. VAT", Money(Some(f.revenue_excl))),
        ("Revenue incl. VAT", Money(Some(f.revenue_incl))),
        ("Cost of goods", Money(Some(f.cost))),
        ("Gross margin", Money(Some(f.gross_margin))),
        ("Gross margin %", Percent(f.gross_margin_pct)),
        ("Units", Count(f.units)),
        ("Transactions", Count(f.transactions)),
        ("Average basket (incl. VAT)", Money(f.average_basket)),
        ("Target", Money(f.target)),
        ("Target attainment %", Percent(f.attainment_pct)),
        (
            "Previous month revenue excl. VAT",
            Money(Some(f.previous_revenue_excl)),
        ),
        (
            "Growth vs previous month %",
            Percent(f.growth_vs_previous_pct),
        ),
        (
            "Last year revenue excl. VAT",
            Money(Some(f.last_year_revenue_excl)),
        ),
        ("Growth vs last year %", Percent(f.growth_vs_last_year_pct)),
    ]
}

/// A cell: money (2 decimals), a percentage (2 decimals, as the dashboard gives it: 12.5
/// means 12.5 %) or a count; `None` where the dashboard has no value (a ratio whose base
/// is zero).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Value {
    Money(Option<rust_decimal::Decimal>),
    Percent(Option<rust_decimal::Decimal>),
    Count(i64),
}

/// The column names of a breakdown row, in the order of [`row_values`].
pub const ROW_COLUMNS: [&str; 8] = [
    "Revenue excl. VAT",
    "Revenue incl. VAT",
    "Gross margin",
    "Margin %",
    "Units",
    "Transactions",
    "Target",
    "Attainment %",
];

/// The values of a breakdown row (stores, categories), named by [`ROW_COLUMNS`].
pub fn row_values(r: &Row) -> [Value; 8] {
    use Value::*;
    [
        Money(Some(r.revenue_excl)),
        Money(Some(r.revenue_incl)),
        Money(Some(r.gross_margin)),
        Percent(r.gross_margin_pct),
        Count(r.units),
        Count(r.transactions),
        Money(r.target),
        Percent(r.attainment_pct),
    ]
}

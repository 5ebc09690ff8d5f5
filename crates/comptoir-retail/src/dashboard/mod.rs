//! The dashboard: figures for a period (whole months) and a scope (org, region, store,
//! category, product, combinable), read from the rollups only, within the caller's
//! visibility: a region or store outside it is answered 404.
//!
//! Sources: `retail_store_daily` for org/region/store scopes (a receipt counts once),
//! `retail_monthly` for a category scope and the margin-by-category breakdown, and
//! `retail_daily` for a product scope and the products of a category.

mod csv_export;
pub mod period;

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::NaiveDate;
use comptoir_catalog::entities::{categories, products};
use comptoir_kernel::auth::Caller;
use comptoir_kernel::tenancy::{find_in_org, scoped};
use comptoir_kernel::{AppError, AppResult};
use rust_decimal::Decimal;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::entities::{daily, monthly, store_daily, targets};
use crate::model::from_e4;
use crate::rollup::{Measures, month_of};
use crate::scope::{StoreRow, visible_regions, visible_stores};
pub(crate) use csv_export::comptoir_catalog_defuse as defuse_cell;
pub use csv_export::{CsvPart, to_csv};
use period::Period;

/// Period and scope of a dashboard.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DashboardQuery {
    /// First month, `YYYY-MM` (default: 11 months before `to`).
    pub from: Option<String>,
    /// Last month included, `YYYY-MM` (default: this month).
    pub to: Option<String>,
    pub region_id: Option<Uuid>,
    pub store_id: Option<Uuid>,
    pub category_id: Option<Uuid>,
    pub product_id: Option<Uuid>,
}

/// The headline figures of the scope over the period. Money excludes VAT unless named
/// `_incl`; percentages have two decimals; ratios are absent when their base is zero.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Figures {
    #[schema(value_type = String)]
    pub revenue_excl: Decimal,
    #[schema(value_type = String)]
    pub revenue_incl: Decimal,
    #[schema(value_type = String)]
    pub cost: Decimal,
    #[schema(value_type = String)]
    pub gross_margin: Decimal,
    #[schema(value_type = Option<String>)]
    pub gross_margin_pct: Option<Decimal>,
    pub units: i64,
    pub transactions: i64,
    /// Revenue incl. VAT per transaction.
    #[schema(value_type = Option<String>)]
    pub average_basket: Option<Decimal>,
    /// Revenue target of the stores in scope (absent for a category or product scope).
    #[schema(value_type = Option<String>)]
    pub target: Option<Decimal>,
    #[schema(value_type = Option<String>)]
    pub attainment_pct: Option<Decimal>,
    #[schema(value_type = String)]
    pub previous_revenue_excl: Decimal,
    #[schema(value_type = Option<String>)]
    pub growth_vs_previous_pct: Option<Decimal>,
    #[schema(value_type = String)]
    pub last_year_revenue_excl: Decimal,
    #[schema(value_type = Option<String>)]
    pub growth_vs_last_year_pct: Option<Decimal>,
}

/// One month of the time series.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SeriesPoint {
    /// `YYYY-MM`.
    pub month: String,
    #[schema(value_type = String)]
    pub revenue_excl: Decimal,
    #[schema(value_type = String)]
    pub revenue_incl: Decimal,
    #[schema(value_type = String)]
    pub gross_margin: Decimal,
    pub units: i64,
    pub transactions: i64,
    #[schema(value_type = Option<String>)]
    pub target: Option<Decimal>,
}

/// One row of a breakdown (a region, store, category or product).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Row {
    pub id: Uuid,
    pub code: String,
    pub label: String,
    #[schema(value_type = String)]
    pub revenue_excl: Decimal,
    #[schema(value_type = String)]
    pub revenue_incl: Decimal,
    #[schema(value_type = String)]
    pub gross_margin: Decimal,
    #[schema(value_type = Option<String>)]
    pub gross_margin_pct: Option<Decimal>,
    pub units: i64,
    pub transactions: i64,
    #[schema(value_type = Option<String>)]
    pub target: Option<Decimal>,
    #[schema(value_type = Option<String>)]
    pub attainment_pct: Option<Decimal>,
}

/// A dashboard: figures, a monthly series, the breakdown one level down (for drill-down),
/// top and bottom performers of that breakdown, the store ranking and margin by category.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Dashboard {
    pub from: String,
    pub to: String,
    /// `org`, `region`, `store`, `category` or `product`.
    pub level: String,
    pub region_id: Option<Uuid>,
    pub store_id: Option<Uuid>,
    pub category_id: Option<Uuid>,
    pub product_id: Option<Uuid>,
    /// What the scope is, in words ("Region North › Store Lyon").
    pub label: String,
    pub figures: Figures,
    pub series: Vec<SeriesPoint>,
    /// The level of `children`: `region`, `store`, `category`, `product`.
    pub children_level: String,
    pub children: Vec<Row>,
    /// Best five children by revenue.
    pub top: Vec<Row>,
    /// Worst five children by revenue.
    pub bottom: Vec<Row>,
    /// Every store in scope by revenue.
    pub stores: Vec<Row>,
    /// Margin by category (absent for a product scope).
    pub categories: Vec<Row>,
}

/// One rollup row reduced to a store, a month and a key (product, category or nil).
#[derive(Clone, Copy, Debug)]
struct Fact {
    store: Uuid,
    month: NaiveDate,
    key: Uuid,
    m: Measures,
}

fn measures(excl: i64, incl: i64, cost: i64, units: i64, transactions: i64) -> Measures {
    Measures {
        excl,
        incl,
        cost,
        units,
        transactions,
    }
}

fn add(a: &mut Measures, b: &Measures) {
    a.excl += b.excl;
    a.incl += b.incl;
    a.cost += b.cost;
    a.units += b.units;
    a.transactions += b.transactions;
}

fn pct(part: Decimal, base: Decimal) -> Option<Decimal> {
    (!base.is_zero()).then(|| (part * Decimal::from(100) / base).round_dp(2))
}

type MeasureTuple = (Uuid, NaiveDate, i64, i64, i64, i64, i64);
type KeyedTuple = (Uuid, NaiveDate, Uuid, i64, i64, i64, i64, i64);

async fn store_daily_facts(
    db: &impl ConnectionTrait,
    org: Uuid,
    stores: &[Uuid],
    from: NaiveDate,
    to: NaiveDate,
) -> AppResult<Vec<Fact>> {
    use store_daily::Column as C;
    let rows: Vec<MeasureTuple> = store_daily::Entity::find()
        .filter(C::OrgId.eq(org))
        .filter(C::StoreId.is_in(stores.to_vec()))
        .filter(C::Day.gte(from))
        .filter(C::Day.lte(to))
        .select_only()
        .columns([
            C::StoreId,
            C::Day,
            C::RevenueExclE4,
            C::RevenueInclE4,
            C::CostE4,
            C::Units,
            C::Transactions,
        ])
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .map(|(store, day, e, i, c, u, t)| Fact {
            store,
            month: month_of(day),
            key: Uuid::nil(),
            m: measures(e, i, c, u, t),
        })
        .collect())
}

async fn monthly_facts(
    db: &impl ConnectionTrait,
    org: Uuid,
    stores: &[Uuid],
    from: NaiveDate,
    to: NaiveDate,
    categories: Option<&[Uuid]>,
) -> AppResult<Vec<Fact>> {
    use monthly::Column as C;
    let mut q = monthly::Entity::find()
        .filter(C::OrgId.eq(org))
        .filter(C::StoreId.is_in(stores.to_vec()))
        .filter(C::Month.gte(from))
        .filter(C::Month.lte(to));
    if let Some(cats) = categories {
        q = q.filter(C::CategoryId.is_in(cats.to_vec()));
    }
    let rows: Vec<KeyedTuple> = q
        .select_only()
        .columns([
            C::StoreId,
            C::Month,
            C::CategoryId,
            C::RevenueExclE4,
            C::RevenueInclE4,
            C::CostE4,
            C::Units,
            C::Transactions,
        ])
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .map(|(store, month, key, e, i, c, u, t)| Fact {
            store,
            month,
            key,
            m: measures(e, i, c, u, t),
        })
        .collect())
}

async fn daily_facts(
    db: &impl ConnectionTrait,
    org: Uuid,
    stores: &[Uuid],
    from: NaiveDate,
    to: NaiveDate,
    products: &[Uuid],
) -> AppResult<Vec<Fact>> {
    use daily::Column as C;
    let mut out = Vec::new();
    for batch in products.chunks(5_000) {
        let rows: Vec<KeyedTuple> = daily::Entity::find()
            .filter(C::OrgId.eq(org))
            .filter(C::StoreId.is_in(stores.to_vec()))
            .filter(C::ProductId.is_in(batch.to_vec()))
            .filter(C::Day.gte(from))
            .filter(C::Day.lte(to))
            .select_only()
            .columns([
                C::StoreId,
                C::Day,
                C::ProductId,
                C::RevenueExclE4,
                C::RevenueInclE4,
                C::CostE4,
                C::Units,
                C::Transactions,
            ])
            .into_tuple()
            .all(db)
            .await?;
        out.extend(
            rows.into_iter()
                .map(|(store, day, key, e, i, c, u, t)| Fact {
                    store,
                    month: month_of(day),
                    key,
                    m: measures(e, i, c, u, t),
                }),
        );
    }
    Ok(out)
}

/// Target of each (store, month): the monthly target, else a twelfth of the yearly one.
pub(crate) async fn monthly_targets(
    db: &impl ConnectionTrait,
    caller: &Caller,
    stores: &[Uuid],
) -> AppResult<HashMap<(Uuid, NaiveDate), i64>> {
    let rows = scoped::<targets::Entity>(caller.org_id)
        .filter(targets::Column::StoreId.is_in(stores.to_vec()))
        .all(db)
        .await?;
    let mut yearly: HashMap<(Uuid, i32), i64> = HashMap::new();
    let mut out = HashMap::new();
    for t in &rows {
        if t.month == 0 {
            yearly.insert((t.store_id, t.year), t.revenue_e4);
        }
    }
    for (&(store, year), &amount) in &yearly {
        for m in 1..=12 {
            if let Some(d) = NaiveDate::from_ymd_opt(year, m, 1) {
                out.insert((store, d), amount / 12);
            }
        }
    }
    for t in rows.into_iter().filter(|t| t.month > 0) {
        if let Some(d) = NaiveDate::from_ymd_opt(t.year, t.month as u32, 1) {
            out.insert((t.store_id, d), t.revenue_e4);
        }
    }
    Ok(out)
}

fn row(id: Uuid, code: &str, label: &str, m: &Measures, target: Option<i64>) -> Row {
    let excl = from_e4(m.excl);
    let margin = from_e4(m.excl - m.cost);
    let target = target.map(from_e4);
    Row {
        id,
        code: code.to_owned(),
        label: label.to_owned(),
        revenue_excl: excl,
        revenue_incl: from_e4(m.incl),
        gross_margin: margin,
        gross_margin_pct: pct(margin, excl),
        units: m.units,
        transactions: m.transactions,
        target,
        attainment_pct: target.and_then(|t| pct(excl, t)),
    }
}

/// Categories of the organization: id → (code, name), and children by parent.
pub(crate) async fn category_tree(
    db: &impl ConnectionTrait,
    caller: &Caller,
) -> AppResult<(HashMap<Uuid, (String, String)>, HashMap<Uuid, Vec<Uuid>>)> {
    let all = scoped::<categories::Entity>(caller.org_id).all(db).await?;
    let mut children: HashMap<Uuid, Vec<Uuid>> = HashMap::new();
    let mut names = HashMap::new();
    for c in all {
        if let Some(p) = c.parent_id {
            children.entry(p).or_default().push(c.id);
        }
        names.insert(c.id, (c.code, c.name));
    }
    Ok((names, children))
}

pub(crate) fn subtree(root: Uuid, children: &HashMap<Uuid, Vec<Uuid>>) -> Vec<Uuid> {
    let mut out = vec![root];
    let mut seen = HashSet::from([root]);
    let mut i = 0;
    while i < out.len() {
        for c in children.get(&out[i]).into_iter().flatten() {
            if seen.insert(*c) {
                out.push(*c);
            }
        }
        i += 1;
    }
    out
}

/// Builds the dashboard of a period and a scope for the caller.
pub async fn dashboard(
    db: &impl ConnectionTrait,
    caller: &Caller,
    q: &DashboardQuery,
) -> AppResult<Dashboard> {
    let period = Period::parse(q.from.as_deref(), q.to.as_deref())?;
    let org = caller.org_id.0;
    let mut stores: Vec<StoreRow> = visible_stores(db, caller).await?;
    let mut label = Vec::new();
    if let Some(region) = q.region_id {
        let r = visible_regions(db, caller)
            .await?
            .into_iter()
            .find(|r| r.id == region)
            .ok_or_else(|| AppError::not_found("region"))?;
        label.push(format!("Region {}", r.name));
        stores.retain(|s| s.region_id == region);
    }
    if let Some(store) = q.store_id {
        stores.retain(|s| s.id == store);
        let s = stores.first().ok_or_else(|| AppError::not_found("store"))?;
        label.push(format!("Store {}", s.name));
    }
    let (category_names, category_children) = category_tree(db, caller).await?;
    let category_set = match q.category_id {
        Some(c) => {
            let (_, name) = category_names
                .get(&c)
                .ok_or_else(|| AppError::not_found("category"))?;
            label.push(format!("Category {name}"));
            Some(subtree(c, &category_children))
        }
        None => None,
    };
    if let Some(p) = q.product_id {
        let product = find_in_org::<products::Entity>(db, caller.org_id, p).await?;
        if let Some(set) = &category_set
            && !product.category_id.is_some_and(|c| set.contains(&c))
        {
            return Err(AppError::not_found("product"));
        }
        label.push(format!("Product {}", product.name));
    }
    let level = if q.product_id.is_some() {
        "product"
    } else if q.category_id.is_some() {
        "category"
    } else if q.store_id.is_some() {
        "store"
    } else if q.region_id.is_some() {
        "region"
    } else {
        "org"
    };
    let store_ids: Vec<Uuid> = stores.iter().map(|s| s.id).collect();
    let (prev, last_year) = (period.previous(), period.last_year());
    let start = prev.from.min(last_year.from);
    let end = period.last_day();
    let facts = if let Some(p) = q.product_id {
        daily_facts(db, org, &store_ids, start, end, &[p]).await?
    } else if let Some(set) = &category_set {
        monthly_facts(db, org, &store_ids, start, end, Some(set)).await?
    } else {
        store_daily_facts(db, org, &store_ids, start, end).await?
    };
    let with_targets = q.product_id.is_none() && q.category_id.is_none();
    let targets = if with_targets {
        monthly_targets(db, caller, &store_ids).await?
    } else {
        HashMap::new()
    };
    let target_of = |store: Uuid| -> Option<i64> {
        with_targets.then(|| {
            period
                .month_list()
                .iter()
                .filter_map(|m| targets.get(&(store, *m)))
                .sum()
        })
    };
    let total_of = |p: Period| {
        let mut m = Measures::default();
        for f in facts.iter().filter(|f| p.contains(f.month)) {
            add(&mut m, &f.m);
        }
        m
    };
    let current = total_of(period);
    let previous = total_of(prev);
    let ly = total_of(last_year);
    let target: Option<i64> =
        with_targets.then(|| store_ids.iter().filter_map(|s| target_of(*s)).sum());
    let figures = {
        let excl = from_e4(current.excl);
        let margin = from_e4(current.excl - current.cost);
        let target = target.map(from_e4);
        let (p, l) = (from_e4(previous.excl), from_e4(ly.excl));
        Figures {
            revenue_excl: excl,
            revenue_incl: from_e4(current.incl),
            cost: from_e4(current.cost),
            gross_margin: margin,
            gross_margin_pct: pct(margin, excl),
            units: current.units,
            transactions: current.transactions,
            average_basket: (current.transactions != 0)
                .then(|| (from_e4(current.incl) / Decimal::from(current.transactions)).round_dp(2)),
            target,
            attainment_pct: target.and_then(|t| pct(excl, t)),
            previous_revenue_excl: p,
            growth_vs_previous_pct: pct(excl - p, p),
            last_year_revenue_excl: l,
            growth_vs_last_year_pct: pct(excl - l, l),
        }
    };
    let mut by_month: BTreeMap<NaiveDate, Measures> = period
        .month_list()
        .into_iter()
        .map(|m| (m, Measures::default()))
        .collect();
    for f in facts.iter().filter(|f| period.contains(f.month)) {
        if let Some(m) = by_month.get_mut(&f.month) {
            add(m, &f.m);
        }
    }
    let series = by_month
        .into_iter()
        .map(|(month, m)| SeriesPoint {
            month: Period::label(month),
            revenue_excl: from_e4(m.excl),
            revenue_incl: from_e4(m.incl),
            gross_margin: from_e4(m.excl - m.cost),
            units: m.units,
            transactions: m.transactions,
            target: with_targets.then(|| {
                from_e4(
                    store_ids
                        .iter()
                        .filter_map(|s| targets.get(&(*s, month)))
                        .sum(),
                )
            }),
        })
        .collect();
    // Store ranking (always), from the scope's facts.
    let mut per_store: HashMap<Uuid, Measures> = HashMap::new();
    for f in facts.iter().filter(|f| period.contains(f.month)) {
        add(per_store.entry(f.store).or_default(), &f.m);
    }
    let mut store_rows: Vec<Row> = stores
        .iter()
        .map(|s| {
            let m = per_store.get(&s.id).copied().unwrap_or_default();
            row(s.id, &s.code, &s.name, &m, target_of(s.id))
        })
        .collect();
    store_rows.sort_by(|a, b| {
        b.revenue_excl
            .cmp(&a.revenue_excl)
            .then(a.code.cmp(&b.code))
    });
    // Margin by category, from the monthly rollup.
    let categories = if q.product_id.is_none() {
        let facts = monthly_facts(
            db,
            org,
            &store_ids,
            period.from,
            period.to,
            category_set.as_deref(),
        )
        .await?;
        let mut per: HashMap<Uuid, Measures> = HashMap::new();
        for f in &facts {
            add(per.entry(f.key).or_default(), &f.m);
        }
        let mut rows: Vec<Row> = per
            .iter()
            .map(|(id, m)| {
                let (code, name) = category_names
                    .get(id)
                    .cloned()
                    .unwrap_or_else(|| (String::new(), "(no category)".into()));
                row(*id, &code, &name, m, None)
            })
            .collect();
        rows.sort_by(|a, b| {
            b.revenue_excl
                .cmp(&a.revenue_excl)
                .then(a.code.cmp(&b.code))
        });
        rows
    } else {
        Vec::new()
    };
    let (children_level, children) = match level {
        "org" => {
            let mut per: BTreeMap<Uuid, (String, String, Measures, i64)> = BTreeMap::new();
            for s in &stores {
                let e = per.entry(s.region_id).or_insert_with(|| {
                    (
                        s.region_code.clone(),
                        s.region_name.clone(),
                        Measures::default(),
                        0,
                    )
                });
                add(&mut e.2, &per_store.get(&s.id).copied().unwrap_or_default());
                e.3 += target_of(s.id).unwrap_or(0);
            }
            let rows = per
                .into_iter()
                .map(|(id, (code, name, m, t))| row(id, &code, &name, &m, Some(t)))
                .collect();
            ("region", rows)
        }
        "region" | "product" => ("store", store_rows.clone()),
        "store" => ("category", categories.clone()),
        _ => {
            let set = category_set.clone().unwrap_or_default();
            let products: Vec<(Uuid, String, String)> = scoped::<products::Entity>(caller.org_id)
                .filter(products::Column::CategoryId.is_in(set))
                .select_only()
                .column(products::Column::Id)
                .column(products::Column::Sku)
                .column(products::Column::Name)
                .into_tuple()
                .all(db)
                .await?;
            let ids: Vec<Uuid> = products.iter().map(|p| p.0).collect();
            let facts = daily_facts(db, org, &store_ids, period.from, end, &ids).await?;
            let mut per: HashMap<Uuid, Measures> = HashMap::new();
            for f in &facts {
                add(per.entry(f.key).or_default(), &f.m);
            }
            let rows = products
                .iter()
                .filter_map(|(id, sku, name)| per.get(id).map(|m| row(*id, sku, name, m, None)))
                .collect();
            ("product", rows)
        }
    };
    let mut children: Vec<Row> = children;
    children.sort_by(|a, b| {
        b.revenue_excl
            .cmp(&a.revenue_excl)
            .then(a.code.cmp(&b.code))
    });
    let top: Vec<Row> = children.iter().take(5).cloned().collect();
    let bottom: Vec<Row> = children.iter().rev().take(5).cloned().collect();
    Ok(Dashboard {
        from: Period::label(period.from),
        to: Period::label(period.to),
        level: level.into(),
        region_id: q.region_id,
        store_id: q.store_id,
        category_id: q.category_id,
        product_id: q.product_id,
        label: if label.is_empty() {
            "Whole chain".into()
        } else {
            label.join(" › ")
        },
        figures,
        series,
        children_level: children_level.into(),
        children,
        top,
        bottom,
        stores: store_rows,
        categories,
    })
}

//! The rollups the dashboard reads: daily store × product, daily store (for transactions
//! and baskets: a receipt spans products), monthly store × category. The import adds the
//! difference a receipt makes (its new lines minus the lines it replaces) in the same
//! transaction as the lines; [`rebuild`] recomputes them from the lines. A row whose
//! measures all went back to zero is left in place: readers ignore it, and the rebuild
//! comparison skips such rows.

use std::collections::{BTreeSet, HashMap};

use chrono::{Datelike, NaiveDate};
use comptoir_kernel::AppResult;
use comptoir_kernel::ids::OrgId;
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};
use uuid::Uuid;

use crate::entities::{daily, monthly, sale_lines, sales, store_daily};

/// Revenue, cost, units and transactions.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Measures {
    pub excl: i64,
    pub incl: i64,
    pub cost: i64,
    pub units: i64,
    pub transactions: i64,
}

impl Measures {
    fn add(&mut self, other: &Measures) {
        self.excl += other.excl;
        self.incl += other.incl;
        self.cost += other.cost;
        self.units += other.units;
        self.transactions += other.transactions;
    }

    pub fn is_zero(&self) -> bool {
        *self == Measures::default()
    }
}

/// What one line contributes.
#[derive(Clone, Copy, Debug)]
pub struct LineFacts {
    pub product: Uuid,
    pub category: Uuid,
    pub quantity: i64,
    pub excl: i64,
    pub incl: i64,
    pub cost: i64,
}

/// Changes to add to the rollups.
#[derive(Debug, Default)]
pub struct Deltas {
    pub daily: HashMap<(Uuid, NaiveDate, Uuid), Measures>,
    pub store_daily: HashMap<(Uuid, NaiveDate), Measures>,
    pub monthly: HashMap<(Uuid, NaiveDate, Uuid), Measures>,
}

/// The first day of `day`'s month.
pub fn month_of(day: NaiveDate) -> NaiveDate {
    day.with_day(1).unwrap_or(day)
}

impl Deltas {
    /// Adds (`sign` 1) or removes (`sign` -1) one receipt.
    pub fn sale(&mut self, store: Uuid, day: NaiveDate, lines: &[LineFacts], sign: i64) {
        let month = month_of(day);
        let mut products = BTreeSet::new();
        let mut categories = BTreeSet::new();
        let total = self.store_daily.entry((store, day)).or_default();
        total.transactions += sign;
        for l in lines {
            let m = Measures {
                excl: sign * l.excl,
                incl: sign * l.incl,
                cost: sign * l.cost,
                units: sign * l.quantity,
                transactions: 0,
            };
            total.add(&m);
            let mut p = m;
            if products.insert(l.product) {
                p.transactions = sign;
            }
            self.daily
                .entry((store, day, l.product))
                .or_default()
                .add(&p);
            let mut c = m;
            if categories.insert(l.category) {
                c.transactions = sign;
            }
            self.monthly
                .entry((store, month, l.category))
                .or_default()
                .add(&c);
        }
    }

    pub fn is_empty(&self) -> bool {
        self.daily.is_empty() && self.store_daily.is_empty() && self.monthly.is_empty()
    }
}

fn add_expr(table: &str, col: &str) -> Expr {
    Expr::cust(format!("{table}.{col} + excluded.{col}"))
}

const ROWS_PER_STATEMENT: usize = 1_000;

macro_rules! upsert {
    ($db:expr, $entity:ident, $table:literal, $keys:expr, $rows:expr) => {{
        use $entity::Column as C;
        let conflict = OnConflict::columns($keys)
            .value(C::RevenueExclE4, add_expr($table, "revenue_excl_e4"))
            .value(C::RevenueInclE4, add_expr($table, "revenue_incl_e4"))
            .value(C::CostE4, add_expr($table, "cost_e4"))
            .value(C::Units, add_expr($table, "units"))
            .value(C::Transactions, add_expr($table, "transactions"))
            .to_owned();
        let rows: Vec<$entity::ActiveModel> = $rows;
        let mut rows = rows.into_iter().peekable();
        while rows.peek().is_some() {
            let batch: Vec<_> = rows.by_ref().take(ROWS_PER_STATEMENT).collect();
            $entity::Entity::insert_many(batch)
                .on_conflict(conflict.clone())
                .exec_without_returning($db)
                .await?;
        }
    }};
}

/// Adds the deltas to the rollups (in the caller's transaction).
pub async fn apply(db: &impl ConnectionTrait, org: OrgId, deltas: Deltas) -> AppResult<()> {
    let o = org.0;
    upsert!(
        db,
        daily,
        "retail_daily",
        [C::OrgId, C::StoreId, C::Day, C::ProductId],
        deltas
            .daily
            .into_iter()
            .filter(|(_, m)| !m.is_zero())
            .map(|((store, day, product), m)| daily::ActiveModel {
                org_id: Set(o),
                store_id: Set(store),
                day: Set(day),
                product_id: Set(product),
                revenue_excl_e4: Set(m.excl),
                revenue_incl_e4: Set(m.incl),
                cost_e4: Set(m.cost),
                units: Set(m.units),
                transactions: Set(m.transactions),
            })
            .collect()
    );
    upsert!(
        db,
        store_daily,
        "retail_store_daily",
        [C::OrgId, C::StoreId, C::Day],
        deltas
            .store_daily
            .into_iter()
            .filter(|(_, m)| !m.is_zero())
            .map(|((store, day), m)| store_daily::ActiveModel {
                org_id: Set(o),
                store_id: Set(store),
                day: Set(day),
                revenue_excl_e4: Set(m.excl),
                revenue_incl_e4: Set(m.incl),
                cost_e4: Set(m.cost),
                units: Set(m.units),
                transactions: Set(m.transactions),
            })
            .collect()
    );
    upsert!(
        db,
        monthly,
        "retail_monthly",
        [C::OrgId, C::StoreId, C::Month, C::CategoryId],
        deltas
            .monthly
            .into_iter()
            .filter(|(_, m)| !m.is_zero())
            .map(|((store, month, category), m)| monthly::ActiveModel {
                org_id: Set(o),
                store_id: Set(store),
                month: Set(month),
                category_id: Set(category),
                revenue_excl_e4: Set(m.excl),
                revenue_incl_e4: Set(m.incl),
                cost_e4: Set(m.cost),
                units: Set(m.units),
                transactions: Set(m.transactions),
            })
            .collect()
    );
    Ok(())
}

/// The contributions of stored lines, with the products' current categories.
pub async fn stored_facts(
    db: &impl ConnectionTrait,
    org: OrgId,
    sale_ids: &[Uuid],
    categories: &HashMap<Uuid, Uuid>,
) -> AppResult<HashMap<Uuid, Vec<LineFacts>>> {
    let mut out: HashMap<Uuid, Vec<LineFacts>> = HashMap::new();
    for ids in sale_ids.chunks(500) {
        let rows = sale_lines::Entity::find()
            .filter(sale_lines::Column::OrgId.eq(org.0))
            .filter(sale_lines::Column::SaleId.is_in(ids.to_vec()))
            .all(db)
            .await?;
        for l in rows {
            out.entry(l.sale_id).or_default().push(LineFacts {
                product: l.product_id,
                category: categories.get(&l.product_id).copied().unwrap_or_default(),
                quantity: l.quantity,
                excl: l.amount_excl_e4,
                incl: l.amount_incl_e4,
                cost: l.cost_e4,
            });
        }
    }
    Ok(out)
}

/// Product → category (nil when none) for the organization.
pub async fn product_categories(
    db: &impl ConnectionTrait,
    org: OrgId,
) -> AppResult<HashMap<Uuid, Uuid>> {
    use comptoir_catalog::entities::products;
    Ok(comptoir_kernel::tenancy::scoped::<products::Entity>(org)
        .select_only()
        .column(products::Column::Id)
        .column(products::Column::CategoryId)
        .into_tuple::<(Uuid, Option<Uuid>)>()
        .all(db)
        .await?
        .into_iter()
        .map(|(p, c)| (p, c.unwrap_or_default()))
        .collect())
}

/// Recomputes every rollup of the organization from the sale lines, in one transaction.
/// Returns the number of receipts read.
pub async fn rebuild(db: &DatabaseConnection, org: OrgId) -> AppResult<u64> {
    let txn = comptoir_kernel::db::begin_write(db).await?;
    daily::Entity::delete_many()
        .filter(daily::Column::OrgId.eq(org.0))
        .exec(&txn)
        .await?;
    store_daily::Entity::delete_many()
        .filter(store_daily::Column::OrgId.eq(org.0))
        .exec(&txn)
        .await?;
    monthly::Entity::delete_many()
        .filter(monthly::Column::OrgId.eq(org.0))
        .exec(&txn)
        .await?;
    let categories = product_categories(&txn, org).await?;
    let mut deltas = Deltas::default();
    let mut after = Uuid::nil();
    let mut count = 0u64;
    loop {
        let page: Vec<(Uuid, Uuid, NaiveDate)> = sales::Entity::find()
            .filter(sales::Column::OrgId.eq(org.0))
            .filter(sales::Column::Id.gt(after))
            .order_by_asc(sales::Column::Id)
            .limit(2_000)
            .select_only()
            .column(sales::Column::Id)
            .column(sales::Column::StoreId)
            .column(sales::Column::Day)
            .into_tuple()
            .all(&txn)
            .await?;
        let Some(last) = page.last() else { break };
        after = last.0;
        let ids: Vec<Uuid> = page.iter().map(|s| s.0).collect();
        let facts = stored_facts(&txn, org, &ids, &categories).await?;
        for (id, store, day) in &page {
            let lines = facts.get(id).map(Vec::as_slice).unwrap_or(&[]);
            deltas.sale(*store, *day, lines, 1);
        }
        count += page.len() as u64;
    }
    apply(&txn, org, deltas).await?;
    txn.commit().await?;
    Ok(count)
}

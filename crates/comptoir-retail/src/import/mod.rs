//! Sales import (CSV or XLSX). An upload is stored as a `pending` import with its options;
//! [`run_import`] reads it, validates every row ([`validate`]), keeps the rejected rows with
//! their reasons, then writes the valid receipts in chunks: each chunk's sales, lines and
//! rollup deltas in one transaction. A receipt already stored (same number) is replaced:
//! its old lines are subtracted from the rollups and its new ones added, so re-importing a
//! file changes nothing. `all_or_nothing` writes nothing when a row is invalid, and
//! otherwise writes every chunk in a single transaction.
//!
//! A run always starts over (rejected rows cleared): replacing receipts is idempotent, so a
//! retried job converges to the same state.

pub mod columns;
pub mod read;
mod report;
pub mod validate;

use std::collections::{HashMap, HashSet};

use chrono::Utc;
use comptoir_kernel::auth::{Caller, Permission};
use comptoir_kernel::ids::OrgId;
use comptoir_kernel::tenancy::{find_in_org, scoped};
use comptoir_kernel::{AppError, AppResult};
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, QuerySelect, Set,
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::entities::{customers, import_rows, imports, mappings, sale_lines, sales};
use crate::model::SalesImportId;
use crate::rollup::{self, Deltas, LineFacts};
use crate::scope::{Visibility, visible_stores};
use read::Format;
use validate::{Lookups, ProductInfo, Receipt};

pub use report::{SalesImport, get_import, list_imports, rejected_csv};

/// Rows written per transaction (whole receipts, so a chunk may be a little larger).
pub const CHUNK_ROWS: usize = 1_000;
/// Most data rows in one file.
pub const MAX_ROWS: usize = 2_000_000;

/// What to do with a file that has invalid rows.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Policy {
    /// Write the valid receipts, report the others (default).
    #[default]
    AcceptValid,
    /// Write nothing unless every row is valid.
    AllOrNothing,
}

impl Policy {
    pub fn as_str(self) -> &'static str {
        match self {
            Policy::AcceptValid => "accept_valid",
            Policy::AllOrNothing => "all_or_nothing",
        }
    }
}

/// Options of a sales import (query parameters of `POST /api/v1/retail/imports`).
#[derive(Debug, Clone, Default, Serialize, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct SalesImportOptions {
    /// `accept_valid` (default) or `all_or_nothing`.
    pub policy: Option<Policy>,
    /// Where the file comes from (a till system, a spreadsheet...): its column mapping is
    /// saved under this name and used for the next files. Default `default`.
    pub source: Option<String>,
    /// Header mapping `Their header:our_column,...`, saved for the source.
    pub map: Option<String>,
}

/// A source name: 1 to 64 letters, digits, `-`, `_` or `.`.
pub fn source_name(raw: &str) -> AppResult<String> {
    let ok = !raw.is_empty()
        && raw.len() <= 64
        && raw
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    if ok {
        Ok(raw.to_owned())
    } else {
        Err(AppError::field(
            "source",
            "1 to 64 letters, digits, '-', '_' or '.'",
        ))
    }
}

/// Saves (replaces) the column mapping of a source.
pub async fn save_mapping(
    db: &impl ConnectionTrait,
    caller: &Caller,
    source: &str,
    map: &HashMap<String, String>,
) -> AppResult<()> {
    caller.require(Permission::Write)?;
    Visibility::of(caller)?;
    let source = source_name(source)?;
    let map = columns::check_map(map).map_err(|e| AppError::field("map", e))?;
    mappings::Entity::insert(mappings::ActiveModel {
        id: Set(Uuid::now_v7()),
        org_id: Set(caller.org_id.0),
        source: Set(source),
        map: Set(serde_json::to_value(&map).map_err(AppError::internal)?),
        updated_at: Set(Utc::now()),
    })
    .on_conflict(
        OnConflict::columns([mappings::Column::OrgId, mappings::Column::Source])
            .update_columns([mappings::Column::Map, mappings::Column::UpdatedAt])
            .to_owned(),
    )
    .exec_without_returning(db)
    .await?;
    Ok(())
}

/// The saved mapping of a source (empty when none).
pub async fn load_mapping(
    db: &impl ConnectionTrait,
    org: OrgId,
    source: &str,
) -> AppResult<Option<HashMap<String, String>>> {
    Ok(scoped::<mappings::Entity>(org)
        .filter(mappings::Column::Source.eq(source))
        .one(db)
        .await?
        .map(|m| serde_json::from_value(m.map).unwrap_or_default()))
}

/// Stores an upload as a `pending` import (and saves its mapping, if given).
pub async fn start_import(
    db: &impl ConnectionTrait,
    caller: &Caller,
    options: SalesImportOptions,
    content: Vec<u8>,
) -> AppResult<SalesImportId> {
    caller.require(Permission::Write)?;
    Visibility::of(caller)?;
    let source = source_name(options.source.as_deref().unwrap_or("default"))?;
    if let Some(raw) = options.map.as_deref() {
        let map =
            columns::parse_map_option(raw).map_err(|e| AppError::invalid_parameter("map", e))?;
        save_mapping(db, caller, &source, &map).await?;
    }
    if content.iter().all(u8::is_ascii_whitespace) {
        return Err(AppError::field("body", "the file is empty"));
    }
    let format = Format::sniff(&content);
    let id = SalesImportId::new();
    let row = imports::ActiveModel {
        id: Set(id.0),
        org_id: Set(caller.org_id.0),
        status: Set("pending".into()),
        policy: Set(options.policy.unwrap_or_default().as_str().into()),
        source: Set(source),
        format: Set(format.as_str().into()),
        options: Set(serde_json::to_value(&options).map_err(AppError::internal)?),
        content: Set(content),
        total_rows: Set(0),
        processed_rows: Set(0),
        accepted_rows: Set(0),
        rejected_rows: Set(0),
        receipts: Set(0),
        error: Set(None),
        created_by: Set(Some(caller.user_id.0)),
        created_at: Set(Utc::now()),
        finished_at: Set(None),
    };
    imports::Entity::insert(row)
        .exec_without_returning(db)
        .await?;
    Ok(id)
}

#[derive(Clone, Copy, Debug, Default)]
struct Counters {
    total: i64,
    processed: i64,
    accepted: i64,
    rejected: i64,
    receipts: i64,
}

async fn set_counters(db: &impl ConnectionTrait, id: SalesImportId, c: Counters) -> AppResult<()> {
    use imports::Column as C;
    imports::Entity::update_many()
        .col_expr(C::TotalRows, Expr::value(c.total))
        .col_expr(C::ProcessedRows, Expr::value(c.processed))
        .col_expr(C::AcceptedRows, Expr::value(c.accepted))
        .col_expr(C::RejectedRows, Expr::value(c.rejected))
        .col_expr(C::Receipts, Expr::value(c.receipts))
        .filter(C::Id.eq(id.0))
        .exec(db)
        .await?;
    Ok(())
}

async fn set_status(
    db: &impl ConnectionTrait,
    id: SalesImportId,
    status: &str,
    error: Option<String>,
) -> AppResult<()> {
    use imports::Column as C;
    let finished = (status != "running").then(Utc::now);
    imports::Entity::update_many()
        .col_expr(C::Status, Expr::value(status))
        .col_expr(C::Error, Expr::value(error))
        .col_expr(C::FinishedAt, Expr::value(finished))
        .filter(C::Id.eq(id.0))
        .exec(db)
        .await?;
    Ok(())
}

async fn lookups(
    db: &impl ConnectionTrait,
    caller: &Caller,
    table: &read::Table,
    columns: &[Option<&'static str>],
) -> AppResult<Lookups> {
    use comptoir_catalog::entities::products;
    let org = caller.org_id;
    let visible = visible_stores(db, caller).await?;
    let visible_ids: HashSet<Uuid> = visible.iter().map(|s| s.id).collect();
    let stores = visible.into_iter().map(|s| (s.code, s.id)).collect();
    let products = scoped::<products::Entity>(org)
        .select_only()
        .column(products::Column::Sku)
        .column(products::Column::Id)
        .column(products::Column::VatRateE4)
        .column(products::Column::PurchasePriceE4)
        .column(products::Column::CategoryId)
        .into_tuple::<(String, Uuid, i64, Option<i64>, Option<Uuid>)>()
        .all(db)
        .await?
        .into_iter()
        .map(|(sku, id, vat, purchase, category)| {
            let info = ProductInfo {
                id,
                vat_e4: vat,
                purchase_e4: purchase.unwrap_or(0),
                category: category.unwrap_or_default(),
            };
            (sku, info)
        })
        .collect();
    let mut foreign_receipts = HashSet::new();
    if !Visibility::of(caller)?.is_all()
        && let Some(col) = columns.iter().position(|c| *c == Some("receipt"))
    {
        let numbers: Vec<String> = table
            .rows
            .iter()
            .filter_map(|r| r.get(col).map(|c| c.trim().to_owned()))
            .collect::<HashSet<_>>()
            .into_iter()
            .collect();
        for batch in numbers.chunks(500) {
            let found: Vec<(String, Uuid)> = scoped::<sales::Entity>(org)
                .filter(sales::Column::Receipt.is_in(batch.to_vec()))
                .select_only()
                .column(sales::Column::Receipt)
                .column(sales::Column::StoreId)
                .into_tuple()
                .all(db)
                .await?;
            foreign_receipts.extend(
                found
                    .into_iter()
                    .filter(|(_, store)| !visible_ids.contains(store))
                    .map(|(r, _)| r),
            );
        }
    }
    Ok(Lookups {
        stores,
        products,
        foreign_receipts,
    })
}

fn raw_line(row: &[String]) -> String {
    let mut writer = csv::WriterBuilder::new().from_writer(Vec::new());
    let _ = writer.write_record(row);
    let bytes = writer.into_inner().unwrap_or_default();
    String::from_utf8_lossy(&bytes).trim_end().to_owned()
}

/// Processes a stored import to the end, as `caller` (whose scope limits the stores it may
/// write to), and returns it. A `completed` or `rejected` import is returned as it is.
pub async fn run_import(
    db: &DatabaseConnection,
    caller: &Caller,
    id: SalesImportId,
) -> AppResult<SalesImport> {
    let org = caller.org_id;
    let row = find_in_org::<imports::Entity>(db, org, id.0).await?;
    if matches!(row.status.as_str(), "completed" | "rejected") {
        return get_import(db, caller, id).await;
    }
    import_rows::Entity::delete_many()
        .filter(import_rows::Column::ImportId.eq(id.0))
        .exec(db)
        .await?;
    set_counters(db, id, Counters::default()).await?;
    set_status(db, id, "running", None).await?;
    let format = Format::parse(&row.format).unwrap_or(Format::Csv);
    let policy = if row.policy == Policy::AllOrNothing.as_str() {
        Policy::AllOrNothing
    } else {
        Policy::AcceptValid
    };
    let table = match read::read(format, &row.content, MAX_ROWS) {
        Ok(t) => t,
        Err(e) => {
            set_status(db, id, "failed", Some(e)).await?;
            return get_import(db, caller, id).await;
        }
    };
    let map = load_mapping(db, org, &row.source)
        .await?
        .unwrap_or_default();
    let map = columns::check_map(&map).unwrap_or_default();
    drop(row);
    let columns = match columns::map_headers(&table.headers, &map) {
        Ok(c) => c,
        Err(e) => {
            set_status(db, id, "failed", Some(e)).await?;
            return get_import(db, caller, id).await;
        }
    };
    let lookups = lookups(db, caller, &table, &columns).await?;
    let (receipts, rejected) = validate::validate(&table, &columns, &lookups);
    let header_of = |c: &'static str| {
        columns
            .iter()
            .position(|x| *x == Some(c))
            .and_then(|i| table.headers.get(i).cloned())
            .unwrap_or_else(|| c.to_owned())
    };
    let rejected_rows: Vec<import_rows::ActiveModel> = rejected
        .iter()
        .map(|r| import_rows::ActiveModel {
            id: Set(Uuid::now_v7()),
            org_id: Set(org.0),
            import_id: Set(id.0),
            line: Set(table.lines.get(r.row).copied().unwrap_or(0)),
            column_name: Set(r.column.map(header_of)),
            reason: Set(r.reason.clone()),
            raw: Set(table
                .rows
                .get(r.row)
                .map(|x| raw_line(x))
                .unwrap_or_default()),
        })
        .collect();
    let mut counters = Counters {
        total: table.rows.len() as i64,
        processed: rejected.len() as i64,
        accepted: 0,
        rejected: rejected.len() as i64,
        receipts: 0,
    };
    {
        let txn = comptoir_kernel::db::begin_write(db).await?;
        for batch in rejected_rows.chunks(500) {
            import_rows::Entity::insert_many(batch.to_vec())
                .exec_without_returning(&txn)
                .await?;
        }
        set_counters(&txn, id, counters).await?;
        txn.commit().await?;
    }
    if policy == Policy::AllOrNothing && !rejected.is_empty() {
        set_status(
            db,
            id,
            "rejected",
            Some(format!(
                "{} row(s) are invalid; with all_or_nothing nothing was imported",
                rejected.len()
            )),
        )
        .await?;
        return get_import(db, caller, id).await;
    }
    let categories = rollup::product_categories(db, org).await?;
    // Writing receipts is idempotent (a receipt is replaced, its old lines subtracted from
    // the rollups), so a write that lost a race for the database (SQLite's busy writer) is
    // simply run again before the import is declared failed.
    let mut result = write_receipts(db, org, id, &receipts, &categories, policy, counters).await;
    for attempt in 1..=WRITE_RETRIES {
        let Err(e) = &result else { break };
        tracing::warn!(import = %id, attempt, error = %e, "sales import write failed; retrying");
        tokio::time::sleep(std::time::Duration::from_millis(200 * u64::from(attempt))).await;
        result = write_receipts(db, org, id, &receipts, &categories, policy, counters).await;
    }
    match result {
        Ok(done) => {
            counters = done;
            set_counters(db, id, counters).await?;
            set_status(db, id, "completed", None).await?;
        }
        Err(e) => {
            tracing::error!(import = %id, error = %e, "sales import failed");
            set_status(
                db,
                id,
                "failed",
                Some("a database error stopped the import; it can be run again".into()),
            )
            .await?;
        }
    }
    get_import(db, caller, id).await
}

/// How many times a failed receipt write is run again before the import fails.
const WRITE_RETRIES: u32 = 4;

fn chunks(receipts: &[Receipt]) -> Vec<&[Receipt]> {
    let mut out = Vec::new();
    let (mut start, mut rows) = (0, 0);
    for (i, r) in receipts.iter().enumerate() {
        rows += r.lines.len();
        if rows >= CHUNK_ROWS {
            out.push(&receipts[start..=i]);
            start = i + 1;
            rows = 0;
        }
    }
    if start < receipts.len() {
        out.push(&receipts[start..]);
    }
    out
}

async fn write_receipts(
    db: &DatabaseConnection,
    org: OrgId,
    id: SalesImportId,
    receipts: &[Receipt],
    categories: &HashMap<Uuid, Uuid>,
    policy: Policy,
    mut counters: Counters,
) -> AppResult<Counters> {
    let single = match policy {
        Policy::AllOrNothing => Some(comptoir_kernel::db::begin_write(db).await?),
        Policy::AcceptValid => None,
    };
    for chunk in chunks(receipts) {
        let rows: i64 = chunk.iter().map(|r| r.lines.len() as i64).sum();
        counters.processed += rows;
        counters.accepted += rows;
        counters.receipts += chunk.len() as i64;
        match &single {
            Some(txn) => {
                write_chunk(txn, org, Some(id), chunk, categories).await?;
                set_counters(txn, id, counters).await?;
            }
            None => {
                let txn = comptoir_kernel::db::begin_write(db).await?;
                write_chunk(&txn, org, Some(id), chunk, categories).await?;
                set_counters(&txn, id, counters).await?;
                txn.commit().await?;
            }
        }
    }
    if let Some(txn) = single {
        txn.commit().await?;
    }
    Ok(counters)
}

/// Customers of the chunk by code, created when new.
async fn customer_ids(
    db: &impl ConnectionTrait,
    org: OrgId,
    chunk: &[Receipt],
) -> AppResult<HashMap<String, Uuid>> {
    let codes: Vec<String> = chunk
        .iter()
        .filter_map(|r| r.customer.clone())
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    if codes.is_empty() {
        return Ok(HashMap::new());
    }
    let now = Utc::now();
    customers::Entity::insert_many(codes.iter().map(|code| customers::ActiveModel {
        id: Set(Uuid::now_v7()),
        org_id: Set(org.0),
        code: Set(code.clone()),
        created_at: Set(now),
    }))
    .on_conflict(
        OnConflict::columns([customers::Column::OrgId, customers::Column::Code])
            .do_nothing()
            .to_owned(),
    )
    .exec_without_returning(db)
    .await?;
    Ok(scoped::<customers::Entity>(org)
        .filter(customers::Column::Code.is_in(codes))
        .select_only()
        .column(customers::Column::Code)
        .column(customers::Column::Id)
        .into_tuple::<(String, Uuid)>()
        .all(db)
        .await?
        .into_iter()
        .collect())
}

/// Writes receipts made elsewhere (the demo chain) through the import's write path: sales,
/// lines and rollup deltas in one transaction; a receipt number already stored is replaced.
pub async fn write_generated(
    db: &DatabaseConnection,
    org: OrgId,
    receipts: &[Receipt],
    categories: &HashMap<Uuid, Uuid>,
) -> AppResult<()> {
    let txn = comptoir_kernel::db::begin_write(db).await?;
    write_chunk(&txn, org, None, receipts, categories).await?;
    txn.commit().await?;
    Ok(())
}

async fn write_chunk(
    db: &impl ConnectionTrait,
    org: OrgId,
    import: Option<SalesImportId>,
    chunk: &[Receipt],
    categories: &HashMap<Uuid, Uuid>,
) -> AppResult<()> {
    let customers = customer_ids(db, org, chunk).await?;
    let numbers: Vec<String> = chunk.iter().map(|r| r.receipt.clone()).collect();
    let existing: Vec<(Uuid, String, Uuid, chrono::NaiveDate)> = scoped::<sales::Entity>(org)
        .filter(sales::Column::Receipt.is_in(numbers))
        .select_only()
        .column(sales::Column::Id)
        .column(sales::Column::Receipt)
        .column(sales::Column::StoreId)
        .column(sales::Column::Day)
        .into_tuple()
        .all(db)
        .await?;
    let mut deltas = Deltas::default();
    let old_ids: Vec<Uuid> = existing.iter().map(|e| e.0).collect();
    let old_facts = rollup::stored_facts(db, org, &old_ids, categories).await?;
    for (sale, _, store, day) in &existing {
        let lines = old_facts.get(sale).map(Vec::as_slice).unwrap_or(&[]);
        deltas.sale(*store, *day, lines, -1);
    }
    for ids in old_ids.chunks(500) {
        sales::Entity::delete_many()
            .filter(sales::Column::OrgId.eq(org.0))
            .filter(sales::Column::Id.is_in(ids.to_vec()))
            .exec(db)
            .await?;
    }
    let kept: HashMap<&str, Uuid> = existing.iter().map(|e| (e.1.as_str(), e.0)).collect();
    let now = Utc::now();
    let mut sale_rows = Vec::with_capacity(chunk.len());
    let mut line_rows = Vec::new();
    for r in chunk {
        let sale_id = kept
            .get(r.receipt.as_str())
            .copied()
            .unwrap_or_else(Uuid::now_v7);
        let day = r.sold_at.date_naive();
        sale_rows.push(sales::ActiveModel {
            id: Set(sale_id),
            org_id: Set(org.0),
            receipt: Set(r.receipt.clone()),
            store_id: Set(r.store),
            customer_id: Set(r.customer.as_ref().and_then(|c| customers.get(c).copied())),
            sold_at: Set(r.sold_at),
            day: Set(day),
            total_excl_e4: Set(r.total_excl_e4),
            total_incl_e4: Set(r.total_incl_e4),
            import_id: Set(import.map(|i| i.0)),
            updated_at: Set(now),
        });
        let facts: Vec<LineFacts> = r
            .lines
            .iter()
            .map(|l| LineFacts {
                product: l.product.id,
                category: categories.get(&l.product.id).copied().unwrap_or_default(),
                quantity: l.quantity,
                excl: l.excl_e4,
                incl: l.incl_e4,
                cost: l.cost_e4,
            })
            .collect();
        deltas.sale(r.store, day, &facts, 1);
        for (n, l) in r.lines.iter().enumerate() {
            line_rows.push(sale_lines::ActiveModel {
                id: Set(Uuid::now_v7()),
                org_id: Set(org.0),
                sale_id: Set(sale_id),
                line_no: Set(n as i32 + 1),
                product_id: Set(l.product.id),
                quantity: Set(l.quantity),
                unit_price_e4: Set(l.unit_price_e4),
                discount_e4: Set(l.discount_e4),
                vat_rate_e4: Set(l.vat_e4),
                amount_excl_e4: Set(l.excl_e4),
                amount_incl_e4: Set(l.incl_e4),
                cost_e4: Set(l.cost_e4),
            });
        }
    }
    for batch in sale_rows.chunks(1_000) {
        sales::Entity::insert_many(batch.to_vec())
            .exec_without_returning(db)
            .await?;
    }
    for batch in line_rows.chunks(1_000) {
        sale_lines::Entity::insert_many(batch.to_vec())
            .exec_without_returning(db)
            .await?;
    }
    rollup::apply(db, org, deltas).await
}

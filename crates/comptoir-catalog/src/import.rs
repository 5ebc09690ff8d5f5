//! CSV import of products and stock levels, and the CSV export of a product filter.
//!
//! An import is stored first (the upload, its options, a `pending` record), then
//! [`run_import`] processes it in chunks of [`CHUNK_ROWS`] rows, one transaction per chunk,
//! committing the accepted rows, the rejected rows (line, column, reason, raw text) and the
//! progress counters together. It can therefore resume after a crash from
//! `processed_rows`: the `catalog.import` job ([`crate::jobs`]) drives it, and a retried
//! attempt continues where the failed one stopped.

use std::collections::{HashMap, HashSet};

use comptoir_kernel::auth::{Caller, Permission};
use comptoir_kernel::ids::OrgId;
use comptoir_kernel::tenancy::{find_in_org, scoped};
use comptoir_kernel::{AppError, AppResult};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QuerySelect, Set,
};
use uuid::Uuid;

use crate::csv_columns::{map_headers, parse_map};
use crate::entities::{
    brands, categories, import_rows, imports, locations, product_types, products,
};
use crate::model::*;
use crate::store::{self, now};
use crate::views::*;

use crate::import_row::{Ctx, line_of, product_record, raw_line, sniff_delimiter, stock_record};
pub use crate::reports::{export_products_csv, get_import, import_report_csv, list_imports};

/// Rows per transaction.
pub const CHUNK_ROWS: usize = 500;
/// Most data rows in one file.
pub const MAX_ROWS: usize = 500_000;

/// Stores an upload as a `pending` import and returns its id (nothing is processed yet).
pub async fn start_import(
    db: &impl ConnectionTrait,
    caller: &Caller,
    options: ImportOptions,
    content: String,
) -> AppResult<ImportId> {
    caller.require(Permission::Write)?;
    parse_map(options.map.as_deref()).map_err(|e| AppError::invalid_parameter("map", e))?;
    if content.trim().is_empty() {
        return Err(AppError::field("body", "the CSV file is empty"));
    }
    if content.contains('\0') {
        return Err(AppError::field(
            "body",
            "the file contains NUL characters; is it CSV?",
        ));
    }
    let content = content
        .strip_prefix('\u{feff}')
        .unwrap_or(&content)
        .to_owned();
    let id = ImportId::new();
    imports::ActiveModel {
        id: Set(id.0),
        org_id: Set(caller.org_id.0),
        kind: Set(options.kind.unwrap_or(ImportKind::Products).as_str().into()),
        status: Set(ImportStatus::Pending.as_str().into()),
        options: Set(serde_json::to_value(&options).map_err(AppError::internal)?),
        content: Set(content),
        total_rows: Set(0),
        processed_rows: Set(0),
        accepted_rows: Set(0),
        rejected_rows: Set(0),
        error: Set(None),
        created_by: Set(Some(caller.user_id.0)),
        created_at: Set(now()),
        finished_at: Set(None),
    }
    .insert(db)
    .await?;
    Ok(id)
}

async fn load_ctx(
    db: &impl ConnectionTrait,
    row: &imports::Model,
    headers: Vec<String>,
    columns: Vec<String>,
) -> AppResult<Ctx> {
    let org = OrgId(row.org_id);
    let options: ImportOptions = serde_json::from_value(row.options.clone()).unwrap_or_default();
    let categories = scoped::<categories::Entity>(org)
        .all(db)
        .await?
        .into_iter()
        .map(|c| (c.code, c.id))
        .collect();
    let brands = scoped::<brands::Entity>(org)
        .all(db)
        .await?
        .into_iter()
        .map(|b| (b.name.to_lowercase(), b.id))
        .collect();
    let types = scoped::<product_types::Entity>(org)
        .all(db)
        .await?
        .into_iter()
        .map(|t| (t.code.clone(), (t.id, store::attribute_defs(&t.attributes))))
        .collect();
    let locations = scoped::<locations::Entity>(org)
        .all(db)
        .await?
        .into_iter()
        .map(|l| (l.code, l.id))
        .collect();
    let existing = scoped::<products::Entity>(org)
        .select_only()
        .column(products::Column::Sku)
        .column(products::Column::Id)
        .into_tuple::<(String, Uuid)>()
        .all(db)
        .await?
        .into_iter()
        .collect();
    Ok(Ctx {
        org,
        import: ImportId(row.id),
        actor: row.created_by,
        kind: ImportKind::parse(&row.kind).unwrap_or(ImportKind::Products),
        upsert: options.upsert.unwrap_or(false),
        create_categories: options.create_categories.unwrap_or(false),
        columns,
        headers,
        categories,
        brands,
        types,
        locations,
        existing,
        seen: HashMap::new(),
    })
}

/// Counters of an import, written with each chunk. (Updates go through `update_many` so the
/// stored upload is never read back: a 100,000-row file is several megabytes.)
#[derive(Debug, Clone, Copy)]
struct Progress {
    processed: i64,
    accepted: i64,
    rejected: i64,
}

async fn finish(
    db: &impl ConnectionTrait,
    id: ImportId,
    status: ImportStatus,
    error: Option<String>,
) -> AppResult<()> {
    use imports::Column as C;
    imports::Entity::update_many()
        .col_expr(C::Status, Expr::value(status.as_str()))
        .col_expr(C::Error, Expr::value(error))
        .col_expr(C::FinishedAt, Expr::value(Some(now())))
        .filter(C::Id.eq(id.0))
        .exec(db)
        .await?;
    Ok(())
}

/// Processes a stored import to the end, chunk by chunk, and returns it. A `pending` import
/// starts, a `running` or `failed` one resumes after its `processed_rows` (a file refused
/// for its header fails again), a `completed` one is returned as it is.
pub async fn run_import(db: &DatabaseConnection, org: OrgId, id: ImportId) -> AppResult<Import> {
    let row = find_in_org::<imports::Entity>(db, org, id.0).await?;
    if ImportStatus::parse(&row.status) == Some(ImportStatus::Completed) {
        return get_import(db, org, id).await;
    }
    let kind = ImportKind::parse(&row.kind).unwrap_or(ImportKind::Products);
    let options: ImportOptions = serde_json::from_value(row.options.clone()).unwrap_or_default();
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(sniff_delimiter(&row.content))
        .flexible(true)
        .from_reader(row.content.as_bytes());
    let headers: Vec<String> = match reader.headers() {
        Ok(h) => h.iter().map(str::to_owned).collect(),
        Err(e) => {
            finish(
                db,
                id,
                ImportStatus::Failed,
                Some(format!("cannot read the header: {e}")),
            )
            .await?;
            return get_import(db, org, id).await;
        }
    };
    let explicit = parse_map(options.map.as_deref()).unwrap_or_default();
    let columns = match map_headers(kind, &headers, &explicit) {
        Ok(c) => c,
        Err(e) => {
            finish(db, id, ImportStatus::Failed, Some(e)).await?;
            return get_import(db, org, id).await;
        }
    };
    let mut records = Vec::new();
    let mut lines = crate::csv_lines::Lines::new(row.content.as_bytes());
    for result in reader.records() {
        match result {
            Ok(mut r) => {
                lines.fix(&mut r);
                records.push(r);
            }
            Err(e) => {
                finish(
                    db,
                    id,
                    ImportStatus::Failed,
                    Some(format!("not valid CSV: {e}")),
                )
                .await?;
                return get_import(db, org, id).await;
            }
        }
        if records.len() > MAX_ROWS {
            finish(
                db,
                id,
                ImportStatus::Failed,
                Some(format!("more than {MAX_ROWS} rows")),
            )
            .await?;
            return get_import(db, org, id).await;
        }
    }
    let mut ctx = load_ctx(db, &row, headers, columns).await?;
    let done = usize::try_from(row.processed_rows)
        .unwrap_or(0)
        .min(records.len());
    if done > 0 {
        // Resuming: the rows accepted before count as seen in this file.
        let rejected: HashSet<i64> = scoped::<import_rows::Entity>(org)
            .filter(import_rows::Column::ImportId.eq(id.0))
            .select_only()
            .column(import_rows::Column::Line)
            .into_tuple::<i64>()
            .all(db)
            .await?
            .into_iter()
            .collect();
        for r in &records[..done] {
            let line = line_of(r);
            if let (false, Some(sku)) = (rejected.contains(&line), ctx.cell(r, "sku")) {
                ctx.seen.entry(sku.to_owned()).or_insert(line);
            }
        }
    }
    imports::Entity::update_many()
        .col_expr(
            imports::Column::Status,
            Expr::value(ImportStatus::Running.as_str()),
        )
        .col_expr(
            imports::Column::TotalRows,
            Expr::value(records.len() as i64),
        )
        .filter(imports::Column::Id.eq(id.0))
        .exec(db)
        .await?;
    let mut progress = Progress {
        processed: done as i64,
        accepted: row.accepted_rows,
        rejected: row.rejected_rows,
    };
    drop(row);
    for chunk in records[done..].chunks(CHUNK_ROWS) {
        match run_chunk(db, &mut ctx, progress, chunk).await {
            Ok(updated) => progress = updated,
            Err(e) => {
                tracing::error!(import = %id, error = %e, "import chunk failed");
                finish(
                    db,
                    id,
                    ImportStatus::Failed,
                    Some("a database error stopped the import; it can be resumed".into()),
                )
                .await?;
                return get_import(db, org, id).await;
            }
        }
    }
    finish(db, id, ImportStatus::Completed, None).await?;
    get_import(db, org, id).await
}

/// One transaction: the chunk's accepted rows, its rejected rows, and the counters.
async fn run_chunk(
    db: &DatabaseConnection,
    ctx: &mut Ctx,
    before: Progress,
    chunk: &[csv::StringRecord],
) -> AppResult<Progress> {
    let txn = comptoir_kernel::db::begin_write(db).await?;
    let mut rejected: Vec<import_rows::ActiveModel> = Vec::new();
    let mut accepted = 0i64;
    let mut new_rows: Vec<products::ActiveModel> = Vec::new();
    let mut pending: HashMap<String, usize> = HashMap::new();
    for record in chunk {
        let line = line_of(record);
        let outcome = match ctx.kind {
            ImportKind::Products => {
                product_record(ctx, &txn, record, line, &mut new_rows, &mut pending).await?
            }
            ImportKind::Stock => stock_record(ctx, &txn, record).await?,
        };
        match outcome {
            Ok(()) => accepted += 1,
            Err((column, reason)) => rejected.push(import_rows::ActiveModel {
                id: Set(Uuid::now_v7()),
                org_id: Set(ctx.org.0),
                import_id: Set(ctx.import.0),
                line: Set(line),
                column_name: Set(column.map(|c| ctx.header_of(&c))),
                reason: Set(reason),
                raw: Set(raw_line(record)),
            }),
        }
    }
    let inserted: Vec<(String, Uuid)> = new_rows
        .iter()
        .filter_map(|m| match (&m.sku, &m.id) {
            (sea_orm::ActiveValue::Set(s), sea_orm::ActiveValue::Set(i)) => Some((s.clone(), *i)),
            _ => None,
        })
        .collect();
    let rejected_count = rejected.len() as i64;
    if !new_rows.is_empty() {
        products::Entity::insert_many(new_rows)
            .exec_without_returning(&txn)
            .await?;
    }
    if !rejected.is_empty() {
        import_rows::Entity::insert_many(rejected)
            .exec_without_returning(&txn)
            .await?;
    }
    let after = Progress {
        processed: before.processed + chunk.len() as i64,
        accepted: before.accepted + accepted,
        rejected: before.rejected + rejected_count,
    };
    use imports::Column as C;
    imports::Entity::update_many()
        .col_expr(C::ProcessedRows, Expr::value(after.processed))
        .col_expr(C::AcceptedRows, Expr::value(after.accepted))
        .col_expr(C::RejectedRows, Expr::value(after.rejected))
        .filter(C::Id.eq(ctx.import.0))
        .exec(&txn)
        .await?;
    txn.commit().await?;
    ctx.existing.extend(inserted);
    Ok(after)
}

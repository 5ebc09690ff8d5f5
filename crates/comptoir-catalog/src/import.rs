//! CSV import of products and stock levels, and the CSV export of a product filter.
//!
//! An import is stored first (the upload, its options, a `pending` record), then
//! [`run_import`] processes it in chunks of [`CHUNK_ROWS`] rows, one transaction per chunk,
//! committing the accepted rows, the rejected rows (line, column, reason, raw text) and the
//! progress counters together. It can therefore resume after a crash from
//! `processed_rows`, and a job can drive it once the kernel has a queue; for now the API
//! runs it to completion on its own task while the request waits
//! ([`run_import_detached`]), so a timeout or a disconnect does not cut it short.

use std::collections::{HashMap, HashSet};

use comptoir_kernel::auth::{Caller, Permission};
use comptoir_kernel::ids::OrgId;
use comptoir_kernel::tenancy::{find_in_org, scoped};
use comptoir_kernel::{AppError, AppResult};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, Set, TransactionTrait,
};
use serde_json::{Map, Value, json};
use uuid::Uuid;

use crate::csv_columns::{ATTR_PREFIX, map_headers, parse_map};
use crate::entities::{
    brands, categories, import_rows, imports, locations, product_types, products,
};
use crate::model::*;
use crate::products::{ValidProduct, attributes, scalars};
use crate::stock::{Change, Note, apply_level};
use crate::store::{self, now};
use crate::views::*;

/// Rows per transaction.
pub const CHUNK_ROWS: usize = 500;
/// Most data rows in one file.
pub const MAX_ROWS: usize = 500_000;
/// Rejected rows shown with an import (the report has them all).
const SHOWN_REJECTED: u64 = 1_000;

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

/// A row's rejection: the canonical column (if one is to blame) and why.
type Reject = (Option<String>, String);

fn reject_from(e: AppError) -> Reject {
    let field = e.details["fields"][0]["field"].as_str().map(str::to_owned);
    let reason = e.details["fields"][0]["reason"]
        .as_str()
        .map(str::to_owned)
        .unwrap_or(e.message);
    let column = field.map(|f| match f.strip_prefix("attributes.") {
        Some(attr) => format!("{ATTR_PREFIX}{attr}"),
        None => f.split('[').next().unwrap_or(&f).to_owned(),
    });
    (column, reason)
}

/// Everything a chunk needs to resolve references, loaded once per run.
struct Ctx {
    org: OrgId,
    import: ImportId,
    actor: Option<Uuid>,
    kind: ImportKind,
    upsert: bool,
    create_categories: bool,
    columns: Vec<String>,
    headers: Vec<String>,
    categories: HashMap<String, Uuid>,
    brands: HashMap<String, Uuid>,
    types: HashMap<String, (Uuid, Vec<AttributeDef>)>,
    locations: HashMap<String, Uuid>,
    /// SKU → product id, for products already in the catalog (or committed earlier).
    existing: HashMap<String, Uuid>,
    /// SKU → line of the row of this file that created or last updated it.
    seen: HashMap<String, i64>,
}

/// A product row that passed validation, with what must be created for it.
struct ParsedProduct {
    valid: ValidProduct,
    new_category: Option<String>,
    new_brand: Option<String>,
}

impl Ctx {
    fn header_of(&self, column: &str) -> String {
        self.columns
            .iter()
            .position(|c| c == column)
            .map(|i| self.headers[i].clone())
            .unwrap_or_else(|| column.to_owned())
    }

    fn cell<'r>(&self, record: &'r csv::StringRecord, column: &str) -> Option<&'r str> {
        let i = self.columns.iter().position(|c| c == column)?;
        record.get(i).map(str::trim).filter(|v| !v.is_empty())
    }

    fn decimal(
        &self,
        record: &csv::StringRecord,
        column: &str,
    ) -> Result<Option<rust_decimal::Decimal>, Reject> {
        self.cell(record, column)
            .map(|raw| {
                parse_decimal(raw).ok_or_else(|| {
                    (
                        Some(column.to_owned()),
                        format!("not a decimal number: {raw:?}"),
                    )
                })
            })
            .transpose()
    }

    fn vocabulary<T>(
        &self,
        record: &csv::StringRecord,
        column: &str,
        parse: fn(&str) -> Option<T>,
        expected: String,
    ) -> Result<Option<T>, Reject> {
        self.cell(record, column)
            .map(|raw| {
                parse(raw).ok_or_else(|| {
                    (
                        Some(column.to_owned()),
                        format!("{raw:?} is not one of {expected}"),
                    )
                })
            })
            .transpose()
    }

    fn product_row(&self, record: &csv::StringRecord) -> Result<ParsedProduct, Reject> {
        if record.len() != self.columns.len() {
            return Err((
                None,
                format!(
                    "{} fields, the header has {}",
                    record.len(),
                    self.columns.len()
                ),
            ));
        }
        let sale_price = self
            .decimal(record, "sale_price")?
            .ok_or_else(|| (Some("sale_price".to_owned()), "required".to_owned()))?;
        let images: Vec<String> = self
            .cell(record, "images")
            .map(|v| {
                v.split('|')
                    .map(|s| s.trim().to_owned())
                    .filter(|s| !s.is_empty())
                    .collect()
            })
            .unwrap_or_default();
        let mut valid = scalars(
            self.cell(record, "sku").unwrap_or(""),
            self.cell(record, "name").unwrap_or(""),
            self.cell(record, "description"),
            self.decimal(record, "purchase_price")?,
            sale_price,
            self.cell(record, "currency"),
            self.decimal(record, "vat_rate")?,
            self.vocabulary(
                record,
                "availability",
                Availability::parse,
                Availability::expected(),
            )?,
            &images,
            self.vocabulary(
                record,
                "status",
                ProductStatus::parse,
                ProductStatus::expected(),
            )?,
        )
        .map_err(reject_from)?;
        let mut new_category = None;
        if let Some(code_raw) = self.cell(record, "category") {
            match self.categories.get(code_raw) {
                Some(id) => valid.category_id = Some(*id),
                None if self.create_categories => {
                    new_category = Some(code("category", code_raw).map_err(reject_from)?);
                }
                None => {
                    return Err((
                        Some("category".into()),
                        format!("unknown category {code_raw:?}"),
                    ));
                }
            }
        }
        let mut new_brand = None;
        if let Some(brand) = self.cell(record, "brand") {
            match self.brands.get(&brand.to_lowercase()) {
                Some(id) => valid.brand_id = Some(*id),
                None => {
                    new_brand = Some(
                        comptoir_kernel::validate::label("brand", brand, 200)
                            .map_err(reject_from)?,
                    )
                }
            }
        }
        let mut values = Map::new();
        for (i, column) in self.columns.iter().enumerate() {
            if let Some(attr) = column.strip_prefix(ATTR_PREFIX)
                && let Some(v) = record.get(i).map(str::trim).filter(|v| !v.is_empty())
            {
                values.insert(attr.to_owned(), Value::String(v.to_owned()));
            }
        }
        let defs = match self.cell(record, "product_type") {
            Some(t) => {
                let (id, defs) = self.types.get(t).ok_or_else(|| {
                    (
                        Some("product_type".to_owned()),
                        format!("unknown product type {t:?}"),
                    )
                })?;
                valid.product_type_id = Some(*id);
                defs.as_slice()
            }
            None => &[],
        };
        valid.attributes = attributes(defs, &values).map_err(reject_from)?;
        Ok(ParsedProduct {
            valid,
            new_category,
            new_brand,
        })
    }
}

fn raw_line(record: &csv::StringRecord) -> String {
    let mut w = csv::WriterBuilder::new()
        .has_headers(false)
        .from_writer(Vec::new());
    let _ = w.write_record(record);
    let bytes = w.into_inner().unwrap_or_default();
    String::from_utf8_lossy(&bytes).trim_end().to_owned()
}

fn sniff_delimiter(content: &str) -> u8 {
    let header = content.lines().next().unwrap_or("");
    if header.matches(';').count() > header.matches(',').count() {
        b';'
    } else {
        b','
    }
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

async fn finish(
    db: &impl ConnectionTrait,
    row: imports::Model,
    status: ImportStatus,
    error: Option<String>,
) -> AppResult<()> {
    let mut active: imports::ActiveModel = row.into();
    active.status = Set(status.as_str().into());
    active.error = Set(error);
    active.finished_at = Set(Some(now()));
    active.update(db).await?;
    Ok(())
}

/// Runs [`run_import`] on its own task and waits for it, so the import still finishes
/// when the caller goes away (client disconnect, request timeout).
pub async fn run_import_detached(
    db: DatabaseConnection,
    org: OrgId,
    id: ImportId,
) -> AppResult<Import> {
    tokio::spawn(async move { run_import(&db, org, id).await })
        .await
        .map_err(|e| AppError::internal(anyhow::anyhow!("import task: {e}")))?
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
                row,
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
            finish(db, row, ImportStatus::Failed, Some(e)).await?;
            return get_import(db, org, id).await;
        }
    };
    let mut records = Vec::new();
    for result in reader.records() {
        match result {
            Ok(r) => records.push(r),
            Err(e) => {
                finish(
                    db,
                    row,
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
                row,
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
    let mut active: imports::ActiveModel = row.clone().into();
    active.status = Set(ImportStatus::Running.as_str().into());
    active.total_rows = Set(records.len() as i64);
    let mut row = active.update(db).await?;
    for chunk in records[done..].chunks(CHUNK_ROWS) {
        match run_chunk(db, &mut ctx, &row, chunk).await {
            Ok(updated) => row = updated,
            Err(e) => {
                tracing::error!(import = %id, error = %e, "import chunk failed");
                let fresh = find_in_org::<imports::Entity>(db, org, id.0).await?;
                finish(
                    db,
                    fresh,
                    ImportStatus::Failed,
                    Some("a database error stopped the import; it can be resumed".into()),
                )
                .await?;
                return get_import(db, org, id).await;
            }
        }
    }
    finish(db, row, ImportStatus::Completed, None).await?;
    get_import(db, org, id).await
}

fn line_of(record: &csv::StringRecord) -> i64 {
    record.position().map(|p| p.line() as i64).unwrap_or(0)
}

/// One transaction: the chunk's accepted rows, its rejected rows, and the counters.
async fn run_chunk(
    db: &DatabaseConnection,
    ctx: &mut Ctx,
    row: &imports::Model,
    chunk: &[csv::StringRecord],
) -> AppResult<imports::Model> {
    let txn = db.begin().await?;
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
    let mut active: imports::ActiveModel = row.clone().into();
    active.processed_rows = Set(row.processed_rows + chunk.len() as i64);
    active.accepted_rows = Set(row.accepted_rows + accepted);
    active.rejected_rows = Set(row.rejected_rows + rejected_count);
    let updated = active.update(&txn).await?;
    txn.commit().await?;
    ctx.existing.extend(inserted);
    Ok(updated)
}

/// Validates one product row and stages it; `Ok(Err(..))` is a rejected row.
async fn product_record(
    ctx: &mut Ctx,
    txn: &sea_orm::DatabaseTransaction,
    record: &csv::StringRecord,
    line: i64,
    new_rows: &mut Vec<products::ActiveModel>,
    pending: &mut HashMap<String, usize>,
) -> AppResult<Result<(), Reject>> {
    let parsed = match ctx.product_row(record) {
        Ok(p) => p,
        Err(r) => return Ok(Err(r)),
    };
    let sku = parsed.valid.sku.clone();
    if !ctx.upsert {
        if let Some(first) = ctx.seen.get(&sku) {
            return Ok(Err((
                Some("sku".into()),
                format!(
                    "duplicate sku in the file (first at line {first}); use upsert=true to update"
                ),
            )));
        }
        if ctx.existing.contains_key(&sku) {
            return Ok(Err((
                Some("sku".into()),
                "the sku already exists; use upsert=true to update it".into(),
            )));
        }
    }
    let mut valid = parsed.valid;
    if let Some(code) = parsed.new_category {
        let id = match ctx.categories.get(&code) {
            Some(id) => *id,
            None => {
                let id = CategoryId::new().0;
                categories::ActiveModel {
                    id: Set(id),
                    org_id: Set(ctx.org.0),
                    code: Set(code.clone()),
                    name: Set(code.clone()),
                    parent_id: Set(None),
                    created_at: Set(now()),
                }
                .insert(txn)
                .await?;
                ctx.categories.insert(code, id);
                id
            }
        };
        valid.category_id = Some(id);
    }
    if let Some(name) = parsed.new_brand {
        let id = match ctx.brands.get(&name.to_lowercase()) {
            Some(id) => *id,
            None => {
                let id = BrandId::new().0;
                brands::ActiveModel {
                    id: Set(id),
                    org_id: Set(ctx.org.0),
                    name: Set(name.clone()),
                    created_at: Set(now()),
                }
                .insert(txn)
                .await?;
                ctx.brands.insert(name.to_lowercase(), id);
                id
            }
        };
        valid.brand_id = Some(id);
    }
    ctx.seen.entry(sku.clone()).or_insert(line);
    if let Some(id) = ctx.existing.get(&sku) {
        let mut active = products::ActiveModel {
            id: Set(*id),
            ..Default::default()
        };
        valid.apply(&mut active);
        products::Entity::update_many()
            .set(active)
            .filter(products::Column::OrgId.eq(ctx.org.0))
            .filter(products::Column::Id.eq(*id))
            .exec(txn)
            .await?;
    } else if let Some(i) = pending.get(&sku) {
        valid.apply(&mut new_rows[*i]);
    } else {
        pending.insert(sku, new_rows.len());
        new_rows.push(valid.into_new(ctx.org));
    }
    Ok(Ok(()))
}

/// Sets one stock level from a row; `Ok(Err(..))` is a rejected row.
async fn stock_record(
    ctx: &Ctx,
    txn: &sea_orm::DatabaseTransaction,
    record: &csv::StringRecord,
) -> AppResult<Result<(), Reject>> {
    let parse = || -> Result<(Uuid, Uuid, i64, Option<i64>), Reject> {
        if record.len() != ctx.columns.len() {
            return Err((
                None,
                format!(
                    "{} fields, the header has {}",
                    record.len(),
                    ctx.columns.len()
                ),
            ));
        }
        let sku = ctx
            .cell(record, "sku")
            .ok_or_else(|| (Some("sku".to_owned()), "required".to_owned()))?;
        let product = *ctx
            .existing
            .get(sku)
            .ok_or_else(|| (Some("sku".to_owned()), format!("unknown sku {sku:?}")))?;
        let code = ctx
            .cell(record, "location")
            .ok_or_else(|| (Some("location".to_owned()), "required".to_owned()))?;
        let location = *ctx.locations.get(code).ok_or_else(|| {
            (
                Some("location".to_owned()),
                format!("unknown location {code:?}"),
            )
        })?;
        let quantity = |column: &str| -> Result<Option<i64>, Reject> {
            ctx.cell(record, column)
                .map(|raw| match raw.parse::<i64>() {
                    Ok(v) if (0..=crate::stock::MAX_QUANTITY).contains(&v) => Ok(v),
                    _ => Err((
                        Some(column.to_owned()),
                        format!(
                            "not a whole number between 0 and {}: {raw:?}",
                            crate::stock::MAX_QUANTITY
                        ),
                    )),
                })
                .transpose()
        };
        let on_hand = quantity("on_hand")?
            .ok_or_else(|| (Some("on_hand".to_owned()), "required".to_owned()))?;
        Ok((product, location, on_hand, quantity("low_stock_threshold")?))
    };
    let (product, location, on_hand, threshold) = match parse() {
        Ok(v) => v,
        Err(r) => return Ok(Err(r)),
    };
    let note = Note {
        actor: ctx.actor,
        reason: Some("CSV import".into()),
        reference: Some(ctx.import.to_string()),
    };
    match apply_level(
        txn,
        ctx.org,
        product,
        location,
        Change::Set(on_hand),
        threshold,
        MovementKind::Import,
        &note,
    )
    .await
    {
        Ok(_) => Ok(Ok(())),
        Err(e) if e.code == comptoir_kernel::ErrorCode::Conflict => {
            Ok(Err((Some("on_hand".into()), e.message)))
        }
        Err(e) => Err(e),
    }
}

fn import_view(m: imports::Model, rejected: Vec<RejectedRow>) -> Import {
    Import {
        id: ImportId(m.id),
        kind: ImportKind::parse(&m.kind).unwrap_or(ImportKind::Products),
        status: ImportStatus::parse(&m.status).unwrap_or(ImportStatus::Pending),
        options: m.options,
        total_rows: m.total_rows,
        processed_rows: m.processed_rows,
        accepted_rows: m.accepted_rows,
        rejected_rows: m.rejected_rows,
        error: m.error,
        created_at: m.created_at,
        finished_at: m.finished_at,
        rejected,
    }
}

async fn rejected_rows(
    db: &impl ConnectionTrait,
    org: OrgId,
    id: ImportId,
    max: Option<u64>,
) -> AppResult<Vec<import_rows::Model>> {
    let mut q = scoped::<import_rows::Entity>(org)
        .filter(import_rows::Column::ImportId.eq(id.0))
        .order_by_asc(import_rows::Column::Line);
    if let Some(max) = max {
        q = q.limit(max);
    }
    Ok(q.all(db).await?)
}

/// An import with its first rejected rows.
pub async fn get_import(db: &impl ConnectionTrait, org: OrgId, id: ImportId) -> AppResult<Import> {
    let row = find_in_org::<imports::Entity>(db, org, id.0).await?;
    let rejected = rejected_rows(db, org, id, Some(SHOWN_REJECTED))
        .await?
        .into_iter()
        .map(|r| RejectedRow {
            line: r.line,
            column: r.column_name,
            reason: r.reason,
        })
        .collect();
    Ok(import_view(row, rejected))
}

/// The organization's imports, newest first (without their rejected rows).
pub async fn list_imports(db: &impl ConnectionTrait, org: OrgId) -> AppResult<Vec<Import>> {
    Ok(scoped::<imports::Entity>(org)
        .order_by_desc(imports::Column::CreatedAt)
        .limit(100)
        .all(db)
        .await?
        .into_iter()
        .map(|m| import_view(m, Vec::new()))
        .collect())
}

fn csv_string(rows: impl IntoIterator<Item = Vec<String>>) -> AppResult<String> {
    let mut w = csv::Writer::from_writer(Vec::new());
    for row in rows {
        w.write_record(&row).map_err(AppError::internal)?;
    }
    let bytes = w
        .into_inner()
        .map_err(|e| AppError::internal(anyhow::anyhow!("{e}")))?;
    String::from_utf8(bytes).map_err(AppError::internal)
}

/// Every rejected row: `line,column,reason,raw`.
pub async fn import_report_csv(
    db: &impl ConnectionTrait,
    org: OrgId,
    id: ImportId,
) -> AppResult<String> {
    find_in_org::<imports::Entity>(db, org, id.0).await?;
    let rows = rejected_rows(db, org, id, None).await?;
    csv_string(
        std::iter::once(vec![
            "line".into(),
            "column".into(),
            "reason".into(),
            "raw".into(),
        ])
        .chain(rows.into_iter().map(|r| {
            vec![
                r.line.to_string(),
                r.column_name.unwrap_or_default(),
                r.reason,
                r.raw,
            ]
        })),
    )
}

/// The products of a filter (every page) as CSV, in the import's column layout.
pub async fn export_products_csv(
    db: &impl ConnectionTrait,
    org: OrgId,
    filter: &ProductFilter,
) -> AppResult<String> {
    use sea_orm::QueryOrder as _;
    let rows = store::product_query(db, org, filter)
        .await?
        .order_by_desc(products::Column::CreatedAt)
        .order_by_desc(products::Column::Id)
        .all(db)
        .await?;
    let cats: HashMap<Uuid, String> = scoped::<categories::Entity>(org)
        .all(db)
        .await?
        .into_iter()
        .map(|c| (c.id, c.code))
        .collect();
    let brands: HashMap<Uuid, String> = scoped::<brands::Entity>(org)
        .all(db)
        .await?
        .into_iter()
        .map(|b| (b.id, b.name))
        .collect();
    let types: HashMap<Uuid, String> = scoped::<product_types::Entity>(org)
        .all(db)
        .await?
        .into_iter()
        .map(|t| (t.id, t.code))
        .collect();
    let mut attr_names: Vec<String> = rows
        .iter()
        .filter_map(|r| r.attributes.as_object())
        .flat_map(|o| o.keys().cloned())
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    attr_names.sort();
    let header: Vec<String> = crate::csv_columns::PRODUCT_COLUMNS
        .iter()
        .map(|c| (*c).to_owned())
        .chain(attr_names.iter().map(|a| format!("{ATTR_PREFIX}{a}")))
        .collect();
    let lookup = |map: &HashMap<Uuid, String>, id: Option<Uuid>| {
        id.and_then(|i| map.get(&i).cloned()).unwrap_or_default()
    };
    let body = rows.into_iter().map(|r| {
        let attrs = r.attributes.as_object().cloned().unwrap_or_default();
        let images: Vec<String> = serde_json::from_value(r.images.clone()).unwrap_or_default();
        let mut line = vec![
            r.sku,
            r.name,
            r.description.unwrap_or_default(),
            lookup(&brands, r.brand_id),
            lookup(&cats, r.category_id),
            lookup(&types, r.product_type_id),
            r.purchase_price_e4
                .map(|p| from_e4(p).to_string())
                .unwrap_or_default(),
            from_e4(r.sale_price_e4).to_string(),
            r.currency,
            from_e4(r.vat_rate_e4).to_string(),
            r.availability,
            r.status,
            images.join("|"),
        ];
        for a in &attr_names {
            line.push(match attrs.get(a) {
                Some(Value::String(s)) => s.clone(),
                Some(Value::Null) | None => String::new(),
                Some(other) => other.to_string(),
            });
        }
        line
    });
    csv_string(std::iter::once(header).chain(body))
}

/// What the import options say, as stored (for the UI).
pub fn describe_options(options: &Value) -> String {
    let o: ImportOptions = serde_json::from_value(options.clone()).unwrap_or_default();
    json!({"upsert": o.upsert.unwrap_or(false), "create_categories": o.create_categories.unwrap_or(false)}).to_string()
}

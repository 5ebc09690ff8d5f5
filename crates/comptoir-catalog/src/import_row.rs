//! One CSV row of an import: header-mapped cells, validation into a product or a stock
//! level, and staging into the chunk's transaction. A rejected row becomes a [`Reject`]
//! (canonical column, reason), never an error of the whole import.

use std::collections::HashMap;

use comptoir_kernel::ids::OrgId;
use comptoir_kernel::{AppError, AppResult};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};
use serde_json::{Map, Value};
use uuid::Uuid;

use crate::csv_columns::{ATTR_PREFIX, undefuse};
use crate::entities::{brands, categories, products};
use crate::model::*;
use crate::products::{ValidProduct, attributes, scalars};
use crate::stock::{Change, Note, apply_level};
use crate::store::now;
use crate::views::*;

/// A row's rejection: the canonical column (if one is to blame) and why.
pub(crate) type Reject = (Option<String>, String);

pub(crate) fn reject_from(e: AppError) -> Reject {
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
pub(crate) struct Ctx {
    pub(crate) org: OrgId,
    pub(crate) import: ImportId,
    pub(crate) actor: Option<Uuid>,
    pub(crate) kind: ImportKind,
    pub(crate) upsert: bool,
    pub(crate) create_categories: bool,
    pub(crate) columns: Vec<String>,
    pub(crate) headers: Vec<String>,
    pub(crate) categories: HashMap<String, Uuid>,
    pub(crate) brands: HashMap<String, Uuid>,
    pub(crate) types: HashMap<String, (Uuid, Vec<AttributeDef>)>,
    pub(crate) locations: HashMap<String, Uuid>,
    /// SKU → product id, for products already in the catalog (or committed earlier).
    pub(crate) existing: HashMap<String, Uuid>,
    /// SKU → line of the row of this file that created or last updated it.
    pub(crate) seen: HashMap<String, i64>,
}

/// A product row that passed validation, with what must be created for it.
pub(crate) struct ParsedProduct {
    pub(crate) valid: ValidProduct,
    pub(crate) new_category: Option<String>,
    pub(crate) new_brand: Option<String>,
}

impl Ctx {
    pub(crate) fn header_of(&self, column: &str) -> String {
        self.columns
            .iter()
            .position(|c| c == column)
            .map(|i| self.headers[i].clone())
            .unwrap_or_else(|| column.to_owned())
    }

    pub(crate) fn cell<'r>(&self, record: &'r csv::StringRecord, column: &str) -> Option<&'r str> {
        let i = self.columns.iter().position(|c| c == column)?;
        record
            .get(i)
            .map(|v| undefuse(v.trim()))
            .filter(|v| !v.is_empty())
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

    pub(crate) fn product_row(&self, record: &csv::StringRecord) -> Result<ParsedProduct, Reject> {
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
                && let Some(v) = record
                    .get(i)
                    .map(|v| undefuse(v.trim()))
                    .filter(|v| !v.is_empty())
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

pub(crate) fn raw_line(record: &csv::StringRecord) -> String {
    let mut w = csv::WriterBuilder::new()
        .has_headers(false)
        .from_writer(Vec::new());
    let _ = w.write_record(record);
    let bytes = w.into_inner().unwrap_or_default();
    String::from_utf8_lossy(&bytes).trim_end().to_owned()
}

pub(crate) fn sniff_delimiter(content: &str) -> u8 {
    let header = content.lines().next().unwrap_or("");
    if header.matches(';').count() > header.matches(',').count() {
        b';'
    } else {
        b','
    }
}

pub(crate) fn line_of(record: &csv::StringRecord) -> i64 {
    record.position().map(|p| p.line() as i64).unwrap_or(0)
}

/// Validates one product row and stages it; `Ok(Err(..))` is a rejected row.
pub(crate) async fn product_record(
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
pub(crate) async fn stock_record(
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

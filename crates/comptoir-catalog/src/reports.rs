//! Imports as the API shows them (status, counts, first rejected rows), the report of
//! rejected rows, and the CSV export of a product filter (the import's column layout).

use std::collections::{HashMap, HashSet};

use comptoir_kernel::ids::OrgId;
use comptoir_kernel::tenancy::{find_in_org, scoped};
use comptoir_kernel::{AppError, AppResult};
use sea_orm::{ColumnTrait, ConnectionTrait, QueryFilter, QueryOrder, QuerySelect};
use serde_json::Value;
use uuid::Uuid;

use crate::csv_columns::{ATTR_PREFIX, defuse};
use crate::entities::{brands, categories, import_rows, imports, product_types, products};
use crate::model::*;
use crate::store;
use crate::views::*;

/// Rejected rows shown with an import (the report has them all).
const SHOWN_REJECTED: u64 = 1_000;

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
        w.write_record(row.into_iter().map(defuse))
            .map_err(AppError::internal)?;
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

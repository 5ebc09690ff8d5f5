//! CSV import of reviews, as a durable job like the catalog's: the upload is stored and its
//! job queued in one transaction; the job checks every row, inserts the good ones in one
//! transaction with the scoring job, and keeps a row-level report of the others.
//!
//! Columns (header on the first line, `,` or `;`, any order): `sku` or `product_id`,
//! `rating`, `comment`, and optionally `language`, `customer_ref`, `helpful_votes`,
//! `created_at` (RFC 3339).

#![allow(missing_docs)] // fields of plain data types, named for what they hold

use std::collections::HashMap;

use comptoir_catalog::entities::products;
use comptoir_catalog::model::ProductId;
use comptoir_kernel::auth::{Caller, Permission};
use comptoir_kernel::ids::OrgId;
use comptoir_kernel::jobs::{self, EnqueueOptions, TaskId};
use comptoir_kernel::tenancy::{find_in_org, scoped};
use comptoir_kernel::{AppError, AppResult};
use sea_orm::{
    ActiveModelTrait, ConnectionTrait, DatabaseConnection, EntityTrait, IntoActiveModel,
    QueryOrder, QuerySelect, Set,
};
use serde_json::json;

use super::model::*;
use super::service::{self, now};
use crate::entities::{review_imports, reviews};

/// Rejected rows kept in the report.
pub const MAX_REPORTED: usize = 1_000;
/// Largest file, in rows.
pub const MAX_ROWS: usize = 200_000;

fn view(m: review_imports::Model) -> ReviewImport {
    ReviewImport {
        id: ReviewImportId(m.id),
        status: m.status,
        total_rows: m.total_rows,
        accepted_rows: m.accepted_rows,
        rejected_rows: m.rejected_rows,
        rejected: serde_json::from_value(m.rejected).unwrap_or_default(),
        error: m.error,
        created_at: m.created_at,
        finished_at: m.finished_at,
    }
}

/// Stores an upload and queues its job, atomically.
pub async fn queue_import(
    db: &DatabaseConnection,
    caller: &Caller,
    content: String,
) -> AppResult<(ReviewImport, TaskId)> {
    caller.require(Permission::Write)?;
    if content.trim().is_empty() {
        return Err(AppError::field("body", "the file is empty"));
    }
    if content.contains('\0') {
        return Err(AppError::field("body", "the file contains NUL bytes"));
    }
    let txn = comptoir_kernel::db::begin_write(db).await?;
    let row = review_imports::ActiveModel {
        id: Set(ReviewImportId::new().0),
        org_id: Set(caller.org_id.0),
        status: Set("pending".into()),
        content: Set(content),
        total_rows: Set(0),
        accepted_rows: Set(0),
        rejected_rows: Set(0),
        rejected: Set(json!([])),
        error: Set(None),
        created_at: Set(now()),
        finished_at: Set(None),
    }
    .insert(&txn)
    .await?;
    let id = ReviewImportId(row.id);
    let task = jobs::enqueue(
        &txn,
        Some(caller.org_id),
        &crate::jobs::ImportReviews { import_id: id },
        EnqueueOptions {
            unique_key: Some(format!("reco.import_reviews:{id}")),
            ..Default::default()
        },
    )
    .await?;
    txn.commit().await?;
    Ok((view(row), task))
}

/// One import of the organization.
pub async fn get_import(
    db: &impl ConnectionTrait,
    org: OrgId,
    id: ReviewImportId,
) -> AppResult<ReviewImport> {
    Ok(view(
        find_in_org::<review_imports::Entity>(db, org, id.0)
            .await
            .map_err(|_| AppError::not_found("review import"))?,
    ))
}

/// The organization's last 100 imports.
pub async fn list_imports(db: &impl ConnectionTrait, org: OrgId) -> AppResult<Vec<ReviewImport>> {
    Ok(scoped::<review_imports::Entity>(org)
        .order_by_desc(review_imports::Column::CreatedAt)
        .limit(100)
        .all(db)
        .await?
        .into_iter()
        .map(view)
        .collect())
}

/// The outcome of checking a file.
#[derive(Debug, Default)]
pub struct Checked {
    pub total: usize,
    pub accepted: Vec<service::ValidReview>,
    pub rejected: Vec<RejectedRow>,
    pub rejected_count: usize,
}

fn reject(out: &mut Checked, line: u64, field: &str, reason: impl Into<String>) {
    out.rejected_count += 1;
    if out.rejected.len() < MAX_REPORTED {
        out.rejected.push(RejectedRow {
            line,
            field: field.into(),
            reason: reason.into(),
        });
    }
}

/// Checks every row of `content` against the organization's products (`sku` → id).
pub fn check(content: &str, skus: &HashMap<String, ProductId>) -> Result<Checked, String> {
    let delimiter = match content.lines().next() {
        Some(h) if h.matches(';').count() > h.matches(',').count() => b';',
        _ => b',',
    };
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .flexible(true)
        .from_reader(content.as_bytes());
    let headers: Vec<String> = reader
        .headers()
        .map_err(|e| format!("unreadable header: {e}"))?
        .iter()
        .map(|h| h.trim().trim_start_matches('\u{feff}').to_ascii_lowercase())
        .collect();
    let col = |name: &str| headers.iter().position(|h| h == name);
    let (sku, product_id) = (col("sku"), col("product_id"));
    if sku.is_none() && product_id.is_none() {
        return Err("the header needs a sku or product_id column".into());
    }
    for required in ["rating", "comment"] {
        if col(required).is_none() {
            return Err(format!("the header needs a {required} column"));
        }
    }
    let mut out = Checked::default();
    let mut lines = comptoir_catalog::csv_lines::Lines::new(content.as_bytes());
    for record in reader.records() {
        // The file's own line (blank lines and quoted line breaks included).
        let line = lines.line_of(match &record {
            Ok(r) => r.position(),
            Err(e) => e.position(),
        });
        out.total += 1;
        if out.total > MAX_ROWS {
            return Err(format!("the file has more than {MAX_ROWS} rows"));
        }
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                reject(&mut out, line, "row", format!("unreadable row: {e}"));
                continue;
            }
        };
        let get = |c: Option<usize>| c.and_then(|c| record.get(c)).map(str::trim).unwrap_or("");
        let product = if !get(product_id).is_empty() {
            match get(product_id).parse::<ProductId>() {
                Ok(p) if skus.values().any(|v| *v == p) => Some(p),
                _ => None,
            }
        } else {
            skus.get(get(sku)).copied()
        };
        let Some(product) = product else {
            let field = if get(product_id).is_empty() {
                "sku"
            } else {
                "product_id"
            };
            reject(&mut out, line, field, "no such product");
            continue;
        };
        let rating = match get(col("rating")).parse::<i64>() {
            Ok(r) => r,
            Err(_) => {
                reject(&mut out, line, "rating", "must be an integer from 1 to 5");
                continue;
            }
        };
        let optional = |name: &str| Some(get(col(name))).filter(|s| !s.is_empty());
        let helpful_votes = match optional("helpful_votes").map(str::parse::<i64>) {
            None => None,
            Some(Ok(v)) => Some(v),
            Some(Err(_)) => {
                reject(
                    &mut out,
                    line,
                    "helpful_votes",
                    "must be a non-negative integer",
                );
                continue;
            }
        };
        let created_at = match optional("created_at").map(chrono::DateTime::parse_from_rfc3339) {
            None => None,
            Some(Ok(t)) => Some(t.with_timezone(&chrono::Utc)),
            Some(Err(_)) => {
                reject(
                    &mut out,
                    line,
                    "created_at",
                    "must be an RFC 3339 date-time",
                );
                continue;
            }
        };
        let input = ReviewInput {
            product_id: product,
            customer_ref: optional("customer_ref").map(str::to_owned),
            rating,
            comment: get(col("comment")).to_owned(),
            language: optional("language").map(str::to_owned),
            helpful_votes,
            created_at,
        };
        match service::validate(&input) {
            Ok(v) => out.accepted.push(v),
            Err(e) => {
                let first = &e.details["fields"][0];
                reject(
                    &mut out,
                    line,
                    first["field"].as_str().unwrap_or("row"),
                    first["reason"].as_str().unwrap_or("invalid"),
                );
            }
        }
    }
    Ok(out)
}

/// Processes a stored import (the job's body). Idempotent: a finished import is left as is.
pub async fn run_import(
    db: &DatabaseConnection,
    org: OrgId,
    id: ReviewImportId,
) -> AppResult<ReviewImport> {
    let row = find_in_org::<review_imports::Entity>(db, org, id.0).await?;
    if row.status != "pending" {
        return Ok(view(row));
    }
    let skus: HashMap<String, ProductId> = scoped::<products::Entity>(org)
        .select_only()
        .column(products::Column::Sku)
        .column(products::Column::Id)
        .into_tuple::<(String, uuid::Uuid)>()
        .all(db)
        .await?
        .into_iter()
        .map(|(s, i)| (s, ProductId(i)))
        .collect();
    let checked = check(&row.content, &skus);
    let txn = comptoir_kernel::db::begin_write(db).await?;
    let mut active = row.into_active_model();
    match checked {
        Ok(c) => {
            let accepted = c.accepted.len();
            for chunk in c.accepted.chunks(500) {
                let rows: Vec<reviews::ActiveModel> = chunk
                    .iter()
                    .cloned()
                    .map(|v| service::new_row(org, v))
                    .collect();
                reviews::Entity::insert_many(rows).exec(&txn).await?;
            }
            if accepted > 0 {
                crate::jobs::queue_scoring(&txn, org).await?;
            }
            active.status = Set("done".into());
            active.total_rows = Set(c.total as i32);
            active.accepted_rows = Set(accepted as i32);
            active.rejected_rows = Set(c.rejected_count as i32);
            active.rejected = Set(serde_json::to_value(&c.rejected).unwrap_or_default());
        }
        Err(reason) => {
            active.status = Set("failed".into());
            active.error = Set(Some(reason));
        }
    }
    active.finished_at = Set(Some(now()));
    let done = active.update(&txn).await?;
    txn.commit().await?;
    Ok(view(done))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_are_checked_one_by_one_with_their_line() {
        let p = ProductId::new();
        let skus = HashMap::from([("SKU-1".to_owned(), p)]);
        let csv = "sku;rating;comment;language;helpful_votes\n\
                   SKU-1;5;Parfait;fr;3\n\
                   SKU-2;4;Unknown product;;\n\
                   SKU-1;9;Too high;en;\n\
                   SKU-1;x;Not a number;en;\n\
                   SKU-1;3;;en;\n\
                   SKU-1;2;Votes;en;-4\n";
        let c = check(csv, &skus).unwrap();
        assert_eq!(c.total, 6);
        assert_eq!(c.accepted.len(), 1);
        assert_eq!(c.accepted[0].helpful_votes, 3);
        let got: Vec<(u64, &str)> = c
            .rejected
            .iter()
            .map(|r| (r.line, r.field.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                (3, "sku"),
                (4, "rating"),
                (5, "rating"),
                (6, "comment"),
                (7, "helpful_votes")
            ]
        );
    }

    #[test]
    fn lines_are_the_files_own_despite_blank_lines_and_quoted_breaks() {
        let p = ProductId::new();
        let skus = HashMap::from([("SKU-1".to_owned(), p)]);
        let csv = "sku,rating,comment\n\
                   \n\
                   SKU-1,5,\"Two\nlines\"\n\
                   \n\
                   SKU-1,0,Out of range\n";
        let c = check(csv, &skus).unwrap();
        assert_eq!(c.accepted.len(), 1);
        assert_eq!(c.accepted[0].comment, "Two\nlines");
        let got: Vec<(u64, &str)> = c
            .rejected
            .iter()
            .map(|r| (r.line, r.field.as_str()))
            .collect();
        assert_eq!(got, [(6, "rating")], "line 6 of the file, not row 2");
    }

    #[test]
    fn a_file_without_the_needed_columns_fails_as_a_whole() {
        let skus = HashMap::new();
        assert!(
            check("name,rating\nx,1\n", &skus)
                .unwrap_err()
                .contains("sku")
        );
        assert!(
            check("sku,comment\nx,1\n", &skus)
                .unwrap_err()
                .contains("rating")
        );
    }
}

//! Import history, one import with its first rejected rows, and the rejected-rows report.
//! A caller who does not see the whole chain sees only the imports they started.

use chrono::{DateTime, Utc};
use comptoir_kernel::auth::Caller;
use comptoir_kernel::tenancy::scoped;
use comptoir_kernel::{AppError, AppResult};
use sea_orm::{
    ColumnTrait, ConnectionTrait, FromQueryResult, QueryFilter, QueryOrder, QuerySelect,
};
use serde::Serialize;
use utoipa::ToSchema;

use crate::entities::{import_rows, imports};
use crate::model::SalesImportId;
use crate::scope::Visibility;

/// One rejected row.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RejectedSalesRow {
    /// Line in the file (the header is line 1).
    pub line: i64,
    /// The file's header of the column at fault, if one is.
    pub column: Option<String>,
    pub reason: String,
}

/// A sales import: status, counts, progress, its first 1,000 rejected rows.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SalesImport {
    #[schema(value_type = String, format = Uuid)]
    pub id: SalesImportId,
    /// `pending`, `running`, `completed`, `rejected` (all_or_nothing found invalid rows,
    /// nothing written) or `failed` (unreadable file, missing column, database error).
    pub status: String,
    pub policy: String,
    pub source: String,
    /// `csv` or `xlsx`.
    pub format: String,
    pub total_rows: i64,
    pub processed_rows: i64,
    pub accepted_rows: i64,
    pub rejected_rows: i64,
    /// Receipts written (created or replaced).
    pub receipts: i64,
    pub error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    pub rejected: Vec<RejectedSalesRow>,
}

#[derive(Debug, FromQueryResult)]
struct Head {
    id: uuid::Uuid,
    status: String,
    policy: String,
    source: String,
    format: String,
    total_rows: i64,
    processed_rows: i64,
    accepted_rows: i64,
    rejected_rows: i64,
    receipts: i64,
    error: Option<String>,
    created_at: DateTime<Utc>,
    finished_at: Option<DateTime<Utc>>,
}

async fn heads(
    db: &impl ConnectionTrait,
    caller: &Caller,
    id: Option<SalesImportId>,
) -> AppResult<Vec<Head>> {
    use imports::Column as C;
    let mut q = scoped::<imports::Entity>(caller.org_id)
        .select_only()
        .columns([
            C::Id,
            C::Status,
            C::Policy,
            C::Source,
            C::Format,
            C::TotalRows,
            C::ProcessedRows,
            C::AcceptedRows,
            C::RejectedRows,
            C::Receipts,
            C::Error,
            C::CreatedAt,
            C::FinishedAt,
        ]);
    if !Visibility::of(caller)?.is_all() {
        q = q.filter(C::CreatedBy.eq(caller.user_id.0));
    }
    if let Some(id) = id {
        q = q.filter(C::Id.eq(id.0));
    }
    Ok(q.order_by_desc(C::CreatedAt)
        .limit(100)
        .into_model::<Head>()
        .all(db)
        .await?)
}

fn view(h: Head, rejected: Vec<RejectedSalesRow>) -> SalesImport {
    SalesImport {
        id: SalesImportId(h.id),
        status: h.status,
        policy: h.policy,
        source: h.source,
        format: h.format,
        total_rows: h.total_rows,
        processed_rows: h.processed_rows,
        accepted_rows: h.accepted_rows,
        rejected_rows: h.rejected_rows,
        receipts: h.receipts,
        error: h.error,
        created_at: h.created_at,
        finished_at: h.finished_at,
        rejected,
    }
}

/// The caller's last 100 imports (without their rejected rows).
pub async fn list_imports(
    db: &impl ConnectionTrait,
    caller: &Caller,
) -> AppResult<Vec<SalesImport>> {
    Ok(heads(db, caller, None)
        .await?
        .into_iter()
        .map(|h| view(h, Vec::new()))
        .collect())
}

async fn rejected_rows(
    db: &impl ConnectionTrait,
    caller: &Caller,
    id: SalesImportId,
    limit: Option<u64>,
) -> AppResult<Vec<import_rows::Model>> {
    let mut q = scoped::<import_rows::Entity>(caller.org_id)
        .filter(import_rows::Column::ImportId.eq(id.0))
        .order_by_asc(import_rows::Column::Line);
    if let Some(limit) = limit {
        q = q.limit(limit);
    }
    Ok(q.all(db).await?)
}

/// One import with its first 1,000 rejected rows; 404 outside the caller's imports.
pub async fn get_import(
    db: &impl ConnectionTrait,
    caller: &Caller,
    id: SalesImportId,
) -> AppResult<SalesImport> {
    let head = heads(db, caller, Some(id))
        .await?
        .into_iter()
        .next()
        .ok_or_else(|| AppError::not_found("import"))?;
    let rejected = rejected_rows(db, caller, id, Some(1_000))
        .await?
        .into_iter()
        .map(|r| RejectedSalesRow {
            line: r.line,
            column: r.column_name,
            reason: r.reason,
        })
        .collect();
    Ok(view(head, rejected))
}

/// Every rejected row as CSV: `line,column,reason,raw`.
pub async fn rejected_csv(
    db: &impl ConnectionTrait,
    caller: &Caller,
    id: SalesImportId,
) -> AppResult<String> {
    heads(db, caller, Some(id))
        .await?
        .into_iter()
        .next()
        .ok_or_else(|| AppError::not_found("import"))?;
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(["line", "column", "reason", "raw"])
        .map_err(AppError::internal)?;
    for r in rejected_rows(db, caller, id, None).await? {
        w.write_record([
            r.line.to_string(),
            r.column_name.unwrap_or_default(),
            r.reason,
            r.raw,
        ])
        .map_err(AppError::internal)?;
    }
    String::from_utf8(
        w.into_inner()
            .map_err(|e| AppError::internal(anyhow::anyhow!("{e}")))?,
    )
    .map_err(AppError::internal)
}

//! Monthly consolidation reports (PDF and XLSX). `POST /api/v1/retail/reports` stores a
//! `pending` report and queues its job in one transaction; the job ([`jobs::ReportJob`])
//! computes the figures through the dashboard service, as the member who asked (their scope
//! when it runs), renders both files and stores them (`retail_report_files`, blobs per
//! organization, like the imports' uploads). Schedules ([`schedules`]) ask for the previous
//! month's report on a day of each month and hand the result to a [`mailer::ReportMailer`].
//!
//! Scoping: a report's scope (chain, region or store) is resolved within the caller's
//! visibility when it is asked for, and a report is listed and served only to callers who
//! see its whole scope (a regional manager sees their region's and their stores' reports).

pub mod api;
pub mod content;
pub mod jobs;
pub mod mailer;
pub mod pdf;
pub mod schedules;
pub mod xlsx;

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use comptoir_catalog::entities::locations;
use comptoir_kernel::auth::Caller;
use comptoir_kernel::ids::OrgId;
use comptoir_kernel::jobs::{self as kjobs, EnqueueOptions, TaskId};
use comptoir_kernel::tenancy::{find_in_org, scoped};
use comptoir_kernel::{AppError, AppResult};
use sea_orm::sea_query::Condition;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::dashboard::period::Period;
use crate::entities::{regions, report_files, reports};
use crate::scope::{Visibility, visible_regions, visible_store, visible_stores};

comptoir_kernel::typed_id!(
    /// A monthly consolidation report.
    ReportId
);

/// `application/pdf`.
pub const PDF_MIME: &str = "application/pdf";
/// The XLSX content type.
pub const XLSX_MIME: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// The part of the chain a report or a schedule covers (within the caller's scope). Both
/// absent: everything the caller sees (the chain, their region or their store).
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ReportScope {
    pub region_id: Option<Uuid>,
    pub store_id: Option<Uuid>,
}

/// A report to produce.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReportInput {
    /// The month, `YYYY-MM` (not after the current month).
    #[schema(example = "2025-03")]
    pub month: String,
    pub scope: Option<ReportScope>,
}

/// A report: its month, scope, status and, once completed, where to download it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Report {
    pub id: ReportId,
    /// `YYYY-MM`.
    pub month: String,
    pub scope: ReportScope,
    /// The scope in words ("Whole chain", "Region North", "Store Lille").
    pub label: String,
    /// `pending`, `running`, `completed` or `failed`.
    pub status: String,
    pub error: Option<String>,
    pub schedule_id: Option<Uuid>,
    #[schema(value_type = Option<String>, format = Uuid)]
    pub task_id: Option<TaskId>,
    pub created_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    pub status_url: String,
    /// Present once completed.
    pub pdf_url: Option<String>,
    pub xlsx_url: Option<String>,
}

fn view(m: reports::Model) -> Report {
    let done = m.status == "completed";
    let base = format!("/api/v1/retail/reports/{}", m.id);
    Report {
        id: ReportId(m.id),
        month: Period::label(m.month),
        scope: ReportScope {
            region_id: m.region_id,
            store_id: m.store_id,
        },
        label: m.label,
        status: m.status,
        error: m.error,
        schedule_id: m.schedule_id,
        task_id: m.task_id.map(TaskId),
        created_at: m.created_at,
        finished_at: m.finished_at,
        pdf_url: done.then(|| format!("{base}/report.pdf")),
        xlsx_url: done.then(|| format!("{base}/report.xlsx")),
        status_url: base,
    }
}

/// Parses the `month` of a request body (422 on `field`).
pub fn parse_report_month(field: &str, raw: &str, today: NaiveDate) -> AppResult<NaiveDate> {
    let month = crate::dashboard::period::parse_month(field, raw)
        .map_err(|_| AppError::field(field, "a month as YYYY-MM"))?;
    let this_month = today.with_day(1).unwrap_or(today);
    if month > this_month {
        return Err(AppError::field(
            field,
            "must not be after the current month",
        ));
    }
    Ok(month)
}

/// Resolves a requested scope within the caller's visibility: an id the caller does not
/// see is a 404 (like another tenant's); no scope means everything the caller sees.
pub async fn resolve_scope(
    db: &impl ConnectionTrait,
    caller: &Caller,
    scope: Option<ReportScope>,
) -> AppResult<ReportScope> {
    let visibility = Visibility::of(caller)?;
    let scope = scope.unwrap_or_default();
    if let Some(store) = scope.store_id {
        let s = visible_store(db, caller, store).await?;
        if scope.region_id.is_some_and(|r| r != s.region_id) {
            return Err(AppError::field(
                "scope.store_id",
                "the store is not in the given region",
            ));
        }
        return Ok(ReportScope {
            region_id: None,
            store_id: Some(store),
        });
    }
    if let Some(region) = scope.region_id {
        if !visible_regions(db, caller)
            .await?
            .iter()
            .any(|r| r.id == region)
        {
            return Err(AppError::not_found("region"));
        }
        // A store manager sees their store's region, but only their store in it.
        if let Visibility::Store(s) = visibility {
            return Ok(ReportScope {
                region_id: None,
                store_id: Some(s),
            });
        }
        return Ok(ReportScope {
            region_id: Some(region),
            store_id: None,
        });
    }
    Ok(match visibility {
        Visibility::All => ReportScope::default(),
        Visibility::Region(r) => ReportScope {
            region_id: Some(r),
            store_id: None,
        },
        Visibility::Store(s) => ReportScope {
            region_id: None,
            store_id: Some(s),
        },
    })
}

/// The scope in words, as the dashboard labels it.
pub async fn scope_label(
    db: &impl ConnectionTrait,
    org: OrgId,
    scope: ReportScope,
) -> AppResult<String> {
    if let Some(store) = scope.store_id {
        let name = find_in_org::<locations::Entity>(db, org, store)
            .await
            .map(|l| l.name)
            .unwrap_or_else(|_| "(removed)".into());
        return Ok(format!("Store {name}"));
    }
    if let Some(region) = scope.region_id {
        let name = find_in_org::<regions::Entity>(db, org, region)
            .await
            .map(|r| r.name)
            .unwrap_or_else(|_| "(removed)".into());
        return Ok(format!("Region {name}"));
    }
    Ok("Whole chain".into())
}

/// The condition "a report (or schedule) with these scope columns is within what the
/// caller sees": everything for the chain roles; for a regional manager their region and
/// its stores; for a store manager their store.
pub(crate) async fn visible_scope_condition(
    db: &impl ConnectionTrait,
    caller: &Caller,
    region_col: impl ColumnTrait,
    store_col: impl ColumnTrait,
) -> AppResult<Condition> {
    Ok(match Visibility::of(caller)? {
        Visibility::All => Condition::all(),
        Visibility::Region(r) => {
            let stores: Vec<Uuid> = visible_stores(db, caller)
                .await?
                .iter()
                .map(|s| s.id)
                .collect();
            Condition::any()
                .add(region_col.eq(r))
                .add(store_col.is_in(stores))
        }
        Visibility::Store(s) => Condition::all().add(store_col.eq(s)),
    })
}

/// Stores a `pending` report and queues its job, in one transaction.
pub async fn create_report(
    db: &DatabaseConnection,
    caller: &Caller,
    input: ReportInput,
) -> AppResult<Report> {
    let month = parse_report_month("month", &input.month, Utc::now().date_naive())?;
    let scope = resolve_scope(db, caller, input.scope).await?;
    let label = scope_label(db, caller.org_id, scope).await?;
    let txn = comptoir_kernel::db::begin_write(db).await?;
    let id = insert_report(
        &txn,
        caller.org_id,
        month,
        scope,
        label,
        None,
        caller.user_id.0,
    )
    .await?
    .ok_or_else(|| AppError::internal(anyhow::anyhow!("report insert ignored")))?;
    txn.commit().await?;
    get_report(db, caller, id).await
}

/// Inserts a `pending` report and enqueues its job (in the caller's transaction). For a
/// scheduled report whose (schedule, month) already exists, inserts nothing: `None`.
pub(crate) async fn insert_report(
    db: &impl ConnectionTrait,
    org: OrgId,
    month: NaiveDate,
    scope: ReportScope,
    label: String,
    schedule: Option<Uuid>,
    author: Uuid,
) -> AppResult<Option<ReportId>> {
    use sea_orm::sea_query::OnConflict;
    let id = ReportId::new();
    let row = reports::ActiveModel {
        id: Set(id.0),
        org_id: Set(org.0),
        month: Set(month),
        region_id: Set(scope.region_id),
        store_id: Set(scope.store_id),
        label: Set(label),
        status: Set("pending".into()),
        error: Set(None),
        schedule_id: Set(schedule),
        task_id: Set(None),
        created_by: Set(Some(author)),
        created_at: Set(Utc::now()),
        finished_at: Set(None),
    };
    let inserted = reports::Entity::insert(row)
        .on_conflict(
            OnConflict::columns([reports::Column::ScheduleId, reports::Column::Month])
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    if inserted == 0 {
        return Ok(None);
    }
    let task = kjobs::enqueue(
        db,
        Some(org),
        &jobs::ReportJob { report_id: id },
        EnqueueOptions {
            unique_key: Some(format!("retail.report:{id}")),
            ..Default::default()
        },
    )
    .await?;
    reports::Entity::update_many()
        .col_expr(
            reports::Column::TaskId,
            sea_orm::sea_query::Expr::value(task.0),
        )
        .filter(reports::Column::Id.eq(id.0))
        .exec(db)
        .await?;
    Ok(Some(id))
}

async fn visible_report(
    db: &impl ConnectionTrait,
    caller: &Caller,
    id: ReportId,
) -> AppResult<reports::Model> {
    let cond = visible_scope_condition(
        db,
        caller,
        reports::Column::RegionId,
        reports::Column::StoreId,
    )
    .await?;
    scoped::<reports::Entity>(caller.org_id)
        .filter(reports::Column::Id.eq(id.0))
        .filter(cond)
        .one(db)
        .await?
        .ok_or_else(|| AppError::not_found("report"))
}

/// One report the caller sees (404 otherwise).
pub async fn get_report(
    db: &impl ConnectionTrait,
    caller: &Caller,
    id: ReportId,
) -> AppResult<Report> {
    Ok(view(visible_report(db, caller, id).await?))
}

/// The last 100 reports the caller sees, newest first.
pub async fn list_reports(db: &impl ConnectionTrait, caller: &Caller) -> AppResult<Vec<Report>> {
    let cond = visible_scope_condition(
        db,
        caller,
        reports::Column::RegionId,
        reports::Column::StoreId,
    )
    .await?;
    Ok(scoped::<reports::Entity>(caller.org_id)
        .filter(cond)
        .order_by_desc(reports::Column::CreatedAt)
        .order_by_desc(reports::Column::Id)
        .limit(100)
        .all(db)
        .await?
        .into_iter()
        .map(view)
        .collect())
}

/// A downloadable report file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileFormat {
    Pdf,
    Xlsx,
}

impl FileFormat {
    pub fn as_str(self) -> &'static str {
        match self {
            FileFormat::Pdf => "pdf",
            FileFormat::Xlsx => "xlsx",
        }
    }

    pub fn mime(self) -> &'static str {
        match self {
            FileFormat::Pdf => PDF_MIME,
            FileFormat::Xlsx => XLSX_MIME,
        }
    }
}

/// A report's file name: `consolidation-2025-03-whole-chain.pdf`.
pub fn file_name(month: &str, label: &str, format: FileFormat) -> String {
    let mut slug = String::new();
    for c in label.chars() {
        if c.is_ascii_alphanumeric() {
            slug.push(c.to_ascii_lowercase());
        } else if !slug.ends_with('-') {
            slug.push('-');
        }
    }
    let slug = slug.trim_matches('-');
    format!("consolidation-{month}-{slug}.{}", format.as_str())
}

/// The file of a completed report the caller sees: (file name, bytes); 409 while the
/// report is not completed.
pub async fn report_file(
    db: &impl ConnectionTrait,
    caller: &Caller,
    id: ReportId,
    format: FileFormat,
) -> AppResult<(String, Vec<u8>)> {
    let report = visible_report(db, caller, id).await?;
    let file = scoped::<report_files::Entity>(caller.org_id)
        .filter(report_files::Column::ReportId.eq(report.id))
        .filter(report_files::Column::Format.eq(format.as_str()))
        .one(db)
        .await?
        .filter(|_| report.status == "completed")
        .ok_or_else(|| {
            AppError::conflict(format!(
                "the report is {}: its files are ready once it is completed",
                report.status
            ))
            .with_details(serde_json::json!({ "status": report.status }))
        })?;
    Ok((
        file_name(&Period::label(report.month), &report.label, format),
        file.content,
    ))
}

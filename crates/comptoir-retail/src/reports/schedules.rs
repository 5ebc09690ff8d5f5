//! Report schedules: on a day of each month (1–28, so every month has it), the previous
//! month's report over the schedule's scope, computed for the member who created the
//! schedule, then handed to the [`ReportMailer`](super::mailer::ReportMailer) for its
//! recipients. The periodic sweep ([`super::jobs::ScheduleSweep`], hourly) creates the
//! report of each due schedule; a unique (schedule, month) on reports and on deliveries
//! makes running it twice (or in two processes) produce one report and one delivery.

use std::collections::HashMap;

use chrono::{DateTime, Datelike, Months, NaiveDate, Utc};
use comptoir_kernel::auth::{Caller, Permission};
use comptoir_kernel::ids::OrgId;
use comptoir_kernel::jobs::JobError;
use comptoir_kernel::tenancy::{find_in_org, scoped};
use comptoir_kernel::validate::Email;
use comptoir_kernel::{AppError, AppResult, AppState};
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::mailer::{Attachment, mailer};
use super::{
    FileFormat, ReportId, ReportScope, file_name, insert_report, resolve_scope, scope_label,
    visible_scope_condition,
};
use crate::dashboard::period::Period;
use crate::entities::{report_deliveries, report_files, report_schedules, reports};

comptoir_kernel::typed_id!(
    /// A report schedule.
    ReportScheduleId
);

/// Most recipients of one schedule.
pub const MAX_RECIPIENTS: usize = 50;

/// A schedule to create.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScheduleInput {
    /// 1 to 28: the day of each month the previous month's report is produced and sent.
    pub day_of_month: i64,
    /// 1 to 50 e-mail addresses.
    pub recipients: Vec<String>,
    pub scope: Option<ReportScope>,
}

/// One hand-off of a scheduled report to the mailer.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Delivery {
    pub id: Uuid,
    pub report_id: ReportId,
    /// `YYYY-MM`.
    pub month: String,
    pub recipients: Vec<String>,
    pub subject: String,
    /// `pending`, `sent` (the mailer accepted it) or `failed`.
    pub status: String,
    /// The mailer that took it (`log`: logged only, no mail transport yet).
    pub mailer: String,
    pub error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
}

/// A schedule with its last twelve deliveries.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Schedule {
    pub id: ReportScheduleId,
    pub day_of_month: i32,
    pub recipients: Vec<String>,
    pub scope: ReportScope,
    pub label: String,
    pub created_at: DateTime<Utc>,
    pub deliveries: Vec<Delivery>,
}

fn strings(v: &serde_json::Value) -> Vec<String> {
    serde_json::from_value(v.clone()).unwrap_or_default()
}

fn delivery_view(d: report_deliveries::Model) -> Delivery {
    Delivery {
        id: d.id,
        report_id: ReportId(d.report_id),
        month: Period::label(d.month),
        recipients: strings(&d.recipients),
        subject: d.subject,
        status: d.status,
        mailer: d.mailer,
        error: d.error,
        created_at: d.created_at,
        sent_at: d.sent_at,
    }
}

async fn views(
    db: &impl ConnectionTrait,
    org: OrgId,
    rows: Vec<report_schedules::Model>,
) -> AppResult<Vec<Schedule>> {
    let ids: Vec<Uuid> = rows.iter().map(|s| s.id).collect();
    let mut deliveries: HashMap<Uuid, Vec<Delivery>> = HashMap::new();
    for d in scoped::<report_deliveries::Entity>(org)
        .filter(report_deliveries::Column::ScheduleId.is_in(ids))
        .order_by_desc(report_deliveries::Column::Month)
        .all(db)
        .await?
    {
        let list = deliveries
            .entry(d.schedule_id.unwrap_or_default())
            .or_default();
        if list.len() < 12 {
            list.push(delivery_view(d));
        }
    }
    let mut out = Vec::with_capacity(rows.len());
    for s in rows {
        let scope = ReportScope {
            region_id: s.region_id,
            store_id: s.store_id,
        };
        out.push(Schedule {
            id: ReportScheduleId(s.id),
            day_of_month: s.day_of_month,
            recipients: strings(&s.recipients),
            label: scope_label(db, org, scope).await?,
            scope,
            created_at: s.created_at,
            deliveries: deliveries.remove(&s.id).unwrap_or_default(),
        });
    }
    Ok(out)
}

/// Checks the day and the recipients (normalized: trimmed, lower-cased, duplicates out).
pub fn validate(input: &ScheduleInput) -> AppResult<(i32, Vec<String>)> {
    let mut errors = Vec::new();
    let day = i32::try_from(input.day_of_month)
        .ok()
        .filter(|d| (1..=28).contains(d));
    if day.is_none() {
        errors.push(comptoir_kernel::error::FieldError {
            field: "day_of_month".into(),
            reason: "a day from 1 to 28".into(),
        });
    }
    if input.recipients.is_empty() || input.recipients.len() > MAX_RECIPIENTS {
        errors.push(comptoir_kernel::error::FieldError {
            field: "recipients".into(),
            reason: format!("1 to {MAX_RECIPIENTS} e-mail addresses"),
        });
    }
    let mut recipients: Vec<String> = Vec::new();
    for (i, raw) in input.recipients.iter().enumerate().take(MAX_RECIPIENTS) {
        match Email::parse(&format!("recipients[{i}]"), raw) {
            Ok(e) => {
                if !recipients.iter().any(|r| r == e.as_str()) {
                    recipients.push(e.as_str().to_owned());
                }
            }
            Err(_) => errors.push(comptoir_kernel::error::FieldError {
                field: format!("recipients[{i}]"),
                reason: "not a valid e-mail address".into(),
            }),
        }
    }
    match day {
        Some(day) if errors.is_empty() => Ok((day, recipients)),
        _ => Err(AppError::fields(errors)),
    }
}

/// Creates a schedule (write roles; its scope within the caller's).
pub async fn create_schedule(
    db: &impl ConnectionTrait,
    caller: &Caller,
    input: ScheduleInput,
) -> AppResult<Schedule> {
    caller.require(Permission::Write)?;
    let (day, recipients) = validate(&input)?;
    let scope = resolve_scope(db, caller, input.scope).await?;
    let id = ReportScheduleId::new();
    report_schedules::Entity::insert(report_schedules::ActiveModel {
        id: Set(id.0),
        org_id: Set(caller.org_id.0),
        day_of_month: Set(day),
        recipients: Set(serde_json::json!(recipients)),
        region_id: Set(scope.region_id),
        store_id: Set(scope.store_id),
        created_by: Set(Some(caller.user_id.0)),
        created_at: Set(Utc::now()),
    })
    .exec_without_returning(db)
    .await?;
    get_schedule(db, caller, id).await
}

async fn visible_schedule(
    db: &impl ConnectionTrait,
    caller: &Caller,
    id: ReportScheduleId,
) -> AppResult<report_schedules::Model> {
    let cond = visible_scope_condition(
        db,
        caller,
        report_schedules::Column::RegionId,
        report_schedules::Column::StoreId,
    )
    .await?;
    scoped::<report_schedules::Entity>(caller.org_id)
        .filter(report_schedules::Column::Id.eq(id.0))
        .filter(cond)
        .one(db)
        .await?
        .ok_or_else(|| AppError::not_found("report schedule"))
}

/// One schedule the caller sees, with its last deliveries.
pub async fn get_schedule(
    db: &impl ConnectionTrait,
    caller: &Caller,
    id: ReportScheduleId,
) -> AppResult<Schedule> {
    let row = visible_schedule(db, caller, id).await?;
    let mut v = views(db, caller.org_id, vec![row]).await?;
    v.pop()
        .ok_or_else(|| AppError::not_found("report schedule"))
}

/// The schedules the caller sees, oldest first.
pub async fn list_schedules(
    db: &impl ConnectionTrait,
    caller: &Caller,
) -> AppResult<Vec<Schedule>> {
    let cond = visible_scope_condition(
        db,
        caller,
        report_schedules::Column::RegionId,
        report_schedules::Column::StoreId,
    )
    .await?;
    let rows = scoped::<report_schedules::Entity>(caller.org_id)
        .filter(cond)
        .order_by_asc(report_schedules::Column::CreatedAt)
        .all(db)
        .await?;
    views(db, caller.org_id, rows).await
}

/// Deletes a schedule; its reports and deliveries stay (history).
pub async fn delete_schedule(
    db: &impl ConnectionTrait,
    caller: &Caller,
    id: ReportScheduleId,
) -> AppResult<()> {
    visible_schedule(db, caller, id).await?;
    caller.require(Permission::Write)?;
    report_schedules::Entity::delete_many()
        .filter(report_schedules::Column::OrgId.eq(caller.org_id.0))
        .filter(report_schedules::Column::Id.eq(id.0))
        .exec(db)
        .await?;
    Ok(())
}

/// The month a sweep on `today` reports on: the previous one.
pub fn reported_month(today: NaiveDate) -> NaiveDate {
    let first = today.with_day(1).unwrap_or(today);
    first - Months::new(1)
}

/// Creates (and queues) the report of every schedule due on `today` whose report for the
/// previous month does not exist yet; returns how many were created. A schedule is due
/// from its day of the month on; a month the sweep never ran in is not caught up.
pub async fn enqueue_due(db: &DatabaseConnection, today: NaiveDate) -> AppResult<u64> {
    let month = reported_month(today);
    let due = report_schedules::Entity::find()
        .filter(report_schedules::Column::DayOfMonth.lte(today.day() as i32))
        .all(db)
        .await?;
    let ids: Vec<Uuid> = due.iter().map(|s| s.id).collect();
    let mut done = std::collections::HashSet::new();
    for batch in ids.chunks(500) {
        let found: Vec<Option<Uuid>> = reports::Entity::find()
            .filter(reports::Column::ScheduleId.is_in(batch.to_vec()))
            .filter(reports::Column::Month.eq(month))
            .select_only()
            .column(reports::Column::ScheduleId)
            .into_tuple()
            .all(db)
            .await?;
        done.extend(found.into_iter().flatten());
    }
    let mut created = 0;
    for s in due.into_iter().filter(|s| !done.contains(&s.id)) {
        let Some(author) = s.created_by else {
            tracing::warn!(schedule = %s.id, "report schedule without an author: skipped");
            continue;
        };
        let org = OrgId(s.org_id);
        let scope = ReportScope {
            region_id: s.region_id,
            store_id: s.store_id,
        };
        let txn = comptoir_kernel::db::begin_write(db).await?;
        let label = scope_label(&txn, org, scope).await?;
        // The unique (schedule, month) makes a concurrent sweep's insert a no-op.
        if insert_report(&txn, org, month, scope, label, Some(s.id), author)
            .await?
            .is_some()
        {
            created += 1;
        }
        txn.commit().await?;
    }
    Ok(created)
}

/// Hands a completed scheduled report to the mailer, once per (schedule, month): the
/// delivery row is claimed first (unique), a `sent` one is never sent again, a `failed`
/// one is tried again (the job's retry). Returns the delivery's status.
pub async fn deliver(
    state: &AppState,
    org: OrgId,
    report: &reports::Model,
) -> Result<Option<String>, JobError> {
    let db = &state.db;
    let Some(schedule_id) = report.schedule_id else {
        return Ok(None);
    };
    let Ok(schedule) = find_in_org::<report_schedules::Entity>(db, org, schedule_id).await else {
        return Ok(None);
    };
    let recipients = strings(&schedule.recipients);
    let month = Period::label(report.month);
    let subject = format!("{}: consolidation report {month}", report.label);
    let mailer = mailer(state);
    report_deliveries::Entity::insert(report_deliveries::ActiveModel {
        id: Set(Uuid::now_v7()),
        org_id: Set(org.0),
        schedule_id: Set(Some(schedule_id)),
        report_id: Set(report.id),
        month: Set(report.month),
        recipients: Set(serde_json::json!(recipients)),
        subject: Set(subject.clone()),
        status: Set("pending".into()),
        mailer: Set(mailer.name().into()),
        error: Set(None),
        created_at: Set(Utc::now()),
        sent_at: Set(None),
    })
    .on_conflict(
        OnConflict::columns([
            report_deliveries::Column::ScheduleId,
            report_deliveries::Column::Month,
        ])
        .do_nothing()
        .to_owned(),
    )
    .exec_without_returning(db)
    .await?;
    let delivery = scoped::<report_deliveries::Entity>(org)
        .filter(report_deliveries::Column::ScheduleId.eq(schedule_id))
        .filter(report_deliveries::Column::Month.eq(report.month))
        .one(db)
        .await?
        .ok_or_else(|| JobError::retry("the delivery row vanished"))?;
    if delivery.status == "sent" {
        return Ok(Some(delivery.status));
    }
    let files = scoped::<report_files::Entity>(org)
        .filter(report_files::Column::ReportId.eq(report.id))
        .order_by_asc(report_files::Column::Format)
        .all(db)
        .await?;
    let attachments: Vec<Attachment> = files
        .into_iter()
        .filter_map(|f| {
            let format = match f.format.as_str() {
                "pdf" => FileFormat::Pdf,
                "xlsx" => FileFormat::Xlsx,
                _ => return None,
            };
            Some(Attachment {
                filename: file_name(&month, &report.label, format),
                content_type: format.mime(),
                content: f.content,
            })
        })
        .collect();
    let outcome = mailer.send(org, &recipients, &subject, &attachments).await;
    let (status, error, sent_at) = match &outcome {
        Ok(()) => ("sent", None, Some(Utc::now())),
        Err(e) => ("failed", Some(e.clone()), None),
    };
    report_deliveries::Entity::update_many()
        .col_expr(report_deliveries::Column::Status, Expr::value(status))
        .col_expr(report_deliveries::Column::Error, Expr::value(error))
        .col_expr(report_deliveries::Column::SentAt, Expr::value(sent_at))
        .col_expr(
            report_deliveries::Column::Mailer,
            Expr::value(mailer.name()),
        )
        .filter(report_deliveries::Column::Id.eq(delivery.id))
        .exec(db)
        .await?;
    match outcome {
        Ok(()) => Ok(Some(status.into())),
        Err(e) => Err(JobError::retry(format!(
            "the mailer refused the report: {e}"
        ))),
    }
}

//! The report jobs: `retail.report` renders one report (then, for a scheduled one, hands it
//! to the mailer); `retail.report_schedules` (hourly) creates the reports of due schedules.

use chrono::{NaiveDate, Utc};
use comptoir_kernel::auth::AuthVia;
use comptoir_kernel::auth::caller::from_membership;
use comptoir_kernel::entities::orgs;
use comptoir_kernel::ids::{OrgId, UserId};
use comptoir_kernel::jobs::{Job, JobContext, JobError};
use comptoir_kernel::tenancy::find_in_org;
use comptoir_kernel::{AppState, ErrorCode};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, Set};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use uuid::Uuid;

use super::{ReportId, ReportScope, content, pdf, schedules, xlsx};
use crate::entities::{report_files, reports};

/// Renders one report.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ReportJob {
    pub report_id: ReportId,
}

async fn set_status(
    state: &AppState,
    id: Uuid,
    status: &str,
    error: Option<String>,
) -> Result<(), JobError> {
    let finished = (status != "running").then(Utc::now);
    reports::Entity::update_many()
        .col_expr(reports::Column::Status, Expr::value(status))
        .col_expr(reports::Column::Error, Expr::value(error))
        .col_expr(reports::Column::FinishedAt, Expr::value(finished))
        .filter(reports::Column::Id.eq(id))
        .exec(&state.db)
        .await?;
    Ok(())
}

/// Marks the report failed and stops (no retry: the input is what is wrong).
async fn fail(state: &AppState, id: Uuid, message: String) -> JobError {
    if let Err(e) = set_status(state, id, "failed", Some(message.clone())).await {
        return e;
    }
    JobError::permanent(message)
}

/// Computes, renders and stores the report's files (idempotent: files are replaced).
async fn generate(ctx: &JobContext, org: OrgId, report: &reports::Model) -> Result<(), JobError> {
    let state = &ctx.state;
    let Some(author) = report.created_by else {
        return Err(fail(state, report.id, "the report has no author".into()).await);
    };
    let caller = match from_membership(state, org, UserId(author), AuthVia::System).await {
        Ok(c) => c,
        Err(e) => {
            let message = format!("the report's author: {}", e.message);
            return Err(fail(state, report.id, message).await);
        }
    };
    set_status(state, report.id, "running", None).await?;
    let organization = orgs::Entity::find_by_id(org.0)
        .one(&state.db)
        .await?
        .map(|o| o.name)
        .unwrap_or_default();
    let scope = ReportScope {
        region_id: report.region_id,
        store_id: report.store_id,
    };
    let consolidation =
        match content::gather(&state.db, &caller, organization, report.month, scope).await {
            Ok(c) => c,
            // A scope the author no longer sees (404), a role that sees no figures (403)...
            Err(e) if e.code != ErrorCode::InternalError => {
                return Err(fail(state, report.id, e.message).await);
            }
            Err(e) => return Err(JobError::retry(e.message)),
        };
    let rendered = tokio::task::spawn_blocking(move || {
        let pdf = pdf::render(&consolidation);
        let xlsx = xlsx::render(&consolidation).map_err(|e| e.to_string());
        (consolidation.label, pdf, xlsx)
    })
    .await
    .map_err(|e| JobError::retry(format!("rendering stopped: {e}")))?;
    let (label, pdf, xlsx) = rendered;
    let xlsx = match xlsx {
        Ok(x) => x,
        Err(e) => return Err(fail(state, report.id, format!("XLSX: {e}")).await),
    };
    let txn = comptoir_kernel::db::begin_write(&state.db).await?;
    report_files::Entity::delete_many()
        .filter(report_files::Column::ReportId.eq(report.id))
        .exec(&txn)
        .await?;
    let now = Utc::now();
    for (format, content) in [("pdf", pdf), ("xlsx", xlsx)] {
        report_files::Entity::insert(report_files::ActiveModel {
            id: Set(Uuid::now_v7()),
            org_id: Set(org.0),
            report_id: Set(report.id),
            format: Set(format.into()),
            content: Set(content),
            created_at: Set(now),
        })
        .exec_without_returning(&txn)
        .await?;
    }
    reports::Entity::update_many()
        .col_expr(reports::Column::Status, Expr::value("completed"))
        .col_expr(reports::Column::Error, Expr::value(Option::<String>::None))
        .col_expr(reports::Column::Label, Expr::value(label))
        .col_expr(reports::Column::FinishedAt, Expr::value(Some(now)))
        .filter(reports::Column::Id.eq(report.id))
        .exec(&txn)
        .await?;
    txn.commit().await?;
    Ok(())
}

impl Job for ReportJob {
    const KIND: &'static str = "retail.report";

    async fn run(self, ctx: JobContext) -> Result<Value, JobError> {
        let org = ctx
            .org_id
            .ok_or_else(|| JobError::permanent("a report job needs an organization"))?;
        let id = self.report_id.0;
        let report = find_in_org::<reports::Entity>(&ctx.state.db, org, id)
            .await
            .map_err(|e| JobError::permanent(format!("report {id}: {}", e.message)))?;
        if report.status != "completed"
            && let Err(e) = generate(&ctx, org, &report).await
        {
            // The last attempt of a retryable failure still leaves a final status.
            if e.retryable && ctx.attempt >= Self::MAX_ATTEMPTS {
                set_status(&ctx.state, id, "failed", Some(e.message.clone())).await?;
            }
            return Err(e);
        }
        let report = find_in_org::<reports::Entity>(&ctx.state.db, org, id).await?;
        let delivery = schedules::deliver(&ctx.state, org, &report).await?;
        Ok(json!({
            "report_id": id,
            "status": report.status,
            "delivery": delivery,
        }))
    }
}

/// Creates the reports of the schedules due today (or on `today`, for tests and replays).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ScheduleSweep {
    #[serde(default)]
    pub today: Option<NaiveDate>,
}

impl Job for ScheduleSweep {
    const KIND: &'static str = "retail.report_schedules";
    const MAX_ATTEMPTS: i32 = 1;

    async fn run(self, ctx: JobContext) -> Result<Value, JobError> {
        let today = self.today.unwrap_or_else(|| Utc::now().date_naive());
        let created = schedules::enqueue_due(&ctx.state.db, today).await?;
        Ok(json!({
            "month": crate::dashboard::period::Period::label(schedules::reported_month(today)),
            "created": created,
        }))
    }
}

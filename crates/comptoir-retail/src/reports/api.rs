//! `/api/v1/retail/reports` and `/api/v1/retail/report-schedules`: handlers with their
//! OpenAPI description; merged into the slice's router by `crate::api`.

use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use comptoir_kernel::auth::Caller;
use comptoir_kernel::error::ErrorBody;
use comptoir_kernel::http::{ApiJson, ApiPath};
use comptoir_kernel::{AppResult, AppState};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::schedules::{self, ReportScheduleId, Schedule, ScheduleInput};
use super::{FileFormat, Report, ReportId, ReportInput};

/// The report routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_reports, create_report))
        .routes(routes!(get_report))
        .routes(routes!(report_pdf))
        .routes(routes!(report_xlsx))
        .routes(routes!(list_schedules, create_schedule))
        .routes(routes!(get_schedule, delete_schedule))
}

/// Ask for a monthly consolidation report (PDF and XLSX) of a month, over the caller's
/// scope or part of it. The report is produced by a job (202); follow `status_url`.
#[utoipa::path(post, path = "/api/v1/retail/reports", tag = "retail", request_body = ReportInput,
    security(("bearer" = []), ("api_key" = [])),
    responses((status = 202, body = Report), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn create_report(
    State(s): State<AppState>,
    caller: Caller,
    ApiJson(input): ApiJson<ReportInput>,
) -> AppResult<(StatusCode, Json<Report>)> {
    Ok((
        StatusCode::ACCEPTED,
        Json(super::create_report(&s.db, &caller, input).await?),
    ))
}

/// Report history: the last 100 reports within the caller's scope, newest first.
#[utoipa::path(get, path = "/api/v1/retail/reports", tag = "retail",
    security(("bearer" = []), ("api_key" = [])),
    responses((status = 200, body = Vec<Report>), (status = 403, body = ErrorBody)))]
async fn list_reports(State(s): State<AppState>, caller: Caller) -> AppResult<Json<Vec<Report>>> {
    Ok(Json(super::list_reports(&s.db, &caller).await?))
}

/// One report: status and, once completed, its download links.
#[utoipa::path(get, path = "/api/v1/retail/reports/{id}", tag = "retail", params(("id" = Uuid, Path)),
    security(("bearer" = []), ("api_key" = [])),
    responses((status = 200, body = Report), (status = 404, body = ErrorBody)))]
async fn get_report(
    State(s): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<ReportId>,
) -> AppResult<Json<Report>> {
    Ok(Json(super::get_report(&s.db, &caller, id).await?))
}

async fn download(
    s: &AppState,
    caller: &Caller,
    id: ReportId,
    format: FileFormat,
) -> AppResult<impl IntoResponse + use<>> {
    let (name, bytes) = super::report_file(&s.db, caller, id, format).await?;
    Ok((
        [
            (header::CONTENT_TYPE, format.mime().to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
        ],
        bytes,
    ))
}

/// The report as PDF (409 until it is completed).
#[utoipa::path(get, path = "/api/v1/retail/reports/{id}/report.pdf", tag = "retail", params(("id" = Uuid, Path)),
    security(("bearer" = []), ("api_key" = [])),
    responses((status = 200, body = Vec<u8>, content_type = "application/pdf"), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn report_pdf(
    State(s): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<ReportId>,
) -> AppResult<impl IntoResponse> {
    download(&s, &caller, id, FileFormat::Pdf).await
}

/// The report as an XLSX workbook, one sheet per section (409 until it is completed).
#[utoipa::path(get, path = "/api/v1/retail/reports/{id}/report.xlsx", tag = "retail", params(("id" = Uuid, Path)),
    security(("bearer" = []), ("api_key" = [])),
    responses((status = 200, body = Vec<u8>, content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn report_xlsx(
    State(s): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<ReportId>,
) -> AppResult<impl IntoResponse> {
    download(&s, &caller, id, FileFormat::Xlsx).await
}

/// Schedule the monthly report: on `day_of_month` (1–28) the previous month's report is
/// produced and handed to the mailer for `recipients`.
#[utoipa::path(post, path = "/api/v1/retail/report-schedules", tag = "retail", request_body = ScheduleInput,
    security(("bearer" = []), ("api_key" = [])),
    responses((status = 201, body = Schedule), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn create_schedule(
    State(s): State<AppState>,
    caller: Caller,
    ApiJson(input): ApiJson<ScheduleInput>,
) -> AppResult<(StatusCode, Json<Schedule>)> {
    Ok((
        StatusCode::CREATED,
        Json(schedules::create_schedule(&s.db, &caller, input).await?),
    ))
}

/// The report schedules within the caller's scope, with their last deliveries.
#[utoipa::path(get, path = "/api/v1/retail/report-schedules", tag = "retail",
    security(("bearer" = []), ("api_key" = [])),
    responses((status = 200, body = Vec<Schedule>), (status = 403, body = ErrorBody)))]
async fn list_schedules(
    State(s): State<AppState>,
    caller: Caller,
) -> AppResult<Json<Vec<Schedule>>> {
    Ok(Json(schedules::list_schedules(&s.db, &caller).await?))
}

/// One schedule with its last deliveries.
#[utoipa::path(get, path = "/api/v1/retail/report-schedules/{id}", tag = "retail", params(("id" = Uuid, Path)),
    security(("bearer" = []), ("api_key" = [])),
    responses((status = 200, body = Schedule), (status = 404, body = ErrorBody)))]
async fn get_schedule(
    State(s): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<ReportScheduleId>,
) -> AppResult<Json<Schedule>> {
    Ok(Json(schedules::get_schedule(&s.db, &caller, id).await?))
}

/// Delete a schedule (its reports and deliveries stay).
#[utoipa::path(delete, path = "/api/v1/retail/report-schedules/{id}", tag = "retail", params(("id" = Uuid, Path)),
    security(("bearer" = []), ("api_key" = [])),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn delete_schedule(
    State(s): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<ReportScheduleId>,
) -> AppResult<StatusCode> {
    schedules::delete_schedule(&s.db, &caller, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

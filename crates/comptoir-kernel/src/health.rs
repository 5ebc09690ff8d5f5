//! `/api/v1/health/live` (the process answers), `/api/v1/health/ready` (the database
//! answers) and `/api/v1/health` (every component with status and latency).

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::state::{AppState, ComponentHealth, HealthCheck, HealthFuture};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(live))
        .routes(routes!(ready))
        .routes(routes!(health))
}

/// The database as a health component; readiness depends on it.
pub struct DatabaseHealth(pub sea_orm::DatabaseConnection);

impl HealthCheck for DatabaseHealth {
    fn required_for_readiness(&self) -> bool {
        true
    }

    fn check(&self) -> HealthFuture<'_> {
        Box::pin(async move {
            let name = match self.0.get_database_backend() {
                sea_orm::DbBackend::Postgres => "database (postgresql)",
                _ => "database (sqlite)",
            };
            let started = std::time::Instant::now();
            let result =
                tokio::time::timeout(std::time::Duration::from_secs(2), crate::db::ping(&self.0))
                    .await;
            let latency_ms = started.elapsed().as_secs_f64() * 1000.0;
            let (status, detail) = match result {
                Ok(Ok(_)) => ("ok", None),
                Ok(Err(e)) => ("down", Some(e.to_string())),
                Err(_) => ("down", Some("no answer within 2 s".to_owned())),
            };
            ComponentHealth {
                name: name.into(),
                status: status.into(),
                latency_ms,
                detail,
            }
        })
    }
}

/// The job queue: depth, oldest runnable job, dead letters and this process's workers.
/// Degraded when jobs wait longer than five minutes or dead letters pile up.
pub struct QueueHealth(pub sea_orm::DatabaseConnection);

impl HealthCheck for QueueHealth {
    fn check(&self) -> HealthFuture<'_> {
        Box::pin(async move {
            let started = std::time::Instant::now();
            let stats = crate::jobs::store::stats(&self.0).await;
            let latency_ms = started.elapsed().as_secs_f64() * 1000.0;
            let workers = crate::metrics::value("workers_alive", &[]).unwrap_or(0.0);
            let (status, detail) = match stats {
                Ok(s) => {
                    let oldest = s.oldest_runnable_age_ms.unwrap_or(0) / 1000;
                    let status = if oldest > 300 || s.dead() > 0 {
                        "degraded"
                    } else {
                        "ok"
                    };
                    let detail = format!(
                        "depth {}, oldest runnable {}s, dead letters {}, workers alive here {}",
                        s.depth(),
                        oldest,
                        s.dead(),
                        workers
                    );
                    (status, Some(detail))
                }
                Err(e) => ("down", Some(e.to_string())),
            };
            ComponentHealth {
                name: "job queue".into(),
                status: status.into(),
                latency_ms,
                detail,
            }
        })
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Status {
    /// `ok`, `degraded` or `down`.
    pub status: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct HealthReport {
    pub status: String,
    pub version: String,
    pub uptime_secs: u64,
    pub components: Vec<ComponentHealth>,
}

/// The process is up.
#[utoipa::path(get, path = "/api/v1/health/live", tag = "health", responses((status = 200, body = Status)))]
async fn live() -> Json<Status> {
    Json(Status {
        status: "ok".into(),
    })
}

async fn run_checks(checks: &[Arc<dyn HealthCheck>]) -> Vec<(bool, ComponentHealth)> {
    let mut out = Vec::with_capacity(checks.len());
    for check in checks {
        out.push((check.required_for_readiness(), check.check().await));
    }
    out
}

/// The server can serve requests: 503 when a required component (the database) is down.
#[utoipa::path(get, path = "/api/v1/health/ready", tag = "health", responses((status = 200, body = Status), (status = 503, body = Status)))]
async fn ready(State(state): State<AppState>) -> (StatusCode, Json<Status>) {
    let results = run_checks(&state.health_checks).await;
    if results
        .iter()
        .any(|(required, c)| *required && c.status == "down")
    {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(Status {
                status: "down".into(),
            }),
        )
    } else {
        (
            StatusCode::OK,
            Json(Status {
                status: "ok".into(),
            }),
        )
    }
}

/// Every component with its status and latency. `degraded`: something optional is down.
#[utoipa::path(get, path = "/api/v1/health", tag = "health", responses((status = 200, body = HealthReport), (status = 503, body = HealthReport)))]
async fn health(State(state): State<AppState>) -> (StatusCode, Json<HealthReport>) {
    let results = run_checks(&state.health_checks).await;
    let required_down = results.iter().any(|(r, c)| *r && c.status == "down");
    let any_bad = results.iter().any(|(_, c)| c.status != "ok");
    let status = if required_down {
        "down"
    } else if any_bad {
        "degraded"
    } else {
        "ok"
    };
    let code = if required_down {
        StatusCode::SERVICE_UNAVAILABLE
    } else {
        StatusCode::OK
    };
    let report = HealthReport {
        status: status.into(),
        version: env!("CARGO_PKG_VERSION").into(),
        uptime_secs: state.started_at.elapsed().as_secs(),
        components: results.into_iter().map(|(_, c)| c).collect(),
    };
    (code, Json(report))
}

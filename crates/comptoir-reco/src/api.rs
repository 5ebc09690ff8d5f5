//! HTTP layer of courier ranking: `POST /api/v1/livreurs/rank` and
//! `GET /api/v1/livreurs/health`.
//!
//! - The body is parsed by the kernel's [`ApiJson`] straight into [`RankRequest`]: wrong
//!   content type 415, too large 413, not JSON 400 `malformed_json`, wrong shape 422
//!   `validation_failed` with the path of the offending value in `details.fields[0].field`
//!   (e.g. `livreurs_candidats[1].reputation`).
//! - Every [`RankError`] becomes an [`AppError`] in one place, [`rank_error`].
//! - Ranking needs an authenticated caller of any role (it reads and writes nothing); the
//!   health endpoint is public like the kernel's `/api/v1/health*`, for probes.
//! - The [`RankingConfig`] is the application's `[reco.couriers]` section over the
//!   defaults, checked once when the application is built ([`ranking_config_from`]) and
//!   registered in the state as an `Arc<RankingConfig>`.

use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};
use std::time::Instant;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use comptoir_kernel::auth::Caller;
use comptoir_kernel::config::Config;
use comptoir_kernel::error::{ErrorBody, FieldError};
use comptoir_kernel::http::ApiJson;
use comptoir_kernel::state::{ComponentHealth, HealthCheck, HealthFuture};
use comptoir_kernel::{AppError, AppResult, AppState, ErrorCode};
use serde::Serialize;
use serde_json::{Value, json};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::couriers::{self, RankError, RankRequest, RankResponse, RankingConfig};

/// The slice's API routes, merged by the application's `api()`.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(rank_couriers))
        .routes(routes!(couriers_health))
}

/// The ranking configuration of an application configuration: its `[reco.couriers]`
/// section over [`RankingConfig::default`], validated. Called when the application is
/// built, so that a bad section stops the start instead of failing every request.
pub fn ranking_config_from(config: &Config) -> anyhow::Result<RankingConfig> {
    let section = Value::Object(config.reco.couriers.clone());
    let ranking: RankingConfig = serde_path_to_error::deserialize(section).map_err(|e| {
        anyhow::anyhow!(
            "invalid [reco.couriers] configuration at `{}`: {}",
            e.path(),
            e.inner()
        )
    })?;
    ranking
        .validate()
        .map_err(|e| anyhow::anyhow!("invalid [reco.couriers] configuration: {e}"))?;
    Ok(ranking)
}

/// The ranking configuration in effect: the one registered in the state at start-up, or
/// (for a state built without it) the application configuration's, parsed on the spot.
pub fn ranking_config(state: &AppState) -> AppResult<Arc<RankingConfig>> {
    match state.ext::<Arc<RankingConfig>>() {
        Some(config) => Ok(config),
        None => ranking_config_from(&state.config)
            .map(Arc::new)
            .map_err(AppError::internal),
    }
}

/// Maps a ranking error to the API error answered for it — the only place that does.
///
/// Input errors are 422: `inconsistent_weights` for a too inconsistent `matrice_ahp`
/// (`details.CR`, `details.threshold`), `validation_failed` for everything else. Each
/// carries `details.fields[0].field` (the path in the request), `details.cause` (the
/// finer [`RankError::code`], such as `duplicate_courier` or `unknown_delivery_type`) and
/// the error's own details (`known` values, `min`/`max`, `first_index`...). A bad server
/// configuration or a non-converging eigenvector is a 500 whose cause is only logged.
pub fn rank_error(err: RankError) -> AppError {
    let code = match &err {
        RankError::InconsistentWeights { .. } => ErrorCode::InconsistentWeights,
        RankError::Malformed { .. }
        | RankError::NoCandidates
        | RankError::NotFinite { .. }
        | RankError::OutOfRange { .. }
        | RankError::Empty { .. }
        | RankError::DuplicateCourier { .. }
        | RankError::UnknownDeliveryType { .. }
        | RankError::UnknownVehicleType { .. }
        | RankError::InvalidMatrix { .. } => ErrorCode::ValidationFailed,
        RankError::NotConverged { .. } | RankError::InvalidConfig { .. } => {
            return AppError::internal(anyhow::Error::new(err));
        }
    };
    let message = err.to_string();
    let field = match err.field() {
        "" => "body".to_owned(),
        f => f.to_owned(),
    };
    let mut details = err.details();
    if let Value::Object(map) = &mut details {
        map.remove("field");
        map.insert(
            "fields".into(),
            json!([FieldError {
                field,
                reason: message.clone(),
            }]),
        );
        map.insert("cause".into(), json!(err.code()));
    }
    AppError::new(code, message).with_details(details)
}

/// Rank couriers for a delivery announcement (spatial ellipse filter, AHP weights, TOPSIS).
///
/// Any authenticated caller may rank: nothing is read or stored. When nobody is eligible
/// the answer is still 200, with an empty `livreurs_classes` and
/// `raison: "aucun_livreur_eligible"`.
#[utoipa::path(post, path = "/api/v1/livreurs/rank", tag = "couriers", request_body = RankRequest,
    security(("bearer" = []), ("api_key" = [])),
    responses(
        (status = 200, description = "Eligible couriers, best first", body = RankResponse),
        (status = 400, description = "The body is not JSON", body = ErrorBody),
        (status = 401, description = "No or bad credentials", body = ErrorBody),
        (status = 403, description = "Read-only API key or CSRF failure", body = ErrorBody),
        (status = 413, body = ErrorBody),
        (status = 415, body = ErrorBody),
        (status = 422, description = "`validation_failed` (with the field and `details.cause`) or `inconsistent_weights` (with `details.CR`)", body = ErrorBody),
    ))]
async fn rank_couriers(
    State(state): State<AppState>,
    _caller: Caller,
    ApiJson(request): ApiJson<RankRequest>,
) -> AppResult<Json<RankResponse>> {
    let config = ranking_config(&state)?;
    // Pure CPU work of a few ms at most (≈ 1.6 ms for 10,000 candidates; the body limit
    // keeps requests far below that), so it runs inline.
    couriers::rank(request, &config)
        .map(Json)
        .map_err(rank_error)
}

/// State of the courier-ranking module (`GET /api/v1/livreurs/health`).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CouriersHealth {
    /// `ok`, or `down` when the configuration is invalid or the canary ranking fails.
    pub status: String,
    /// Always `livreurs_ranking`.
    pub module: String,
    /// Server version.
    pub version: String,
    /// Time taken by a canary ranking of the seed's example request, in ms.
    pub latency_ms: f64,
    /// Accepted `type_livraison` values with their spatial tolerance in km.
    pub tolerance_spatiale_km: BTreeMap<String, f64>,
    /// Largest accepted AHP consistency ratio (exclusive).
    pub seuil_cr: f64,
    /// Why the module is down.
    pub detail: Option<String>,
}

/// The seed's example request, ranked by the health checks.
fn canary_request() -> &'static RankRequest {
    static REQUEST: OnceLock<RankRequest> = OnceLock::new();
    REQUEST.get_or_init(|| {
        RankRequest::from_json(include_bytes!("canary.json")).expect("the canary parses")
    })
}

/// Ranks the canary request; `Err` says why the module cannot rank.
fn canary(config: &RankingConfig) -> (f64, Result<(), String>) {
    let started = Instant::now();
    let outcome = match couriers::rank(canary_request().clone(), config) {
        Ok(r) if r.livreurs_classes.is_empty() => Err("the canary ranking is empty".to_owned()),
        Ok(_) => Ok(()),
        Err(e) => Err(e.to_string()),
    };
    (started.elapsed().as_secs_f64() * 1e3, outcome)
}

/// Health of the courier-ranking module: configuration and a canary ranking. Public, like
/// `/api/v1/health`: load balancers and probes call it without credentials.
#[utoipa::path(get, path = "/api/v1/livreurs/health", tag = "couriers",
    responses(
        (status = 200, description = "The module ranks", body = CouriersHealth),
        (status = 503, description = "The module cannot rank", body = CouriersHealth),
    ))]
async fn couriers_health(State(state): State<AppState>) -> (StatusCode, Json<CouriersHealth>) {
    let version = env!("CARGO_PKG_VERSION").to_owned();
    let module = "livreurs_ranking".to_owned();
    let config = match ranking_config(&state) {
        Ok(config) => config,
        Err(_) => {
            let health = CouriersHealth {
                status: "down".into(),
                module,
                version,
                latency_ms: 0.0,
                tolerance_spatiale_km: BTreeMap::new(),
                seuil_cr: 0.0,
                detail: Some("invalid [reco.couriers] configuration".into()),
            };
            return (StatusCode::SERVICE_UNAVAILABLE, Json(health));
        }
    };
    let (latency_ms, outcome) = canary(&config);
    let status = if outcome.is_ok() {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let health = CouriersHealth {
        status: if outcome.is_ok() { "ok" } else { "down" }.into(),
        module,
        version,
        latency_ms,
        tolerance_spatiale_km: config.tolerance_km.clone(),
        seuil_cr: config.max_consistency_ratio,
        detail: outcome.err(),
    };
    (status, Json(health))
}

/// The module as a component of `/api/v1/health` and of the dashboard (not required for
/// readiness: the rest of the application works without it).
pub struct RankingHealth(
    /// The configuration in effect.
    pub Arc<RankingConfig>,
);

impl HealthCheck for RankingHealth {
    fn check(&self) -> HealthFuture<'_> {
        Box::pin(async move {
            let (latency_ms, outcome) = canary(&self.0);
            ComponentHealth {
                name: "courier ranking".into(),
                status: if outcome.is_ok() { "ok" } else { "down" }.into(),
                latency_ms,
                detail: outcome.err(),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_input_error_is_a_422_with_its_field_and_cause() {
        let err = rank_error(RankError::DuplicateCourier {
            field: "livreurs_candidats[1].livreur_id".into(),
            id: "LIV-001".into(),
            first_index: 0,
        });
        assert_eq!(err.code, ErrorCode::ValidationFailed);
        assert_eq!(
            err.details["fields"][0]["field"],
            "livreurs_candidats[1].livreur_id"
        );
        assert_eq!(err.details["cause"], "duplicate_courier");
        assert_eq!(err.details["first_index"], 0);
        assert!(err.details.get("field").is_none());

        let err = rank_error(RankError::InconsistentWeights {
            field: "matrice_ahp".into(),
            cr: 0.3,
            threshold: 0.1,
        });
        assert_eq!(err.code, ErrorCode::InconsistentWeights);
        assert_eq!(err.details["CR"], 0.3);

        let err = rank_error(RankError::Malformed {
            field: String::new(),
            reason: "x".into(),
        });
        assert_eq!(err.details["fields"][0]["field"], "body");
    }

    #[test]
    fn server_faults_hide_their_cause() {
        let err = rank_error(RankError::InvalidConfig {
            field: "config.tolerance_km".into(),
            reason: "secret reason".into(),
        });
        assert_eq!(err.code, ErrorCode::InternalError);
        assert!(!err.message.contains("secret"));
    }

    #[test]
    fn configuration_sections_are_merged_over_the_defaults_and_checked() {
        let mut config = Config::default();
        assert_eq!(
            ranking_config_from(&config).unwrap(),
            RankingConfig::default()
        );
        config
            .reco
            .couriers
            .insert("max_consistency_ratio".into(), json!(0.05));
        assert_eq!(
            ranking_config_from(&config).unwrap().max_consistency_ratio,
            0.05
        );
        config
            .reco
            .couriers
            .insert("max_consistency_ratio".into(), json!(7));
        assert!(ranking_config_from(&config).is_err());
        config.reco.couriers.clear();
        config.reco.couriers.insert("typo".into(), json!(1));
        let err = ranking_config_from(&config).unwrap_err().to_string();
        assert!(err.contains("typo"), "{err}");
    }

    #[test]
    fn the_canary_ranks_with_the_default_configuration() {
        let (_, outcome) = canary(&RankingConfig::default());
        assert_eq!(outcome, Ok(()));
    }
}

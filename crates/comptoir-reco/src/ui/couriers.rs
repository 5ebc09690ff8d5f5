//! `/reco/couriers`: rank couriers from a form (no map): the ranking with each criterion's
//! value, the AHP weights and CR, and the filtering statistics. The page calls the same
//! core and error mapping as `POST /api/v1/livreurs/rank`, so it shows the same answers.

use std::collections::HashMap;

use crate::api::{rank_error, ranking_config};
use crate::couriers::geo::haversine_km;
use crate::couriers::model::{Annonce, Coordinates, LivreurCandidat, Position};
use crate::couriers::{RankRequest, RankResponse, RankingConfig, rank};
use axum::Form;
use axum::extract::State;
use axum::extract::rejection::FormRejection;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use comptoir_kernel::{AppError, AppState, ErrorCode};
use serde::{Deserialize, Serialize};

use comptoir_web::ui::{UiError, UiSession, ser};

use super::render;

/// The form's fields, as typed (numbers stay text so that a typo can be shown back).
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct RankForm {
    #[serde(default, skip_serializing)]
    csrf_token: String,
    #[serde(default)]
    annonce_id: String,
    #[serde(default)]
    type_livraison: String,
    #[serde(default)]
    pickup_lat: String,
    #[serde(default)]
    pickup_lon: String,
    #[serde(default)]
    delivery_lat: String,
    #[serde(default)]
    delivery_lon: String,
    #[serde(default)]
    poids_colis_kg: String,
    /// One courier a line: `id;lat;lon;reputation;capacity_kg;vehicle`.
    #[serde(default)]
    couriers: String,
}

impl Default for RankForm {
    /// A realistic Paris example: pickup at the Hôtel de Ville, delivery near the Arc de
    /// Triomphe, an express parcel of 3 kg; one courier is too far (Saint-Denis) and one
    /// cannot carry the parcel.
    fn default() -> Self {
        let text = |s: &str| s.to_owned();
        Self {
            csrf_token: String::new(),
            annonce_id: text("ANN-2024-001"),
            type_livraison: text("express"),
            pickup_lat: text("48.8566"),
            pickup_lon: text("2.3522"),
            delivery_lat: text("48.8738"),
            delivery_lon: text("2.2950"),
            poids_colis_kg: text("3"),
            couriers: [
                "LIV-001;48.8606;2.3376;8.5;30;moto",
                "LIV-002;48.8556;2.3486;9.0;50;voiture",
                "LIV-003;48.8650;2.3210;7.2;15;velo",
                "LIV-004;48.8700;2.3080;9.4;20;scooter",
                "LIV-005;48.8462;2.3464;8.8;400;camionnette",
                "LIV-006;48.9362;2.3574;9.8;30;moto",
                "LIV-007;48.8580;2.3400;9.1;2;velo",
            ]
            .join("\n"),
        }
    }
}

/// An error shown above the form.
#[derive(Debug, Serialize)]
struct FormError {
    code: &'static str,
    message: String,
    /// Where, in the form's terms (`couriers, line 3`).
    at: Option<String>,
}

/// One ranked courier with the values of the four criteria.
#[derive(Debug, Serialize)]
struct Row {
    rang: usize,
    livreur_id: String,
    score_final: f64,
    distance_km: f64,
    reputation: f64,
    capacite_max_kg: f64,
    type_vehicule: String,
    vehicle_score: Option<f64>,
}

/// A number as typed, with a decimal comma accepted (`48,8566`).
fn number(raw: &str, what: &str, at: Option<String>) -> Result<f64, FormError> {
    let cleaned = raw.trim().replace(',', ".");
    cleaned
        .parse::<f64>()
        .ok()
        .filter(|n| n.is_finite())
        .ok_or_else(|| FormError {
            code: ErrorCode::ValidationFailed.as_str(),
            message: format!("{what}: {:?} is not a number", raw.trim()),
            at,
        })
}

/// The request the form describes, and the form line of each candidate.
fn parse(form: &RankForm) -> Result<(RankRequest, Vec<usize>), FormError> {
    let point = |lat: &str, lon: &str, what: &str| -> Result<Position, FormError> {
        Ok(Position {
            latitude: number(lat, &format!("{what} latitude"), None)?,
            longitude: number(lon, &format!("{what} longitude"), None)?,
        })
    };
    let point_ramassage = point(&form.pickup_lat, &form.pickup_lon, "Pickup")?;
    let point_livraison = point(&form.delivery_lat, &form.delivery_lon, "Delivery")?;
    let poids_colis_kg = match form.poids_colis_kg.trim() {
        "" => None,
        raw => Some(number(raw, "Parcel weight", None)?),
    };
    let mut candidates = Vec::new();
    let mut lines = Vec::new();
    for (i, line) in form.couriers.lines().enumerate() {
        let line_no = i + 1;
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let at = || Some(format!("couriers, line {line_no}"));
        let parts: Vec<&str> = line.split(';').map(str::trim).collect();
        let [id, lat, lon, reputation, capacity, vehicle] = parts.as_slice() else {
            return Err(FormError {
                code: ErrorCode::ValidationFailed.as_str(),
                message: format!(
                    "expected 6 values id;lat;lon;reputation;capacity_kg;vehicle, got {}",
                    parts.len()
                ),
                at: at(),
            });
        };
        candidates.push(LivreurCandidat {
            livreur_id: (*id).to_owned(),
            position_actuelle: Position {
                latitude: number(lat, "latitude", at())?,
                longitude: number(lon, "longitude", at())?,
            },
            reputation: number(reputation, "reputation", at())?,
            capacite_max_kg: number(capacity, "capacity", at())?,
            type_vehicule: vehicle.to_lowercase(),
        });
        lines.push(line_no);
    }
    let request = RankRequest {
        annonce: Annonce {
            annonce_id: form.annonce_id.trim().to_owned(),
            type_livraison: form.type_livraison.trim().to_owned(),
            point_ramassage,
            point_livraison,
            poids_colis_kg,
        },
        livreurs_candidats: candidates,
        matrice_ahp: None,
    };
    Ok((request, lines))
}

/// A request path (`livreurs_candidats[2].reputation`) in the form's terms.
fn locate(field: &str, lines: &[usize]) -> String {
    let candidate = field
        .strip_prefix("livreurs_candidats[")
        .and_then(|rest| rest.split_once(']'))
        .and_then(|(index, leaf)| Some((lines.get(index.parse::<usize>().ok()?)?, leaf)));
    match candidate {
        Some((line, leaf)) => format!("couriers, line {line}{}", leaf.replace('.', " ")),
        None => match field {
            "livreurs_candidats" => "couriers".to_owned(),
            "annonce.point_ramassage.latitude" => "pickup latitude".to_owned(),
            "annonce.point_ramassage.longitude" => "pickup longitude".to_owned(),
            "annonce.point_livraison.latitude" => "delivery latitude".to_owned(),
            "annonce.point_livraison.longitude" => "delivery longitude".to_owned(),
            "annonce.poids_colis_kg" => "parcel weight".to_owned(),
            "annonce.type_livraison" => "delivery type".to_owned(),
            "annonce.annonce_id" => "announcement id".to_owned(),
            other => other.to_owned(),
        },
    }
}

/// The ranked couriers with their criteria values.
fn rows(request: &RankRequest, response: &RankResponse, config: &RankingConfig) -> Vec<Row> {
    let by_id: HashMap<&str, &LivreurCandidat> = request
        .livreurs_candidats
        .iter()
        .map(|c| (c.livreur_id.as_str(), c))
        .collect();
    let p = request.annonce.point_ramassage;
    let pickup = Coordinates::new(p.latitude, p.longitude, "pickup").ok();
    let suitability = config
        .vehicle_suitability
        .get(&request.annonce.type_livraison);
    response
        .livreurs_classes
        .iter()
        .filter_map(|ranked| {
            let c = by_id.get(ranked.livreur_id.as_str())?;
            let pos = c.position_actuelle;
            let here = Coordinates::new(pos.latitude, pos.longitude, "position").ok()?;
            Some(Row {
                rang: ranked.rang,
                livreur_id: ranked.livreur_id.clone(),
                score_final: ranked.score_final,
                distance_km: pickup.map_or(f64::NAN, |p| haversine_km(here, p)),
                reputation: c.reputation,
                capacite_max_kg: c.capacite_max_kg,
                type_vehicule: c.type_vehicule.clone(),
                vehicle_score: suitability.and_then(|s| s.get(&c.type_vehicule)).copied(),
            })
        })
        .collect()
}

fn page(
    status: StatusCode,
    session: &UiSession,
    config: &RankingConfig,
    form: &RankForm,
    outcome: Option<Result<(RankResponse, Vec<Row>), FormError>>,
) -> Result<Response, UiError> {
    let types: Vec<&String> = config.tolerance_km.keys().collect();
    let vehicles: std::collections::BTreeSet<&String> = config
        .vehicle_suitability
        .values()
        .flat_map(|table| table.keys())
        .collect();
    let (result, rows, error) = match outcome {
        None => (None, Vec::new(), None),
        Some(Ok((response, rows))) => (Some(response), rows, None),
        Some(Err(e)) => (None, Vec::new(), Some(e)),
    };
    let ctx = minijinja::context! {
        form => ser(form), types => ser(&types), vehicles => ser(&vehicles), result => ser(&result), rows => ser(&rows), error => ser(&error),
        ..session.context("reco")
    };
    Ok((status, render("couriers.html", ctx)?).into_response())
}

/// The form, prefilled with the Paris example.
pub async fn form_page(
    State(state): State<AppState>,
    session: UiSession,
) -> Result<Response, UiError> {
    let config = ranking_config(&state)?;
    page(
        StatusCode::OK,
        &session,
        &config,
        &RankForm::default(),
        None,
    )
}

/// Ranks what the form describes; bad input is shown above the form (422), never a 500.
pub async fn submit(
    State(state): State<AppState>,
    session: UiSession,
    form: Result<Form<RankForm>, FormRejection>,
) -> Result<Response, UiError> {
    let Form(form) =
        form.map_err(|e| UiError(AppError::new(ErrorCode::BadRequest, e.body_text())))?;
    session.check_csrf(&form.csrf_token)?;
    let config = ranking_config(&state)?;
    let outcome = match parse(&form) {
        Err(e) => Err(e),
        Ok((request, lines)) => match rank(request.clone(), &config) {
            Ok(response) => {
                let rows = rows(&request, &response, &config);
                Ok((response, rows))
            }
            Err(e) => {
                let at = Some(locate(e.field(), &lines));
                let err = rank_error(e);
                if err.code == ErrorCode::InternalError {
                    // A server fault (bad configuration), not bad input: the error page.
                    return Err(UiError(err));
                }
                Err(FormError {
                    code: err.code.as_str(),
                    message: err.message,
                    at,
                })
            }
        },
    };
    let status = if outcome.is_ok() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    page(status, &session, &config, &form, Some(outcome))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_example_ranks_with_one_courier_out_of_zone_and_one_too_small() {
        let config = RankingConfig::default();
        let (request, lines) = parse(&RankForm::default()).unwrap();
        assert_eq!(lines, (1..=7).collect::<Vec<_>>());
        let response = rank(request.clone(), &config).unwrap();
        let stats = response.metadata.statistiques_filtrage;
        assert_eq!((stats.total_candidats, stats.candidats_eligibles), (7, 5));
        assert_eq!((stats.rejetes_hors_zone, stats.rejetes_capacite), (1, 1));
        let rows = rows(&request, &response, &config);
        assert_eq!(rows.len(), 5);
        assert!(rows.iter().all(|r| r.vehicle_score.is_some()));
    }

    #[test]
    fn form_errors_point_at_the_line() {
        let form = RankForm {
            couriers: "\n# a comment\nA;1;2;3;4;moto\nB;1;2\n".into(),
            ..RankForm::default()
        };
        let err = parse(&form).unwrap_err();
        assert_eq!(err.at.as_deref(), Some("couriers, line 4"));
        let form = RankForm {
            couriers: "A;48,86;2,33;x;4;moto".into(),
            ..RankForm::default()
        };
        assert!(parse(&form).unwrap_err().message.contains("reputation"));
        assert_eq!(
            locate("livreurs_candidats[1].reputation", &[3, 5]),
            "couriers, line 5 reputation"
        );
        assert_eq!(
            locate("livreurs_candidats[9].x", &[3]),
            "livreurs_candidats[9].x"
        );
    }
}

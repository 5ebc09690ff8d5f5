//! The ranking itself: validation, spatial filter, AHP weights, TOPSIS, response.

use std::time::Instant;

use chrono::{DateTime, Utc};

use super::ahp::{self, CRITERIA};
use super::config::RankingConfig;
use super::error::RankError;
use super::geo::Ellipse;
use super::model::{
    LivreurClasse, Metadata, PoidsAhp, RaisonClassementVide, RankRequest, RankResponse,
    StatistiquesFiltrage,
};
use super::topsis::{self, Direction};

/// Direction of each criterion, in matrix order. Proximity is the great-circle distance
/// from the courier to the pickup point (a cost: the parcel waits for the courier);
/// reputation, capacity in kg and vehicle suitability are benefits.
pub const DIRECTIONS: [Direction; CRITERIA] = [
    Direction::Cost,
    Direction::Benefit,
    Direction::Benefit,
    Direction::Benefit,
];

/// Ranks the candidates of `request` for its announcement.
///
/// Errors are returned for any invalid input, configuration or too inconsistent AHP
/// matrix; a valid request where nobody is eligible yields an empty ranking with
/// [`RaisonClassementVide::AucunLivreurEligible`].
pub fn rank(request: RankRequest, config: &RankingConfig) -> Result<RankResponse, RankError> {
    rank_at(request, config, Utc::now())
}

/// [`rank`] with the response timestamp given, for reproducible output.
pub fn rank_at(
    request: RankRequest,
    config: &RankingConfig,
    now: DateTime<Utc>,
) -> Result<RankResponse, RankError> {
    let started = Instant::now();
    let config_weights = config.validated_weights()?;
    let req = request.validate(config)?;

    // Weights before filtering, so that a bad matrix is reported even when nobody is
    // eligible. The configured matrix was checked with the configuration.
    let ahp = match &req.ahp_matrix {
        None => config_weights,
        Some(m) => {
            let ahp = ahp::weights(m, "matrice_ahp")?;
            if ahp.cr >= config.max_consistency_ratio {
                return Err(RankError::InconsistentWeights {
                    field: "matrice_ahp".to_owned(),
                    cr: ahp.cr,
                    threshold: config.max_consistency_ratio,
                });
            }
            ahp
        }
    };
    // Always 4 weights (`parse_criteria` enforced 4×4); checked rather than indexed anyway.
    let w = <[f64; CRITERIA]>::try_from(ahp.weights.as_slice()).map_err(|_| {
        RankError::InvalidMatrix {
            field: "matrice_ahp".into(),
            reason: "not 4x4".into(),
        }
    })?;

    let ellipse = Ellipse::new(req.pickup, req.delivery, req.tolerance_km);
    let mut rows = Vec::with_capacity(req.couriers.len());
    let mut eligible = Vec::with_capacity(req.couriers.len());
    let (mut out_of_zone, mut under_capacity) = (0, 0);
    for courier in &req.couriers {
        if req.parcel_kg.is_some_and(|kg| courier.capacity_kg < kg) {
            under_capacity += 1;
            continue;
        }
        let check = ellipse.check(courier.position);
        if !check.inside {
            out_of_zone += 1;
            continue;
        }
        rows.push([
            check.to_pickup_km,
            courier.reputation,
            courier.capacity_kg,
            courier.vehicle_score,
        ]);
        eligible.push(courier.id.as_str());
    }

    let scores = topsis::closeness(&rows, &w, &DIRECTIONS);
    let mut order: Vec<usize> = (0..scores.len()).collect();
    // Stable sort: equal scores keep the request order, so the output is deterministic.
    order.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]));
    let livreurs_classes: Vec<LivreurClasse> = order
        .iter()
        .enumerate()
        .map(|(rank, &i)| LivreurClasse {
            rang: rank + 1,
            livreur_id: eligible[i].to_owned(),
            score_final: scores[i],
        })
        .collect();

    let total = req.couriers.len();
    let raison = livreurs_classes
        .is_empty()
        .then_some(RaisonClassementVide::AucunLivreurEligible);
    Ok(RankResponse {
        status: "success",
        annonce_id: req.annonce_id,
        timestamp: now,
        raison,
        metadata: Metadata {
            type_livraison: req.delivery_type,
            tolerance_spatiale_km: req.tolerance_km,
            statistiques_filtrage: StatistiquesFiltrage {
                total_candidats: total,
                candidats_eligibles: livreurs_classes.len(),
                candidats_rejetes: out_of_zone + under_capacity,
                rejetes_hors_zone: out_of_zone,
                rejetes_capacite: under_capacity,
            },
            poids_ahp: PoidsAhp {
                proximite_geographique: w[0],
                reputation: w[1],
                capacite: w[2],
                type_vehicule: w[3],
                cr: ahp.cr,
                est_coherent: true,
            },
            duree_traitement_ms: started.elapsed().as_secs_f64() * 1e3,
        },
        livreurs_classes,
    })
}

//! Every kind of bad input yields a typed error with a stable code and the path at fault,
//! or (nobody eligible) an empty ranking with its reason; never a panic.

use comptoir_reco::couriers::model::RaisonClassementVide;
use comptoir_reco::couriers::{RankError, RankRequest, RankingConfig, rank};
use serde_json::{Value, json};

fn seed() -> Value {
    serde_json::from_str(include_str!("fixtures/seed_request.json")).expect("seed fixture")
}

fn run(body: Value) -> Result<comptoir_reco::couriers::RankResponse, RankError> {
    let request = RankRequest::from_json(body.to_string().as_bytes())?;
    rank(request, &RankingConfig::default())
}

#[track_caller]
fn assert_error(body: Value, code: &str, field: &str) -> RankError {
    let err = run(body).expect_err("request must be rejected");
    assert_eq!((err.code(), err.field()), (code, field), "{err}");
    assert_eq!(err.details()["field"], field);
    err
}

/// Rust callers can pass what JSON cannot carry (NaN, infinities).
#[track_caller]
fn assert_typed_error(edit: impl FnOnce(&mut RankRequest), code: &str, field: &str) {
    let mut request: RankRequest = serde_json::from_value(seed()).expect("seed parses");
    edit(&mut request);
    let err = rank(request, &RankingConfig::default()).expect_err("must be rejected");
    assert_eq!((err.code(), err.field()), (code, field), "{err}");
}

#[test]
fn seed_request_is_accepted() {
    let resp = run(seed()).expect("seed request ranks");
    assert_eq!(resp.livreurs_classes.len(), 2);
}

#[test]
fn empty_candidate_list() {
    let mut body = seed();
    body["livreurs_candidats"] = json!([]);
    assert_error(body, "no_candidates", "livreurs_candidats");
}

#[test]
fn nobody_eligible_gives_an_empty_ranking_with_reason() {
    let mut body = seed();
    // Lyon and Marseille, hundreds of km from a Paris delivery.
    body["livreurs_candidats"][0]["position_actuelle"] =
        json!({"latitude": 45.76, "longitude": 4.83});
    body["livreurs_candidats"][1]["position_actuelle"] =
        json!({"latitude": 43.30, "longitude": 5.37});
    let resp = run(body).expect("a valid request");
    assert!(resp.livreurs_classes.is_empty());
    assert_eq!(
        resp.raison,
        Some(RaisonClassementVide::AucunLivreurEligible)
    );
    let stats = resp.metadata.statistiques_filtrage;
    assert_eq!((stats.total_candidats, stats.candidats_eligibles), (2, 0));
    assert_eq!((stats.candidats_rejetes, stats.rejetes_hors_zone), (2, 2));
    let json = serde_json::to_value(&resp).expect("serialisable");
    assert_eq!(json["raison"], "aucun_livreur_eligible");
}

#[test]
fn insufficient_capacity_is_ineligible_and_counted() {
    let mut body = seed();
    body["annonce"]["poids_colis_kg"] = json!(40.0); // LIV-001 carries 30 kg, LIV-002 50 kg
    let resp = run(body).expect("a valid request");
    let ids: Vec<_> = resp
        .livreurs_classes
        .iter()
        .map(|c| c.livreur_id.as_str())
        .collect();
    assert_eq!(ids, ["LIV-002"]);
    let stats = resp.metadata.statistiques_filtrage;
    assert_eq!(
        (
            stats.candidats_rejetes,
            stats.rejetes_capacite,
            stats.rejetes_hors_zone
        ),
        (1, 1, 0)
    );
}

#[test]
fn duplicate_courier_ids() {
    let mut body = seed();
    body["livreurs_candidats"][1]["livreur_id"] = json!("LIV-001");
    let err = assert_error(
        body,
        "duplicate_courier",
        "livreurs_candidats[1].livreur_id",
    );
    assert_eq!(err.details()["first_index"], 0);
}

#[test]
fn blank_ids() {
    let mut body = seed();
    body["livreurs_candidats"][1]["livreur_id"] = json!("  ");
    assert_error(
        body,
        "validation_failed",
        "livreurs_candidats[1].livreur_id",
    );
    let mut body = seed();
    body["annonce"]["annonce_id"] = json!("");
    assert_error(body, "validation_failed", "annonce.annonce_id");
}

#[test]
fn coordinates_out_of_range() {
    let mut body = seed();
    body["livreurs_candidats"][1]["position_actuelle"]["latitude"] = json!(91.0);
    let err = assert_error(
        body,
        "validation_failed",
        "livreurs_candidats[1].position_actuelle.latitude",
    );
    assert_eq!(err.details()["max"], 90.0);
    let mut body = seed();
    body["annonce"]["point_ramassage"]["longitude"] = json!(-180.5);
    assert_error(
        body,
        "validation_failed",
        "annonce.point_ramassage.longitude",
    );
    let mut body = seed();
    body["annonce"]["point_livraison"]["latitude"] = json!(-90.0001);
    assert_error(
        body,
        "validation_failed",
        "annonce.point_livraison.latitude",
    );
}

#[test]
fn nan_and_infinities() {
    assert_typed_error(
        |r| r.livreurs_candidats[0].position_actuelle.longitude = f64::NAN,
        "validation_failed",
        "livreurs_candidats[0].position_actuelle.longitude",
    );
    assert_typed_error(
        |r| r.annonce.point_livraison.latitude = f64::INFINITY,
        "validation_failed",
        "annonce.point_livraison.latitude",
    );
    assert_typed_error(
        |r| r.livreurs_candidats[1].reputation = f64::NAN,
        "validation_failed",
        "livreurs_candidats[1].reputation",
    );
    assert_typed_error(
        |r| r.livreurs_candidats[0].capacite_max_kg = f64::NEG_INFINITY,
        "validation_failed",
        "livreurs_candidats[0].capacite_max_kg",
    );
    assert_typed_error(
        |r| r.annonce.poids_colis_kg = Some(f64::NAN),
        "validation_failed",
        "annonce.poids_colis_kg",
    );
    assert_typed_error(
        |r| r.matrice_ahp = Some(vec![vec![1.0, f64::NAN, 1.0, 1.0]; 4]),
        "invalid_matrix",
        "matrice_ahp[0][1]",
    );
}

#[test]
fn out_of_range_numbers() {
    let mut body = seed();
    body["livreurs_candidats"][0]["reputation"] = json!(10.5);
    assert_error(
        body,
        "validation_failed",
        "livreurs_candidats[0].reputation",
    );
    let mut body = seed();
    body["livreurs_candidats"][1]["capacite_max_kg"] = json!(-1);
    assert_error(
        body,
        "validation_failed",
        "livreurs_candidats[1].capacite_max_kg",
    );
    let mut body = seed();
    body["livreurs_candidats"][0]["capacite_max_kg"] = json!(1e300);
    let err = assert_error(
        body,
        "validation_failed",
        "livreurs_candidats[0].capacite_max_kg",
    );
    assert_eq!(err.details()["max"], 1e6);
    let mut body = seed();
    body["annonce"]["poids_colis_kg"] = json!(-0.5);
    assert_error(body, "validation_failed", "annonce.poids_colis_kg");
}

#[test]
fn unknown_delivery_type() {
    let mut body = seed();
    body["annonce"]["type_livraison"] = json!("teleportation");
    let err = assert_error(body, "unknown_delivery_type", "annonce.type_livraison");
    assert_eq!(
        err.details()["known"],
        json!(["express", "same_day", "standard"])
    );
}

#[test]
fn unknown_vehicle_type() {
    let mut body = seed();
    body["livreurs_candidats"][1]["type_vehicule"] = json!("trottinette");
    assert_error(
        body,
        "unknown_vehicle_type",
        "livreurs_candidats[1].type_vehicule",
    );
}

fn with_matrix(matrix: Value) -> Value {
    let mut body = seed();
    body["matrice_ahp"] = matrix;
    body
}

#[test]
fn invalid_matrix_entries() {
    let ok = || {
        json!([
            [1, 3, 4, 5],
            [0.3333, 1, 2, 3],
            [0.25, 0.5, 1, 2],
            [0.2, 0.3333, 0.5, 1]
        ])
    };
    run(with_matrix(ok())).expect("a valid override (0.3333 is accepted for 1/3)");

    let mut m = ok();
    m[1][2] = json!(0);
    assert_error(with_matrix(m), "invalid_matrix", "matrice_ahp[1][2]");
    let mut m = ok();
    m[3][0] = json!(-0.2);
    assert_error(with_matrix(m), "invalid_matrix", "matrice_ahp[3][0]");
    let mut m = ok();
    m[0][1] = json!(2); // [1][0] is still 1/3
    assert_error(with_matrix(m), "invalid_matrix", "matrice_ahp[0][1]");
    let mut m = ok();
    m[2][2] = json!(2);
    assert_error(with_matrix(m), "invalid_matrix", "matrice_ahp[2][2]");
    let mut m = ok();
    m[2] = json!([0.25, 0.5, 1]);
    assert_error(with_matrix(m), "invalid_matrix", "matrice_ahp[2]");
    assert_error(
        with_matrix(json!([[1, 2], [0.5, 1]])),
        "invalid_matrix",
        "matrice_ahp",
    );
    assert_error(with_matrix(json!([])), "invalid_matrix", "matrice_ahp");
}

#[test]
fn inconsistent_matrix_is_rejected_with_its_cr() {
    // Proximity ≫ reputation ≫ capacity ≫ proximity: a cycle, CR far above 0.1.
    let m = json!([
        [1, 9, 1, 1],
        [0.1111111111111111, 1, 9, 1],
        [1, 0.1111111111111111, 1, 1],
        [1, 1, 1, 1]
    ]);
    let err = assert_error(with_matrix(m), "inconsistent_weights", "matrice_ahp");
    let RankError::InconsistentWeights { cr, threshold, .. } = err else {
        unreachable!()
    };
    assert!(cr >= 0.1 && threshold == 0.1, "{cr}");
    assert_eq!(err.details()["CR"], cr);
}

#[test]
fn malformed_bodies() {
    let mut body = seed();
    body["livreurs_candidats"][0]["vitesse"] = json!(30);
    let err = assert_error(body, "malformed_request", "livreurs_candidats[0].vitesse");
    assert!(err.to_string().contains("unknown field"), "{err}");
    let mut body = seed();
    body["annonce"]["point_livraison"]["latitude"] = json!("48.87");
    assert_error(
        body,
        "malformed_request",
        "annonce.point_livraison.latitude",
    );
    let mut body = seed();
    body["livreurs_candidats"][1]
        .as_object_mut()
        .expect("object")
        .remove("reputation");
    assert_error(body, "malformed_request", "livreurs_candidats[1]");
    let err = RankRequest::from_json(b"{\"annonce\": ").expect_err("truncated");
    assert_eq!((err.code(), err.field()), ("malformed_request", "annonce"));
}

#[test]
fn invalid_configuration() {
    let body = || RankRequest::from_json(seed().to_string().as_bytes()).expect("seed parses");
    let mut config = RankingConfig::default();
    config.tolerance_km.insert("express".into(), -1.0);
    let err = rank(body(), &config).expect_err("bad config");
    assert_eq!(
        (err.code(), err.field()),
        ("invalid_config", "config.tolerance_km.express")
    );

    let mut config = RankingConfig::default();
    config.ahp_matrix[0][1] = 9.0;
    config.ahp_matrix[1][0] = 1.0 / 9.0;
    config.ahp_matrix[1][2] = 9.0;
    config.ahp_matrix[2][1] = 1.0 / 9.0;
    config.ahp_matrix[0][2] = 1.0 / 9.0;
    config.ahp_matrix[2][0] = 9.0;
    let err = rank(body(), &config).expect_err("inconsistent default matrix");
    assert_eq!(
        (err.code(), err.field()),
        ("invalid_config", "config.ahp_matrix")
    );

    let config: RankingConfig =
        serde_json::from_value(json!({"tolerance_km": {"standard": 8.0}})).expect("partial config");
    assert!(config.validate().is_ok(), "defaults fill the rest");
    let err = rank(body(), &config).expect_err("express not configured any more");
    assert_eq!(
        (err.code(), err.field()),
        ("unknown_delivery_type", "annonce.type_livraison")
    );
}

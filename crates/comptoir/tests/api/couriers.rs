//! Courier ranking over HTTP: `POST /api/v1/livreurs/rank`, `GET /api/v1/livreurs/health`
//! and the `/reco/couriers` page.

use comptoir_kernel::auth::Role;
use reqwest::{Method, StatusCode, header};
use serde_json::{Value, json};

use crate::helpers::{TestApp, assert_error, browser, csrf};

const RANK: &str = "/api/v1/livreurs/rank";

/// The seed's example request.
fn seed_request() -> Value {
    json!({
        "annonce": {
            "annonce_id": "ANN-2024-001",
            "type_livraison": "express",
            "point_ramassage": {"latitude": 48.8566, "longitude": 2.3522},
            "point_livraison": {"latitude": 48.8738, "longitude": 2.2950}
        },
        "livreurs_candidats": [
            {
                "livreur_id": "LIV-001",
                "position_actuelle": {"latitude": 48.8606, "longitude": 2.3376},
                "reputation": 8.5, "capacite_max_kg": 30, "type_vehicule": "moto"
            },
            {
                "livreur_id": "LIV-002",
                "position_actuelle": {"latitude": 48.8556, "longitude": 2.3486},
                "reputation": 9.0, "capacite_max_kg": 50, "type_vehicule": "voiture"
            }
        ]
    })
}

/// The seed's example response (its values are illustrative; only the shape is compared).
fn seed_response() -> Value {
    json!({
        "status": "success",
        "annonce_id": "ANN-2024-001",
        "timestamp": "2024-01-18T14:30:00Z",
        "livreurs_classes": [
            {"rang": 1, "livreur_id": "LIV-002", "score_final": 0.89},
            {"rang": 2, "livreur_id": "LIV-001", "score_final": 0.76}
        ],
        "metadata": {
            "type_livraison": "express",
            "tolerance_spatiale_km": 5.0,
            "statistiques_filtrage": {
                "total_candidats": 2, "candidats_eligibles": 2, "candidats_rejetes": 0
            },
            "poids_ahp": {
                "proximite_geographique": 0.54, "reputation": 0.24, "capacite": 0.13,
                "type_vehicule": 0.09, "CR": 0.05, "est_coherent": true
            },
            "duree_traitement_ms": 23
        }
    })
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Every member of `seed` is in `actual` with the same JSON type, recursively (array items
/// against the seed's first item). `actual` may have more members (documented extensions).
#[track_caller]
fn assert_shape(seed: &Value, actual: &Value, path: &str) {
    assert_eq!(kind(seed), kind(actual), "type of {path}: {actual}");
    match (seed, actual) {
        (Value::Object(s), Value::Object(a)) => {
            for (k, v) in s {
                let at = format!("{path}.{k}");
                let got = a
                    .get(k)
                    .unwrap_or_else(|| panic!("{at} missing in {actual}"));
                assert_shape(v, got, &at);
            }
        }
        (Value::Array(s), Value::Array(a)) => {
            if let Some(first) = s.first() {
                for (i, item) in a.iter().enumerate() {
                    assert_shape(first, item, &format!("{path}[{i}]"));
                }
            }
        }
        _ => {}
    }
}

async fn owner_token(app: &TestApp) -> String {
    let org = app.create_org("Livraisons Express").await;
    app.token_for(org, Role::Owner).await
}

#[tokio::test]
async fn the_seed_example_ranks_with_the_seed_response_shape() {
    let app = TestApp::spawn().await;
    let token = owner_token(&app).await;
    let (s, body) = app.post(RANK, &token, seed_request()).await;
    assert_eq!(s, StatusCode::OK, "{body}");
    assert_shape(&seed_response(), &body, "$");
    assert_eq!(body["status"], "success");
    assert_eq!(body["annonce_id"], "ANN-2024-001");
    assert!(body.get("raison").is_none(), "{body}");
    // The order of the seed: LIV-002 is nearer, better rated and carries more.
    let ranked: Vec<(&str, u64)> = body["livreurs_classes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["livreur_id"].as_str().unwrap(),
                c["rang"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(ranked, [("LIV-002", 1), ("LIV-001", 2)]);
    let scores: Vec<f64> = body["livreurs_classes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["score_final"].as_f64().unwrap())
        .collect();
    assert!(scores[0] > scores[1] && scores.iter().all(|s| (0.0..=1.0).contains(s)));
    let meta = &body["metadata"];
    assert_eq!(meta["type_livraison"], "express");
    assert_eq!(meta["tolerance_spatiale_km"], 5.0);
    let stats = &meta["statistiques_filtrage"];
    assert_eq!(
        (
            &stats["total_candidats"],
            &stats["candidats_eligibles"],
            &stats["candidats_rejetes"]
        ),
        (&json!(2), &json!(2), &json!(0))
    );
    let w = &meta["poids_ahp"];
    let sum: f64 = [
        "proximite_geographique",
        "reputation",
        "capacite",
        "type_vehicule",
    ]
    .iter()
    .map(|k| w[*k].as_f64().unwrap())
    .sum();
    assert!((sum - 1.0).abs() < 1e-9, "{w}");
    assert!(
        w["CR"].as_f64().unwrap() < 0.1 && w["est_coherent"] == true,
        "{w}"
    );
    chrono::DateTime::parse_from_rfc3339(body["timestamp"].as_str().unwrap()).unwrap();
}

#[tokio::test]
async fn the_health_endpoint_is_public_and_ranks_a_canary() {
    let app = TestApp::spawn().await;
    let (s, body) = app
        .call(Method::GET, "/api/v1/livreurs/health", None, None)
        .await;
    assert_eq!(s, StatusCode::OK, "{body}");
    assert_eq!(body["status"], "ok");
    assert_eq!(body["module"], "livreurs_ranking");
    assert_eq!(body["tolerance_spatiale_km"]["express"], 5.0);
    assert_eq!(body["seuil_cr"], 0.1);
    assert!(body["latency_ms"].as_f64().unwrap() >= 0.0);
    // The module is also a component of the application's health.
    let (_, health) = app.call(Method::GET, "/api/v1/health", None, None).await;
    let component = health["components"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "courier ranking")
        .unwrap_or_else(|| panic!("{health}"));
    assert_eq!(component["status"], "ok");
}

#[tokio::test]
async fn ranking_needs_credentials_and_any_role_may_rank() {
    let app = TestApp::spawn().await;
    let (s, body) = app
        .call(Method::POST, RANK, None, Some(seed_request()))
        .await;
    assert_error(s, &body, 401, "unauthenticated");
    let (s, body) = app
        .call(
            Method::POST,
            RANK,
            Some("not-a-token"),
            Some(seed_request()),
        )
        .await;
    assert_error(s, &body, 401, "invalid_token");

    let org = app.create_org("Read Only").await;
    let analyst = app.token_for(org, Role::Analyst).await;
    let (s, body) = app.post(RANK, &analyst, seed_request()).await;
    assert_eq!(s, StatusCode::OK, "{body}");
}

#[tokio::test]
async fn bad_bodies_name_the_offending_field() {
    let app = TestApp::spawn().await;
    let token = owner_token(&app).await;

    let r = app
        .request(Method::POST, RANK, Some(&token))
        .header(header::CONTENT_TYPE, "application/json")
        .body("{\"annonce\": ")
        .send()
        .await
        .unwrap();
    let s = r.status();
    let body: Value = r.json().await.unwrap();
    assert_error(s, &body, 400, "malformed_json");

    let mut req = seed_request();
    req["livreurs_candidats"][1]["reputation"] = json!("excellent");
    let (s, body) = app.post(RANK, &token, req).await;
    assert_error(s, &body, 422, "validation_failed");
    assert_eq!(
        body["details"]["fields"][0]["field"],
        "livreurs_candidats[1].reputation"
    );

    let mut req = seed_request();
    req["livreurs_candidats"][0]["position_actuelle"]["latitude"] = json!(91.0);
    let (s, body) = app.post(RANK, &token, req).await;
    assert_error(s, &body, 422, "validation_failed");
    let d = &body["details"];
    assert_eq!(
        d["fields"][0]["field"],
        "livreurs_candidats[0].position_actuelle.latitude"
    );
    assert_eq!((&d["min"], &d["max"]), (&json!(-90.0), &json!(90.0)));

    let mut req = seed_request();
    req["livreurs_candidats"] = json!([]);
    let (s, body) = app.post(RANK, &token, req).await;
    assert_error(s, &body, 422, "validation_failed");
    assert_eq!(body["details"]["cause"], "no_candidates");
}

#[tokio::test]
async fn an_inconsistent_matrix_is_a_422_with_its_cr() {
    let app = TestApp::spawn().await;
    let token = owner_token(&app).await;
    let mut req = seed_request();
    let t = 1.0 / 9.0;
    req["matrice_ahp"] = json!([
        [1.0, 9.0, t, 9.0],
        [t, 1.0, 9.0, t],
        [9.0, t, 1.0, 9.0],
        [t, 9.0, t, 1.0]
    ]);
    let (s, body) = app.post(RANK, &token, req).await;
    assert_error(s, &body, 422, "inconsistent_weights");
    let d = &body["details"];
    assert!(d["CR"].as_f64().unwrap() >= 0.1, "{body}");
    assert_eq!(d["threshold"], 0.1);
    assert_eq!(d["fields"][0]["field"], "matrice_ahp");

    // A consistent per-request matrix is used instead of the configured one.
    let mut req = seed_request();
    req["matrice_ahp"] = json!([
        [1.0, 1.0, 1.0, 1.0],
        [1.0, 1.0, 1.0, 1.0],
        [1.0, 1.0, 1.0, 1.0],
        [1.0, 1.0, 1.0, 1.0]
    ]);
    let (s, body) = app.post(RANK, &token, req).await;
    assert_eq!(s, StatusCode::OK, "{body}");
    assert_eq!(body["metadata"]["poids_ahp"]["reputation"], 0.25);
}

#[tokio::test]
async fn an_unknown_delivery_type_is_a_422_naming_the_field() {
    let app = TestApp::spawn().await;
    let token = owner_token(&app).await;
    let mut req = seed_request();
    req["annonce"]["type_livraison"] = json!("teleportation");
    let (s, body) = app.post(RANK, &token, req).await;
    assert_error(s, &body, 422, "validation_failed");
    let d = &body["details"];
    assert_eq!(d["fields"][0]["field"], "annonce.type_livraison");
    assert_eq!(d["cause"], "unknown_delivery_type");
    assert_eq!(d["value"], "teleportation");
    assert_eq!(d["known"], json!(["express", "same_day", "standard"]));
}

#[tokio::test]
async fn duplicate_courier_ids_are_refused_with_the_field() {
    let app = TestApp::spawn().await;
    let token = owner_token(&app).await;
    let mut req = seed_request();
    req["livreurs_candidats"][1]["livreur_id"] = json!("LIV-001");
    let (s, body) = app.post(RANK, &token, req).await;
    assert_error(s, &body, 422, "validation_failed");
    let d = &body["details"];
    assert_eq!(d["fields"][0]["field"], "livreurs_candidats[1].livreur_id");
    assert_eq!(d["cause"], "duplicate_courier");
    assert_eq!(
        (&d["livreur_id"], &d["first_index"]),
        (&json!("LIV-001"), &json!(0))
    );
}

#[tokio::test]
async fn nobody_eligible_is_an_empty_ranking_with_its_reason() {
    let app = TestApp::spawn().await;
    let token = owner_token(&app).await;
    let mut req = seed_request();
    // A courier in Lyon and one who cannot carry the parcel.
    req["annonce"]["poids_colis_kg"] = json!(40);
    req["livreurs_candidats"][0]["capacite_max_kg"] = json!(60);
    req["livreurs_candidats"][0]["position_actuelle"] =
        json!({"latitude": 45.7640, "longitude": 4.8357});
    req["livreurs_candidats"][1]["capacite_max_kg"] = json!(10);
    let (s, body) = app.post(RANK, &token, req).await;
    assert_eq!(s, StatusCode::OK, "{body}");
    assert_eq!(body["status"], "success");
    assert_eq!(body["livreurs_classes"], json!([]));
    assert_eq!(body["raison"], "aucun_livreur_eligible");
    let stats = &body["metadata"]["statistiques_filtrage"];
    assert_eq!(stats["candidats_eligibles"], 0);
    assert_eq!(stats["candidats_rejetes"], 2);
    assert_eq!(stats["rejetes_hors_zone"], 1);
    assert_eq!(stats["rejetes_capacite"], 1);
}

#[tokio::test]
async fn the_page_ranks_the_form_and_shows_bad_input() {
    let app = TestApp::spawn().await;
    let org = app.create_org("Coursiers de Paris").await;
    let email = app.create_member(org, Role::Operator).await;
    let r = browser()
        .get(app.url("/reco/couriers"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);

    let (b, r) = app.web_sign_in(&email, "/reco/couriers").await;
    assert_eq!(r.headers()[header::LOCATION], "/reco/couriers");

    // The dashboard links to the page.
    let html = app.page(&b, "/").await;
    // (minijinja escapes `/` in attributes.)
    assert!(
        html.contains("href=\"&#x2f;reco&#x2f;couriers\"")
            && !html.contains("&#x2f;area&#x2f;reco"),
        "{html}"
    );

    let r = b.get(app.url("/reco/couriers")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let html = r.text().await.unwrap();
    assert!(
        html.contains("LIV-001;48.8606;2.3376;8.5;30;moto"),
        "{html}"
    );
    let token = csrf(&html);

    let fields = |couriers: &str, csrf_token: &str| {
        vec![
            ("csrf_token", csrf_token.to_owned()),
            ("annonce_id", "ANN-UI-1".to_owned()),
            ("type_livraison", "express".to_owned()),
            ("pickup_lat", "48.8566".to_owned()),
            ("pickup_lon", "2.3522".to_owned()),
            ("delivery_lat", "48,8738".to_owned()),
            ("delivery_lon", "2.2950".to_owned()),
            ("poids_colis_kg", "3".to_owned()),
            ("couriers", couriers.to_owned()),
        ]
    };
    let couriers = "LIV-001;48.8606;2.3376;8.5;30;moto\n\
                    LIV-002;48.8556;2.3486;9.0;50;voiture\n\
                    LIV-006;48.9362;2.3574;9.8;30;moto\n\
                    LIV-007;48.8580;2.3400;9.1;2;velo";
    let r = b
        .post(app.url("/reco/couriers"))
        .form(&fields(couriers, &token))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let html = r.text().await.unwrap();
    let table = html
        .split("data-testid=\"ranking\"")
        .nth(1)
        .unwrap_or_else(|| panic!("no ranking table: {html}"));
    let (first, second) = (
        table.find("LIV-002").unwrap(),
        table.find("LIV-001").unwrap(),
    );
    assert!(first < second, "LIV-002 ranks first: {table}");
    assert!(html.contains("CR = "), "{html}");
    assert!(
        html.contains("4 candidates, 2 eligible, 2 rejected (1 out of zone, 1 under capacity)"),
        "{html}"
    );

    // Bad input is shown on the page, naming the line.
    let r = b
        .post(app.url("/reco/couriers"))
        .form(&fields(
            "LIV-001;48.8606;2.3376;8.5;30;moto\nLIV-009;oops",
            &token,
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.unwrap();
    assert!(html.contains("data-testid=\"rank-error\""), "{html}");
    assert!(html.contains("couriers, line 2"), "{html}");
    assert!(
        html.contains("LIV-009;oops"),
        "the form keeps what was typed: {html}"
    );

    // Errors of the ranking itself too (here an unknown vehicle on line 2).
    let r = b
        .post(app.url("/reco/couriers"))
        .form(&fields(
            "LIV-001;48.8606;2.3376;8.5;30;moto\nLIV-002;48.8556;2.3486;9.0;50;hoverboard",
            &token,
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.unwrap();
    assert!(
        html.contains("couriers, line 2 type_vehicule") && html.contains("hoverboard"),
        "{html}"
    );

    // Nobody eligible: an empty ranking with its reason.
    let r = b
        .post(app.url("/reco/couriers"))
        .form(&fields("LIV-001;45.7640;4.8357;8.5;30;moto", &token))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.text().await.unwrap().contains("aucun_livreur_eligible"));

    // Without the session's CSRF token nothing is ranked.
    let r = b
        .post(app.url("/reco/couriers"))
        .form(&fields(couriers, "forged"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
}

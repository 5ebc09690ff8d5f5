//! Response shapes for the seed's example request and variants of it, pinned with insta.
//! Volatile values are masked (timestamp, duration) and floats rounded to 9 decimals so
//! that a last-ulp difference in libm cannot break a snapshot.

use comptoir_reco::couriers::{RankRequest, RankResponse, RankingConfig, rank};
use insta::{assert_json_snapshot, rounded_redaction};
use serde_json::{Value, json};

fn seed_request() -> Value {
    serde_json::from_str(include_str!("fixtures/seed_request.json")).expect("seed request")
}

fn ranked(body: &Value) -> RankResponse {
    let request = RankRequest::from_json(body.to_string().as_bytes()).expect("valid JSON");
    rank(request, &RankingConfig::default()).expect("ranks")
}

macro_rules! snapshot {
    ($name:expr, $resp:expr) => {
        assert_json_snapshot!($name, $resp, {
            ".timestamp" => "[timestamp]",
            ".metadata.duree_traitement_ms" => "[duration]",
            ".livreurs_classes[].score_final" => rounded_redaction(9),
            ".metadata.poids_ahp.*" => rounded_redaction(9),
        })
    };
}

/// Every member of the seed's response exists in ours with the same JSON type; ours may
/// only add the documented extensions.
fn assert_same_shape(seed: &Value, ours: &Value, path: &str) {
    const EXTENSIONS: [&str; 3] = ["raison", "rejetes_hors_zone", "rejetes_capacite"];
    match (seed, ours) {
        (Value::Object(s), Value::Object(o)) => {
            for (k, v) in s {
                let child = format!("{path}.{k}");
                let theirs = o.get(k).unwrap_or_else(|| panic!("missing {child}"));
                assert_same_shape(v, theirs, &child);
            }
            for k in o.keys().filter(|k| !s.contains_key(*k)) {
                assert!(
                    EXTENSIONS.contains(&k.as_str()),
                    "undocumented member {path}.{k}"
                );
            }
        }
        (Value::Array(s), Value::Array(o)) => {
            if let Some(first) = s.first() {
                o.iter()
                    .for_each(|item| assert_same_shape(first, item, &format!("{path}[]")));
            }
        }
        (Value::Number(_), Value::Number(_))
        | (Value::String(_), Value::String(_))
        | (Value::Bool(_), Value::Bool(_)) => {}
        _ => panic!("{path}: seed has {seed}, we have {ours}"),
    }
}

#[test]
fn seed_example_has_the_seed_shape() {
    let resp = ranked(&seed_request());
    let seed: Value =
        serde_json::from_str(include_str!("fixtures/seed_response.json")).expect("seed response");
    let ours = serde_json::to_value(&resp).expect("serialisable");
    assert_same_shape(&seed, &ours, "");
    // Same courier order as the seed: LIV-002 is closer, better rated and carries more.
    let ids: Vec<_> = resp
        .livreurs_classes
        .iter()
        .map(|c| c.livreur_id.as_str())
        .collect();
    assert_eq!(ids, ["LIV-002", "LIV-001"]);
    assert!(ours["timestamp"].as_str().expect("string").ends_with('Z'));
    snapshot!("seed_express", resp);
}

#[test]
fn seed_example_as_standard_delivery() {
    let mut body = seed_request();
    body["annonce"]["type_livraison"] = json!("standard");
    let resp = ranked(&body);
    assert_eq!(resp.metadata.tolerance_spatiale_km, 10.0);
    snapshot!("seed_standard", resp);
}

#[test]
fn seed_example_with_heavy_parcel() {
    let mut body = seed_request();
    body["annonce"]["poids_colis_kg"] = json!(40);
    snapshot!("seed_heavy_parcel", ranked(&body));
}

#[test]
fn seed_example_with_matrix_override() {
    let mut body = seed_request();
    // Reputation first this time.
    body["matrice_ahp"] = json!([[1, 0.2, 1, 1], [5, 1, 5, 5], [1, 0.2, 1, 1], [1, 0.2, 1, 1]]);
    let resp = ranked(&body);
    assert!(resp.metadata.poids_ahp.reputation > 0.6);
    snapshot!("seed_matrix_override", resp);
}

#[test]
fn nobody_eligible_shape() {
    let mut body = seed_request();
    body["annonce"]["type_livraison"] = json!("same_day");
    body["livreurs_candidats"][0]["position_actuelle"] =
        json!({"latitude": 48.70, "longitude": 2.10});
    body["livreurs_candidats"][1]["position_actuelle"] =
        json!({"latitude": 49.00, "longitude": 2.60});
    snapshot!("nobody_eligible", ranked(&body));
}

//! Compares AHP weights, λmax, CI, CR and TOPSIS closeness, and whole rankings, with the
//! Python reference `tests/reference/mcdm_reference.py` (built on pymcdm) to 1e-9.
//!
//! Needs the reference venv: `scripts/py-env.sh` creates it and prints its interpreter;
//! `COMPTOIR_PYTHON` overrides the interpreter. Without it the test fails, on purpose.

mod common;

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use chrono::{TimeZone, Utc};
use common::{Rng, VEHICLES, destination, saaty_matrix};
use comptoir_reco::couriers::ahp::{self, PairwiseMatrix};
use comptoir_reco::couriers::model::{Annonce, LivreurCandidat, Position, RankRequest};
use comptoir_reco::couriers::service::{DIRECTIONS, rank_at};
use comptoir_reco::couriers::topsis;
use comptoir_reco::couriers::{RankError, RankingConfig};
use serde_json::{Value, json};

const TOL: f64 = 1e-9;
const MCDM_CASES: usize = 1_000;
const RANKING_CASES: usize = 300;

fn python() -> PathBuf {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let python = std::env::var_os("COMPTOIR_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join(".cache/py/bin/python"));
    assert!(
        python.exists(),
        "reference Python not found at {}: run `scripts/py-env.sh` (creates .cache/py with \
         pymcdm) or set COMPTOIR_PYTHON to an interpreter that has scripts/requirements.txt",
        python.display()
    );
    python
}

fn run_reference(cases: &[Value]) -> Vec<Value> {
    let python = python();
    let script =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/reference/mcdm_reference.py");
    let mut child = Command::new(&python)
        .arg(&script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", python.display()));
    let input = serde_json::to_vec(&json!({ "cases": cases })).expect("serialisable");
    child
        .stdin
        .take()
        .expect("piped stdin")
        .write_all(&input)
        .expect("write cases");
    let out = child.wait_with_output().expect("reference finished");
    assert!(
        out.status.success(),
        "reference script failed ({}):\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    let mut doc: Value = serde_json::from_slice(&out.stdout).expect("reference prints JSON");
    let results = doc["results"].take();
    let results: Vec<Value> = serde_json::from_value(results).expect("results array");
    assert_eq!(results.len(), cases.len(), "one result per case");
    results
}

fn f(v: &Value) -> f64 {
    v.as_f64()
        .unwrap_or_else(|| panic!("expected a number, got {v}"))
}

/// Records a mismatch beyond [`TOL`].
fn check(failures: &mut Vec<String>, case: usize, what: &str, rust: f64, reference: f64) {
    let close = (rust - reference).abs() <= TOL; // false for NaN too
    if !close {
        failures.push(format!(
            "case {case}: {what}: rust {rust} vs reference {reference}"
        ));
    }
}

fn report(failures: &[String]) {
    assert!(
        failures.is_empty(),
        "{} mismatches beyond {TOL}, first ones:\n{}",
        failures.len(),
        failures
            .iter()
            .take(15)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
}

#[test]
fn ahp_and_topsis_match_pymcdm() {
    let mut rng = Rng::new(0x5EED_A11F);
    let mut cases = Vec::with_capacity(MCDM_CASES);
    for i in 0..MCDM_CASES {
        // Mostly the ranking's 4 criteria with a decision matrix; every fourth case checks
        // AHP alone on other sizes.
        let n = if i % 4 == 3 { rng.int(3, 10) } else { 4 };
        let pairwise = saaty_matrix(&mut rng, n, 0.3);
        let matrix: Vec<[f64; 4]> = if n == 4 {
            (0..rng.int(2, 40))
                .map(|_| {
                    [
                        rng.range(0.05, 40.0),
                        rng.range(0.0, 10.0),
                        rng.range(1.0, 300.0),
                        rng.range(0.2, 1.0),
                    ]
                })
                .collect()
        } else {
            Vec::new()
        };
        cases.push(json!({ "kind": "mcdm", "pairwise": pairwise, "matrix": matrix, "types": [-1, 1, 1, 1] }));
    }
    let results = run_reference(&cases);

    let mut failures = Vec::new();
    let (mut consistent, mut inconsistent, mut closeness_checked) = (0, 0, 0);
    for (i, (case, want)) in cases.iter().zip(&results).enumerate() {
        let rows: Vec<Vec<f64>> = serde_json::from_value(case["pairwise"].clone()).expect("rows");
        let m = PairwiseMatrix::parse(&rows, "m").expect("generated matrices are valid");
        let got = ahp::weights(&m, "m").expect("converges");
        for (k, w) in got.weights.iter().enumerate() {
            check(
                &mut failures,
                i,
                &format!("weight {k}"),
                *w,
                f(&want["weights"][k]),
            );
        }
        check(
            &mut failures,
            i,
            "lambda_max",
            got.lambda_max,
            f(&want["lambda_max"]),
        );
        check(&mut failures, i, "CI", got.ci, f(&want["ci"]));
        check(&mut failures, i, "CR (Saaty RI)", got.cr, f(&want["cr"]));
        if got.cr < 0.1 {
            consistent += 1
        } else {
            inconsistent += 1
        }

        let matrix: Vec<[f64; 4]> = serde_json::from_value(case["matrix"].clone()).expect("m");
        if !matrix.is_empty() {
            let w = [
                got.weights[0],
                got.weights[1],
                got.weights[2],
                got.weights[3],
            ];
            let closeness = topsis::closeness(&matrix, &w, &DIRECTIONS);
            let want_c = want["closeness"].as_array().expect("closeness array");
            assert_eq!(closeness.len(), want_c.len());
            for (k, (c, r)) in closeness.iter().zip(want_c).enumerate() {
                check(&mut failures, i, &format!("closeness {k}"), *c, f(r));
                closeness_checked += 1;
            }
        }
    }
    report(&failures);
    // The generator must exercise both sides of the CR threshold and many alternatives.
    assert!(
        consistent > 300 && inconsistent > 50,
        "{consistent} / {inconsistent}"
    );
    assert!(closeness_checked > 10_000, "{closeness_checked}");
}

fn random_ranking(rng: &mut Rng, config: &RankingConfig) -> (RankRequest, Value) {
    let kinds = ["standard", "express", "same_day"];
    let kind = kinds[rng.int(0, 2)];
    // Anywhere on Earth, antimeridian and high latitudes included.
    let (plat, plon) = (rng.range(-85.0, 85.0), rng.range(-180.0, 180.0));
    let (dlat, dlon) = destination(plat, plon, rng.range(0.0, 360.0), rng.range(0.5, 40.0));
    let parcel_kg = (rng.unit() < 0.5).then(|| rng.range(1.0, 60.0));
    let pairwise = saaty_matrix(rng, 4, 0.3);
    let mut couriers = Vec::new();
    let candidats = (0..rng.int(1, 60))
        .map(|i| {
            let (lat, lon) = destination(plat, plon, rng.range(0.0, 360.0), rng.range(0.0, 50.0));
            let vehicle = VEHICLES[rng.int(0, 4)];
            let c = LivreurCandidat {
                livreur_id: format!("L{i}"),
                position_actuelle: Position {
                    latitude: lat,
                    longitude: lon,
                },
                reputation: rng.range(0.0, 10.0),
                capacite_max_kg: rng.range(0.0, 120.0),
                type_vehicule: vehicle.to_owned(),
            };
            couriers.push(json!({
                "id": c.livreur_id, "lat": lat, "lon": lon, "reputation": c.reputation,
                "capacity_kg": c.capacite_max_kg,
                "vehicle_score": config.vehicle_suitability[kind][vehicle],
            }));
            c
        })
        .collect();
    let request = RankRequest {
        annonce: Annonce {
            annonce_id: "A".into(),
            type_livraison: kind.into(),
            point_ramassage: Position {
                latitude: plat,
                longitude: plon,
            },
            point_livraison: Position {
                latitude: dlat,
                longitude: dlon,
            },
            poids_colis_kg: parcel_kg,
        },
        livreurs_candidats: candidats,
        matrice_ahp: Some(pairwise.clone()),
    };
    let case = json!({
        "kind": "ranking", "pairwise": pairwise, "tolerance_km": config.tolerance_km[kind],
        "pickup": [plat, plon], "delivery": [dlat, dlon], "parcel_kg": parcel_kg,
        "couriers": couriers,
    });
    (request, case)
}

#[test]
fn whole_rankings_match_the_reference() {
    let config = RankingConfig::default();
    let mut rng = Rng::new(0x00C0_FFEE);
    let (requests, cases): (Vec<_>, Vec<_>) = (0..RANKING_CASES)
        .map(|_| random_ranking(&mut rng, &config))
        .unzip();
    let results = run_reference(&cases);
    let now = Utc
        .with_ymd_and_hms(2024, 1, 18, 14, 30, 0)
        .single()
        .expect("valid date");

    let mut failures = Vec::new();
    let (mut ranked, mut rejected) = (0, 0);
    for (i, (request, want)) in requests.into_iter().zip(&results).enumerate() {
        match rank_at(request, &config, now) {
            Err(RankError::InconsistentWeights { cr, .. }) => {
                check(
                    &mut failures,
                    i,
                    "CR of a rejected matrix",
                    cr,
                    f(&want["cr"]),
                );
                assert!(
                    f(&want["cr"]) >= 0.1,
                    "case {i}: reference CR {} < 0.1",
                    want["cr"]
                );
            }
            Err(e) => panic!("case {i}: unexpected error {e}"),
            Ok(resp) => {
                let stats = resp.metadata.statistiques_filtrage;
                assert_eq!(
                    stats.rejetes_capacite as u64,
                    want["rejected_capacity"].as_u64().expect("n")
                );
                assert_eq!(
                    stats.rejetes_hors_zone as u64,
                    want["rejected_zone"].as_u64().expect("n")
                );
                let w = resp.metadata.poids_ahp;
                let got_w = [
                    w.proximite_geographique,
                    w.reputation,
                    w.capacite,
                    w.type_vehicule,
                ];
                for (k, x) in got_w.iter().enumerate() {
                    check(
                        &mut failures,
                        i,
                        &format!("weight {k}"),
                        *x,
                        f(&want["weights"][k]),
                    );
                }
                let want_rank = want["ranking"].as_array().expect("ranking");
                assert_eq!(
                    resp.livreurs_classes.len(),
                    want_rank.len(),
                    "case {i}: eligible count"
                );
                for (got, exp) in resp.livreurs_classes.iter().zip(want_rank) {
                    let exp_score = f(&exp["score_final"]);
                    // Ids are compared only where scores are not tied, as ties may order
                    // differently after rounding.
                    check(&mut failures, i, "score", got.score_final, exp_score);
                    let tied = want_rank
                        .iter()
                        .filter(|e| (f(&e["score_final"]) - exp_score).abs() < 1e-9)
                        .count()
                        > 1;
                    if !tied && exp["livreur_id"] != got.livreur_id.as_str() {
                        failures.push(format!(
                            "case {i}: rank {} is {} vs {}",
                            got.rang, got.livreur_id, exp["livreur_id"]
                        ));
                    }
                }
                ranked += usize::from(resp.livreurs_classes.len() >= 2);
                rejected += stats.candidats_rejetes;
            }
        }
    }
    report(&failures);
    assert!(
        ranked > 100 && rejected > 1_000,
        "{ranked} rankings, {rejected} rejections"
    );
}

//! Property tests: the ellipse filter agrees with a brute-force haversine on 100,000 random
//! points (antimeridian and poles included), and arbitrary input never panics.

mod common;

use std::cell::Cell;

use common::destination;
use comptoir_reco::couriers::geo::{EARTH_RADIUS_KM, Ellipse};
use comptoir_reco::couriers::model::{
    Annonce, Coordinates, LivreurCandidat, Position, RankRequest,
};
use comptoir_reco::couriers::{RankingConfig, rank};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

const CASES: u32 = 100;
const POINTS_PER_CASE: usize = 1_000;

/// Haversine written independently of the crate: degrees in, atan2 form, no precomputation.
fn brute_km(a: (f64, f64), b: (f64, f64)) -> f64 {
    let (p1, p2) = (a.0.to_radians(), b.0.to_radians());
    let dp = (b.0 - a.0).to_radians();
    let dl = (b.1 - a.1).to_radians();
    let h = (dp / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dl / 2.0).sin().powi(2);
    let h = h.clamp(0.0, 1.0);
    2.0 * EARTH_RADIUS_KM * h.sqrt().atan2((1.0 - h).sqrt())
}

/// Pickup points: anywhere, hugging the antimeridian, near a pole, or exactly on one.
fn pickup() -> impl Strategy<Value = (f64, f64)> {
    let sign = prop_oneof![Just(1.0), Just(-1.0)];
    prop_oneof![
        (-90.0..=90.0_f64, -180.0..=180.0_f64),
        (-89.0..=89.0_f64, 179.0..=180.0_f64, sign.clone()).prop_map(|(la, lo, s)| (la, lo * s)),
        (85.0..=90.0_f64, -180.0..=180.0_f64, sign.clone()).prop_map(|(la, lo, s)| (la * s, lo)),
        (-180.0..=180.0_f64, sign).prop_map(|(lo, s)| (90.0 * s, lo)),
    ]
}

#[derive(Debug, Clone)]
struct Scenario {
    pickup: (f64, f64),
    delivery: (f64, f64),
    tolerance_km: f64,
    /// (bearing in degrees, distance from pickup in units of the zone's reach)
    couriers: Vec<(f64, f64)>,
}

fn scenario() -> impl Strategy<Value = Scenario> {
    (
        pickup(),
        0.0..360.0_f64,
        prop_oneof![0.0..60.0_f64, 0.0..2_000.0_f64],
        0.0..15.0_f64,
        prop::collection::vec((0.0..360.0_f64, 0.0..1.5_f64), POINTS_PER_CASE),
    )
        .prop_map(|(pickup, bearing, route_km, tolerance_km, couriers)| {
            let delivery = destination(pickup.0, pickup.1, bearing, route_km);
            Scenario {
                pickup,
                delivery,
                tolerance_km,
                couriers,
            }
        })
}

fn coords(p: (f64, f64)) -> Coordinates {
    Coordinates::new(p.0, p.1, "p").expect("generated points are in range")
}

#[test]
fn ellipse_filter_matches_brute_force_haversine() {
    let mut runner = TestRunner::new(Config {
        cases: CASES,
        ..Config::default()
    });
    let (inside, outside, ambiguous, points) =
        (Cell::new(0), Cell::new(0), Cell::new(0), Cell::new(0));
    runner
        .run(&scenario(), |s| {
            let ellipse = Ellipse::new(coords(s.pickup), coords(s.delivery), s.tolerance_km);
            let limit = brute_km(s.pickup, s.delivery) + 2.0 * s.tolerance_km;
            prop_assert!((ellipse.max_sum_km() - limit).abs() < 1e-6);
            for &(bearing, reach) in &s.couriers {
                // Couriers up to 1.5 × the farthest possible eligible distance, so both
                // outcomes are frequent.
                let (lat, lon) = destination(s.pickup.0, s.pickup.1, bearing, reach * limit);
                let c = (lat, lon);
                let check = ellipse.check(coords(c));
                let (dp, dd) = (brute_km(c, s.pickup), brute_km(c, s.delivery));
                prop_assert!(
                    (check.to_pickup_km - dp).abs() < 1e-6,
                    "{c:?}: {} vs {dp}",
                    check.to_pickup_km
                );
                prop_assert!((check.to_delivery_km - dd).abs() < 1e-6);
                points.set(points.get() + 1);
                // Within a micrometre of the boundary the two formulas may round apart.
                if (dp + dd - limit).abs() < 1e-9 {
                    ambiguous.set(ambiguous.get() + 1);
                    continue;
                }
                prop_assert_eq!(check.inside, dp + dd <= limit, "{:?} in {:?}", c, s);
                if check.inside {
                    inside.set(inside.get() + 1)
                } else {
                    outside.set(outside.get() + 1)
                }
            }
            Ok(())
        })
        .expect("filter agrees with brute force");
    assert_eq!(points.get(), CASES as usize * POINTS_PER_CASE);
    assert!(
        inside.get() > 10_000 && outside.get() > 10_000,
        "{} in, {} out",
        inside.get(),
        outside.get()
    );
    assert!(
        ambiguous.get() < 100,
        "{} points on the boundary",
        ambiguous.get()
    );
}

/// Mostly plausible values (so that many requests rank), some out of range, some NaN/inf.
fn any_number() -> impl Strategy<Value = f64> {
    prop_oneof![
        12 => 0.0..10.0_f64,
        1 => -200.0..200.0_f64,
        1 => prop::num::f64::ANY,
    ]
}

fn any_position() -> impl Strategy<Value = Position> {
    (any_number(), any_number()).prop_map(|(latitude, longitude)| Position {
        latitude,
        longitude,
    })
}

fn any_request() -> impl Strategy<Value = RankRequest> {
    let word = |valid: &'static str| {
        prop_oneof![
            18 => Just(valid.to_owned()),
            1 => Just(String::new()),
            1 => "[a-z_]{0,8}",
        ]
    };
    let id = prop_oneof![20 => "[A-Z]{3,5}", 1 => "[A ]{0,1}"];
    let courier = (id, any_position(), any_number(), any_number(), word("moto")).prop_map(
        |(livreur_id, position_actuelle, reputation, capacite_max_kg, type_vehicule)| {
            LivreurCandidat {
                livreur_id,
                position_actuelle,
                reputation,
                capacite_max_kg,
                type_vehicule,
            }
        },
    );
    let matrix = prop::option::weighted(
        0.2,
        prop::collection::vec(prop::collection::vec(any_number(), 0..6), 0..6),
    );
    (
        word("express"),
        any_position(),
        any_position(),
        prop::option::of(any_number()),
        prop::collection::vec(courier, 0..6),
        matrix,
    )
        .prop_map(
            |(kind, from, to, poids_colis_kg, livreurs_candidats, matrice_ahp)| RankRequest {
                annonce: Annonce {
                    annonce_id: "A".into(),
                    type_livraison: kind,
                    point_ramassage: from,
                    point_livraison: to,
                    poids_colis_kg,
                },
                livreurs_candidats,
                matrice_ahp,
            },
        )
}

#[test]
fn arbitrary_requests_never_panic() {
    let mut runner = TestRunner::new(Config {
        cases: 3_000,
        ..Config::default()
    });
    let (ranked, rejected) = (Cell::new(0), Cell::new(0));
    runner
        .run(&any_request(), |request| {
            let total = request.livreurs_candidats.len();
            match rank(request, &RankingConfig::default()) {
                Err(e) => {
                    prop_assert!(!e.code().is_empty() && !e.to_string().is_empty());
                    rejected.set(rejected.get() + 1);
                }
                Ok(resp) => {
                    let stats = resp.metadata.statistiques_filtrage;
                    prop_assert_eq!(stats.total_candidats, total);
                    prop_assert_eq!(stats.candidats_eligibles + stats.candidats_rejetes, total);
                    prop_assert_eq!(resp.livreurs_classes.len(), stats.candidats_eligibles);
                    for (i, c) in resp.livreurs_classes.iter().enumerate() {
                        prop_assert_eq!(c.rang, i + 1);
                        prop_assert!((0.0..=1.0).contains(&c.score_final));
                    }
                    let sorted = resp.livreurs_classes.windows(2);
                    prop_assert!(
                        sorted
                            .into_iter()
                            .all(|w| w[0].score_final >= w[1].score_final)
                    );
                    ranked.set(ranked.get() + 1);
                }
            }
            Ok(())
        })
        .expect("no panic, consistent responses");
    // Both paths must be exercised, or the property says little.
    assert!(
        ranked.get() > 150 && rejected.get() > 150,
        "{} ranked, {} rejected",
        ranked.get(),
        rejected.get()
    );
}

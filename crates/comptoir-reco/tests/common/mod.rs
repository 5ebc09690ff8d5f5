//! Deterministic data generators shared by the integration tests and the benchmark.
#![allow(dead_code)] // each test binary uses a different subset

use comptoir_reco::couriers::model::{Annonce, LivreurCandidat, Position, RankRequest};

/// SplitMix64: tiny, seedable, good enough for test data, and no dependency.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Uniform in [lo, hi).
    pub fn range(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.unit()
    }

    /// Uniform integer in [lo, hi].
    pub fn int(&mut self, lo: usize, hi: usize) -> usize {
        lo + (self.next_u64() % (hi - lo + 1) as u64) as usize
    }
}

/// Saaty's scale 1/9 … 9, as the values a human would type.
pub fn saaty_scale() -> Vec<f64> {
    let mut v: Vec<f64> = (2..=9).rev().map(|d| 1.0 / d as f64).collect();
    v.extend((1..=9).map(|d| d as f64));
    v
}

/// A reciprocal matrix on Saaty's scale derived from random true weights, each judgement
/// rounded to the nearest scale value and, with probability `noise`, off by one step:
/// "consistent-ish", like real questionnaires (some end up above CR 0.1).
pub fn saaty_matrix(rng: &mut Rng, n: usize, noise: f64) -> Vec<Vec<f64>> {
    let scale = saaty_scale();
    let truth: Vec<f64> = (0..n).map(|_| rng.range(0.05, 1.0).powi(2)).collect();
    let mut m = vec![vec![1.0; n]; n];
    for i in 0..n {
        for j in i + 1..n {
            let ratio = (truth[i] / truth[j]).ln();
            let mut idx = (0..scale.len())
                .min_by(|&a, &b| {
                    (scale[a].ln() - ratio)
                        .abs()
                        .total_cmp(&(scale[b].ln() - ratio).abs())
                })
                .expect("non-empty scale");
            if rng.unit() < noise {
                idx = if rng.unit() < 0.5 {
                    idx.saturating_sub(1)
                } else {
                    (idx + 1).min(16)
                };
            }
            m[i][j] = scale[idx];
            m[j][i] = scale[16 - idx];
        }
    }
    m
}

/// The point at `distance_km` from (lat, lon) along `bearing_deg`, on the same sphere as
/// the ranking; longitudes wrapped to [-180, 180].
pub fn destination(lat: f64, lon: f64, bearing_deg: f64, distance_km: f64) -> (f64, f64) {
    let r = 6371.0088;
    let (phi, lambda, theta, delta) = (
        lat.to_radians(),
        lon.to_radians(),
        bearing_deg.to_radians(),
        distance_km / r,
    );
    let phi2 = (phi.sin() * delta.cos() + phi.cos() * delta.sin() * theta.cos()).asin();
    let lambda2 = lambda
        + (theta.sin() * delta.sin() * phi.cos()).atan2(delta.cos() - phi.sin() * phi2.sin());
    let lon2 = (lambda2.to_degrees() + 540.0).rem_euclid(360.0) - 180.0;
    (
        phi2.to_degrees().clamp(-90.0, 90.0),
        lon2.clamp(-180.0, 180.0),
    )
}

pub const VEHICLES: [&str; 5] = ["velo", "scooter", "moto", "voiture", "camionnette"];

/// A request with `n` couriers scattered within ~30 km of a pickup in the Paris area.
pub fn paris_request(rng: &mut Rng, n: usize, kind: &str) -> RankRequest {
    let (plat, plon) = (48.8566, 2.3522);
    let (dlat, dlon) = destination(plat, plon, rng.range(0.0, 360.0), rng.range(1.0, 15.0));
    let livreurs_candidats = (0..n)
        .map(|i| {
            let (lat, lon) = destination(plat, plon, rng.range(0.0, 360.0), rng.range(0.0, 30.0));
            LivreurCandidat {
                livreur_id: format!("LIV-{i:05}"),
                position_actuelle: Position {
                    latitude: lat,
                    longitude: lon,
                },
                reputation: (rng.range(0.0, 10.0) * 10.0).round() / 10.0,
                capacite_max_kg: rng.int(5, 500) as f64,
                type_vehicule: VEHICLES[rng.int(0, 4)].to_owned(),
            }
        })
        .collect();
    RankRequest {
        annonce: Annonce {
            annonce_id: "ANN-BENCH".into(),
            type_livraison: kind.into(),
            point_ramassage: Position {
                latitude: plat,
                longitude: plon,
            },
            point_livraison: Position {
                latitude: dlat,
                longitude: dlon,
            },
            poids_colis_kg: None,
        },
        livreurs_candidats,
        matrice_ahp: None,
    }
}

//! Courier ranking latency for 10 to 10,000 candidates: p50 and p95 of `rank` over many
//! runs of the same request (a plain timing loop: percentiles are what we report, and it
//! avoids a benchmark framework dependency). Run through `bench/ranking.sh`.

#[path = "../tests/common/mod.rs"]
mod common;

use std::hint::black_box;
use std::time::{Duration, Instant};

use common::{Rng, paris_request};
use comptoir_reco::couriers::{RankingConfig, rank};

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let idx = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[idx]
}

fn main() {
    let config = RankingConfig::default();
    let mut rng = Rng::new(42);
    println!("size,runs,eligible,p50_us,p95_us,mean_us");
    for (size, runs) in [(10, 5_000), (100, 2_000), (1_000, 500), (10_000, 100)] {
        let request = paris_request(&mut rng, size, "standard");
        let eligible = rank(request.clone(), &config)
            .expect("benchmark request is valid")
            .metadata
            .statistiques_filtrage
            .candidats_eligibles;
        // Warm-up: caches, allocator, branch predictors.
        for _ in 0..runs / 10 {
            black_box(rank(black_box(request.clone()), &config).ok());
        }
        let mut times = Vec::with_capacity(runs);
        for _ in 0..runs {
            // The clone is outside the timing: the HTTP layer hands over a parsed request.
            let input = request.clone();
            let start = Instant::now();
            let out = rank(black_box(input), &config);
            times.push(start.elapsed());
            black_box(out.ok());
        }
        times.sort();
        let mean = times.iter().sum::<Duration>() / runs as u32;
        let us = |d: Duration| d.as_secs_f64() * 1e6;
        println!(
            "{size},{runs},{eligible},{:.1},{:.1},{:.1}",
            us(percentile(&times, 0.50)),
            us(percentile(&times, 0.95)),
            us(mean)
        );
    }
}

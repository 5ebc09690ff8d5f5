//! Job queue and rate-limit benchmark (`cargo bench -p comptoir --bench queue`, or
//! `bench/queue.sh`): enqueue and processing throughput on SQLite and PostgreSQL with batch
//! sizes 1 and 10, and the latency the rate-limit middleware adds (p50/p99). Prints a
//! Markdown table. PostgreSQL is used when `COMPTOIR_BENCH_PG_URL` (an admin URL) answers.

#![allow(clippy::unwrap_used)] // a benchmark fails loudly

use std::sync::Arc;
use std::time::{Duration, Instant};

use comptoir::app;
use comptoir_kernel::config::{Config, Overrides};
use comptoir_kernel::jobs::worker::{Worker, WorkerConfig};
use comptoir_kernel::jobs::{self, EnqueueOptions, JobRegistry, selftest::SelfTest, store};
use sea_orm::ConnectionTrait;

const JOBS: u32 = 2000;

async fn config(dir: &std::path::Path, db_url: Option<String>) -> Config {
    let mut c = Config::load_from(&Overrides::default(), Vec::<(String, String)>::new())
        .unwrap()
        .config;
    c.data_dir = dir.to_owned();
    c.database_url = db_url.map(Into::into);
    c.jobs.workers_in_serve = false;
    c.jobs.poll_interval_ms = 20;
    c
}

async fn fresh_pg(admin: &str) -> Option<String> {
    let db = sea_orm::Database::connect(admin).await.ok()?;
    let name = format!("comptoir_bench_{}", uuid::Uuid::new_v4().simple());
    db.execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
        .await
        .ok()?;
    let mut url = url::Url::parse(admin).ok()?;
    url.set_path(&format!("/{name}"));
    Some(url.to_string())
}

async fn queue_bench(engine: &str, db_url: Option<String>) -> Vec<String> {
    let dir = tempfile::tempdir().unwrap();
    let built = app::build(config(dir.path(), db_url).await).await.unwrap();
    let state = built.state.clone();
    let mut rows = Vec::new();

    // Enqueue: one transaction per job (what an API handler does).
    let started = Instant::now();
    for n in 0..JOBS {
        let job = SelfTest {
            key: format!("e{n}"),
            sleep_ms: 0,
            fail: false,
        };
        let txn = comptoir_kernel::db::begin_write(&state.db).await.unwrap();
        jobs::enqueue(&txn, None, &job, EnqueueOptions::default())
            .await
            .unwrap();
        sea_orm::TransactionSession::commit(txn).await.unwrap();
    }
    let enqueue_rate = JOBS as f64 / started.elapsed().as_secs_f64();
    rows.push(format!(
        "| {engine} | enqueue, 1 job per transaction | {enqueue_rate:.0} jobs/s |"
    ));

    for batch in [1u64, 10] {
        if batch == 10 {
            for n in 0..JOBS {
                let job = SelfTest {
                    key: format!("b{n}"),
                    sleep_ms: 0,
                    fail: false,
                };
                jobs::enqueue(&state.db, None, &job, EnqueueOptions::default())
                    .await
                    .unwrap();
            }
        }
        let before = store::stats(&state.db).await.unwrap().succeeded;
        let mut wc = WorkerConfig::from_config(&state.config.jobs);
        wc.batch_size = batch;
        let (tx, rx) = tokio::sync::watch::channel(false);
        let worker = Worker::new(state.clone(), Arc::new(JobRegistry::new()), wc);
        let started = Instant::now();
        let handle = tokio::spawn(worker.run(rx));
        loop {
            if store::stats(&state.db).await.unwrap().succeeded >= before + JOBS as u64 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let rate = JOBS as f64 / started.elapsed().as_secs_f64();
        let _ = tx.send(true);
        let _ = handle.await;
        rows.push(format!(
            "| {engine} | process, batch {batch} (1 worker) | {rate:.0} jobs/s |"
        ));
    }
    rows
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

async fn latency(enabled: bool) -> (f64, f64) {
    let dir = tempfile::tempdir().unwrap();
    let mut c = config(dir.path(), None).await;
    c.rate_limits.enabled = enabled;
    c.rate_limits.classes.insert(
        "default".into(),
        comptoir_kernel::ratelimit::Limit::new(1_000_000, 1, 1_000_000),
    );
    let built = app::build(c).await.unwrap();
    let org = comptoir_kernel::tenancy::service::create_org(&built.state.db, "Bench", None)
        .await
        .unwrap();
    let token = built
        .state
        .jwt
        .issue(
            comptoir_kernel::ids::UserId::new(),
            comptoir_kernel::ids::OrgId(org.id),
        )
        .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(app::serve(built, listener, std::future::pending()));
    let client = reqwest::Client::new();
    // An unknown user's token: the limiter runs, then the handler answers 401 quickly, so
    // the difference is the limiter's own cost.
    let url = format!("http://{addr}/api/v1/me");
    let mut samples = Vec::new();
    for i in 0..3000 {
        let t = Instant::now();
        let r = client.get(&url).bearer_auth(&token).send().await.unwrap();
        let _ = r.bytes().await;
        if i >= 300 {
            samples.push(t.elapsed().as_secs_f64() * 1000.0);
        }
    }
    samples.sort_by(f64::total_cmp);
    (percentile(&samples, 0.5), percentile(&samples, 0.99))
}

#[tokio::main]
async fn main() {
    let mut rows = vec![
        "| engine | operation | throughput |".to_owned(),
        "|---|---|---|".to_owned(),
    ];
    rows.extend(queue_bench("SQLite", None).await);
    let admin = std::env::var("COMPTOIR_BENCH_PG_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
    match fresh_pg(&admin).await {
        Some(url) => rows.extend(queue_bench("PostgreSQL", Some(url)).await),
        None => rows.push("| PostgreSQL | (not reachable: skipped) | |".into()),
    }
    println!("{}", rows.join("\n"));
    let (off50, off99) = latency(false).await;
    let (on50, on99) = latency(true).await;
    println!("\n| rate limiter | p50 | p99 |\n|---|---|---|");
    println!("| off | {off50:.3} ms | {off99:.3} ms |");
    println!("| on (in-process GCRA) | {on50:.3} ms | {on99:.3} ms |");
    println!(
        "| added | {:.3} ms | {:.3} ms |",
        on50 - off50,
        on99 - off99
    );
}

//! The queue across real processes: `comptoir worker` killed with SIGKILL in the middle of
//! a batch, and two workers sharing one database. Effects are counted, not attempts.

use std::collections::HashSet;
use std::process::Stdio;
use std::time::Duration;

use comptoir_kernel::entities::{job_selftest_effects as effects, job_selftest_runs as runs, jobs};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use tokio::process::{Child, Command};

use crate::helpers::TestApp;

fn comptoir(app: &TestApp) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_comptoir"));
    cmd.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("COMPTOIR_DATA_DIR", app.data_dir())
        .env("COMPTOIR_DATABASE_URL", app.database_url())
        .env("COMPTOIR_LOG", "warn")
        .env("COMPTOIR_JOBS__BATCH_SIZE", "10")
        .env("COMPTOIR_JOBS__POLL_INTERVAL_MS", "100")
        .env("COMPTOIR_JOBS__VISIBILITY_TIMEOUT_SECS", "2")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .kill_on_drop(true);
    cmd
}

async fn selftest(app: &TestApp, count: u32, prefix: &str, sleep_ms: u64) {
    let out = comptoir(app)
        .args([
            "jobs",
            "selftest",
            "--count",
            &count.to_string(),
            "--prefix",
            prefix,
            "--sleep-ms",
            &sleep_ms.to_string(),
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output()
        .await
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn worker(app: &TestApp) -> Child {
    comptoir(app)
        .arg("worker")
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

async fn count_effects(app: &TestApp) -> u64 {
    effects::Entity::find().count(&app.state.db).await.unwrap()
}

async fn succeeded(app: &TestApp) -> u64 {
    jobs::Entity::find()
        .filter(jobs::Column::Status.eq("succeeded"))
        // The slices' periodic jobs (outbox, sweeps) run on these workers too.
        .filter(jobs::Column::Kind.eq("kernel.selftest"))
        .count(&app.state.db)
        .await
        .unwrap()
}

async fn wait_until(what: &str, secs: u64, mut done: impl AsyncFnMut() -> bool) {
    for _ in 0..secs * 10 {
        if done().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("timed out waiting for {what}");
}

#[tokio::test]
async fn a_worker_killed_mid_batch_loses_and_doubles_nothing() {
    let app = TestApp::spawn_with(|c| c.jobs.workers_in_serve = false).await;
    selftest(&app, 1000, "crash", 5).await;
    let mut first = worker(&app);
    wait_until("the first worker to get going", 120, async || {
        count_effects(&app).await >= 200
    })
    .await;
    first.kill().await.unwrap(); // SIGKILL: no chance to release its batch
    let stranded = jobs::Entity::find()
        .filter(jobs::Column::Kind.eq("kernel.selftest"))
        .filter(jobs::Column::Status.eq("running"))
        .count(&app.state.db)
        .await
        .unwrap();
    let done_before = succeeded(&app).await;
    assert!(done_before < 1000, "the kill landed before the end");

    let mut second = worker(&app);
    wait_until("every job to succeed", 240, async || {
        succeeded(&app).await == 1000
    })
    .await;
    second.kill().await.unwrap();

    let keys: HashSet<String> = effects::Entity::find()
        .all(&app.state.db)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.key)
        .collect();
    assert_eq!(keys.len(), 1000, "every job took effect exactly once");
    assert!((0..1000).all(|n| keys.contains(&format!("crash-{n}"))));
    assert_eq!(
        jobs::Entity::find()
            .filter(jobs::Column::Kind.eq("kernel.selftest"))
            .count(&app.state.db)
            .await
            .unwrap(),
        1000,
        "no job was duplicated"
    );
    let runs = runs::Entity::find().count(&app.state.db).await.unwrap();
    assert!(runs >= 1000, "{runs} runs");
    eprintln!(
        "stranded by the kill: {stranded} running jobs; {} re-runs after recovery",
        runs - 1000
    );
}

#[tokio::test]
async fn two_workers_never_run_the_same_job() {
    let app = TestApp::spawn_with(|c| c.jobs.workers_in_serve = false).await;
    selftest(&app, 5000, "pair", 0).await;
    let (mut a, mut b) = (worker(&app), worker(&app));
    wait_until("5000 jobs to succeed", 600, async || {
        succeeded(&app).await == 5000
    })
    .await;
    a.kill().await.unwrap();
    b.kill().await.unwrap();
    let all = runs::Entity::find().all(&app.state.db).await.unwrap();
    assert_eq!(all.len(), 5000, "each job ran exactly once");
    let keys: HashSet<&str> = all.iter().map(|r| r.key.as_str()).collect();
    assert_eq!(keys.len(), 5000);
    let workers: HashSet<&str> = all.iter().map(|r| r.worker.as_str()).collect();
    assert_eq!(workers.len(), 2, "both workers took part");
}

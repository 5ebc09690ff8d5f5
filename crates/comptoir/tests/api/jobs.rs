//! The job queue through the API and in-process workers: status, retries, dead letters,
//! replay, unique keys, tenant scoping.

use std::time::Duration;

use comptoir_kernel::auth::Role;
use comptoir_kernel::ids::OrgId;
use comptoir_kernel::jobs::{self, EnqueueOptions, TaskId, selftest::SelfTest};
use reqwest::{Method, StatusCode};
use serde_json::Value;

use crate::helpers::{TestApp, assert_error};

fn fast(config: &mut comptoir_kernel::config::Config) {
    config.jobs.backoff_base_ms = 20;
    config.jobs.poll_interval_ms = 50;
    config.jobs.workers_in_serve = false;
}

async fn enqueue(
    app: &TestApp,
    org: OrgId,
    key: &str,
    fail: bool,
    max_attempts: Option<i32>,
) -> TaskId {
    let job = SelfTest {
        key: key.into(),
        sleep_ms: 0,
        fail,
    };
    jobs::enqueue(
        &app.state.db,
        Some(org),
        &job,
        EnqueueOptions {
            max_attempts,
            ..Default::default()
        },
    )
    .await
    .unwrap()
}

/// Polls a task until its status is one of `want`.
pub async fn wait_for(app: &TestApp, token: &str, id: TaskId, want: &[&str]) -> Value {
    // Generous: the suite runs the model tests beside this one on two cores.
    let deadline = std::time::Instant::now() + Duration::from_secs(90);
    loop {
        let (s, task) = app.get(&format!("/api/v1/tasks/{id}"), token).await;
        assert_eq!(s, StatusCode::OK, "{task}");
        if want.contains(&task["status"].as_str().unwrap()) {
            return task;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "task {id} never reached {want:?}: {task}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn jobs_run_and_report_their_status_to_their_org_only() {
    let app = TestApp::spawn_with(fast).await;
    let (org, other) = (app.create_org("A").await, app.create_org("B").await);
    let token = app.token_for(org, Role::Operator).await;
    let outsider = app.token_for(other, Role::Owner).await;
    let id = enqueue(&app, org, "status-1", false, None).await;
    let (_, queued) = app.get(&format!("/api/v1/tasks/{id}"), &token).await;
    assert_eq!(queued["status"], "queued");
    assert_eq!(queued["kind"], "kernel.selftest");
    let _worker = app.start_worker();
    let done = wait_for(&app, &token, id, &["succeeded"]).await;
    assert_eq!(done["attempts"], 1);
    assert_eq!(done["result"]["key"], "status-1");
    assert!(done["finished_at"].is_string());
    let (s, b) = app.get(&format!("/api/v1/tasks/{id}"), &outsider).await;
    assert_error(s, &b, 404, "not_found");
}

#[tokio::test]
async fn a_job_that_always_fails_becomes_a_dead_letter_and_replay_runs_it_again() {
    let app = TestApp::spawn_with(fast).await;
    let org = app.create_org("A").await;
    let admin = app.token_for(org, Role::Admin).await;
    let analyst = app.token_for(org, Role::Analyst).await;
    let _worker = app.start_worker();
    let id = enqueue(&app, org, "always-fails", true, Some(3)).await;
    let dead = wait_for(&app, &admin, id, &["dead"]).await;
    assert_eq!(dead["attempts"], 3);
    let errors = dead["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 3, "{dead}");
    for (i, e) in errors.iter().enumerate() {
        assert_eq!(e["attempt"], i + 1);
        assert!(
            e["error"]
                .as_str()
                .unwrap()
                .contains(&format!("attempt {}", i + 1)),
            "{e}"
        );
    }
    let (s, list) = app.get("/api/v1/jobs/dead", &admin).await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        list.as_array()
            .unwrap()
            .iter()
            .any(|t| t["task_id"] == id.to_string())
    );
    let (s, b) = app.get("/api/v1/jobs/dead", &analyst).await;
    assert_error(s, &b, 403, "forbidden");
    let (s, b) = app
        .call(
            Method::POST,
            &format!("/api/v1/jobs/dead/{id}/replay"),
            Some(&analyst),
            None,
        )
        .await;
    assert_error(s, &b, 403, "forbidden");

    let (s, r) = app
        .call(
            Method::POST,
            &format!("/api/v1/jobs/dead/{id}/replay"),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(
        (s, r["replayed"].as_u64()),
        (StatusCode::OK, Some(1)),
        "{r}"
    );
    let again = wait_for(&app, &admin, id, &["dead"]).await;
    assert_eq!(
        again["errors"].as_array().unwrap().len(),
        6,
        "replay ran it three more times: {again}"
    );
    let (s, b) = app
        .call(
            Method::POST,
            &format!("/api/v1/jobs/dead/{}/replay", TaskId::new()),
            Some(&admin),
            None,
        )
        .await;
    assert_error(s, &b, 404, "not_found");
}

#[tokio::test]
async fn replay_all_requeues_every_dead_letter_of_the_org() {
    let app = TestApp::spawn_with(fast).await;
    let org = app.create_org("A").await;
    let admin = app.token_for(org, Role::Admin).await;
    let ids = [
        enqueue(&app, org, "d1", true, Some(1)).await,
        enqueue(&app, org, "d2", true, Some(1)).await,
    ];
    {
        let _worker = app.start_worker();
        for id in ids {
            wait_for(&app, &admin, id, &["dead"]).await;
        }
    }
    let (s, r) = app
        .call(Method::POST, "/api/v1/jobs/dead/replay", Some(&admin), None)
        .await;
    assert_eq!(
        (s, r["replayed"].as_u64()),
        (StatusCode::OK, Some(2)),
        "{r}"
    );
    for id in ids {
        let (_, t) = app.get(&format!("/api/v1/tasks/{id}"), &admin).await;
        assert_eq!(t["status"], "queued");
        assert_eq!(t["attempts"], 0);
    }
}

#[tokio::test]
async fn unique_keys_enqueue_once_and_scheduled_jobs_wait() {
    let app = TestApp::spawn_with(fast).await;
    let org = app.create_org("A").await;
    let token = app.token_for(org, Role::Owner).await;
    let job = SelfTest {
        key: "once".into(),
        sleep_ms: 0,
        fail: false,
    };
    let opts = || EnqueueOptions {
        unique_key: Some("import:42".into()),
        ..Default::default()
    };
    let a = jobs::enqueue(&app.state.db, Some(org), &job, opts())
        .await
        .unwrap();
    let b = jobs::enqueue(&app.state.db, Some(org), &job, opts())
        .await
        .unwrap();
    assert_eq!(a, b);
    let later = jobs::store::now_ms() + 3_600_000;
    let scheduled = jobs::enqueue(
        &app.state.db,
        Some(org),
        &SelfTest {
            key: "later".into(),
            sleep_ms: 0,
            fail: false,
        },
        EnqueueOptions {
            run_at_ms: Some(later),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let _worker = app.start_worker();
    wait_for(&app, &token, a, &["succeeded"]).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (_, t) = app.get(&format!("/api/v1/tasks/{scheduled}"), &token).await;
    assert_eq!(
        t["status"], "queued",
        "a job scheduled in an hour does not run now"
    );
    // Counted by kind: the slices' periodic jobs (outbox, sweeps) run on this worker too.
    use comptoir_kernel::entities::jobs as job_rows;
    use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
    let selftests = job_rows::Entity::find()
        .filter(job_rows::Column::Kind.eq("kernel.selftest"))
        .filter(job_rows::Column::Status.eq("succeeded"))
        .count(&app.state.db)
        .await
        .unwrap();
    assert_eq!(selftests, 1, "the duplicate was never enqueued");
}

#[tokio::test]
async fn a_stopping_worker_finishes_short_jobs_and_releases_long_ones() {
    let app = TestApp::spawn_with(|c| {
        fast(c);
        c.jobs.shutdown_grace_secs = 1;
    })
    .await;
    let org = app.create_org("A").await;
    let token = app.token_for(org, Role::Owner).await;
    let short = jobs::enqueue(
        &app.state.db,
        Some(org),
        &SelfTest {
            key: "short".into(),
            sleep_ms: 300,
            fail: false,
        },
        EnqueueOptions::default(),
    )
    .await
    .unwrap();
    let long = jobs::enqueue(
        &app.state.db,
        Some(org),
        &SelfTest {
            key: "long".into(),
            sleep_ms: 30_000,
            fail: false,
        },
        EnqueueOptions::default(),
    )
    .await
    .unwrap();
    let stop = app.start_worker();
    wait_for(&app, &token, long, &["running"]).await;
    stop.send(true).unwrap();
    wait_for(&app, &token, short, &["succeeded"]).await;
    let released = wait_for(&app, &token, long, &["queued"]).await;
    assert_eq!(
        released["attempts"], 0,
        "a released job does not lose an attempt: {released}"
    );
    assert!(released["errors"].as_array().unwrap().is_empty());
}

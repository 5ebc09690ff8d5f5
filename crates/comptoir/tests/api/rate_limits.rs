//! Rate limits in one process (governor) and shared by two processes through Redis.

use std::process::Stdio;

use comptoir_kernel::auth::Role;
use comptoir_kernel::ratelimit::Limit;
use reqwest::StatusCode;
use tokio::process::{Child, Command};

use crate::helpers::{TestApp, assert_error};

#[tokio::test]
async fn limits_apply_per_subject_with_headers_and_retry_after() {
    let app = TestApp::spawn_with(|c| {
        c.rate_limits.enabled = true;
        c.rate_limits
            .classes
            .insert("default".into(), Limit::new(6, 60, 3));
        c.rate_limits
            .classes
            .insert("auth".into(), Limit::new(60, 60, 4));
    })
    .await;
    let org = app.create_org("A").await;
    let (alice, bob) = (
        app.token_for(org, Role::Owner).await,
        app.token_for(org, Role::Analyst).await,
    );
    let mut remaining = Vec::new();
    for _ in 0..3 {
        let r = app
            .client
            .get(app.url("/api/v1/me"))
            .bearer_auth(&alice)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(r.headers()["ratelimit-limit"], "3");
        remaining.push(
            r.headers()["ratelimit-remaining"]
                .to_str()
                .unwrap()
                .parse::<u32>()
                .unwrap(),
        );
    }
    assert_eq!(remaining, vec![2, 1, 0]);
    let r = app
        .client
        .get(app.url("/api/v1/me"))
        .bearer_auth(&alice)
        .send()
        .await
        .unwrap();
    let retry: u64 = r.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        (1..=10).contains(&retry),
        "one request every 10 s: retry in {retry}"
    );
    let (s, b) = (r.status(), r.json().await.unwrap());
    assert_error(s, &b, 429, "rate_limited");
    assert_eq!(b["details"]["class"], "default");
    // Another user has their own budget; health checks are never limited.
    assert_eq!(app.get("/api/v1/me", &bob).await.0, StatusCode::OK);
    for _ in 0..10 {
        assert_eq!(
            app.client
                .get(app.url("/api/v1/health/live"))
                .send()
                .await
                .unwrap()
                .status(),
            StatusCode::OK
        );
    }
    // Sign-in attempts are limited per IP (two logins happened above).
    let mut codes = Vec::new();
    for _ in 0..4 {
        let r = app
            .client
            .post(app.url("/api/v1/auth/login"))
            .json(&serde_json::json!({"email": "x@example.com", "password": "nope nope"}))
            .send()
            .await
            .unwrap();
        codes.push(r.status().as_u16());
    }
    assert_eq!(codes, vec![401, 401, 429, 429]);
}

fn serve(app: &TestApp, redis: Option<&str>, prefix: &str) -> Child {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_comptoir"));
    cmd.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("COMPTOIR_DATA_DIR", app.data_dir())
        .env("COMPTOIR_DATABASE_URL", app.database_url())
        .env("COMPTOIR_LOG", "warn")
        .env("COMPTOIR_JOBS__WORKERS_IN_SERVE", "false")
        .env("COMPTOIR_RATE_LIMITS__CLASSES__ANONYMOUS__PER_PERIOD", "10")
        .env(
            "COMPTOIR_RATE_LIMITS__CLASSES__ANONYMOUS__PERIOD_SECS",
            "600",
        )
        .env("COMPTOIR_RATE_LIMITS__CLASSES__ANONYMOUS__BURST", "10")
        .env("COMPTOIR_REDIS_KEY_PREFIX", prefix)
        .args(["serve", "--listen", "127.0.0.1:0"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true);
    if let Some(url) = redis {
        cmd.env("COMPTOIR_REDIS_URL", url);
    }
    cmd.spawn().unwrap()
}

async fn address(child: &mut Child) -> String {
    crate::helpers::serve_address(child).await
}

/// Alternates 30 anonymous requests between two servers; returns how many were let through.
async fn alternate(redis: Option<&str>) -> usize {
    let app = TestApp::spawn().await;
    let prefix = format!("comptoir-test-{}:", uuid::Uuid::new_v4().simple());
    let (mut a, mut b) = (serve(&app, redis, &prefix), serve(&app, redis, &prefix));
    let urls = [address(&mut a).await, address(&mut b).await];
    let client = reqwest::Client::new();
    let mut passed = 0;
    for i in 0..30 {
        let r = client
            .get(format!("{}/api/v1/me", urls[i % 2]))
            .send()
            .await
            .unwrap();
        match r.status() {
            StatusCode::UNAUTHORIZED => passed += 1,
            StatusCode::TOO_MANY_REQUESTS => {}
            other => panic!("unexpected {other}"),
        }
    }
    passed
}

#[tokio::test]
async fn two_processes_sharing_redis_enforce_one_limit() {
    let redis = std::env::var("COMPTOIR_TEST_REDIS_URL")
        .unwrap_or_else(|_| "redis://127.0.0.1:6379/0".into());
    let shared = alternate(Some(&redis)).await;
    assert_eq!(shared, 10, "one limit of 10 across both processes");
    // Without Redis each process has its own budget: the same client gets twice as much.
    let separate = alternate(None).await;
    assert_eq!(separate, 20);
}

//! `/metrics` parses as Prometheus exposition and its counters move.

use comptoir_kernel::auth::Role;
use comptoir_kernel::jobs::{self, EnqueueOptions, selftest::SelfTest};
use reqwest::Method;

use crate::helpers::TestApp;
use crate::jobs::wait_for;

async fn scrape(app: &TestApp) -> prometheus_parse::Scrape {
    let r = app.client.get(app.url("/metrics")).send().await.unwrap();
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain; version=0.0.4")
    );
    let text = r.text().await.unwrap();
    let lines = text.lines().map(|l| Ok(l.to_owned()));
    prometheus_parse::Scrape::parse(lines).expect("valid Prometheus exposition")
}

fn sample(scrape: &prometheus_parse::Scrape, name: &str, labels: &[(&str, &str)]) -> f64 {
    scrape
        .samples
        .iter()
        .filter(|s| s.metric == name && labels.iter().all(|(k, v)| s.labels.get(k) == Some(v)))
        .map(|s| match s.value {
            prometheus_parse::Value::Counter(v)
            | prometheus_parse::Value::Gauge(v)
            | prometheus_parse::Value::Untyped(v) => v,
            _ => 0.0,
        })
        .sum()
}

#[tokio::test]
async fn metrics_parse_and_move() {
    let app = TestApp::spawn_with(|c| {
        c.jobs.poll_interval_ms = 50;
        c.jobs.backoff_base_ms = 10;
        c.rate_limits.enabled = true;
        c.rate_limits.classes.insert(
            "anonymous".into(),
            comptoir_kernel::ratelimit::Limit::new(2, 3600, 2),
        );
    })
    .await;
    let org = app.create_org("A").await;
    let token = app.token_for(org, Role::Owner).await;
    let before = scrape(&app).await;
    let route = [
        ("route", "/api/v1/me"),
        ("method", "GET"),
        ("status", "200"),
    ];
    let me_before = sample(&before, "comptoir_http_requests_total", &route);
    for _ in 0..3 {
        app.get("/api/v1/me", &token).await;
    }
    // Anonymous calls: two pass (401), the rest are limited (429).
    for _ in 0..4 {
        let _ = app.call(Method::GET, "/api/v1/me", None, None).await;
    }
    let job = SelfTest {
        key: "m".into(),
        sleep_ms: 0,
        fail: false,
    };
    let id = jobs::enqueue(&app.state.db, Some(org), &job, EnqueueOptions::default())
        .await
        .unwrap();
    let failing = SelfTest {
        key: "f".into(),
        sleep_ms: 0,
        fail: true,
    };
    let dead = jobs::enqueue(
        &app.state.db,
        Some(org),
        &failing,
        EnqueueOptions {
            max_attempts: Some(1),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let _worker = app.start_worker();
    wait_for(&app, &token, id, &["succeeded"]).await;
    wait_for(&app, &token, dead, &["dead"]).await;

    let after = scrape(&app).await;
    assert_eq!(
        sample(&after, "comptoir_http_requests_total", &route) - me_before,
        3.0
    );
    assert!(
        sample(
            &after,
            "comptoir_http_requests_total",
            &[("route", "/api/v1/me"), ("status", "401")]
        ) >= 1.0
    );
    assert!(
        sample(
            &after,
            "comptoir_http_request_duration_seconds_count",
            &[("route", "/api/v1/me")]
        ) >= 4.0
    );
    assert!(
        sample(
            &after,
            "comptoir_jobs_finished_total",
            &[("kind", "kernel.selftest"), ("status", "succeeded")]
        ) >= 1.0
    );
    assert!(
        sample(
            &after,
            "comptoir_jobs_finished_total",
            &[("kind", "kernel.selftest"), ("status", "dead")]
        ) >= 1.0
    );
    assert_eq!(sample(&after, "comptoir_jobs_dead_letters", &[]), 1.0);
    assert!(sample(&after, "comptoir_workers_alive", &[]) >= 1.0);
    assert!(sample(&after, "comptoir_db_pool_connections", &[("state", "size")]) >= 1.0);
    assert!(
        sample(
            &after,
            "comptoir_rate_limit_rejections_total",
            &[("class", "anonymous")]
        ) >= 2.0
    );
    // The limiter looks the org's plan up once, then hits its cache.
    assert!(
        sample(
            &after,
            "comptoir_cache_requests_total",
            &[("cache", "plans"), ("result", "miss")]
        ) >= 1.0
    );
    assert!(
        sample(
            &after,
            "comptoir_cache_requests_total",
            &[("cache", "plans"), ("result", "hit")]
        ) >= 2.0
    );
}

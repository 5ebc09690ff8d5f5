//! Alert rules and the Operations page.

use std::sync::{Arc, Mutex};

use comptoir_kernel::alerts::{AlertMetric, AlertRule, AlertSink, Evaluator};
use comptoir_kernel::auth::Role;
use comptoir_kernel::entities::alerts;
use comptoir_kernel::jobs::{self, EnqueueOptions, selftest::SelfTest};
use reqwest::{StatusCode, header};

use crate::helpers::{PASSWORD, TestApp, csrf};
use crate::jobs::wait_for;

#[derive(Default)]
struct Recorder(Mutex<Vec<String>>);

impl AlertSink for Recorder {
    fn opened(&self, a: &alerts::Model) {
        self.0.lock().unwrap().push(format!("open {}", a.rule));
    }
    fn resolved(&self, a: &alerts::Model) {
        self.0.lock().unwrap().push(format!("resolved {}", a.rule));
    }
}

#[tokio::test]
async fn a_rule_opens_one_alert_and_resolves_it() {
    let app = TestApp::spawn().await;
    let org = app.create_org("A").await;
    let rule = AlertRule {
        name: "backlog".into(),
        metric: AlertMetric::QueueDepth,
        // Well above what the slices' periodic jobs (order outbox, embedding sweep, report
        // schedules) can leave queued when the worker stops.
        above: 5.0,
        window_secs: 60,
        severity: "critical".into(),
    };
    let sink = Arc::new(Recorder::default());
    let mut evaluator = Evaluator::new(vec![rule], sink.clone());
    let mut ids = Vec::new();
    for n in 0..10 {
        let job = SelfTest {
            key: format!("q{n}"),
            sleep_ms: 0,
            fail: false,
        };
        ids.push(
            jobs::enqueue(&app.state.db, Some(org), &job, EnqueueOptions::default())
                .await
                .unwrap(),
        );
    }
    evaluator.evaluate(&app.state.db).await.unwrap();
    evaluator.evaluate(&app.state.db).await.unwrap();
    assert_eq!(
        *sink.0.lock().unwrap(),
        vec!["open backlog"],
        "one alert while the condition lasts"
    );
    let open = comptoir_kernel::alerts::recent(&app.state.db, 10)
        .await
        .unwrap();
    assert_eq!(open.len(), 1);
    assert_eq!(
        (open[0].value, open[0].severity.as_str()),
        (10.0, "critical")
    );

    let token = app.token_for(org, Role::Owner).await;
    {
        let _worker = app.start_worker();
        for id in ids {
            wait_for(&app, &token, id, &["succeeded"]).await;
        }
    }
    evaluator.evaluate(&app.state.db).await.unwrap();
    assert_eq!(
        *sink.0.lock().unwrap(),
        vec!["open backlog", "resolved backlog"]
    );
    assert!(
        comptoir_kernel::alerts::recent(&app.state.db, 10)
            .await
            .unwrap()[0]
            .resolved_at
            .is_some()
    );
}

#[tokio::test]
async fn operations_page_shows_dead_letters_and_replays_them() {
    let app = TestApp::spawn_with(|c| c.jobs.backoff_base_ms = 10).await;
    let org = app.create_org("A").await;
    let admin = app.create_member(org, Role::Admin).await;
    let job = SelfTest {
        key: "boom".into(),
        sleep_ms: 0,
        fail: true,
    };
    let id = jobs::enqueue(
        &app.state.db,
        Some(org),
        &job,
        EnqueueOptions {
            max_attempts: Some(1),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let token = app.login(&admin, PASSWORD).await["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    {
        let _worker = app.start_worker();
        wait_for(&app, &token, id, &["dead"]).await;
    }
    let (b, _) = app.web_sign_in(&admin, "/").await;
    let html = app.page(&b, "/operations").await;
    assert!(
        html.contains("kernel.selftest") && html.contains("failed on purpose"),
        "{html}"
    );
    assert!(html.contains(&id.to_string()[..8]));
    let r = b
        .post(app.url(&format!("/operations/dead/{id}/replay")))
        .form(&[("csrf_token", csrf(&html))])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()[header::LOCATION], "/operations?replayed=1");
    let (_, t) = app.get(&format!("/api/v1/tasks/{id}"), &token).await;
    assert_eq!(t["status"], "queued");

    // Operators have no access to the page.
    let operator = app.create_member(org, Role::Operator).await;
    let (b2, _) = app.web_sign_in(&operator, "/").await;
    assert_eq!(
        b2.get(app.url("/operations"))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::FORBIDDEN
    );
}

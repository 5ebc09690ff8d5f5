use reqwest::{Method, StatusCode};

use crate::helpers::TestApp;

#[tokio::test]
async fn live_ready_and_components() {
    let app = TestApp::spawn().await;
    let (s, b) = app
        .call(Method::GET, "/api/v1/health/live", None, None)
        .await;
    assert_eq!((s, b["status"].as_str()), (StatusCode::OK, Some("ok")));
    let (s, b) = app
        .call(Method::GET, "/api/v1/health/ready", None, None)
        .await;
    assert_eq!((s, b["status"].as_str()), (StatusCode::OK, Some("ok")));
    let (s, b) = app.call(Method::GET, "/api/v1/health", None, None).await;
    assert_eq!(s, StatusCode::OK);
    // No model in a fresh data dir: degraded, not down.
    assert_eq!(b["status"], "degraded", "{b}");
    let embeddings = b["components"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "embeddings")
        .unwrap();
    assert_eq!(embeddings["status"], "degraded");
    assert!(
        embeddings["detail"].as_str().unwrap().contains("fallbacks"),
        "{embeddings}"
    );
    let db = b["components"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"].as_str().unwrap().starts_with("database"))
        .unwrap();
    let engine = if app.is_postgres() {
        "database (postgresql)"
    } else {
        "database (sqlite)"
    };
    assert_eq!(db["name"], engine);
    assert_eq!(db["status"], "ok");
    assert!(db["latency_ms"].as_f64().unwrap() >= 0.0);
}

#[tokio::test]
async fn ready_fails_when_the_database_is_gone() {
    let app = TestApp::spawn().await;
    app.state.db.clone().close().await.unwrap();
    let (s, b) = app
        .call(Method::GET, "/api/v1/health/ready", None, None)
        .await;
    assert_eq!(s, StatusCode::SERVICE_UNAVAILABLE, "{b}");
    let (s, b) = app.call(Method::GET, "/api/v1/health", None, None).await;
    assert_eq!(s, StatusCode::SERVICE_UNAVAILABLE);
    let db = b["components"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"].as_str().unwrap().starts_with("database"))
        .unwrap();
    assert_eq!(db["status"], "down");
}

#[tokio::test]
async fn request_ids_are_echoed_or_generated() {
    let app = TestApp::spawn().await;
    let r = app
        .client
        .get(app.url("/api/v1/me"))
        .header("x-request-id", "abc-123")
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["x-request-id"], "abc-123");
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(
        body["correlation_id"], "abc-123",
        "errors carry the request id"
    );
    let r = app
        .client
        .get(app.url("/api/v1/health/live"))
        .header("x-request-id", "bad id\twith<tags>")
        .send()
        .await
        .unwrap();
    let generated = r.headers()["x-request-id"].to_str().unwrap().to_owned();
    assert_eq!(
        generated.len(),
        32,
        "a fresh id replaces an unacceptable one: {generated}"
    );
}

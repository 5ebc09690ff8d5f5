//! Connectors against local servers that speak the protocols: an Odoo JSON-RPC endpoint
//! checking each call against the external API documentation (`common.authenticate` with
//! `[db, login, password, {}]`, `object.execute_kw` with `[db, uid, password, model,
//! method, args]`, `sale.order` `create` with `(0, 0, values)` line commands), and a WMS
//! REST endpoint checking the bearer key, the idempotency key and the body, which fails
//! twice with 503 first (the connector retries). Secrets are stored encrypted.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use comptoir_orders::entities::connectors;
use reqwest::Method;
use sea_orm::EntityTrait;
use serde_json::{Value, json};

use crate::helpers::{TestApp, assert_error};
use crate::orders::{order, post_order, settled, shop};

#[derive(Default)]
struct Seen {
    odoo: Vec<Value>,
    wms: Vec<(HeaderMap, Value)>,
    wms_failures_left: u32,
}

type Shared = Arc<Mutex<Seen>>;

/// An Odoo external API: refuses anything that is not a documented call.
async fn odoo(State(seen): State<Shared>, Json(body): Json<Value>) -> Json<Value> {
    let id = body["id"].clone();
    let fail = |msg: &str| {
        Json(
            json!({"jsonrpc": "2.0", "id": id, "error": {"code": 200, "message": msg, "data": {"message": msg}}}),
        )
    };
    if body["jsonrpc"] != "2.0" || body["method"] != "call" {
        return fail("not a JSON-RPC 2.0 call");
    }
    let (service, method, args) = (
        &body["params"]["service"],
        &body["params"]["method"],
        &body["params"]["args"],
    );
    seen.lock().unwrap().odoo.push(body.clone());
    let result = match (service.as_str(), method.as_str()) {
        (Some("common"), Some("authenticate")) => {
            if args != &json!(["shop", "bot", "s3cret", {}]) {
                return fail("authenticate takes [db, login, password, user_agent_env]");
            }
            json!(7)
        }
        (Some("object"), Some("execute_kw")) => {
            if args[0] != "shop" || args[1] != 7 || args[2] != "s3cret" || !args[5].is_array() {
                return fail("execute_kw takes [db, uid, password, model, method, args]");
            }
            match (args[3].as_str(), args[4].as_str()) {
                (Some("res.partner"), Some("search")) => {
                    if args[5][0][0] != json!(["email", "=", "ada@example.com"]) {
                        return fail("partner search domain");
                    }
                    json!([])
                }
                (Some("res.partner"), Some("create")) => {
                    if args[5][0]["email"] != "ada@example.com" || !args[5][0]["name"].is_string() {
                        return fail("partner values");
                    }
                    json!(41)
                }
                (Some("product.product"), Some("search")) => match args[5][0][0][2].as_str() {
                    Some("MUG") => json!([100]),
                    _ => json!([]),
                },
                (Some("sale.order"), Some("create")) => {
                    let vals = &args[5][0];
                    let line = &vals["order_line"][0];
                    let ok = vals["partner_id"] == 41
                        && vals["client_order_ref"].is_string()
                        && line[0] == 0
                        && line[1] == 0
                        && line[2]["product_id"] == 100
                        && line[2]["product_uom_qty"] == 2
                        && line[2]["price_unit"] == 10.0;
                    if !ok {
                        return fail("sale.order values");
                    }
                    json!(555)
                }
                _ => return fail("unexpected model or method"),
            }
        }
        _ => return fail("unknown service"),
    };
    Json(json!({"jsonrpc": "2.0", "id": id, "result": result}))
}

/// A WMS reservation endpoint: 503 twice, then checks and accepts.
async fn wms(
    State(seen): State<Shared>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> (StatusCode, Json<Value>) {
    let mut seen = seen.lock().unwrap();
    if seen.wms_failures_left > 0 {
        seen.wms_failures_left -= 1;
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({"error": "busy"})),
        );
    }
    let authorized =
        headers.get("authorization").and_then(|v| v.to_str().ok()) == Some("Bearer wms-key");
    let keyed =
        headers.get("idempotency-key").and_then(|v| v.to_str().ok()) == body["reference"].as_str();
    if !authorized
        || !keyed
        || body["lines"] != json!([{"sku": "MUG", "quantity": 2}])
        || body["warehouse"] != "WH1"
    {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({"error": "bad request"})),
        );
    }
    seen.wms.push((headers, body));
    (StatusCode::CREATED, Json(json!({"id": "R-1"})))
}

async fn serve(router: axum::Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await });
    format!("http://{addr}")
}

#[tokio::test]
async fn confirmed_orders_reach_odoo_and_the_wms() {
    let app = TestApp::spawn().await;
    let shop = shop(&app, &[("MUG", 10)]).await;
    let seen: Shared = Arc::new(Mutex::new(Seen {
        wms_failures_left: 2,
        ..Default::default()
    }));
    let odoo_url = serve(
        axum::Router::new()
            .route("/jsonrpc", post(odoo))
            .with_state(seen.clone()),
    )
    .await;
    let wms_url = serve(
        axum::Router::new()
            .route("/api/v1/reservations", post(wms))
            .with_state(seen.clone()),
    )
    .await;

    let (s, b) = app
        .call(
            Method::PUT,
            "/api/v1/orders/connectors",
            Some(&shop.token),
            Some(json!({
            "kind": "odoo", "base_url": odoo_url, "secret": "s3cret",
            "settings": {"database": "shop", "username": "bot", "timeout_ms": 2000}})),
        )
        .await;
    assert_eq!(s, reqwest::StatusCode::OK, "{b}");
    assert_eq!(
        (b["secret_set"].clone(), b.get("secret")),
        (json!(true), None)
    );
    let (s, _) = app
        .call(Method::PUT, "/api/v1/orders/connectors", Some(&shop.token), Some(json!({
            "kind": "wms", "base_url": wms_url, "secret": "wms-key", "settings": {"warehouse": "WH1"}})))
        .await;
    assert_eq!(s, reqwest::StatusCode::OK);
    let (s, b) = app
        .call(
            Method::PUT,
            "/api/v1/orders/connectors",
            Some(&shop.token),
            Some(json!({"kind": "wms", "base_url": "ftp://x"})),
        )
        .await;
    assert_error(s, &b, 422, "validation_failed");
    // Encrypted at rest.
    for row in connectors::Entity::find().all(&app.state.db).await.unwrap() {
        let stored = row.secret.unwrap();
        assert!(
            !stored.contains("s3cret") && !stored.contains("wms-key"),
            "{stored}"
        );
    }
    let (_, list) = app.get("/api/v1/orders/connectors", &shop.token).await;
    assert!(!list.to_string().contains("s3cret"));
    assert_eq!(list.as_array().unwrap().len(), 2);

    let _worker = app.start_worker();
    let id = post_order(
        &app,
        &shop.token,
        order(json!([{"sku": "MUG", "quantity": 2}])),
    )
    .await;
    assert_eq!(settled(&app, &shop.token, &id).await["status"], "confirmed");
    for _ in 0..200 {
        let done = {
            let s = seen.lock().unwrap();
            s.wms.len() == 1
                && s.odoo.iter().any(|c| {
                    c["params"]["args"][4] == "create" && c["params"]["args"][3] == "sale.order"
                })
        };
        if done {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let s = seen.lock().unwrap();
    let create = s
        .odoo
        .iter()
        .find(|c| c["params"]["args"][3] == "sale.order")
        .expect("a sale.order was created");
    assert_eq!(
        create["params"]["args"][5][0]["client_order_ref"],
        id.as_str()
    );
    let methods: Vec<String> = s
        .odoo
        .iter()
        .map(|c| {
            format!(
                "{}.{}",
                c["params"]["service"].as_str().unwrap(),
                c["params"]["args"][4]
                    .as_str()
                    .or(c["params"]["method"].as_str())
                    .unwrap()
            )
        })
        .collect();
    assert_eq!(methods[0], "common.authenticate");
    assert_eq!(s.wms.len(), 1, "one reservation after two 503s");
    assert_eq!(s.wms[0].1["reference"], id.as_str());
}

#[tokio::test]
async fn only_owners_and_admins_configure_connectors() {
    let app = TestApp::spawn().await;
    let org = app.create_org("Shop").await;
    let operator = app
        .token_for(org, comptoir_kernel::auth::Role::Operator)
        .await;
    let (s, b) = app
        .call(
            Method::PUT,
            "/api/v1/orders/connectors",
            Some(&operator),
            Some(json!({"kind": "odoo", "base_url": "http://127.0.0.1:9"})),
        )
        .await;
    assert_error(s, &b, 403, "forbidden");
    let (s, b) = app.get("/api/v1/orders/connectors", &operator).await;
    assert_error(s, &b, 403, "forbidden");
}

//! The order pipeline over HTTP: intake (202, validation, idempotency), the worker
//! (confirmation, rejections with their reason, no oversell), every legal path of the
//! state machine with its stock effect, illegal transitions (409 `invalid_transition`),
//! dead letters and replay, filters and pagination, roles and tenant isolation.

use std::time::Duration;

use comptoir_kernel::auth::Role;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{TestApp, assert_error};

pub struct Shop {
    pub org: comptoir_kernel::ids::OrgId,
    pub token: String,
    pub location: String,
}

/// An org with an operator, a warehouse `WH`, and active products priced 10 EUR.
pub async fn shop(app: &TestApp, products: &[(&str, i64)]) -> Shop {
    let org = app.create_org("Shop").await;
    let token = app.token_for(org, Role::Admin).await;
    let (s, loc) = app
        .post(
            "/api/v1/catalog/locations",
            &token,
            json!({"code": "WH", "name": "Warehouse", "kind": "warehouse"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{loc}");
    let location = loc["id"].as_str().unwrap().to_owned();
    for (sku, units) in products {
        add_product(app, &token, &location, sku, *units).await;
    }
    Shop {
        org,
        token,
        location,
    }
}

pub async fn add_product(app: &TestApp, token: &str, location: &str, sku: &str, units: i64) {
    let (s, p) = app
        .post(
            "/api/v1/catalog/products",
            token,
            json!({"sku": sku, "name": sku, "sale_price": "10", "currency": "EUR", "status": "active"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{p}");
    if units > 0 {
        receive(app, token, location, p["id"].as_str().unwrap(), units).await;
    }
}

pub async fn receive(app: &TestApp, token: &str, location: &str, product: &str, units: i64) {
    let (s, r) = app
        .post(
            "/api/v1/catalog/stock/adjustments",
            token,
            json!({"product_id": product, "location_id": location, "kind": "receipt", "quantity": units}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{r}");
}

pub fn order(lines: Value) -> Value {
    json!({
        "customer": {"email": "ada@example.com", "name": "Ada Lovelace",
            "shipping_address": {"line1": "1 rue de la Paix", "city": "Paris", "postal_code": "75002", "country": "FR"}},
        "lines": lines,
        "currency": "EUR",
        "shipping": {"method": "colissimo", "price": "4.90"},
        "delivery_type": "standard",
        "metadata": {"channel": "web"}
    })
}

/// Posts an order and returns its id (asserting the 202 answer).
pub async fn post_order(app: &TestApp, token: &str, body: Value) -> String {
    let (s, b) = app.post("/api/v1/orders", token, body).await;
    assert_eq!(s, StatusCode::ACCEPTED, "{b}");
    assert_eq!(b["status"], "queued");
    let id = b["order_id"].as_str().unwrap().to_owned();
    assert_eq!(b["status_url"], format!("/api/v1/orders/{id}"));
    id
}

/// Waits until the pipeline is done with the order; returns it.
pub async fn settled(app: &TestApp, token: &str, id: &str) -> Value {
    for _ in 0..600 {
        let (s, o) = app.get(&format!("/api/v1/orders/{id}"), token).await;
        assert_eq!(s, StatusCode::OK, "{o}");
        if !["received", "validated", "stock_reserved"].contains(&o["status"].as_str().unwrap()) {
            return o;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("order {id} was not processed in time");
}

async fn act(app: &TestApp, token: &str, id: &str, action: &str) -> (StatusCode, Value) {
    app.call(
        Method::POST,
        &format!("/api/v1/orders/{id}/{action}"),
        Some(token),
        None,
    )
    .await
}

/// (on_hand, reserved) of the SKU's level and the ledger's sums for it.
async fn stock(app: &TestApp, token: &str, sku: &str) -> ((i64, i64), (i64, i64)) {
    let (_, page) = app
        .get(&format!("/api/v1/catalog/products?q={sku}"), token)
        .await;
    let product = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["sku"] == sku)
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (_, levels) = app
        .get(&format!("/api/v1/catalog/products/{product}/stock"), token)
        .await;
    let level = (
        levels[0]["on_hand"].as_i64().unwrap(),
        levels[0]["reserved"].as_i64().unwrap(),
    );
    let (_, moves) = app
        .get(
            &format!("/api/v1/catalog/products/{product}/movements?limit=1000"),
            token,
        )
        .await;
    let moves = moves.as_array().unwrap();
    let sum = |k: &str| moves.iter().map(|m| m[k].as_i64().unwrap()).sum::<i64>();
    (level, (sum("on_hand_delta"), sum("reserved_delta")))
}

fn path(o: &Value) -> Vec<String> {
    o["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["to"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn an_order_is_accepted_then_confirmed_with_its_stock_reserved() {
    let app = TestApp::spawn().await;
    let shop = shop(&app, &[("MUG", 10), ("CUP", 5)]).await;
    let id = post_order(
        &app,
        &shop.token,
        order(json!([{"sku": "MUG", "quantity": 3, "unit_price": "10"}, {"sku": "CUP", "quantity": 2}])),
    )
    .await;
    // Stored before the answer: readable at once, not processed yet (no worker).
    let (s, o) = app.get(&format!("/api/v1/orders/{id}"), &shop.token).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(o["status"], "received");
    assert_eq!(o["lines"].as_array().unwrap().len(), 2);

    let _worker = app.start_worker();
    let o = settled(&app, &shop.token, &id).await;
    assert_eq!(o["status"], "confirmed", "{o}");
    assert_eq!(
        path(&o),
        ["received", "validated", "stock_reserved", "confirmed"]
    );
    assert_eq!(o["history"][1]["actor"], "worker");
    assert_eq!(o["total"], "54.9", "5 × 10 + 4.90 shipping");
    assert_eq!(o["location_id"], shop.location.as_str());
    assert_eq!(o["reservation"]["status"], "held");
    assert_eq!(o["lines"][1]["unit_price"], "10");
    assert!(o["customer_id"].is_string(), "inline customer was created");
    assert_eq!(o["events"][0]["event"], "order.confirmed");
    assert_eq!(stock(&app, &shop.token, "MUG").await.0, (10, 3));
    assert_eq!(stock(&app, &shop.token, "CUP").await.0, (5, 2));

    // The outbox job publishes the event.
    for _ in 0..100 {
        let (_, o) = app.get(&format!("/api/v1/orders/{id}"), &shop.token).await;
        if o["events"][0]["published_at"].is_string() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the outbox event was never published");
}

#[tokio::test]
async fn every_legal_path_moves_the_stock_as_it_should() {
    let app = TestApp::spawn().await;
    let shop = shop(&app, &[("A", 100)]).await;
    let _worker = app.start_worker();
    let new = async || {
        let id = post_order(
            &app,
            &shop.token,
            order(json!([{"sku": "A", "quantity": 2}])),
        )
        .await;
        let o = settled(&app, &shop.token, &id).await;
        assert_eq!(o["status"], "confirmed");
        id
    };
    // confirmed → shipped → delivered: the units leave.
    let a = new().await;
    let (s, o) = act(&app, &shop.token, &a, "ship").await;
    assert_eq!(
        (s, o["reservation"]["status"].clone()),
        (StatusCode::OK, json!("committed"))
    );
    let (s, o) = act(&app, &shop.token, &a, "deliver").await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(
        path(&o),
        [
            "received",
            "validated",
            "stock_reserved",
            "confirmed",
            "shipped",
            "delivered"
        ]
    );
    assert_eq!(o["history"][5]["actor"], "user");
    assert!(o["history"][5]["actor_user_id"].is_string());
    // confirmed → invoiced → shipped → delivered.
    let b = new().await;
    for (action, status) in [
        ("invoice", "invoiced"),
        ("ship", "shipped"),
        ("deliver", "delivered"),
    ] {
        let (s, o) = act(&app, &shop.token, &b, action).await;
        assert_eq!((s, o["status"].as_str().unwrap()), (StatusCode::OK, status));
    }
    // confirmed → cancelled and invoiced → cancelled: the reservation goes back.
    let c = new().await;
    let (s, o) = act(&app, &shop.token, &c, "cancel").await;
    assert_eq!(
        (s, o["reservation"]["status"].clone()),
        (StatusCode::OK, json!("released"))
    );
    let d = new().await;
    act(&app, &shop.token, &d, "invoice").await;
    let (s, o) = app
        .post(
            &format!("/api/v1/orders/{d}/cancel"),
            &shop.token,
            json!({"reason": "customer changed their mind"}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{o}");
    assert_eq!(o["reason"], "customer changed their mind");
    assert_eq!(o["reservation"]["status"], "released");
    // 4 orders × 2: two shipped (4 units left), two released.
    assert_eq!(stock(&app, &shop.token, "A").await, ((96, 0), (96, 0)));
    let (_, o) = app.get(&format!("/api/v1/orders/{d}"), &shop.token).await;
    let events: Vec<&str> = o["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["event"].as_str().unwrap())
        .collect();
    assert_eq!(
        events,
        ["order.confirmed", "order.invoiced", "order.cancelled"]
    );
}

#[tokio::test]
async fn an_order_cancelled_before_processing_stays_cancelled() {
    let app = TestApp::spawn().await;
    let shop = shop(&app, &[("A", 5)]).await;
    let id = post_order(
        &app,
        &shop.token,
        order(json!([{"sku": "A", "quantity": 1}])),
    )
    .await;
    let (s, o) = act(&app, &shop.token, &id, "cancel").await;
    assert_eq!(
        (s, o["status"].clone()),
        (StatusCode::OK, json!("cancelled"))
    );
    let _worker = app.start_worker();
    // The job runs and leaves it alone.
    for _ in 0..100 {
        let (_, t) = app
            .get(
                &format!("/api/v1/tasks/{}", o["task_id"].as_str().unwrap()),
                &shop.token,
            )
            .await;
        if t["status"] == "succeeded" {
            assert_eq!(t["result"]["status"], "cancelled");
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (_, o) = app.get(&format!("/api/v1/orders/{id}"), &shop.token).await;
    assert_eq!(path(&o), ["received", "cancelled"]);
    assert_eq!(stock(&app, &shop.token, "A").await.0, (5, 0));
}

#[tokio::test]
async fn illegal_transitions_are_refused_with_409_invalid_transition() {
    let app = TestApp::spawn().await;
    let shop = shop(&app, &[("A", 10)]).await;
    let received = post_order(
        &app,
        &shop.token,
        order(json!([{"sku": "A", "quantity": 1}])),
    )
    .await;
    for action in ["ship", "deliver", "invoice"] {
        let (s, b) = act(&app, &shop.token, &received, action).await;
        assert_error(s, &b, 409, "invalid_transition");
        assert_eq!(b["details"]["from"], "received");
    }
    let _worker = app.start_worker();
    let cancelled = post_order(
        &app,
        &shop.token,
        order(json!([{"sku": "A", "quantity": 1}])),
    )
    .await;
    settled(&app, &shop.token, &cancelled).await;
    act(&app, &shop.token, &cancelled, "cancel").await;
    let (s, b) = act(&app, &shop.token, &cancelled, "ship").await;
    assert_error(s, &b, 409, "invalid_transition");
    assert_eq!(
        (b["details"]["from"].clone(), b["details"]["to"].clone()),
        (json!("cancelled"), json!("shipped"))
    );
    let (s, b) = act(&app, &shop.token, &cancelled, "cancel").await;
    assert_error(s, &b, 409, "invalid_transition");

    let delivered = post_order(
        &app,
        &shop.token,
        order(json!([{"sku": "A", "quantity": 1}])),
    )
    .await;
    settled(&app, &shop.token, &delivered).await;
    let (s, _) = act(&app, &shop.token, &delivered, "deliver").await;
    assert_eq!(
        s,
        StatusCode::CONFLICT,
        "confirmed cannot be delivered before shipping"
    );
    act(&app, &shop.token, &delivered, "ship").await;
    act(&app, &shop.token, &delivered, "deliver").await;
    for action in ["cancel", "ship", "invoice"] {
        let (s, b) = act(&app, &shop.token, &delivered, action).await;
        assert_error(s, &b, 409, "invalid_transition");
    }
    // Nothing moved twice: one unit shipped, one held by the first order (confirmed by
    // the worker meanwhile).
    assert_eq!(stock(&app, &shop.token, "A").await, ((9, 1), (9, 1)));
}

#[tokio::test]
async fn business_rules_reject_with_the_reason() {
    let app = TestApp::spawn().await;
    let shop = shop(&app, &[("A", 10)]).await;
    let (s, draft) = app
        .post(
            "/api/v1/catalog/products",
            &shop.token,
            json!({"sku": "DRAFT", "name": "d", "sale_price": "1"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{draft}");
    let (s, usd) = app
        .post("/api/v1/catalog/products", &shop.token, json!({"sku": "USD", "name": "u", "sale_price": "1", "currency": "USD", "status": "active"}))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{usd}");
    let _worker = app.start_worker();
    let by_id = json!({"customer": {"id": uuid::Uuid::now_v7()}, "lines": [{"sku": "A", "quantity": 1}], "currency": "EUR"});
    let cases = [
        (
            order(json!([{"sku": "NOPE", "quantity": 1}])),
            "unknown SKU NOPE",
        ),
        (
            order(json!([{"sku": "DRAFT", "quantity": 1}])),
            "not active",
        ),
        (
            order(json!([{"sku": "USD", "quantity": 1}])),
            "priced in USD",
        ),
        (
            order(json!([{"sku": "A", "quantity": 1, "unit_price": "9.99"}])),
            "costs 10, not 9.99",
        ),
        (
            order(json!([{"sku": "A", "quantity": 11}])),
            "insufficient stock",
        ),
        (by_id, "unknown customer"),
    ];
    for (body, reason) in cases {
        let id = post_order(&app, &shop.token, body).await;
        let o = settled(&app, &shop.token, &id).await;
        assert_eq!(o["status"], "rejected", "{o}");
        assert!(
            o["reason"].as_str().unwrap().contains(reason),
            "{} vs {reason}",
            o["reason"]
        );
        assert_eq!(o["events"][0]["event"], "order.rejected");
        assert!(o["reservation"].is_null());
    }
    assert_eq!(stock(&app, &shop.token, "A").await, ((10, 0), (10, 0)));
}

#[tokio::test]
async fn concurrent_orders_never_oversell() {
    let app = TestApp::spawn().await;
    let shop = shop(&app, &[("RARE", 20)]).await;
    let posts = (0..40).map(|i| {
        let (app, token) = (&app, &shop.token);
        async move {
            post_order(
                app,
                token,
                order(json!([{"sku": "RARE", "quantity": 1 + i % 3}])),
            )
            .await
        }
    });
    let ids = futures::future::join_all(posts).await;
    let _worker = app.start_worker();
    let mut confirmed = 0;
    for id in &ids {
        let o = settled(&app, &shop.token, id).await;
        match o["status"].as_str().unwrap() {
            "confirmed" => confirmed += o["lines"][0]["quantity"].as_i64().unwrap(),
            "rejected" => assert!(
                o["reason"]
                    .as_str()
                    .unwrap()
                    .starts_with("insufficient stock"),
                "{o}"
            ),
            other => panic!("unexpected {other}"),
        }
    }
    assert!(confirmed <= 20, "{confirmed} units confirmed from 20");
    assert!(confirmed >= 18, "the stock was used: {confirmed}");
    let ((on_hand, reserved), ledger) = stock(&app, &shop.token, "RARE").await;
    assert_eq!((on_hand, reserved), (20, confirmed));
    assert_eq!(ledger, (on_hand, reserved));
}

#[tokio::test]
async fn the_same_key_a_hundred_times_at_once_makes_one_order() {
    let app = TestApp::spawn().await;
    let shop = shop(&app, &[("A", 10)]).await;
    let body = order(json!([{"sku": "A", "quantity": 1}]));
    let tasks: Vec<_> = (0..100)
        .map(|_| {
            let rb = app
                .request(Method::POST, "/api/v1/orders", Some(&shop.token))
                .header("Idempotency-Key", "checkout-42")
                .json(&body);
            tokio::spawn(async move {
                let r = rb.send().await.unwrap();
                let replayed = r.headers().contains_key("idempotent-replayed");
                (r.status(), replayed, r.json::<Value>().await.unwrap())
            })
        })
        .collect();
    let mut ids = std::collections::HashSet::new();
    let mut fresh = 0;
    for t in tasks {
        let (s, replayed, b) = t.await.unwrap();
        assert_eq!(s, StatusCode::ACCEPTED, "{b}");
        ids.insert(b["order_id"].as_str().unwrap().to_owned());
        fresh += usize::from(!replayed);
    }
    assert_eq!(ids.len(), 1, "one order for one key");
    assert_eq!(fresh, 1, "one request created it, 99 were replays");
    let (_, page) = app.get("/api/v1/orders", &shop.token).await;
    assert_eq!(page["items"].as_array().unwrap().len(), 1);

    // Same key, different body: 409; another key: a new order.
    let (s, b) = app
        .request(Method::POST, "/api/v1/orders", Some(&shop.token))
        .header("Idempotency-Key", "checkout-42")
        .json(&order(json!([{"sku": "A", "quantity": 2}])))
        .send()
        .await
        .map(|r| (r.status(), r))
        .unwrap();
    let b: Value = b.json().await.unwrap();
    assert_error(s, &b, 409, "idempotency_key_reused");
    let (s, b) = app
        .request(Method::POST, "/api/v1/orders", Some(&shop.token))
        .header("Idempotency-Key", "bad key with spaces")
        .json(&body)
        .send()
        .await
        .map(|r| (r.status(), r))
        .unwrap();
    let b: Value = b.json().await.unwrap();
    assert_error(s, &b, 400, "invalid_parameter");
    // Keys are per organization: another org may use the same one.
    let other = shop_token(&app).await;
    let (s, b) = app
        .request(Method::POST, "/api/v1/orders", Some(&other))
        .header("Idempotency-Key", "checkout-42")
        .json(&body)
        .send()
        .await
        .map(|r| (r.status(), r))
        .unwrap();
    let b: Value = b.json().await.unwrap();
    assert_eq!(s, StatusCode::ACCEPTED);
    assert!(!ids.contains(b["order_id"].as_str().unwrap()));
}

async fn shop_token(app: &TestApp) -> String {
    let org = app.create_org("Other").await;
    app.token_for(org, Role::Operator).await
}

#[tokio::test]
async fn syntax_errors_are_422_with_every_field() {
    let app = TestApp::spawn().await;
    let shop = shop(&app, &[]).await;
    let (s, b) = app
        .post(
            "/api/v1/orders",
            &shop.token,
            json!({"customer": {"email": "not-an-email"}, "lines": [{"sku": "", "quantity": 0}], "currency": "EURO"}),
        )
        .await;
    assert_error(s, &b, 422, "validation_failed");
    let fields: Vec<&str> = b["details"]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["field"].as_str().unwrap())
        .collect();
    assert_eq!(
        fields,
        [
            "customer.email",
            "lines[0].sku",
            "lines[0].quantity",
            "currency"
        ]
    );
    let (s, b) = app
        .post("/api/v1/orders", &shop.token, json!({"customer": {"email": "a@b.fr"}, "lines": [{"sku": "A", "quantity": "many"}], "currency": "EUR"}))
        .await;
    assert_error(s, &b, 422, "validation_failed");
    assert_eq!(b["details"]["fields"][0]["field"], "lines[0].quantity");
    let (_, page) = app.get("/api/v1/orders", &shop.token).await;
    assert_eq!(page["items"], json!([]), "nothing was stored");
}

#[tokio::test]
async fn roles_and_organizations_are_respected() {
    let app = TestApp::spawn().await;
    let shop = shop(&app, &[("A", 10)]).await;
    let id = post_order(
        &app,
        &shop.token,
        order(json!([{"sku": "A", "quantity": 1}])),
    )
    .await;
    let (s, b) = app
        .get(&format!("/api/v1/orders/{id}"), &shop_token(&app).await)
        .await;
    assert_error(s, &b, 404, "not_found");
    let other = shop_token(&app).await;
    let (s, b) = act(&app, &other, &id, "cancel").await;
    assert_error(s, &b, 404, "not_found");
    let (_, page) = app.get("/api/v1/orders", &other).await;
    assert_eq!(page["items"], json!([]));
    // An analyst of the org reads but cannot order nor cancel.
    let analyst = app.token_for(shop.org, Role::Analyst).await;
    let (s, _) = app.get(&format!("/api/v1/orders/{id}"), &analyst).await;
    assert_eq!(s, StatusCode::OK);
    let (s, b) = app
        .post(
            "/api/v1/orders",
            &analyst,
            order(json!([{"sku": "A", "quantity": 1}])),
        )
        .await;
    assert_error(s, &b, 403, "forbidden");
    let (s, b) = act(&app, &analyst, &id, "cancel").await;
    assert_error(s, &b, 403, "forbidden");
    let (_, o) = app.get(&format!("/api/v1/orders/{id}"), &shop.token).await;
    assert_eq!(o["status"], "received");
}

/// Managers see the orders reserved at their stores: a regional manager their region's,
/// a store manager their store's; anything else is 404, on reads and on transitions, in
/// the API, the counts and the pages.
#[tokio::test]
async fn managers_see_the_orders_of_their_region_or_store_only() {
    use crate::retail::scoped_member;
    let app = TestApp::spawn().await;
    let org = app.create_org("Chain").await;
    let token = app.token_for(org, Role::Admin).await;
    let mut ids = std::collections::HashMap::new();
    for (path, key, body) in [
        (
            "/api/v1/retail/regions",
            "north",
            json!({"code": "NORTH", "name": "North"}),
        ),
        (
            "/api/v1/retail/regions",
            "south",
            json!({"code": "SOUTH", "name": "South"}),
        ),
    ] {
        let (s, v) = app.post(path, &token, body).await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
        ids.insert(key, v["id"].as_str().unwrap().to_owned());
    }
    for (key, region, code) in [("n1", "north", "N1"), ("s1", "south", "S1")] {
        let (s, v) = app
            .post(
                "/api/v1/retail/stores",
                &token,
                json!({"region_id": ids[region], "code": code, "name": code}),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
        ids.insert(key, v["id"].as_str().unwrap().to_owned());
    }
    // NORTHMUG only in N1's stock, SOUTHMUG only in S1's: each order is reserved there.
    add_product(&app, &token, &ids["n1"], "NORTHMUG", 5).await;
    add_product(&app, &token, &ids["s1"], "SOUTHMUG", 5).await;
    let north_order = post_order(
        &app,
        &token,
        order(json!([{"sku": "NORTHMUG", "quantity": 1}])),
    )
    .await;
    let south_order = post_order(
        &app,
        &token,
        order(json!([{"sku": "SOUTHMUG", "quantity": 1}])),
    )
    .await;
    let unreserved = post_order(
        &app,
        &token,
        order(json!([{"sku": "NOSUCH", "quantity": 1}])),
    )
    .await;
    let _worker = app.start_worker();
    for (id, location) in [(&north_order, &ids["n1"]), (&south_order, &ids["s1"])] {
        let o = settled(&app, &token, id).await;
        assert_eq!(o["status"], "confirmed", "{o}");
        assert_eq!(o["location_id"], location.as_str(), "{o}");
    }
    assert_eq!(
        settled(&app, &token, &unreserved).await["status"],
        "rejected"
    );

    let (north_email, north) =
        scoped_member(&app, org, Role::RegionalManager, Some(&ids["north"]), None).await;
    let (_, s1_manager) =
        scoped_member(&app, org, Role::StoreManager, None, Some(&ids["s1"])).await;
    let listed = |page: &Value| -> Vec<String> {
        page["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| o["id"].as_str().unwrap().to_owned())
            .collect()
    };
    for (who, mine, theirs) in [
        (&north, &north_order, &south_order),
        (&s1_manager, &south_order, &north_order),
    ] {
        let (s, page) = app.get("/api/v1/orders", who).await;
        assert_eq!(s, StatusCode::OK, "{page}");
        assert_eq!(listed(&page), vec![mine.clone()], "{page}");
        let (_, counts) = app.get("/api/v1/orders/counts", who).await;
        assert_eq!(counts["confirmed"], 1, "{counts}");
        assert_eq!(
            counts["rejected"], 0,
            "unreserved orders are the organization's: {counts}"
        );
        let (s, o) = app.get(&format!("/api/v1/orders/{mine}"), who).await;
        assert_eq!(s, StatusCode::OK, "{o}");
        for path in [
            format!("/api/v1/orders/{theirs}"),
            format!("/api/v1/orders/{unreserved}"),
        ] {
            let (s, b) = app.get(&path, who).await;
            assert_error(s, &b, 404, "not_found");
        }
        let (s, b) = act(&app, who, theirs, "cancel").await;
        assert_error(s, &b, 404, "not_found");
        let (_, o) = app.get(&format!("/api/v1/orders/{theirs}"), &token).await;
        assert_eq!(o["status"], "confirmed", "untouched: {o}");
    }
    // The admin still sees everything (and the cached lists were not shared).
    let (_, page) = app.get("/api/v1/orders", &token).await;
    assert_eq!(listed(&page).len(), 3, "{page}");
    // A manager may act on their own orders.
    let (s, o) = act(&app, &north, &north_order, "cancel").await;
    assert_eq!(s, StatusCode::OK, "{o}");
    assert_eq!(o["status"], "cancelled");

    // The pages apply the same scope.
    let (b, r) = app.web_sign_in(&north_email, "/orders").await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let html = app.page(&b, "/orders").await;
    assert!(
        html.contains(&format!(r#"href="/orders/{north_order}""#)),
        "{html}"
    );
    assert!(
        !html.contains(&format!(r#"href="/orders/{south_order}""#)),
        "{html}"
    );
    let r = b
        .get(app.url(&format!("/orders/{south_order}")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn lists_filter_and_paginate_with_a_cursor() {
    let app = TestApp::spawn().await;
    let shop = shop(&app, &[("A", 3), ("B", 0)]).await;
    let mut ids = Vec::new();
    for i in 0..7 {
        let mut body = order(json!([{"sku": if i % 2 == 0 { "A" } else { "B" }, "quantity": 1}]));
        body["customer"]["email"] = json!(format!("c{}@example.com", i % 3));
        ids.push(post_order(&app, &shop.token, body).await);
    }
    let _worker = app.start_worker();
    for id in &ids {
        settled(&app, &shop.token, id).await;
    }
    let (_, counts) = app.get("/api/v1/orders/counts", &shop.token).await;
    assert_eq!(
        (
            counts["confirmed"].as_i64(),
            counts["rejected"].as_i64(),
            counts["delivered"].as_i64()
        ),
        (Some(3), Some(1 + 3), Some(0))
    );
    let (_, page) = app
        .get("/api/v1/orders?status=confirmed", &shop.token)
        .await;
    assert_eq!(page["items"].as_array().unwrap().len(), 3);
    let (_, page) = app
        .get(
            "/api/v1/orders?status=confirmed,rejected&customer=C0@example.com",
            &shop.token,
        )
        .await;
    assert_eq!(page["items"].as_array().unwrap().len(), 3, "orders 0, 3, 6");
    let (_, page) = app.get("/api/v1/orders?q=c1@", &shop.token).await;
    assert_eq!(page["items"].as_array().unwrap().len(), 2);
    let (_, page) = app.get("/api/v1/orders?q=B", &shop.token).await;
    assert_eq!(page["items"].as_array().unwrap().len(), 3, "by SKU");
    let (_, page) = app
        .get(&format!("/api/v1/orders?q={}", ids[4]), &shop.token)
        .await;
    assert_eq!(page["items"][0]["id"], ids[4].as_str());
    let (_, page) = app
        .get("/api/v1/orders?from=2999-01-01T00:00:00Z", &shop.token)
        .await;
    assert_eq!(page["items"], json!([]));
    // Pages of 3: 3 + 3 + 1, newest first, no repeats.
    let mut seen = Vec::new();
    let mut url = "/api/v1/orders?limit=3".to_owned();
    loop {
        let (s, page) = app.get(&url, &shop.token).await;
        assert_eq!(s, StatusCode::OK, "{page}");
        seen.extend(
            page["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|o| o["id"].as_str().unwrap().to_owned()),
        );
        match page["next_cursor"].as_str() {
            Some(c) => url = format!("/api/v1/orders?limit=3&cursor={c}"),
            None => break,
        }
    }
    let mut expected = ids.clone();
    expected.reverse();
    assert_eq!(seen, expected);
    for bad in ["status=queued", "limit=0", "cursor=nope", "from=yesterday"] {
        let (s, b) = app.get(&format!("/api/v1/orders?{bad}"), &shop.token).await;
        assert_error(s, &b, 400, "invalid_parameter");
    }
}

#[tokio::test]
async fn an_order_failing_every_attempt_is_a_dead_letter_and_its_replay_confirms_it() {
    let app = TestApp::spawn_with(|c| {
        c.orders.on_insufficient_stock = "retry".into();
        c.jobs.backoff_base_ms = 10;
        c.jobs.backoff_max_secs = 1;
        c.jobs.poll_interval_ms = 50;
    })
    .await;
    let shop = shop(&app, &[("A", 1)]).await;
    let _worker = app.start_worker();
    let id = post_order(
        &app,
        &shop.token,
        order(json!([{"sku": "A", "quantity": 3}])),
    )
    .await;
    let o = settled(&app, &shop.token, &id).await;
    assert_eq!(o["status"], "failed", "{o}");
    assert!(o["reason"].as_str().unwrap().contains("insufficient stock"));
    let task = o["task_id"].as_str().unwrap();
    let (_, dead) = app.get("/api/v1/jobs/dead", &shop.token).await;
    let letter = dead
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["task_id"] == task)
        .expect("a dead letter");
    assert_eq!(letter["attempts"], 5);
    assert!(
        letter["error"]
            .as_str()
            .unwrap()
            .contains("insufficient stock")
    );

    // The cause is fixed (stock arrives), the letter replayed: the order goes through.
    let (_, page) = app.get("/api/v1/catalog/products?q=A", &shop.token).await;
    let product = page["items"][0]["id"].as_str().unwrap().to_owned();
    receive(&app, &shop.token, &shop.location, &product, 5).await;
    let (s, b) = app
        .post(
            &format!("/api/v1/jobs/dead/{task}/replay"),
            &shop.token,
            json!({}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    let mut last = Value::Null;
    for _ in 0..100 {
        let (_, o) = app.get(&format!("/api/v1/orders/{id}"), &shop.token).await;
        if o["status"] == "confirmed" {
            last = o;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(last["status"], "confirmed", "{last}");
    assert_eq!(
        path(&last),
        [
            "received",
            "failed",
            "received",
            "validated",
            "stock_reserved",
            "confirmed"
        ]
    );
    assert_eq!(stock(&app, &shop.token, "A").await.0, (6, 3));
}

#[tokio::test]
async fn pages_list_with_counts_show_the_timeline_and_cancel_with_csrf() {
    let app = TestApp::spawn().await;
    let shop = shop(&app, &[("A", 5)]).await;
    let email = app.create_member(shop.org, Role::Operator).await;
    let first = post_order(
        &app,
        &shop.token,
        order(json!([{"sku": "A", "quantity": 1}])),
    )
    .await;
    let second = post_order(
        &app,
        &shop.token,
        order(json!([{"sku": "A", "quantity": 9}])),
    )
    .await;
    let _worker = app.start_worker();
    settled(&app, &shop.token, &first).await;
    settled(&app, &shop.token, &second).await;
    let (b, r) = app.web_sign_in(&email, "/orders").await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);

    let html = app.page(&b, "/orders").await;
    let link = |id: &str| format!(r#"href="/orders/{id}""#);
    assert!(
        html.contains(&link(&first)) && html.contains(&link(&second)),
        "{html}"
    );
    assert!(
        html.contains(r#"<span data-count="confirmed">1</span>"#),
        "{html}"
    );
    assert!(
        html.contains(r#"<span data-count="rejected">1</span>"#),
        "{html}"
    );
    let html = app.page(&b, "/orders?status=rejected").await;
    assert!(html.contains(&link(&second)) && !html.contains(&link(&first)));
    assert!(html.contains("insufficient stock"));
    assert!(
        html.contains(r#"href="/operations""#),
        "links to the dead letters"
    );

    let html = app.page(&b, &format!("/orders/{first}")).await;
    assert!(html.contains(r#"data-testid="timeline""#));
    for step in ["received", "validated", "stock reserved", "confirmed"] {
        assert!(html.contains(step), "{step} missing: {html}");
    }
    assert!(html.contains(r#"data-testid="action-ship""#));
    assert!(
        !html.contains(r#"data-testid="action-deliver""#),
        "only allowed actions"
    );
    let token = crate::helpers::csrf(&html);
    let r = b
        .post(app.url(&format!("/orders/{first}/cancel")))
        .form(&[("csrf_token", "wrong"), ("reason", "x")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN, "CSRF is checked");
    let r = b
        .post(app.url(&format!("/orders/{first}/cancel")))
        .form(&[("csrf_token", token.as_str()), ("reason", "out of time")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let html = app.page(&b, &format!("/orders/{first}")).await;
    assert!(
        html.contains("cancelled") && html.contains("out of time"),
        "{html}"
    );
    assert_eq!(stock(&app, &shop.token, "A").await.0, (5, 0));
}

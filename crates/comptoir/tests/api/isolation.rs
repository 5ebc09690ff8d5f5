//! Tenant isolation: with org A's credentials (a user token and an API key), every endpoint
//! that takes an id answers 404 for org B's resources, and org B's data is left unchanged.
//! The endpoints come from the OpenAPI document, so a new endpoint without a fixture here
//! fails the test until someone adds one.

use std::collections::BTreeMap;

use comptoir_kernel::auth::Role;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{TestApp, assert_error};

#[tokio::test]
async fn org_a_gets_404_for_every_org_b_resource() {
    let app = TestApp::spawn().await;
    let (org_a, org_b) = (app.create_org("Org A").await, app.create_org("Org B").await);
    let a_owner = app.token_for(org_a, Role::Owner).await;
    let (_, a_key) = app.api_key(&a_owner, json!({"name": "a"})).await;
    let b_owner = app.token_for(org_b, Role::Owner).await;
    let (b_key_id, b_key) = app.api_key(&b_owner, json!({"name": "b"})).await;
    let b_member_email = app.create_member(org_b, Role::Operator).await;
    let (_, b_members) = app.get("/api/v1/members", &b_owner).await;
    let b_member = b_members
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["email"] == b_member_email.as_str())
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();

    let b_task = comptoir_kernel::jobs::enqueue(
        &app.state.db,
        Some(org_b),
        &comptoir_kernel::jobs::selftest::SelfTest {
            key: "b".into(),
            sleep_ms: 0,
            fail: true,
        },
        comptoir_kernel::jobs::EnqueueOptions {
            max_attempts: Some(1),
            ..Default::default()
        },
    )
    .await
    .unwrap()
    .to_string();
    // Make it a dead letter, so that a replay by org A would have something to replay.
    {
        use sea_orm::{EntityTrait, sea_query::Expr};
        comptoir_kernel::entities::jobs::Entity::update_many()
            .col_expr(
                comptoir_kernel::entities::jobs::Column::Status,
                Expr::value("dead"),
            )
            .exec(&app.state.db)
            .await
            .unwrap();
    }
    let b_catalog = crate::catalog::CatalogFixture::create(&app, &b_owner).await;
    let b_retail = crate::retail::Chain::create(&app, org_b).await;
    let b_reports = crate::retail_reports::ReportFixtures::create(&app, &b_retail).await;

    // Path template → (org B's id, body to send with PATCH/PUT/POST).
    let mut fixtures: BTreeMap<&str, (String, Value)> = BTreeMap::from([
        ("/api/v1/api-keys/{id}", (b_key_id.clone(), json!({}))),
        (
            "/api/v1/members/{id}",
            (b_member.clone(), json!({"role": "analyst"})),
        ),
        ("/api/v1/tasks/{id}", (b_task.clone(), json!({}))),
        ("/api/v1/jobs/dead/{id}/replay", (b_task.clone(), json!({}))),
    ]);
    fixtures.extend(b_catalog.isolation_fixtures());
    fixtures.extend(reco_fixtures(&app, &b_owner, &b_catalog.product).await);
    let b_order = crate::orders::post_order(
        &app,
        &b_owner,
        crate::orders::order(json!([{"sku": "ANY", "quantity": 1}])),
    )
    .await;
    for path in [
        "/api/v1/orders/{id}",
        "/api/v1/orders/{id}/cancel",
        "/api/v1/orders/{id}/invoice",
        "/api/v1/orders/{id}/ship",
        "/api/v1/orders/{id}/deliver",
    ] {
        fixtures.insert(path, (b_order.clone(), json!({"reason": "org A was here"})));
    }
    fixtures.extend(b_retail.isolation_fixtures());
    fixtures.extend(crate::retail_scenarios::isolation_fixtures(&app, &b_retail).await);
    fixtures.extend(b_reports.isolation_fixtures());

    let (_, spec) = app.call(Method::GET, "/api/openapi.json", None, None).await;
    let mut checked = 0;
    for (template, item) in spec["paths"].as_object().unwrap() {
        if !template.contains('{') {
            continue;
        }
        let (id, body) = fixtures
            .get(template.as_str())
            .unwrap_or_else(|| panic!("no org-B fixture for {template}: add one"));
        let path = template.replace("{id}", id);
        for method in item.as_object().unwrap().keys() {
            let method: Method = method.to_uppercase().parse().unwrap();
            for credential in [&a_owner, &a_key] {
                let body = matches!(method, Method::POST | Method::PUT | Method::PATCH)
                    .then(|| body.clone());
                let (s, b) = app
                    .call(method.clone(), &path, Some(credential), body)
                    .await;
                assert_error(s, &b, 404, "not_found");
                checked += 1;
            }
        }
    }
    assert!(checked >= 8, "only {checked} requests checked");

    // Org B is untouched: its key works, its member keeps its role.
    let (s, _) = app.get("/api/v1/me", &b_key).await;
    assert_eq!(s, StatusCode::OK);
    let (s, m) = app
        .get(&format!("/api/v1/members/{b_member}"), &b_owner)
        .await;
    assert_eq!((s, m["role"].as_str()), (StatusCode::OK, Some("operator")));
    b_catalog.assert_untouched(&app, &b_owner).await;
    b_retail.assert_untouched(&app).await;
    b_reports.assert_untouched(&app).await;
    // And org A's listings show nothing of org B.
    let (_, a_members) = app.get("/api/v1/members", &a_owner).await;
    assert!(!a_members.to_string().contains(&b_member_email));
    let (_, a_keys) = app.get("/api/v1/api-keys", &a_owner).await;
    assert!(!a_keys.to_string().contains(&b_key_id));
    let (_, a_dead) = app.get("/api/v1/jobs/dead", &a_owner).await;
    assert_eq!(a_dead, json!([]), "org B's dead letters are not org A's");
    let (s, b_dead) = app.get("/api/v1/jobs/dead", &b_owner).await;
    assert_eq!(
        (s, b_dead[0]["status"].as_str()),
        (StatusCode::OK, Some("dead")),
        "org B's dead letter was not replayed by org A"
    );
    let (_, a_audit) = app.get("/api/v1/audit", &a_owner).await;
    assert!(!a_audit.to_string().contains(&b_member_email));
    b_catalog.assert_invisible_to(&app, &a_owner).await;
    let (_, o) = app
        .get(&format!("/api/v1/orders/{b_order}"), &b_owner)
        .await;
    // A worker may have processed it (its SKU is unknown: rejected), but org A's cancel,
    // invoice, ship and deliver calls left no mark.
    assert!(
        matches!(o["status"].as_str(), Some("received" | "rejected")),
        "org A did not move org B's order: {o}"
    );
    let (_, a_orders) = app.get("/api/v1/orders", &a_owner).await;
    assert_eq!(a_orders["items"], json!([]));
}

/// Org B's review, review import and reviewed product.
async fn reco_fixtures(
    app: &TestApp,
    b_owner: &str,
    b_product: &str,
) -> BTreeMap<&'static str, (String, Value)> {
    let (s, review) = app
        .post(
            "/api/v1/reviews",
            b_owner,
            json!({"product_id": b_product, "rating": 4, "comment": "Bien"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{review}");
    let resp = app
        .request(Method::POST, "/api/v1/reviews/imports", Some(b_owner))
        .header("content-type", "text/csv")
        .body(format!("product_id,rating,comment\n{b_product},5,Top\n"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::ACCEPTED);
    let import: Value = resp.json().await.unwrap();
    BTreeMap::from([
        (
            "/api/v1/reviews/{id}",
            (review["id"].as_str().unwrap().to_owned(), json!({})),
        ),
        (
            "/api/v1/reviews/products/{id}/stats",
            (b_product.to_owned(), json!({})),
        ),
        (
            "/api/v1/reviews/imports/{id}",
            (import["id"].as_str().unwrap().to_owned(), json!({})),
        ),
    ])
}

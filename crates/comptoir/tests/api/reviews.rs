//! Reviews: create/list/get with roles and tenancy, sentiment computed by the job and
//! stored, per-product aggregates, the CSV import with its row-level report, and
//! `POST /api/v1/sentiment`.

use std::time::Duration;

use comptoir_catalog::demo;
use comptoir_kernel::auth::Role;
use comptoir_kernel::ids::OrgId;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{TestApp, assert_error};

/// Demo catalog in a new org: (org, owner token, products `[{id, name, sku, type}]`).
pub async fn demo_org(app: &TestApp, name: &str) -> (OrgId, String, Vec<Value>) {
    let org = app.create_org(name).await;
    demo::load(&app.state.db, org).await.unwrap();
    let owner = app.token_for(org, Role::Owner).await;
    let (s, page) = app.get("/api/v1/catalog/products?limit=200", &owner).await;
    assert_eq!(s, StatusCode::OK, "{page}");
    (org, owner, page["items"].as_array().unwrap().clone())
}

/// Polls until `path`'s JSON satisfies `done`.
pub async fn wait_until(
    app: &TestApp,
    token: &str,
    path: &str,
    done: impl Fn(&Value) -> bool,
) -> Value {
    for _ in 0..600 {
        let (s, v) = app.get(path, token).await;
        assert_eq!(s, StatusCode::OK, "{v}");
        if done(&v) {
            return v;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{path} never reached the expected state");
}

#[tokio::test]
async fn reviews_are_stored_scored_and_aggregated_within_their_org() {
    let app = TestApp::spawn().await;
    let (_, owner, products) = demo_org(&app, "Reviews A").await;
    let (org_b, b_owner, b_products) = demo_org(&app, "Reviews B").await;
    let product = products[0]["id"].as_str().unwrap().to_owned();

    let (s, review) = app
        .post(
            "/api/v1/reviews",
            &owner,
            json!({"product_id": product, "rating": 5, "comment": "Excellent, très fiable !",
                   "customer_ref": "C-1", "helpful_votes": 4}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{review}");
    assert_eq!(review["language"], "fr");
    assert_eq!(review["sentiment"], Value::Null, "scored by the job, later");
    let id = review["id"].as_str().unwrap().to_owned();

    // Roles: an analyst reads but may not write.
    let analyst = app.token_for(org_b, Role::Analyst).await;
    let (s, b) = app
        .post(
            "/api/v1/reviews",
            &analyst,
            json!({"product_id": b_products[0]["id"], "rating": 3, "comment": "ok"}),
        )
        .await;
    assert_error(s, &b, 403, "forbidden");
    // Validation names the field.
    for (body, field) in [
        (
            json!({"product_id": product, "rating": 6, "comment": "x"}),
            "rating",
        ),
        (
            json!({"product_id": product, "rating": 0, "comment": "x"}),
            "rating",
        ),
        (
            json!({"product_id": product, "rating": 3, "comment": "  "}),
            "comment",
        ),
        (
            json!({"product_id": product, "rating": 3, "comment": "x", "language": "fra"}),
            "language",
        ),
        // Another organization's product does not exist here.
        (
            json!({"product_id": b_products[0]["id"], "rating": 3, "comment": "x"}),
            "product_id",
        ),
    ] {
        let (s, b) = app.post("/api/v1/reviews", &owner, body).await;
        assert_error(s, &b, 422, "validation_failed");
        assert_eq!(b["details"]["fields"][0]["field"], field, "{b}");
    }

    let _worker = app.start_worker();
    let scored = wait_until(&app, &owner, &format!("/api/v1/reviews/{id}"), |r| {
        !r["sentiment"].is_null()
    })
    .await;
    let s = &scored["sentiment"];
    assert!((-1.0..=1.0).contains(&s["score"].as_f64().unwrap()), "{s}");
    assert!(["negative", "neutral", "positive"].contains(&s["label"].as_str().unwrap()));
    assert!((0.0..=1.0).contains(&s["confidence"].as_f64().unwrap()));

    let stats = wait_until(
        &app,
        &owner,
        &format!("/api/v1/reviews/products/{product}/stats"),
        |v| v["review_count"] == 1 && v["scored_count"] == 1,
    )
    .await;
    assert_eq!(stats["rating_mean"], 5.0);
    let reputation = stats["reputation"].as_f64().unwrap();
    assert!(reputation > 0.5 && reputation <= 1.0, "{stats}");
    // An unreviewed product is neutral.
    let (_, other) = app
        .get(
            &format!(
                "/api/v1/reviews/products/{}/stats",
                products[1]["id"].as_str().unwrap()
            ),
            &owner,
        )
        .await;
    assert_eq!(
        (other["review_count"].as_i64(), other["reputation"].as_f64()),
        (Some(0), Some(0.5))
    );

    // Listing by product, and tenancy of reads.
    let (s, list) = app
        .get(&format!("/api/v1/reviews?product_id={product}"), &owner)
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(list.as_array().unwrap().len(), 1);
    let (_, b_list) = app.get("/api/v1/reviews", &b_owner).await;
    assert_eq!(b_list, json!([]));
    let (s, b) = app.get(&format!("/api/v1/reviews/{id}"), &b_owner).await;
    assert_error(s, &b, 404, "not_found");
    let (s, b) = app.get("/api/v1/reviews?limit=0", &owner).await;
    assert_error(s, &b, 400, "invalid_parameter");
    let (s, b) = app.get("/api/v1/reviews?label=angry", &owner).await;
    assert_error(s, &b, 400, "invalid_parameter");
}

#[tokio::test]
async fn a_csv_import_accepts_the_good_rows_and_reports_the_bad_ones() {
    let app = TestApp::spawn().await;
    let (_, owner, products) = demo_org(&app, "Import").await;
    let sku = products[0]["sku"].as_str().unwrap();
    let csv = format!(
        "sku;rating;comment;language;helpful_votes;created_at\n\
         {sku};5;Parfait, je recommande;fr;2;2026-10-01T10:00:00Z\n\
         {sku};1;Broke after a week;en;;\n\
         NOPE;4;Unknown product;en;;\n\
         {sku};7;Rating too high;en;;\n\
         {sku};3;Bad date;en;;yesterday\n\
         {sku};4;Bien;;;\n"
    );
    let resp = app
        .request(Method::POST, "/api/v1/reviews/imports", Some(&owner))
        .header("content-type", "text/csv")
        .body(csv)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::ACCEPTED);
    let queued: Value = resp.json().await.unwrap();
    assert_eq!(queued["status"], "pending");
    let _worker = app.start_worker();
    let done = wait_until(&app, &owner, queued["status_url"].as_str().unwrap(), |v| {
        v["status"] != "pending"
    })
    .await;
    assert_eq!(done["status"], "done", "{done}");
    assert_eq!(
        (
            done["total_rows"].as_i64(),
            done["accepted_rows"].as_i64(),
            done["rejected_rows"].as_i64()
        ),
        (Some(6), Some(3), Some(3))
    );
    let rejected: Vec<(i64, &str)> = done["rejected"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["line"].as_i64().unwrap(), r["field"].as_str().unwrap()))
        .collect();
    assert_eq!(rejected, [(4, "sku"), (5, "rating"), (6, "created_at")]);
    let (_, list) = app.get("/api/v1/reviews", &owner).await;
    assert_eq!(list.as_array().unwrap().len(), 3);
    // The imported reviews get scored too.
    wait_until(&app, &owner, "/api/v1/reviews", |v| {
        v.as_array()
            .unwrap()
            .iter()
            .all(|r| !r["sentiment"].is_null())
    })
    .await;

    // Not CSV, empty, or by an analyst.
    let (s, b) = app.post("/api/v1/reviews/imports", &owner, json!({})).await;
    assert_error(s, &b, 415, "unsupported_media_type");
    let resp = app
        .request(Method::POST, "/api/v1/reviews/imports", Some(&owner))
        .header("content-type", "text/csv")
        .body("")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);
    // A file without the needed columns fails as a whole, with the reason.
    let resp = app
        .request(Method::POST, "/api/v1/reviews/imports", Some(&owner))
        .header("content-type", "text/csv")
        .body("name,stars\nx,1\n")
        .send()
        .await
        .unwrap();
    let queued: Value = resp.json().await.unwrap();
    let failed = wait_until(&app, &owner, queued["status_url"].as_str().unwrap(), |v| {
        v["status"] != "pending"
    })
    .await;
    assert_eq!(failed["status"], "failed");
    assert!(
        failed["error"].as_str().unwrap().contains("sku"),
        "{failed}"
    );
}

#[tokio::test]
async fn sentiment_scores_one_text_or_many() {
    let app = TestApp::spawn().await;
    let org = app.create_org("Sentiment").await;
    let token = app.token_for(org, Role::Analyst).await;
    let (s, one) = app
        .post(
            "/api/v1/sentiment",
            &token,
            json!({"text": "Très bon produit"}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{one}");
    assert_eq!(one["results"].as_array().unwrap().len(), 1);
    let r = &one["results"][0];
    assert!((-1.0..=1.0).contains(&r["score"].as_f64().unwrap()));
    assert!(["model", "lexicon"].contains(&r["method"].as_str().unwrap()));
    let (s, many) = app
        .post(
            "/api/v1/sentiment",
            &token,
            json!({"texts": ["Great", "Nul", "Bof"]}),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(many["results"].as_array().unwrap().len(), 3);
    for (body, field) in [
        (json!({}), "body"),
        (json!({"text": "a", "texts": ["b"]}), "body"),
        (json!({"texts": []}), "texts"),
        (json!({"texts": ["ok", ""]}), "texts[1]"),
    ] {
        let (s, b) = app.post("/api/v1/sentiment", &token, body).await;
        assert_error(s, &b, 422, "validation_failed");
        assert_eq!(b["details"]["fields"][0]["field"], field);
    }
    let (s, b) = app
        .call(
            Method::POST,
            "/api/v1/sentiment",
            None,
            Some(json!({"text": "x"})),
        )
        .await;
    assert_error(s, &b, 401, "unauthenticated");
}

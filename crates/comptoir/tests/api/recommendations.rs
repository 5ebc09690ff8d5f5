//! Recommendations on the demo catalog (without the model: the hashing fallback makes the
//! answers deterministic): the seed's request and answer shape (snapshot), candidates of
//! the product's type only, scores and their parts, weights per organization, the cache
//! and its invalidation, the async variant, and bad input.

use comptoir_kernel::auth::Role;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{TestApp, assert_error};
use crate::reviews::{demo_org, wait_until};

/// The first active demo product whose SKU starts with `prefix`.
fn pick<'a>(products: &'a [Value], prefix: &str) -> &'a Value {
    products
        .iter()
        .filter(|p| p["sku"].as_str().unwrap().starts_with(prefix) && p["status"] == "active")
        .min_by_key(|p| p["sku"].as_str().unwrap().to_owned())
        .unwrap()
}

/// The seed's example request, about one of our products.
fn seed_request(product: &str) -> Value {
    json!({
        "product_id": product,
        "client_id": 456,
        "commentaire": "Excellent véhicule, très confortable et fiable!",
        "product_type": "vehicle",
        "top_k": 10
    })
}

#[tokio::test]
async fn the_seed_request_gets_the_seed_answer_shape() {
    let app = TestApp::spawn().await;
    let (_, owner, products) = demo_org(&app, "Reco seed").await;
    let car = pick(&products, "DEMO-VEH-");
    let (s, answer) = app
        .post(
            "/api/v1/recommendations",
            &owner,
            seed_request(car["id"].as_str().unwrap()),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{answer}");
    // Every field of the seed's answer, nothing else.
    let mut keys: Vec<&str> = answer
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            "correlation_id",
            "processing_time_ms",
            "recommendations",
            "sentiment_score",
            "status",
            "total"
        ]
    );
    let names: Vec<Value> = answer["recommendations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let mut k: Vec<&str> = r.as_object().unwrap().keys().map(String::as_str).collect();
            k.sort();
            assert_eq!(
                k,
                ["disponible", "id", "marque", "nom", "prix", "score", "type"]
            );
            json!([
                r["nom"],
                r["marque"],
                r["type"],
                r["disponible"],
                r["prix"],
                r["score"]
            ])
        })
        .collect();
    insta::assert_json_snapshot!(
        "seed_recommendation",
        json!({
            "status": answer["status"],
            "total": answer["total"],
            "recommendations": names,
        })
    );
    assert!(
        answer["correlation_id"]
            .as_str()
            .is_some_and(|c| !c.is_empty())
    );
    assert!(answer["processing_time_ms"].is_u64());
    assert!((-1.0..=1.0).contains(&answer["sentiment_score"].as_f64().unwrap()));
    assert_eq!(
        answer["total"],
        answer["recommendations"].as_array().unwrap().len()
    );
    for r in answer["recommendations"].as_array().unwrap() {
        assert_ne!(
            r["id"], car["id"],
            "the product itself is never recommended"
        );
        assert_eq!(r["type"], "vehicle");
    }
    // The request id is the correlation id.
    let resp = app
        .request(Method::POST, "/api/v1/recommendations", Some(&owner))
        .header("x-request-id", "abc-123-def")
        .json(&seed_request(car["id"].as_str().unwrap()))
        .send()
        .await
        .unwrap();
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["correlation_id"], "abc-123-def");
}

#[tokio::test]
async fn scores_have_explained_parts_and_weights_are_per_org() {
    let app = TestApp::spawn().await;
    let (org, owner, products) = demo_org(&app, "Reco weights").await;
    let (_, other_owner, other_products) = demo_org(&app, "Reco other").await;
    let phone = pick(&products, "DEMO-SMA-");
    let mut request = json!({
        "product_id": phone["id"], "commentaire": "Super téléphone, l'écran est magnifique",
        "top_k": 100, "explain": true
    });
    let (s, answer) = app
        .post("/api/v1/recommendations", &owner, request.clone())
        .await;
    assert_eq!(s, StatusCode::OK, "{answer}");
    let recs = answer["recommendations"].as_array().unwrap();
    let smartphones = products
        .iter()
        .filter(|p| p["sku"].as_str().unwrap().starts_with("DEMO-SMA-") && p["status"] == "active")
        .count();
    assert_eq!(
        recs.len(),
        smartphones - 1,
        "every other active smartphone, nothing else"
    );
    let mut last = f64::INFINITY;
    for r in recs {
        let e = &r["explain"];
        let w = &e["weights"];
        assert_eq!(
            (
                w["similarity"].as_f64(),
                w["availability"].as_f64(),
                w["reputation"].as_f64()
            ),
            (Some(0.6), Some(0.25), Some(0.15))
        );
        let parts = 0.6 * e["similarity"].as_f64().unwrap()
            + 0.25 * e["availability"].as_f64().unwrap()
            + 0.15 * e["reputation"].as_f64().unwrap();
        let score = r["score"].as_f64().unwrap();
        assert!((parts - score).abs() < 1e-5, "{r}");
        assert!(score <= last, "sorted by score");
        last = score;
        assert_eq!(r["disponible"], e["availability"].as_f64() == Some(1.0));
        assert_eq!(e["steered_away"], false);
    }

    // Weights: refused unless they sum to 1, then applied to this org only.
    let analyst = app.token_for(org, Role::Analyst).await;
    let (s, b) = app
        .call(
            Method::PUT,
            "/api/v1/recommendations/settings",
            Some(&analyst),
            Some(json!({"weights": {"similarity": 1.0, "availability": 0.0, "reputation": 0.0}})),
        )
        .await;
    assert_error(s, &b, 403, "forbidden");
    for weights in [
        json!({"similarity": 0.5, "availability": 0.25, "reputation": 0.15}),
        json!({"similarity": 1.2, "availability": -0.1, "reputation": -0.1}),
    ] {
        let (s, b) = app
            .call(
                Method::PUT,
                "/api/v1/recommendations/settings",
                Some(&owner),
                Some(json!({"weights": weights})),
            )
            .await;
        assert_error(s, &b, 422, "inconsistent_weights");
    }
    let (s, b) = app
        .call(
            Method::PUT,
            "/api/v1/recommendations/settings",
            Some(&owner),
            Some(json!({"weights": {"similarity": 1.0, "availability": 0.0, "reputation": 0.0}})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    let (_, answer) = app
        .post("/api/v1/recommendations", &owner, request.clone())
        .await;
    for r in answer["recommendations"].as_array().unwrap() {
        assert_eq!(r["score"], r["explain"]["similarity"], "similarity alone");
    }
    request["product_id"] = pick(&other_products, "DEMO-SMA-")["id"].clone();
    let (_, other) = app
        .post("/api/v1/recommendations", &other_owner, request)
        .await;
    assert_eq!(
        other["recommendations"][0]["explain"]["weights"]["similarity"],
        0.6
    );
}

#[tokio::test]
async fn answers_are_cached_until_the_candidates_change() {
    let app = TestApp::spawn().await;
    let (_, owner, products) = demo_org(&app, "Reco cache").await;
    let car = pick(&products, "DEMO-VEH-");
    let request = seed_request(car["id"].as_str().unwrap());
    let (_, first) = app
        .post("/api/v1/recommendations", &owner, request.clone())
        .await;
    let hits_before = cache_hits(&app).await;
    // The same request, written differently: a hit.
    let mut same = request.clone();
    same["commentaire"] = json!("  EXCELLENT véhicule,   très confortable et fiable!  ");
    same["client_id"] = json!("another-client");
    let (_, second) = app.post("/api/v1/recommendations", &owner, same).await;
    assert_eq!(first["recommendations"], second["recommendations"]);
    assert_eq!(cache_hits(&app).await, hits_before + 1);

    // Renaming the top recommendation changes the candidate set: a miss, with the new name.
    let top = first["recommendations"][0]["id"].as_str().unwrap();
    let (_, mut product) = app
        .get(&format!("/api/v1/catalog/products/{top}"), &owner)
        .await;
    let renamed = format!("{} (nouvelle série)", product["name"].as_str().unwrap());
    product["name"] = json!(renamed);
    let body = json!({
        "sku": product["sku"], "name": renamed, "description": product["description"],
        "brand_id": product["brand_id"], "category_id": product["category_id"],
        "product_type_id": product["product_type_id"], "attributes": product["attributes"],
        "sale_price": product["sale_price"], "availability": product["availability"],
        "status": product["status"],
    });
    let (s, b) = app
        .call(
            Method::PUT,
            &format!("/api/v1/catalog/products/{top}"),
            Some(&owner),
            Some(body),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    let (_, third) = app.post("/api/v1/recommendations", &owner, request).await;
    assert_eq!(cache_hits(&app).await, hits_before + 1, "not a hit");
    assert!(
        third["recommendations"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["nom"] == renamed.as_str()),
        "{third}"
    );
}

async fn cache_hits(app: &TestApp) -> u64 {
    let r = app.client.get(app.url("/metrics")).send().await.unwrap();
    let text = r.text().await.unwrap();
    assert!(text.contains("cache_requests_total"), "{text}");
    text.lines()
        .filter(|l| {
            l.contains("cache=\"recommendations\"") && l.contains("hit") && !l.starts_with('#')
        })
        .filter(|l| !l.contains("miss"))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum::<f64>() as u64
}

#[tokio::test]
async fn the_async_variant_answers_202_then_the_task_holds_the_result() {
    let app = TestApp::spawn().await;
    let (_, owner, products) = demo_org(&app, "Reco async").await;
    let car = pick(&products, "DEMO-VEH-");
    let mut request = seed_request(car["id"].as_str().unwrap());
    request.as_object_mut().unwrap().remove("product_type");
    let (s, queued) = app
        .post("/api/v1/recommendations/async", &owner, request.clone())
        .await;
    assert_eq!(s, StatusCode::ACCEPTED, "{queued}");
    let mut keys: Vec<&str> = queued
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort();
    assert_eq!(keys, ["check_status_url", "message", "status", "task_id"]);
    assert_eq!(queued["status"], "processing");
    let url = queued["check_status_url"].as_str().unwrap();
    assert_eq!(
        url,
        format!("/api/v1/tasks/{}", queued["task_id"].as_str().unwrap())
    );
    let _worker = app.start_worker();
    let task = wait_until(&app, &owner, url, |t| {
        t["status"] == "succeeded" || t["status"] == "dead"
    })
    .await;
    assert_eq!(task["status"], "succeeded", "{task}");
    let (_, sync) = app.post("/api/v1/recommendations", &owner, request).await;
    assert_eq!(task["result"]["recommendations"], sync["recommendations"]);
    assert_eq!(task["result"]["status"], "success");
    // Bad requests are refused at once, not in the task.
    let (s, b) = app
        .post(
            "/api/v1/recommendations/async",
            &owner,
            json!({"product_id": car["id"], "commentaire": "x", "top_k": 0}),
        )
        .await;
    assert_error(s, &b, 422, "validation_failed");
}

#[tokio::test]
async fn bad_requests_name_their_field() {
    let app = TestApp::spawn().await;
    let (_, owner, products) = demo_org(&app, "Reco bad").await;
    let (_, _, other_products) = demo_org(&app, "Reco bad other").await;
    let car = pick(&products, "DEMO-VEH-")["id"].clone();
    for (body, field) in [
        (
            json!({"product_id": car, "commentaire": "x", "top_k": 0}),
            "top_k",
        ),
        (
            json!({"product_id": car, "commentaire": "x", "top_k": 101}),
            "top_k",
        ),
        (
            json!({"product_id": car, "commentaire": "x", "product_type": "rocket"}),
            "product_type",
        ),
        (
            json!({"product_id": car, "commentaire": "x".repeat(5001)}),
            "commentaire",
        ),
        (
            json!({"product_id": car, "commentaire": "x", "client_id": [1]}),
            "client_id",
        ),
        (
            json!({"product_id": other_products[0]["id"], "commentaire": "x"}),
            "product_id",
        ),
        (json!({"product_id": 123, "commentaire": "x"}), "product_id"),
        (json!({"product_id": car}), "commentaire"),
    ] {
        let (s, b) = app
            .post("/api/v1/recommendations", &owner, body.clone())
            .await;
        assert_error(s, &b, 422, "validation_failed");
        assert!(
            b["details"]["fields"][0]["field"]
                .as_str()
                .unwrap()
                .starts_with(field),
            "{body} → {b}"
        );
    }
    let (s, b) = app
        .call(
            Method::POST,
            "/api/v1/recommendations",
            None,
            Some(json!({})),
        )
        .await;
    assert_error(s, &b, 401, "unauthenticated");
}

#[tokio::test]
async fn a_negative_comment_steers_away_from_what_it_criticizes() {
    let app = TestApp::spawn().await;
    let (_, owner, products) = demo_org(&app, "Reco steer").await;
    let tesla = products
        .iter()
        .find(|p| p["name"].as_str().unwrap().starts_with("Tesla SUV compact"))
        .unwrap();
    let ask = |comment: &str| json!({"product_id": tesla["id"], "commentaire": comment, "top_k": 100, "explain": true});
    let (_, liked) = app
        .post(
            "/api/v1/recommendations",
            &owner,
            ask("Excellent Tesla, superbe et très fiable, je l'adore"),
        )
        .await;
    let (_, hated) = app
        .post(
            "/api/v1/recommendations",
            &owner,
            ask("Horrible Tesla, très décevant et peu fiable, je le déteste"),
        )
        .await;
    assert!(liked["sentiment_score"].as_f64().unwrap() > 0.0, "{liked}");
    assert!(hated["sentiment_score"].as_f64().unwrap() < 0.0, "{hated}");
    // Mean position of the criticized brand's products (lower is nearer the top).
    let tesla_rank = |answer: &Value| {
        let recs = answer["recommendations"].as_array().unwrap();
        let ranks: Vec<usize> = recs
            .iter()
            .enumerate()
            .filter(|(_, r)| r["marque"] == "Tesla")
            .map(|(i, _)| i)
            .collect();
        assert!(!ranks.is_empty());
        ranks.iter().sum::<usize>() as f64 / ranks.len() as f64
    };
    assert!(
        tesla_rank(&hated) > tesla_rank(&liked) + 3.0,
        "liked {} hated {}",
        tesla_rank(&liked),
        tesla_rank(&hated)
    );
    assert_eq!(
        liked["recommendations"][0]["explain"]["steered_away"],
        false
    );
    assert_eq!(hated["recommendations"][0]["explain"]["steered_away"], true);
    assert_ne!(hated["recommendations"][0]["marque"], "Tesla");
}

//! Catalog API: CRUD of reference data and products, filters and cursor pagination,
//! adjustments and low-stock events, CSV export, roles (analysts read only), tenant
//! fixtures for the isolation test (the web pages are in `catalog_ui.rs`).

use std::collections::{BTreeMap, HashSet};

use comptoir_kernel::auth::Role;
use reqwest::{Method, StatusCode, header};
use serde_json::{Value, json};

use crate::helpers::{TestApp, assert_error};

/// Sends a CSV body. An accepted import (202) is processed by a worker started here; the
/// import as it ends up (completed or failed) is returned with the 202.
pub async fn post_csv(app: &TestApp, path: &str, token: &str, csv: String) -> (StatusCode, Value) {
    let (status, body) = send_csv(app, path, token, csv).await;
    if status != StatusCode::ACCEPTED {
        return (status, body);
    }
    // Pending, unless a worker the caller already runs claimed it before the answer.
    assert!(
        body["task_id"].is_string()
            && ["pending", "running", "completed", "failed"]
                .contains(&body["status"].as_str().unwrap_or("")),
        "{body}"
    );
    let _worker = app.start_worker();
    let url = body["status_url"].as_str().unwrap().to_owned();
    for _ in 0..1200 {
        let (s, import) = app.get(&url, token).await;
        assert_eq!(s, StatusCode::OK, "{import}");
        if import["status"] == "completed" || import["status"] == "failed" {
            // The job records its own success just after the import's last commit.
            let task = crate::jobs::wait_for(
                app,
                token,
                body["task_id"].as_str().unwrap().parse().unwrap(),
                &["succeeded"],
            )
            .await;
            assert_eq!(task["kind"], "catalog.import", "{task}");
            return (status, import);
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("import {url} never finished");
}

async fn send_csv(app: &TestApp, path: &str, token: &str, csv: String) -> (StatusCode, Value) {
    let resp = app
        .request(Method::POST, path, Some(token))
        .header(header::CONTENT_TYPE, "text/csv")
        .body(csv)
        .send()
        .await
        .unwrap();
    let status = resp.status();
    let text = resp.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

/// Fetches a text (CSV) resource.
pub async fn get_text(app: &TestApp, path: &str, token: &str) -> (StatusCode, String) {
    let resp = app
        .request(Method::GET, path, Some(token))
        .send()
        .await
        .unwrap();
    (resp.status(), resp.text().await.unwrap())
}

#[track_caller]
fn id_of(v: &Value) -> String {
    v["id"]
        .as_str()
        .unwrap_or_else(|| panic!("no id in {v}"))
        .to_owned()
}

/// One of everything in an organization, made through the API.
pub struct CatalogFixture {
    pub category: String,
    pub child_category: String,
    pub brand: String,
    pub product_type: String,
    pub location: String,
    pub product: String,
    pub import: String,
    pub product_json: Value,
}

impl CatalogFixture {
    pub async fn create(app: &TestApp, token: &str) -> Self {
        let (s, cat) = app
            .post(
                "/api/v1/catalog/categories",
                token,
                json!({"code": "phones", "name": "Téléphones"}),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{cat}");
        let (s, child) = app
            .post(
                "/api/v1/catalog/categories",
                token,
                json!({"code": "android", "name": "Android", "parent_id": cat["id"]}),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{child}");
        let (_, brand) = app
            .post(
                "/api/v1/catalog/brands",
                token,
                json!({"name": "Fairphone"}),
            )
            .await;
        let (s, ptype) = app
            .post(
                "/api/v1/catalog/product-types",
                token,
                json!({"code": "smartphone", "name": "Smartphone", "attributes": [
                    {"name": "storage_gb", "type": "integer", "required": true},
                    {"name": "screen_in", "type": "decimal"},
                    {"name": "dual_sim", "type": "boolean"}]}),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{ptype}");
        let (s, loc) = app
            .post(
                "/api/v1/catalog/locations",
                token,
                json!({"code": "WH-1", "name": "Entrepôt Lyon", "kind": "warehouse", "region": "ARA", "latitude": 45.75, "longitude": 4.85}),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{loc}");
        let (s, product) = app
            .post(
                "/api/v1/catalog/products",
                token,
                json!({"sku": "FP5-128", "name": "Fairphone 5 128 Go", "brand_id": brand["id"], "category_id": child["id"],
                       "product_type_id": ptype["id"], "attributes": {"storage_gb": 128, "screen_in": "6.46", "dual_sim": true},
                       "sale_price": "699.00", "purchase_price": 450, "vat_rate": "20", "status": "active"}),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{product}");
        let (s, import) = post_csv(
            app,
            "/api/v1/catalog/imports",
            token,
            "sku,name,sale_price\nIMP-1,Imported,1\n,missing sku,2\n".into(),
        )
        .await;
        assert_eq!(s, StatusCode::ACCEPTED, "{import}");
        CatalogFixture {
            category: id_of(&cat),
            child_category: id_of(&child),
            brand: id_of(&brand),
            product_type: id_of(&ptype),
            location: id_of(&loc),
            product: id_of(&product),
            import: id_of(&import),
            product_json: product,
        }
    }

    /// Path template → (id, a valid body) for the isolation test.
    pub fn isolation_fixtures(&self) -> BTreeMap<&'static str, (String, Value)> {
        let product_body = json!({"sku": "HIJACK", "name": "Hijacked", "sale_price": "1"});
        BTreeMap::from([
            (
                "/api/v1/catalog/products/{id}",
                (self.product.clone(), product_body),
            ),
            (
                "/api/v1/catalog/products/{id}/stock",
                (self.product.clone(), json!({})),
            ),
            (
                "/api/v1/catalog/products/{id}/movements",
                (self.product.clone(), json!({})),
            ),
            (
                "/api/v1/catalog/categories/{id}",
                (
                    self.category.clone(),
                    json!({"code": "hijack", "name": "Hijacked"}),
                ),
            ),
            (
                "/api/v1/catalog/brands/{id}",
                (self.brand.clone(), json!({"name": "Hijacked"})),
            ),
            (
                "/api/v1/catalog/product-types/{id}",
                (
                    self.product_type.clone(),
                    json!({"code": "hijack", "name": "Hijacked"}),
                ),
            ),
            (
                "/api/v1/catalog/locations/{id}",
                (
                    self.location.clone(),
                    json!({"code": "hijack", "name": "Hijacked", "kind": "store"}),
                ),
            ),
            (
                "/api/v1/catalog/imports/{id}",
                (self.import.clone(), json!({})),
            ),
            (
                "/api/v1/catalog/imports/{id}/report.csv",
                (self.import.clone(), json!({})),
            ),
        ])
    }

    /// Everything is still there, unchanged.
    pub async fn assert_untouched(&self, app: &TestApp, token: &str) {
        let (s, p) = app
            .get(&format!("/api/v1/catalog/products/{}", self.product), token)
            .await;
        assert_eq!(s, StatusCode::OK);
        assert_eq!(p, self.product_json);
        for (path, name) in [
            (
                format!("/api/v1/catalog/categories/{}", self.category),
                "Téléphones",
            ),
            (
                format!("/api/v1/catalog/brands/{}", self.brand),
                "Fairphone",
            ),
            (
                format!("/api/v1/catalog/product-types/{}", self.product_type),
                "Smartphone",
            ),
            (
                format!("/api/v1/catalog/locations/{}", self.location),
                "Entrepôt Lyon",
            ),
        ] {
            let (s, v) = app.get(&path, token).await;
            assert_eq!(
                (s, v["name"].as_str()),
                (StatusCode::OK, Some(name)),
                "{path}"
            );
        }
    }

    /// Another organization's listings show none of it.
    pub async fn assert_invisible_to(&self, app: &TestApp, other: &str) {
        for path in [
            "/api/v1/catalog/products",
            "/api/v1/catalog/categories",
            "/api/v1/catalog/brands",
            "/api/v1/catalog/product-types",
            "/api/v1/catalog/locations",
            "/api/v1/catalog/imports",
            "/api/v1/catalog/stock",
            "/api/v1/catalog/stock/movements",
            "/api/v1/catalog/events",
        ] {
            let (s, v) = app.get(path, other).await;
            assert_eq!(s, StatusCode::OK, "{path}: {v}");
            let text = v.to_string();
            for id in [
                &self.product,
                &self.category,
                &self.brand,
                &self.product_type,
                &self.location,
                &self.import,
            ] {
                assert!(!text.contains(id.as_str()), "{path} leaks {id}");
            }
        }
        let (_, csv) = get_text(app, "/api/v1/catalog/products/export.csv", other).await;
        assert!(!csv.contains("FP5-128"), "{csv}");
        // Ids of another org in a body are as unknown as in a path.
        let (s, b) = app
            .post("/api/v1/catalog/stock/adjustments", other, json!({"product_id": self.product, "location_id": self.location, "kind": "receipt", "quantity": 5}))
            .await;
        assert_error(s, &b, 404, "not_found");
        let (s, b) = app
            .post(
                "/api/v1/catalog/products",
                other,
                json!({"sku": "X-1", "name": "x", "sale_price": "1", "category_id": self.category}),
            )
            .await;
        assert_error(s, &b, 422, "validation_failed");
        let (s, _) = app
            .get(
                &format!("/api/v1/catalog/products?category_id={}", self.category),
                other,
            )
            .await;
        assert_eq!(s, StatusCode::OK);
    }
}

#[tokio::test]
async fn crud_filters_and_cursor_pagination() {
    let app = TestApp::spawn().await;
    let org = app.create_org("Boutique").await;
    let token = app.token_for(org, Role::Operator).await;
    let fx = CatalogFixture::create(&app, &token).await;

    // Attribute validation: wrong type, unknown attribute, missing required one.
    for (attrs, field) in [
        (json!({"storage_gb": "lots"}), "attributes.storage_gb"),
        (
            json!({"storage_gb": 64, "colour": "red"}),
            "attributes.colour",
        ),
        (json!({"screen_in": "6.1"}), "attributes.storage_gb"),
    ] {
        let (s, b) = app
            .post("/api/v1/catalog/products", &token, json!({"sku": "BAD", "name": "Bad", "sale_price": "1", "product_type_id": fx.product_type, "attributes": attrs}))
            .await;
        assert_error(s, &b, 422, "validation_failed");
        assert_eq!(b["details"]["fields"][0]["field"], field, "{b}");
    }
    for (body, field) in [
        (
            json!({"sku": "B1", "name": "x", "sale_price": "-1"}),
            "sale_price",
        ),
        (
            json!({"sku": "B1", "name": "x", "sale_price": "1.23456"}),
            "sale_price",
        ),
        (
            json!({"sku": "B1", "name": "x", "sale_price": "abc"}),
            "sale_price",
        ),
        (
            json!({"sku": "B1", "name": "x", "sale_price": "1", "vat_rate": "120"}),
            "vat_rate",
        ),
        (
            json!({"sku": "B1", "name": "x", "sale_price": "1", "currency": "euro"}),
            "currency",
        ),
        (json!({"sku": "a b", "name": "x", "sale_price": "1"}), "sku"),
        (
            json!({"sku": "B1", "name": "x".repeat(201), "sale_price": "1"}),
            "name",
        ),
        (
            json!({"sku": "B1", "name": "x", "sale_price": "1", "status": "published"}),
            "status",
        ),
    ] {
        let (s, b) = app
            .post("/api/v1/catalog/products", &token, body.clone())
            .await;
        assert_error(s, &b, 422, "validation_failed");
        assert!(
            b["details"]["fields"][0]["field"]
                .as_str()
                .unwrap()
                .starts_with(field),
            "{body}: {b}"
        );
    }
    let (s, b) = app
        .post(
            "/api/v1/catalog/products",
            &token,
            json!({"sku": "FP5-128", "name": "dup", "sale_price": "1"}),
        )
        .await;
    assert_error(s, &b, 409, "already_exists");
    // Decimals keep their value; "12,50" is accepted.
    assert_eq!(fx.product_json["sale_price"], "699");
    assert_eq!(fx.product_json["purchase_price"], "450");
    assert_eq!(
        fx.product_json["attributes"],
        json!({"storage_gb": 128, "screen_in": "6.46", "dual_sim": true})
    );

    // 25 more products, over two brands and the category tree.
    let (_, other_brand) = app
        .post("/api/v1/catalog/brands", &token, json!({"name": "Renault"}))
        .await;
    for i in 0..25 {
        let (s, b) = app
            .post(
                "/api/v1/catalog/products",
                &token,
                json!({"sku": format!("P-{i:02}"), "name": format!("Produit numéro {i}"),
                       "sale_price": format!("{i},50"), "brand_id": if i % 2 == 0 { &fx.brand } else { other_brand["id"].as_str().unwrap() },
                       "category_id": if i % 3 == 0 { Some(&fx.child_category) } else if i % 3 == 1 { Some(&fx.category) } else { None },
                       "status": if i % 5 == 0 { "archived" } else { "active" }}),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{b}");
    }
    // Cursor pagination walks every product exactly once, newest first.
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/api/v1/catalog/products?limit=7&cursor={c}"),
            None => "/api/v1/catalog/products?limit=7".into(),
        };
        let (s, page) = app.get(&path, &token).await;
        assert_eq!(s, StatusCode::OK, "{page}");
        for p in page["items"].as_array().unwrap() {
            seen.push(p["sku"].as_str().unwrap().to_owned());
        }
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    assert_eq!(seen.len(), 27, "{seen:?}");
    assert_eq!(seen.iter().collect::<HashSet<_>>().len(), 27);
    assert_eq!(seen[0], "P-24");

    let count = |v: &Value| v["items"].as_array().unwrap().len();
    let (_, v) = app
        .get(
            "/api/v1/catalog/products?q=NUM%C3%A9RO%201&limit=200",
            &token,
        )
        .await;
    assert_eq!(count(&v), 11, "{v}"); // 1, 10..19
    let (_, v) = app
        .get(
            &format!(
                "/api/v1/catalog/products?category_id={}&limit=200",
                fx.category
            ),
            &token,
        )
        .await;
    assert_eq!(count(&v), 18, "subtree: 9 + 8 + the fixture"); // i%3==0 (9) + i%3==1 (8) + FP5
    let (_, v) = app
        .get(
            &format!(
                "/api/v1/catalog/products?category_id={}&limit=200",
                fx.child_category
            ),
            &token,
        )
        .await;
    assert_eq!(count(&v), 10);
    let (_, v) = app
        .get(
            &format!(
                "/api/v1/catalog/products?brand_id={}&limit=200",
                other_brand["id"].as_str().unwrap()
            ),
            &token,
        )
        .await;
    assert_eq!(count(&v), 12);
    let (_, v) = app
        .get("/api/v1/catalog/products?status=archived&limit=200", &token)
        .await;
    assert_eq!(count(&v), 5);
    let (_, v) = app
        .get(
            "/api/v1/catalog/products?min_price=10&max_price=20,5&limit=200",
            &token,
        )
        .await;
    assert_eq!(count(&v), 11, "{v}"); // 10.50 ..= 20.50
    let (_, v) = app
        .get(
            &format!(
                "/api/v1/catalog/products?product_type_id={}",
                fx.product_type
            ),
            &token,
        )
        .await;
    assert_eq!(count(&v), 1);
    for bad in [
        "cursor=garbage",
        "limit=0",
        "limit=1000",
        "min_price=abc",
        "status=nope",
        "in_stock=maybe",
    ] {
        let (s, b) = app
            .get(&format!("/api/v1/catalog/products?{bad}"), &token)
            .await;
        assert_error(s, &b, 400, "invalid_parameter");
    }

    // Stock: receipt, count, threshold, low-stock event, in_stock filter.
    let adj = |kind: &str, q: i64, threshold: Option<i64>| json!({"product_id": fx.product, "location_id": fx.location, "kind": kind, "quantity": q, "reason": "test", "low_stock_threshold": threshold});
    let (s, r) = app
        .post(
            "/api/v1/catalog/stock/adjustments",
            &token,
            adj("receipt", 20, Some(5)),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{r}");
    assert_eq!(
        (
            r["stock"]["on_hand"].as_i64(),
            r["stock"]["available"].as_i64()
        ),
        (Some(20), Some(20))
    );
    let (_, v) = app
        .get("/api/v1/catalog/products?in_stock=true", &token)
        .await;
    assert_eq!(count(&v), 1);
    let (_, v) = app
        .get("/api/v1/catalog/products?in_stock=false&limit=200", &token)
        .await;
    assert_eq!(count(&v), 26);
    let (s, r) = app
        .post(
            "/api/v1/catalog/stock/adjustments",
            &token,
            adj("count", 4, None),
        )
        .await;
    assert_eq!(
        (s, r["movement"]["on_hand_delta"].as_i64()),
        (StatusCode::OK, Some(-16)),
        "{r}"
    );
    let (_, events) = app.get("/api/v1/catalog/events", &token).await;
    assert_eq!(events.as_array().unwrap().len(), 1, "{events}");
    assert_eq!(events[0]["kind"], "low_stock");
    assert_eq!(events[0]["payload"]["available"], 4);
    let (s, b) = app
        .post(
            "/api/v1/catalog/stock/adjustments",
            &token,
            adj("adjustment", -5, None),
        )
        .await;
    assert_error(s, &b, 409, "conflict");
    let (s, b) = app
        .post(
            "/api/v1/catalog/stock/adjustments",
            &token,
            adj("reserve", 1, None),
        )
        .await;
    assert_error(s, &b, 422, "validation_failed");
    let (_, levels) = app
        .get(
            &format!("/api/v1/catalog/products/{}/stock", fx.product),
            &token,
        )
        .await;
    assert_eq!(levels[0]["on_hand"], 4);
    let (_, moves) = app
        .get(
            &format!("/api/v1/catalog/products/{}/movements", fx.product),
            &token,
        )
        .await;
    assert_eq!(moves.as_array().unwrap().len(), 2);
    let (_, low) = app.get("/api/v1/catalog/stock?low=true", &token).await;
    assert_eq!(low.as_array().unwrap().len(), 1);

    // Deletes refuse what would orphan data.
    let (s, b) = app
        .call(
            Method::DELETE,
            &format!("/api/v1/catalog/products/{}", fx.product),
            Some(&token),
            None,
        )
        .await;
    assert_error(s, &b, 409, "conflict");
    let (s, b) = app
        .call(
            Method::DELETE,
            &format!("/api/v1/catalog/categories/{}", fx.category),
            Some(&token),
            None,
        )
        .await;
    assert_error(s, &b, 409, "conflict");
    let (s, b) = app
        .call(
            Method::DELETE,
            &format!("/api/v1/catalog/locations/{}", fx.location),
            Some(&token),
            None,
        )
        .await;
    assert_error(s, &b, 409, "conflict");
    let (s, b) = app
        .call(
            Method::PUT,
            &format!("/api/v1/catalog/categories/{}", fx.category),
            Some(&token),
            Some(json!({"code": "phones", "name": "x", "parent_id": fx.child_category})),
        )
        .await;
    assert_error(s, &b, 422, "validation_failed");
    let (_, p) = app.get("/api/v1/catalog/products?q=P-03", &token).await;
    let p3 = p["items"][0]["id"].as_str().unwrap().to_owned();
    let (s, _) = app
        .call(
            Method::DELETE,
            &format!("/api/v1/catalog/products/{p3}"),
            Some(&token),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (s, b) = app
        .get(&format!("/api/v1/catalog/products/{p3}"), &token)
        .await;
    assert_error(s, &b, 404, "not_found");

    // Export follows the filter and re-imports cleanly (upsert).
    let (s, csv) = get_text(
        &app,
        "/api/v1/catalog/products/export.csv?status=archived",
        &token,
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(csv.lines().count(), 6, "{csv}");
    assert!(
        csv.starts_with(
            "sku,name,description,brand,category,product_type,purchase_price,sale_price"
        )
    );
    let (s, imp) = post_csv(&app, "/api/v1/catalog/imports?upsert=true", &token, csv).await;
    assert_eq!(
        (
            s,
            imp["accepted_rows"].as_i64(),
            imp["rejected_rows"].as_i64()
        ),
        (StatusCode::ACCEPTED, Some(5), Some(0)),
        "{imp}"
    );
}

#[tokio::test]
async fn analysts_read_but_every_write_is_403() {
    let app = TestApp::spawn().await;
    let org = app.create_org("Shop").await;
    let owner = app.token_for(org, Role::Owner).await;
    let fx = CatalogFixture::create(&app, &owner).await;
    let analyst = app.token_for(org, Role::Analyst).await;
    let (_, read_key) = app
        .api_key(&owner, json!({"name": "ro", "scopes": ["read"]}))
        .await;

    let (_, spec) = app.call(Method::GET, "/api/openapi.json", None, None).await;
    let bodies = fx.isolation_fixtures();
    let mut writes = 0;
    for (template, item) in spec["paths"].as_object().unwrap() {
        if !template.starts_with("/api/v1/catalog") {
            continue;
        }
        let (id, body) = bodies
            .get(template.as_str())
            .cloned()
            .unwrap_or((String::new(), json!({})));
        let path = template.replace("{id}", &id);
        for method in item.as_object().unwrap().keys() {
            let method: Method = method.to_uppercase().parse().unwrap();
            if method == Method::GET {
                let (s, b) = app.call(method, &path, Some(&analyst), None).await;
                assert!(s.is_success(), "analyst GET {path}: {s} {b}");
                continue;
            }
            let body = match template.as_str() {
                "/api/v1/catalog/stock/adjustments" => {
                    json!({"product_id": fx.product, "location_id": fx.location, "kind": "receipt", "quantity": 1})
                }
                "/api/v1/catalog/products" => {
                    json!({"sku": "NEW", "name": "New", "sale_price": "1"})
                }
                "/api/v1/catalog/categories" => json!({"code": "new", "name": "New"}),
                "/api/v1/catalog/brands" => json!({"name": "New"}),
                "/api/v1/catalog/product-types" => json!({"code": "new", "name": "New"}),
                "/api/v1/catalog/locations" => {
                    json!({"code": "new", "name": "New", "kind": "store"})
                }
                _ => body.clone(),
            };
            let (s, b) = if template == "/api/v1/catalog/imports" {
                post_csv(&app, &path, &analyst, "sku,name,sale_price\nA,B,1\n".into()).await
            } else {
                app.call(method.clone(), &path, Some(&analyst), Some(body.clone()))
                    .await
            };
            assert_error(s, &b, 403, "forbidden");
            // A read-only API key is refused too, before the role is even considered.
            let (s, b) = app
                .call(method.clone(), &path, Some(&read_key), Some(body))
                .await;
            assert_error(s, &b, 403, "insufficient_scope");
            writes += 1;
        }
    }
    assert!(writes >= 16, "only {writes} write operations checked");
    // Nothing changed.
    fx.assert_untouched(&app, &owner).await;
    let (_, v) = app.get("/api/v1/catalog/products?limit=200", &owner).await;
    assert_eq!(v["items"].as_array().unwrap().len(), 2, "{v}"); // FP5-128 and IMP-1
    let (_, levels) = app.get("/api/v1/catalog/stock", &owner).await;
    assert_eq!(levels.as_array().unwrap().len(), 0);
}

//! Retail: chain setup, sales import (validation, policies, idempotent re-import, saved
//! mappings, XLSX), the dashboard's figures and drill-down, CSV export, the rollup rebuild,
//! and role scoping on every endpoint (a regional manager asking for another region's
//! store gets 404). The chain fixture is also org B's for the isolation test.

use std::collections::BTreeMap;

use comptoir_kernel::auth::Role;
use comptoir_kernel::ids::OrgId;
use comptoir_kernel::tenancy::service::{self as tenancy, NewMember};
use comptoir_kernel::validate::{Email, NewPassword};
use reqwest::{Method, StatusCode, header};
use rust_decimal::Decimal;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{PASSWORD, TestApp, assert_error};

pub const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

#[track_caller]
fn id_of(v: &Value) -> String {
    v["id"]
        .as_str()
        .unwrap_or_else(|| panic!("no id in {v}"))
        .to_owned()
}

#[track_caller]
pub fn dec(v: &Value) -> Decimal {
    v.as_str()
        .unwrap_or_else(|| panic!("not a decimal string: {v}"))
        .parse()
        .unwrap()
}

/// Sends a sales file; an accepted import is run by the chain's worker (see [`Chain`]) and
/// returned as it ends (completed, rejected or failed).
pub async fn import(
    app: &TestApp,
    token: &str,
    query: &str,
    content_type: &str,
    body: Vec<u8>,
) -> (StatusCode, Value) {
    let resp = app
        .request(
            Method::POST,
            &format!("/api/v1/retail/imports{query}"),
            Some(token),
        )
        .header(header::CONTENT_TYPE, content_type)
        .body(body)
        .send()
        .await
        .unwrap();
    let status = resp.status();
    let body: Value = resp.json().await.unwrap();
    if status != StatusCode::ACCEPTED {
        return (status, body);
    }
    // The chain's worker may already have taken (or even finished) the job when the 202
    // is written; the final state is read below.
    assert!(body["task_id"].is_string(), "{body}");
    assert!(
        matches!(
            body["status"].as_str(),
            Some("pending" | "running" | "completed" | "failed" | "rejected")
        ),
        "{body}"
    );
    let url = body["status_url"].as_str().unwrap().to_owned();
    for _ in 0..2400 {
        let (s, import) = app.get(&url, token).await;
        assert_eq!(s, StatusCode::OK, "{import}");
        if matches!(
            import["status"].as_str(),
            Some("completed" | "failed" | "rejected")
        ) {
            crate::jobs::wait_for(
                app,
                token,
                body["task_id"].as_str().unwrap().parse().unwrap(),
                &["succeeded"],
            )
            .await;
            return (status, import);
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("the import did not finish");
}

pub async fn import_csv(app: &TestApp, token: &str, query: &str, csv: &str) -> Value {
    let (s, body) = import(app, token, query, "text/csv", csv.as_bytes().to_vec()).await;
    assert_eq!(s, StatusCode::ACCEPTED, "{body}");
    body
}

pub async fn get_text(app: &TestApp, path: &str, token: &str) -> (StatusCode, String) {
    let resp = app
        .request(Method::GET, path, Some(token))
        .send()
        .await
        .unwrap();
    (resp.status(), resp.text().await.unwrap())
}

/// A member with a role and its region or store; returns a token.
pub async fn scoped_token(
    app: &TestApp,
    org: OrgId,
    role: Role,
    region: Option<&str>,
    store: Option<&str>,
) -> String {
    scoped_member(app, org, role, region, store).await.1
}

/// A member with a role and its region or store; returns its e-mail and a token.
pub async fn scoped_member(
    app: &TestApp,
    org: OrgId,
    role: Role,
    region: Option<&str>,
    store: Option<&str>,
) -> (String, String) {
    let email = format!("{}-{}@example.com", role.as_str(), Uuid::new_v4().simple());
    let new = NewMember {
        email: Email::parse("email", &email).unwrap(),
        name: None,
        password: Some(NewPassword::parse("password", PASSWORD).unwrap()),
        role,
        region_id: region.map(|r| r.parse().unwrap()),
        store_id: store.map(|s| s.parse().unwrap()),
    };
    tenancy::add_member(&app.state.db, org, new, None)
        .await
        .unwrap();
    let token = app.login(&email, PASSWORD).await["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    (email, token)
}

/// A small chain: regions North (stores N1, N2) and South (S1), categories food and
/// drinks, products APPLE (food, bought 0.40, VAT 5.5 %) and COLA (drinks, bought 0.50,
/// VAT 20 %), targets (N1: 20 for March 2025, N2: 120 for 2025), and [`SALES`] imported.
///
/// The chain starts one worker for the whole test: on PostgreSQL every started worker keeps
/// a pooled connection for its LISTEN task even after it stops, so a worker per import
/// would exhaust the test's pool of five.
pub struct Chain {
    pub _worker: tokio::sync::watch::Sender<bool>,
    pub owner: String,
    pub north: String,
    pub south: String,
    pub n1: String,
    pub n2: String,
    pub s1: String,
    pub food: String,
    pub drinks: String,
    pub apple: String,
    pub cola: String,
    pub import: String,
}

/// Sale lines: March–April 2025, one January 2025 receipt (previous period) and one March
/// 2024 receipt (last year).
pub const SALES: &str = "receipt,store,sold_at,sku,quantity,unit_price,total_excl,total_incl
N1-1,N1,2025-03-05 10:00,APPLE,10,1.00,,
N1-1,N1,2025-03-05 10:00,COLA,2,2.00,,
N1-2,N1,20/03/2025 11:00,COLA,-1,2.00,,
N2-1,N2,2025-04-02T09:00:00,APPLE,5,1.20,,
S1-1,S1,2025-03-10,COLA,3,2.00,6.00,7.20
N1-P,N1,2025-01-15,APPLE,4,1.00,,
N1-0,N1,2024-03-07,APPLE,8,1.00,,
";

impl Chain {
    pub async fn create(app: &TestApp, org: OrgId) -> Chain {
        let owner = app.token_for(org, Role::Owner).await;
        let post = |path: &'static str, body: Value| {
            let owner = owner.clone();
            async move {
                let (s, v) = app.post(path, &owner, body).await;
                assert_eq!(s, StatusCode::CREATED, "{path}: {v}");
                id_of(&v)
            }
        };
        let food = post(
            "/api/v1/catalog/categories",
            json!({"code": "food", "name": "Food"}),
        )
        .await;
        let drinks = post(
            "/api/v1/catalog/categories",
            json!({"code": "drinks", "name": "Drinks"}),
        )
        .await;
        let apple = post(
            "/api/v1/catalog/products",
            json!({"sku": "APPLE", "name": "Apple", "category_id": food,
            "sale_price": "1.00", "purchase_price": "0.40", "vat_rate": "5.5", "status": "active"}),
        )
        .await;
        let cola = post(
            "/api/v1/catalog/products",
            json!({"sku": "COLA", "name": "Cola", "category_id": drinks,
            "sale_price": "2.00", "purchase_price": "0.50", "vat_rate": "20", "status": "active"}),
        )
        .await;
        let north = post(
            "/api/v1/retail/regions",
            json!({"code": "NORTH", "name": "North"}),
        )
        .await;
        let south = post(
            "/api/v1/retail/regions",
            json!({"code": "SOUTH", "name": "South"}),
        )
        .await;
        let n1 = post(
            "/api/v1/retail/stores",
            json!({"region_id": north, "code": "N1", "name": "Lille"}),
        )
        .await;
        let n2 = post(
            "/api/v1/retail/stores",
            json!({"region_id": north, "code": "N2", "name": "Amiens"}),
        )
        .await;
        let s1 = post(
            "/api/v1/retail/stores",
            json!({"region_id": south, "code": "S1", "name": "Marseille"}),
        )
        .await;
        for (store, targets) in [
            (&n1, json!([{"year": 2025, "month": 3, "revenue": "20"}])),
            (&n2, json!([{"year": 2025, "revenue": "120"}])),
        ] {
            let (s, v) = app
                .call(
                    Method::PUT,
                    &format!("/api/v1/retail/stores/{store}/targets"),
                    Some(&owner),
                    Some(targets),
                )
                .await;
            assert_eq!(s, StatusCode::OK, "{v}");
        }
        let worker = app.start_worker();
        let done = import_csv(app, &owner, "", SALES).await;
        assert_eq!(done["status"], "completed", "{done}");
        assert_eq!(done["accepted_rows"], 7, "{done}");
        Chain {
            _worker: worker,
            owner,
            north,
            south,
            n1,
            n2,
            s1,
            food,
            drinks,
            apple,
            cola,
            import: id_of(&done),
        }
    }

    /// Path template → (id, a valid body) for the isolation test.
    pub fn isolation_fixtures(&self) -> BTreeMap<&'static str, (String, Value)> {
        BTreeMap::from([
            (
                "/api/v1/retail/regions/{id}",
                (
                    self.north.clone(),
                    json!({"code": "HIJACK", "name": "Hijacked"}),
                ),
            ),
            (
                "/api/v1/retail/stores/{id}",
                (self.n1.clone(), json!({"region_id": self.south})),
            ),
            (
                "/api/v1/retail/stores/{id}/targets",
                (self.n1.clone(), json!([{"year": 2025, "revenue": "1"}])),
            ),
            (
                "/api/v1/retail/imports/{id}",
                (self.import.clone(), json!({})),
            ),
            (
                "/api/v1/retail/imports/{id}/rejected.csv",
                (self.import.clone(), json!({})),
            ),
        ])
    }

    /// Org B's figures did not move.
    pub async fn assert_untouched(&self, app: &TestApp) {
        let (s, d) = app
            .get(
                "/api/v1/retail/dashboard?from=2025-03&to=2025-04",
                &self.owner,
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{d}");
        assert_eq!(dec(&d["figures"]["revenue_excl"]), Decimal::new(24, 0));
        let (_, store) = app
            .get(&format!("/api/v1/retail/stores/{}", self.n1), &self.owner)
            .await;
        assert_eq!(store["region_id"], self.north.as_str());
    }
}

fn q(path: &str, params: &[(&str, &str)]) -> String {
    let query: Vec<String> = params.iter().map(|(k, v)| format!("{k}={v}")).collect();
    format!("{path}?{}", query.join("&"))
}

#[tokio::test]
async fn dashboard_figures_drill_down_and_csv() {
    let app = TestApp::spawn().await;
    let org = app.create_org("Chain").await;
    let c = Chain::create(&app, org).await;
    let period = [("from", "2025-03"), ("to", "2025-04")];
    let (s, d) = app
        .get(&q("/api/v1/retail/dashboard", &period), &c.owner)
        .await;
    assert_eq!(s, StatusCode::OK, "{d}");
    let f = &d["figures"];
    let expect = [
        ("revenue_excl", "24"),
        ("revenue_incl", "26.48"),
        ("cost", "8"),
        ("gross_margin", "16"),
        ("gross_margin_pct", "66.67"),
        ("average_basket", "6.62"),
        ("target", "40"),
        ("attainment_pct", "60"),
        ("previous_revenue_excl", "4"),
        ("growth_vs_previous_pct", "500"),
        ("last_year_revenue_excl", "8"),
        ("growth_vs_last_year_pct", "200"),
    ];
    for (k, v) in expect {
        assert_eq!(dec(&f[k]), v.parse::<Decimal>().unwrap(), "{k}: {f}");
    }
    assert_eq!(
        (f["units"].as_i64(), f["transactions"].as_i64()),
        (Some(19), Some(4))
    );
    assert_eq!(
        (d["level"].as_str(), d["children_level"].as_str()),
        (Some("org"), Some("region"))
    );
    let series: Vec<(String, Decimal)> = d["series"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["month"].as_str().unwrap().to_owned(),
                dec(&p["revenue_excl"]),
            )
        })
        .collect();
    assert_eq!(
        series,
        [
            ("2025-03".to_owned(), Decimal::new(18, 0)),
            ("2025-04".to_owned(), Decimal::new(6, 0))
        ]
    );
    assert_eq!(dec(&d["series"][0]["target"]), Decimal::new(30, 0));
    let children: Vec<(&str, Decimal)> = d["children"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["code"].as_str().unwrap(), dec(&r["revenue_excl"])))
        .collect();
    assert_eq!(
        children,
        [
            ("NORTH", Decimal::new(18, 0)),
            ("SOUTH", Decimal::new(6, 0))
        ]
    );
    assert_eq!(d["top"][0]["code"], "NORTH");
    assert_eq!(d["bottom"][0]["code"], "SOUTH");
    let ranking: Vec<&str> = d["stores"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["code"].as_str().unwrap())
        .collect();
    assert_eq!(ranking, ["N1", "N2", "S1"]);
    assert_eq!(dec(&d["stores"][0]["attainment_pct"]), Decimal::new(60, 0));
    let margin_by_category: Vec<(&str, Decimal)> = d["categories"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["code"].as_str().unwrap(), dec(&r["gross_margin"])))
        .collect();
    // food: 16 - 15 × 0.40 = 10; drinks: 8 - 4 × 0.50 = 6.
    assert_eq!(
        margin_by_category,
        [
            ("food", Decimal::new(10, 0)),
            ("drinks", Decimal::new(6, 0))
        ]
    );

    // Drill down: region → store → category → product.
    let region = [("region_id", c.north.as_str())];
    let (_, d) = app
        .get(
            &q(
                "/api/v1/retail/dashboard",
                &[&period[..], &region[..]].concat(),
            ),
            &c.owner,
        )
        .await;
    assert_eq!(
        (d["level"].as_str(), d["children_level"].as_str()),
        (Some("region"), Some("store"))
    );
    assert_eq!(dec(&d["figures"]["revenue_excl"]), Decimal::new(18, 0));
    assert_eq!(d["figures"]["transactions"], 3);
    let store = [("store_id", c.n1.as_str())];
    let (_, d) = app
        .get(
            &q(
                "/api/v1/retail/dashboard",
                &[&period[..], &store[..]].concat(),
            ),
            &c.owner,
        )
        .await;
    assert_eq!(d["children_level"], "category");
    let cats: Vec<(&str, Decimal)> = d["children"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["code"].as_str().unwrap(), dec(&r["revenue_excl"])))
        .collect();
    assert_eq!(
        cats,
        [
            ("food", Decimal::new(10, 0)),
            ("drinks", Decimal::new(2, 0))
        ]
    );
    assert_eq!(
        dec(&d["figures"]["growth_vs_last_year_pct"]),
        Decimal::new(50, 0)
    );
    let category = [("category_id", c.drinks.as_str())];
    let (_, d) = app
        .get(
            &q(
                "/api/v1/retail/dashboard",
                &[&period[..], &category[..]].concat(),
            ),
            &c.owner,
        )
        .await;
    assert_eq!(
        (d["level"].as_str(), d["children_level"].as_str()),
        (Some("category"), Some("product"))
    );
    assert_eq!(dec(&d["figures"]["revenue_excl"]), Decimal::new(8, 0));
    assert!(
        d["figures"]["target"].is_null(),
        "no target below the store level"
    );
    assert_eq!(d["children"][0]["code"], "COLA");
    assert_eq!(dec(&d["children"][0]["revenue_excl"]), Decimal::new(8, 0));
    let product = [("product_id", c.cola.as_str())];
    let (_, d) = app
        .get(
            &q(
                "/api/v1/retail/dashboard",
                &[&period[..], &product[..]].concat(),
            ),
            &c.owner,
        )
        .await;
    assert_eq!(d["children_level"], "store");
    assert_eq!(d["figures"]["units"], 4);
    assert_eq!(dec(&d["figures"]["revenue_incl"]), "9.60".parse().unwrap());
    let apple_in_n1 = [
        ("store_id", c.n1.as_str()),
        ("product_id", c.apple.as_str()),
    ];
    let (_, d) = app
        .get(
            &q(
                "/api/v1/retail/dashboard",
                &[&period[..], &apple_in_n1[..]].concat(),
            ),
            &c.owner,
        )
        .await;
    assert_eq!(dec(&d["figures"]["revenue_excl"]), Decimal::new(10, 0));
    assert_eq!(
        dec(&d["figures"]["growth_vs_last_year_pct"]),
        Decimal::new(25, 0)
    );
    let (s, d) = app
        .get(
            &q(
                "/api/v1/retail/dashboard",
                &[
                    &period[..],
                    &[
                        ("category_id", c.food.as_str()),
                        ("product_id", c.cola.as_str()),
                    ][..],
                ]
                .concat(),
            ),
            &c.owner,
        )
        .await;
    assert_error(s, &d, 404, "not_found");

    // Every figure as CSV.
    let (s, csv) = get_text(&app, &q("/api/v1/retail/dashboard.csv", &period), &c.owner).await;
    assert_eq!(s, StatusCode::OK, "{csv}");
    assert!(csv.starts_with("metric,value\n"), "{csv}");
    assert!(csv.contains("\nrevenue_incl,26.48\n"), "{csv}");
    assert!(csv.contains("\nattainment_pct,60\n"), "{csv}");
    for (part, first_line) in [
        ("series", "month,revenue_excl"),
        ("children", "id,code,label"),
        ("stores", "id,code,label"),
        ("categories", "id,code,label"),
        ("top", "id,code,label"),
        ("bottom", "id,code,label"),
    ] {
        let (s, csv) = get_text(
            &app,
            &q(
                "/api/v1/retail/dashboard.csv",
                &[&period[..], &[("part", part)][..]].concat(),
            ),
            &c.owner,
        )
        .await;
        assert_eq!(s, StatusCode::OK, "{csv}");
        assert!(csv.starts_with(first_line), "{part}: {csv}");
    }
    let (s, csv) = get_text(
        &app,
        &q(
            "/api/v1/retail/dashboard.csv",
            &[&period[..], &[("part", "stores")][..]].concat(),
        ),
        &c.owner,
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(csv.lines().count(), 4, "{csv}");
    assert!(
        csv.lines().nth(1).unwrap().contains(",N1,Lille,12,"),
        "{csv}"
    );
    // Bad periods and parts are 400s.
    for bad in [
        "from=2025-13",
        "from=2025-05&to=2025-04",
        "from=2019-01&to=2025-01",
        "part=nope",
        "store_id=nope",
    ] {
        let (s, b) = app
            .get(&format!("/api/v1/retail/dashboard.csv?{bad}"), &c.owner)
            .await;
        assert_error(s, &b, 400, "invalid_parameter");
    }
}

#[tokio::test]
async fn a_regional_manager_sees_only_their_region_on_every_endpoint() {
    let app = TestApp::spawn().await;
    let org = app.create_org("Chain").await;
    let c = Chain::create(&app, org).await;
    let rm = scoped_token(&app, org, Role::RegionalManager, Some(&c.north), None).await;
    let sm = scoped_token(&app, org, Role::StoreManager, None, Some(&c.n1)).await;

    // Listings show their part only.
    let codes = |v: &Value| -> Vec<String> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|s| s["code"].as_str().unwrap().to_owned())
            .collect()
    };
    let (_, stores) = app.get("/api/v1/retail/stores", &rm).await;
    assert_eq!(codes(&stores), ["N1", "N2"]);
    let (_, regions) = app.get("/api/v1/retail/regions", &rm).await;
    assert_eq!(codes(&regions), ["NORTH"]);
    let (_, stores) = app.get("/api/v1/retail/stores", &sm).await;
    assert_eq!(codes(&stores), ["N1"]);
    let (_, regions) = app.get("/api/v1/retail/regions", &sm).await;
    assert_eq!(codes(&regions), ["NORTH"]);

    // Every request naming another region's store (or the other region) is a 404.
    let s1 = c.s1.as_str();
    let south = c.south.as_str();
    let requests: Vec<(Method, String, Option<Value>)> = vec![
        (Method::GET, format!("/api/v1/retail/stores/{s1}"), None),
        (
            Method::PATCH,
            format!("/api/v1/retail/stores/{s1}"),
            Some(json!({"region_id": c.north})),
        ),
        (
            Method::GET,
            format!("/api/v1/retail/stores/{s1}/targets"),
            None,
        ),
        (
            Method::PUT,
            format!("/api/v1/retail/stores/{s1}/targets"),
            Some(json!([{"year": 2025, "revenue": "1"}])),
        ),
        (Method::GET, format!("/api/v1/retail/regions/{south}"), None),
        (
            Method::PUT,
            format!("/api/v1/retail/regions/{south}"),
            Some(json!({"code": "X", "name": "X"})),
        ),
        (
            Method::GET,
            format!("/api/v1/retail/dashboard?store_id={s1}"),
            None,
        ),
        (
            Method::GET,
            format!("/api/v1/retail/dashboard?region_id={south}"),
            None,
        ),
        (
            Method::GET,
            format!(
                "/api/v1/retail/dashboard?region_id={}&store_id={s1}",
                c.north
            ),
            None,
        ),
        (
            Method::GET,
            format!("/api/v1/retail/dashboard.csv?store_id={s1}"),
            None,
        ),
        (
            Method::GET,
            format!("/api/v1/retail/dashboard.csv?region_id={south}&part=stores"),
            None,
        ),
        (
            Method::GET,
            format!("/api/v1/retail/imports/{}", c.import),
            None,
        ),
        (
            Method::GET,
            format!("/api/v1/retail/imports/{}/rejected.csv", c.import),
            None,
        ),
    ];
    for (method, path, body) in &requests {
        let (s, b) = app
            .call(method.clone(), path, Some(&rm), body.clone())
            .await;
        assert_error(s, &b, 404, "not_found");
        let (s, b) = app
            .call(method.clone(), path, Some(&sm), body.clone())
            .await;
        assert_error(s, &b, 404, "not_found");
    }
    // The store manager does not see the other store of their region either.
    let (s, b) = app
        .get(&format!("/api/v1/retail/stores/{}", c.n2), &sm)
        .await;
    assert_error(s, &b, 404, "not_found");
    let (s, b) = app
        .get(&format!("/api/v1/retail/dashboard?store_id={}", c.n2), &sm)
        .await;
    assert_error(s, &b, 404, "not_found");

    // Their org-level dashboard counts their stores only.
    let (_, d) = app
        .get("/api/v1/retail/dashboard?from=2025-03&to=2025-04", &rm)
        .await;
    assert_eq!(dec(&d["figures"]["revenue_excl"]), Decimal::new(18, 0));
    assert_eq!(d["figures"]["transactions"], 3);
    assert!(
        !d.to_string().contains("SOUTH") && !d.to_string().contains(s1),
        "{d}"
    );
    let (_, d) = app
        .get("/api/v1/retail/dashboard?from=2025-03&to=2025-04", &sm)
        .await;
    assert_eq!(dec(&d["figures"]["revenue_excl"]), Decimal::new(12, 0));
    let (_, csv) = get_text(
        &app,
        "/api/v1/retail/dashboard.csv?from=2025-03&to=2025-04&part=stores",
        &rm,
    )
    .await;
    assert!(!csv.contains("S1"), "{csv}");
    // Nor the owner's import history.
    let (_, history) = app.get("/api/v1/retail/imports", &rm).await;
    assert_eq!(history, json!([]));

    // An import by the regional manager cannot touch another region: rows of S1 are
    // rejected as an unknown store, and a receipt number of S1 cannot be taken over.
    let csv = "receipt,store,sold_at,sku,quantity,unit_price\nRM-1,N2,2025-04-03,APPLE,1,1.00\nRM-2,S1,2025-04-03,APPLE,1,1.00\nS1-1,N2,2025-03-10,COLA,3,2.00\n";
    let done = import_csv(&app, &rm, "", csv).await;
    assert_eq!(done["status"], "completed", "{done}");
    assert_eq!(
        (
            done["accepted_rows"].as_i64(),
            done["rejected_rows"].as_i64()
        ),
        (Some(1), Some(2))
    );
    let reasons: Vec<(i64, &str, &str)> = done["rejected"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["line"].as_i64().unwrap(),
                r["column"].as_str().unwrap(),
                r["reason"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(reasons[0].0, 3);
    assert_eq!(reasons[0].1, "store");
    assert!(reasons[0].2.contains("unknown store"));
    assert_eq!((reasons[1].0, reasons[1].1), (4, "receipt"));
    let (_, d) = app
        .get(
            &format!("/api/v1/retail/dashboard?from=2025-03&to=2025-04&store_id={s1}"),
            &c.owner,
        )
        .await;
    assert_eq!(
        dec(&d["figures"]["revenue_excl"]),
        Decimal::new(6, 0),
        "S1 untouched"
    );
    let (_, history) = app.get("/api/v1/retail/imports", &rm).await;
    assert_eq!(history.as_array().unwrap().len(), 1);

    // Analysts read everything and change nothing; operators see no figures.
    let analyst = app.token_for(org, Role::Analyst).await;
    let (s, d) = app
        .get(
            &format!("/api/v1/retail/dashboard?from=2025-03&to=2025-04&store_id={s1}"),
            &analyst,
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{d}");
    let (s, b) = import(&app, &analyst, "", "text/csv", csv.as_bytes().to_vec()).await;
    assert_error(s, &b, 403, "forbidden");
    let (s, b) = app
        .post(
            "/api/v1/retail/regions",
            &analyst,
            json!({"code": "X", "name": "X"}),
        )
        .await;
    assert_error(s, &b, 403, "forbidden");
    let (s, b) = app
        .post(
            "/api/v1/retail/regions",
            &rm,
            json!({"code": "X", "name": "X"}),
        )
        .await;
    assert_error(s, &b, 403, "forbidden");
    let (s, b) = app
        .call(
            Method::PATCH,
            &format!("/api/v1/retail/stores/{}", c.n1),
            Some(&rm),
            Some(json!({"region_id": c.south})),
        )
        .await;
    assert_error(s, &b, 403, "forbidden");
    let (s, b) = app
        .post("/api/v1/retail/rollups/rebuild", &analyst, json!({}))
        .await;
    assert_error(s, &b, 403, "forbidden");
    let operator = app.token_for(org, Role::Operator).await;
    for path in [
        "/api/v1/retail/dashboard",
        "/api/v1/retail/stores",
        "/api/v1/retail/regions",
        "/api/v1/retail/imports",
        "/api/v1/retail/mappings",
    ] {
        let (s, b) = app.get(path, &operator).await;
        assert_error(s, &b, 403, "forbidden");
    }
    // A regional manager may set targets of their own stores.
    let (s, t) = app
        .call(
            Method::PUT,
            &format!("/api/v1/retail/stores/{}/targets", c.n2),
            Some(&rm),
            Some(json!([{"year": 2025, "month": 4, "revenue": "30"}])),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{t}");
    assert_eq!(t.as_array().unwrap().len(), 2, "{t}");
}

/// Sale lines `n` receipts of one line each, in stores N1/N2/S1, some bad.
fn sales_file(prefix: &str, n: usize, bad_every: usize) -> (String, Vec<i64>, Decimal) {
    let mut csv = String::from("receipt,store,sold_at,sku,quantity,unit_price,total_excl\n");
    let mut bad_lines = Vec::new();
    let mut good_total = Decimal::ZERO;
    let stores = ["N1", "N2", "S1"];
    for i in 0..n {
        let line = i as i64 + 2;
        let store = stores[i % 3];
        let qty = (i % 7) as i64 + 1;
        let price = Decimal::new(100 + (i as i64 % 13) * 25, 2);
        let day = 1 + i % 28;
        let sku = if i % 2 == 0 { "APPLE" } else { "COLA" };
        let total = price * Decimal::from(qty);
        let row = if bad_every > 0 && i % bad_every == bad_every / 2 {
            bad_lines.push(line);
            match (i / bad_every) % 6 {
                0 => format!("{prefix}{i},ZZ,2025-05-{day:02},{sku},{qty},{price},{total}"),
                1 => format!("{prefix}{i},{store},2025-05-{day:02},NOPE,{qty},{price},{total}"),
                2 => format!("{prefix}{i},{store},2025-02-30,{sku},{qty},{price},{total}"),
                3 => format!("{prefix}{i},{store},2025-05-{day:02},{sku},1.5,{price},{total}"),
                4 => format!("{prefix}{i},{store},2025-05-{day:02},{sku},{qty},abc,{total}"),
                _ => format!(
                    "{prefix}{i},{store},2025-05-{day:02},{sku},{qty},{price},{}",
                    total + Decimal::ONE
                ),
            }
        } else {
            good_total += total;
            format!("{prefix}{i},{store},2025-05-{day:02},{sku},{qty},{price},{total}")
        };
        csv.push_str(&row);
        csv.push('\n');
    }
    (csv, bad_lines, good_total)
}

async fn may_revenue(app: &TestApp, token: &str) -> (Decimal, i64) {
    let (s, d) = app
        .get("/api/v1/retail/dashboard?from=2025-05&to=2025-05", token)
        .await;
    assert_eq!(s, StatusCode::OK, "{d}");
    (
        dec(&d["figures"]["revenue_excl"]),
        d["figures"]["transactions"].as_i64().unwrap(),
    )
}

async fn sales_count(app: &TestApp, org: OrgId) -> (u64, u64) {
    use comptoir_kernel::tenancy::scoped;
    use comptoir_retail::entities::{sale_lines, sales};
    use sea_orm::PaginatorTrait;
    (
        scoped::<sales::Entity>(org)
            .count(&app.state.db)
            .await
            .unwrap(),
        scoped::<sale_lines::Entity>(org)
            .count(&app.state.db)
            .await
            .unwrap(),
    )
}

#[tokio::test]
async fn one_percent_bad_rows_policies_and_reimport() {
    let app = TestApp::spawn().await;
    let org = app.create_org("Chain").await;
    let c = Chain::create(&app, org).await;
    let (csv, bad, good_total) = sales_file("B", 2_000, 100);
    assert_eq!(bad.len(), 20);
    let before = sales_count(&app, org).await;

    // all_or_nothing: nothing changes, every bad row is reported.
    let done = import_csv(&app, &c.owner, "?policy=all_or_nothing", &csv).await;
    assert_eq!(done["status"], "rejected", "{done}");
    assert_eq!(
        (
            done["accepted_rows"].as_i64(),
            done["rejected_rows"].as_i64()
        ),
        (Some(0), Some(20))
    );
    assert_eq!(sales_count(&app, org).await, before);
    assert_eq!(may_revenue(&app, &c.owner).await, (Decimal::ZERO, 0));

    // accept_valid keeps exactly the good rows and reports exactly the bad ones.
    let done = import_csv(&app, &c.owner, "?policy=accept_valid", &csv).await;
    assert_eq!(done["status"], "completed", "{done}");
    assert_eq!(
        (
            done["accepted_rows"].as_i64(),
            done["rejected_rows"].as_i64(),
            done["receipts"].as_i64()
        ),
        (Some(1980), Some(20), Some(1980))
    );
    let lines: Vec<i64> = done["rejected"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["line"].as_i64().unwrap())
        .collect();
    assert_eq!(lines, bad);
    let columns: std::collections::BTreeSet<&str> = done["rejected"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["column"].as_str().unwrap())
        .collect();
    assert_eq!(
        columns,
        [
            "quantity",
            "sku",
            "sold_at",
            "store",
            "total_excl",
            "unit_price"
        ]
        .into_iter()
        .collect()
    );
    let after = sales_count(&app, org).await;
    assert_eq!((after.0 - before.0, after.1 - before.1), (1980, 1980));
    assert_eq!(may_revenue(&app, &c.owner).await, (good_total, 1980));
    let (s, report) = get_text(
        &app,
        &format!("/api/v1/retail/imports/{}/rejected.csv", id_of(&done)),
        &c.owner,
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    let mut reader = csv::Reader::from_reader(report.as_bytes());
    assert_eq!(
        reader.headers().unwrap(),
        vec!["line", "column", "reason", "raw"]
    );
    let reported: Vec<i64> = reader
        .records()
        .map(|r| r.unwrap()[0].parse().unwrap())
        .collect();
    assert_eq!(reported, bad);
    assert!(
        report.contains("unknown store \"\"ZZ\"\"") || report.contains("unknown store"),
        "{report}"
    );

    // Re-importing the same file changes nothing (receipts are replaced, not added).
    let done = import_csv(&app, &c.owner, "", &csv).await;
    assert_eq!(done["accepted_rows"], 1980);
    assert_eq!(sales_count(&app, org).await, after);
    assert_eq!(may_revenue(&app, &c.owner).await, (good_total, 1980));
    // A changed receipt replaces the stored one: its new amount counts, once.
    let changed =
        "receipt,store,sold_at,sku,quantity,unit_price\nB0,N1,2025-05-01,APPLE,100,1.00\n";
    let done = import_csv(&app, &c.owner, "", changed).await;
    assert_eq!(done["accepted_rows"], 1);
    assert_eq!(sales_count(&app, org).await, after);
    assert_eq!(
        may_revenue(&app, &c.owner).await,
        (good_total - Decimal::ONE + Decimal::from(100), 1980)
    );

    // History lists every import with its counts.
    let (_, history) = app.get("/api/v1/retail/imports", &c.owner).await;
    assert_eq!(history.as_array().unwrap().len(), 5);
    assert_eq!(history[0]["accepted_rows"], 1);

    // The rollups the import kept equal a full rebuild.
    let incremental = rollup_snapshot(&app, org).await;
    let (s, r) = app
        .post("/api/v1/retail/rollups/rebuild", &c.owner, json!({}))
        .await;
    assert_eq!(s, StatusCode::OK, "{r}");
    assert_eq!(r["receipts"], 1980 + 6);
    assert_eq!(rollup_snapshot(&app, org).await, incremental);
}

/// Every non-zero rollup row, sorted.
pub async fn rollup_snapshot(app: &TestApp, org: OrgId) -> Vec<String> {
    use comptoir_retail::entities::{daily, monthly, store_daily};
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    let db = &app.state.db;
    let mut out = Vec::new();
    for r in daily::Entity::find()
        .filter(daily::Column::OrgId.eq(org.0))
        .all(db)
        .await
        .unwrap()
    {
        let m = (
            r.revenue_excl_e4,
            r.revenue_incl_e4,
            r.cost_e4,
            r.units,
            r.transactions,
        );
        if m != (0, 0, 0, 0, 0) {
            out.push(format!("d {} {} {} {m:?}", r.store_id, r.day, r.product_id));
        }
    }
    for r in store_daily::Entity::find()
        .filter(store_daily::Column::OrgId.eq(org.0))
        .all(db)
        .await
        .unwrap()
    {
        let m = (
            r.revenue_excl_e4,
            r.revenue_incl_e4,
            r.cost_e4,
            r.units,
            r.transactions,
        );
        if m != (0, 0, 0, 0, 0) {
            out.push(format!("s {} {} {m:?}", r.store_id, r.day));
        }
    }
    for r in monthly::Entity::find()
        .filter(monthly::Column::OrgId.eq(org.0))
        .all(db)
        .await
        .unwrap()
    {
        let m = (
            r.revenue_excl_e4,
            r.revenue_incl_e4,
            r.cost_e4,
            r.units,
            r.transactions,
        );
        if m != (0, 0, 0, 0, 0) {
            out.push(format!(
                "m {} {} {} {m:?}",
                r.store_id, r.month, r.category_id
            ));
        }
    }
    out.sort();
    assert!(out.len() > 10, "{out:?}");
    out
}

#[tokio::test]
async fn mappings_are_saved_per_source_and_xlsx_imports() {
    let app = TestApp::spawn().await;
    let org = app.create_org("Chain").await;
    let c = Chain::create(&app, org).await;
    let file = "Ticket;Magasin;Quand;Article;Qté;PU\nT-1;N1;2025-06-01 09:00;APPLE;3;1,50\n";
    // Without a mapping, the columns are missing: the import fails and says which.
    let done = import_csv(&app, &c.owner, "?source=till-a", file).await;
    assert_eq!(done["status"], "failed", "{done}");
    assert!(
        done["error"].as_str().unwrap().contains("sold_at"),
        "{done}"
    );
    let done = import_csv(
        &app,
        &c.owner,
        "?source=till-a&map=Quand:sold_at,Article:sku,Qté:quantity,PU:unit_price",
        file,
    )
    .await;
    assert_eq!(
        (done["status"].as_str(), done["accepted_rows"].as_i64()),
        (Some("completed"), Some(1)),
        "{done}"
    );
    // The next file from the same source needs no mapping.
    let done = import_csv(
        &app,
        &c.owner,
        "?source=till-a",
        &file.replace("T-1", "T-2"),
    )
    .await;
    assert_eq!(done["accepted_rows"], 1, "{done}");
    let (_, maps) = app.get("/api/v1/retail/mappings", &c.owner).await;
    assert_eq!(maps[0]["source"], "till-a");
    assert_eq!(maps[0]["map"]["quand"], "sold_at");
    let (s, b) = app
        .call(
            Method::PUT,
            "/api/v1/retail/mappings",
            Some(&c.owner),
            Some(json!({"source": "x", "map": {"A": "nope"}})),
        )
        .await;
    assert_error(s, &b, 422, "validation_failed");
    let (s, b) = app
        .call(
            Method::PUT,
            "/api/v1/retail/mappings",
            Some(&c.owner),
            Some(json!({"source": "bad name!", "map": {}})),
        )
        .await;
    assert_error(s, &b, 422, "validation_failed");

    // XLSX: dates as spreadsheet dates, numbers as numbers.
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    for (col, h) in [
        "receipt",
        "store",
        "sold_at",
        "sku",
        "quantity",
        "unit_price",
    ]
    .iter()
    .enumerate()
    {
        sheet.write_string(0, col as u16, *h).unwrap();
    }
    let date = rust_xlsxwriter::ExcelDateTime::parse_from_str("2025-06-02 10:30:00").unwrap();
    let fmt = rust_xlsxwriter::Format::new().set_num_format("yyyy-mm-dd hh:mm");
    sheet.write_string(1, 0, "X-1").unwrap();
    sheet.write_string(1, 1, "N2").unwrap();
    sheet.write_datetime_with_format(1, 2, &date, &fmt).unwrap();
    sheet.write_string(1, 3, "COLA").unwrap();
    sheet.write_number(1, 4, 4).unwrap();
    sheet.write_number(1, 5, 2.25).unwrap();
    sheet.write_string(2, 0, "X-2").unwrap();
    sheet.write_string(2, 1, "N2").unwrap();
    sheet.write_string(2, 2, "not a date").unwrap();
    sheet.write_string(2, 3, "COLA").unwrap();
    sheet.write_number(2, 4, 1).unwrap();
    sheet.write_number(2, 5, 1).unwrap();
    let bytes = book.save_to_buffer().unwrap();
    let (s, done) = import(&app, &c.owner, "", XLSX, bytes).await;
    assert_eq!(s, StatusCode::ACCEPTED, "{done}");
    assert_eq!(
        (
            done["format"].as_str(),
            done["accepted_rows"].as_i64(),
            done["rejected_rows"].as_i64()
        ),
        (Some("xlsx"), Some(1), Some(1)),
        "{done}"
    );
    assert_eq!(
        (
            done["rejected"][0]["line"].as_i64(),
            done["rejected"][0]["column"].as_str()
        ),
        (Some(3), Some("sold_at"))
    );
    let (_, d) = app
        .get(
            &format!(
                "/api/v1/retail/dashboard?from=2025-06&to=2025-06&store_id={}",
                c.n2
            ),
            &c.owner,
        )
        .await;
    assert_eq!(dec(&d["figures"]["revenue_excl"]), "9".parse().unwrap());
    // A wrong content type, a fake workbook, an empty file.
    let (s, b) = import(&app, &c.owner, "", "application/json", b"{}".to_vec()).await;
    assert_error(s, &b, 415, "unsupported_media_type");
    let (s, b) = import(&app, &c.owner, "", XLSX, b"not a zip".to_vec()).await;
    assert_error(s, &b, 422, "validation_failed");
    let (s, b) = import(&app, &c.owner, "", "text/csv", b"  \n".to_vec()).await;
    assert_error(s, &b, 422, "validation_failed");
    let (s, b) = import(
        &app,
        &c.owner,
        "?policy=sometimes",
        "text/csv",
        SALES.as_bytes().to_vec(),
    )
    .await;
    assert_error(s, &b, 400, "invalid_parameter");
}

#[tokio::test]
async fn what_if_projects_from_last_year_within_the_callers_scope() {
    let app = TestApp::spawn().await;
    let org = app.create_org("Chain").await;
    let c = Chain::create(&app, org).await;
    let (s, _) = app
        .call(
            Method::PUT,
            &format!("/api/v1/retail/stores/{}/targets", c.n1),
            Some(&c.owner),
            Some(json!([{"year": 2026, "month": 3, "revenue": "10"}])),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    let run = |token: String, levers: Value| {
        let app = &app;
        async move {
            let (s, p) = app
                .post(
                    "/api/v1/retail/whatif",
                    &token,
                    json!({"from": "2026-03", "months": 2, "levers": levers}),
                )
                .await;
            (s, p)
        }
    };
    // No lever: the projection is last year's same months.
    let (s, p) = run(c.owner.clone(), json!([])).await;
    assert_eq!(s, StatusCode::OK, "{p}");
    let t = &p["total"];
    assert_eq!(dec(&t["baseline_revenue"]), Decimal::new(24, 0));
    assert_eq!(dec(&t["projected_revenue"]), Decimal::new(24, 0));
    assert_eq!(dec(&t["projected_margin"]), Decimal::new(16, 0));
    assert_eq!(dec(&t["projected_target"]), Decimal::new(10, 0));
    // +10 % price, elasticity 0: +10 % revenue; the sensitivity ranks price first.
    let (_, p) = run(
        c.owner.clone(),
        json!([{"kind": "price", "pct": 10}, {"kind": "elasticity", "value": 0}]),
    )
    .await;
    assert_eq!(
        dec(&p["total"]["projected_revenue"]),
        "26.4".parse().unwrap()
    );
    assert_eq!(p["sensitivity"][0]["lever"], "price", "{p}");
    // Close N1 for the whole horizon, open a store like N2, raise N1's target by half.
    let (_, p) = run(
        c.owner.clone(),
        json!([
            {"kind": "close_store", "store_id": c.n1, "from": "2026-03"},
            {"kind": "open_store", "name": "Arras", "like_store_id": c.n2, "from": "2026-03"},
            {"kind": "target", "pct": 50, "scope": {"store_id": c.n1}}
        ]),
    )
    .await;
    assert_eq!(
        dec(&p["total"]["projected_revenue"]),
        Decimal::new(24 - 12 + 6, 0),
        "{p}"
    );
    assert_eq!(dec(&p["total"]["projected_target"]), Decimal::new(15, 0));
    assert!(
        p["stores"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["label"] == "Arras")
    );
    // A regional manager projects their region only, and cannot name another's store: a
    // lever naming it is refused like an unknown id, with the lever's field.
    let rm = scoped_token(&app, org, Role::RegionalManager, Some(&c.north), None).await;
    let (_, p) = run(rm.clone(), json!([])).await;
    assert_eq!(dec(&p["total"]["baseline_revenue"]), Decimal::new(18, 0));
    let south_region = c.south.clone();
    for (levers, field) in [
        (
            json!([{"kind": "close_store", "store_id": c.s1, "from": "2026-03"}]),
            "levers[0].store_id",
        ),
        (
            json!([{"kind": "open_store", "name": "X", "like_store_id": c.s1, "from": "2026-03"}]),
            "levers[0].like_store_id",
        ),
        (
            json!([{"kind": "volume", "pct": 5}, {"kind": "price", "pct": 5, "scope": {"store_id": c.s1}}]),
            "levers[1].scope.store_id",
        ),
        (
            json!([{"kind": "price", "pct": 5, "scope": {"region_id": south_region}}]),
            "levers[0].scope.region_id",
        ),
    ] {
        let (s, b) = run(rm.clone(), levers).await;
        assert_error(s, &b, 422, "validation_failed");
        assert_eq!(b["details"]["fields"][0]["field"], field, "{b}");
    }
    let nowhere = uuid::Uuid::now_v7();
    for (bad, field) in [
        (
            json!([{"kind": "price", "pct": -500}]),
            Some("levers[0].pct"),
        ),
        (
            json!([{"kind": "elasticity", "value": f64::MAX}]),
            Some("levers[0].value"),
        ),
        (json!([{"kind": "warp"}]), None),
        (
            json!([{"kind": "close_store", "store_id": c.n1, "from": "soon"}]),
            Some("levers[0].from"),
        ),
        (
            json!([{"kind": "cost", "pct": 1, "scope": {"category_id": nowhere}}]),
            Some("levers[0].scope.category_id"),
        ),
    ] {
        let (s, b) = run(c.owner.clone(), bad).await;
        assert_error(s, &b, 422, "validation_failed");
        if let Some(field) = field {
            assert_eq!(b["details"]["fields"][0]["field"], field, "{b}");
        }
    }
    let (s, b) = app
        .post(
            "/api/v1/retail/whatif",
            &c.owner,
            json!({"from": "2026-03", "months": 99}),
        )
        .await;
    assert_error(s, &b, 422, "validation_failed");
}

#[tokio::test]
async fn the_cli_imports_sales_with_progress_and_rebuilds() {
    use sea_orm::EntityTrait;
    let app = TestApp::spawn().await;
    let org = app.create_org("Retail CLI").await;
    let c = Chain::create(&app, org).await;
    let slug = comptoir_kernel::entities::orgs::Entity::find_by_id(org.0)
        .one(&app.state.db)
        .await
        .unwrap()
        .unwrap()
        .slug;
    let file = app.data_dir().join("sales.csv");
    std::fs::write(
        &file,
        "receipt;store;sold_at;sku;quantity;unit_price\nC-1;N2;2025-04-20;COLA;2;2,50\nC-2;XX;2025-04-20;COLA;1;1\n",
    )
    .unwrap();
    let cli = |args: Vec<String>| {
        let app = &app;
        async move {
            let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_comptoir"))
                .env_clear()
                .env("PATH", std::env::var("PATH").unwrap_or_default())
                .env("COMPTOIR_DATA_DIR", app.data_dir())
                .env("COMPTOIR_DATABASE_URL", app.database_url())
                .env("COMPTOIR_LOG", "warn")
                .env("COMPTOIR_JOBS__POLL_INTERVAL_MS", "50")
                .args(args)
                .output()
                .await
                .unwrap();
            (
                out.status.success(),
                String::from_utf8_lossy(&out.stdout).into_owned(),
                String::from_utf8_lossy(&out.stderr).into_owned(),
            )
        }
    };
    let args = ["retail", "import", file.to_str().unwrap(), "--org", &slug];
    let (ok, stdout, stderr) = cli(args.iter().map(|s| s.to_string()).collect()).await;
    assert!(ok, "{stdout}\n{stderr}");
    assert!(
        stdout.contains("1 rows accepted in 1 receipts, 1 rejected"),
        "{stdout}"
    );
    assert!(stdout.contains("line 3: store"), "{stdout}");
    assert!(stderr.contains("2/2 rows"), "a progress bar: {stderr}");
    let (_, d) = app
        .get(
            &format!(
                "/api/v1/retail/dashboard?from=2025-04&to=2025-04&store_id={}",
                c.n2
            ),
            &c.owner,
        )
        .await;
    assert_eq!(dec(&d["figures"]["revenue_excl"]), Decimal::new(11, 0));
    let args = ["retail", "rebuild", "--org", &slug];
    let (ok, stdout, stderr) = cli(args.iter().map(|s| s.to_string()).collect()).await;
    assert!(
        ok && stdout.contains("from 7 receipts"),
        "{stdout}\n{stderr}"
    );
    let (_, again) = app
        .get(
            &format!(
                "/api/v1/retail/dashboard?from=2025-04&to=2025-04&store_id={}",
                c.n2
            ),
            &c.owner,
        )
        .await;
    assert_eq!(again["figures"], d["figures"]);
    let (ok, _, stderr) = cli(vec![
        "retail".into(),
        "import".into(),
        file.to_str().unwrap().into(),
        "--org".into(),
        slug.clone(),
        "--policy".into(),
        "sometimes".into(),
    ])
    .await;
    assert!(!ok && stderr.contains("unknown policy"), "{stderr}");
}

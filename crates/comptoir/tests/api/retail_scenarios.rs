//! Retail: saved, versioned what-if scenarios (versions, optimistic concurrency, run,
//! compare, archive), their role scoping and validation, and the forecast baseline (the
//! forecast and backtest endpoints, the what-if on a forecast baseline).

use std::collections::BTreeMap;

use comptoir_kernel::auth::Role;
use comptoir_kernel::ids::OrgId;
use reqwest::{Method, StatusCode};
use rust_decimal::Decimal;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{TestApp, assert_error};
use crate::retail::{Chain, dec, import_csv, scoped_token};

const BASE: &str = "/api/v1/retail/scenarios";

#[track_caller]
fn d(s: &str) -> Decimal {
    s.parse().unwrap()
}

async fn save(app: &TestApp, token: &str, body: Value) -> Value {
    let (s, v) = app.post(BASE, token, body).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    v
}

async fn put(app: &TestApp, token: &str, id: &str, body: Value) -> (StatusCode, Value) {
    app.call(
        Method::PUT,
        &format!("{BASE}/{id}"),
        Some(token),
        Some(body),
    )
    .await
}

fn row<'a>(rows: &'a Value, code: &str) -> &'a Value {
    rows.as_array()
        .unwrap()
        .iter()
        .find(|r| r["code"] == code)
        .unwrap_or_else(|| panic!("no {code} in {rows}"))
}

/// Org B's scenario for the isolation test: path template → (id, a valid body).
pub async fn isolation_fixtures(
    app: &TestApp,
    chain: &Chain,
) -> BTreeMap<&'static str, (String, Value)> {
    let body = json!({"name": "Org B plan", "from": "2026-03", "months": 2});
    let id = save(app, &chain.owner, body.clone()).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    BTreeMap::from([
        ("/api/v1/retail/scenarios/{id}", (id.clone(), body.clone())),
        ("/api/v1/retail/scenarios/{id}/run", (id, json!({}))),
    ])
}

#[tokio::test]
async fn scenarios_keep_every_version_and_compare_against_their_baseline() {
    let app = TestApp::spawn().await;
    let org = app.create_org("Chain").await;
    let c = Chain::create(&app, org).await;
    // Version 1: +10 % price, no elasticity. Last year's March–April: N1 12, N2 6, S1 6.
    let v1 = save(
        &app,
        &c.owner,
        json!({"name": "Price +10", "description": "Spring pricing", "from": "2026-03", "months": 2,
            "levers": [{"kind": "price", "pct": 10}, {"kind": "elasticity", "value": 0}]}),
    )
    .await;
    let id = v1["id"].as_str().unwrap().to_owned();
    assert_eq!(v1["latest_version"], 1, "{v1}");
    assert_eq!(v1["version"], 1);
    assert_eq!(v1["baseline"], "last_year");
    assert_eq!(v1["versions"].as_array().unwrap().len(), 1);
    assert_eq!(v1["created_by"], v1["owner_id"]);
    // Version 2 from version 1: every lever at zero.
    let (s, v2) = put(
        &app,
        &c.owner,
        &id,
        json!({"name": "Flat", "from": "2026-03", "months": 2, "expected_version": 1,
            "levers": [{"kind": "price", "pct": 0}, {"kind": "volume", "pct": 0}, {"kind": "cost", "pct": 0}]}),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v2}");
    assert_eq!(
        (v2["latest_version"].as_i64(), v2["version"].as_i64()),
        (Some(2), Some(2))
    );
    let versions: Vec<i64> = v2["versions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["version"].as_i64().unwrap())
        .collect();
    assert_eq!(versions, [1, 2]);
    // A change made from version 1 is stale now.
    let (s, b) = put(
        &app,
        &c.owner,
        &id,
        json!({"name": "Late", "from": "2026-03", "months": 2, "expected_version": 1}),
    )
    .await;
    assert_error(s, &b, 409, "conflict");
    assert_eq!(b["details"]["latest_version"], 2, "{b}");
    // Version 3 without `expected_version` (last writer wins), then both older versions
    // are still there, unchanged.
    let (s, v3) = put(
        &app,
        &c.owner,
        &id,
        json!({"name": "Flat", "description": "Same, longer", "from": "2026-03", "months": 2,
            "levers": []}),
    )
    .await;
    assert_eq!((s, v3["version"].as_i64()), (StatusCode::OK, Some(3)));
    let (s, old) = app.get(&format!("{BASE}/{id}?version=1"), &c.owner).await;
    assert_eq!(s, StatusCode::OK, "{old}");
    assert_eq!(old["name"], "Price +10");
    assert_eq!(old["description"], "Spring pricing");
    assert_eq!(old["levers"].as_array().unwrap().len(), 2);
    assert_eq!(old["latest_version"], 3);
    let (_, latest) = app.get(&format!("{BASE}/{id}"), &c.owner).await;
    assert_eq!(
        (latest["version"].as_i64(), latest["description"].as_str()),
        (Some(3), Some("Same, longer"))
    );
    let (s, b) = app.get(&format!("{BASE}/{id}?version=4"), &c.owner).await;
    assert_error(s, &b, 404, "not_found");
    let (s, b) = app.get(&format!("{BASE}/{id}?version=0"), &c.owner).await;
    assert_error(s, &b, 400, "invalid_parameter");

    // Running: version 1 is +10 % revenue; the latest has every lever at zero.
    let (s, p) = app
        .post(&format!("{BASE}/{id}/run?version=1"), &c.owner, json!({}))
        .await;
    assert_eq!(s, StatusCode::OK, "{p}");
    assert_eq!(dec(&p["total"]["projected_revenue"]), d("26.4"));
    let (_, p) = app
        .post(&format!("{BASE}/{id}/run"), &c.owner, json!({}))
        .await;
    assert_eq!(dec(&p["total"]["baseline_revenue"]), d("24"));
    assert_eq!(
        p["total"]["projected_revenue"],
        p["total"]["baseline_revenue"]
    );
    assert_eq!(
        p["total"]["projected_margin"],
        p["total"]["baseline_margin"]
    );

    // A second scenario: volume −20 % in the South.
    let other = save(
        &app,
        &c.owner,
        json!({"name": "South slump", "from": "2026-03", "months": 2,
            "levers": [{"kind": "volume", "pct": -20, "scope": {"region_id": c.south}}]}),
    )
    .await;
    let (s, cmp) = app
        .post(
            &format!("{BASE}/compare"),
            &c.owner,
            json!({"scenarios": [{"id": id, "version": 1}, {"id": id}, {"id": other["id"]}]}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{cmp}");
    let [price, flat, slump] = [0, 1, 2].map(|i| &cmp["scenarios"][i]);
    assert_eq!(
        (price["version"].as_i64(), flat["version"].as_i64()),
        (Some(1), Some(3))
    );
    assert_eq!(price["name"], "Price +10");
    // +10 % on each store and region, and on the total.
    assert_eq!(dec(&price["total"]["revenue_change"]), d("2.4"));
    assert_eq!(dec(&price["total"]["revenue_change_pct"]), d("10"));
    for (code, change) in [("NORTH", "1.8"), ("SOUTH", "0.6")] {
        assert_eq!(
            dec(&row(&price["regions"], code)["revenue_change"]),
            d(change)
        );
    }
    for (code, change) in [("N1", "1.2"), ("N2", "0.6"), ("S1", "0.6")] {
        let r = row(&price["stores"], code);
        assert_eq!(dec(&r["revenue_change"]), d(change), "{r}");
        // Elasticity 0: the units and the cost stay, the margin gains the whole change.
        assert_eq!(dec(&r["margin_change"]), dec(&r["revenue_change"]), "{r}");
    }
    // Every lever at zero: the baseline exactly, everywhere.
    for part in [&flat["regions"], &flat["stores"]] {
        for r in part.as_array().unwrap() {
            assert_eq!(dec(&r["revenue_change"]), Decimal::ZERO, "{r}");
            assert_eq!(dec(&r["margin_change"]), Decimal::ZERO, "{r}");
        }
    }
    assert_eq!(dec(&flat["total"]["revenue_change"]), Decimal::ZERO);
    // The South loses 20 % of its 6 (S1 sells cola: cost 0.50 a unit, 3 units → margin 4.5).
    assert_eq!(
        dec(&row(&slump["regions"], "SOUTH")["revenue_change"]),
        d("-1.2")
    );
    assert_eq!(
        dec(&row(&slump["regions"], "SOUTH")["margin_change"]),
        d("-0.9")
    );
    assert_eq!(
        dec(&row(&slump["regions"], "NORTH")["revenue_change"]),
        Decimal::ZERO
    );
    for s in [price, flat, slump] {
        assert_eq!(s["sensitivity"].as_array().unwrap().len(), 3, "{s}");
    }
    // With elasticity 0 on top of +10 %, one more price point moves the margin most.
    assert_eq!(price["sensitivity"][0]["lever"], "price");

    for bad in [
        json!([{"id": id}]),
        Value::Array(vec![json!({"id": id}); 5]),
    ] {
        let (s, b) = app
            .post(
                &format!("{BASE}/compare"),
                &c.owner,
                json!({"scenarios": bad}),
            )
            .await;
        assert_error(s, &b, 422, "validation_failed");
        assert_eq!(b["details"]["fields"][0]["field"], "scenarios", "{b}");
    }
    let (s, b) = app
        .post(
            &format!("{BASE}/compare"),
            &c.owner,
            json!({"scenarios": [{"id": id, "version": 9}, {"id": id}]}),
        )
        .await;
    assert_error(s, &b, 404, "not_found");

    // The listing shows each scenario's latest version; an archived one is gone.
    let (_, list) = app.get(BASE, &c.owner).await;
    assert_eq!(list.as_array().unwrap().len(), 2, "{list}");
    let listed = list
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == id.as_str())
        .unwrap();
    assert_eq!(
        (listed["latest_version"].as_i64(), listed["name"].as_str()),
        (Some(3), Some("Flat"))
    );
    let (s, _) = app
        .call(
            Method::DELETE,
            &format!("{BASE}/{id}"),
            Some(&c.owner),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    for (method, path) in [
        (Method::GET, format!("{BASE}/{id}")),
        (Method::POST, format!("{BASE}/{id}/run")),
        (Method::DELETE, format!("{BASE}/{id}")),
    ] {
        let (s, b) = app.call(method, &path, Some(&c.owner), None).await;
        assert_error(s, &b, 404, "not_found");
    }
    let (_, list) = app.get(BASE, &c.owner).await;
    assert_eq!(list.as_array().unwrap().len(), 1, "{list}");
}

#[tokio::test]
async fn scenarios_are_scoped_by_role_and_tenant() {
    let app = TestApp::spawn().await;
    let org = app.create_org("Chain").await;
    let c = Chain::create(&app, org).await;
    // A chain-wide plan: close S1, +10 % price at N1 with elasticity 0.
    let plan = save(
        &app,
        &c.owner,
        json!({"name": "Chain plan", "from": "2026-03", "months": 2, "levers": [
            {"kind": "close_store", "store_id": c.s1, "from": "2026-03"},
            {"kind": "price", "pct": 10, "scope": {"store_id": c.n1}},
            {"kind": "elasticity", "value": 0}]}),
    )
    .await;
    let plan_id = plan["id"].as_str().unwrap().to_owned();
    let (_, p) = app
        .post(&format!("{BASE}/{plan_id}/run"), &c.owner, json!({}))
        .await;
    assert_eq!(dec(&p["total"]["projected_revenue"]), d("19.2"), "{p}");

    // The North's manager sees it and runs it over the North only (S1's closing is not
    // theirs to see: it is left out).
    let north = scoped_token(&app, org, Role::RegionalManager, Some(&c.north), None).await;
    let (_, list) = app.get(BASE, &north).await;
    assert!(list.to_string().contains(&plan_id), "{list}");
    let (s, p) = app
        .post(&format!("{BASE}/{plan_id}/run"), &north, json!({}))
        .await;
    assert_eq!(s, StatusCode::OK, "{p}");
    assert_eq!(dec(&p["total"]["baseline_revenue"]), d("18"));
    assert_eq!(dec(&p["total"]["projected_revenue"]), d("19.2"));
    let codes: Vec<&str> = p["stores"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, ["N1", "N2"]);
    assert_eq!(p["regions"].as_array().unwrap().len(), 1);
    // ...but may not change the chain's plan, and may not name the South in their own.
    let (s, b) = put(
        &app,
        &north,
        &plan_id,
        json!({"name": "Mine now", "from": "2026-03", "months": 2}),
    )
    .await;
    assert_error(s, &b, 403, "forbidden");
    let (s, b) = app
        .post(
            BASE,
            &north,
            json!({"name": "Raid", "from": "2026-03", "months": 2,
                "levers": [{"kind": "price", "pct": 5, "scope": {"store_id": c.s1}}]}),
        )
        .await;
    assert_error(s, &b, 422, "validation_failed");
    assert_eq!(
        b["details"]["fields"][0]["field"],
        "levers[0].scope.store_id"
    );
    let (s, b) = app
        .post(
            BASE,
            &north,
            json!({"name": "Raid", "from": "2026-03", "months": 2,
                "levers": [{"kind": "close_store", "store_id": c.s1, "from": "2026-03"}]}),
        )
        .await;
    assert_error(s, &b, 422, "validation_failed");
    assert_eq!(b["details"]["fields"][0]["field"], "levers[0].store_id");
    // The North's own plan belongs to the North: the South's manager and S1's manager do
    // not see it (404 everywhere), N1's manager does.
    let mine = save(
        &app,
        &north,
        json!({"name": "North push", "from": "2026-03", "months": 1,
            "levers": [{"kind": "volume", "pct": 5, "scope": {"store_id": c.n2}}]}),
    )
    .await;
    let mine_id = mine["id"].as_str().unwrap().to_owned();
    assert_eq!(mine["scope_region_id"], c.north.as_str());
    let (s, v) = put(
        &app,
        &north,
        &mine_id,
        json!({"name": "North push", "from": "2026-03", "months": 2, "expected_version": 1,
            "levers": [{"kind": "volume", "pct": 5, "scope": {"store_id": c.n2}}]}),
    )
    .await;
    assert_eq!((s, v["version"].as_i64()), (StatusCode::OK, Some(2)), "{v}");
    let south = scoped_token(&app, org, Role::RegionalManager, Some(&c.south), None).await;
    let s1_manager = scoped_token(&app, org, Role::StoreManager, None, Some(&c.s1)).await;
    let n1_manager = scoped_token(&app, org, Role::StoreManager, None, Some(&c.n1)).await;
    for token in [&south, &s1_manager] {
        let (_, list) = app.get(BASE, token).await;
        assert!(!list.to_string().contains(&mine_id), "{list}");
        assert!(list.to_string().contains(&plan_id), "{list}");
        for (method, path, body) in [
            (Method::GET, format!("{BASE}/{mine_id}"), None),
            (Method::POST, format!("{BASE}/{mine_id}/run"), None),
            (
                Method::PUT,
                format!("{BASE}/{mine_id}"),
                Some(json!({"name": "x", "from": "2026-03", "months": 1})),
            ),
            (Method::DELETE, format!("{BASE}/{mine_id}"), None),
            (
                Method::POST,
                format!("{BASE}/compare"),
                Some(json!({"scenarios": [{"id": plan_id}, {"id": mine_id}]})),
            ),
        ] {
            let (s, b) = app.call(method, &path, Some(token), body).await;
            assert_error(s, &b, 404, "not_found");
        }
    }
    let (s, _) = app.get(&format!("{BASE}/{mine_id}"), &n1_manager).await;
    assert_eq!(s, StatusCode::OK);
    // The director sees and compares both.
    let (s, cmp) = app
        .post(
            &format!("{BASE}/compare"),
            &c.owner,
            json!({"scenarios": [{"id": plan_id}, {"id": mine_id}]}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{cmp}");
    assert_eq!(
        dec(&cmp["scenarios"][1]["total"]["revenue_change"]),
        d("0.3")
    );

    // Analysts read and run, never save.
    let analyst = app.token_for(org, Role::Analyst).await;
    let (s, b) = app
        .post(
            BASE,
            &analyst,
            json!({"name": "A", "from": "2026-03", "months": 1}),
        )
        .await;
    assert_error(s, &b, 403, "forbidden");
    let (s, b) = put(
        &app,
        &analyst,
        &plan_id,
        json!({"name": "A", "from": "2026-03", "months": 1}),
    )
    .await;
    assert_error(s, &b, 403, "forbidden");
    let (s, b) = app
        .call(
            Method::DELETE,
            &format!("{BASE}/{plan_id}"),
            Some(&analyst),
            None,
        )
        .await;
    assert_error(s, &b, 403, "forbidden");
    let (s, list) = app.get(BASE, &analyst).await;
    assert_eq!((s, list.as_array().unwrap().len()), (StatusCode::OK, 2));
    let (s, p) = app
        .post(&format!("{BASE}/{plan_id}/run"), &analyst, json!({}))
        .await;
    assert_eq!(
        (s, dec(&p["total"]["projected_revenue"])),
        (StatusCode::OK, d("19.2"))
    );
    let (s, _) = app
        .post(
            &format!("{BASE}/compare"),
            &analyst,
            json!({"scenarios": [{"id": plan_id}, {"id": mine_id}]}),
        )
        .await;
    assert_eq!(s, StatusCode::OK);

    // Another organization's owner: 404 on everything, an empty listing.
    let other_org: OrgId = app.create_org("Other").await;
    let stranger = app.token_for(other_org, Role::Owner).await;
    let (_, list) = app.get(BASE, &stranger).await;
    assert_eq!(list, json!([]));
    for (method, path, body) in [
        (Method::GET, format!("{BASE}/{plan_id}"), None),
        (Method::POST, format!("{BASE}/{plan_id}/run"), None),
        (
            Method::PUT,
            format!("{BASE}/{plan_id}"),
            Some(json!({"name": "x", "from": "2026-03", "months": 1})),
        ),
        (Method::DELETE, format!("{BASE}/{plan_id}"), None),
        (
            Method::POST,
            format!("{BASE}/compare"),
            Some(json!({"scenarios": [{"id": plan_id}, {"id": plan_id, "version": 1}]})),
        ),
    ] {
        let (s, b) = app.call(method, &path, Some(&stranger), body).await;
        assert_error(s, &b, 404, "not_found");
    }
    let (_, still) = app.get(&format!("{BASE}/{plan_id}"), &c.owner).await;
    assert_eq!(still["latest_version"], 1);
}

#[tokio::test]
async fn bad_scenarios_are_422_with_the_field_at_fault() {
    let app = TestApp::spawn().await;
    let org = app.create_org("Chain").await;
    let c = Chain::create(&app, org).await;
    let nowhere = Uuid::now_v7().to_string();
    let lever = |l: Value| json!({"name": "X", "from": "2026-03", "months": 2, "levers": [l]});
    let cases = [
        (json!({"name": " ", "from": "2026-03", "months": 2}), "name"),
        (json!({"name": "X", "from": "2026-13", "months": 2}), "from"),
        (
            json!({"name": "X", "from": "2026-03", "months": 0}),
            "months",
        ),
        (
            json!({"name": "X", "from": "2026-03", "months": 37}),
            "months",
        ),
        (json!({"name": "X", "from": "2026-03"}), "months"),
        (
            json!({"name": "X", "from": "2026-03", "months": 2, "description": "x".repeat(2001)}),
            "description",
        ),
        (
            json!({"name": "X", "from": "2026-03", "months": 2, "baseline": "psychic"}),
            "baseline",
        ),
        (
            json!({"name": "X", "from": "2026-03", "months": 2, "expected_version": 1}),
            "expected_version",
        ),
        (
            lever(json!({"kind": "price", "pct": -100})),
            "levers[0].pct",
        ),
        (
            lever(json!({"kind": "volume", "pct": 5000})),
            "levers[0].pct",
        ),
        (
            lever(json!({"kind": "elasticity", "value": -1e9})),
            "levers[0].value",
        ),
        (
            lever(json!({"kind": "price", "pct": 5, "scope": {"region_id": nowhere}})),
            "levers[0].scope.region_id",
        ),
        (
            lever(json!({"kind": "cost", "pct": 5, "scope": {"store_id": nowhere}})),
            "levers[0].scope.store_id",
        ),
        (
            lever(json!({"kind": "target", "pct": 5, "scope": {"category_id": nowhere}})),
            "levers[0].scope.category_id",
        ),
        (
            lever(json!({"kind": "close_store", "store_id": nowhere, "from": "2026-03"})),
            "levers[0].store_id",
        ),
        (
            lever(json!({"kind": "close_store", "store_id": c.n1, "from": "soon"})),
            "levers[0].from",
        ),
        (
            lever(
                json!({"kind": "open_store", "name": "New", "like_store_id": nowhere, "from": "2026-03"}),
            ),
            "levers[0].like_store_id",
        ),
        (
            lever(
                json!({"kind": "open_store", "name": "", "like_store_id": c.n1, "from": "2026-03"}),
            ),
            "levers[0].name",
        ),
    ];
    let existing = save(
        &app,
        &c.owner,
        json!({"name": "Keep", "from": "2026-03", "months": 1}),
    )
    .await;
    let id = existing["id"].as_str().unwrap();
    for (body, field) in cases {
        let (s, b) = app.post(BASE, &c.owner, body.clone()).await;
        assert_error(s, &b, 422, "validation_failed");
        assert_eq!(b["details"]["fields"][0]["field"], field, "{body}: {b}");
        if field != "expected_version" {
            let (s, b) = put(&app, &c.owner, id, body.clone()).await;
            assert_error(s, &b, 422, "validation_failed");
            assert_eq!(b["details"]["fields"][0]["field"], field, "PUT {body}: {b}");
        }
    }
    // Nothing was saved by the bad requests.
    let (_, list) = app.get(BASE, &c.owner).await;
    assert_eq!(list.as_array().unwrap().len(), 1);
    let (_, kept) = app.get(&format!("{BASE}/{id}"), &c.owner).await;
    assert_eq!(kept["latest_version"], 1);
    let (s, b) = app
        .call(
            Method::GET,
            &format!("{BASE}/not-a-uuid"),
            Some(&c.owner),
            None,
        )
        .await;
    assert_error(s, &b, 400, "invalid_parameter");
}

/// A fresh chain of one store (F1, region R) selling APPLE (food, bought 0.40) for 48
/// months, January 2022 to December 2025: units = 200 + 3t + 50 sin(2πt/12) + noise.
async fn seasonal_chain(app: &TestApp, org: OrgId) -> (String, String, String, Vec<f64>) {
    let owner = app.token_for(org, Role::Owner).await;
    let post = |path: &'static str, body: Value| {
        let owner = owner.clone();
        async move {
            let (s, v) = app.post(path, &owner, body).await;
            assert_eq!(s, StatusCode::CREATED, "{path}: {v}");
            v["id"].as_str().unwrap().to_owned()
        }
    };
    let food = post(
        "/api/v1/catalog/categories",
        json!({"code": "food", "name": "Food"}),
    )
    .await;
    post(
        "/api/v1/catalog/products",
        json!({"sku": "APPLE", "name": "Apple", "category_id": food,
            "sale_price": "1.00", "purchase_price": "0.40", "vat_rate": "5.5", "status": "active"}),
    )
    .await;
    let region = post(
        "/api/v1/retail/regions",
        json!({"code": "R", "name": "Region"}),
    )
    .await;
    let store = post(
        "/api/v1/retail/stores",
        json!({"region_id": region, "code": "F1", "name": "Forecast store"}),
    )
    .await;
    let mut csv = String::from("receipt,store,sold_at,sku,quantity,unit_price\n");
    let mut units = Vec::new();
    for t in 0..48u32 {
        let noise = [4.0, -3.0, 6.0, -5.0, 1.0, -2.0, 5.0][t as usize % 7];
        let season = 50.0 * (2.0 * std::f64::consts::PI * f64::from(t) / 12.0).sin();
        let q = (200.0 + 3.0 * f64::from(t) + season + noise).round();
        units.push(q);
        let (y, m) = (2022 + t / 12, t % 12 + 1);
        csv.push_str(&format!("F-{y}-{m:02},F1,{y}-{m:02}-10,APPLE,{q},1.00\n"));
    }
    let _worker = app.start_worker();
    let done = import_csv(app, &owner, "", &csv).await;
    assert_eq!(done["accepted_rows"], 48, "{done}");
    (owner, store, food, units)
}

#[tokio::test]
async fn the_forecast_baseline_is_backtested_and_feeds_the_what_if() {
    let app = TestApp::spawn().await;
    let org = app.create_org("Seasonal").await;
    let (owner, store, food, units) = seasonal_chain(&app, org).await;
    let scope = format!("store_id={store}&category_id={food}");
    let (s, f) = app
        .get(&format!("/api/v1/retail/forecast?{scope}&months=6"), &owner)
        .await;
    assert_eq!(s, StatusCode::OK, "{f}");
    assert_eq!(
        (f["level"].as_u64(), f["method"].as_str()),
        (Some(80), Some("mstl_ets"))
    );
    assert_eq!(f["history"].as_array().unwrap().len(), 48);
    assert_eq!(f["history"][47]["month"], "2025-12");
    assert_eq!(
        dec(&f["history"][47]["revenue"]),
        Decimal::from(units[47] as i64)
    );
    let points = f["points"].as_array().unwrap();
    assert_eq!(points.len(), 6);
    assert_eq!(
        (points[0]["month"].as_str(), points[5]["month"].as_str()),
        (Some("2026-01"), Some("2026-06"))
    );
    for p in points {
        let (lo, mean, hi) = (dec(&p["lower"]), dec(&p["mean"]), dec(&p["upper"]));
        assert!(lo < mean && mean < hi, "{p}");
        // Trend ~344 in 2026 and a season of ±50.
        assert!(mean > d("250") && mean < d("450"), "{p}");
    }
    // Next April (the season's peak) is above next January, as in the data.
    assert!(dec(&points[3]["mean"]) > dec(&points[0]["mean"]), "{f}");
    let (_, wide) = app
        .get(
            &format!("/api/v1/retail/forecast?{scope}&months=6&level=95"),
            &owner,
        )
        .await;
    let width = |p: &Value| dec(&p["upper"]) - dec(&p["lower"]);
    assert!(width(&wide["points"][0]) > width(&f["points"][0]), "{wide}");
    assert_eq!(wide["points"][0]["mean"], f["points"][0]["mean"]);

    // The backtest: hold out 2025 and forecast it from 2022–2024.
    let (s, b) = app
        .get(
            &format!("/api/v1/retail/forecast/backtest?{scope}&holdout=12"),
            &owner,
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert_eq!(b["points"].as_array().unwrap().len(), 12);
    assert_eq!(b["points"][0]["month"], "2025-01");
    let (mape, naive, coverage) = (
        dec(&b["mape_pct"]),
        dec(&b["naive_mape_pct"]),
        dec(&b["coverage_pct"]),
    );
    assert!(mape < d("5"), "{b}");
    assert!(mape <= naive, "{b}");
    assert!(coverage >= d("75"), "{b}");
    println!(
        "backtest on the seasonal chain: MAPE {mape} %, seasonal naive {naive} %, coverage {coverage} %"
    );

    // The what-if on the forecast baseline: the store's baseline is the forecast mean,
    // its margin last year's ratio (60 %).
    let (s, p) = app
        .post(
            "/api/v1/retail/whatif",
            &owner,
            json!({"from": "2026-01", "months": 3, "baseline": "forecast"}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{p}");
    assert_eq!(p["baseline"], "forecast");
    let expected: Decimal = points[..3].iter().map(|p| dec(&p["mean"])).sum();
    let revenue = dec(&p["total"]["baseline_revenue"]);
    assert!(
        (revenue - expected).abs() <= d("0.03"),
        "{revenue} vs {expected}"
    );
    assert_eq!(
        p["total"]["projected_revenue"],
        p["total"]["baseline_revenue"]
    );
    let margin = dec(&p["total"]["baseline_margin"]);
    assert!(
        (margin - revenue * d("0.6")).abs() <= d("0.02"),
        "{margin} vs {revenue}"
    );
    // The default baseline is still last year's: January–March 2025.
    let (_, ly) = app
        .post(
            "/api/v1/retail/whatif",
            &owner,
            json!({"from": "2026-01", "months": 3}),
        )
        .await;
    assert_eq!(ly["baseline"], "last_year");
    let actual: f64 = units[36..39].iter().sum();
    assert_eq!(
        dec(&ly["total"]["baseline_revenue"]),
        Decimal::from(actual as i64)
    );
    // A saved scenario on the forecast baseline with every lever at zero is its baseline.
    let saved = save(
        &app,
        &owner,
        json!({"name": "Forecast flat", "from": "2026-01", "months": 3, "baseline": "forecast",
            "levers": [{"kind": "price", "pct": 0}]}),
    )
    .await;
    let (_, run) = app
        .post(
            &format!("{BASE}/{}/run", saved["id"].as_str().unwrap()),
            &owner,
            json!({}),
        )
        .await;
    assert_eq!(run["baseline"], "forecast");
    assert_eq!(
        run["total"]["baseline_revenue"],
        p["total"]["baseline_revenue"]
    );
    assert_eq!(
        run["total"]["projected_revenue"],
        p["total"]["baseline_revenue"]
    );

    // Bad parameters, and scopes outside the caller's.
    for (query, field) in [
        ("months=0", "months"),
        ("months=37", "months"),
        ("level=42", "level"),
        ("holdout=3", "holdout"),
    ] {
        let (s, b) = app
            .get(&format!("/api/v1/retail/forecast?{query}"), &owner)
            .await;
        assert_error(s, &b, 400, "invalid_parameter");
        assert_eq!(b["details"]["fields"][0]["field"], field, "{b}");
    }
    for query in ["holdout=25", "holdout=0", "months=3"] {
        let (s, b) = app
            .get(&format!("/api/v1/retail/forecast/backtest?{query}"), &owner)
            .await;
        assert_error(s, &b, 400, "invalid_parameter");
    }
    let (s, b) = app
        .get(
            &format!("/api/v1/retail/forecast?category_id={}", Uuid::now_v7()),
            &owner,
        )
        .await;
    assert_error(s, &b, 404, "not_found");
    let (s, b) = app
        .post(
            "/api/v1/retail/whatif",
            &owner,
            json!({"from": "2040-01", "months": 3, "baseline": "forecast"}),
        )
        .await;
    assert_error(s, &b, 422, "validation_failed");
    assert_eq!(b["details"]["fields"][0]["field"], "from");
}

#[tokio::test]
async fn forecasts_stay_in_the_callers_scope() {
    let app = TestApp::spawn().await;
    let org = app.create_org("Chain").await;
    let c = Chain::create(&app, org).await;
    let north = scoped_token(&app, org, Role::RegionalManager, Some(&c.north), None).await;
    for path in [
        format!("/api/v1/retail/forecast?store_id={}", c.s1),
        format!("/api/v1/retail/forecast/backtest?store_id={}", c.s1),
    ] {
        let (s, b) = app.get(&path, &north).await;
        assert_error(s, &b, 404, "not_found");
    }
    // The North's history: N1 and N2 only (March 2024 to April 2025; S1's March 2025 cola
    // is not in it).
    let (s, f) = app.get("/api/v1/retail/forecast?months=2", &north).await;
    assert_eq!(s, StatusCode::OK, "{f}");
    let history: Decimal = f["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| dec(&m["revenue"]))
        .sum();
    assert_eq!(history, d("30"), "{f}");
    let (_, all) = app.get("/api/v1/retail/forecast?months=2", &c.owner).await;
    let all_history: Decimal = all["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| dec(&m["revenue"]))
        .sum();
    assert_eq!(all_history, d("36"), "{all}");
    // 14 months of history: seasonal naive, so May 2025 repeats May 2024 (nothing sold).
    assert_eq!(f["method"], "seasonal_naive");
    assert_eq!(f["points"][0]["month"], "2025-05");
    // A backtest needs holdout + 3 months.
    let (s, b) = app
        .get(
            &format!(
                "/api/v1/retail/forecast/backtest?store_id={}&holdout=6",
                c.n2
            ),
            &c.owner,
        )
        .await;
    assert_error(s, &b, 422, "validation_failed");
    assert_eq!(b["details"]["fields"][0]["field"], "holdout");
}

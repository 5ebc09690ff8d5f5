//! Must-show 2: no oversell. 50 concurrent tasks reserve mixed quantities from a stock of
//! 100 units; the reservations that succeed never exceed 100 in total, the level's
//! `reserved` equals their sum, and the ledger sums to the levels — over several seeds,
//! on SQLite and (with `COMPTOIR_TEST_DATABASE_URL`) PostgreSQL. Also: all-or-nothing
//! across lines, release and commit exactly once.

use comptoir_catalog::model::{LocationId, ProductId, ReservationStatus};
use comptoir_catalog::service;
use comptoir_catalog::views::ReserveLine;
use comptoir_kernel::auth::Role;
use comptoir_kernel::ids::OrgId;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::TestApp;

async fn product_with_stock(
    app: &TestApp,
    token: &str,
    sku: &str,
    location: &str,
    units: i64,
) -> ProductId {
    let (s, p) = app
        .post(
            "/api/v1/catalog/products",
            token,
            json!({"sku": sku, "name": sku, "sale_price": "1"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{p}");
    let id = p["id"].as_str().unwrap().to_owned();
    if units > 0 {
        let (s, r) = app
            .post("/api/v1/catalog/stock/adjustments", token, json!({"product_id": id, "location_id": location, "kind": "receipt", "quantity": units}))
            .await;
        assert_eq!(s, StatusCode::OK, "{r}");
    }
    ProductId(id.parse().unwrap())
}

/// (on_hand, reserved) of the level, and the same sums over the ledger.
async fn level_and_ledger(
    app: &TestApp,
    token: &str,
    product: ProductId,
) -> ((i64, i64), (i64, i64)) {
    let (_, levels) = app
        .get(&format!("/api/v1/catalog/products/{product}/stock"), token)
        .await;
    let level = (
        levels[0]["on_hand"].as_i64().unwrap(),
        levels[0]["reserved"].as_i64().unwrap(),
    );
    let (_, moves) = app
        .get(
            &format!("/api/v1/catalog/products/{product}/movements"),
            token,
        )
        .await;
    let moves = moves.as_array().unwrap();
    assert!(moves.len() < 1000, "the ledger page is complete");
    let sum = |k: &str| {
        moves
            .iter()
            .map(|m: &Value| m[k].as_i64().unwrap())
            .sum::<i64>()
    };
    (level, (sum("on_hand_delta"), sum("reserved_delta")))
}

#[tokio::test]
async fn fifty_concurrent_reservations_never_oversell() {
    let app = TestApp::spawn().await;
    let org = app.create_org("Concurrency").await;
    let token = app.token_for(org, Role::Operator).await;
    let (_, loc) = app
        .post(
            "/api/v1/catalog/locations",
            &token,
            json!({"code": "WH", "name": "Warehouse", "kind": "warehouse"}),
        )
        .await;
    let location = LocationId(loc["id"].as_str().unwrap().parse().unwrap());

    for seed in 1..=5u64 {
        let product = product_with_stock(
            &app,
            &token,
            &format!("SEED-{seed}"),
            &location.to_string(),
            100,
        )
        .await;
        let mut rng = StdRng::seed_from_u64(seed);
        let quantities: Vec<i64> = (0..50).map(|_| rng.random_range(1..=6)).collect();
        assert!(
            quantities.iter().sum::<i64>() > 100,
            "seed {seed} must contend"
        );
        let tasks: Vec<_> = quantities
            .iter()
            .map(|&q| {
                let db = app.state.db.clone();
                tokio::spawn(async move {
                    let line = ReserveLine {
                        product_id: product,
                        location_id: location,
                        quantity: q,
                    };
                    (
                        q,
                        service::reserve(&db, org, None, &[line], Some("order")).await,
                    )
                })
            })
            .collect();
        let mut held = Vec::new();
        for t in tasks {
            let (q, result) = t.await.unwrap();
            match result {
                Ok(r) => {
                    assert_eq!(r.status, ReservationStatus::Held);
                    held.push((q, r.id));
                }
                Err(e) => assert_eq!(
                    (e.code.as_str(), e.message.as_str()),
                    ("conflict", "insufficient stock"),
                    "seed {seed}"
                ),
            }
        }
        let reserved: i64 = held.iter().map(|(q, _)| q).sum();
        assert!(reserved <= 100, "seed {seed}: oversold {reserved}");
        assert!(
            reserved > 100 - 6,
            "seed {seed}: a failed task could have fitted ({reserved})"
        );
        let (level, ledger) = level_and_ledger(&app, &token, product).await;
        assert_eq!(level, (100, reserved), "seed {seed}");
        assert_eq!(ledger, level, "seed {seed}: the ledger sums to the level");

        // Ship half, cancel the other half — concurrently too.
        let settle: Vec<_> = held
            .iter()
            .enumerate()
            .map(|(i, &(q, id))| {
                let db = app.state.db.clone();
                tokio::spawn(async move {
                    if i % 2 == 0 {
                        (q, true, service::commit(&db, org, None, id).await)
                    } else {
                        (q, false, service::release(&db, org, None, id).await)
                    }
                })
            })
            .collect();
        let mut shipped = 0;
        for t in settle {
            let (q, ship, r) = t.await.unwrap();
            r.unwrap();
            if ship {
                shipped += q;
            }
        }
        let (level, ledger) = level_and_ledger(&app, &token, product).await;
        assert_eq!(level, (100 - shipped, 0), "seed {seed}");
        assert_eq!(ledger, level, "seed {seed}");
        // Settling twice is refused and changes nothing.
        let (_, first) = held[0];
        let e = service::release(&app.state.db, org, None, first)
            .await
            .unwrap_err();
        assert_eq!(e.code.as_str(), "conflict");
        let e = service::commit(&app.state.db, org, None, first)
            .await
            .unwrap_err();
        assert_eq!(e.code.as_str(), "conflict");
        assert_eq!(level_and_ledger(&app, &token, product).await.0, level);
    }
}

#[tokio::test]
async fn reservations_are_all_or_nothing_and_tenant_scoped() {
    let app = TestApp::spawn().await;
    let org = app.create_org("Shop").await;
    let token = app.token_for(org, Role::Operator).await;
    let (_, loc) = app
        .post(
            "/api/v1/catalog/locations",
            &token,
            json!({"code": "ST", "name": "Store", "kind": "store"}),
        )
        .await;
    let location = LocationId(loc["id"].as_str().unwrap().parse().unwrap());
    let plenty = product_with_stock(&app, &token, "PLENTY", &location.to_string(), 50).await;
    let scarce = product_with_stock(&app, &token, "SCARCE", &location.to_string(), 2).await;
    let never = product_with_stock(&app, &token, "NEVER", &location.to_string(), 0).await;
    let line = |p, q| ReserveLine {
        product_id: p,
        location_id: location,
        quantity: q,
    };

    let e = service::reserve(
        &app.state.db,
        org,
        None,
        &[line(plenty, 10), line(scarce, 3)],
        None,
    )
    .await
    .unwrap_err();
    assert_eq!(e.code.as_str(), "conflict");
    assert_eq!(e.details["product_id"], json!(scarce.0));
    let e = service::reserve(
        &app.state.db,
        org,
        None,
        &[line(plenty, 1), line(never, 1)],
        None,
    )
    .await
    .unwrap_err();
    assert_eq!(
        e.code.as_str(),
        "conflict",
        "no stock row at all is insufficient stock too"
    );
    assert_eq!(
        level_and_ledger(&app, &token, plenty).await.0,
        (50, 0),
        "nothing of the failed reservation stayed"
    );
    // Duplicate lines are summed: 1 + 1 of 2 units fits, 2 + 1 does not.
    service::reserve(
        &app.state.db,
        org,
        None,
        &[line(scarce, 1), line(scarce, 1)],
        None,
    )
    .await
    .unwrap();
    assert_eq!(level_and_ledger(&app, &token, scarce).await.0, (2, 2));
    // Stock that is reserved cannot be counted away.
    let (s, b) = app
        .post(
            "/api/v1/catalog/stock/adjustments",
            &token,
            json!({"product_id": scarce, "location_id": location, "kind": "count", "quantity": 1}),
        )
        .await;
    assert_eq!(
        (s, b["code"].as_str()),
        (StatusCode::CONFLICT, Some("conflict"))
    );

    // Another organization cannot reserve or settle this one's stock.
    let other = app.create_org("Other").await;
    let e = service::reserve(&app.state.db, other, None, &[line(plenty, 1)], None)
        .await
        .unwrap_err();
    assert_eq!(e.code.as_str(), "not_found");
    let r = service::reserve(&app.state.db, org, None, &[line(plenty, 5)], None)
        .await
        .unwrap();
    let e = service::commit(&app.state.db, other, None, r.id)
        .await
        .unwrap_err();
    assert_eq!(e.code.as_str(), "not_found");
    let e = service::release(&app.state.db, OrgId::new(), None, r.id)
        .await
        .unwrap_err();
    assert_eq!(e.code.as_str(), "not_found");
    assert_eq!(level_and_ledger(&app, &token, plenty).await.0, (50, 5));
    // Bad lines are refused before anything happens.
    for bad in [vec![], vec![line(plenty, 0)], vec![line(plenty, -3)]] {
        let e = service::reserve(&app.state.db, org, None, &bad, None)
            .await
            .unwrap_err();
        assert_eq!(e.code.as_str(), "validation_failed");
    }
}

//! Must-show 1, nothing lost, nothing doubled: 10,000 orders posted concurrently while
//! `comptoir worker` processes are killed with SIGKILL twice mid-stream. Afterwards every
//! accepted order is stored and reached a final state exactly once (one history row, one
//! outbox event), the stock levels equal the ledger, and what is reserved equals what the
//! confirmed orders hold — on SQLite, and on PostgreSQL with `COMPTOIR_TEST_DATABASE_URL`.

use std::collections::{HashMap, HashSet};
use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use comptoir_catalog::entities::{movements, reservations, stock};
use comptoir_orders::entities::{history, lines, orders, outbox};
use rand::{Rng, SeedableRng};
use reqwest::StatusCode;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::json;
use tokio::process::{Child, Command};

use crate::helpers::TestApp;
use crate::orders::{order, shop};

const ORDERS: usize = 10_000;
const CLIENTS: usize = 32;
const PRODUCTS: usize = 20;

fn worker(app: &TestApp) -> Child {
    Command::new(env!("CARGO_BIN_EXE_comptoir"))
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("COMPTOIR_DATA_DIR", app.data_dir())
        .env("COMPTOIR_DATABASE_URL", app.database_url())
        .env("COMPTOIR_LOG", "warn")
        .env("COMPTOIR_JOBS__BATCH_SIZE", "10")
        .env("COMPTOIR_ORDERS__BATCH_SIZE", "10")
        .env("COMPTOIR_JOBS__POLL_INTERVAL_MS", "50")
        .env("COMPTOIR_JOBS__VISIBILITY_TIMEOUT_SECS", "2")
        .env("COMPTOIR_JOBS__BACKOFF_BASE_MS", "100")
        .arg("worker")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap()
}

async fn unfinished(app: &TestApp) -> u64 {
    orders::Entity::find()
        .filter(orders::Column::Status.is_in(["received", "validated", "stock_reserved"]))
        .count(&app.state.db)
        .await
        .unwrap()
}

async fn processed(app: &TestApp) -> u64 {
    orders::Entity::find()
        .filter(orders::Column::Status.is_in(["confirmed", "rejected"]))
        .count(&app.state.db)
        .await
        .unwrap()
}

#[tokio::test]
async fn ten_thousand_orders_survive_two_killed_workers() {
    let app = TestApp::spawn_with(|c| {
        c.db.max_connections = 16;
        c.orders.cache_ttl_secs = 0;
    })
    .await;
    if app.is_postgres() {
        // The workers are killed, not the database server: durable commits on every
        // statement would only make the run slow on CI's shared disk. New connections
        // (the worker processes) get asynchronous commits.
        use sea_orm::ConnectionTrait;
        app.state
            .db
            .execute_unprepared(
                "DO $$ BEGIN EXECUTE format('ALTER DATABASE %I SET synchronous_commit = off', current_database()); END $$",
            )
            .await
            .unwrap();
    }
    let skus: Vec<(String, i64)> = (0..PRODUCTS).map(|i| (format!("P{i}"), 500)).collect();
    let refs: Vec<(&str, i64)> = skus.iter().map(|(s, n)| (s.as_str(), *n)).collect();
    let shop = shop(&app, &refs).await;
    let app = Arc::new(app);

    let mut first = worker(&app);
    let next = Arc::new(AtomicUsize::new(0));
    let accepted = Arc::new(std::sync::Mutex::new(Vec::with_capacity(ORDERS)));
    let refused = Arc::new(AtomicUsize::new(0));
    let mut clients = Vec::new();
    for c in 0..CLIENTS {
        let (app, token, next, accepted, refused) = (
            app.clone(),
            shop.token.clone(),
            next.clone(),
            accepted.clone(),
            refused.clone(),
        );
        clients.push(tokio::spawn(async move {
            let mut rng = rand::rngs::StdRng::seed_from_u64(c as u64);
            while next.fetch_add(1, Ordering::SeqCst) < ORDERS {
                let sku = format!("P{}", rng.random_range(0..PRODUCTS));
                let body = order(json!([{"sku": sku, "quantity": rng.random_range(1..=3)}]));
                let r = app
                    .request(reqwest::Method::POST, "/api/v1/orders", Some(&token))
                    .json(&body)
                    .send()
                    .await;
                match r {
                    Ok(r) if r.status() == StatusCode::ACCEPTED => {
                        let b: serde_json::Value = r.json().await.unwrap();
                        let id: uuid::Uuid = b["order_id"].as_str().unwrap().parse().unwrap();
                        accepted.lock().unwrap().push(id);
                    }
                    _ => {
                        refused.fetch_add(1, Ordering::SeqCst);
                    }
                }
            }
        }));
    }

    // Two kills, each once the worker is well into its work and intake still running.
    let mut kills = 0;
    for target in [1_500u64, 4_000] {
        for _ in 0..6000 {
            if processed(&app).await >= target {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        first.kill().await.unwrap(); // SIGKILL
        kills += 1;
        first = worker(&app);
    }
    for c in clients {
        c.await.unwrap();
    }
    let accepted: Vec<uuid::Uuid> = accepted.lock().unwrap().clone();
    let intake_done = processed(&app).await;
    eprintln!(
        "accepted {} orders ({} refused); {intake_done} processed when intake ended; {kills} kills",
        accepted.len(),
        refused.load(Ordering::SeqCst)
    );
    assert_eq!(accepted.len(), ORDERS, "every order was accepted");
    assert!(
        (intake_done as usize) < ORDERS,
        "the kills landed while work was left"
    );

    for _ in 0..6000 {
        if unfinished(&app).await == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    first.kill().await.unwrap();
    assert_eq!(
        unfinished(&app).await,
        0,
        "every order reached a final state"
    );

    let db = &app.state.db;
    // Stored: every accepted id, nothing else.
    let stored = orders::Entity::find().all(db).await.unwrap();
    let stored_ids: HashSet<uuid::Uuid> = stored.iter().map(|o| o.id).collect();
    assert_eq!(stored.len(), ORDERS);
    assert!(accepted.iter().all(|id| stored_ids.contains(id)));
    // Final exactly once: one history row and one outbox event into the final state.
    let mut finals: HashMap<uuid::Uuid, usize> = HashMap::new();
    for h in history::Entity::find()
        .filter(history::Column::ToStatus.is_in(["confirmed", "rejected"]))
        .all(db)
        .await
        .unwrap()
    {
        *finals.entry(h.order_id).or_default() += 1;
    }
    assert_eq!(finals.len(), ORDERS);
    assert!(
        finals.values().all(|n| *n == 1),
        "a final state was recorded twice"
    );
    let mut events: HashMap<uuid::Uuid, usize> = HashMap::new();
    for e in outbox::Entity::find().all(db).await.unwrap() {
        *events.entry(e.order_id).or_default() += 1;
    }
    assert_eq!(events.len(), ORDERS);
    assert!(
        events.values().all(|n| *n == 1),
        "an event was written twice"
    );
    // Stock: levels = ledger, reserved = what confirmed orders hold, one reservation each.
    let confirmed: HashSet<uuid::Uuid> = stored
        .iter()
        .filter(|o| o.status == "confirmed")
        .map(|o| o.id)
        .collect();
    assert!(
        !confirmed.is_empty() && confirmed.len() < ORDERS,
        "both outcomes happened"
    );
    let mut held: HashMap<uuid::Uuid, i64> = HashMap::new();
    for l in lines::Entity::find().all(db).await.unwrap() {
        if confirmed.contains(&l.order_id) {
            *held.entry(l.product_id.unwrap()).or_default() += l.quantity;
        }
    }
    let mut ledger: HashMap<uuid::Uuid, (i64, i64)> = HashMap::new();
    for m in movements::Entity::find().all(db).await.unwrap() {
        let e = ledger.entry(m.product_id).or_default();
        e.0 += m.on_hand_delta;
        e.1 += m.reserved_delta;
    }
    let levels = stock::Entity::find().all(db).await.unwrap();
    assert_eq!(levels.len(), PRODUCTS);
    for level in levels {
        assert_eq!(ledger[&level.product_id], (level.on_hand, level.reserved));
        assert!(level.reserved <= level.on_hand, "oversold");
        assert_eq!(
            level.on_hand - level.reserved,
            ledger[&level.product_id].0 - ledger[&level.product_id].1
        );
        assert_eq!(
            held.get(&level.product_id).copied().unwrap_or(0),
            level.reserved
        );
    }
    let reservations = reservations::Entity::find().count(db).await.unwrap();
    assert_eq!(
        reservations as usize,
        confirmed.len(),
        "one reservation per confirmed order"
    );
}

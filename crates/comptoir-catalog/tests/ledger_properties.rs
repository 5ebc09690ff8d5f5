//! Property: whatever sequence of receipts, counts, reservations, releases and shipments
//! runs, a level never goes below zero or below what is reserved, `reserved` equals the
//! sum of held reservations, and the ledger sums to the levels. A plain model of the stock
//! runs alongside and must agree with the database after every step (SQLite in memory; the
//! concurrent version of this runs on both engines in `crates/comptoir/tests/api`).

#![allow(clippy::unwrap_used)]

use std::collections::HashMap;

use comptoir_catalog::entities::{movements, stock};
use comptoir_catalog::model::{LocationId, MovementKind, ProductId, ReservationId};
use comptoir_catalog::service;
use comptoir_catalog::views::*;
use comptoir_kernel::auth::{AuthVia, Caller, Role};
use comptoir_kernel::ids::{OrgId, UserId};
use comptoir_kernel::tenancy::scoped;
use proptest::prelude::*;
use sea_orm::DatabaseConnection;
use sea_orm_migration::{MigrationTrait, MigratorTrait};

struct Migrator;

impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        let mut all = comptoir_kernel::db::migrations::migrations();
        all.extend(comptoir_catalog::migrations());
        all
    }
}

#[derive(Debug, Clone)]
enum Op {
    Receive { product: usize, qty: i64 },
    Count { product: usize, qty: i64 },
    Reserve { lines: Vec<(usize, i64)> },
    Release { which: usize },
    Ship { which: usize },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (0..2usize, 1..20i64).prop_map(|(product, qty)| Op::Receive { product, qty }),
        (0..2usize, 0..15i64).prop_map(|(product, qty)| Op::Count { product, qty }),
        prop::collection::vec((0..2usize, 1..8i64), 1..4).prop_map(|lines| Op::Reserve { lines }),
        (0..8usize).prop_map(|which| Op::Release { which }),
        (0..8usize).prop_map(|which| Op::Ship { which }),
    ]
}

struct World {
    db: DatabaseConnection,
    org: OrgId,
    caller: Caller,
    products: Vec<ProductId>,
    location: LocationId,
}

async fn world() -> World {
    let db = comptoir_kernel::db::connect("sqlite::memory:", 1)
        .await
        .unwrap();
    Migrator::up(&db, None).await.unwrap();
    let org = OrgId(
        comptoir_kernel::tenancy::service::create_org(&db, "Prop", Some("prop"))
            .await
            .unwrap()
            .id,
    );
    let caller = Caller {
        org_id: org,
        user_id: UserId::new(),
        role: Role::Operator,
        region_id: None,
        store_id: None,
        via: AuthVia::AccessToken,
    };
    let location = service::create_location(
        &db,
        &caller,
        LocationInput {
            code: "WH".into(),
            name: "WH".into(),
            kind: comptoir_catalog::model::LocationKind::Warehouse,
            region: None,
            address: None,
            latitude: None,
            longitude: None,
        },
    )
    .await
    .unwrap()
    .id;
    let mut products = Vec::new();
    for i in 0..2 {
        let input: ProductInput = serde_json::from_value(
            serde_json::json!({"sku": format!("P{i}"), "name": "p", "sale_price": "1"}),
        )
        .unwrap();
        products.push(
            service::create_product(&db, &caller, input)
                .await
                .unwrap()
                .id,
        );
    }
    World {
        db,
        org,
        caller,
        products,
        location,
    }
}

/// (on_hand, reserved) per product from the levels, and the same from the ledger.
async fn observed(w: &World) -> (HashMap<usize, (i64, i64)>, HashMap<usize, (i64, i64)>) {
    let mut levels = HashMap::new();
    let mut ledger = HashMap::new();
    for (i, p) in w.products.iter().enumerate() {
        use sea_orm::{ColumnTrait, QueryFilter};
        let level = scoped::<stock::Entity>(w.org)
            .filter(stock::Column::ProductId.eq(p.0))
            .one(&w.db)
            .await
            .unwrap();
        levels.insert(i, level.map(|l| (l.on_hand, l.reserved)).unwrap_or((0, 0)));
        let moves = scoped::<movements::Entity>(w.org)
            .filter(movements::Column::ProductId.eq(p.0))
            .all(&w.db)
            .await
            .unwrap();
        ledger.insert(
            i,
            (
                moves.iter().map(|m| m.on_hand_delta).sum(),
                moves.iter().map(|m| m.reserved_delta).sum(),
            ),
        );
    }
    (levels, ledger)
}

fn run(ops: Vec<Op>) -> Result<(), TestCaseError> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async move {
        let w = world().await;
        // The model: on hand and reserved per product, and the held reservations.
        let mut on_hand = [0i64; 2];
        let mut reserved = [0i64; 2];
        let mut held: Vec<(ReservationId, Vec<(usize, i64)>)> = Vec::new();
        let mut settled: Vec<ReservationId> = Vec::new();
        for op in ops {
            match op {
                Op::Receive { product, qty } | Op::Count { product, qty } => {
                    let kind = if matches!(op, Op::Receive { .. }) {
                        MovementKind::Receipt
                    } else {
                        MovementKind::Count
                    };
                    let input = AdjustmentInput {
                        product_id: w.products[product],
                        location_id: w.location,
                        kind,
                        quantity: qty,
                        reason: None,
                        reference: None,
                        low_stock_threshold: None,
                    };
                    let target = if kind == MovementKind::Receipt {
                        on_hand[product] + qty
                    } else {
                        qty
                    };
                    let result = service::adjust(&w.db, &w.caller, input).await;
                    if target >= reserved[product] {
                        result.unwrap();
                        on_hand[product] = target;
                    } else {
                        prop_assert_eq!(result.unwrap_err().code.as_str(), "conflict");
                    }
                }
                Op::Reserve { lines } => {
                    let mut want = [0i64; 2];
                    for (p, q) in &lines {
                        want[*p] += q;
                    }
                    let fits = (0..2).all(|p| want[p] == 0 || on_hand[p] - reserved[p] >= want[p]);
                    let req: Vec<ReserveLine> = lines
                        .iter()
                        .map(|(p, q)| ReserveLine {
                            product_id: w.products[*p],
                            location_id: w.location,
                            quantity: *q,
                        })
                        .collect();
                    let result = service::reserve(&w.db, w.org, None, &req, None).await;
                    if fits {
                        let r = result.unwrap();
                        for p in 0..2 {
                            reserved[p] += want[p];
                        }
                        held.push((r.id, lines));
                    } else {
                        prop_assert_eq!(result.unwrap_err().code.as_str(), "conflict");
                    }
                }
                Op::Release { which } | Op::Ship { which } => {
                    let ship = matches!(op, Op::Ship { .. });
                    if held.is_empty() {
                        if let Some(id) = settled.first() {
                            let e = if ship {
                                service::commit(&w.db, w.org, None, *id).await
                            } else {
                                service::release(&w.db, w.org, None, *id).await
                            };
                            prop_assert_eq!(e.unwrap_err().code.as_str(), "conflict");
                        }
                        continue;
                    }
                    let (id, lines) = held.remove(which % held.len());
                    if ship {
                        service::commit(&w.db, w.org, None, id).await.unwrap();
                    } else {
                        service::release(&w.db, w.org, None, id).await.unwrap();
                    }
                    for (p, q) in lines {
                        reserved[p] -= q;
                        if ship {
                            on_hand[p] -= q;
                        }
                    }
                    settled.push(id);
                }
            }
            let (levels, ledger) = observed(&w).await;
            for p in 0..2 {
                prop_assert_eq!(
                    levels[&p],
                    (on_hand[p], reserved[p]),
                    "levels follow the model"
                );
                prop_assert_eq!(ledger[&p], levels[&p], "the ledger sums to the level");
                prop_assert!(on_hand[p] >= reserved[p] && reserved[p] >= 0);
            }
        }
        Ok(())
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn stock_follows_the_model_and_the_ledger_sums_to_it(ops in prop::collection::vec(op(), 1..40)) {
        run(ops)?;
    }
}

//! Stock levels and the movement ledger, and the primitives of the order pipeline:
//! [`reserve`] (all-or-nothing), [`release`] and [`commit`] (ship).
//!
//! Concurrency: every change is a conditional `UPDATE` inside one transaction, checked by
//! `rows_affected` (`reserved = reserved + q WHERE on_hand - reserved >= q`). PostgreSQL
//! row locks serialize writers of one level (lines are taken in a fixed order, so two
//! reservations cannot deadlock); SQLite serializes writers of the whole database. Each
//! transaction writes before it reads, so SQLite never has to upgrade a read lock. The
//! ledger holds `on_hand_delta`/`reserved_delta`; their sums equal the levels.

use std::collections::BTreeMap;

use comptoir_kernel::auth::{Caller, Permission};
use comptoir_kernel::ids::OrgId;
use comptoir_kernel::tenancy::{find_in_org, scoped};
use comptoir_kernel::{AppError, AppResult, ErrorCode};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, DatabaseTransaction,
    EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Set, TransactionTrait,
};
use serde_json::json;
use uuid::Uuid;

use crate::entities::{events, locations, movements, products, reservations, stock};
use crate::model::*;
use crate::store::{self, now};
use crate::views::*;

/// Largest quantity in one movement.
pub const MAX_QUANTITY: i64 = 1_000_000_000;
/// Most lines in one reservation.
pub const MAX_LINES: usize = 500;

/// How a level changes.
#[derive(Debug, Clone, Copy)]
pub enum Change {
    /// On hand moves by this much.
    Delta(i64),
    /// On hand becomes this.
    Set(i64),
}

/// What is recorded with a movement.
#[derive(Debug, Clone, Default)]
pub struct Note {
    pub actor: Option<Uuid>,
    pub reason: Option<String>,
    pub reference: Option<String>,
}

async fn insert_movement(
    txn: &DatabaseTransaction,
    org: OrgId,
    (product, location): (Uuid, Uuid),
    kind: MovementKind,
    quantity: i64,
    (on_hand_delta, reserved_delta): (i64, i64),
    note: &Note,
) -> AppResult<movements::Model> {
    Ok(movements::ActiveModel {
        id: Set(MovementId::new().0),
        org_id: Set(org.0),
        product_id: Set(product),
        location_id: Set(location),
        kind: Set(kind.as_str().to_owned()),
        quantity: Set(quantity),
        on_hand_delta: Set(on_hand_delta),
        reserved_delta: Set(reserved_delta),
        reason: Set(note.reason.clone()),
        actor_user_id: Set(note.actor),
        reference: Set(note.reference.clone()),
        created_at: Set(now()),
    }
    .insert(txn)
    .await?)
}

async fn read_level(
    txn: &DatabaseTransaction,
    org: OrgId,
    product: Uuid,
    location: Uuid,
) -> AppResult<Option<stock::Model>> {
    Ok(scoped::<stock::Entity>(org)
        .filter(stock::Column::ProductId.eq(product))
        .filter(stock::Column::LocationId.eq(location))
        .one(txn)
        .await?)
}

/// Records a `low_stock` event when available stock falls to or below the threshold.
async fn low_stock_check(
    txn: &DatabaseTransaction,
    org: OrgId,
    level: &stock::Model,
    available_before: i64,
) -> AppResult<()> {
    let Some(threshold) = level.low_stock_threshold else {
        return Ok(());
    };
    let available = level.on_hand - level.reserved;
    if available <= threshold && available_before > threshold {
        events::ActiveModel {
            id: Set(Uuid::now_v7()),
            org_id: Set(org.0),
            kind: Set("low_stock".into()),
            product_id: Set(Some(level.product_id)),
            location_id: Set(Some(level.location_id)),
            payload: Set(json!({"available": available, "threshold": threshold})),
            created_at: Set(now()),
        }
        .insert(txn)
        .await?;
    }
    Ok(())
}

/// Changes the on-hand quantity of one level inside `txn` (creating the level if needed),
/// refusing to go below what is reserved. Returns the level and the movement (none when
/// nothing changed).
#[allow(clippy::too_many_arguments)]
pub async fn apply_level(
    txn: &DatabaseTransaction,
    org: OrgId,
    product: Uuid,
    location: Uuid,
    change: Change,
    threshold: Option<i64>,
    kind: MovementKind,
    note: &Note,
) -> AppResult<(stock::Model, Option<movements::Model>)> {
    use stock::Column as C;
    stock::Entity::insert(stock::ActiveModel {
        id: Set(Uuid::now_v7()),
        org_id: Set(org.0),
        product_id: Set(product),
        location_id: Set(location),
        on_hand: Set(0),
        reserved: Set(0),
        low_stock_threshold: Set(None),
        updated_at: Set(now()),
    })
    .on_conflict_do_nothing_on([C::OrgId, C::ProductId, C::LocationId])
    .exec_without_returning(txn)
    .await?;
    // Take the row lock (PostgreSQL) before reading the level we change.
    stock::Entity::update_many()
        .col_expr(C::UpdatedAt, Expr::value(now()))
        .filter(C::OrgId.eq(org.0))
        .filter(C::ProductId.eq(product))
        .filter(C::LocationId.eq(location))
        .exec(txn)
        .await?;
    let level = read_level(txn, org, product, location)
        .await?
        .ok_or_else(|| AppError::internal(anyhow::anyhow!("stock level vanished")))?;
    let new_on_hand = match change {
        Change::Delta(d) => level.on_hand.checked_add(d),
        Change::Set(v) => Some(v),
    }
    .filter(|v| *v <= MAX_QUANTITY * 10)
    .ok_or_else(|| AppError::field("quantity", "too large"))?;
    if new_on_hand < level.reserved {
        return Err(AppError::conflict(format!(
            "on hand would be {new_on_hand}, below the {} units reserved",
            level.reserved
        ))
        .with_details(json!({"on_hand": level.on_hand, "reserved": level.reserved})));
    }
    let delta = new_on_hand - level.on_hand;
    let available_before = level.on_hand - level.reserved;
    let mut active: stock::ActiveModel = level.clone().into();
    active.on_hand = Set(new_on_hand);
    if let Some(t) = threshold {
        active.low_stock_threshold = Set(Some(t));
    }
    active.updated_at = Set(now());
    let level = active.update(txn).await?;
    let movement = if delta != 0 {
        let quantity = match kind {
            MovementKind::Adjustment => delta,
            _ => delta.abs(),
        };
        Some(
            insert_movement(
                txn,
                org,
                (product, location),
                kind,
                quantity,
                (delta, 0),
                note,
            )
            .await?,
        )
    } else {
        None
    };
    low_stock_check(txn, org, &level, available_before).await?;
    Ok((level, movement))
}

/// A manual adjustment (`POST /api/v1/catalog/stock/adjustments`).
pub async fn adjust(
    db: &DatabaseConnection,
    caller: &Caller,
    input: AdjustmentInput,
) -> AppResult<AdjustmentResult> {
    let org = caller.org_id;
    find_in_org::<products::Entity>(db, org, input.product_id.0).await?;
    find_in_org::<locations::Entity>(db, org, input.location_id.0).await?;
    caller.require(Permission::Write)?;
    let q = input.quantity;
    if q.abs() > MAX_QUANTITY {
        return Err(AppError::field(
            "quantity",
            format!("at most {MAX_QUANTITY}"),
        ));
    }
    let change = match input.kind {
        MovementKind::Receipt if q > 0 => Change::Delta(q),
        MovementKind::Receipt => {
            return Err(AppError::field(
                "quantity",
                "a receipt adds at least 1 unit",
            ));
        }
        MovementKind::Adjustment if q != 0 || input.low_stock_threshold.is_some() => {
            Change::Delta(q)
        }
        MovementKind::Adjustment => return Err(AppError::field("quantity", "must not be 0")),
        MovementKind::Count if q >= 0 => Change::Set(q),
        MovementKind::Count => {
            return Err(AppError::field("quantity", "a count is never negative"));
        }
        other => {
            return Err(AppError::field(
                "kind",
                format!(
                    "{other} movements come from reservations; use receipt, adjustment or count"
                ),
            ));
        }
    };
    if let Some(t) = input.low_stock_threshold
        && !(0..=MAX_QUANTITY).contains(&t)
    {
        return Err(AppError::field(
            "low_stock_threshold",
            format!("between 0 and {MAX_QUANTITY}"),
        ));
    }
    let note = Note {
        actor: Some(caller.user_id.0),
        reason: optional_text("reason", input.reason.as_deref(), 500)?,
        reference: optional_text("reference", input.reference.as_deref(), 200)?,
    };
    let txn = db.begin().await?;
    let (level, movement) = apply_level(
        &txn,
        org,
        input.product_id.0,
        input.location_id.0,
        change,
        input.low_stock_threshold,
        input.kind,
        &note,
    )
    .await?;
    txn.commit().await?;
    Ok(AdjustmentResult {
        stock: store::stock_view(level),
        movement: movement.map(store::movement_view),
    })
}

/// Sums duplicate lines and orders them (the lock order), checking quantities.
fn normalize_lines(lines: &[ReserveLine]) -> AppResult<Vec<ReserveLine>> {
    if lines.is_empty() || lines.len() > MAX_LINES {
        return Err(AppError::field("lines", format!("1 to {MAX_LINES} lines")));
    }
    let mut merged: BTreeMap<(Uuid, Uuid), i64> = BTreeMap::new();
    for (i, line) in lines.iter().enumerate() {
        if !(1..=MAX_QUANTITY).contains(&line.quantity) {
            return Err(AppError::field(
                format!("lines[{i}].quantity"),
                format!("between 1 and {MAX_QUANTITY}"),
            ));
        }
        let q = merged
            .entry((line.product_id.0, line.location_id.0))
            .or_default();
        *q = std::cmp::min(q.saturating_add(line.quantity), MAX_QUANTITY * 10);
    }
    Ok(merged
        .into_iter()
        .map(|((p, l), quantity)| ReserveLine {
            product_id: ProductId(p),
            location_id: LocationId(l),
            quantity,
        })
        .collect())
}

/// Every product and location of the lines belongs to `org` (404 otherwise).
async fn check_lines_in_org(
    db: &impl ConnectionTrait,
    org: OrgId,
    lines: &[ReserveLine],
) -> AppResult<()> {
    let mut product_ids: Vec<Uuid> = lines.iter().map(|l| l.product_id.0).collect();
    let mut location_ids: Vec<Uuid> = lines.iter().map(|l| l.location_id.0).collect();
    product_ids.dedup();
    product_ids.sort();
    product_ids.dedup();
    location_ids.sort();
    location_ids.dedup();
    let products = scoped::<products::Entity>(org)
        .filter(products::Column::Id.is_in(product_ids.clone()))
        .count(db)
        .await?;
    if products != product_ids.len() as u64 {
        return Err(AppError::not_found("product"));
    }
    let locations = scoped::<locations::Entity>(org)
        .filter(locations::Column::Id.is_in(location_ids.clone()))
        .count(db)
        .await?;
    if locations != location_ids.len() as u64 {
        return Err(AppError::not_found("location"));
    }
    Ok(())
}

fn reservation_view(m: reservations::Model) -> Reservation {
    Reservation {
        id: ReservationId(m.id),
        status: ReservationStatus::parse(&m.status).unwrap_or(ReservationStatus::Held),
        lines: serde_json::from_value(m.lines).unwrap_or_default(),
        reference: m.reference,
        created_at: m.created_at,
    }
}

/// Reserves every line or none: 409 `conflict` (with the short line in `details`) when
/// any line lacks available stock. Safe under concurrency on both engines.
pub async fn reserve(
    db: &DatabaseConnection,
    org: OrgId,
    actor: Option<Uuid>,
    lines: &[ReserveLine],
    reference: Option<&str>,
) -> AppResult<Reservation> {
    use stock::Column as C;
    let lines = normalize_lines(lines)?;
    let reference = optional_text("reference", reference, 200)?;
    check_lines_in_org(db, org, &lines).await?;
    let id = ReservationId::new();
    let note = Note {
        actor,
        reason: None,
        reference: Some(id.to_string()),
    };
    let txn = db.begin().await?;
    for line in &lines {
        let (p, l, q) = (line.product_id.0, line.location_id.0, line.quantity);
        let updated = stock::Entity::update_many()
            .col_expr(C::Reserved, Expr::col(C::Reserved).add(q))
            .col_expr(C::UpdatedAt, Expr::value(now()))
            .filter(C::OrgId.eq(org.0))
            .filter(C::ProductId.eq(p))
            .filter(C::LocationId.eq(l))
            .filter(Expr::col(C::OnHand).sub(Expr::col(C::Reserved)).gte(q))
            .exec(&txn)
            .await?;
        if updated.rows_affected != 1 {
            txn.rollback().await?;
            return Err(
                AppError::new(ErrorCode::Conflict, "insufficient stock").with_details(json!({
                    "product_id": p, "location_id": l, "requested": q,
                })),
            );
        }
        insert_movement(&txn, org, (p, l), MovementKind::Reserve, q, (0, q), &note).await?;
        if let Some(level) = read_level(&txn, org, p, l).await? {
            low_stock_check(&txn, org, &level, level.on_hand - level.reserved + q).await?;
        }
    }
    let at = now();
    let row = reservations::ActiveModel {
        id: Set(id.0),
        org_id: Set(org.0),
        status: Set(ReservationStatus::Held.as_str().into()),
        lines: Set(serde_json::to_value(&lines).map_err(AppError::internal)?),
        reference: Set(reference),
        created_at: Set(at),
        updated_at: Set(at),
    }
    .insert(&txn)
    .await?;
    txn.commit().await?;
    Ok(reservation_view(row))
}

/// Moves a held reservation to `to`, applying each line; exactly once even when called
/// concurrently (the status change is the guard).
async fn settle(
    db: &DatabaseConnection,
    org: OrgId,
    actor: Option<Uuid>,
    id: ReservationId,
    to: ReservationStatus,
) -> AppResult<Reservation> {
    use stock::Column as C;
    let txn = db.begin().await?;
    let claimed = reservations::Entity::update_many()
        .col_expr(reservations::Column::Status, Expr::value(to.as_str()))
        .col_expr(reservations::Column::UpdatedAt, Expr::value(now()))
        .filter(reservations::Column::OrgId.eq(org.0))
        .filter(reservations::Column::Id.eq(id.0))
        .filter(reservations::Column::Status.eq(ReservationStatus::Held.as_str()))
        .exec(&txn)
        .await?;
    if claimed.rows_affected != 1 {
        txn.rollback().await?;
        let current = find_in_org::<reservations::Entity>(db, org, id.0).await?;
        return Err(AppError::conflict(format!(
            "the reservation is already {}",
            current.status
        )));
    }
    let row = find_in_org::<reservations::Entity>(&txn, org, id.0).await?;
    let reservation = reservation_view(row);
    let note = Note {
        actor,
        reason: None,
        reference: Some(id.to_string()),
    };
    for line in &reservation.lines {
        let (p, l, q) = (line.product_id.0, line.location_id.0, line.quantity);
        let (kind, on_hand_delta) = match to {
            ReservationStatus::Committed => (MovementKind::Ship, -q),
            _ => (MovementKind::Release, 0),
        };
        let updated = stock::Entity::update_many()
            .col_expr(C::Reserved, Expr::col(C::Reserved).sub(q))
            .col_expr(C::OnHand, Expr::col(C::OnHand).add(on_hand_delta))
            .col_expr(C::UpdatedAt, Expr::value(now()))
            .filter(C::OrgId.eq(org.0))
            .filter(C::ProductId.eq(p))
            .filter(C::LocationId.eq(l))
            .filter(C::Reserved.gte(q))
            .exec(&txn)
            .await?;
        if updated.rows_affected != 1 {
            txn.rollback().await?;
            return Err(AppError::internal(anyhow::anyhow!(
                "reservation {id} exceeds the reserved stock"
            )));
        }
        insert_movement(&txn, org, (p, l), kind, q, (on_hand_delta, -q), &note).await?;
    }
    txn.commit().await?;
    Ok(Reservation {
        status: to,
        ..reservation
    })
}

/// Gives a held reservation back (order cancelled): reserved stock becomes available.
pub async fn release(
    db: &DatabaseConnection,
    org: OrgId,
    actor: Option<Uuid>,
    id: ReservationId,
) -> AppResult<Reservation> {
    settle(db, org, actor, id, ReservationStatus::Released).await
}

/// Ships a held reservation: the units leave on hand and reserved.
pub async fn commit(
    db: &DatabaseConnection,
    org: OrgId,
    actor: Option<Uuid>,
    id: ReservationId,
) -> AppResult<Reservation> {
    settle(db, org, actor, id, ReservationStatus::Committed).await
}

/// A reservation of the organization.
pub async fn get_reservation(
    db: &impl ConnectionTrait,
    org: OrgId,
    id: ReservationId,
) -> AppResult<Reservation> {
    Ok(reservation_view(
        find_in_org::<reservations::Entity>(db, org, id.0).await?,
    ))
}

fn limit(raw: Option<u64>, default: u64, max: u64) -> AppResult<u64> {
    match raw {
        None => Ok(default),
        Some(l) if (1..=max).contains(&l) => Ok(l),
        Some(_) => Err(AppError::invalid_parameter(
            "limit",
            format!("between 1 and {max}"),
        )),
    }
}

/// Stock levels, by product then location.
pub async fn list_stock(
    db: &impl ConnectionTrait,
    org: OrgId,
    f: &StockFilter,
) -> AppResult<Vec<StockLevel>> {
    use stock::Column as C;
    let mut q = scoped::<stock::Entity>(org);
    if let Some(p) = f.product_id {
        q = q.filter(C::ProductId.eq(p.0));
    }
    if let Some(l) = f.location_id {
        q = q.filter(C::LocationId.eq(l.0));
    }
    if f.low == Some(true) {
        q = q.filter(C::LowStockThreshold.is_not_null()).filter(
            Expr::col(C::OnHand)
                .sub(Expr::col(C::Reserved))
                .lte(Expr::col(C::LowStockThreshold)),
        );
    }
    Ok(q.order_by_asc(C::ProductId)
        .order_by_asc(C::LocationId)
        .limit(limit(f.limit, 200, 1000)?)
        .all(db)
        .await?
        .into_iter()
        .map(store::stock_view)
        .collect())
}

/// The ledger, newest first.
pub async fn list_movements(
    db: &impl ConnectionTrait,
    org: OrgId,
    f: &MovementFilter,
) -> AppResult<Vec<Movement>> {
    use movements::Column as C;
    let mut q = scoped::<movements::Entity>(org);
    if let Some(p) = f.product_id {
        q = q.filter(C::ProductId.eq(p.0));
    }
    if let Some(l) = f.location_id {
        q = q.filter(C::LocationId.eq(l.0));
    }
    Ok(q.order_by_desc(C::CreatedAt)
        .order_by_desc(C::Id)
        .limit(limit(f.limit, 200, 1000)?)
        .all(db)
        .await?
        .into_iter()
        .map(store::movement_view)
        .collect())
}

/// Catalog events (low stock), newest first.
pub async fn list_events(
    db: &impl ConnectionTrait,
    org: OrgId,
    max: Option<u64>,
) -> AppResult<Vec<CatalogEvent>> {
    Ok(scoped::<events::Entity>(org)
        .order_by_desc(events::Column::CreatedAt)
        .order_by_desc(events::Column::Id)
        .limit(limit(max, 100, 1000)?)
        .all(db)
        .await?
        .into_iter()
        .map(|e| CatalogEvent {
            id: e.id,
            kind: e.kind,
            product_id: e.product_id.map(ProductId),
            location_id: e.location_id.map(LocationId),
            payload: e.payload,
            created_at: e.created_at,
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_merged_sorted_and_checked() {
        let (p, l) = (ProductId::new(), LocationId::new());
        let lines = [
            ReserveLine {
                product_id: p,
                location_id: l,
                quantity: 2,
            },
            ReserveLine {
                product_id: p,
                location_id: l,
                quantity: 3,
            },
        ];
        assert_eq!(
            normalize_lines(&lines).unwrap(),
            vec![ReserveLine {
                product_id: p,
                location_id: l,
                quantity: 5
            }]
        );
        assert!(normalize_lines(&[]).is_err());
        assert!(
            normalize_lines(&[ReserveLine {
                product_id: p,
                location_id: l,
                quantity: 0
            }])
            .is_err()
        );
    }
}

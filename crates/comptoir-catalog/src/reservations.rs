//! Reservations, the primitives of the order pipeline: [`reserve`] (all-or-nothing over
//! its lines), [`release`] (cancelled) and [`commit`] (shipped); the `_in` variants run in
//! the caller's transaction.
//!
//! Concurrency: one transaction of conditional `UPDATE`s checked by `rows_affected`
//! (`reserved = reserved + q WHERE on_hand - reserved >= q`). PostgreSQL row locks
//! serialize writers of one level, and lines are taken in a fixed order so two reservations
//! cannot deadlock; SQLite serializes writers of the whole database. Each transaction
//! writes before it reads, so SQLite never has to upgrade a read lock. Settling is guarded
//! by a conditional status change, so it happens exactly once.

use std::collections::BTreeMap;

use comptoir_kernel::ids::OrgId;
use comptoir_kernel::tenancy::{find_in_org, scoped};
use comptoir_kernel::{AppError, AppResult, ErrorCode};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, DatabaseTransaction,
    EntityTrait, PaginatorTrait, QueryFilter, Set,
};
use serde_json::json;
use uuid::Uuid;

use crate::entities::{locations, products, reservations, stock};
use crate::model::*;
use crate::stock::{MAX_QUANTITY, Note, insert_movement, low_stock_check, read_level};
use crate::store::now;
use crate::views::*;

/// Most lines in one reservation.
pub const MAX_LINES: usize = 500;

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
    let lines = normalize_lines(lines)?;
    let reference = optional_text("reference", reference, 200)?;
    check_lines_in_org(db, org, &lines).await?;
    let txn = comptoir_kernel::db::begin_write(db).await?;
    match reserve_lines(&txn, org, actor, &lines, reference).await {
        Ok(reservation) => {
            txn.commit().await?;
            Ok(reservation)
        }
        Err(e) => {
            txn.rollback().await?;
            Err(e)
        }
    }
}

/// [`reserve`] inside the caller's transaction (the order pipeline changes the order in the
/// same one). On error, lines already taken stay taken in `txn`: the caller must roll it
/// (or its savepoint) back. On SQLite, `txn` should already have written (see the module).
pub async fn reserve_in(
    txn: &DatabaseTransaction,
    org: OrgId,
    actor: Option<Uuid>,
    lines: &[ReserveLine],
    reference: Option<&str>,
) -> AppResult<Reservation> {
    let lines = normalize_lines(lines)?;
    let reference = optional_text("reference", reference, 200)?;
    check_lines_in_org(txn, org, &lines).await?;
    reserve_lines(txn, org, actor, &lines, reference).await
}

async fn reserve_lines(
    txn: &DatabaseTransaction,
    org: OrgId,
    actor: Option<Uuid>,
    lines: &[ReserveLine],
    reference: Option<String>,
) -> AppResult<Reservation> {
    use stock::Column as C;
    let id = ReservationId::new();
    let note = Note {
        actor,
        reason: None,
        reference: Some(id.to_string()),
    };
    for line in lines {
        let (p, l, q) = (line.product_id.0, line.location_id.0, line.quantity);
        let updated = stock::Entity::update_many()
            .col_expr(C::Reserved, Expr::col(C::Reserved).add(q))
            .col_expr(C::UpdatedAt, Expr::value(now()))
            .filter(C::OrgId.eq(org.0))
            .filter(C::ProductId.eq(p))
            .filter(C::LocationId.eq(l))
            .filter(Expr::col(C::OnHand).sub(Expr::col(C::Reserved)).gte(q))
            .exec(txn)
            .await?;
        if updated.rows_affected != 1 {
            return Err(
                AppError::new(ErrorCode::Conflict, "insufficient stock").with_details(json!({
                    "product_id": p, "location_id": l, "requested": q,
                })),
            );
        }
        insert_movement(txn, org, (p, l), MovementKind::Reserve, q, (0, q), &note).await?;
        if let Some(level) = read_level(txn, org, p, l).await? {
            low_stock_check(txn, org, &level, level.on_hand - level.reserved + q).await?;
        }
    }
    let at = now();
    let row = reservations::ActiveModel {
        id: Set(id.0),
        org_id: Set(org.0),
        status: Set(ReservationStatus::Held.as_str().into()),
        lines: Set(serde_json::to_value(lines).map_err(AppError::internal)?),
        reference: Set(reference),
        created_at: Set(at),
        updated_at: Set(at),
    }
    .insert(txn)
    .await?;
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
    let txn = comptoir_kernel::db::begin_write(db).await?;
    match settle_in(&txn, org, actor, id, to).await {
        Ok(reservation) => {
            txn.commit().await?;
            Ok(reservation)
        }
        Err(e) => {
            txn.rollback().await?;
            Err(e)
        }
    }
}

/// [`release`] or [`commit`] inside the caller's transaction (roll it back on error).
pub async fn settle_in(
    txn: &DatabaseTransaction,
    org: OrgId,
    actor: Option<Uuid>,
    id: ReservationId,
    to: ReservationStatus,
) -> AppResult<Reservation> {
    use stock::Column as C;
    let claimed = reservations::Entity::update_many()
        .col_expr(reservations::Column::Status, Expr::value(to.as_str()))
        .col_expr(reservations::Column::UpdatedAt, Expr::value(now()))
        .filter(reservations::Column::OrgId.eq(org.0))
        .filter(reservations::Column::Id.eq(id.0))
        .filter(reservations::Column::Status.eq(ReservationStatus::Held.as_str()))
        .exec(txn)
        .await?;
    if claimed.rows_affected != 1 {
        let current = find_in_org::<reservations::Entity>(txn, org, id.0).await?;
        return Err(AppError::conflict(format!(
            "the reservation is already {}",
            current.status
        )));
    }
    let row = find_in_org::<reservations::Entity>(txn, org, id.0).await?;
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
            .exec(txn)
            .await?;
        if updated.rows_affected != 1 {
            return Err(AppError::internal(anyhow::anyhow!(
                "reservation {id} exceeds the reserved stock"
            )));
        }
        insert_movement(txn, org, (p, l), kind, q, (on_hand_delta, -q), &note).await?;
    }
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

/// What the order pipeline checks about a product: is it sellable, at what price.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SellableProduct {
    pub id: ProductId,
    pub sku: String,
    /// `status = active`.
    pub active: bool,
    pub sale_price_e4: i64,
    pub currency: String,
}

/// The products of `org` with these SKUs (unknown SKUs are simply absent).
pub async fn products_by_sku(
    db: &impl ConnectionTrait,
    org: OrgId,
    skus: &[String],
) -> AppResult<Vec<SellableProduct>> {
    Ok(scoped::<products::Entity>(org)
        .filter(products::Column::Sku.is_in(skus.iter().cloned()))
        .all(db)
        .await?
        .into_iter()
        .map(|p| SellableProduct {
            id: ProductId(p.id),
            active: p.status == "active",
            sku: p.sku,
            sale_price_e4: p.sale_price_e4,
            currency: p.currency,
        })
        .collect())
}

/// The locations of `org` holding enough available stock for every `(product, quantity)`
/// at once, by location code: where the order pipeline may reserve a whole order (it never
/// splits one). A snapshot: [`reserve_in`] still decides under concurrency.
pub async fn locations_covering(
    db: &impl ConnectionTrait,
    org: OrgId,
    needs: &[(ProductId, i64)],
) -> AppResult<Vec<LocationId>> {
    let mut wanted: BTreeMap<Uuid, i64> = BTreeMap::new();
    for (p, q) in needs {
        *wanted.entry(p.0).or_default() += q;
    }
    if wanted.is_empty() {
        return Ok(Vec::new());
    }
    let levels = scoped::<stock::Entity>(org)
        .filter(stock::Column::ProductId.is_in(wanted.keys().copied()))
        .all(db)
        .await?;
    let mut covered: BTreeMap<Uuid, usize> = BTreeMap::new();
    for level in levels {
        if wanted
            .get(&level.product_id)
            .is_some_and(|q| level.on_hand - level.reserved >= *q)
        {
            *covered.entry(level.location_id).or_default() += 1;
        }
    }
    let ids: Vec<Uuid> = covered
        .into_iter()
        .filter(|(_, n)| *n == wanted.len())
        .map(|(l, _)| l)
        .collect();
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    use sea_orm::QueryOrder;
    Ok(scoped::<locations::Entity>(org)
        .filter(locations::Column::Id.is_in(ids))
        .order_by_asc(locations::Column::Code)
        .all(db)
        .await?
        .into_iter()
        .map(|l| LocationId(l.id))
        .collect())
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

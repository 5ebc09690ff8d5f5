//! Stock levels and the movement ledger: adjustments (receipt, correction, count), levels
//! set by imports, low-stock events, and the listings. Reservations are in
//! [`crate::reservations`]. The ledger holds `on_hand_delta`/`reserved_delta`; their sums
//! equal the levels.

use comptoir_kernel::auth::{Caller, Permission};
use comptoir_kernel::ids::OrgId;
use comptoir_kernel::tenancy::{find_in_org, scoped};
use comptoir_kernel::{AppError, AppResult};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, DatabaseTransaction,
    EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};
use serde_json::json;
use uuid::Uuid;

use crate::entities::{events, locations, movements, products, stock};
use crate::model::*;
use crate::store::{self, now};
use crate::views::*;

/// Largest quantity in one movement.
pub const MAX_QUANTITY: i64 = 1_000_000_000;

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

pub(crate) async fn insert_movement(
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

pub(crate) async fn read_level(
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
pub(crate) async fn low_stock_check(
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
    let txn = comptoir_kernel::db::begin_write(db).await?;
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

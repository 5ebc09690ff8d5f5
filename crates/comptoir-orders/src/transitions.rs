//! Changes asked through the API: cancel (releases the reservation; the invoice credit
//! comes with the billing slice), invoice (until billing exists, a recorded step), ship
//! (commits the reservation: the units leave the stock) and deliver. Each runs in one
//! transaction with its stock effect, history row and outbox event.

use comptoir_catalog::model::{ReservationId, ReservationStatus};
use comptoir_catalog::service as catalog;
use comptoir_kernel::auth::{Caller, Permission};
use comptoir_kernel::tenancy::find_in_org;
use comptoir_kernel::{AppError, AppResult};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter};

use crate::entities::orders;
use crate::model::OrderId;
use crate::scope::OrderScope;
use crate::state::{Status, transition};
use crate::store::{Actor, Changes, now, status_of};

/// Moves an order to `to` on a caller's request. 409 `invalid_transition` when the
/// state machine forbids it.
pub async fn change(
    db: &DatabaseConnection,
    caller: &Caller,
    id: OrderId,
    to: Status,
    reason: Option<String>,
) -> AppResult<Status> {
    let org = caller.org_id;
    let reason = comptoir_catalog::model::optional_text("reason", reason.as_deref(), 500)?;
    let scope = OrderScope::of(db, caller).await?;
    let txn = comptoir_kernel::db::begin_write(db).await?;
    // Write first: the row lock (PostgreSQL) and SQLite's write lock, before reading.
    let touched = orders::Entity::update_many()
        .col_expr(orders::Column::UpdatedAt, Expr::value(now()))
        .filter(orders::Column::OrgId.eq(org.0))
        .filter(orders::Column::Id.eq(id.0))
        .exec(&txn)
        .await?;
    if touched.rows_affected != 1 {
        txn.rollback().await?;
        return Err(AppError::not_found("order"));
    }
    if let Err(e) = caller.require(Permission::Write) {
        txn.rollback().await?;
        return Err(e);
    }
    let order = find_in_org::<orders::Entity>(&txn, org, id.0).await?;
    if !scope.admits(order.location_id) {
        txn.rollback().await?;
        return Err(AppError::not_found("order"));
    }
    let from = status_of(&order)?;
    if let Err(e) = transition(from, to) {
        txn.rollback().await?;
        return Err(e);
    }
    let actor = Actor::of(caller);
    if let Some(r) = order.reservation_id {
        let effect = match to {
            Status::Cancelled => Some(ReservationStatus::Released),
            Status::Shipped => Some(ReservationStatus::Committed),
            _ => None,
        };
        if let Some(effect) = effect {
            catalog::settle_in(&txn, org, actor.user_id, ReservationId(r), effect).await?;
        }
    }
    let mut c = Changes::new(org, id.0, from);
    c.to(to, reason)?;
    let status = c.write(&txn, &actor).await?;
    txn.commit().await?;
    Ok(status)
}

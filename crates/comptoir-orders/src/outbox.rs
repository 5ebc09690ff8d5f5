//! The outbox consumer: events written with each state change are handed to their
//! subscribers by the periodic `orders.outbox` job. Each event is claimed by a conditional
//! `UPDATE ... WHERE published_at IS NULL` in the same transaction as what its subscribers
//! enqueue, so an event is dispatched exactly once even if two drains overlap.
//!
//! Subscribers today: the connectors (an `orders.export` job per confirmed order of an
//! organization with an enabled connector). Notifications and invoicing subscribe here
//! later.

use comptoir_kernel::AppResult;
use comptoir_kernel::AppState;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use crate::entities::outbox;
use crate::store::now;

/// Publishes up to `limit` pending events; returns how many this call published.
pub async fn drain(state: &AppState, limit: u64) -> AppResult<u64> {
    let db = &state.db;
    let pending = outbox::Entity::find()
        .filter(outbox::Column::PublishedAt.is_null())
        .order_by_asc(outbox::Column::CreatedAt)
        .limit(limit)
        .all(db)
        .await?;
    if pending.is_empty() {
        return Ok(0);
    }
    let txn = comptoir_kernel::db::begin_write(db).await?;
    let mut published = 0;
    for event in pending {
        let claimed = outbox::Entity::update_many()
            .col_expr(outbox::Column::PublishedAt, Expr::value(now()))
            .filter(outbox::Column::Id.eq(event.id))
            .filter(outbox::Column::PublishedAt.is_null())
            .exec(&txn)
            .await?;
        if claimed.rows_affected == 1 {
            dispatch(&txn, &event).await?;
            published += 1;
        }
    }
    txn.commit().await?;
    Ok(published)
}

async fn dispatch(txn: &impl ConnectionTrait, event: &outbox::Model) -> AppResult<()> {
    tracing::debug!(event = %event.event, order = %event.order_id, "order event");
    crate::connectors::on_event(txn, event).await
}

//! `POST /api/v1/orders`: the order, its lines, its first history row and its processing
//! job in one transaction, so a 202 always means stored and queued. `Idempotency-Key`:
//! keys are unique per organization (a unique index); the same key with the same body
//! (same fingerprint) answers with the first order, with another body 409.

use comptoir_kernel::auth::{Caller, Permission};
use comptoir_kernel::ids::OrgId;
use comptoir_kernel::jobs::{self, EnqueueOptions, TaskId};
use comptoir_kernel::tenancy::scoped;
use comptoir_kernel::{AppError, AppResult, ErrorCode};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, Set, SqlErr};
use serde_json::json;

use crate::entities::{history, lines, orders};
use crate::jobs::ProcessOrder;
use crate::model::*;
use crate::store::{Actor, now, received_row};

/// Longest accepted `Idempotency-Key`.
pub const MAX_KEY_LEN: usize = 255;

/// Checks an `Idempotency-Key` header value (400 when unusable).
pub fn parse_key(raw: &[u8]) -> AppResult<String> {
    let ok = !raw.is_empty()
        && raw.len() <= MAX_KEY_LEN
        && raw.iter().all(|b| (0x21..=0x7e).contains(b));
    if !ok {
        return Err(AppError::invalid_parameter(
            "Idempotency-Key",
            format!("1 to {MAX_KEY_LEN} visible ASCII characters"),
        ));
    }
    Ok(String::from_utf8_lossy(raw).into_owned())
}

pub fn accepted(order: &orders::Model) -> Accepted {
    Accepted {
        order_id: OrderId(order.id),
        status: "queued".into(),
        status_url: format!("/api/v1/orders/{}", order.id),
        task_id: order.task_id.map(TaskId),
    }
}

async fn by_key(
    db: &impl sea_orm::ConnectionTrait,
    org: OrgId,
    key: &str,
) -> AppResult<Option<orders::Model>> {
    Ok(scoped::<orders::Entity>(org)
        .filter(orders::Column::IdempotencyKey.eq(key))
        .one(db)
        .await?)
}

fn replay(existing: orders::Model, fingerprint: &str) -> AppResult<(Accepted, bool)> {
    if existing.request_hash != fingerprint {
        return Err(AppError::new(
            ErrorCode::IdempotencyKeyReused,
            "this Idempotency-Key was used with a different request",
        )
        .with_details(json!({"order_id": existing.id})));
    }
    Ok((accepted(&existing), true))
}

/// Stores and queues an order. Returns the answer and whether it is a replay of an earlier
/// request with the same key.
pub async fn create_order(
    db: &DatabaseConnection,
    caller: &Caller,
    key: Option<String>,
    input: OrderInput,
) -> AppResult<(Accepted, bool)> {
    caller.require(Permission::Write)?;
    let org = caller.org_id;
    let valid = input.validate()?;
    let fingerprint = input.fingerprint();
    if let Some(key) = &key
        && let Some(existing) = by_key(db, org, key).await?
    {
        return replay(existing, &fingerprint);
    }
    let id = OrderId::new();
    let actor = Actor::of(caller);
    let at = now();
    let txn = comptoir_kernel::db::begin_write(db).await?;
    let task = jobs::enqueue(
        &txn,
        Some(org),
        &ProcessOrder { order_id: id },
        EnqueueOptions::default(),
    )
    .await?;
    let order = orders::ActiveModel {
        id: Set(id.0),
        org_id: Set(org.0),
        status: Set(crate::state::Status::Received.as_str().into()),
        customer_id: Set(valid.customer_id.map(|c| c.0)),
        customer_email: Set(valid.customer_email),
        customer: Set(valid.customer),
        currency: Set(valid.currency),
        shipping: Set(valid.shipping),
        delivery_type: Set(valid.delivery_type.as_str().into()),
        metadata: Set(valid.metadata),
        total_e4: Set(None),
        reason: Set(None),
        reservation_id: Set(None),
        location_id: Set(None),
        idempotency_key: Set(key.clone()),
        request_hash: Set(fingerprint.clone()),
        task_id: Set(Some(task.0)),
        created_by: Set(Some(caller.user_id.0)),
        created_at: Set(at),
        updated_at: Set(at),
    };
    // A concurrent request with the same key fails here; its job goes with the rollback.
    if let Err(e) = orders::Entity::insert(order)
        .exec_without_returning(&txn)
        .await
    {
        txn.rollback().await?;
        if let (Some(key), Some(SqlErr::UniqueConstraintViolation(_))) = (&key, e.sql_err())
            && let Some(existing) = by_key(db, org, key).await?
        {
            return replay(existing, &fingerprint);
        }
        return Err(e.into());
    }
    let rows: Vec<lines::ActiveModel> = valid
        .lines
        .into_iter()
        .enumerate()
        .map(|(i, (sku, quantity, price))| lines::ActiveModel {
            id: Set(uuid::Uuid::now_v7()),
            org_id: Set(org.0),
            order_id: Set(id.0),
            position: Set(i as i32),
            sku: Set(sku),
            product_id: Set(None),
            quantity: Set(quantity),
            unit_price_e4: Set(price),
        })
        .collect();
    lines::Entity::insert_many(rows)
        .exec_without_returning(&txn)
        .await?;
    history::Entity::insert(received_row(org, id.0, &actor))
        .exec_without_returning(&txn)
        .await?;
    txn.commit().await?;
    Ok((
        Accepted {
            order_id: id,
            status: "queued".into(),
            status_url: format!("/api/v1/orders/{id}"),
            task_id: Some(task),
        },
        false,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_visible_ascii_up_to_255() {
        assert_eq!(parse_key(b"order-42").unwrap(), "order-42");
        assert!(parse_key(b"").is_err());
        assert!(parse_key(b"with space").is_err());
        assert!(parse_key(&[b'a'; 256]).is_err());
        assert!(parse_key("clé".as_bytes()).is_err());
    }
}

//! The worker's processing of a batch of orders in one transaction, each order in its own
//! savepoint (a failing order rolls back alone): business validation (customer, active
//! products, prices, currency) → reservation of the whole order at one location →
//! confirmed, with the outbox event in the same transaction.
//!
//! **Location rule**: the order is reserved whole at the first location, by code, whose
//! available stock covers every line; if a concurrent reservation takes that stock first,
//! the next such location is tried. Orders are never split; without such a location the
//! order is rejected (`insufficient stock`), or retried when `orders.on_insufficient_stock`
//! is `retry`.
//!
//! Re-running an order is harmless: the first statement locks the order row, and an order
//! the pipeline already finished is left as it is, so a job re-run after a crash between
//! this commit and the job's own success record changes nothing.

use std::collections::HashMap;

use comptoir_catalog::service as catalog;
use comptoir_catalog::views::ReserveLine;
use comptoir_kernel::ids::OrgId;
use comptoir_kernel::jobs::JobError;
use comptoir_kernel::tenancy::{find_in_org, scoped};
use comptoir_kernel::{AppError, ErrorCode};
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{
    ColumnTrait, DatabaseConnection, DatabaseTransaction, EntityTrait, QueryFilter, QueryOrder,
    Set, TransactionTrait,
};
use uuid::Uuid;

use crate::entities::{customers, lines, orders};
use crate::model::{CustomerId, OrderId, from_e4};
use crate::state::Status;
use crate::store::{Actor, Changes, now, shipping_price_e4, status_of};

/// What to do when no location has the stock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shortage {
    /// Reject the order (final).
    Reject,
    /// Fail the job: retried, then a dead letter to replay once stock arrived.
    Retry,
}

impl Shortage {
    pub fn from_config(value: &str) -> Shortage {
        if value.eq_ignore_ascii_case("retry") {
            Shortage::Retry
        } else {
            Shortage::Reject
        }
    }
}

fn db_err(e: impl std::fmt::Display) -> JobError {
    JobError::retry(e)
}

/// Processes `items` together. One result per item, in order.
pub async fn process_batch(
    db: &DatabaseConnection,
    items: &[(OrgId, OrderId)],
    shortage: Shortage,
) -> Vec<Result<Status, JobError>> {
    let txn = match comptoir_kernel::db::begin_write(db).await {
        Ok(t) => t,
        Err(e) => return items.iter().map(|_| Err(db_err(&e))).collect(),
    };
    let mut results = Vec::with_capacity(items.len());
    for (org, id) in items {
        results.push(in_savepoint(&txn, *org, *id, shortage).await);
    }
    if let Err(e) = txn.commit().await {
        let message = format!("the batch did not commit: {e}");
        return items
            .iter()
            .map(|_| Err(JobError::retry(&message)))
            .collect();
    }
    results
}

async fn in_savepoint(
    txn: &DatabaseTransaction,
    org: OrgId,
    id: OrderId,
    shortage: Shortage,
) -> Result<Status, JobError> {
    let sp = txn.begin().await.map_err(db_err)?;
    match process_one(&sp, org, id, shortage).await {
        Ok(status) => {
            sp.commit().await.map_err(db_err)?;
            Ok(status)
        }
        Err(e) => {
            sp.rollback().await.map_err(db_err)?;
            Err(e)
        }
    }
}

/// A business refusal: the order is rejected with this reason.
struct Refusal(String);

async fn process_one(
    txn: &DatabaseTransaction,
    org: OrgId,
    id: OrderId,
    shortage: Shortage,
) -> Result<Status, JobError> {
    // Write first: takes the row lock (PostgreSQL) and SQLite's write lock up front.
    let touched = orders::Entity::update_many()
        .col_expr(orders::Column::UpdatedAt, Expr::value(now()))
        .filter(orders::Column::OrgId.eq(org.0))
        .filter(orders::Column::Id.eq(id.0))
        .exec(txn)
        .await
        .map_err(db_err)?;
    if touched.rows_affected != 1 {
        return Err(JobError::permanent(format!("order {id} does not exist")));
    }
    let order = find_in_org::<orders::Entity>(txn, org, id.0)
        .await
        .map_err(db_err)?;
    let mut status = status_of(&order).map_err(JobError::permanent)?;
    if status == Status::Failed {
        // The replay of its dead letter.
        let mut c = Changes::new(org, id.0, status);
        c.to(Status::Received, Some("replayed".into()))
            .map_err(JobError::permanent)?;
        status = c.write(txn, &Actor::SYSTEM).await.map_err(db_err)?;
    }
    if status.is_processed() {
        return Ok(status);
    }
    let order_lines = scoped::<lines::Entity>(org)
        .filter(lines::Column::OrderId.eq(id.0))
        .order_by_asc(lines::Column::Position)
        .all(txn)
        .await
        .map_err(db_err)?;
    let mut changes = Changes::new(org, id.0, status);
    match validate(txn, org, &order, &order_lines).await? {
        Err(Refusal(reason)) => {
            changes
                .to(Status::Rejected, Some(reason))
                .map_err(JobError::permanent)?;
            return changes.write(txn, &Actor::WORKER).await.map_err(db_err);
        }
        Ok(validated) => {
            changes
                .to(Status::Validated, None)
                .map_err(JobError::permanent)?;
            changes
                .set(orders::Column::TotalE4, Expr::value(validated.total_e4))
                .set(
                    orders::Column::CustomerId,
                    Expr::value(validated.customer.0),
                );
            for (line, (product, price)) in order_lines.iter().zip(&validated.lines) {
                lines::Entity::update_many()
                    .col_expr(lines::Column::ProductId, Expr::value(product.0))
                    .col_expr(lines::Column::UnitPriceE4, Expr::value(*price))
                    .filter(lines::Column::Id.eq(line.id))
                    .exec(txn)
                    .await
                    .map_err(db_err)?;
            }
            let needs: Vec<(comptoir_catalog::model::ProductId, i64)> = order_lines
                .iter()
                .zip(&validated.lines)
                .map(|(l, (p, _))| (*p, l.quantity))
                .collect();
            match reserve(txn, org, id, &needs).await? {
                Some((reservation, location)) => {
                    changes
                        .to(Status::StockReserved, None)
                        .map_err(JobError::permanent)?
                        .set(orders::Column::ReservationId, Expr::value(reservation))
                        .set(orders::Column::LocationId, Expr::value(location))
                        .to(Status::Confirmed, None)
                        .map_err(JobError::permanent)?;
                }
                None => {
                    let reason = shortage_reason(&order_lines);
                    if shortage == Shortage::Retry {
                        return Err(JobError::retry(reason));
                    }
                    changes
                        .to(Status::Rejected, Some(reason))
                        .map_err(JobError::permanent)?;
                }
            }
        }
    }
    changes.write(txn, &Actor::WORKER).await.map_err(db_err)
}

fn shortage_reason(order_lines: &[lines::Model]) -> String {
    let skus: Vec<String> = order_lines
        .iter()
        .map(|l| format!("{} × {}", l.quantity, l.sku))
        .collect();
    format!(
        "insufficient stock: no location can supply {}",
        skus.join(", ")
    )
}

struct Validated {
    customer: CustomerId,
    /// Product and unit price per line.
    lines: Vec<(comptoir_catalog::model::ProductId, i64)>,
    total_e4: i64,
}

async fn validate(
    txn: &DatabaseTransaction,
    org: OrgId,
    order: &orders::Model,
    order_lines: &[lines::Model],
) -> Result<Result<Validated, Refusal>, JobError> {
    let customer = match resolve_customer(txn, org, order).await? {
        Ok(c) => c,
        Err(r) => return Ok(Err(r)),
    };
    let skus: Vec<String> = order_lines.iter().map(|l| l.sku.clone()).collect();
    let products: HashMap<String, catalog::SellableProduct> =
        catalog::products_by_sku(txn, org, &skus)
            .await
            .map_err(db_err)?
            .into_iter()
            .map(|p| (p.sku.clone(), p))
            .collect();
    let mut resolved = Vec::with_capacity(order_lines.len());
    let mut total: i64 = shipping_price_e4(&order.shipping);
    for line in order_lines {
        let Some(p) = products.get(&line.sku) else {
            return Ok(Err(Refusal(format!("unknown SKU {}", line.sku))));
        };
        if !p.active {
            return Ok(Err(Refusal(format!(
                "SKU {} is not for sale (not active)",
                line.sku
            ))));
        }
        if p.currency != order.currency {
            return Ok(Err(Refusal(format!(
                "SKU {} is priced in {}, the order is in {}",
                line.sku, p.currency, order.currency
            ))));
        }
        if let Some(given) = line.unit_price_e4
            && given != p.sale_price_e4
        {
            return Ok(Err(Refusal(format!(
                "SKU {} costs {}, not {}",
                line.sku,
                from_e4(p.sale_price_e4),
                from_e4(given)
            ))));
        }
        total = total.saturating_add(p.sale_price_e4.saturating_mul(line.quantity));
        resolved.push((p.id, p.sale_price_e4));
    }
    Ok(Ok(Validated {
        customer,
        lines: resolved,
        total_e4: total,
    }))
}

/// The customer by id (must exist in the org), or inline: found or created by e-mail.
async fn resolve_customer(
    txn: &DatabaseTransaction,
    org: OrgId,
    order: &orders::Model,
) -> Result<Result<CustomerId, Refusal>, JobError> {
    if let Some(id) = order.customer_id {
        return Ok(match find_in_org::<customers::Entity>(txn, org, id).await {
            Ok(_) => Ok(CustomerId(id)),
            Err(e) if e.code == ErrorCode::NotFound => {
                Err(Refusal(format!("unknown customer {id}")))
            }
            Err(e) => return Err(db_err(e)),
        });
    }
    let Some(email) = order.customer_email.clone() else {
        return Ok(Err(Refusal("the order has no customer".into())));
    };
    let c = &order.customer;
    let name = c.get("name").and_then(|v| v.as_str()).map(str::to_owned);
    let addresses = serde_json::json!({
        "shipping": c.get("shipping_address"),
        "billing": c.get("billing_address"),
    });
    let at = now();
    customers::Entity::insert(customers::ActiveModel {
        id: Set(Uuid::now_v7()),
        org_id: Set(org.0),
        email: Set(email.clone()),
        name: Set(name),
        addresses: Set(Some(addresses)),
        created_at: Set(at),
        updated_at: Set(at),
    })
    .on_conflict(
        OnConflict::columns([customers::Column::OrgId, customers::Column::Email])
            .do_nothing()
            .to_owned(),
    )
    .exec_without_returning(txn)
    .await
    .map_err(db_err)?;
    let row = scoped::<customers::Entity>(org)
        .filter(customers::Column::Email.eq(email))
        .one(txn)
        .await
        .map_err(db_err)?
        .ok_or_else(|| JobError::retry("the customer vanished"))?;
    Ok(Ok(CustomerId(row.id)))
}

/// Reserves the whole order at the first location that can supply it (see the module).
async fn reserve(
    txn: &DatabaseTransaction,
    org: OrgId,
    id: OrderId,
    needs: &[(comptoir_catalog::model::ProductId, i64)],
) -> Result<Option<(Uuid, Uuid)>, JobError> {
    let candidates = catalog::locations_covering(txn, org, needs)
        .await
        .map_err(db_err)?;
    let reference = id.0.to_string();
    for location in candidates.into_iter().take(5) {
        let lines: Vec<ReserveLine> = needs
            .iter()
            .map(|(p, q)| ReserveLine {
                product_id: *p,
                location_id: location,
                quantity: *q,
            })
            .collect();
        let sp = txn.begin().await.map_err(db_err)?;
        match catalog::reserve_in(&sp, org, None, &lines, Some(&reference)).await {
            Ok(r) => {
                sp.commit().await.map_err(db_err)?;
                return Ok(Some((r.id.0, location.0)));
            }
            Err(e) if e.code == ErrorCode::Conflict => {
                sp.rollback().await.map_err(db_err)?;
            }
            Err(e) => {
                sp.rollback().await.map_err(db_err)?;
                return Err(job_error(e));
            }
        }
    }
    Ok(None)
}

fn job_error(e: AppError) -> JobError {
    if e.code == ErrorCode::InternalError || e.code == ErrorCode::Unavailable {
        JobError::retry(e)
    } else {
        JobError::permanent(e)
    }
}

/// Marks an order whose job ran out of attempts as failed (from received; a no-op when it
/// moved on meanwhile).
pub async fn mark_failed(
    db: &DatabaseConnection,
    org: OrgId,
    id: OrderId,
    reason: &str,
) -> Result<(), AppError> {
    let txn = comptoir_kernel::db::begin_write(db).await?;
    let mut c = Changes::new(org, id.0, Status::Received);
    c.to(Status::Failed, Some(reason.chars().take(500).collect()))?;
    match c.write(&txn, &Actor::WORKER).await {
        Ok(_) => txn.commit().await?,
        Err(e) if e.code == ErrorCode::Conflict => txn.rollback().await?,
        Err(e) => return Err(e),
    }
    Ok(())
}

//! Reading orders: the filtered, cursor-paginated list, the counts per status and one order
//! with its lines, reservation, history and events.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use comptoir_catalog::model::ReservationId;
use comptoir_catalog::service as catalog;
use comptoir_kernel::ids::OrgId;
use comptoir_kernel::tenancy::{find_in_org, scoped};
use comptoir_kernel::{AppError, AppResult};
use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{ColumnTrait, Condition, ConnectionTrait, QueryFilter, QueryOrder, QuerySelect};
use serde::Deserialize;
use utoipa::IntoParams;
use uuid::Uuid;

use crate::entities::{history, lines, orders, outbox};
use crate::model::*;
use crate::scope::OrderScope;
use crate::state::Status;
use crate::store::{history_view, shipping_view, summary};

/// Filters of `GET /api/v1/orders`.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct OrderFilter {
    /// One status or several, comma-separated (`received,failed`).
    pub status: Option<String>,
    /// Created at or after (RFC 3339).
    pub from: Option<DateTime<Utc>>,
    /// Created before (RFC 3339).
    pub to: Option<DateTime<Utc>>,
    /// A customer id or e-mail.
    pub customer: Option<String>,
    /// Text: part of the customer's e-mail, an order id, or a SKU on a line.
    pub q: Option<String>,
    /// From `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// 1 to 200, default 50.
    pub limit: Option<u64>,
}

impl OrderFilter {
    /// A stable cache key for this filter.
    pub fn key(&self) -> String {
        format!(
            "{:?}|{:?}|{:?}|{:?}|{:?}|{:?}|{:?}",
            self.status, self.from, self.to, self.customer, self.q, self.cursor, self.limit
        )
    }
}

fn statuses(raw: &str) -> AppResult<Vec<&'static str>> {
    raw.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            Status::parse(s)
                .map(Status::as_str)
                .ok_or_else(|| AppError::invalid_parameter("status", format!("unknown status {s}")))
        })
        .collect()
}

fn like_escape(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}

/// A page of the organization's orders, newest first.
pub async fn list_orders(
    db: &impl ConnectionTrait,
    org: OrgId,
    scope: &OrderScope,
    f: &OrderFilter,
) -> AppResult<OrderPage> {
    use orders::Column as C;
    let limit = match f.limit {
        None => 50,
        Some(l) if (1..=200).contains(&l) => l,
        Some(_) => return Err(AppError::invalid_parameter("limit", "between 1 and 200")),
    };
    let mut q = in_scope(org, scope);
    if let Some(s) = f.status.as_deref() {
        let list = statuses(s)?;
        if !list.is_empty() {
            q = q.filter(C::Status.is_in(list));
        }
    }
    if let Some(from) = f.from {
        q = q.filter(C::CreatedAt.gte(from));
    }
    if let Some(to) = f.to {
        q = q.filter(C::CreatedAt.lt(to));
    }
    if let Some(c) = f
        .customer
        .as_deref()
        .map(str::trim)
        .filter(|c| !c.is_empty())
    {
        q = match Uuid::parse_str(c) {
            Ok(id) => q.filter(C::CustomerId.eq(id)),
            Err(_) => q.filter(C::CustomerEmail.eq(c.to_ascii_lowercase())),
        };
    }
    if let Some(text) = f.q.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        if text.chars().count() > 200 {
            return Err(AppError::invalid_parameter("q", "at most 200 characters"));
        }
        let mut any = Condition::any().add(
            Expr::col(C::CustomerEmail).like(
                sea_orm::sea_query::LikeExpr::new(format!(
                    "%{}%",
                    like_escape(&text.to_ascii_lowercase())
                ))
                .escape('\\'),
            ),
        );
        if let Ok(id) = Uuid::parse_str(text) {
            any = any.add(C::Id.eq(id));
        }
        let with_sku = Query::select()
            .column(lines::Column::OrderId)
            .from(lines::Entity)
            .and_where(lines::Column::OrgId.eq(org.0))
            .and_where(lines::Column::Sku.eq(text))
            .to_owned();
        any = any.add(C::Id.in_subquery(with_sku));
        q = q.filter(any);
    }
    if let Some(cursor) = f.cursor.as_deref() {
        let after = Uuid::parse_str(cursor)
            .map_err(|_| AppError::invalid_parameter("cursor", "not a cursor from next_cursor"))?;
        q = q.filter(C::Id.lt(after));
    }
    let rows = q.order_by_desc(C::Id).limit(limit + 1).all(db).await?;
    let more = rows.len() as u64 > limit;
    let items: Vec<OrderSummary> = rows.iter().take(limit as usize).map(summary).collect();
    let next_cursor = more
        .then(|| items.last().map(|o| o.id.0.to_string()))
        .flatten();
    Ok(OrderPage { items, next_cursor })
}

/// The organization's orders within `scope`.
fn in_scope(org: OrgId, scope: &OrderScope) -> sea_orm::Select<orders::Entity> {
    let q = scoped::<orders::Entity>(org);
    match scope.locations() {
        None => q,
        Some(ids) => q.filter(orders::Column::LocationId.is_in(ids.iter().copied())),
    }
}

/// How many orders within `scope` are in each status (every status listed).
pub async fn counts(
    db: &impl ConnectionTrait,
    org: OrgId,
    scope: &OrderScope,
) -> AppResult<BTreeMap<String, i64>> {
    let rows: Vec<(String, i64)> = in_scope(org, scope)
        .select_only()
        .column(orders::Column::Status)
        .column_as(orders::Column::Id.count(), "n")
        .group_by(orders::Column::Status)
        .into_tuple()
        .all(db)
        .await?;
    let mut all: BTreeMap<String, i64> = Status::ALL
        .iter()
        .map(|s| (s.as_str().to_owned(), 0))
        .collect();
    for (status, n) in rows {
        all.insert(status, n);
    }
    Ok(all)
}

/// `view` if the scope admits it; 404 otherwise, like another tenant's order.
pub fn within(view: OrderView, scope: &OrderScope) -> AppResult<OrderView> {
    if scope.admits(view.location_id) {
        Ok(view)
    } else {
        Err(AppError::not_found("order"))
    }
}

/// One order of the organization, in full (whatever the caller's scope: see [`within`]).
pub async fn get_order(db: &impl ConnectionTrait, org: OrgId, id: OrderId) -> AppResult<OrderView> {
    let order = find_in_org::<orders::Entity>(db, org, id.0)
        .await
        .map_err(|_| AppError::not_found("order"))?;
    let order_lines = scoped::<lines::Entity>(org)
        .filter(lines::Column::OrderId.eq(id.0))
        .order_by_asc(lines::Column::Position)
        .all(db)
        .await?;
    let history = scoped::<history::Entity>(org)
        .filter(history::Column::OrderId.eq(id.0))
        .order_by_asc(history::Column::At)
        .order_by_asc(history::Column::Id)
        .all(db)
        .await?;
    let events = scoped::<outbox::Entity>(org)
        .filter(outbox::Column::OrderId.eq(id.0))
        .order_by_asc(outbox::Column::CreatedAt)
        .all(db)
        .await?;
    let reservation = match order.reservation_id {
        Some(r) => Some(
            serde_json::to_value(catalog::get_reservation(db, org, ReservationId(r)).await?)
                .map_err(AppError::internal)?,
        ),
        None => None,
    };
    Ok(OrderView {
        summary: summary(&order),
        customer: order.customer.clone(),
        shipping: shipping_view(&order.shipping),
        metadata: order.metadata.clone(),
        lines: order_lines
            .into_iter()
            .map(|l| LineView {
                sku: l.sku,
                product_id: l.product_id,
                quantity: l.quantity,
                unit_price: l.unit_price_e4.map(from_e4),
            })
            .collect(),
        location_id: order.location_id,
        reservation,
        history: history.into_iter().map(history_view).collect(),
        events: events
            .into_iter()
            .map(|e| EventView {
                event: e.event,
                created_at: e.created_at,
                published_at: e.published_at,
            })
            .collect(),
        task_id: order.task_id.map(comptoir_kernel::jobs::TaskId),
    })
}

//! Storage helpers shared by intake, the worker and the transition endpoints: applying a
//! sequence of state changes to one order in the caller's transaction (one guarded
//! `UPDATE`, the history rows and the outbox events), and row → view conversions.

use chrono::{DateTime, Utc};
use comptoir_kernel::ids::OrgId;
use comptoir_kernel::{AppError, AppResult};
use sea_orm::sea_query::{Expr, SimpleExpr};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::entities::{history, orders, outbox};
use crate::model::*;
use crate::state::{Status, Step, transition};

pub fn now() -> DateTime<Utc> {
    Utc::now()
}

/// Who changed an order.
#[derive(Clone, Debug)]
pub struct Actor {
    /// `user`, `api_key`, `worker` or `system`.
    pub kind: &'static str,
    pub user_id: Option<Uuid>,
}

impl Actor {
    pub const WORKER: Actor = Actor {
        kind: "worker",
        user_id: None,
    };
    pub const SYSTEM: Actor = Actor {
        kind: "system",
        user_id: None,
    };

    pub fn of(caller: &comptoir_kernel::auth::Caller) -> Actor {
        use comptoir_kernel::auth::AuthVia;
        Actor {
            kind: match caller.via {
                AuthVia::ApiKey { .. } => "api_key",
                AuthVia::System => "system",
                _ => "user",
            },
            user_id: Some(caller.user_id.0),
        }
    }
}

/// State changes of one order, written together by [`Changes::write`].
pub struct Changes {
    org: OrgId,
    order: Uuid,
    start: Status,
    current: Status,
    steps: Vec<(Step, Option<String>)>,
    sets: Vec<(orders::Column, SimpleExpr)>,
}

impl Changes {
    pub fn new(org: OrgId, order: Uuid, start: Status) -> Self {
        Self {
            org,
            order,
            start,
            current: start,
            steps: Vec::new(),
            sets: Vec::new(),
        }
    }

    /// One more change (409 `invalid_transition` if illegal from the current state).
    pub fn to(&mut self, to: Status, reason: Option<String>) -> AppResult<&mut Self> {
        let step = transition(self.current, to)?;
        self.current = to;
        self.steps.push((step, reason));
        Ok(self)
    }

    /// A column to set with the status.
    pub fn set(&mut self, col: orders::Column, value: impl Into<SimpleExpr>) -> &mut Self {
        self.sets.push((col, value.into()));
        self
    }

    /// Writes the changes: the status `UPDATE` guarded by the state we started from (409 if
    /// someone changed it meanwhile), a history row per step, an outbox row per event.
    pub async fn write(self, db: &impl ConnectionTrait, actor: &Actor) -> AppResult<Status> {
        if self.steps.is_empty() {
            return Ok(self.current);
        }
        let at = now();
        let mut update = orders::Entity::update_many()
            .col_expr(orders::Column::Status, Expr::value(self.current.as_str()))
            .col_expr(orders::Column::UpdatedAt, Expr::value(at))
            .filter(orders::Column::OrgId.eq(self.org.0))
            .filter(orders::Column::Id.eq(self.order))
            .filter(orders::Column::Status.eq(self.start.as_str()));
        let reason = self.steps.iter().rev().find_map(|(_, r)| r.clone());
        // The reason of the state it is in: kept for rejected, cancelled and failed orders,
        // cleared otherwise (a replayed failure is no longer one).
        let keep = matches!(
            self.current,
            Status::Rejected | Status::Cancelled | Status::Failed
        );
        update = update.col_expr(
            orders::Column::Reason,
            Expr::value(if keep { reason } else { None }),
        );
        for (col, value) in self.sets {
            update = update.col_expr(col, value);
        }
        if update.exec(db).await?.rows_affected != 1 {
            return Err(AppError::conflict(
                "the order changed meanwhile; read it again",
            ));
        }
        let mut rows = Vec::with_capacity(self.steps.len());
        let mut events = Vec::new();
        for (i, (step, reason)) in self.steps.iter().enumerate() {
            // Distinct, ordered times: the timeline sorts by them.
            let at = at + chrono::Duration::microseconds(i as i64);
            rows.push(history::ActiveModel {
                id: Set(Uuid::now_v7()),
                org_id: Set(self.org.0),
                order_id: Set(self.order),
                from_status: Set(Some(step.from.as_str().into())),
                to_status: Set(step.to.as_str().into()),
                actor: Set(actor.kind.into()),
                actor_user_id: Set(actor.user_id),
                reason: Set(reason.clone()),
                at: Set(at),
            });
            if let Some(event) = step.event {
                events.push(outbox_row(self.org, self.order, event, step, reason, at));
            }
        }
        history::Entity::insert_many(rows)
            .exec_without_returning(db)
            .await?;
        if !events.is_empty() {
            outbox::Entity::insert_many(events)
                .exec_without_returning(db)
                .await?;
        }
        Ok(self.current)
    }
}

fn outbox_row(
    org: OrgId,
    order: Uuid,
    event: &str,
    step: &Step,
    reason: &Option<String>,
    at: DateTime<Utc>,
) -> outbox::ActiveModel {
    outbox::ActiveModel {
        id: Set(Uuid::now_v7()),
        org_id: Set(org.0),
        order_id: Set(order),
        event: Set(event.into()),
        payload: Set(json!({
            "order_id": order,
            "from": step.from,
            "to": step.to,
            "reason": reason,
            "at": at,
        })),
        created_at: Set(at),
        published_at: Set(None),
    }
}

/// The first history row (`→ received`).
pub fn received_row(org: OrgId, order: Uuid, actor: &Actor) -> history::ActiveModel {
    history::ActiveModel {
        id: Set(Uuid::now_v7()),
        org_id: Set(org.0),
        order_id: Set(order),
        from_status: Set(None),
        to_status: Set(Status::Received.as_str().into()),
        actor: Set(actor.kind.into()),
        actor_user_id: Set(actor.user_id),
        reason: Set(None),
        at: Set(now()),
    }
}

pub fn status_of(m: &orders::Model) -> AppResult<Status> {
    Status::parse(&m.status)
        .ok_or_else(|| AppError::internal(anyhow::anyhow!("unknown order status {}", m.status)))
}

pub fn summary(m: &orders::Model) -> OrderSummary {
    OrderSummary {
        id: OrderId(m.id),
        status: Status::parse(&m.status).unwrap_or(Status::Failed),
        customer_id: m.customer_id.map(CustomerId),
        customer_email: m.customer_email.clone(),
        currency: m.currency.clone(),
        total: m.total_e4.map(from_e4),
        delivery_type: m.delivery_type.clone(),
        reason: m.reason.clone(),
        created_at: m.created_at,
        updated_at: m.updated_at,
    }
}

pub fn history_view(h: history::Model) -> HistoryEntry {
    HistoryEntry {
        from: h.from_status.as_deref().and_then(Status::parse),
        to: Status::parse(&h.to_status).unwrap_or(Status::Failed),
        actor: h.actor,
        actor_user_id: h.actor_user_id,
        reason: h.reason,
        at: h.at,
    }
}

/// `{"price_e4": n}` of the shipping, if any.
pub fn shipping_price_e4(shipping: &Option<Value>) -> i64 {
    shipping
        .as_ref()
        .and_then(|s| s.get("price_e4"))
        .and_then(Value::as_i64)
        .unwrap_or(0)
}

/// The stored shipping with its price as a decimal, for the API.
pub fn shipping_view(shipping: &Option<Value>) -> Option<Value> {
    let mut s = shipping.clone()?;
    if let Some(obj) = s.as_object_mut()
        && let Some(p) = obj.remove("price_e4").and_then(|v| v.as_i64())
    {
        obj.insert("price".into(), Value::String(from_e4(p).to_string()));
    }
    Some(s)
}

//! Optional connectors, per organization: confirmed orders exported to an external OMS
//! (Odoo's JSON-RPC external API: [`odoo`]) and reserved in an external WMS (REST:
//! [`wms`]). Configured with `PUT /api/v1/orders/connectors` (owners and admins); the
//! secret (password or API key) is encrypted at rest with the kernel cipher, bound to the
//! organization and connector, and never returned.
//!
//! The outbox hands every `order.confirmed` event to [`on_event`], which enqueues one
//! `orders.export` job per enabled connector (unique per order and connector). The job
//! calls the system through [`resilience::guarded`] (timeout, retries, circuit breaker);
//! what still fails is retried by the queue and ends as a dead letter.

pub mod api;
pub mod odoo;
pub mod resilience;
pub mod wms;

use std::time::Duration;

use comptoir_kernel::AppState;
use comptoir_kernel::ids::OrgId;
use comptoir_kernel::jobs::{self, EnqueueOptions, Job, JobContext, JobError};
use comptoir_kernel::tenancy::scoped;
use comptoir_kernel::{AppError, AppResult};
use rust_decimal::prelude::ToPrimitive;
use sea_orm::{ColumnTrait, ConnectionTrait, QueryFilter};
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::entities::{connectors, outbox};
use crate::model::OrderId;
use resilience::ConnectorError;

/// Which external system.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// Odoo (JSON-RPC external API): `sale.order` per confirmed order.
    Odoo,
    /// A WMS over REST: a reservation per confirmed order.
    Wms,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Odoo => "odoo",
            Kind::Wms => "wms",
        }
    }

    pub fn parse(s: &str) -> Option<Kind> {
        [Kind::Odoo, Kind::Wms]
            .into_iter()
            .find(|k| k.as_str() == s)
    }
}

/// Where and how to call.
pub struct Target {
    pub client: reqwest::Client,
    pub base_url: String,
    pub secret: String,
}

/// What is sent for one order.
#[derive(Debug, Clone)]
pub struct ExportOrder {
    pub order_id: Uuid,
    pub customer_email: String,
    pub customer_name: Option<String>,
    pub currency: String,
    pub lines: Vec<ExportLine>,
}

#[derive(Debug, Clone)]
pub struct ExportLine {
    pub sku: String,
    pub quantity: i64,
    pub unit_price: f64,
}

/// The external system's id for what was created.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exported {
    pub external_id: String,
}

/// One call to an external system for one order: what every connector implements.
#[async_trait::async_trait]
pub trait Connector: Send + Sync {
    async fn push(&self, order: &ExportOrder) -> Result<Exported, ConnectorError>;
}

#[async_trait::async_trait]
impl Connector for odoo::Odoo<'_> {
    async fn push(&self, order: &ExportOrder) -> Result<Exported, ConnectorError> {
        self.export(order).await
    }
}

#[async_trait::async_trait]
impl Connector for wms::Wms<'_> {
    async fn push(&self, order: &ExportOrder) -> Result<Exported, ConnectorError> {
        self.reserve(order).await
    }
}

/// The associated data binding a stored secret to its row.
pub fn secret_context(org: OrgId, kind: Kind) -> String {
    format!("org:{}/orders-connector/{}", org.0, kind.as_str())
}

/// The enabled connectors of an organization.
pub async fn enabled(db: &impl ConnectionTrait, org: OrgId) -> AppResult<Vec<connectors::Model>> {
    Ok(scoped::<connectors::Entity>(org)
        .filter(connectors::Column::Enabled.eq(true))
        .all(db)
        .await?)
}

/// The connectors' subscription to the outbox: an export job per enabled connector for
/// each confirmed order, in the outbox's transaction.
pub async fn on_event(txn: &impl ConnectionTrait, event: &outbox::Model) -> AppResult<()> {
    if event.event != "order.confirmed" {
        return Ok(());
    }
    let org = OrgId(event.org_id);
    for c in enabled(txn, org).await? {
        let Some(kind) = Kind::parse(&c.kind) else {
            continue;
        };
        let job = ExportOrderJob {
            order_id: OrderId(event.order_id),
            connector: kind,
        };
        let options = EnqueueOptions {
            unique_key: Some(format!(
                "orders.export:{}:{}",
                kind.as_str(),
                event.order_id
            )),
            ..Default::default()
        };
        jobs::enqueue(txn, Some(org), &job, options).await?;
    }
    Ok(())
}

/// Sends one confirmed order to one connector.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ExportOrderJob {
    pub order_id: OrderId,
    pub connector: Kind,
}

impl Job for ExportOrderJob {
    const KIND: &'static str = "orders.export";
    const MAX_ATTEMPTS: i32 = 8;

    async fn run(self, ctx: JobContext) -> Result<Value, JobError> {
        let org = ctx
            .org_id
            .ok_or_else(|| JobError::permanent("an export job needs an organization"))?;
        let exported = export(&ctx.state, org, self.order_id, self.connector)
            .await
            .map_err(|e| match e {
                ExportError::Connector(e) if e.transient => JobError::retry(e),
                ExportError::Connector(e) => JobError::permanent(e),
                ExportError::App(e) => JobError::retry(e),
            })?;
        Ok(json!({"connector": self.connector, "external_id": exported.external_id}))
    }
}

#[derive(Debug)]
pub enum ExportError {
    Connector(ConnectorError),
    App(AppError),
}

impl From<AppError> for ExportError {
    fn from(e: AppError) -> Self {
        ExportError::App(e)
    }
}

/// Loads the connector and the order, and pushes it (timeout, retries, breaker).
pub async fn export(
    state: &AppState,
    org: OrgId,
    order_id: OrderId,
    kind: Kind,
) -> Result<Exported, ExportError> {
    let row = scoped::<connectors::Entity>(org)
        .filter(connectors::Column::Kind.eq(kind.as_str()))
        .filter(connectors::Column::Enabled.eq(true))
        .one(&state.db)
        .await
        .map_err(AppError::from)?
        .ok_or_else(|| {
            ExportError::Connector(ConnectorError::permanent(format!(
                "no enabled {} connector",
                kind.as_str()
            )))
        })?;
    let secret = match &row.secret {
        Some(s) => state
            .cipher
            .decrypt(s, &secret_context(org, kind))
            .map_err(|e| ExportError::Connector(ConnectorError::permanent(e.to_string())))?
            .expose_secret()
            .to_owned(),
        None => String::new(),
    };
    let timeout_ms = row.settings["timeout_ms"]
        .as_u64()
        .unwrap_or(5000)
        .clamp(100, 60_000);
    let client = reqwest::Client::builder()
        .timeout(Duration::from_millis(timeout_ms))
        .build()
        .map_err(|e| ExportError::Connector(ConnectorError::transient(e.to_string())))?;
    let target = Target {
        client,
        base_url: row.base_url.clone(),
        secret,
    };
    let order = crate::queries::get_order(&state.db, org, order_id).await?;
    let payload = ExportOrder {
        order_id: order_id.0,
        customer_email: order.summary.customer_email.clone().unwrap_or_default(),
        customer_name: order.customer["name"].as_str().map(str::to_owned),
        currency: order.summary.currency.clone(),
        lines: order
            .lines
            .iter()
            .map(|l| ExportLine {
                sku: l.sku.clone(),
                quantity: l.quantity,
                unit_price: l.unit_price.and_then(|p| p.to_f64()).unwrap_or(0.0),
            })
            .collect(),
    };
    let setting = |k: &str| row.settings[k].as_str().map(str::to_owned);
    let connector: Box<dyn Connector + '_> = match kind {
        Kind::Odoo => Box::new(odoo::Odoo {
            target: &target,
            database: setting("database").unwrap_or_default(),
            username: setting("username").unwrap_or_default(),
        }),
        Kind::Wms => Box::new(wms::Wms {
            target: &target,
            warehouse: setting("warehouse"),
        }),
    };
    let key = format!("{}:{}", org.0, kind.as_str());
    resilience::guarded(&key, 3, Duration::from_millis(200), || {
        connector.push(&payload)
    })
    .await
    .map_err(ExportError::Connector)
}

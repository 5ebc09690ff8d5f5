//! A warehouse management system over REST: `POST <base>/api/v1/reservations` with
//! `Authorization: Bearer <key>` and `Idempotency-Key: <order id>` (a retried call does
//! not reserve twice), body `{"reference", "warehouse", "lines": [{"sku", "quantity"}]}`;
//! `201` (or `200` for a replay) with `{"id"}`; `409` when the WMS lacks the stock.

use serde_json::{Value, json};

use super::resilience::ConnectorError;
use super::{ExportOrder, Exported, Target};

pub struct Wms<'a> {
    pub target: &'a Target,
    /// `settings.warehouse`.
    pub warehouse: Option<String>,
}

impl Wms<'_> {
    pub async fn reserve(&self, order: &ExportOrder) -> Result<Exported, ConnectorError> {
        let url = format!(
            "{}/api/v1/reservations",
            self.target.base_url.trim_end_matches('/')
        );
        let body = json!({
            "reference": order.order_id.to_string(),
            "warehouse": self.warehouse,
            "lines": order.lines.iter().map(|l| json!({"sku": l.sku, "quantity": l.quantity})).collect::<Vec<_>>(),
        });
        let resp = self
            .target
            .client
            .post(url)
            .bearer_auth(&self.target.secret)
            .header("Idempotency-Key", order.order_id.to_string())
            .json(&body)
            .send()
            .await
            .map_err(ConnectorError::from_http)?;
        let status = resp.status();
        let text = resp.text().await.map_err(ConnectorError::from_http)?;
        if !status.is_success() {
            return Err(ConnectorError::from_status(status, &text));
        }
        let answer: Value = serde_json::from_str(&text)
            .map_err(|e| ConnectorError::transient(format!("the WMS answered non-JSON: {e}")))?;
        let id = match &answer["id"] {
            Value::String(s) => s.clone(),
            Value::Number(n) => n.to_string(),
            _ => {
                return Err(ConnectorError::permanent(
                    "the WMS did not return a reservation id",
                ));
            }
        };
        Ok(Exported { external_id: id })
    }
}

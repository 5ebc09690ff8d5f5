//! Odoo's external API over JSON-RPC (`POST <base>/jsonrpc`, Odoo 14-17 "External API"
//! documentation): `common.authenticate(db, login, password, {})` → uid, then
//! `object.execute_kw(db, uid, password, model, method, args, kwargs)`: the partner found
//! by e-mail (`res.partner` `search`, else `create`), the products by internal reference
//! (`product.product` `search` on `default_code`), then `sale.order` `create` with its
//! lines as `(0, 0, values)` commands. The order's id goes in `client_order_ref`.

use serde_json::{Value, json};

use super::resilience::ConnectorError;
use super::{ExportOrder, Exported, Target};

/// One Odoo database.
pub struct Odoo<'a> {
    pub target: &'a Target,
    /// `settings.database`.
    pub database: String,
    /// `settings.username`.
    pub username: String,
}

impl Odoo<'_> {
    async fn call(
        &self,
        id: u64,
        service: &str,
        method: &str,
        args: Value,
    ) -> Result<Value, ConnectorError> {
        let body = json!({
            "jsonrpc": "2.0",
            "method": "call",
            "params": {"service": service, "method": method, "args": args},
            "id": id,
        });
        let url = format!("{}/jsonrpc", self.target.base_url.trim_end_matches('/'));
        let resp = self
            .target
            .client
            .post(url)
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
            .map_err(|e| ConnectorError::transient(format!("Odoo answered non-JSON: {e}")))?;
        if let Some(error) = answer.get("error") {
            // Odoo reports business errors (access, validation) as JSON-RPC errors: retrying
            // the same call will not help.
            let message = error["data"]["message"]
                .as_str()
                .or(error["message"].as_str())
                .unwrap_or("unknown error");
            return Err(ConnectorError::permanent(format!("Odoo: {message}")));
        }
        Ok(answer.get("result").cloned().unwrap_or(Value::Null))
    }

    async fn execute_kw(
        &self,
        id: u64,
        uid: i64,
        model: &str,
        method: &str,
        args: Value,
    ) -> Result<Value, ConnectorError> {
        self.call(
            id,
            "object",
            "execute_kw",
            json!([self.database, uid, self.target.secret, model, method, args]),
        )
        .await
    }

    /// Creates the sale order; returns its Odoo id.
    pub async fn export(&self, order: &ExportOrder) -> Result<Exported, ConnectorError> {
        let uid = self
            .call(
                1,
                "common",
                "authenticate",
                json!([self.database, self.username, self.target.secret, {}]),
            )
            .await?;
        let uid = uid
            .as_i64()
            .ok_or_else(|| ConnectorError::permanent("Odoo refused the credentials"))?;
        let found = self
            .execute_kw(
                2,
                uid,
                "res.partner",
                "search",
                json!([[["email", "=", order.customer_email]]]),
            )
            .await?;
        let partner = match found.as_array().and_then(|a| a.first()).and_then(Value::as_i64) {
            Some(id) => id,
            None => self
                .execute_kw(
                    3,
                    uid,
                    "res.partner",
                    "create",
                    json!([{"name": order.customer_name.clone().unwrap_or_else(|| order.customer_email.clone()), "email": order.customer_email}]),
                )
                .await?
                .as_i64()
                .ok_or_else(|| ConnectorError::permanent("Odoo did not return the partner id"))?,
        };
        let mut commands = Vec::with_capacity(order.lines.len());
        for (i, line) in order.lines.iter().enumerate() {
            let ids = self
                .execute_kw(
                    10 + i as u64,
                    uid,
                    "product.product",
                    "search",
                    json!([[["default_code", "=", line.sku]]]),
                )
                .await?;
            let product = ids
                .as_array()
                .and_then(|a| a.first())
                .and_then(Value::as_i64)
                .ok_or_else(|| {
                    ConnectorError::permanent(format!(
                        "no Odoo product with reference {}",
                        line.sku
                    ))
                })?;
            commands.push(json!([0, 0, {
                "product_id": product,
                "product_uom_qty": line.quantity,
                "price_unit": line.unit_price,
            }]));
        }
        let created = self
            .execute_kw(
                4,
                uid,
                "sale.order",
                "create",
                json!([{
                    "partner_id": partner,
                    "client_order_ref": order.order_id.to_string(),
                    "order_line": commands,
                }]),
            )
            .await?;
        let id = created
            .as_i64()
            .ok_or_else(|| ConnectorError::permanent("Odoo did not return the sale order id"))?;
        Ok(Exported {
            external_id: id.to_string(),
        })
    }
}

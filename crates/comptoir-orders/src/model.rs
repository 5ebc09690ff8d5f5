//! What the API takes and returns, and the syntactic checks made at the edge (422 with
//! every field at fault). Business checks (customer, products, prices, stock) are the
//! worker's, in [`crate::pipeline`].

use chrono::{DateTime, Utc};
use comptoir_kernel::error::FieldError;
use comptoir_kernel::jobs::TaskId;
use comptoir_kernel::validate::Email;
use comptoir_kernel::{AppError, AppResult};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

use crate::state::Status;

comptoir_kernel::typed_id!(
    /// An order.
    OrderId
);
comptoir_kernel::typed_id!(
    /// A customer of the organization.
    CustomerId
);

/// Most lines in one order.
pub const MAX_LINES: usize = 100;
/// Largest quantity on one line.
pub const MAX_QUANTITY: i64 = 1_000_000;
/// Largest serialized `metadata` object.
pub const MAX_METADATA_BYTES: usize = 4096;

/// How the goods reach the customer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema, Default)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryType {
    #[default]
    Standard,
    Express,
    Pickup,
}

impl DeliveryType {
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryType::Standard => "standard",
            DeliveryType::Express => "express",
            DeliveryType::Pickup => "pickup",
        }
    }
}

/// A postal address.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Address {
    pub name: Option<String>,
    pub line1: String,
    pub line2: Option<String>,
    pub city: String,
    pub postal_code: String,
    /// ISO 3166-1 alpha-2, e.g. `FR`.
    pub country: String,
}

/// The customer: an existing one by `id`, or inline (found or created by `email`).
#[derive(Clone, Debug, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CustomerInput {
    pub id: Option<CustomerId>,
    pub email: Option<String>,
    pub name: Option<String>,
    pub shipping_address: Option<Address>,
    pub billing_address: Option<Address>,
}

/// One line: a SKU of the catalog and a quantity; the unit price, when given, must match
/// the catalog's (checked by the worker).
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LineInput {
    pub sku: String,
    pub quantity: i64,
    #[schema(value_type = Option<String>, example = "12.50")]
    pub unit_price: Option<Decimal>,
}

/// Shipping method, price and address.
#[derive(Clone, Debug, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ShippingInput {
    pub method: Option<String>,
    #[schema(value_type = Option<String>, example = "4.90")]
    pub price: Option<Decimal>,
    pub address: Option<Address>,
}

/// `POST /api/v1/orders`.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OrderInput {
    pub customer: CustomerInput,
    pub lines: Vec<LineInput>,
    /// ISO 4217, e.g. `EUR`; every product must be priced in it.
    pub currency: String,
    pub shipping: Option<ShippingInput>,
    pub delivery_type: Option<DeliveryType>,
    /// Free key/values kept with the order (at most 4 KB).
    #[schema(value_type = Option<Object>)]
    pub metadata: Option<Map<String, Value>>,
}

/// An order that passed the edge checks, ready to store.
#[derive(Debug, Clone)]
pub struct ValidOrder {
    pub customer_id: Option<CustomerId>,
    pub customer_email: Option<String>,
    pub customer: Value,
    pub lines: Vec<(String, i64, Option<i64>)>,
    pub currency: String,
    pub shipping: Option<Value>,
    pub delivery_type: DeliveryType,
    pub metadata: Value,
}

/// Ten-thousandths of a non-negative amount with at most 4 decimals.
pub fn amount_e4(value: Decimal) -> Result<i64, &'static str> {
    if value.is_sign_negative() && !value.is_zero() {
        return Err("must not be negative");
    }
    comptoir_catalog::model::to_e4(value)
}

pub fn from_e4(value: i64) -> Decimal {
    comptoir_catalog::model::from_e4(value)
}

struct Checker(Vec<FieldError>);

impl Checker {
    fn fail(&mut self, field: impl Into<String>, reason: impl Into<String>) {
        self.0.push(FieldError {
            field: field.into(),
            reason: reason.into(),
        });
    }

    fn text(&mut self, field: &str, value: &str, max: usize) -> String {
        let v = value.trim();
        if v.is_empty() {
            self.fail(field, "must not be empty");
        } else if v.chars().count() > max {
            self.fail(field, format!("at most {max} characters"));
        } else if v.chars().any(|c| c.is_control()) {
            self.fail(field, "must not contain control characters");
        }
        v.to_owned()
    }

    fn opt_text(&mut self, field: &str, value: &Option<String>, max: usize) -> Option<String> {
        value
            .as_deref()
            .filter(|v| !v.trim().is_empty())
            .map(|v| self.text(field, v, max))
    }

    fn address(&mut self, field: &str, a: &Address) -> Value {
        let country = a.country.trim().to_ascii_uppercase();
        if country.len() != 2 || !country.bytes().all(|b| b.is_ascii_uppercase()) {
            self.fail(format!("{field}.country"), "two letters (ISO 3166-1)");
        }
        serde_json::json!({
            "name": self.opt_text(&format!("{field}.name"), &a.name, 200),
            "line1": self.text(&format!("{field}.line1"), &a.line1, 200),
            "line2": self.opt_text(&format!("{field}.line2"), &a.line2, 200),
            "city": self.text(&format!("{field}.city"), &a.city, 100),
            "postal_code": self.text(&format!("{field}.postal_code"), &a.postal_code, 20),
            "country": country,
        })
    }
}

impl OrderInput {
    /// The edge checks: every invalid field at once (422).
    pub fn validate(&self) -> AppResult<ValidOrder> {
        let mut c = Checker(Vec::new());
        let cu = &self.customer;
        let mut customer = Map::new();
        let mut customer_email = None;
        match (cu.id, cu.email.as_deref()) {
            (Some(_), Some(_)) => c.fail("customer", "give either id or email, not both"),
            (None, None) => c.fail("customer", "give an id or an email"),
            (Some(id), None) => {
                if cu.name.is_some()
                    || cu.shipping_address.is_some()
                    || cu.billing_address.is_some()
                {
                    c.fail("customer", "a customer given by id takes no other field");
                }
                customer.insert("id".into(), Value::String(id.0.to_string()));
            }
            (None, Some(email)) => match Email::parse("customer.email", email) {
                Ok(e) => {
                    let e = e.as_str().to_ascii_lowercase();
                    customer.insert("email".into(), Value::String(e.clone()));
                    customer_email = Some(e);
                }
                Err(_) => c.fail("customer.email", "not an e-mail address"),
            },
        }
        if let Some(name) = c.opt_text("customer.name", &cu.name, 200) {
            customer.insert("name".into(), Value::String(name));
        }
        if let Some(a) = &cu.shipping_address {
            let v = c.address("customer.shipping_address", a);
            customer.insert("shipping_address".into(), v);
        }
        if let Some(a) = &cu.billing_address {
            let v = c.address("customer.billing_address", a);
            customer.insert("billing_address".into(), v);
        }
        if self.lines.is_empty() || self.lines.len() > MAX_LINES {
            c.fail("lines", format!("1 to {MAX_LINES} lines"));
        }
        let mut lines = Vec::with_capacity(self.lines.len());
        for (i, line) in self.lines.iter().enumerate() {
            let sku = c.text(&format!("lines[{i}].sku"), &line.sku, 64);
            if !(1..=MAX_QUANTITY).contains(&line.quantity) {
                c.fail(
                    format!("lines[{i}].quantity"),
                    format!("between 1 and {MAX_QUANTITY}"),
                );
            }
            let price = match line.unit_price.map(amount_e4) {
                None => None,
                Some(Ok(p)) => Some(p),
                Some(Err(reason)) => {
                    c.fail(format!("lines[{i}].unit_price"), reason);
                    None
                }
            };
            lines.push((sku, line.quantity, price));
        }
        let currency = self.currency.trim().to_ascii_uppercase();
        if currency.len() != 3 || !currency.bytes().all(|b| b.is_ascii_uppercase()) {
            c.fail("currency", "three letters (ISO 4217)");
        }
        let shipping = self.shipping.as_ref().map(|s| {
            let mut m = Map::new();
            if let Some(method) = c.opt_text("shipping.method", &s.method, 100) {
                m.insert("method".into(), Value::String(method));
            }
            if let Some(p) = s.price {
                match amount_e4(p) {
                    Ok(e4) => {
                        m.insert("price_e4".into(), Value::from(e4));
                    }
                    Err(reason) => c.fail("shipping.price", reason),
                }
            }
            if let Some(a) = &s.address {
                let v = c.address("shipping.address", a);
                m.insert("address".into(), v);
            }
            Value::Object(m)
        });
        let metadata = Value::Object(self.metadata.clone().unwrap_or_default());
        if metadata.to_string().len() > MAX_METADATA_BYTES {
            c.fail("metadata", format!("at most {MAX_METADATA_BYTES} bytes"));
        }
        if !c.0.is_empty() {
            return Err(AppError::fields(c.0));
        }
        Ok(ValidOrder {
            customer_id: cu.id,
            customer_email,
            customer: Value::Object(customer),
            lines,
            currency,
            shipping,
            delivery_type: self.delivery_type.unwrap_or_default(),
            metadata,
        })
    }

    /// SHA-256 of the request in a canonical form (keys sorted): the same body gives the
    /// same hash whatever its key order or spacing.
    pub fn fingerprint(&self) -> String {
        let value = serde_json::to_value(self).unwrap_or(Value::Null);
        let mut text = String::new();
        canonical(&value, &mut text);
        hex::encode(Sha256::digest(text.as_bytes()))
    }
}

fn canonical(v: &Value, out: &mut String) {
    match v {
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            out.push('{');
            for (i, k) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(k.clone()).to_string());
                out.push(':');
                canonical(&m[k], out);
            }
            out.push('}');
        }
        Value::Array(a) => {
            out.push('[');
            for (i, x) in a.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                canonical(x, out);
            }
            out.push(']');
        }
        other => out.push_str(&other.to_string()),
    }
}

/// `202 Accepted`: the order is stored and queued.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct Accepted {
    pub order_id: OrderId,
    /// Always `queued` here; follow `status_url` for the order's state.
    pub status: String,
    pub status_url: String,
    pub task_id: Option<TaskId>,
}

/// An order in a list.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct OrderSummary {
    pub id: OrderId,
    pub status: Status,
    pub customer_id: Option<CustomerId>,
    pub customer_email: Option<String>,
    pub currency: String,
    #[schema(value_type = Option<String>)]
    pub total: Option<Decimal>,
    pub delivery_type: String,
    pub reason: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A page of orders, newest first.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct OrderPage {
    pub items: Vec<OrderSummary>,
    /// Pass as `cursor` for the next page; absent on the last one.
    pub next_cursor: Option<String>,
}

/// One line of an order.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct LineView {
    pub sku: String,
    pub product_id: Option<uuid::Uuid>,
    pub quantity: i64,
    #[schema(value_type = Option<String>)]
    pub unit_price: Option<Decimal>,
}

/// One state change.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct HistoryEntry {
    pub from: Option<Status>,
    pub to: Status,
    /// `user`, `api_key`, `worker` or `system`.
    pub actor: String,
    pub actor_user_id: Option<uuid::Uuid>,
    pub reason: Option<String>,
    pub at: DateTime<Utc>,
}

/// An event of the outbox.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct EventView {
    pub event: String,
    pub created_at: DateTime<Utc>,
    pub published_at: Option<DateTime<Utc>>,
}

/// An order with its lines, reservation, state history and events.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct OrderView {
    #[serde(flatten)]
    pub summary: OrderSummary,
    #[schema(value_type = Object)]
    pub customer: Value,
    #[schema(value_type = Option<Object>)]
    pub shipping: Option<Value>,
    #[schema(value_type = Object)]
    pub metadata: Value,
    pub lines: Vec<LineView>,
    pub location_id: Option<uuid::Uuid>,
    /// The catalog reservation (`held`, `released` or `committed`) and its lines.
    #[schema(value_type = Option<Object>)]
    pub reservation: Option<Value>,
    pub history: Vec<HistoryEntry>,
    pub events: Vec<EventView>,
    pub task_id: Option<TaskId>,
}

/// Body of the transition endpoints (optional).
#[derive(Clone, Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TransitionInput {
    /// Kept in the history.
    pub reason: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn input(v: Value) -> OrderInput {
        serde_json::from_value(v).unwrap()
    }

    fn good() -> Value {
        json!({
            "customer": {"email": "Ada@Example.com", "name": "Ada"},
            "lines": [{"sku": "A-1", "quantity": 2, "unit_price": "12.50"}],
            "currency": "eur",
            "metadata": {"b": 1, "a": [1, 2]}
        })
    }

    #[test]
    fn a_good_order_passes_and_is_normalized() {
        let v = input(good()).validate().unwrap();
        assert_eq!(v.customer_email.as_deref(), Some("ada@example.com"));
        assert_eq!(v.currency, "EUR");
        assert_eq!(v.lines, vec![("A-1".to_owned(), 2, Some(125_000))]);
        assert_eq!(v.delivery_type, DeliveryType::Standard);
    }

    #[test]
    fn every_bad_field_is_reported() {
        let e = input(json!({
            "customer": {},
            "lines": [{"sku": " ", "quantity": 0, "unit_price": "-1"}],
            "currency": "euro",
            "shipping": {"price": "1.00001", "address": {"line1": "x", "city": "y", "postal_code": "1", "country": "France"}}
        }))
        .validate()
        .unwrap_err();
        assert_eq!(e.code.as_str(), "validation_failed");
        let fields: Vec<&str> = e.details["fields"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["field"].as_str().unwrap())
            .collect();
        for f in [
            "customer",
            "lines[0].sku",
            "lines[0].quantity",
            "lines[0].unit_price",
            "currency",
            "shipping.price",
            "shipping.address.country",
        ] {
            assert!(fields.contains(&f), "{f} missing in {fields:?}");
        }
    }

    #[test]
    fn customer_is_an_id_or_an_email_not_both() {
        let mut v = good();
        v["customer"]["id"] = json!(uuid::Uuid::now_v7());
        assert!(input(v).validate().is_err());
        let e = input(json!({"customer": {"email": "nope"}, "lines": [{"sku": "A", "quantity": 1}], "currency": "EUR"}))
            .validate()
            .unwrap_err();
        assert_eq!(e.details["fields"][0]["field"], "customer.email");
    }

    #[test]
    fn no_lines_or_too_many_lines_are_refused() {
        let mut v = good();
        v["lines"] = json!([]);
        assert!(input(v.clone()).validate().is_err());
        v["lines"] = Value::Array(vec![json!({"sku": "A", "quantity": 1}); MAX_LINES + 1]);
        assert!(input(v).validate().is_err());
    }

    #[test]
    fn fingerprint_ignores_key_order_but_not_content() {
        let a = input(good());
        let mut reordered = serde_json::Map::new();
        for k in ["metadata", "currency", "lines", "customer"] {
            reordered.insert(k.into(), good()[k].clone());
        }
        let b = input(Value::Object(reordered));
        assert_eq!(a.fingerprint(), b.fingerprint());
        let mut other = good();
        other["lines"][0]["quantity"] = json!(3);
        assert_ne!(a.fingerprint(), input(other).fingerprint());
    }
}

//! Products: validation (shared with the CSV import), create, replace, delete, list.

use comptoir_kernel::auth::{Caller, Permission};
use comptoir_kernel::ids::OrgId;
use comptoir_kernel::tenancy::{find_in_org, scoped};
use comptoir_kernel::validate::label;
use comptoir_kernel::{AppError, AppResult};
use rust_decimal::Decimal;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, PaginatorTrait,
    QueryFilter, Set,
};
use serde_json::{Map, Value};

use crate::entities::{brands, categories, movements, product_types, products, stock};
use crate::model::*;
use crate::store::{self, now};
use crate::views::*;

/// Longest product name.
pub const MAX_NAME: usize = 200;

/// A product that passed validation; ids are known to exist in the organization.
#[derive(Debug, Clone)]
pub struct ValidProduct {
    pub sku: String,
    pub name: String,
    pub description: Option<String>,
    pub brand_id: Option<uuid::Uuid>,
    pub category_id: Option<uuid::Uuid>,
    pub product_type_id: Option<uuid::Uuid>,
    pub attributes: Value,
    pub purchase_price_e4: Option<i64>,
    pub sale_price_e4: i64,
    pub currency: String,
    pub vat_rate_e4: i64,
    pub availability: Availability,
    pub images: Value,
    pub status: ProductStatus,
}

impl ValidProduct {
    /// Writes every field onto an active model (insert or update).
    pub fn apply(self, active: &mut products::ActiveModel) {
        active.sku = Set(self.sku);
        active.name = Set(self.name);
        active.description = Set(self.description);
        active.brand_id = Set(self.brand_id);
        active.category_id = Set(self.category_id);
        active.product_type_id = Set(self.product_type_id);
        active.attributes = Set(self.attributes);
        active.purchase_price_e4 = Set(self.purchase_price_e4);
        active.sale_price_e4 = Set(self.sale_price_e4);
        active.currency = Set(self.currency);
        active.vat_rate_e4 = Set(self.vat_rate_e4);
        active.availability = Set(self.availability.as_str().to_owned());
        active.images = Set(self.images);
        active.status = Set(self.status.as_str().to_owned());
        active.updated_at = Set(now());
    }

    /// A new row with this content.
    pub fn into_new(self, org: OrgId) -> products::ActiveModel {
        let at = now();
        let mut active = products::ActiveModel {
            id: Set(ProductId::new().0),
            org_id: Set(org.0),
            created_at: Set(at),
            ..Default::default()
        };
        self.apply(&mut active);
        active
    }
}

/// Product name: 1 to 200 characters.
pub fn name(field: &str, raw: &str) -> AppResult<String> {
    label(field, raw, MAX_NAME)
}

/// Image references: at most 20, each 1-2048 characters without whitespace.
pub fn images(field: &str, list: &[String]) -> AppResult<Value> {
    if list.len() > 20 {
        return Err(AppError::field(field, "at most 20 images"));
    }
    for (i, image) in list.iter().enumerate() {
        if image.is_empty()
            || image.len() > 2048
            || image.chars().any(|c| c.is_whitespace() || c.is_control())
        {
            return Err(AppError::field(
                format!("{field}[{i}]"),
                "not an image reference",
            ));
        }
    }
    Ok(Value::from(list.to_vec()))
}

/// Parses one attribute value (JSON, or a CSV cell as a JSON string) against its type.
pub fn attribute_value(field: &str, def: &AttributeDef, value: &Value) -> AppResult<Value> {
    let wrong = || AppError::field(field, format!("expected {}", def.kind));
    match (def.kind, value) {
        (AttrType::Text, Value::String(s)) => {
            if s.chars().count() > 1000 || s.contains('\0') {
                Err(AppError::field(field, "at most 1000 characters, no NUL"))
            } else {
                Ok(Value::String(s.clone()))
            }
        }
        (AttrType::Integer, Value::Number(n)) => n.as_i64().map(Value::from).ok_or_else(wrong),
        (AttrType::Integer, Value::String(s)) => s
            .trim()
            .parse::<i64>()
            .map(Value::from)
            .map_err(|_| wrong()),
        (AttrType::Decimal, Value::Number(n)) => parse_decimal(&n.to_string())
            .map(|d| Value::String(d.normalize().to_string()))
            .ok_or_else(wrong),
        (AttrType::Decimal, Value::String(s)) => parse_decimal(s)
            .map(|d| Value::String(d.normalize().to_string()))
            .ok_or_else(wrong),
        (AttrType::Boolean, Value::Bool(b)) => Ok(Value::Bool(*b)),
        (AttrType::Boolean, Value::String(s)) => match s.trim().to_lowercase().as_str() {
            "true" | "yes" | "oui" | "1" => Ok(Value::Bool(true)),
            "false" | "no" | "non" | "0" => Ok(Value::Bool(false)),
            _ => Err(wrong()),
        },
        _ => Err(wrong()),
    }
}

/// Checks attribute values against a product type's definitions (`attributes.<name>`).
pub fn attributes(defs: &[AttributeDef], values: &Map<String, Value>) -> AppResult<Value> {
    let mut out = Map::new();
    for (key, value) in values {
        let field = format!("attributes.{key}");
        let def = defs
            .iter()
            .find(|d| d.name == *key)
            .ok_or_else(|| AppError::field(&field, "not an attribute of the product type"))?;
        if value.is_null() || value.as_str().is_some_and(|s| s.trim().is_empty()) {
            continue;
        }
        out.insert(key.clone(), attribute_value(&field, def, value)?);
    }
    if let Some(missing) = defs
        .iter()
        .find(|d| d.required && !out.contains_key(&d.name))
    {
        return Err(AppError::field(
            format!("attributes.{}", missing.name),
            "required",
        ));
    }
    Ok(Value::Object(out))
}

/// The scalar fields of a product (everything but the references).
#[allow(clippy::too_many_arguments)]
pub fn scalars(
    sku_raw: &str,
    name_raw: &str,
    description: Option<&str>,
    purchase_price: Option<Decimal>,
    sale_price: Decimal,
    currency_raw: Option<&str>,
    vat_rate: Option<Decimal>,
    availability: Option<Availability>,
    image_list: &[String],
    status: Option<ProductStatus>,
) -> AppResult<ValidProduct> {
    Ok(ValidProduct {
        sku: sku("sku", sku_raw)?,
        name: name("name", name_raw)?,
        description: optional_text("description", description, 10_000)?,
        brand_id: None,
        category_id: None,
        product_type_id: None,
        attributes: Value::Object(Map::new()),
        purchase_price_e4: purchase_price
            .map(|p| price_e4("purchase_price", p))
            .transpose()?,
        sale_price_e4: price_e4("sale_price", sale_price)?,
        currency: currency("currency", currency_raw.unwrap_or("EUR"))?,
        vat_rate_e4: vat_e4("vat_rate", vat_rate.unwrap_or(Decimal::from(20)))?,
        availability: availability.unwrap_or(Availability::Available),
        images: images("images", image_list)?,
        status: status.unwrap_or(ProductStatus::Draft),
    })
}

async fn exists<E: comptoir_kernel::tenancy::TenantScoped>(
    db: &impl ConnectionTrait,
    org: OrgId,
    id: uuid::Uuid,
) -> AppResult<bool> {
    Ok(scoped::<E>(org)
        .filter(E::id_column().eq(id))
        .one(db)
        .await?
        .is_some())
}

/// Validates an API product against the organization's brands, categories and types.
pub async fn validate(
    db: &impl ConnectionTrait,
    org: OrgId,
    input: &ProductInput,
) -> AppResult<ValidProduct> {
    let mut valid = scalars(
        &input.sku,
        &input.name,
        input.description.as_deref(),
        input.purchase_price.map(|a| a.0),
        input.sale_price.0,
        input.currency.as_deref(),
        input.vat_rate.map(|a| a.0),
        input.availability,
        &input.images,
        input.status,
    )?;
    if let Some(b) = input.brand_id {
        if !exists::<brands::Entity>(db, org, b.0).await? {
            return Err(AppError::field("brand_id", "no such brand"));
        }
        valid.brand_id = Some(b.0);
    }
    if let Some(c) = input.category_id {
        if !exists::<categories::Entity>(db, org, c.0).await? {
            return Err(AppError::field("category_id", "no such category"));
        }
        valid.category_id = Some(c.0);
    }
    let defs = match input.product_type_id {
        Some(t) => {
            let row = scoped::<product_types::Entity>(org)
                .filter(product_types::Column::Id.eq(t.0))
                .one(db)
                .await?
                .ok_or_else(|| AppError::field("product_type_id", "no such product type"))?;
            valid.product_type_id = Some(t.0);
            store::attribute_defs(&row.attributes)
        }
        None => Vec::new(),
    };
    valid.attributes = attributes(&defs, &input.attributes)?;
    Ok(valid)
}

pub async fn list_products(
    db: &impl ConnectionTrait,
    org: OrgId,
    filter: &ProductFilter,
) -> AppResult<ProductPage> {
    store::list_products(db, org, filter).await
}

pub async fn get_product(
    db: &impl ConnectionTrait,
    org: OrgId,
    id: ProductId,
) -> AppResult<Product> {
    Ok(store::product_view(
        find_in_org::<products::Entity>(db, org, id.0).await?,
    ))
}

pub async fn create_product(
    db: &impl ConnectionTrait,
    caller: &Caller,
    input: ProductInput,
) -> AppResult<Product> {
    caller.require(Permission::Write)?;
    let valid = validate(db, caller.org_id, &input).await?;
    let row = valid.into_new(caller.org_id).insert(db).await?;
    Ok(store::product_view(row))
}

pub async fn update_product(
    db: &impl ConnectionTrait,
    caller: &Caller,
    id: ProductId,
    input: ProductInput,
) -> AppResult<Product> {
    let row = find_in_org::<products::Entity>(db, caller.org_id, id.0).await?;
    caller.require(Permission::Write)?;
    let valid = validate(db, caller.org_id, &input).await?;
    let mut active = row.into_active_model();
    valid.apply(&mut active);
    Ok(store::product_view(active.update(db).await?))
}

/// Deletes a product that never had stock movements; others must be archived instead, so
/// the ledger stays whole.
pub async fn delete_product(
    db: &impl ConnectionTrait,
    caller: &Caller,
    id: ProductId,
) -> AppResult<()> {
    find_in_org::<products::Entity>(db, caller.org_id, id.0).await?;
    caller.require(Permission::Write)?;
    let moved = scoped::<movements::Entity>(caller.org_id)
        .filter(movements::Column::ProductId.eq(id.0))
        .count(db)
        .await?;
    if moved > 0 {
        return Err(AppError::conflict(
            "the product has stock movements; archive it (status archived) instead",
        ));
    }
    stock::Entity::delete_many()
        .filter(stock::Column::OrgId.eq(caller.org_id.0))
        .filter(stock::Column::ProductId.eq(id.0))
        .exec(db)
        .await?;
    products::Entity::delete_by_id(id.0).exec(db).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn defs() -> Vec<AttributeDef> {
        vec![
            AttributeDef {
                name: "storage_gb".into(),
                kind: AttrType::Integer,
                required: true,
            },
            AttributeDef {
                name: "screen_in".into(),
                kind: AttrType::Decimal,
                required: false,
            },
            AttributeDef {
                name: "dual_sim".into(),
                kind: AttrType::Boolean,
                required: false,
            },
        ]
    }

    #[test]
    fn attributes_are_typed() {
        let ok = attributes(
            &defs(),
            json!({"storage_gb": "128", "screen_in": "6,1", "dual_sim": "oui"})
                .as_object()
                .unwrap(),
        )
        .unwrap();
        assert_eq!(
            ok,
            json!({"storage_gb": 128, "screen_in": "6.1", "dual_sim": true})
        );
        let e =
            attributes(&defs(), json!({"storage_gb": "lots"}).as_object().unwrap()).unwrap_err();
        assert_eq!(e.details["fields"][0]["field"], "attributes.storage_gb");
        let e = attributes(&defs(), json!({"screen_in": 6}).as_object().unwrap()).unwrap_err();
        assert_eq!(e.details["fields"][0]["reason"], "required");
        let e = attributes(
            &defs(),
            json!({"storage_gb": 1, "colour": "red"})
                .as_object()
                .unwrap(),
        )
        .unwrap_err();
        assert_eq!(e.details["fields"][0]["field"], "attributes.colour");
    }
}

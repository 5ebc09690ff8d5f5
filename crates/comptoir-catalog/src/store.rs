//! Queries shared by the services: row → view conversions, the category tree, the product
//! list (filters + opaque cursor). Every query starts from `tenancy::scoped`.

use std::collections::{HashMap, HashSet};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use comptoir_kernel::ids::OrgId;
use comptoir_kernel::tenancy::scoped;
use comptoir_kernel::{AppError, AppResult};
use sea_orm::sea_query::{Expr, ExprTrait, Func, LikeExpr, Query};
use sea_orm::{ColumnTrait, Condition, ConnectionTrait, QueryFilter, QueryOrder, QuerySelect};
use uuid::Uuid;

use crate::entities::{brands, categories, locations, movements, product_types, products, stock};
use crate::model::*;
use crate::views::*;

/// Timestamps rounded to microseconds: what PostgreSQL keeps, so both engines store the
/// same value and cursors compare equal.
pub fn now() -> DateTime<Utc> {
    let t = Utc::now();
    t - chrono::Duration::nanoseconds(i64::from(t.timestamp_subsec_nanos() % 1000))
}

pub fn category_view(m: categories::Model) -> Category {
    Category {
        id: CategoryId(m.id),
        code: m.code,
        name: m.name,
        parent_id: m.parent_id.map(CategoryId),
        created_at: m.created_at,
    }
}

pub fn brand_view(m: brands::Model) -> Brand {
    Brand {
        id: BrandId(m.id),
        name: m.name,
        created_at: m.created_at,
    }
}

pub fn attribute_defs(json: &serde_json::Value) -> Vec<AttributeDef> {
    serde_json::from_value(json.clone()).unwrap_or_default()
}

pub fn product_type_view(m: product_types::Model) -> ProductType {
    ProductType {
        id: ProductTypeId(m.id),
        code: m.code,
        name: m.name,
        attributes: attribute_defs(&m.attributes),
        created_at: m.created_at,
    }
}

pub fn location_view(m: locations::Model) -> Location {
    Location {
        id: LocationId(m.id),
        code: m.code,
        name: m.name,
        kind: LocationKind::parse(&m.kind).unwrap_or(LocationKind::Warehouse),
        region: m.region,
        address: m.address,
        latitude: m.latitude_e6.map(|v| v as f64 / 1e6),
        longitude: m.longitude_e6.map(|v| v as f64 / 1e6),
        created_at: m.created_at,
    }
}

pub fn product_view(m: products::Model) -> Product {
    Product {
        id: ProductId(m.id),
        sku: m.sku,
        name: m.name,
        description: m.description,
        brand_id: m.brand_id.map(BrandId),
        category_id: m.category_id.map(CategoryId),
        product_type_id: m.product_type_id.map(ProductTypeId),
        attributes: m.attributes,
        purchase_price: m.purchase_price_e4.map(from_e4),
        sale_price: from_e4(m.sale_price_e4),
        currency: m.currency,
        vat_rate: from_e4(m.vat_rate_e4),
        availability: Availability::parse(&m.availability).unwrap_or(Availability::Available),
        images: serde_json::from_value(m.images).unwrap_or_default(),
        status: ProductStatus::parse(&m.status).unwrap_or(ProductStatus::Draft),
        created_at: m.created_at,
        updated_at: m.updated_at,
    }
}

pub fn stock_view(m: stock::Model) -> StockLevel {
    StockLevel {
        product_id: ProductId(m.product_id),
        location_id: LocationId(m.location_id),
        on_hand: m.on_hand,
        reserved: m.reserved,
        available: m.on_hand - m.reserved,
        low_stock_threshold: m.low_stock_threshold,
        updated_at: m.updated_at,
    }
}

pub fn movement_view(m: movements::Model) -> Movement {
    Movement {
        id: MovementId(m.id),
        product_id: ProductId(m.product_id),
        location_id: LocationId(m.location_id),
        kind: MovementKind::parse(&m.kind).unwrap_or(MovementKind::Adjustment),
        quantity: m.quantity,
        on_hand_delta: m.on_hand_delta,
        reserved_delta: m.reserved_delta,
        reason: m.reason,
        actor_user_id: m.actor_user_id,
        reference: m.reference,
        created_at: m.created_at,
    }
}

/// `root` and every category below it.
pub async fn category_subtree(
    db: &impl ConnectionTrait,
    org: OrgId,
    root: CategoryId,
) -> AppResult<Vec<Uuid>> {
    let all = scoped::<categories::Entity>(org)
        .select_only()
        .column(categories::Column::Id)
        .column(categories::Column::ParentId)
        .into_tuple::<(Uuid, Option<Uuid>)>()
        .all(db)
        .await?;
    let mut children: HashMap<Uuid, Vec<Uuid>> = HashMap::new();
    for (id, parent) in &all {
        if let Some(p) = parent {
            children.entry(*p).or_default().push(*id);
        }
    }
    let mut out = vec![root.0];
    let mut seen: HashSet<Uuid> = HashSet::from([root.0]);
    let mut i = 0;
    while i < out.len() {
        for c in children.get(&out[i]).into_iter().flatten() {
            if seen.insert(*c) {
                out.push(*c);
            }
        }
        i += 1;
    }
    Ok(out)
}

/// The opaque cursor: base64url of `created_at|id` of the last item of a page.
pub fn encode_cursor(created_at: DateTime<Utc>, id: Uuid) -> String {
    URL_SAFE_NO_PAD.encode(format!("{}|{id}", created_at.to_rfc3339()))
}

pub fn decode_cursor(raw: &str) -> AppResult<(DateTime<Utc>, Uuid)> {
    let bad = || AppError::invalid_parameter("cursor", "not a cursor from this API");
    let bytes = URL_SAFE_NO_PAD.decode(raw.as_bytes()).map_err(|_| bad())?;
    let text = String::from_utf8(bytes).map_err(|_| bad())?;
    let (at, id) = text.split_once('|').ok_or_else(bad)?;
    let at = DateTime::parse_from_rfc3339(at)
        .map_err(|_| bad())?
        .with_timezone(&Utc);
    let id = Uuid::parse_str(id).map_err(|_| bad())?;
    Ok((at, id))
}

fn price_param(name: &str, raw: Option<&str>) -> AppResult<Option<i64>> {
    raw.filter(|r| !r.trim().is_empty())
        .map(|r| {
            let value = parse_decimal(r)
                .ok_or_else(|| AppError::invalid_parameter(name, "not a decimal number"))?;
            to_e4(value).map_err(|reason| AppError::invalid_parameter(name, reason))
        })
        .transpose()
}

/// `%`, `_` and `\` taken literally in a LIKE pattern.
fn like_literal(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('%');
    for c in text.to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('%');
    out
}

/// The product query for a filter, without the cursor and the limit (shared by the list
/// and the CSV export).
pub async fn product_query(
    db: &impl ConnectionTrait,
    org: OrgId,
    f: &ProductFilter,
) -> AppResult<sea_orm::Select<products::Entity>> {
    use products::Column as C;
    let mut q = scoped::<products::Entity>(org);
    if let Some(text) = f.q.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        if text.chars().count() > 200 {
            return Err(AppError::invalid_parameter("q", "at most 200 characters"));
        }
        let pattern = like_literal(text);
        q = q.filter(
            Condition::any()
                .add(
                    Expr::expr(Func::lower(Expr::col((products::Entity, C::Sku))))
                        .like(LikeExpr::new(pattern.clone()).escape('\\')),
                )
                .add(
                    Expr::expr(Func::lower(Expr::col((products::Entity, C::Name))))
                        .like(LikeExpr::new(pattern).escape('\\')),
                ),
        );
    }
    if let Some(cat) = f.category_id {
        q = q.filter(C::CategoryId.is_in(category_subtree(db, org, cat).await?));
    }
    if let Some(b) = f.brand_id {
        q = q.filter(C::BrandId.eq(b.0));
    }
    if let Some(t) = f.product_type_id {
        q = q.filter(C::ProductTypeId.eq(t.0));
    }
    if let Some(s) = f.status {
        q = q.filter(C::Status.eq(s.as_str()));
    }
    if let Some(min) = price_param("min_price", f.min_price.as_deref())? {
        q = q.filter(C::SalePriceE4.gte(min));
    }
    if let Some(max) = price_param("max_price", f.max_price.as_deref())? {
        q = q.filter(C::SalePriceE4.lte(max));
    }
    if let Some(in_stock) = f.in_stock {
        let sub = Query::select()
            .column(stock::Column::ProductId)
            .from(stock::Entity)
            .and_where(stock::Column::OrgId.eq(org.0))
            .and_where(
                Expr::col(stock::Column::OnHand)
                    .sub(Expr::col(stock::Column::Reserved))
                    .gt(0),
            )
            .to_owned();
        q = q.filter(if in_stock {
            C::Id.in_subquery(sub)
        } else {
            C::Id.not_in_subquery(sub)
        });
    }
    Ok(q)
}

/// One page of products, newest first, after `cursor`.
pub async fn list_products(
    db: &impl ConnectionTrait,
    org: OrgId,
    f: &ProductFilter,
) -> AppResult<ProductPage> {
    use products::Column as C;
    let limit = match f.limit {
        None => 50,
        Some(l @ 1..=200) => l,
        Some(_) => return Err(AppError::invalid_parameter("limit", "between 1 and 200")),
    };
    let mut q = product_query(db, org, f).await?;
    if let Some(cursor) = f.cursor.as_deref() {
        let (at, id) = decode_cursor(cursor)?;
        q = q.filter(
            Condition::any()
                .add(C::CreatedAt.lt(at))
                .add(Condition::all().add(C::CreatedAt.eq(at)).add(C::Id.lt(id))),
        );
    }
    let mut rows = q
        .order_by_desc(C::CreatedAt)
        .order_by_desc(C::Id)
        .limit(limit + 1)
        .all(db)
        .await?;
    let next_cursor = if rows.len() as u64 > limit {
        rows.truncate(limit as usize);
        rows.last().map(|r| encode_cursor(r.created_at, r.id))
    } else {
        None
    };
    Ok(ProductPage {
        items: rows.into_iter().map(product_view).collect(),
        next_cursor,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_garbage_is_a_400() {
        let at = now();
        let id = Uuid::now_v7();
        assert_eq!(decode_cursor(&encode_cursor(at, id)).unwrap(), (at, id));
        for bad in ["", "!!", "bm90LWEtY3Vyc29y"] {
            assert_eq!(
                decode_cursor(bad).unwrap_err().code,
                comptoir_kernel::ErrorCode::InvalidParameter
            );
        }
    }

    #[test]
    fn like_patterns_are_literal() {
        assert_eq!(like_literal("50%_A"), "%50\\%\\_a%");
    }
}

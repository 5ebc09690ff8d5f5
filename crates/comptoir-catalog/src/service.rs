//! The slice's public service API (no HTTP): reference data (categories, brands, product
//! types, locations) here; products in [`crate::products`]; stock and the order-pipeline
//! primitives ([`reserve`], [`release`], [`commit`]) in [`crate::reservations`]; CSV in
//! [`crate::import`]. Writes take a [`Caller`] and check `Permission::Write` first.

use std::collections::HashSet;

use comptoir_kernel::auth::{Caller, Permission};
use comptoir_kernel::ids::OrgId;
use comptoir_kernel::tenancy::{find_in_org, scoped};
use comptoir_kernel::validate::label;
use comptoir_kernel::{AppError, AppResult};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, PaginatorTrait,
    QueryFilter, QueryOrder, Set,
};

use crate::entities::{brands, categories, locations, product_types, products, stock};
use crate::model::*;
use crate::store::{self, now};
use crate::views::*;

pub use crate::import::{export_products_csv, import_report_csv, run_import, start_import};
pub use crate::products::{
    create_product, delete_product, get_product, list_products, update_product,
};
pub use crate::reservations::{
    SellableProduct, commit, get_reservation, locations_covering, products_by_sku, release,
    reserve, reserve_in, settle_in,
};
pub use crate::stock::{adjust, list_events, list_movements, list_stock};

/// Most rows any reference list returns (categories, brands, types, locations).
const MAX_LIST: u64 = 10_000;

// ---- categories -------------------------------------------------------------------

pub async fn list_categories(db: &impl ConnectionTrait, org: OrgId) -> AppResult<Vec<Category>> {
    Ok(scoped::<categories::Entity>(org)
        .order_by_asc(categories::Column::Code)
        .paginate(db, MAX_LIST)
        .fetch_page(0)
        .await?
        .into_iter()
        .map(store::category_view)
        .collect())
}

pub async fn get_category(
    db: &impl ConnectionTrait,
    org: OrgId,
    id: CategoryId,
) -> AppResult<Category> {
    Ok(store::category_view(
        find_in_org::<categories::Entity>(db, org, id.0).await?,
    ))
}

/// Checks the parent exists in the org and is not `id` itself or below it.
async fn check_parent(
    db: &impl ConnectionTrait,
    org: OrgId,
    id: Option<CategoryId>,
    parent: Option<CategoryId>,
) -> AppResult<()> {
    let Some(parent) = parent else { return Ok(()) };
    let exists = scoped::<categories::Entity>(org)
        .filter(categories::Column::Id.eq(parent.0))
        .count(db)
        .await?
        > 0;
    if !exists {
        return Err(AppError::field("parent_id", "no such category"));
    }
    if let Some(id) = id
        && store::category_subtree(db, org, id)
            .await?
            .contains(&parent.0)
    {
        return Err(AppError::field(
            "parent_id",
            "a category cannot be placed below itself",
        ));
    }
    Ok(())
}

pub async fn create_category(
    db: &impl ConnectionTrait,
    caller: &Caller,
    input: CategoryInput,
) -> AppResult<Category> {
    caller.require(Permission::Write)?;
    let org = caller.org_id;
    let code = code("code", &input.code)?;
    let name = label("name", &input.name, 200)?;
    check_parent(db, org, None, input.parent_id).await?;
    let row = categories::ActiveModel {
        id: Set(CategoryId::new().0),
        org_id: Set(org.0),
        code: Set(code),
        name: Set(name),
        parent_id: Set(input.parent_id.map(|p| p.0)),
        created_at: Set(now()),
    }
    .insert(db)
    .await?;
    Ok(store::category_view(row))
}

pub async fn update_category(
    db: &impl ConnectionTrait,
    caller: &Caller,
    id: CategoryId,
    input: CategoryInput,
) -> AppResult<Category> {
    let org = caller.org_id;
    let row = find_in_org::<categories::Entity>(db, org, id.0).await?;
    caller.require(Permission::Write)?;
    let code = code("code", &input.code)?;
    let name = label("name", &input.name, 200)?;
    check_parent(db, org, Some(id), input.parent_id).await?;
    let mut active = row.into_active_model();
    active.code = Set(code);
    active.name = Set(name);
    active.parent_id = Set(input.parent_id.map(|p| p.0));
    Ok(store::category_view(active.update(db).await?))
}

pub async fn delete_category(
    db: &impl ConnectionTrait,
    caller: &Caller,
    id: CategoryId,
) -> AppResult<()> {
    let org = caller.org_id;
    find_in_org::<categories::Entity>(db, org, id.0).await?;
    caller.require(Permission::Write)?;
    let children = scoped::<categories::Entity>(org)
        .filter(categories::Column::ParentId.eq(id.0))
        .count(db)
        .await?;
    let used = scoped::<products::Entity>(org)
        .filter(products::Column::CategoryId.eq(id.0))
        .count(db)
        .await?;
    if children > 0 || used > 0 {
        return Err(AppError::conflict(format!(
            "the category has {children} sub-categories and {used} products; move them first"
        )));
    }
    categories::Entity::delete_by_id(id.0).exec(db).await?;
    Ok(())
}

// ---- brands -----------------------------------------------------------------------

pub async fn list_brands(db: &impl ConnectionTrait, org: OrgId) -> AppResult<Vec<Brand>> {
    Ok(scoped::<brands::Entity>(org)
        .order_by_asc(brands::Column::Name)
        .paginate(db, MAX_LIST)
        .fetch_page(0)
        .await?
        .into_iter()
        .map(store::brand_view)
        .collect())
}

pub async fn get_brand(db: &impl ConnectionTrait, org: OrgId, id: BrandId) -> AppResult<Brand> {
    Ok(store::brand_view(
        find_in_org::<brands::Entity>(db, org, id.0).await?,
    ))
}

pub async fn create_brand(
    db: &impl ConnectionTrait,
    caller: &Caller,
    input: BrandInput,
) -> AppResult<Brand> {
    caller.require(Permission::Write)?;
    let row = brands::ActiveModel {
        id: Set(BrandId::new().0),
        org_id: Set(caller.org_id.0),
        name: Set(label("name", &input.name, 200)?),
        created_at: Set(now()),
    }
    .insert(db)
    .await?;
    Ok(store::brand_view(row))
}

pub async fn update_brand(
    db: &impl ConnectionTrait,
    caller: &Caller,
    id: BrandId,
    input: BrandInput,
) -> AppResult<Brand> {
    let row = find_in_org::<brands::Entity>(db, caller.org_id, id.0).await?;
    caller.require(Permission::Write)?;
    let mut active = row.into_active_model();
    active.name = Set(label("name", &input.name, 200)?);
    Ok(store::brand_view(active.update(db).await?))
}

pub async fn delete_brand(
    db: &impl ConnectionTrait,
    caller: &Caller,
    id: BrandId,
) -> AppResult<()> {
    find_in_org::<brands::Entity>(db, caller.org_id, id.0).await?;
    caller.require(Permission::Write)?;
    let used = scoped::<products::Entity>(caller.org_id)
        .filter(products::Column::BrandId.eq(id.0))
        .count(db)
        .await?;
    if used > 0 {
        return Err(AppError::conflict(format!(
            "{used} products use this brand"
        )));
    }
    brands::Entity::delete_by_id(id.0).exec(db).await?;
    Ok(())
}

// ---- product types ----------------------------------------------------------------

pub async fn list_product_types(
    db: &impl ConnectionTrait,
    org: OrgId,
) -> AppResult<Vec<ProductType>> {
    Ok(scoped::<product_types::Entity>(org)
        .order_by_asc(product_types::Column::Code)
        .paginate(db, MAX_LIST)
        .fetch_page(0)
        .await?
        .into_iter()
        .map(store::product_type_view)
        .collect())
}

pub async fn get_product_type(
    db: &impl ConnectionTrait,
    org: OrgId,
    id: ProductTypeId,
) -> AppResult<ProductType> {
    Ok(store::product_type_view(
        find_in_org::<product_types::Entity>(db, org, id.0).await?,
    ))
}

fn attribute_definitions(defs: &[AttributeDef]) -> AppResult<serde_json::Value> {
    if defs.len() > 100 {
        return Err(AppError::field("attributes", "at most 100 attributes"));
    }
    let mut seen = HashSet::new();
    for (i, def) in defs.iter().enumerate() {
        let ok = (1..=64).contains(&def.name.len())
            && def
                .name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
        if !ok {
            return Err(AppError::field(
                format!("attributes[{i}].name"),
                "use 1-64 lower-case letters, digits or '_'",
            ));
        }
        if !seen.insert(def.name.as_str()) {
            return Err(AppError::field(
                format!("attributes[{i}].name"),
                "duplicate attribute",
            ));
        }
    }
    serde_json::to_value(defs).map_err(AppError::internal)
}

pub async fn create_product_type(
    db: &impl ConnectionTrait,
    caller: &Caller,
    input: ProductTypeInput,
) -> AppResult<ProductType> {
    caller.require(Permission::Write)?;
    let row = product_types::ActiveModel {
        id: Set(ProductTypeId::new().0),
        org_id: Set(caller.org_id.0),
        code: Set(code("code", &input.code)?),
        name: Set(label("name", &input.name, 200)?),
        attributes: Set(attribute_definitions(&input.attributes)?),
        created_at: Set(now()),
    }
    .insert(db)
    .await?;
    Ok(store::product_type_view(row))
}

/// Replaces a type's definition. Existing products keep their values; they are checked
/// against the new definition the next time they are saved.
pub async fn update_product_type(
    db: &impl ConnectionTrait,
    caller: &Caller,
    id: ProductTypeId,
    input: ProductTypeInput,
) -> AppResult<ProductType> {
    let row = find_in_org::<product_types::Entity>(db, caller.org_id, id.0).await?;
    caller.require(Permission::Write)?;
    let mut active = row.into_active_model();
    active.code = Set(code("code", &input.code)?);
    active.name = Set(label("name", &input.name, 200)?);
    active.attributes = Set(attribute_definitions(&input.attributes)?);
    Ok(store::product_type_view(active.update(db).await?))
}

pub async fn delete_product_type(
    db: &impl ConnectionTrait,
    caller: &Caller,
    id: ProductTypeId,
) -> AppResult<()> {
    find_in_org::<product_types::Entity>(db, caller.org_id, id.0).await?;
    caller.require(Permission::Write)?;
    let used = scoped::<products::Entity>(caller.org_id)
        .filter(products::Column::ProductTypeId.eq(id.0))
        .count(db)
        .await?;
    if used > 0 {
        return Err(AppError::conflict(format!(
            "{used} products have this type"
        )));
    }
    product_types::Entity::delete_by_id(id.0).exec(db).await?;
    Ok(())
}

// ---- locations --------------------------------------------------------------------

pub async fn list_locations(db: &impl ConnectionTrait, org: OrgId) -> AppResult<Vec<Location>> {
    Ok(scoped::<locations::Entity>(org)
        .order_by_asc(locations::Column::Code)
        .paginate(db, MAX_LIST)
        .fetch_page(0)
        .await?
        .into_iter()
        .map(store::location_view)
        .collect())
}

pub async fn get_location(
    db: &impl ConnectionTrait,
    org: OrgId,
    id: LocationId,
) -> AppResult<Location> {
    Ok(store::location_view(
        find_in_org::<locations::Entity>(db, org, id.0).await?,
    ))
}

fn location_fields(input: &LocationInput, active: &mut locations::ActiveModel) -> AppResult<()> {
    active.code = Set(code("code", &input.code)?);
    active.name = Set(label("name", &input.name, 200)?);
    active.kind = Set(input.kind.as_str().to_owned());
    active.region = Set(optional_text("region", input.region.as_deref(), 100)?);
    active.address = Set(optional_text("address", input.address.as_deref(), 500)?);
    active.latitude_e6 = Set(degrees_e6("latitude", input.latitude, 90.0)?);
    active.longitude_e6 = Set(degrees_e6("longitude", input.longitude, 180.0)?);
    Ok(())
}

pub async fn create_location(
    db: &impl ConnectionTrait,
    caller: &Caller,
    input: LocationInput,
) -> AppResult<Location> {
    caller.require(Permission::Write)?;
    let mut active = locations::ActiveModel {
        id: Set(LocationId::new().0),
        org_id: Set(caller.org_id.0),
        created_at: Set(now()),
        ..Default::default()
    };
    location_fields(&input, &mut active)?;
    Ok(store::location_view(active.insert(db).await?))
}

pub async fn update_location(
    db: &impl ConnectionTrait,
    caller: &Caller,
    id: LocationId,
    input: LocationInput,
) -> AppResult<Location> {
    let row = find_in_org::<locations::Entity>(db, caller.org_id, id.0).await?;
    caller.require(Permission::Write)?;
    let mut active = row.into_active_model();
    location_fields(&input, &mut active)?;
    Ok(store::location_view(active.update(db).await?))
}

pub async fn delete_location(
    db: &impl ConnectionTrait,
    caller: &Caller,
    id: LocationId,
) -> AppResult<()> {
    find_in_org::<locations::Entity>(db, caller.org_id, id.0).await?;
    caller.require(Permission::Write)?;
    let used = scoped::<stock::Entity>(caller.org_id)
        .filter(stock::Column::LocationId.eq(id.0))
        .count(db)
        .await?;
    if used > 0 {
        return Err(AppError::conflict(
            "the location holds stock records; it cannot be deleted",
        ));
    }
    locations::Entity::delete_by_id(id.0).exec(db).await?;
    Ok(())
}

//! Regions, stores and their revenue targets. Changing the chain's shape (regions, stores)
//! takes a write role that sees everything; targets may also be set by a regional or store
//! manager for the stores they see.

use chrono::Utc;
use comptoir_catalog::entities::locations;
use comptoir_catalog::model::{LocationKind, code as parse_code};
use comptoir_catalog::views::LocationInput;
use comptoir_kernel::auth::{Caller, Permission};
use comptoir_kernel::tenancy::{find_in_org, scoped};
use comptoir_kernel::{AppError, AppResult};
use rust_decimal::Decimal;
use sea_orm::sea_query::OnConflict;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};
use uuid::Uuid;

use crate::entities::{regions, stores, targets};
use crate::model::*;
use crate::scope::{StoreRow, Visibility, visible_regions, visible_store, visible_stores};

fn require_chain_admin(caller: &Caller) -> AppResult<()> {
    caller.require(Permission::Write)?;
    if !Visibility::of(caller)?.is_all() {
        return Err(AppError::forbidden(
            "only a role that sees the whole chain may change regions and stores",
        ));
    }
    Ok(())
}

fn region_view(m: regions::Model) -> Region {
    Region {
        id: RegionId(m.id),
        code: m.code,
        name: m.name,
        created_at: m.created_at,
    }
}

fn store_view(s: StoreRow) -> Store {
    Store {
        id: StoreId(s.id),
        code: s.code,
        name: s.name,
        region_id: RegionId(s.region_id),
        region_code: s.region_code,
        created_at: s.created_at,
    }
}

fn name_field(raw: &str) -> AppResult<String> {
    let name = raw.trim();
    if name.is_empty() || name.chars().count() > 200 || name.chars().any(char::is_control) {
        return Err(AppError::field("name", "1 to 200 printable characters"));
    }
    Ok(name.to_owned())
}

pub async fn list_regions(db: &impl ConnectionTrait, caller: &Caller) -> AppResult<Vec<Region>> {
    Ok(visible_regions(db, caller)
        .await?
        .into_iter()
        .map(region_view)
        .collect())
}

pub async fn get_region(
    db: &impl ConnectionTrait,
    caller: &Caller,
    id: RegionId,
) -> AppResult<Region> {
    visible_regions(db, caller)
        .await?
        .into_iter()
        .find(|r| r.id == id.0)
        .map(region_view)
        .ok_or_else(|| AppError::not_found("region"))
}

pub async fn create_region(
    db: &impl ConnectionTrait,
    caller: &Caller,
    input: RegionInput,
) -> AppResult<Region> {
    require_chain_admin(caller)?;
    let row = regions::ActiveModel {
        id: Set(RegionId::new().0),
        org_id: Set(caller.org_id.0),
        code: Set(parse_code("code", &input.code)?),
        name: Set(name_field(&input.name)?),
        created_at: Set(Utc::now()),
    }
    .insert(db)
    .await?;
    Ok(region_view(row))
}

pub async fn update_region(
    db: &impl ConnectionTrait,
    caller: &Caller,
    id: RegionId,
    input: RegionInput,
) -> AppResult<Region> {
    get_region(db, caller, id).await?;
    require_chain_admin(caller)?;
    let row = find_in_org::<regions::Entity>(db, caller.org_id, id.0).await?;
    let mut active: regions::ActiveModel = row.into();
    active.code = Set(parse_code("code", &input.code)?);
    active.name = Set(name_field(&input.name)?);
    Ok(region_view(active.update(db).await?))
}

pub async fn list_stores(db: &impl ConnectionTrait, caller: &Caller) -> AppResult<Vec<Store>> {
    Ok(visible_stores(db, caller)
        .await?
        .into_iter()
        .map(store_view)
        .collect())
}

pub async fn get_store(
    db: &impl ConnectionTrait,
    caller: &Caller,
    id: StoreId,
) -> AppResult<Store> {
    Ok(store_view(visible_store(db, caller, id.0).await?))
}

pub async fn create_store(
    db: &impl ConnectionTrait,
    caller: &Caller,
    input: StoreInput,
) -> AppResult<Store> {
    require_chain_admin(caller)?;
    find_in_org::<regions::Entity>(db, caller.org_id, input.region_id.0)
        .await
        .map_err(|_| AppError::field("region_id", "no such region"))?;
    let location_id = match (input.location_id, &input.code, &input.name) {
        (Some(id), None, None) => {
            let loc = find_in_org::<locations::Entity>(db, caller.org_id, id)
                .await
                .map_err(|_| AppError::field("location_id", "no such location"))?;
            if loc.kind != LocationKind::Store.as_str() {
                return Err(AppError::field(
                    "location_id",
                    "the location is not a store",
                ));
            }
            id
        }
        (None, Some(code), Some(name)) => {
            let input = LocationInput {
                code: code.clone(),
                name: name.clone(),
                kind: LocationKind::Store,
                region: None,
                address: None,
                latitude: None,
                longitude: None,
            };
            comptoir_catalog::service::create_location(db, caller, input)
                .await?
                .id
                .0
        }
        _ => {
            return Err(AppError::field(
                "location_id",
                "give either location_id, or code and name",
            ));
        }
    };
    stores::ActiveModel {
        id: Set(location_id),
        org_id: Set(caller.org_id.0),
        region_id: Set(input.region_id.0),
        created_at: Set(Utc::now()),
    }
    .insert(db)
    .await?;
    get_store(db, caller, StoreId(location_id)).await
}

pub async fn update_store(
    db: &impl ConnectionTrait,
    caller: &Caller,
    id: StoreId,
    patch: StorePatch,
) -> AppResult<Store> {
    visible_store(db, caller, id.0).await?;
    require_chain_admin(caller)?;
    find_in_org::<regions::Entity>(db, caller.org_id, patch.region_id.0)
        .await
        .map_err(|_| AppError::field("region_id", "no such region"))?;
    let row = find_in_org::<stores::Entity>(db, caller.org_id, id.0).await?;
    let mut active: stores::ActiveModel = row.into();
    active.region_id = Set(patch.region_id.0);
    active.update(db).await?;
    get_store(db, caller, id).await
}

fn target_view(t: targets::Model) -> Target {
    Target {
        year: t.year,
        month: u32::try_from(t.month).ok().filter(|m| *m > 0),
        revenue: from_e4(t.revenue_e4),
    }
}

pub async fn list_targets(
    db: &impl ConnectionTrait,
    caller: &Caller,
    id: StoreId,
) -> AppResult<Vec<Target>> {
    visible_store(db, caller, id.0).await?;
    let mut rows = scoped::<targets::Entity>(caller.org_id)
        .filter(targets::Column::StoreId.eq(id.0))
        .all(db)
        .await?;
    rows.sort_by_key(|t| (t.year, t.month));
    Ok(rows.into_iter().map(target_view).collect())
}

/// Sets targets (each replaces the one of the same period; the others stay).
pub async fn put_targets(
    db: &impl ConnectionTrait,
    caller: &Caller,
    id: StoreId,
    input: Vec<Target>,
) -> AppResult<Vec<Target>> {
    visible_store(db, caller, id.0).await?;
    caller.require(Permission::Write)?;
    if input.len() > 1000 {
        return Err(AppError::field("body", "at most 1000 targets at once"));
    }
    let mut rows = Vec::with_capacity(input.len());
    for (i, t) in input.iter().enumerate() {
        if !(1900..=2200).contains(&t.year) {
            return Err(AppError::field(
                format!("[{i}].year"),
                "between 1900 and 2200",
            ));
        }
        if t.month.is_some_and(|m| !(1..=12).contains(&m)) {
            return Err(AppError::field(
                format!("[{i}].month"),
                "1 to 12, or absent for a year",
            ));
        }
        if t.revenue < Decimal::ZERO {
            return Err(AppError::field(
                format!("[{i}].revenue"),
                "must not be negative",
            ));
        }
        let revenue_e4 =
            to_e4(t.revenue).map_err(|r| AppError::field(format!("[{i}].revenue"), r))?;
        rows.push(targets::ActiveModel {
            id: Set(Uuid::now_v7()),
            org_id: Set(caller.org_id.0),
            store_id: Set(id.0),
            year: Set(t.year),
            month: Set(t.month.unwrap_or(0) as i32),
            revenue_e4: Set(revenue_e4),
        });
    }
    for row in rows {
        targets::Entity::insert(row)
            .on_conflict(
                OnConflict::columns([
                    targets::Column::StoreId,
                    targets::Column::Year,
                    targets::Column::Month,
                ])
                .update_column(targets::Column::RevenueE4)
                .to_owned(),
            )
            .exec_without_returning(db)
            .await?;
    }
    list_targets(db, caller, id).await
}

//! Role scoping: what part of the chain a caller sees. Every query of the slice starts from
//! [`visible_stores`], so a regional manager's query never reaches another region's rows
//! and a store id outside the caller's scope is answered 404, like another tenant's.

use std::collections::HashMap;

use comptoir_kernel::auth::{Caller, Role};
use comptoir_kernel::tenancy::scoped;
use comptoir_kernel::{AppError, AppResult};
use sea_orm::{ColumnTrait, ConnectionTrait, QueryFilter};
use uuid::Uuid;

use crate::entities::{regions, stores};
use comptoir_catalog::entities::locations;

/// The part of the chain a caller sees.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Visibility {
    All,
    Region(Uuid),
    Store(Uuid),
}

impl Visibility {
    /// Owners, admins, directors and analysts see every store; a regional manager their
    /// region; a store manager their store. Operators (warehouse work) see no figures.
    pub fn of(caller: &Caller) -> AppResult<Visibility> {
        match caller.role {
            Role::Owner | Role::Admin | Role::Director | Role::Analyst => Ok(Visibility::All),
            Role::RegionalManager => caller
                .region_id
                .map(Visibility::Region)
                .ok_or_else(|| AppError::forbidden("a regional manager without a region")),
            Role::StoreManager => caller
                .store_id
                .map(Visibility::Store)
                .ok_or_else(|| AppError::forbidden("a store manager without a store")),
            Role::Operator => Err(AppError::forbidden(
                "the operator role does not see retail figures",
            )),
        }
    }

    pub fn is_all(self) -> bool {
        self == Visibility::All
    }
}

/// A store as the queries need it.
#[derive(Clone, Debug)]
pub struct StoreRow {
    pub id: Uuid,
    pub code: String,
    pub name: String,
    pub region_id: Uuid,
    pub region_code: String,
    pub region_name: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

/// The stores the caller sees, ordered by code.
pub async fn visible_stores(
    db: &impl ConnectionTrait,
    caller: &Caller,
) -> AppResult<Vec<StoreRow>> {
    let visibility = Visibility::of(caller)?;
    let org = caller.org_id;
    let mut query = scoped::<stores::Entity>(org);
    match visibility {
        Visibility::All => {}
        Visibility::Region(r) => query = query.filter(stores::Column::RegionId.eq(r)),
        Visibility::Store(s) => query = query.filter(stores::Column::Id.eq(s)),
    }
    let rows = query.all(db).await?;
    let ids: Vec<Uuid> = rows.iter().map(|s| s.id).collect();
    let locs: HashMap<Uuid, locations::Model> = scoped::<locations::Entity>(org)
        .filter(locations::Column::Id.is_in(ids))
        .all(db)
        .await?
        .into_iter()
        .map(|l| (l.id, l))
        .collect();
    let regions: HashMap<Uuid, regions::Model> = scoped::<regions::Entity>(org)
        .all(db)
        .await?
        .into_iter()
        .map(|r| (r.id, r))
        .collect();
    let mut out: Vec<StoreRow> = rows
        .into_iter()
        .filter_map(|s| {
            let loc = locs.get(&s.id)?;
            let region = regions.get(&s.region_id)?;
            Some(StoreRow {
                id: s.id,
                code: loc.code.clone(),
                name: loc.name.clone(),
                region_id: s.region_id,
                region_code: region.code.clone(),
                region_name: region.name.clone(),
                created_at: s.created_at,
            })
        })
        .collect();
    out.sort_by(|a, b| a.code.cmp(&b.code));
    Ok(out)
}

/// One visible store, or 404 (also for a store outside the caller's scope).
pub async fn visible_store(
    db: &impl ConnectionTrait,
    caller: &Caller,
    id: Uuid,
) -> AppResult<StoreRow> {
    visible_stores(db, caller)
        .await?
        .into_iter()
        .find(|s| s.id == id)
        .ok_or_else(|| AppError::not_found("store"))
}

/// The regions the caller sees (a store manager sees their store's region).
pub async fn visible_regions(
    db: &impl ConnectionTrait,
    caller: &Caller,
) -> AppResult<Vec<regions::Model>> {
    let visibility = Visibility::of(caller)?;
    let mut query = scoped::<regions::Entity>(caller.org_id);
    match visibility {
        Visibility::All => {}
        Visibility::Region(r) => query = query.filter(regions::Column::Id.eq(r)),
        Visibility::Store(_) => {
            let ids: Vec<Uuid> = visible_stores(db, caller)
                .await?
                .iter()
                .map(|s| s.region_id)
                .collect();
            query = query.filter(regions::Column::Id.is_in(ids));
        }
    }
    let mut rows = query.all(db).await?;
    rows.sort_by(|a, b| a.code.cmp(&b.code));
    Ok(rows)
}

//! Saved what-if scenarios: a name, a description, the first month, the horizon, the
//! baseline kind and the levers, saved per organization with their owner. Every update
//! adds an immutable version (1, 2, ...) with who made it and when; a delete archives.
//!
//! Who sees a scenario: roles that see the chain see all of them; others see the ones
//! whose owner's part of the chain (recorded at creation) overlaps theirs, and their own.
//! Running one projects it within the caller's visible stores ([`compare`]). Saving takes
//! the `Write` permission (analysts are read-only); changing or archiving one also takes
//! being its owner or seeing the whole chain.

pub mod api;
pub mod compare;

use chrono::{DateTime, Utc};
use comptoir_kernel::auth::{Caller, Permission};
use comptoir_kernel::tenancy::scoped;
use comptoir_kernel::{AppError, AppResult, ErrorCode};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder, Set,
};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::entities::{scenario_versions as versions, scenarios};
use crate::scope::{StoreRow, Visibility, visible_stores};
use crate::whatif::formula::Lever;
use crate::whatif::{self, BaselineKind};

comptoir_kernel::typed_id!(
    /// A saved what-if scenario.
    ScenarioId
);

/// A scenario to create, or its next version.
#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScenarioInput {
    /// 1 to 200 characters.
    pub name: String,
    /// At most 2,000 characters.
    #[serde(default)]
    pub description: String,
    /// First projected month, `YYYY-MM`.
    pub from: String,
    /// Months projected (1 to 36).
    pub months: u32,
    #[serde(default)]
    pub baseline: BaselineKind,
    #[serde(default)]
    pub levers: Vec<Lever>,
    /// Updates only: the version this change was made from; 409 if it is no longer the
    /// latest (someone saved in between).
    pub expected_version: Option<i32>,
}

/// One version of a scenario.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct ScenarioVersion {
    pub version: i32,
    pub name: String,
    pub description: String,
    pub from: String,
    pub months: u32,
    pub baseline: BaselineKind,
    pub levers: Vec<Lever>,
    pub created_by: Uuid,
    pub created_at: DateTime<Utc>,
}

/// Who saved a version and when.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct VersionInfo {
    pub version: i32,
    pub name: String,
    pub created_by: Uuid,
    pub created_at: DateTime<Utc>,
}

/// A scenario with one of its versions (the latest unless asked) and its history.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Scenario {
    pub id: ScenarioId,
    pub owner_id: Uuid,
    /// The owner's region or store when it was created (absent: the whole chain).
    pub scope_region_id: Option<Uuid>,
    pub scope_store_id: Option<Uuid>,
    pub latest_version: i32,
    /// When the scenario was created (`created_at` is the version's, flattened below).
    #[serde(rename = "scenario_created_at")]
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    #[serde(flatten)]
    pub current: ScenarioVersion,
    /// Every version, oldest first.
    pub versions: Vec<VersionInfo>,
}

/// A scenario in a listing: its latest version.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct ScenarioSummary {
    pub id: ScenarioId,
    pub owner_id: Uuid,
    pub latest_version: i32,
    pub updated_at: DateTime<Utc>,
    pub name: String,
    pub description: String,
    pub from: String,
    pub months: u32,
    pub baseline: BaselineKind,
    pub levers: usize,
}

/// A checked scenario input.
struct Valid {
    name: String,
    description: String,
    from: String,
    months: u32,
    baseline: BaselineKind,
    levers: Vec<Lever>,
}

fn version_view(v: versions::Model) -> AppResult<ScenarioVersion> {
    Ok(ScenarioVersion {
        version: v.version,
        levers: serde_json::from_value(v.levers).map_err(AppError::internal)?,
        name: v.name,
        description: v.description,
        from: v.from_month,
        months: u32::try_from(v.horizon).unwrap_or(0),
        baseline: BaselineKind::parse(&v.baseline).unwrap_or_default(),
        created_by: v.created_by,
        created_at: v.created_at,
    })
}

/// Whether a scenario concerns the caller's part of the chain.
fn overlaps(caller: &Caller, vis: Visibility, stores: &[StoreRow], s: &scenarios::Model) -> bool {
    vis.is_all()
        || s.owner_id == caller.user_id.0
        || match (s.scope_region_id, s.scope_store_id) {
            (_, Some(store)) => stores.iter().any(|x| x.id == store),
            (Some(region), None) => stores.iter().any(|x| x.region_id == region),
            (None, None) => true,
        }
}

/// A live scenario the caller sees, or 404 (also for another organization's).
pub async fn load_visible(
    db: &impl ConnectionTrait,
    caller: &Caller,
    id: ScenarioId,
) -> AppResult<scenarios::Model> {
    let vis = Visibility::of(caller)?;
    let s = scoped::<scenarios::Entity>(caller.org_id)
        .filter(scenarios::Column::Id.eq(id.0))
        .filter(scenarios::Column::ArchivedAt.is_null())
        .one(db)
        .await?
        .ok_or_else(|| AppError::not_found("scenario"))?;
    let stores = if vis.is_all() {
        Vec::new()
    } else {
        visible_stores(db, caller).await?
    };
    if overlaps(caller, vis, &stores, &s) {
        Ok(s)
    } else {
        Err(AppError::not_found("scenario"))
    }
}

/// One version (the latest when `version` is absent), or 404.
pub async fn load_version(
    db: &impl ConnectionTrait,
    s: &scenarios::Model,
    version: Option<i32>,
) -> AppResult<versions::Model> {
    scoped::<versions::Entity>(s.org_id.into())
        .filter(versions::Column::ScenarioId.eq(s.id))
        .filter(versions::Column::Version.eq(version.unwrap_or(s.latest_version)))
        .one(db)
        .await?
        .ok_or_else(|| AppError::not_found("scenario version"))
}

fn may_edit(caller: &Caller, s: &scenarios::Model) -> AppResult<()> {
    caller.require(Permission::Write)?;
    if s.owner_id != caller.user_id.0 && !Visibility::of(caller)?.is_all() {
        return Err(AppError::forbidden(
            "only its owner or a role that sees the whole chain may change a scenario",
        ));
    }
    Ok(())
}

/// Checks an input against the caller's part of the chain (see [`whatif::validate`]).
async fn validate(
    db: &impl ConnectionTrait,
    caller: &Caller,
    input: &ScenarioInput,
) -> AppResult<Valid> {
    let name = input.name.trim();
    if name.is_empty() || name.chars().count() > 200 || name.chars().any(char::is_control) {
        return Err(AppError::field("name", "1 to 200 printable characters"));
    }
    if input.description.chars().count() > 2000 {
        return Err(AppError::field("description", "at most 2,000 characters"));
    }
    let from = whatif::validate(db, caller, &input.from, input.months, &input.levers).await?;
    Ok(Valid {
        name: name.to_owned(),
        description: input.description.trim().to_owned(),
        from: from.format("%Y-%m").to_string(),
        months: input.months,
        baseline: input.baseline,
        levers: input.levers.clone(),
    })
}

fn version_row(
    caller: &Caller,
    scenario: Uuid,
    version: i32,
    v: &Valid,
    now: DateTime<Utc>,
) -> AppResult<versions::ActiveModel> {
    Ok(versions::ActiveModel {
        id: Set(Uuid::now_v7()),
        org_id: Set(caller.org_id.0),
        scenario_id: Set(scenario),
        version: Set(version),
        name: Set(v.name.clone()),
        description: Set(v.description.clone()),
        from_month: Set(v.from.clone()),
        horizon: Set(v.months as i32),
        baseline: Set(v.baseline.as_str().to_owned()),
        levers: Set(serde_json::to_value(&v.levers).map_err(AppError::internal)?),
        created_by: Set(caller.user_id.0),
        created_at: Set(now),
    })
}

/// Saves a new scenario (version 1).
pub async fn create(
    db: &DatabaseConnection,
    caller: &Caller,
    input: &ScenarioInput,
) -> AppResult<Scenario> {
    let vis = Visibility::of(caller)?;
    caller.require(Permission::Write)?;
    if input.expected_version.is_some() {
        return Err(AppError::field(
            "expected_version",
            "only when updating a scenario",
        ));
    }
    let valid = validate(db, caller, input).await?;
    let (scope_region_id, scope_store_id) = match vis {
        Visibility::All => (None, None),
        Visibility::Region(r) => (Some(r), None),
        Visibility::Store(s) => {
            let region = visible_stores(db, caller)
                .await?
                .into_iter()
                .find(|x| x.id == s)
                .map(|x| x.region_id);
            (region, Some(s))
        }
    };
    let id = ScenarioId::new();
    let now = Utc::now();
    let txn = comptoir_kernel::db::begin_write(db).await?;
    scenarios::ActiveModel {
        id: Set(id.0),
        org_id: Set(caller.org_id.0),
        owner_id: Set(caller.user_id.0),
        scope_region_id: Set(scope_region_id),
        scope_store_id: Set(scope_store_id),
        latest_version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
        archived_at: Set(None),
    }
    .insert(&txn)
    .await?;
    version_row(caller, id.0, 1, &valid, now)?
        .insert(&txn)
        .await?;
    txn.commit().await?;
    get(db, caller, id, None).await
}

/// Saves the next version of a scenario.
pub async fn update(
    db: &DatabaseConnection,
    caller: &Caller,
    id: ScenarioId,
    input: &ScenarioInput,
) -> AppResult<Scenario> {
    let s = load_visible(db, caller, id).await?;
    may_edit(caller, &s)?;
    let valid = validate(db, caller, input).await?;
    let stale = || {
        AppError::new(
            ErrorCode::Conflict,
            "the scenario has a newer version than the one this change was made from",
        )
        .with_details(json!({ "latest_version": s.latest_version }))
    };
    if input
        .expected_version
        .is_some_and(|v| v != s.latest_version)
    {
        return Err(stale());
    }
    let next = s.latest_version + 1;
    let now = Utc::now();
    let txn = comptoir_kernel::db::begin_write(db).await?;
    // Only moves from the version read above: a concurrent save makes this touch no row.
    let moved = scenarios::Entity::update_many()
        .col_expr(scenarios::Column::LatestVersion, Expr::value(next))
        .col_expr(scenarios::Column::UpdatedAt, Expr::value(now))
        .filter(scenarios::Column::OrgId.eq(caller.org_id.0))
        .filter(scenarios::Column::Id.eq(s.id))
        .filter(scenarios::Column::LatestVersion.eq(s.latest_version))
        .exec(&txn)
        .await?;
    if moved.rows_affected != 1 {
        return Err(stale());
    }
    version_row(caller, s.id, next, &valid, now)?
        .insert(&txn)
        .await?;
    txn.commit().await?;
    get(db, caller, id, None).await
}

/// Archives a scenario: gone from the API, its versions kept.
pub async fn archive(db: &DatabaseConnection, caller: &Caller, id: ScenarioId) -> AppResult<()> {
    let s = load_visible(db, caller, id).await?;
    may_edit(caller, &s)?;
    scenarios::Entity::update_many()
        .col_expr(scenarios::Column::ArchivedAt, Expr::value(Utc::now()))
        .filter(scenarios::Column::OrgId.eq(caller.org_id.0))
        .filter(scenarios::Column::Id.eq(s.id))
        .exec(db)
        .await?;
    Ok(())
}

/// A scenario with one version (the latest by default) and the list of its versions.
pub async fn get(
    db: &impl ConnectionTrait,
    caller: &Caller,
    id: ScenarioId,
    version: Option<i32>,
) -> AppResult<Scenario> {
    let s = load_visible(db, caller, id).await?;
    let all = scoped::<versions::Entity>(caller.org_id)
        .filter(versions::Column::ScenarioId.eq(s.id))
        .order_by_asc(versions::Column::Version)
        .all(db)
        .await?;
    let wanted = version.unwrap_or(s.latest_version);
    let current = all
        .iter()
        .find(|v| v.version == wanted)
        .cloned()
        .ok_or_else(|| AppError::not_found("scenario version"))?;
    Ok(Scenario {
        id,
        owner_id: s.owner_id,
        scope_region_id: s.scope_region_id,
        scope_store_id: s.scope_store_id,
        latest_version: s.latest_version,
        created_at: s.created_at,
        updated_at: s.updated_at,
        current: version_view(current)?,
        versions: all
            .into_iter()
            .map(|v| VersionInfo {
                version: v.version,
                name: v.name,
                created_by: v.created_by,
                created_at: v.created_at,
            })
            .collect(),
    })
}

/// The live scenarios the caller sees, most recently changed first.
pub async fn list(db: &impl ConnectionTrait, caller: &Caller) -> AppResult<Vec<ScenarioSummary>> {
    let vis = Visibility::of(caller)?;
    let stores = if vis.is_all() {
        Vec::new()
    } else {
        visible_stores(db, caller).await?
    };
    let rows: Vec<scenarios::Model> = scoped::<scenarios::Entity>(caller.org_id)
        .filter(scenarios::Column::ArchivedAt.is_null())
        .order_by_desc(scenarios::Column::UpdatedAt)
        .all(db)
        .await?
        .into_iter()
        .filter(|s| overlaps(caller, vis, &stores, s))
        .collect();
    let ids: Vec<Uuid> = rows.iter().map(|s| s.id).collect();
    let latest: std::collections::HashMap<(Uuid, i32), versions::Model> =
        scoped::<versions::Entity>(caller.org_id)
            .filter(versions::Column::ScenarioId.is_in(ids))
            .all(db)
            .await?
            .into_iter()
            .map(|v| ((v.scenario_id, v.version), v))
            .collect();
    let mut out = Vec::new();
    for s in rows {
        let Some(v) = latest.get(&(s.id, s.latest_version)).cloned() else {
            continue;
        };
        let v = version_view(v)?;
        out.push(ScenarioSummary {
            id: ScenarioId(s.id),
            owner_id: s.owner_id,
            latest_version: s.latest_version,
            updated_at: s.updated_at,
            name: v.name,
            description: v.description,
            from: v.from,
            months: v.months,
            baseline: v.baseline,
            levers: v.levers.len(),
        });
    }
    Ok(out)
}

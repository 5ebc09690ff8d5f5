//! Organizations and their members.

use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, Set, TransactionSession, TransactionTrait,
};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::audit::{self, AuditEvent};
use crate::auth::Caller;
use crate::auth::role::{Permission, Role};
use crate::auth::tokens::hash_password;
use crate::entities::{memberships, orgs, users};
use crate::error::{AppError, AppResult, ErrorCode};
use crate::ids::{MembershipId, OrgId, UserId};
use crate::tenancy::{find_in_org, scoped};
use crate::validate::{Email, NewPassword, label, slug, slugify};

/// Creates an organization; the slug comes from the name unless given.
pub async fn create_org(
    db: &impl ConnectionTrait,
    name: &str,
    slug_in: Option<&str>,
) -> AppResult<orgs::Model> {
    let name = label("name", name, 120)?;
    let slug = match slug_in {
        Some(s) => slug("slug", s)?,
        None => slugify(&name),
    };
    let row = orgs::ActiveModel {
        id: Set(OrgId::new().0),
        name: Set(name),
        slug: Set(slug.clone()),
        plan: Set("free".into()),
        created_at: Set(Utc::now()),
    }
    .insert(db)
    .await
    .map_err(|e| match AppError::from(e) {
        e if e.code == ErrorCode::AlreadyExists => AppError::new(
            ErrorCode::AlreadyExists,
            format!("an organization with slug {slug} exists"),
        ),
        e => e,
    })?;
    Ok(row)
}

pub async fn find_org_by_slug(
    db: &impl ConnectionTrait,
    slug: &str,
) -> AppResult<Option<orgs::Model>> {
    Ok(orgs::Entity::find()
        .filter(orgs::Column::Slug.eq(slug))
        .one(db)
        .await?)
}

/// What is needed to add a member.
#[derive(Debug)]
pub struct NewMember {
    pub email: Email,
    pub name: Option<String>,
    /// Required when the user does not exist yet.
    pub password: Option<NewPassword>,
    pub role: Role,
    pub region_id: Option<Uuid>,
    pub store_id: Option<Uuid>,
}

/// A member as the API shows it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MemberView {
    pub id: MembershipId,
    pub user_id: UserId,
    pub email: String,
    pub name: String,
    pub role: Role,
    pub region_id: Option<Uuid>,
    pub store_id: Option<Uuid>,
    pub created_at: chrono::DateTime<Utc>,
}

fn check_scope_fields(role: Role, region: Option<Uuid>, store: Option<Uuid>) -> AppResult<()> {
    match role {
        Role::RegionalManager if region.is_none() => Err(AppError::field(
            "region_id",
            "required for a regional_manager",
        )),
        Role::StoreManager if store.is_none() => {
            Err(AppError::field("store_id", "required for a store_manager"))
        }
        _ => Ok(()),
    }
}

/// Adds a user (created if new) to an organization. `actor` is None for the CLI.
pub async fn add_member(
    db: &(impl ConnectionTrait + TransactionTrait),
    org: OrgId,
    new: NewMember,
    actor: Option<&Caller>,
) -> AppResult<MemberView> {
    if let Some(actor) = actor {
        actor.require(Permission::ManageMembers)?;
        if !actor.role.can_grant(new.role) {
            return Err(AppError::forbidden(format!(
                "a {} may not grant the {} role",
                actor.role, new.role
            )));
        }
    }
    check_scope_fields(new.role, new.region_id, new.store_id)?;
    let hash = match &new.password {
        Some(p) => {
            let p = p.clone();
            Some(
                tokio::task::spawn_blocking(move || hash_password(p.expose()))
                    .await
                    .map_err(AppError::internal)??,
            )
        }
        None => None,
    };
    let txn = crate::db::begin_write(db).await?;
    let user = match users::Entity::find()
        .filter(users::Column::Email.eq(new.email.as_str()))
        .one(&txn)
        .await?
    {
        Some(u) => u,
        None => {
            let Some(hash) = hash else {
                return Err(AppError::field("password", "required to create a new user"));
            };
            let name = match &new.name {
                Some(n) => label("name", n, 100)?,
                None => new
                    .email
                    .as_str()
                    .split('@')
                    .next()
                    .unwrap_or_default()
                    .to_owned(),
            };
            users::ActiveModel {
                id: Set(UserId::new().0),
                email: Set(new.email.as_str().to_owned()),
                name: Set(name),
                password_hash: Set(hash),
                created_at: Set(Utc::now()),
                disabled_at: Set(None),
            }
            .insert(&txn)
            .await?
        }
    };
    let membership = memberships::ActiveModel {
        id: Set(MembershipId::new().0),
        org_id: Set(org.0),
        user_id: Set(user.id),
        role: Set(new.role.as_str().to_owned()),
        region_id: Set(new.region_id),
        store_id: Set(new.store_id),
        created_at: Set(Utc::now()),
    }
    .insert(&txn)
    .await
    .map_err(|e| match AppError::from(e) {
        e if e.code == ErrorCode::AlreadyExists => {
            AppError::new(ErrorCode::AlreadyExists, "this user is already a member")
        }
        e => e,
    })?;
    audit::record(
        &txn,
        AuditEvent {
            org: Some(org),
            user: actor.map(|a| a.user_id),
            api_key: actor.and_then(Caller::api_key_id),
            action: "member.added",
            target: Some(user.email.clone()),
            details: serde_json::json!({ "role": new.role }),
            ..Default::default()
        },
    )
    .await?;
    txn.commit().await?;
    Ok(view(membership, &user))
}

fn view(m: memberships::Model, u: &users::Model) -> MemberView {
    MemberView {
        id: MembershipId(m.id),
        user_id: UserId(u.id),
        email: u.email.clone(),
        name: u.name.clone(),
        role: Role::parse(&m.role).unwrap_or(Role::Analyst),
        region_id: m.region_id,
        store_id: m.store_id,
        created_at: m.created_at,
    }
}

pub async fn list_members(db: &impl ConnectionTrait, org: OrgId) -> AppResult<Vec<MemberView>> {
    let rows = scoped::<memberships::Entity>(org)
        .order_by_asc(memberships::Column::CreatedAt)
        .find_also_related(users::Entity)
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .filter_map(|(m, u)| u.map(|u| view(m, &u)))
        .collect())
}

pub async fn get_member(
    db: &impl ConnectionTrait,
    org: OrgId,
    id: MembershipId,
) -> AppResult<MemberView> {
    let m = find_in_org::<memberships::Entity>(db, org, id.0).await?;
    let u = users::Entity::find_by_id(m.user_id)
        .one(db)
        .await?
        .ok_or_else(|| AppError::not_found("member"))?;
    Ok(view(m, &u))
}

/// A change of role or scope.
#[derive(Debug, Default)]
pub struct MemberChange {
    pub role: Option<Role>,
    pub region_id: Option<Option<Uuid>>,
    pub store_id: Option<Option<Uuid>>,
}

async fn owners(db: &impl ConnectionTrait, org: OrgId) -> AppResult<u64> {
    Ok(scoped::<memberships::Entity>(org)
        .filter(memberships::Column::Role.eq(Role::Owner.as_str()))
        .count(db)
        .await?)
}

pub async fn update_member(
    db: &(impl ConnectionTrait + TransactionTrait),
    actor: &Caller,
    id: MembershipId,
    change: MemberChange,
) -> AppResult<MemberView> {
    actor.require(Permission::ManageMembers)?;
    let txn = crate::db::begin_write(db).await?;
    let current = find_in_org::<memberships::Entity>(&txn, actor.org_id, id.0).await?;
    let old_role = Role::parse(&current.role).unwrap_or(Role::Analyst);
    let new_role = change.role.unwrap_or(old_role);
    if !actor.role.can_grant(new_role) || !actor.role.can_grant(old_role) {
        return Err(AppError::forbidden(format!(
            "a {} may not change a {} into a {}",
            actor.role, old_role, new_role
        )));
    }
    if old_role == Role::Owner && new_role != Role::Owner && owners(&txn, actor.org_id).await? <= 1
    {
        return Err(AppError::conflict(
            "the organization must keep at least one owner",
        ));
    }
    let region = change.region_id.unwrap_or(current.region_id);
    let store = change.store_id.unwrap_or(current.store_id);
    check_scope_fields(new_role, region, store)?;
    let mut active: memberships::ActiveModel = current.into();
    active.role = Set(new_role.as_str().to_owned());
    active.region_id = Set(region);
    active.store_id = Set(store);
    let updated = active.update(&txn).await?;
    let user = users::Entity::find_by_id(updated.user_id)
        .one(&txn)
        .await?
        .ok_or_else(|| AppError::not_found("member"))?;
    audit::record(
        &txn,
        AuditEvent {
            org: Some(actor.org_id),
            user: Some(actor.user_id),
            api_key: actor.api_key_id(),
            action: "member.role_changed",
            target: Some(user.email.clone()),
            details: serde_json::json!({ "from": old_role, "to": new_role }),
            ..Default::default()
        },
    )
    .await?;
    txn.commit().await?;
    Ok(view(updated, &user))
}

pub async fn remove_member(
    db: &(impl ConnectionTrait + TransactionTrait),
    actor: &Caller,
    id: MembershipId,
) -> AppResult<()> {
    actor.require(Permission::ManageMembers)?;
    let txn = crate::db::begin_write(db).await?;
    let current = find_in_org::<memberships::Entity>(&txn, actor.org_id, id.0).await?;
    let role = Role::parse(&current.role).unwrap_or(Role::Analyst);
    if !actor.role.can_grant(role) {
        return Err(AppError::forbidden(format!(
            "a {} may not remove a {}",
            actor.role, role
        )));
    }
    if role == Role::Owner && owners(&txn, actor.org_id).await? <= 1 {
        return Err(AppError::conflict(
            "the organization must keep at least one owner",
        ));
    }
    memberships::Entity::delete_by_id(current.id)
        .exec(&txn)
        .await?;
    audit::record(
        &txn,
        AuditEvent {
            org: Some(actor.org_id),
            user: Some(actor.user_id),
            api_key: actor.api_key_id(),
            action: "member.removed",
            target: Some(current.user_id.to_string()),
            details: serde_json::json!({ "role": role }),
            ..Default::default()
        },
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

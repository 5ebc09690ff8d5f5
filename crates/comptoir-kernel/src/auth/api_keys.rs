//! API keys: shown once at creation, stored as SHA-256, scoped (read / write), revocable,
//! with the time of last use. A key never has more rights than its creator.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, QueryFilter, QueryOrder, Set,
    TransactionSession, TransactionTrait,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::Caller;
use super::role::{Permission, Role, Scope};
use super::tokens::{API_KEY_PREFIX, hash_token, random_token};
use crate::audit::{self, AuditEvent};
use crate::entities::api_keys;
use crate::error::{AppError, AppResult};
use crate::ids::{ApiKeyId, UserId};
use crate::tenancy::{find_in_org, scoped};
use crate::validate::label;

/// Request to create a key.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateApiKey {
    /// What the key is for ("Shopify sync").
    pub name: String,
    /// Defaults to the creator's role; may not exceed what the creator can grant.
    pub role: Option<Role>,
    /// Defaults to `["read", "write"]` (`["read"]` for an analyst).
    pub scopes: Option<Vec<Scope>>,
    /// Days until the key expires (1 to 3650); none: never.
    pub expires_in_days: Option<u32>,
}

/// A key as listings show it (the secret itself is never shown again).
#[derive(Debug, Serialize, ToSchema)]
pub struct ApiKeyView {
    pub id: ApiKeyId,
    pub name: String,
    /// The first characters of the key.
    pub prefix: String,
    pub role: Role,
    pub scopes: Vec<Scope>,
    pub created_by: UserId,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub expires_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// The answer to a creation: the only time `key` is ever shown.
#[derive(Debug, Serialize, ToSchema)]
pub struct ApiKeyCreated {
    /// The secret. Store it now: it cannot be shown again.
    pub key: String,
    #[serde(flatten)]
    pub api_key: ApiKeyView,
}

fn view(row: api_keys::Model) -> ApiKeyView {
    ApiKeyView {
        id: ApiKeyId(row.id),
        name: row.name,
        prefix: row.prefix,
        role: Role::parse(&row.role).unwrap_or(Role::Analyst),
        scopes: Scope::parse_list(&row.scopes),
        created_by: UserId(row.user_id),
        created_at: row.created_at,
        last_used_at: row.last_used_at,
        expires_at: row.expires_at,
        revoked_at: row.revoked_at,
    }
}

pub async fn create(
    db: &(impl ConnectionTrait + TransactionTrait),
    caller: &Caller,
    req: CreateApiKey,
) -> AppResult<ApiKeyCreated> {
    let name = label("name", &req.name, 100)?;
    let role = req.role.unwrap_or(caller.role);
    if !caller.role.can_grant(role) {
        return Err(AppError::forbidden(format!(
            "a {} may not create a key with the {} role",
            caller.role, role
        )));
    }
    let default_scopes = if role.can(Permission::Write) {
        vec![Scope::Read, Scope::Write]
    } else {
        vec![Scope::Read]
    };
    let mut scopes = req.scopes.unwrap_or(default_scopes);
    scopes.sort_by_key(|s| s.as_str());
    scopes.dedup();
    if scopes.is_empty() {
        return Err(AppError::field("scopes", "give at least one scope"));
    }
    if scopes.contains(&Scope::Write) && !role.can(Permission::Write) {
        return Err(AppError::field(
            "scopes",
            format!("the {role} role is read-only"),
        ));
    }
    let expires_at = match req.expires_in_days {
        Some(d @ 1..=3650) => Some(Utc::now() + chrono::Duration::days(d.into())),
        Some(_) => {
            return Err(AppError::field(
                "expires_in_days",
                "must be between 1 and 3650",
            ));
        }
        None => None,
    };
    let key = format!("{API_KEY_PREFIX}{}", random_token(32));
    // A key with the creator's own role keeps their region/store scope; other roles don't.
    let keep_scope = role == caller.role;
    let txn = crate::db::begin_write(db).await?;
    let row = api_keys::ActiveModel {
        id: Set(ApiKeyId::new().0),
        org_id: Set(caller.org_id.0),
        user_id: Set(caller.user_id.0),
        name: Set(name),
        prefix: Set(key.chars().take(12).collect()),
        key_hash: Set(hash_token(&key)),
        role: Set(role.as_str().to_owned()),
        scopes: Set(Scope::join(&scopes)),
        region_id: Set(caller.region_id.filter(|_| keep_scope)),
        store_id: Set(caller.store_id.filter(|_| keep_scope)),
        created_at: Set(Utc::now()),
        last_used_at: Set(None),
        expires_at: Set(expires_at),
        revoked_at: Set(None),
    }
    .insert(&txn)
    .await?;
    audit::record(
        &txn,
        AuditEvent {
            org: Some(caller.org_id),
            user: Some(caller.user_id),
            api_key: caller.api_key_id(),
            action: "api_key.created",
            target: Some(row.id.to_string()),
            details: serde_json::json!({ "name": row.name, "role": role, "scopes": scopes }),
            ..Default::default()
        },
    )
    .await?;
    txn.commit().await?;
    Ok(ApiKeyCreated {
        key,
        api_key: view(row),
    })
}

/// The caller's own keys, or every key of the org for owners and admins.
pub async fn list(db: &impl ConnectionTrait, caller: &Caller) -> AppResult<Vec<ApiKeyView>> {
    let mut query =
        scoped::<api_keys::Entity>(caller.org_id).order_by_desc(api_keys::Column::CreatedAt);
    if !caller.role.can(Permission::ManageAllApiKeys) {
        query = query.filter(api_keys::Column::UserId.eq(caller.user_id.0));
    }
    Ok(query.all(db).await?.into_iter().map(view).collect())
}

/// One key, visible to its creator and to owners/admins; 404 otherwise.
pub async fn get(
    db: &impl ConnectionTrait,
    caller: &Caller,
    id: ApiKeyId,
) -> AppResult<ApiKeyView> {
    let row = find_in_org::<api_keys::Entity>(db, caller.org_id, id.0).await?;
    if row.user_id != caller.user_id.0 && !caller.role.can(Permission::ManageAllApiKeys) {
        return Err(AppError::not_found("api key"));
    }
    Ok(view(row))
}

/// Revokes a key (idempotent).
pub async fn revoke(
    db: &(impl ConnectionTrait + TransactionTrait),
    caller: &Caller,
    id: ApiKeyId,
) -> AppResult<ApiKeyView> {
    let txn = crate::db::begin_write(db).await?;
    let row = find_in_org::<api_keys::Entity>(&txn, caller.org_id, id.0).await?;
    if row.user_id != caller.user_id.0 && !caller.role.can(Permission::ManageAllApiKeys) {
        return Err(AppError::not_found("api key"));
    }
    if row.revoked_at.is_some() {
        return Ok(view(row));
    }
    let mut active: api_keys::ActiveModel = row.into();
    active.revoked_at = Set(Some(Utc::now()));
    let row = active.update(&txn).await?;
    audit::record(
        &txn,
        AuditEvent {
            org: Some(caller.org_id),
            user: Some(caller.user_id),
            api_key: caller.api_key_id(),
            action: "api_key.revoked",
            target: Some(row.id.to_string()),
            ..Default::default()
        },
    )
    .await?;
    txn.commit().await?;
    Ok(view(row))
}

//! The audit log: sign-ins (and failures), API-key creation and revocation, membership and
//! role changes. Written in the same transaction as the change when there is one.

use chrono::Utc;
use sea_orm::{ActiveModelTrait, ConnectionTrait, QueryOrder, QuerySelect, Set};
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::entities::audit_log;
use crate::error::AppResult;
use crate::ids::{ApiKeyId, OrgId, UserId};
use crate::tenancy::scoped;

/// One thing to write down.
#[derive(Debug, Default)]
pub struct AuditEvent<'a> {
    pub org: Option<OrgId>,
    pub user: Option<UserId>,
    pub api_key: Option<ApiKeyId>,
    pub action: &'a str,
    pub target: Option<String>,
    pub ip: Option<String>,
    pub details: Value,
}

pub async fn record(db: &impl ConnectionTrait, event: AuditEvent<'_>) -> AppResult<()> {
    audit_log::ActiveModel {
        id: Set(Uuid::now_v7()),
        org_id: Set(event.org.map(|o| o.0)),
        actor_user_id: Set(event.user.map(|u| u.0)),
        actor_api_key_id: Set(event.api_key.map(|k| k.0)),
        action: Set(event.action.to_owned()),
        target: Set(event.target),
        ip: Set(event.ip),
        details: Set(event.details),
        created_at: Set(Utc::now()),
    }
    .insert(db)
    .await?;
    Ok(())
}

/// An audit entry as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditEntry {
    pub id: Uuid,
    pub action: String,
    pub actor_user_id: Option<Uuid>,
    pub actor_api_key_id: Option<Uuid>,
    pub target: Option<String>,
    pub ip: Option<String>,
    #[schema(value_type = Object)]
    pub details: Value,
    pub created_at: chrono::DateTime<Utc>,
}

/// The newest entries of one organization.
pub async fn list(db: &impl ConnectionTrait, org: OrgId, limit: u64) -> AppResult<Vec<AuditEntry>> {
    let rows = scoped::<audit_log::Entity>(org)
        .order_by_desc(audit_log::Column::CreatedAt)
        .order_by_desc(audit_log::Column::Id)
        .limit(limit)
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .map(|r| AuditEntry {
            id: r.id,
            action: r.action,
            actor_user_id: r.actor_user_id,
            actor_api_key_id: r.actor_api_key_id,
            target: r.target,
            ip: r.ip,
            details: r.details,
            created_at: r.created_at,
        })
        .collect())
}

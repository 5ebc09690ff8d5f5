//! `GET/PUT/DELETE /api/v1/orders/connectors`: an organization's connector settings
//! (owners and admins). Secrets go in, never out (`secret_set` says whether one is stored).

use axum::Json;
use axum::extract::State;
use chrono::{DateTime, Utc};
use comptoir_kernel::auth::{Caller, Permission};
use comptoir_kernel::error::ErrorBody;
use comptoir_kernel::http::{ApiJson, ApiQuery};
use comptoir_kernel::tenancy::scoped;
use comptoir_kernel::{AppError, AppResult, AppState};
use sea_orm::sea_query::OnConflict;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::{Kind, secret_context};
use crate::entities::connectors;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_connectors, save_connector, delete_connector))
}

/// A connector's settings (without its secret).
#[derive(Debug, Serialize, ToSchema)]
pub struct ConnectorView {
    pub kind: Kind,
    pub base_url: String,
    /// Odoo: `database`, `username`; WMS: `warehouse`; both: `timeout_ms`.
    #[schema(value_type = Object)]
    pub settings: Value,
    pub secret_set: bool,
    pub enabled: bool,
    pub updated_at: DateTime<Utc>,
}

/// Creates or replaces the connector of this kind.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConnectorInput {
    pub kind: Kind,
    /// `https://...` (or `http://` for a local system).
    pub base_url: String,
    #[schema(value_type = Option<Object>)]
    pub settings: Option<Map<String, Value>>,
    /// Odoo password or API key; WMS bearer key. Omit to keep the stored one.
    pub secret: Option<String>,
    pub enabled: Option<bool>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct KindQuery {
    /// `odoo` or `wms`.
    pub kind: Kind,
}

fn view(m: connectors::Model) -> ConnectorView {
    ConnectorView {
        kind: Kind::parse(&m.kind).unwrap_or(Kind::Odoo),
        base_url: m.base_url,
        settings: m.settings,
        secret_set: m.secret.is_some(),
        enabled: m.enabled,
        updated_at: m.updated_at,
    }
}

/// The organization's connectors.
#[utoipa::path(get, path = "/api/v1/orders/connectors", tag = "orders",
    security(("bearer" = []), ("api_key" = [])),
    responses((status = 200, body = Vec<ConnectorView>), (status = 403, body = ErrorBody)))]
async fn list_connectors(
    State(state): State<AppState>,
    caller: Caller,
) -> AppResult<Json<Vec<ConnectorView>>> {
    caller.require(Permission::ManageJobs)?;
    Ok(Json(
        scoped::<connectors::Entity>(caller.org_id)
            .order_by_asc(connectors::Column::Kind)
            .all(&state.db)
            .await?
            .into_iter()
            .map(view)
            .collect(),
    ))
}

/// Configure a connector (replaces the one of the same kind).
#[utoipa::path(put, path = "/api/v1/orders/connectors", tag = "orders", request_body = ConnectorInput,
    security(("bearer" = []), ("api_key" = [])),
    responses((status = 200, body = ConnectorView), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn save_connector(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(input): ApiJson<ConnectorInput>,
) -> AppResult<Json<ConnectorView>> {
    caller.require(Permission::ManageJobs)?;
    let org = caller.org_id;
    let base = input.base_url.trim().trim_end_matches('/').to_owned();
    match url::Url::parse(&base) {
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() => {}
        _ => return Err(AppError::field("base_url", "an http(s) URL")),
    }
    let settings = input.settings.unwrap_or_default();
    if serde_json::to_string(&settings).map_or(0, |s| s.len()) > 4096 {
        return Err(AppError::field("settings", "at most 4 KB"));
    }
    if let Some(t) = settings.get("timeout_ms")
        && !t.as_u64().is_some_and(|t| (100..=60_000).contains(&t))
    {
        return Err(AppError::field("settings.timeout_ms", "100 to 60000"));
    }
    let secret = match input.secret.as_deref() {
        Some(s) if s.is_empty() || s.len() > 1000 => {
            return Err(AppError::field("secret", "1 to 1000 characters"));
        }
        Some(s) => Some(state.cipher.encrypt(s, &secret_context(org, input.kind))),
        None => None,
    };
    let now = Utc::now();
    let mut update = vec![
        connectors::Column::BaseUrl,
        connectors::Column::Settings,
        connectors::Column::Enabled,
        connectors::Column::UpdatedAt,
    ];
    if secret.is_some() {
        update.push(connectors::Column::Secret);
    }
    connectors::Entity::insert(connectors::ActiveModel {
        id: Set(Uuid::now_v7()),
        org_id: Set(org.0),
        kind: Set(input.kind.as_str().into()),
        base_url: Set(base),
        settings: Set(Value::Object(settings)),
        secret: Set(secret),
        enabled: Set(input.enabled.unwrap_or(true)),
        created_at: Set(now),
        updated_at: Set(now),
    })
    .on_conflict(
        OnConflict::columns([connectors::Column::OrgId, connectors::Column::Kind])
            .update_columns(update)
            .to_owned(),
    )
    .exec_without_returning(&state.db)
    .await?;
    let row = scoped::<connectors::Entity>(org)
        .filter(connectors::Column::Kind.eq(input.kind.as_str()))
        .one(&state.db)
        .await?
        .ok_or_else(|| AppError::not_found("connector"))?;
    Ok(Json(view(row)))
}

/// Remove a connector.
#[utoipa::path(delete, path = "/api/v1/orders/connectors", tag = "orders", params(KindQuery),
    security(("bearer" = []), ("api_key" = [])),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn delete_connector(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<KindQuery>,
) -> AppResult<axum::http::StatusCode> {
    caller.require(Permission::ManageJobs)?;
    let n = connectors::Entity::delete_many()
        .filter(connectors::Column::OrgId.eq(caller.org_id.0))
        .filter(connectors::Column::Kind.eq(q.kind.as_str()))
        .exec(&state.db)
        .await?
        .rows_affected;
    if n == 0 {
        return Err(AppError::not_found("connector"));
    }
    Ok(axum::http::StatusCode::NO_CONTENT)
}

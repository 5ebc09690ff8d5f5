//! Per-organization recommendation settings: the score weights (default 0.6 / 0.25 /
//! 0.15). Weights that are out of [0, 1] or do not sum to 1 are refused with 422
//! `inconsistent_weights`.

use comptoir_kernel::auth::{Caller, Permission};
use comptoir_kernel::ids::OrgId;
use comptoir_kernel::{AppError, AppResult, ErrorCode};
use sea_orm::sea_query::OnConflict;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};
use serde_json::json;

use super::score::Weights;
use crate::entities::settings;
use crate::reviews::service::now;

/// The organization's weights (the defaults until it sets its own).
pub async fn weights(db: &impl ConnectionTrait, org: OrgId) -> AppResult<Weights> {
    let row = settings::Entity::find_by_id(org.0)
        .filter(settings::Column::OrgId.eq(org.0))
        .one(db)
        .await?;
    Ok(row
        .and_then(|r| serde_json::from_value::<Weights>(r.weights).ok())
        .filter(|w| w.check().is_ok())
        .unwrap_or_default())
}

/// The 422 answered for weights that [`Weights::check`] refuses.
pub fn inconsistent(w: &Weights, field: String, reason: String) -> AppError {
    AppError::new(ErrorCode::InconsistentWeights, format!("{field}: {reason}")).with_details(
        json!({
            "fields": [{"field": field, "reason": reason}],
            "sum": w.sum(),
        }),
    )
}

/// Sets the organization's weights (`Permission::Write`).
pub async fn set_weights(
    db: &impl ConnectionTrait,
    caller: &Caller,
    w: Weights,
) -> AppResult<Weights> {
    caller.require(Permission::Write)?;
    w.check()
        .map_err(|(field, reason)| inconsistent(&w, field, reason))?;
    let row = settings::ActiveModel {
        id: Set(caller.org_id.0),
        org_id: Set(caller.org_id.0),
        weights: Set(json!(w)),
        updated_at: Set(now()),
    };
    settings::Entity::insert(row)
        .on_conflict(
            OnConflict::column(settings::Column::Id)
                .update_columns([settings::Column::Weights, settings::Column::UpdatedAt])
                .to_owned(),
        )
        .exec(db)
        .await?;
    Ok(w)
}

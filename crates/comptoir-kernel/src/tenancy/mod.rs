//! Organizations, users and memberships, and the one helper through which every tenant
//! query is scoped: start from [`scoped`] (or [`find_in_org`]) and the `org_id` filter is
//! already there.

pub mod api;
pub mod service;

use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Select};
use uuid::Uuid;

use crate::error::{AppError, AppResult};
use crate::ids::OrgId;

/// An entity whose rows belong to one organization.
pub trait TenantScoped: EntityTrait {
    fn org_column() -> Self::Column;
    fn id_column() -> Self::Column;
}

/// Implements [`TenantScoped`] for an entity: `tenant_scoped!(Entity, Column::OrgId, Column::Id);`
#[macro_export]
macro_rules! tenant_scoped {
    ($entity:ty, $org:expr, $id:expr) => {
        impl $crate::tenancy::TenantScoped for $entity {
            fn org_column() -> Self::Column {
                $org
            }
            fn id_column() -> Self::Column {
                $id
            }
        }
    };
}

/// `SELECT ... WHERE org_id = ?`: the start of every tenant query.
pub fn scoped<E: TenantScoped>(org: OrgId) -> Select<E> {
    E::find().filter(E::org_column().eq(org.0))
}

/// One row of the caller's organization by id; 404 when absent *or in another org*, so a
/// caller cannot even learn that another tenant's id exists.
pub async fn find_in_org<E: TenantScoped>(
    db: &impl ConnectionTrait,
    org: OrgId,
    id: Uuid,
) -> AppResult<E::Model> {
    scoped::<E>(org)
        .filter(E::id_column().eq(id))
        .one(db)
        .await?
        .ok_or_else(|| {
            AppError::not_found(&singular(sea_orm::EntityName::table_name(&E::default())))
        })
}

fn singular(table: &str) -> String {
    table.strip_suffix('s').unwrap_or(table).replace('_', " ")
}

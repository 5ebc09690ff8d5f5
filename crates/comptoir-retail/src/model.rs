//! Retail types: typed ids, the API views, money conversion (shared with the catalog).

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

pub use comptoir_catalog::model::{from_e4, parse_decimal, to_e4};

comptoir_kernel::typed_id!(
    /// A region: a group of stores a regional manager sees.
    RegionId
);
comptoir_kernel::typed_id!(
    /// A store: the catalog location (kind `store`) of the same id.
    StoreId
);
comptoir_kernel::typed_id!(
    /// A sales import.
    SalesImportId
);

/// A region to create or rename.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegionInput {
    pub code: String,
    pub name: String,
}

/// A region.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Region {
    pub id: RegionId,
    pub code: String,
    pub name: String,
    pub created_at: DateTime<Utc>,
}

/// A store to declare: either an existing catalog location of kind `store`
/// (`location_id`), or a new one (`code` and `name`).
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StoreInput {
    pub region_id: RegionId,
    pub location_id: Option<Uuid>,
    pub code: Option<String>,
    pub name: Option<String>,
}

/// A change of region.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StorePatch {
    pub region_id: RegionId,
}

/// A store with its region.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Store {
    pub id: StoreId,
    pub code: String,
    pub name: String,
    pub region_id: RegionId,
    pub region_code: String,
    pub created_at: DateTime<Utc>,
}

/// A revenue target (excl. VAT) of a store for one month, or a whole year (`month` absent).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Target {
    pub year: i32,
    /// 1 to 12; absent for a yearly target.
    pub month: Option<u32>,
    #[schema(value_type = String, example = "125000.00")]
    pub revenue: Decimal,
}

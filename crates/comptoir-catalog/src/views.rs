//! Request and response shapes of the catalog API (JSON, with their OpenAPI schemas).

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::model::*;

/// A category to create or replace.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CategoryInput {
    /// Unique in the organization; CSV imports refer to categories by code.
    pub code: String,
    pub name: String,
    /// None for a root category.
    pub parent_id: Option<CategoryId>,
}

/// A node of the category tree.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Category {
    pub id: CategoryId,
    pub code: String,
    pub name: String,
    pub parent_id: Option<CategoryId>,
    pub created_at: DateTime<Utc>,
}

/// A brand to create or rename.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BrandInput {
    pub name: String,
}

/// A brand.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Brand {
    pub id: BrandId,
    pub name: String,
    pub created_at: DateTime<Utc>,
}

/// One attribute of a product type.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AttributeDef {
    /// Letters, digits and `_` (e.g. `storage_gb`).
    pub name: String,
    #[serde(rename = "type")]
    pub kind: AttrType,
    #[serde(default)]
    pub required: bool,
}

/// A product type to create or replace.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProductTypeInput {
    pub code: String,
    pub name: String,
    #[serde(default)]
    pub attributes: Vec<AttributeDef>,
}

/// A product type: which attributes its products carry.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ProductType {
    pub id: ProductTypeId,
    pub code: String,
    pub name: String,
    pub attributes: Vec<AttributeDef>,
    pub created_at: DateTime<Utc>,
}

/// A location to create or replace.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LocationInput {
    pub code: String,
    pub name: String,
    pub kind: LocationKind,
    pub region: Option<String>,
    pub address: Option<String>,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
}

/// A warehouse or a store.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Location {
    pub id: LocationId,
    pub code: String,
    pub name: String,
    pub kind: LocationKind,
    pub region: Option<String>,
    pub address: Option<String>,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    pub created_at: DateTime<Utc>,
}

/// A product to create or replace (PUT replaces every field).
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProductInput {
    pub sku: String,
    pub name: String,
    pub description: Option<String>,
    pub brand_id: Option<BrandId>,
    pub category_id: Option<CategoryId>,
    pub product_type_id: Option<ProductTypeId>,
    /// Values for the product type's attributes.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub attributes: Map<String, Value>,
    pub purchase_price: Option<Amount>,
    pub sale_price: Amount,
    /// Default EUR.
    pub currency: Option<String>,
    /// Percent; default 20.
    pub vat_rate: Option<Amount>,
    /// Default `available`.
    pub availability: Option<Availability>,
    #[serde(default)]
    pub images: Vec<String>,
    /// Default `draft`.
    pub status: Option<ProductStatus>,
}

/// A product.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Product {
    pub id: ProductId,
    pub sku: String,
    pub name: String,
    pub description: Option<String>,
    pub brand_id: Option<BrandId>,
    pub category_id: Option<CategoryId>,
    pub product_type_id: Option<ProductTypeId>,
    #[schema(value_type = Object)]
    pub attributes: Value,
    #[schema(value_type = Option<String>)]
    pub purchase_price: Option<Decimal>,
    #[schema(value_type = String)]
    pub sale_price: Decimal,
    pub currency: String,
    #[schema(value_type = String)]
    pub vat_rate: Decimal,
    pub availability: Availability,
    pub images: Vec<String>,
    pub status: ProductStatus,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Filters of the product list (and of the CSV export).
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ProductFilter {
    /// Text in the SKU or the name (case-insensitive).
    pub q: Option<String>,
    /// This category and everything below it.
    pub category_id: Option<CategoryId>,
    pub brand_id: Option<BrandId>,
    pub product_type_id: Option<ProductTypeId>,
    pub status: Option<ProductStatus>,
    /// Lowest sale price (inclusive), e.g. `10` or `9,99`.
    pub min_price: Option<String>,
    /// Highest sale price (inclusive).
    pub max_price: Option<String>,
    /// Only products with available stock (true) or without (false).
    pub in_stock: Option<bool>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// 1 to 200, default 50.
    pub limit: Option<u64>,
}

/// One page of products, newest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProductPage {
    pub items: Vec<Product>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

/// Stock of one product at one location.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct StockLevel {
    pub product_id: ProductId,
    pub location_id: LocationId,
    pub on_hand: i64,
    pub reserved: i64,
    /// `on_hand - reserved`.
    pub available: i64,
    pub low_stock_threshold: Option<i64>,
    pub updated_at: DateTime<Utc>,
}

/// Filters of the stock levels.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct StockFilter {
    pub product_id: Option<ProductId>,
    pub location_id: Option<LocationId>,
    /// Only levels at or below their low-stock threshold.
    pub low: Option<bool>,
    /// 1 to 1000, default 200.
    pub limit: Option<u64>,
}

/// One line of the stock ledger.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Movement {
    pub id: MovementId,
    pub product_id: ProductId,
    pub location_id: LocationId,
    pub kind: MovementKind,
    pub quantity: i64,
    pub on_hand_delta: i64,
    pub reserved_delta: i64,
    pub reason: Option<String>,
    pub actor_user_id: Option<Uuid>,
    pub reference: Option<String>,
    pub created_at: DateTime<Utc>,
}

/// Filters of the ledger (newest first).
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct MovementFilter {
    pub product_id: Option<ProductId>,
    pub location_id: Option<LocationId>,
    /// 1 to 1000, default 200.
    pub limit: Option<u64>,
}

/// A manual stock change.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AdjustmentInput {
    pub product_id: ProductId,
    pub location_id: LocationId,
    /// `receipt` (+quantity), `adjustment` (±quantity) or `count` (on hand becomes quantity).
    pub kind: MovementKind,
    pub quantity: i64,
    pub reason: Option<String>,
    pub reference: Option<String>,
    /// Sets the low-stock threshold of this product at this location (null: unchanged).
    pub low_stock_threshold: Option<i64>,
}

/// The stock after an adjustment and the movement recorded (none for a no-op count).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AdjustmentResult {
    pub stock: StockLevel,
    pub movement: Option<Movement>,
}

/// One line to reserve.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReserveLine {
    pub product_id: ProductId,
    pub location_id: LocationId,
    pub quantity: i64,
}

/// Stock held for an order until it ships (commit) or is cancelled (release).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Reservation {
    pub id: ReservationId,
    pub status: ReservationStatus,
    pub lines: Vec<ReserveLine>,
    pub reference: Option<String>,
    pub created_at: DateTime<Utc>,
}

/// A catalog event (e.g. stock fell to its low-stock threshold).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CatalogEvent {
    pub id: Uuid,
    pub kind: String,
    pub product_id: Option<ProductId>,
    pub location_id: Option<LocationId>,
    #[schema(value_type = Object)]
    pub payload: Value,
    pub created_at: DateTime<Utc>,
}

/// Options of a CSV import (query parameters of `POST /api/v1/catalog/imports`).
#[derive(Debug, Clone, Default, Serialize, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ImportOptions {
    /// `products` (default) or `stock`.
    pub kind: Option<ImportKind>,
    /// Update products whose SKU exists (in the catalog or earlier in the file) instead of
    /// rejecting the row. Default false.
    pub upsert: Option<bool>,
    /// Create unknown categories (code = name = the value) instead of rejecting the row.
    /// Default false.
    pub create_categories: Option<bool>,
    /// Header mapping `Their header:our_column,...` (e.g. `Ref:sku,Libellé:name`).
    pub map: Option<String>,
}

/// One rejected row of an import.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RejectedRow {
    /// Line in the file (the header is line 1).
    pub line: i64,
    pub column: Option<String>,
    pub reason: String,
}

/// An import: status, counts, progress, and its first rejected rows.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Import {
    pub id: ImportId,
    pub kind: ImportKind,
    pub status: ImportStatus,
    #[schema(value_type = Object)]
    pub options: Value,
    pub total_rows: i64,
    pub processed_rows: i64,
    pub accepted_rows: i64,
    pub rejected_rows: i64,
    /// Why the whole import failed (bad header, not CSV), if it did.
    pub error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    /// The first 1,000 rejected rows; `report.csv` has them all.
    pub rejected: Vec<RejectedRow>,
}

//! SeaORM entities of the catalog tables. Every table carries `org_id` and implements
//! [`comptoir_kernel::tenancy::TenantScoped`], so queries start from `scoped::<E>(org)`.
//!
//! Money and rates are stored as integers in ten-thousandths (`*_e4`): exact on both
//! engines (SeaORM reads SQLite decimals through `f64`) and still comparable in SQL for
//! price-range filters. The API speaks `rust_decimal::Decimal`; `model::e4` converts.

pub mod brands;
pub mod categories;
pub mod events;
pub mod import_rows;
pub mod imports;
pub mod locations;
pub mod movements;
pub mod product_types;
pub mod products;
pub mod reservations;
pub mod stock;

//! SeaORM entities of the retail tables. Transactional tables carry `org_id` and implement
//! [`comptoir_kernel::tenancy::TenantScoped`]; the rollups (`daily`, `store_daily`,
//! `monthly`) are keyed by `org_id` first and read only through [`crate::dashboard`].
//!
//! `monthly.month` is the first day of the month; `monthly.category_id` is the nil UUID
//! for products without a category.

pub mod customers;
pub mod daily;
pub mod import_rows;
pub mod imports;
pub mod mappings;
pub mod monthly;
pub mod regions;
pub mod report_deliveries;
pub mod report_files;
pub mod report_schedules;
pub mod reports;
pub mod sale_lines;
pub mod sales;
pub mod scenario_versions;
pub mod scenarios;
pub mod store_daily;
pub mod stores;
pub mod targets;

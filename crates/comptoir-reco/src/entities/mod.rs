//! SeaORM entities of the slice's tables. Every table carries `org_id` and implements
//! [`comptoir_kernel::tenancy::TenantScoped`], so queries start from `scoped::<E>(org)`.

pub mod embeddings;
pub mod product_stats;
pub mod review_imports;
pub mod reviews;
pub mod settings;

//! SeaORM entities of the platform tables. Tenant tables carry `org_id` and implement
//! [`crate::tenancy::TenantScoped`].

pub mod alerts;
pub mod api_keys;
pub mod audit_log;
pub mod job_selftest_effects;
pub mod job_selftest_runs;
pub mod jobs;
pub mod memberships;
pub mod orgs;
pub mod refresh_tokens;
pub mod sessions;
pub mod users;

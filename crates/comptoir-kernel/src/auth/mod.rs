//! Authentication and authorization: passwords, tokens, API keys, web sessions, roles, and
//! the [`Caller`] extractor.

pub mod api;
pub mod api_keys;
pub mod caller;
pub mod role;
pub mod service;
pub mod sessions;
pub mod tokens;

pub use caller::{AuthVia, Caller};
pub use role::{Permission, Role, Scope};

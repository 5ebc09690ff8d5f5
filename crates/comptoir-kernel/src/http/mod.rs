//! HTTP plumbing shared by every slice: request ids, extractors that turn bad input into
//! `AppError`s, and client-address detection.

pub mod extract;
pub mod ratelimit;
pub mod request_id;

pub use extract::{ApiJson, ApiPath, ApiQuery, ClientIp};

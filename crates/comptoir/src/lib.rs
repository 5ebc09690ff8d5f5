//! The Comptoir binary's library: wiring of the slices ([`app`]) and the command line
//! ([`cli`]).

pub mod app;
pub mod cli;
pub mod models;

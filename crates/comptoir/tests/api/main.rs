//! The integration suite: the real app over HTTP, on SQLite by default and on PostgreSQL
//! when `COMPTOIR_TEST_DATABASE_URL` is set.

#![allow(clippy::unwrap_used)] // tests fail loudly by design

mod helpers;

mod api_keys;
mod auth;
mod bad_input;
mod cache;
mod catalog;
mod catalog_demo;
mod catalog_import;
mod catalog_stock;
mod catalog_ui;
mod cli;
mod couriers;
mod health;
mod isolation;
mod jobs;
mod members;
mod metrics;
mod models;
mod openapi;
mod operations;
mod orders;
mod orders_connectors;
mod orders_durability;
mod queue_processes;
mod rate_limits;
mod reco_quality;
mod recommendations;
mod retail;
mod retail_m5;
mod retail_reports;
mod retail_scenarios;
mod retail_ui;
mod reviews;
mod ui;

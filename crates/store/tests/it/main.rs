//! The store's story suite: every test runs unchanged against SQLite and PostgreSQL.
//!
//! PostgreSQL is reached at `KETAFLOW_TEST_POSTGRES_URL` (default
//! `postgres://postgres@127.0.0.1:5432/test`); each test gets a database of its own, dropped at
//! the end. SQLite tests use a file in a temporary directory.

#![allow(clippy::unwrap_used)]

mod support;

mod arrival;
mod assessments;
mod audit_chain;
mod auth;
mod demo;
mod directory;
mod hardening;
mod inquiries;
mod ledger;
mod patients;
mod schema;

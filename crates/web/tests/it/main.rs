//! Black-box tests of the web server: the real router served on port 0 over a fresh database,
//! driven over HTTP. Suites marked with `on_both!` run against SQLite and PostgreSQL.

#![allow(clippy::unwrap_used)]

mod support;

mod api;
mod authz;
mod clinic_fit;
mod hardening;
mod inquiry;
mod ledger;
mod measure;
mod pages;
mod pk;
mod scheduling;
mod screening;
mod sessions;
mod trust;

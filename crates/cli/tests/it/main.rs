//! Tests of the `ketaflow` binary as a person runs it, and the workspace's tidiness rules.

#![allow(clippy::unwrap_used)]

mod commands;
mod crash;
mod tidy;

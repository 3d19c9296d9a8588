//! Pharmacokinetics of ketamine and esketamine.
//!
//! This crate will hold the published compartment models, routes of administration, regimens,
//! closed-form simulation and dose arithmetic (see `shared/DESIGN.md`).
//! It is pure: no IO, no async, no clock, no serialisation framework.
//! The foundation only reserves its place in the dependency graph; the engine itself arrives
//! with the pharmacokinetics issue.

#![deny(missing_docs)]

//! The engine against pharmsol, the Rust PK library, for the structures pharmsol solves
//! analytically (two- and three-compartment IV models): agreement within 1e-6 relative.

#![allow(clippy::unwrap_used)]

mod pharmsol_reference;

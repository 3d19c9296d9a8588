//! Pharmacokinetics of ketamine and esketamine.
//!
//! Published compartment models set up for one patient ([`models::ModelId::build`]), simulated
//! exactly for any regimen of IV boluses and infusions ([`simulate::simulate`]), with summary
//! metrics ([`simulate::summarize`]) and the chair-side arithmetic of doses ([`dose`]).
//! Every parameter carries its source in a doc comment, and every model says how far its
//! values were checked ([`model::ModelInfo`]).
//!
//! The crate is pure: no IO, no async, no clock, no serialisation framework.
//!
//! ```
//! use pk::model::Patient;
//! use pk::models::{ModelId, ModelOptions};
//! use pk::simulate::{Dose, simulate};
//! use pk::units::{Kg, Mg, Minutes};
//!
//! let patient = Patient { weight: Kg::new(70.0)?, age_years: None, sex: None };
//! let model = ModelId::Domino.build(&patient, ModelOptions::default());
//! let dose = Dose::infusion(Minutes::new("start", 0.0)?, Mg::new("amount", 35.0)?, Minutes::new("duration", 40.0)?)?;
//! let curve = simulate(&model, &[dose], &[Minutes::new("t", 40.0)?])?;
//! assert!(curve.plasma[0] > 0.1 && curve.plasma[0] < 0.3);
//! # Ok::<(), pk::PkError>(())
//! ```

#![deny(missing_docs)]

pub mod absorption;
pub mod dose;
mod error;
pub mod limits;
mod matrix;
pub mod model;
pub mod models;
pub mod population;
pub mod regimen;
pub mod simulate;
mod spectral;
pub mod units;

#[cfg(test)]
mod tests;

pub use error::PkError;

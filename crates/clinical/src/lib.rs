//! The clinical domain of Ketaflow.
//!
//! Everything here is a value that is valid by construction: a [`patient::NewPatient`] cannot
//! hold a blank name or a birth date in the future.
//! The crate is pure: it reads no clock (today's date is a parameter), does no IO and knows
//! nothing of databases, HTTP or serialisation.
//!
//! Where to start:
//! - [`patient`] for the demographic record every other part hangs on.
//! - [`instruments`] for rating scales: definitions, scoring, response and remission, schedules.
//! - [`medications`] and [`screening`] for the contraindication screening before a first
//!   session.
//! - [`safety`] for the follow-up a safety alert needs before it is closed.
//! - [`session`] for the treatment session: its steps, vital-sign alerts, discharge and REMS form.
//! - [`ledger`] for the controlled-substance ledger: containers, entry kinds, balances, witnesses.
//! - [`text`] for what every free-text field refuses (length, control characters, invisible marks).

#![deny(missing_docs)]

pub mod booking;
pub mod consent;
pub mod course;
pub mod diagnoses;
pub mod inquiry;
pub mod instruments;
pub mod ledger;
pub mod medications;
pub mod patient;
pub mod safety;
pub mod screening;
pub mod session;
pub mod text;

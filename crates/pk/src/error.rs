//! The crate's error: every message names the field and what is accepted.

/// Why a pharmacokinetic input was refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PkError {
    /// NaN or infinite.
    #[error("{field} must be a finite number")]
    NotFinite {
        /// The input.
        field: &'static str,
    },
    /// Below zero.
    #[error("{field} is {value}; it cannot be negative")]
    Negative {
        /// The input.
        field: &'static str,
        /// Its value.
        value: f64,
    },
    /// Outside its accepted range.
    #[error("{field} is {value}; accepted {min} to {max}")]
    OutOfRange {
        /// The input.
        field: &'static str,
        /// Its value.
        value: f64,
        /// Lowest accepted.
        min: f64,
        /// Highest accepted.
        max: f64,
    },
    /// Times must not go backwards.
    #[error("times_min must be ascending; entry {index} is earlier than the one before it")]
    TimesNotAscending {
        /// Position of the first offending time (from 0).
        index: usize,
    },
    /// Unknown model.
    #[error(
        "model '{input}' is unknown; use one of domino, clements250, kamp2020, perez_ruixo2021, simons2022"
    )]
    UnknownModel {
        /// What was given.
        input: String,
    },
    /// Unknown route.
    #[error(
        "route '{input}' is unknown; use one of iv_bolus, iv_infusion, intramuscular, intranasal, oral, sublingual"
    )]
    UnknownRoute {
        /// What was given.
        input: String,
    },
    /// The model has no parameters for this route.
    #[error("model {model} does not describe the {route} route; models that do: {models}")]
    RouteNotDescribed {
        /// Model id.
        model: &'static str,
        /// Route code.
        route: &'static str,
        /// Models that describe it.
        models: String,
    },
    /// A dose above the cap.
    #[error(
        "dose {mg_per_kg} mg/kg is above the cap of {cap} mg/kg; a prescriber must change the cap to give it"
    )]
    OverCap {
        /// The dose asked for.
        mg_per_kg: f64,
        /// The cap.
        cap: f64,
    },
    /// Population simulation asked of a model without published variability.
    #[error(
        "model {model} has no published inter-individual variability; population simulation needs a model that has: perez_ruixo2021"
    )]
    NoPublishedVariability {
        /// Model id.
        model: &'static str,
    },
    /// An esketamine dose that is not whole 28 mg devices.
    #[error("esketamine dose {dose_mg} mg is not 28, 56 or 84 mg (whole 28 mg devices, at most 3)")]
    NotWholeDevices {
        /// The dose asked for.
        dose_mg: f64,
    },
    /// More of something than one simulation may hold (see [`crate::limits`]).
    #[error("{what}: {count} asked for; at most {max} in one simulation{hint}")]
    TooMany {
        /// The input, as a field path.
        field: &'static str,
        /// What is counted.
        what: &'static str,
        /// How many were asked for.
        count: usize,
        /// The most accepted.
        max: usize,
        /// How to stay within it.
        hint: &'static str,
    },
    /// The caller stopped the simulation (deadline or departure).
    #[error("the simulation was stopped before it finished")]
    Stopped,
    /// A dose setting the model's own absorption equations fix.
    #[error("{field} cannot be set for model {model}: {reason}")]
    FixedByModel {
        /// The setting.
        field: &'static str,
        /// Model id.
        model: &'static str,
        /// Why it is fixed.
        reason: &'static str,
    },
}

impl PkError {
    /// The input field this error is about.
    pub fn field(&self) -> &'static str {
        match self {
            PkError::NotFinite { field }
            | PkError::Negative { field, .. }
            | PkError::OutOfRange { field, .. }
            | PkError::FixedByModel { field, .. }
            | PkError::TooMany { field, .. } => field,
            PkError::Stopped => "",
            PkError::TimesNotAscending { .. } => "times_min",
            PkError::UnknownModel { .. } => "model",
            PkError::UnknownRoute { .. } | PkError::RouteNotDescribed { .. } => "route",
            PkError::OverCap { .. } => "mg_per_kg",
            PkError::NotWholeDevices { .. } => "dose_mg",
            PkError::NoPublishedVariability { .. } => "population",
        }
    }
}

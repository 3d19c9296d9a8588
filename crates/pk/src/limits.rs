//! Bounds on one simulation, so that no input can make the engine compute or hold without end,
//! and a way for the caller to stop a simulation that has run long enough.
//!
//! The costs they bound: each distinct absorption depot adds a state, and the matrix work of a
//! step grows with the cube of the states; every dose adds events; every reported time and
//! every virtual patient adds a value to compute and to hold until its percentile is taken.

use std::sync::atomic::{AtomicBool, Ordering};

/// The most doses one scenario may give (a fortnight of doses three times a day is 42).
pub const MAX_DOSES: usize = 100;

/// The most distinct absorption depots (route and time to peak) one scenario may need; each is a
/// state of the model. A regimen mixing every extravascular route with its published Tmax needs 4.
pub const MAX_ABSORPTION_DEPOTS: usize = 4;

/// The most times one scenario may report (a fortnight at one-minute resolution is 20,160).
pub const MAX_TIMES: usize = 20_000;

/// The most values a population simulation holds at once: virtual patients × reported times
/// (40 MB of `f64`): for example 100,000 patients at 50 times, or 2,500 at 2,000.
pub const MAX_POPULATION_VALUES: usize = 5_000_000;

/// A signal a caller raises to stop a simulation early (its deadline passed, its client left).
/// The engine checks it between chunks of work and answers [`crate::PkError::Stopped`].
pub trait Stop: Sync {
    /// Whether to stop now.
    fn stopped(&self) -> bool;
}

/// Never stops.
#[derive(Debug, Clone, Copy, Default)]
pub struct NeverStop;

impl Stop for NeverStop {
    fn stopped(&self) -> bool {
        false
    }
}

impl Stop for AtomicBool {
    fn stopped(&self) -> bool {
        self.load(Ordering::Relaxed)
    }
}

/// Refuses a regimen with more doses than [`MAX_DOSES`] or more distinct absorption depots
/// than [`MAX_ABSORPTION_DEPOTS`].
pub fn check_doses(doses: &[crate::simulate::Dose]) -> Result<(), crate::PkError> {
    if doses.len() > MAX_DOSES {
        return Err(crate::PkError::TooMany {
            field: "doses",
            what: "doses",
            count: doses.len(),
            max: MAX_DOSES,
            hint: "; simulate a shorter stretch of the regimen",
        });
    }
    let depots = crate::model::distinct_depots(doses);
    if depots > MAX_ABSORPTION_DEPOTS {
        return Err(crate::PkError::TooMany {
            field: "doses",
            what: "distinct absorption depots (route and time to peak)",
            count: depots,
            max: MAX_ABSORPTION_DEPOTS,
            hint: "; give doses of one route the same absorption_tmax_min",
        });
    }
    Ok(())
}

/// Refuses more reported times than [`MAX_TIMES`].
pub fn check_times_count(count: usize) -> Result<(), crate::PkError> {
    if count > MAX_TIMES {
        return Err(crate::PkError::TooMany {
            field: "times_min",
            what: "reported times",
            count,
            max: MAX_TIMES,
            hint: "; report fewer times",
        });
    }
    Ok(())
}

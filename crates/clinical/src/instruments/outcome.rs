//! Response, remission and minimal important change, judged against a baseline.

use super::{Instrument, Remission};

/// A rule about change from baseline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeRule {
    /// The total fell by at least this percentage of the baseline.
    PercentReduction(u8),
    /// The total fell by at least this many points.
    Points(i32),
}

impl ChangeRule {
    /// Whether the change from `baseline` to `current` meets the rule (for instruments where a
    /// lower total is better).
    pub fn met(self, baseline: i32, current: i32) -> bool {
        let fall = baseline - current;
        match self {
            // A zero baseline cannot fall by a share of itself.
            ChangeRule::PercentReduction(p) => {
                baseline > 0 && fall * 100 >= i32::from(p) * baseline
            }
            ChangeRule::Points(n) => fall >= n,
        }
    }

    /// The highest total that meets the rule from `baseline`: the line a chart draws.
    pub fn threshold(self, baseline: i32) -> f64 {
        match self {
            ChangeRule::PercentReduction(p) => f64::from(baseline) * (1.0 - f64::from(p) / 100.0),
            ChangeRule::Points(n) => f64::from(baseline) - f64::from(n),
        }
    }

    /// Words for people, such as "a fall of 50 % or more from baseline".
    pub fn describe(self) -> String {
        match self {
            ChangeRule::PercentReduction(p) => format!("a fall of {p} % or more from baseline"),
            ChangeRule::Points(n) => format!("a fall of {n} points or more from baseline"),
        }
    }
}

/// Where a patient stands against their baseline on one instrument.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Outcome {
    /// Baseline total.
    pub baseline: i32,
    /// Current total.
    pub current: i32,
    /// Current minus baseline (negative is improvement on most instruments).
    pub change: i32,
    /// Change as a percentage of baseline; `None` when the baseline is 0.
    pub percent_change: Option<f64>,
    /// Response by the instrument's rule; `None` where no rule is published.
    pub response: Option<bool>,
    /// Remission by the instrument's rule; `None` where no rule is published.
    pub remission: Option<bool>,
    /// Whether the change reaches the minimal important change; `None` where none is published.
    pub minimal_important_change: Option<bool>,
}

/// Compares `current` with `baseline` by the instrument's published rules.
pub fn outcome(instrument: &Instrument, baseline: i32, current: i32) -> Outcome {
    let change = current - baseline;
    Outcome {
        baseline,
        current,
        change,
        percent_change: (baseline != 0).then(|| f64::from(change) * 100.0 / f64::from(baseline)),
        response: instrument.response.map(|r| r.met(baseline, current)),
        remission: instrument
            .remission
            .map(|Remission { at_most }| current <= at_most),
        minimal_important_change: instrument
            .minimal_important_change
            .map(|r| r.met(baseline, current)),
    }
}

/// The baseline among one instrument's assessments, oldest first: the latest re-baseline (a
/// baseline recorded again by a clinician, with a reason), else the first taken at the baseline
/// time point, else the first of all (a course entered without one still has a reference to
/// judge change against).
pub fn choose_baseline<T>(
    assessments: &[T],
    time_point: impl Fn(&T) -> super::schedule::TimePoint,
    is_rebaseline: impl Fn(&T) -> bool,
) -> Option<&T> {
    let baseline = |a: &&T| time_point(a) == super::schedule::TimePoint::Baseline;
    assessments
        .iter()
        .rev()
        .find(|a| baseline(a) && is_rebaseline(a))
        .or_else(|| assessments.iter().find(baseline))
        .or_else(|| assessments.first())
}

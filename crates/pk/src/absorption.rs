//! First-order absorption of racemic ketamine given into a muscle, by mouth, under the tongue or
//! into the nose, for the IV disposition models (Domino, Clements, Kamp).
//!
//! The literature gives bioavailability (F) and time to peak (Tmax) for these routes but no
//! absorption rate constant. Ketaflow derives `ka` so that the chosen disposition model, given
//! the dose into a first-order depot, peaks at the published Tmax: a derived value, labelled as
//! such, not a published one. Where sources disagree on F, the higher published value is the
//! default (it predicts more exposure, the conservative error for a dose planner) and the
//! scenario may set another. Where sources disagree on Tmax, the earlier published value is the
//! default (faster absorption, a higher predicted peak: again the conservative error) and the
//! scenario may set another time to peak (`absorption_tmax_min`).

use crate::PkError;
use crate::model::{Built, Route};
use crate::simulate::{Input, simulate_inputs};
use crate::units::Minutes;

/// Published absorption facts for one route of racemic ketamine in adults.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RouteFacts {
    /// The route.
    pub route: Route,
    /// Default bioavailability (the higher published value where sources differ).
    pub f_default: f64,
    /// Time to peak plasma concentration, min.
    pub tmax_min: f64,
    /// Sources and the other published values.
    pub source: &'static str,
}

/// Intramuscular racemic ketamine in adults. F: 0.93 (Clements, Nimmo & Grant 1982, J Pharm Sci
/// 71:539, adult volunteers; the dossier holds it from secondary citations, level B; the default)
/// against 0.41 estimated in 113 children by Hornik et al. 2018 (J Clin Pharmacol 58:1092), a
/// population this default does not describe. Tmax: median 15 min after 1.0 mg/kg and 30 min
/// after 0.5 mg/kg in 20 trauma patients (Anaesthesist 1984;33:272-5, PMID 6476334, abstract);
/// the earlier is the default. The often-quoted "5–15 minutes" comes from secondary material only
/// (dossier level C) and is not used.
///
/// Against that study's medians, for a 70 kg patient with these defaults: after 0.5 mg/kg the
/// predicted concentration at 30 min is 141 (kamp2020), 145 (clements250) and 93 ng/mL (domino),
/// against 147 observed; after 1.0 mg/kg the predicted peaks are 309, 351 and 198 ng/mL, against
/// 474 observed, which is more than twice the 0.5 mg/kg figure (the study's doses did not scale
/// linearly; 10 trauma patients per dose). Expect the models to under-predict high IM doses.
pub const INTRAMUSCULAR: RouteFacts = RouteFacts {
    route: Route::Intramuscular,
    f_default: 0.93,
    tmax_min: 15.0,
    source: "F 0.93 (Clements 1982; 0.41 in children, Hornik 2018); Tmax 15 min after 1.0 mg/kg (30 min after 0.5 mg/kg; Anaesthesist 1984;33:272)",
};

/// Intranasal racemic ketamine. F: 0.45 (Yanagihara et al. 2003, Biopharm Drug Dispos 24:37,
/// n = 3; the default) and 0.11–0.17 for 50–10 mg sprays in depression (Pharmacotherapy
/// 2022;42:298-310, Table 6, PMC9118341). Tmax: 16 min geometric mean after 50 mg (same Table 6;
/// 14 and 23 min after 30 and 10 mg).
pub const INTRANASAL: RouteFacts = RouteFacts {
    route: Route::Intranasal,
    f_default: 0.45,
    tmax_min: 16.0,
    source: "F 0.45 (Yanagihara 2003; 0.11-0.17 in Pharmacotherapy 2022 Table 6); Tmax 16 min (Pharmacotherapy 2022 Table 6, 50 mg)",
};

/// Oral racemic ketamine. F: 0.23 ± 0.09 in pain patients (Chong et al. 2006, Pain Med 7:469;
/// the default), about 0.20 (Yanagihara 2003). Tmax 0.96 h (Chong 2006).
pub const ORAL: RouteFacts = RouteFacts {
    route: Route::Oral,
    f_default: 0.23,
    tmax_min: 57.6,
    source: "F 0.23 (Chong 2006; about 0.20 in Yanagihara 2003); Tmax 0.96 h (Chong 2006)",
};

/// Sublingual racemic ketamine. F: 0.32 ± 0.17 (Chong 2006; the default), 0.29 for a 25 mg wafer
/// (Rolan et al. 2014, Br J Clin Pharmacol 77:1011, PMC4093926), about 0.30 (Yanagihara 2003).
/// Tmax 0.75 h (Rolan 2014; 0.76 h in Chong 2006).
pub const SUBLINGUAL: RouteFacts = RouteFacts {
    route: Route::Sublingual,
    f_default: 0.32,
    tmax_min: 45.0,
    source: "F 0.32 (Chong 2006; 0.29 Rolan 2014; about 0.30 Yanagihara 2003); Tmax 0.75 h (Rolan 2014)",
};

/// The facts for a route, where Ketaflow has them.
pub fn facts(route: Route) -> Option<RouteFacts> {
    match route {
        Route::Intramuscular => Some(INTRAMUSCULAR),
        Route::Intranasal => Some(INTRANASAL),
        Route::Oral => Some(ORAL),
        Route::Sublingual => Some(SUBLINGUAL),
        _ => None,
    }
}

/// Time of the plasma peak after a unit dose into a depot draining at `ka`, min.
fn tmax_for(model: &Built, depot: usize, ka: f64, horizon: f64) -> f64 {
    let mut with = model.clone();
    with.a.add_to(depot, depot, -ka);
    with.a.add_to(with.central, depot, ka);
    let step = horizon / 2000.0;
    let grid: Vec<Minutes> = (0..=2000)
        .filter_map(|i| Minutes::new("t", f64::from(i) * step).ok())
        .collect();
    let curve = simulate_inputs(&with, &[Input::bolus(depot, 0.0, 1.0)], &grid);
    let (mut best, mut at) = (f64::MIN, 0.0);
    for (t, c) in curve.times.iter().zip(&curve.plasma) {
        if *c > best {
            best = *c;
            at = *t;
        }
    }
    at
}

/// The absorption rate constant (1/min) at which `model` peaks at `tmax` after a depot dose,
/// found by bisection (Tmax falls as ka rises). `depot` must be a state with no flows yet.
pub(crate) fn ka_for_tmax(model: &Built, depot: usize, tmax: f64) -> Result<f64, PkError> {
    let horizon = tmax * 4.0;
    let (mut lo, mut hi) = (1e-4_f64, 10.0_f64);
    if tmax_for(model, depot, hi, horizon) > tmax {
        // Even near-instant absorption peaks later than the published Tmax: the disposition
        // model cannot match it.
        return Err(PkError::OutOfRange {
            field: "tmax_min",
            value: tmax,
            min: 0.0,
            max: tmax,
        });
    }
    for _ in 0..50 {
        let mid = (lo * hi).sqrt();
        if tmax_for(model, depot, mid, horizon) > tmax {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    Ok((lo * hi).sqrt())
}

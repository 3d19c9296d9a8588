//! Simulation: doses in, exact concentrations at any times out, with summary metrics.

use crate::PkError;
use crate::matrix::Step;
use crate::model::Built;
use crate::units::{Mg, Minutes};

/// One administration.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Dose {
    /// An IV bolus: the whole amount enters the central compartment at `start`.
    IvBolus {
        /// When.
        start: Minutes,
        /// How much.
        amount: Mg,
    },
    /// A zero-order IV infusion of `amount` over `duration` from `start`. Several infusions
    /// back to back make rate steps; a gap between them is a pause.
    IvInfusion {
        /// When it starts.
        start: Minutes,
        /// Total amount.
        amount: Mg,
        /// Duration, more than 0.
        duration: Minutes,
    },
}

impl Dose {
    /// An infusion; a zero duration is refused (give a bolus instead).
    pub fn infusion(start: Minutes, amount: Mg, duration: Minutes) -> Result<Dose, PkError> {
        if duration.get() <= 0.0 {
            return Err(PkError::OutOfRange {
                field: "duration_min",
                value: duration.get(),
                min: f64::MIN_POSITIVE,
                max: f64::MAX,
            });
        }
        Ok(Dose::IvInfusion {
            start,
            amount,
            duration,
        })
    }

    /// When the dose starts, min.
    pub fn start_min(&self) -> f64 {
        match self {
            Dose::IvBolus { start, .. } | Dose::IvInfusion { start, .. } => start.get(),
        }
    }

    /// When the dose has fully entered.
    pub fn end(&self) -> f64 {
        match self {
            Dose::IvBolus { start, .. } => start.get(),
            Dose::IvInfusion {
                start, duration, ..
            } => start.get() + duration.get(),
        }
    }

    /// Total amount.
    pub fn amount(&self) -> f64 {
        match self {
            Dose::IvBolus { amount, .. } | Dose::IvInfusion { amount, .. } => amount.get(),
        }
    }
}

/// Concentrations at the requested times.
#[derive(Debug, Clone, PartialEq)]
pub struct Curve {
    /// Times, min.
    pub times: Vec<f64>,
    /// Central (plasma) concentration, mg/L.
    pub plasma: Vec<f64>,
    /// Effect-site concentration, mg/L, where the model has an effect site.
    pub effect_site: Option<Vec<f64>>,
    /// Area under the plasma curve from 0 to each time, mg·min/L (exact, not trapezoidal).
    pub auc: Vec<f64>,
}

/// Checks that times are ascending (equal neighbours allowed).
pub fn check_times(times: &[Minutes]) -> Result<(), PkError> {
    for (i, pair) in times.windows(2).enumerate() {
        if pair[1].get() < pair[0].get() {
            return Err(PkError::TimesNotAscending { index: i + 1 });
        }
    }
    Ok(())
}

/// A cache of step matrices by step length; uniform grids need one.
struct Steps<'a> {
    model: &'a Built,
    cache: Vec<(u64, Step)>,
}

impl Steps<'_> {
    fn get(&mut self, h: f64) -> &Step {
        let key = h.to_bits();
        if let Some(i) = self.cache.iter().position(|(k, _)| *k == key) {
            return &self.cache[i].1;
        }
        if self.cache.len() > 64 {
            self.cache.clear();
        }
        self.cache.push((key, Step::new(&self.model.a, h)));
        &self.cache[self.cache.len() - 1].1
    }
}

/// The exact solution at `times` (ascending) for `doses`.
///
/// The state is propagated from one event (dose start or end, bolus, requested time) to the
/// next with `x ← Φ x + Ψ u`, which is exact for piecewise-constant inputs. At a bolus time the
/// reported value includes the bolus.
pub fn simulate(model: &Built, doses: &[Dose], times: &[Minutes]) -> Result<Curve, PkError> {
    check_times(times)?;
    let n = model.states();
    let mut events: Vec<f64> = times.iter().map(|t| t.get()).collect();
    for d in doses {
        events.push(d.start_min());
        events.push(d.end());
    }
    events.push(0.0);
    events.sort_by(f64::total_cmp);
    events.dedup();

    let mut steps = Steps {
        model,
        cache: Vec::new(),
    };
    let mut x = vec![0.0; n];
    let mut next = vec![0.0; n];
    let mut input = vec![0.0; n];
    let mut forced = vec![0.0; n];
    let mut at_event = Vec::with_capacity(events.len());
    let mut t = 0.0_f64;
    for &e in &events {
        if e > t {
            // Constant infusion rate over [t, e).
            input.iter_mut().for_each(|v| *v = 0.0);
            for d in doses {
                if let Dose::IvInfusion {
                    start,
                    amount,
                    duration,
                } = d
                    && start.get() <= t
                    && t < start.get() + duration.get()
                {
                    input[model.central] += amount.get() / duration.get();
                }
            }
            let step = steps.get(e - t);
            step.phi.apply(&x, &mut next);
            step.psi.apply(&input, &mut forced);
            for i in 0..n {
                x[i] = next[i] + forced[i];
            }
            t = e;
        }
        for d in doses {
            if let Dose::IvBolus { start, amount } = d
                && start.get() == e
            {
                x[model.central] += amount.get();
            }
        }
        at_event.push((e, x.clone()));
    }

    let mut curve = Curve {
        times: Vec::with_capacity(times.len()),
        plasma: Vec::with_capacity(times.len()),
        effect_site: model.effect.map(|_| Vec::with_capacity(times.len())),
        auc: Vec::with_capacity(times.len()),
    };
    let mut k = 0;
    for t in times {
        while at_event[k].0 < t.get() {
            k += 1;
        }
        let state = &at_event[k].1;
        curve.times.push(t.get());
        curve.plasma.push(state[model.central] / model.v1);
        if let (Some(ce), Some(e)) = (curve.effect_site.as_mut(), model.effect) {
            ce.push(state[e]);
        }
        curve.auc.push(state[model.auc]);
    }
    Ok(curve)
}

/// Summary metrics of a plasma curve.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Summary {
    /// Highest plasma concentration, mg/L.
    pub cmax: f64,
    /// When it occurs, min.
    pub tmax: f64,
    /// Area under the plasma curve over the grid, mg·min/L.
    pub auc: f64,
    /// Minutes the plasma concentration spends inside the band, if one was asked for.
    pub minutes_in_band: Option<f64>,
}

/// Summary metrics over a uniform grid of `step` minutes from 0 to `horizon`, with the band
/// time found by linear interpolation at the crossings.
pub fn summarize(
    model: &Built,
    doses: &[Dose],
    horizon: Minutes,
    step: Minutes,
    band: Option<(f64, f64)>,
) -> Result<Summary, PkError> {
    let h = step.get().max(1e-3);
    let count = (horizon.get() / h).ceil() as usize;
    let grid: Vec<Minutes> = (0..=count)
        .map(|i| Minutes::new("time", (i as f64 * h).min(horizon.get())))
        .collect::<Result<_, _>>()?;
    let curve = simulate(model, doses, &grid)?;
    let (mut cmax, mut tmax) = (0.0_f64, 0.0_f64);
    for (t, c) in curve.times.iter().zip(&curve.plasma) {
        if *c > cmax {
            cmax = *c;
            tmax = *t;
        }
    }
    let minutes_in_band = band.map(|(lo, hi)| {
        let inside = |c: f64| c >= lo && c <= hi;
        let mut total = 0.0;
        for i in 1..curve.times.len() {
            let (t0, t1) = (curve.times[i - 1], curve.times[i]);
            let (c0, c1) = (curve.plasma[i - 1], curve.plasma[i]);
            let dt = t1 - t0;
            if dt <= 0.0 {
                continue;
            }
            // Fraction of the interval inside [lo, hi], taking the curve as linear within it.
            let frac = if (c1 - c0).abs() < 1e-15 {
                if inside(c0) { 1.0 } else { 0.0 }
            } else {
                let a = ((lo - c0) / (c1 - c0)).clamp(0.0, 1.0);
                let b = ((hi - c0) / (c1 - c0)).clamp(0.0, 1.0);
                (a - b).abs()
            };
            total += frac * dt;
        }
        total
    });
    Ok(Summary {
        cmax,
        tmax,
        auc: curve.auc.last().copied().unwrap_or(0.0),
        minutes_in_band,
    })
}

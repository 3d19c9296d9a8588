//! Simulation: doses in, exact concentrations at any times out, with summary metrics.

use crate::PkError;
use crate::matrix::{Matrix, Step, transition};
use crate::model::{Built, Route};
use crate::units::{Mg, Minutes};

/// One administration, as a clinician describes it.
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
    /// A dose absorbed from a first-order depot: oral, sublingual (for Simons 2022, the
    /// S-ketamine oral thin film) or a nasal spray given in mg.
    Extravascular {
        /// The route.
        route: Route,
        /// When it is given.
        start: Minutes,
        /// Dose.
        amount: Mg,
        /// Bioavailability to use instead of the route's default, where the model allows it.
        bioavailability: Option<f64>,
        /// Time to peak to derive the absorption rate from, instead of the route's published
        /// Tmax (racemic routes of the IV models only).
        absorption_tmax: Option<Minutes>,
    },
    /// Nasal spray devices (Spravato: 28 mg each), the first at `start`, then one every
    /// `interval`.
    NasalDevices {
        /// When the first device is used.
        start: Minutes,
        /// Number of devices, 1 or more.
        devices: u32,
        /// Drug per device.
        mg_per_device: Mg,
        /// Time between devices.
        interval: Minutes,
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

    /// The route this dose takes.
    pub fn route(&self) -> Route {
        match self {
            Dose::IvBolus { .. } => Route::IvBolus,
            Dose::IvInfusion { .. } => Route::IvInfusion,
            Dose::NasalDevices { .. } => Route::Intranasal,
            Dose::Extravascular { route, .. } => *route,
        }
    }

    /// When the dose starts, min.
    pub fn start_min(&self) -> f64 {
        match self {
            Dose::IvBolus { start, .. }
            | Dose::IvInfusion { start, .. }
            | Dose::Extravascular { start, .. }
            | Dose::NasalDevices { start, .. } => start.get(),
        }
    }

    /// When the last of the dose is given (the end of an infusion, the last device), min.
    pub fn end(&self) -> f64 {
        match self {
            Dose::IvBolus { start, .. } | Dose::Extravascular { start, .. } => start.get(),
            Dose::IvInfusion {
                start, duration, ..
            } => start.get() + duration.get(),
            Dose::NasalDevices {
                start,
                devices,
                interval,
                ..
            } => start.get() + f64::from(devices.saturating_sub(1)) * interval.get(),
        }
    }

    /// Total amount given, mg.
    pub fn amount(&self) -> f64 {
        match self {
            Dose::IvBolus { amount, .. }
            | Dose::IvInfusion { amount, .. }
            | Dose::Extravascular { amount, .. } => amount.get(),
            Dose::NasalDevices {
                devices,
                mg_per_device,
                ..
            } => f64::from(*devices) * mg_per_device.get(),
        }
    }
}

/// Drug entering one compartment: all at once (`duration` 0) or at a constant rate.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Input {
    pub(crate) compartment: usize,
    pub(crate) start: f64,
    /// Amount that reaches the compartment (bioavailability applied), mg.
    pub(crate) amount: f64,
    pub(crate) duration: f64,
}

impl Input {
    pub(crate) fn bolus(compartment: usize, start: f64, amount: f64) -> Input {
        Input {
            compartment,
            start,
            amount,
            duration: 0.0,
        }
    }

    pub(crate) fn zero_order(compartment: usize, start: f64, amount: f64, duration: f64) -> Input {
        Input {
            compartment,
            start,
            amount,
            duration,
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
    /// Area under the plasma curve from 0 to each time, mg·min/L (exact, not trapezoidal);
    /// empty for models built without the accumulator (population runs).
    pub auc: Vec<f64>,
    /// Metabolite concentrations, mg/L, by name (such as `noresketamine`).
    pub metabolites: Vec<(&'static str, Vec<f64>)>,
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

/// Step matrices by step length, computed on first use: `Φ` alone for steps without input,
/// `Φ` and `Ψ` for steps with one. Uniform grids need one of each.
struct Steps<'a> {
    model: &'a Built,
    free: Vec<(u64, Matrix)>,
    forced: Vec<(u64, Step)>,
    /// The last free step used: on a uniform grid every step is the same one.
    last_free: usize,
}

impl Steps<'_> {
    fn free(&mut self, h: f64) -> &Matrix {
        let key = h.to_bits();
        if self
            .free
            .get(self.last_free)
            .is_some_and(|(k, _)| *k == key)
        {
            return &self.free[self.last_free].1;
        }
        if let Some(i) = self.free.iter().position(|(k, _)| *k == key) {
            self.last_free = i;
            return &self.free[i].1;
        }
        if self.free.len() > 64 {
            self.free.clear();
        }
        let phi = transition(&self.model.a, h);
        self.free.push((key, phi));
        self.last_free = self.free.len() - 1;
        &self.free[self.last_free].1
    }

    fn forced(&mut self, h: f64) -> &Step {
        let key = h.to_bits();
        if let Some(i) = self.forced.iter().position(|(k, _)| *k == key) {
            return &self.forced[i].1;
        }
        if self.forced.len() > 64 {
            self.forced.clear();
        }
        let step = Step::new(&self.model.a, h);
        self.forced.push((key, step));
        &self.forced[self.forced.len() - 1].1
    }
}

/// The exact solution at `times` (ascending) for `doses`.
///
/// The state is propagated from one event (input start or end, bolus, requested time) to the
/// next with `x ← Φ x + Ψ u`, which is exact for piecewise-constant inputs. At a bolus time the
/// reported value includes the bolus.
pub fn simulate(model: &Built, doses: &[Dose], times: &[Minutes]) -> Result<Curve, PkError> {
    check_times(times)?;
    let extended;
    let model = if model.needs_depots(doses) {
        extended = model.with_depots(doses)?;
        &extended
    } else {
        model
    };
    let mut inputs = Vec::new();
    for d in doses {
        inputs.extend(model.inputs(d)?);
    }
    Ok(simulate_inputs(model, &inputs, times))
}

/// How the state moves between events: in compartment amounts with step matrices, or in the
/// eigen-coordinates of a decomposed model, where every step is one exponential per mode.
pub(crate) trait Propagation {
    /// Adds a bolus to a compartment.
    fn bolus(&mut self, compartment: usize, amount: f64);
    /// Sets the zero-order input rates (mg/min per compartment; all zero when `any` is false).
    fn set_rates(&mut self, rates: &[f64], any: bool);
    /// Advances the state by `h` minutes under the current rates.
    fn advance(&mut self, h: f64);
    /// The amount (or, for an effect site, the concentration) in a state now.
    fn state(&self, index: usize) -> f64;
}

/// Propagation in compartment amounts: `x ← Φ x + Ψ u` with cached step matrices.
struct Physical<'a> {
    steps: Steps<'a>,
    x: Vec<f64>,
    next: Vec<f64>,
    rate: Vec<f64>,
    forced: Vec<f64>,
    has_rate: bool,
}

impl Propagation for Physical<'_> {
    fn bolus(&mut self, compartment: usize, amount: f64) {
        self.x[compartment] += amount;
    }

    fn set_rates(&mut self, rates: &[f64], any: bool) {
        self.rate.copy_from_slice(rates);
        self.has_rate = any;
    }

    fn advance(&mut self, h: f64) {
        if self.has_rate {
            let step = self.steps.forced(h);
            step.phi.apply(&self.x, &mut self.next);
            step.psi.apply(&self.rate, &mut self.forced);
            for (a, b) in self.next.iter_mut().zip(&self.forced) {
                *a += b;
            }
        } else {
            self.steps.free(h).apply(&self.x, &mut self.next);
        }
        std::mem::swap(&mut self.x, &mut self.next);
    }

    fn state(&self, index: usize) -> f64 {
        self.x[index]
    }
}

/// The exact solution at `times` (ascending) for `inputs`: in eigen-coordinates where the model
/// has a decomposition, with step matrices otherwise.
pub(crate) fn simulate_inputs(model: &Built, inputs: &[Input], times: &[Minutes]) -> Curve {
    let n = model.states();
    match &model.spectral {
        Some(spectral) => run_events(model, inputs, times, &mut spectral.modal()),
        None => run_events(
            model,
            inputs,
            times,
            &mut Physical {
                steps: Steps {
                    model,
                    free: Vec::new(),
                    forced: Vec::new(),
                    last_free: 0,
                },
                x: vec![0.0; n],
                next: vec![0.0; n],
                rate: vec![0.0; n],
                forced: vec![0.0; n],
                has_rate: false,
            },
        ),
    }
}

/// Moves `p` from event to event (input starts and ends, boluses, requested times) and records
/// the outputs at each requested time. At a bolus time the reported value includes the bolus.
fn run_events(
    model: &Built,
    inputs: &[Input],
    times: &[Minutes],
    p: &mut impl Propagation,
) -> Curve {
    let n = model.states();
    // Input events: boluses and the starts and ends of zero-order inputs, in time order.
    let mut changes: Vec<f64> = inputs
        .iter()
        .flat_map(|i| [i.start, i.start + i.duration])
        .collect();
    changes.sort_by(f64::total_cmp);
    changes.dedup();

    let mut curve = Curve {
        times: Vec::with_capacity(times.len()),
        plasma: Vec::with_capacity(times.len()),
        effect_site: model.effect.map(|_| Vec::with_capacity(times.len())),
        auc: Vec::with_capacity(times.len()),
        metabolites: model
            .metabolites
            .iter()
            .map(|m| (m.name, Vec::with_capacity(times.len())))
            .collect(),
    };
    let mut rate = vec![0.0; n];
    let mut t = 0.0_f64;
    let mut c = 0;
    let mut apply_events_at = |t: f64, p: &mut dyn Propagation| {
        for i in inputs {
            if i.duration == 0.0 && i.start == t {
                p.bolus(i.compartment, i.amount);
            }
        }
        rate.iter_mut().for_each(|v| *v = 0.0);
        let mut any = false;
        for i in inputs {
            if i.duration > 0.0 && i.start <= t && t < i.start + i.duration {
                rate[i.compartment] += i.amount / i.duration;
                any = true;
            }
        }
        p.set_rates(&rate, any);
    };
    // Events at time 0 (and anything before the first output) happen first.
    if changes.first().is_some_and(|&e| e <= 0.0) {
        apply_events_at(0.0, p);
        c = changes.iter().take_while(|&&e| e <= 0.0).count();
    }
    for target in times {
        let target = target.get();
        loop {
            let next_event = changes.get(c).copied().filter(|&e| e <= target);
            let until = next_event.unwrap_or(target);
            if until > t {
                p.advance(until - t);
                t = until;
            }
            match next_event {
                Some(e) => {
                    apply_events_at(e, p);
                    c += 1;
                }
                None => break,
            }
        }
        curve.times.push(target);
        curve.plasma.push(p.state(model.central) / model.v1);
        if let (Some(ce), Some(e)) = (curve.effect_site.as_mut(), model.effect) {
            ce.push(p.state(e));
        }
        if let Some(a) = model.auc {
            curve.auc.push(p.state(a));
        }
        for (m, (_, values)) in model.metabolites.iter().zip(curve.metabolites.iter_mut()) {
            values.push(p.state(m.compartment) / m.volume);
        }
    }
    curve
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

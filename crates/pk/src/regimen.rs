//! A regimen as loose input, checked into a typed [`Regimen`] that reports every problem at once.
//!
//! Wire formats (JSON for the API and the command line, the planner's form) fill a
//! [`RegimenInput`] field for field; [`RegimenInput::validate`] applies the domain's rules (the
//! clinic's dose caps, the products' maxima, which routes a model describes, which models publish
//! variability, the bounds of one simulation) and names each problem by its field path, such as
//! `doses[0].amount_mg`, so a caller can show it where it was typed.

use crate::PkError;
use crate::dose::DoseCaps;
use crate::model::{Analyte, Patient, Route, Sex};
use crate::models::{ModelId, ModelOptions, WeightScaling};
use crate::simulate::Dose;
use crate::units::{Kg, Mg, Minutes};

/// The band of racemic plasma ketamine in which dissociation is reported after 0.5 mg/kg over
/// 40 minutes: 100–250 ng/mL (Krystal 1994, via Zanos et al. 2018, Pharmacol Rev 70:621,
/// Table 1). Applied by default to racemic models only.
pub const DISSOCIATION_BAND_MG_PER_L: (f64, f64) = (0.10, 0.25);

/// The latest time to peak a dose may set for its absorption, min (6 hours: later than any
/// published Tmax of an extravascular ketamine route).
pub const MAX_ABSORPTION_TMAX_MIN: f64 = 360.0;

/// The last time a regimen may report or dose at, min (14 days).
pub const MAX_TIME_MIN: f64 = 14.0 * 24.0 * 60.0;

/// Minutes between Spravato devices when none is given (the label's 5 minutes).
const DEFAULT_DEVICE_INTERVAL_MIN: f64 = 5.0;

/// A regimen as typed: every value as it came, unchecked.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RegimenInput {
    /// Model id.
    pub model: String,
    /// kamp2020's clearance scaling (`allometric` or `linear`).
    pub weight_scaling: Option<String>,
    /// Weight, kg.
    pub weight_kg: Option<f64>,
    /// Weight, lb (instead of kg).
    pub weight_lb: Option<f64>,
    /// Age, years.
    pub age_years: Option<f64>,
    /// `female` or `male`.
    pub sex: Option<String>,
    /// Administrations.
    pub doses: Vec<DoseInput>,
    /// Times to report, min, ascending.
    pub times_min: Vec<f64>,
    /// Band for the time-in-band metric, mg/L.
    pub band_mg_per_l: Option<[f64; 2]>,
    /// Virtual patients for percentiles.
    pub population: Option<usize>,
    /// Seed of the virtual population.
    pub seed: Option<u64>,
}

/// One administration as typed.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DoseInput {
    /// Route code.
    pub route: String,
    /// Start, min.
    pub start_min: f64,
    /// Amount, mg (not for devices).
    pub amount_mg: Option<f64>,
    /// Infusion duration, min.
    pub duration_min: Option<f64>,
    /// Nasal devices.
    pub devices: Option<u32>,
    /// Drug per device, mg.
    pub mg_per_device: Option<f64>,
    /// Minutes between devices.
    pub interval_min: Option<f64>,
    /// Bioavailability (0 to 1) instead of the route's default.
    pub bioavailability: Option<f64>,
    /// Time to peak (1 to 360 min) instead of the route's published one.
    pub absorption_tmax_min: Option<f64>,
}

/// One refused value: where it is and what is wrong with it.
#[derive(Debug, Clone, PartialEq)]
pub struct Problem {
    /// The field, as a path such as `doses[0].amount_mg`.
    pub field: String,
    /// What is wrong and what is accepted.
    pub message: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

/// A checked regimen, ready to simulate.
#[derive(Debug, Clone)]
pub struct Regimen {
    /// The model.
    pub model: ModelId,
    /// Its options.
    pub options: ModelOptions,
    /// The patient.
    pub patient: Patient,
    /// The doses.
    pub doses: Vec<Dose>,
    /// The times to report.
    pub times: Vec<Minutes>,
    /// The band for time-in-band, if any.
    pub band: Option<(f64, f64)>,
    /// Virtual patients and seed, when a population was asked for.
    pub population: Option<(usize, u64)>,
}

fn problem(field: impl Into<String>, message: impl Into<String>) -> Problem {
    Problem {
        field: field.into(),
        message: message.into(),
    }
}

fn from_pk(prefix: &str, e: &PkError) -> Problem {
    let field = match (prefix.is_empty(), e.field()) {
        (true, f) => f.to_owned(),
        (false, "") => prefix.to_owned(),
        (false, f) => format!("{prefix}.{f}"),
    };
    problem(field, e.to_string())
}

fn minutes(field: String, v: f64) -> Result<Minutes, Problem> {
    let m = Minutes::new("time", v)
        .map_err(|e| problem(field.clone(), e.to_string().replacen("time", "value", 1)))?;
    if v > MAX_TIME_MIN {
        return Err(problem(
            field,
            format!(
                "{v} is after the last time accepted; use 0 to {MAX_TIME_MIN} minutes (14 days)"
            ),
        ));
    }
    Ok(m)
}

fn amount(field: String, v: Option<f64>) -> Result<Mg, Problem> {
    let v = v.ok_or_else(|| problem(field.clone(), "is required for this route (mg)"))?;
    Mg::new("amount", v).map_err(|e| problem(field, e.to_string().replacen("amount", "value", 1)))
}

/// `n` virtual patients of `model` at `times` reported times, if the count is in range and the
/// model publishes inter-individual variability.
pub fn check_population(
    model: ModelId,
    n: usize,
    times: usize,
    seed: u64,
) -> Result<(usize, u64), Problem> {
    // The count's range and the patients × times bound are checked in one place.
    crate::population::check_population_size(n, times).map_err(|e| from_pk("", &e))?;
    if model != ModelId::PerezRuixo2021 {
        return Err(from_pk(
            "",
            &PkError::NoPublishedVariability {
                model: model.info().id,
            },
        ));
    }
    Ok((n, seed))
}

impl RegimenInput {
    /// Checks everything; `caps` limit each racemic dose by route (clinic settings). Every
    /// problem found is returned, in the order of the fields.
    pub fn validate(&self, caps: DoseCaps) -> Result<Regimen, Vec<Problem>> {
        let mut problems = Vec::new();
        let model = ModelId::parse(&self.model)
            .map_err(|e| problems.push(from_pk("", &e)))
            .ok();
        let weight_scaling = match self.weight_scaling.as_deref() {
            None => WeightScaling::default(),
            Some(s) => WeightScaling::parse(s).unwrap_or_else(|| {
                problems.push(problem(
                    "options.weight_scaling",
                    format!("'{s}' is unknown; use allometric or linear"),
                ));
                WeightScaling::default()
            }),
        };
        let weight = match (self.weight_kg, self.weight_lb) {
            (Some(kg), None) => Kg::new(kg)
                .map_err(|e| problems.push(from_pk("patient", &e)))
                .ok(),
            (None, Some(lb)) => Kg::from_lb(lb)
                .map_err(|e| problems.push(from_pk("patient", &e)))
                .ok(),
            _ => {
                problems.push(problem(
                    "patient.weight_kg",
                    "give the weight once, as weight_kg (2 to 350) or weight_lb",
                ));
                None
            }
        };
        let age_years = match self.age_years {
            Some(a) if !a.is_finite() || !(0.0..=120.0).contains(&a) => {
                problems.push(problem(
                    "patient.age_years",
                    format!("{a} is not an age; accepted 0 to 120"),
                ));
                None
            }
            other => other,
        };
        let sex = match self.sex.as_deref().map(str::trim) {
            None | Some("") => None,
            Some("female") => Some(Sex::Female),
            Some("male") => Some(Sex::Male),
            Some(other) => {
                problems.push(problem(
                    "patient.sex",
                    format!("'{other}' is unknown; use female or male"),
                ));
                None
            }
        };
        if self.doses.is_empty() {
            problems.push(problem("doses", "give at least one dose"));
        }
        if self.doses.len() > crate::limits::MAX_DOSES {
            problems.push(problem(
                "doses",
                format!(
                    "{} doses; at most {} in one simulation",
                    self.doses.len(),
                    crate::limits::MAX_DOSES
                ),
            ));
        }
        let mut doses = Vec::with_capacity(self.doses.len());
        if self.doses.len() <= crate::limits::MAX_DOSES {
            for (i, d) in self.doses.iter().enumerate() {
                match check_dose(i, d, model, weight, caps) {
                    Ok(Some(dose)) => doses.push(dose),
                    Ok(None) => {}
                    Err(p) => problems.push(p),
                }
            }
        }
        if doses.len() == self.doses.len()
            && let Err(e) = crate::limits::check_doses(&doses)
        {
            problems.push(from_pk("", &e));
        }
        let mut times = Vec::with_capacity(self.times_min.len());
        if self.times_min.is_empty() || self.times_min.len() > crate::limits::MAX_TIMES {
            problems.push(problem(
                "times_min",
                format!(
                    "{} times; give 1 to {} times in minutes, ascending",
                    self.times_min.len(),
                    crate::limits::MAX_TIMES
                ),
            ));
        } else {
            for (i, &t) in self.times_min.iter().enumerate() {
                match minutes(format!("times_min[{i}]"), t) {
                    Ok(m) => times.push(m),
                    Err(p) => problems.push(p),
                }
            }
            if times.len() == self.times_min.len()
                && let Err(PkError::TimesNotAscending { index }) =
                    crate::simulate::check_times(&times)
            {
                problems.push(problem(
                    format!("times_min[{index}]"),
                    "is earlier than the time before it; times must be ascending",
                ));
            }
        }
        let analyte = model.map(|m| m.info().analyte);
        let band = match self.band_mg_per_l {
            Some([lo, hi]) if lo.is_finite() && hi.is_finite() && 0.0 <= lo && lo < hi => {
                Some((lo, hi))
            }
            Some(_) => {
                problems.push(problem(
                    "band_mg_per_l",
                    "give [low, high] in mg/L with 0 ≤ low < high",
                ));
                None
            }
            None if analyte == Some(Analyte::RacemicKetamine) => Some(DISSOCIATION_BAND_MG_PER_L),
            None => None,
        };
        let population = match (self.population, model) {
            // ok: seed 1 is the documented default seed (the same as `ketaflow simulate`'s).
            (Some(n), Some(model)) => {
                check_population(model, n, self.times_min.len(), self.seed.unwrap_or(1))
                    .map_err(|p| problems.push(p))
                    .ok()
            }
            _ => None,
        };
        match (model, weight) {
            (Some(model), Some(weight)) if problems.is_empty() => Ok(Regimen {
                model,
                options: ModelOptions { weight_scaling },
                patient: Patient {
                    weight,
                    age_years,
                    sex,
                },
                doses,
                times,
                band,
                population,
            }),
            _ => Err(problems),
        }
    }
}

/// One dose checked; `Ok(None)` when it cannot be judged because the model or the weight is
/// already refused (that problem is reported once, at its own field).
fn check_dose(
    i: usize,
    d: &DoseInput,
    model: Option<ModelId>,
    weight: Option<Kg>,
    caps: DoseCaps,
) -> Result<Option<Dose>, Problem> {
    let at = |f: &str| format!("doses[{i}].{f}");
    let prefix = format!("doses[{i}]");
    let route = Route::parse(&d.route).ok_or_else(|| {
        from_pk(
            &prefix,
            &PkError::UnknownRoute {
                input: d.route.clone(),
            },
        )
    })?;
    let Some(model) = model else {
        return Ok(None);
    };
    model.check_route(route).map_err(|e| from_pk(&prefix, &e))?;
    let start = minutes(at("start_min"), d.start_min)?;
    if route != Route::IvInfusion && d.duration_min.is_some() {
        return Err(problem(
            at("duration_min"),
            format!(
                "applies to iv_infusion only; remove it from this {} dose",
                route.code()
            ),
        ));
    }
    let dose = match route {
        Route::IvBolus => Dose::IvBolus {
            start,
            amount: amount(at("amount_mg"), d.amount_mg)?,
        },
        Route::IvInfusion => {
            let duration = d.duration_min.ok_or_else(|| {
                problem(
                    at("duration_min"),
                    "is required for an infusion (minutes, more than 0)",
                )
            })?;
            let duration = minutes(at("duration_min"), duration)?;
            Dose::infusion(start, amount(at("amount_mg"), d.amount_mg)?, duration).map_err(
                |_| {
                    problem(
                        at("duration_min"),
                        "must be more than 0 minutes; give a bolus for an instant dose",
                    )
                },
            )?
        }
        Route::Intranasal if d.devices.is_some() || model == ModelId::PerezRuixo2021 => {
            let devices = d
                .devices
                .ok_or_else(|| problem(at("devices"), "is required for nasal devices (1 to 3)"))?;
            if !(1..=3).contains(&devices) {
                return Err(problem(
                    at("devices"),
                    format!("{devices} devices; accepted 1 to 3 per session"),
                ));
            }
            let per = d
                .mg_per_device
                .unwrap_or(crate::dose::ESKETAMINE_MG_PER_DEVICE);
            let mg_per_device = Mg::new("mg_per_device", per)
                .map_err(|e| problem(at("mg_per_device"), e.to_string()))?;
            let interval = minutes(
                at("interval_min"),
                d.interval_min.unwrap_or(DEFAULT_DEVICE_INTERVAL_MIN),
            )?;
            Dose::NasalDevices {
                start,
                devices,
                mg_per_device,
                interval,
            }
        }
        Route::Intramuscular | Route::Intranasal | Route::Oral | Route::Sublingual => {
            model
                .check_absorption_settings(
                    d.bioavailability.is_some(),
                    d.absorption_tmax_min.is_some(),
                )
                .map_err(|e| from_pk(&prefix, &e))?;
            let bioavailability = match d.bioavailability {
                None => None,
                Some(f) if f.is_finite() && f > 0.0 && f <= 1.0 => Some(f),
                Some(f) => {
                    return Err(problem(
                        at("bioavailability"),
                        format!("{f} is not a fraction; accepted above 0 up to 1"),
                    ));
                }
            };
            let absorption_tmax = match d.absorption_tmax_min {
                None => None,
                Some(t) if t.is_finite() && (1.0..=MAX_ABSORPTION_TMAX_MIN).contains(&t) => {
                    Some(minutes(at("absorption_tmax_min"), t)?)
                }
                Some(t) => {
                    return Err(problem(
                        at("absorption_tmax_min"),
                        format!("{t} minutes; accepted 1 to {MAX_ABSORPTION_TMAX_MIN} minutes"),
                    ));
                }
            };
            Dose::Extravascular {
                route,
                start,
                amount: amount(at("amount_mg"), d.amount_mg)?,
                bioavailability,
                absorption_tmax,
            }
        }
    };
    match model.info().analyte {
        Analyte::RacemicKetamine => {
            let Some(weight) = weight else {
                return Ok(Some(dose));
            };
            let per_kg = dose.amount() / weight.get();
            let cap = caps.for_route(route);
            if per_kg > cap + 1e-12 {
                let which = DoseCaps::name_for_route(route);
                return Err(problem(
                    at("amount_mg"),
                    format!(
                        "{:.1} mg is {per_kg:.2} mg/kg, above {which} of {cap} mg/kg ({:.1} mg for this patient)",
                        dose.amount(),
                        cap * weight.get()
                    ),
                ));
            }
        }
        Analyte::Esketamine => {
            let (max, which) = crate::dose::esketamine_max_mg(route);
            if dose.amount() > max + 1e-9 {
                let field = if matches!(dose, Dose::NasalDevices { .. }) {
                    at("devices")
                } else {
                    at("amount_mg")
                };
                return Err(problem(
                    field,
                    format!("{} mg esketamine is above {which}, {max} mg", dose.amount()),
                ));
            }
        }
    }
    Ok(Some(dose))
}

//! The simulation scenario as JSON: one wire format for `ketaflow simulate` and
//! `POST /api/v1/pk/simulate`, converted by hand into `pk` values and back.

use pk::PkError;
use pk::dose::DoseCaps;
use pk::limits::{NeverStop, Stop};
use pk::model::{Analyte, Patient, Provenance, Route, Sampling, Sex};
use pk::models::{ModelId, ModelOptions, WeightScaling};
use pk::simulate::{Dose, simulate, summarize};
use pk::units::{Kg, Mg, Minutes};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The band of racemic plasma ketamine in which dissociation is reported after 0.5 mg/kg over
/// 40 minutes: 100–250 ng/mL (Krystal 1994, via Zanos et al. 2018, Pharmacol Rev 70:621,
/// Table 1). Applied by default to racemic models only.
pub const DISSOCIATION_BAND_MG_PER_L: (f64, f64) = (0.10, 0.25);

/// The latest time to peak a dose may set for its absorption, min (6 hours: later than any
/// published Tmax of an extravascular ketamine route).
const MAX_ABSORPTION_TMAX_MIN: f64 = 360.0;

/// The last time a scenario may ask for, min (14 days).
const MAX_TIME_MIN: f64 = 14.0 * 24.0 * 60.0;

/// A scenario as sent.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScenarioInput {
    /// `domino`, `clements250`, `kamp2020`, `perez_ruixo2021` or `simons2022`.
    #[schema(example = "domino")]
    pub model: String,
    /// Model options, such as `{"weight_scaling": "linear"}` for kamp2020.
    #[serde(default)]
    pub options: OptionsInput,
    /// The patient.
    pub patient: PatientInput,
    /// Administrations.
    pub doses: Vec<DoseInput>,
    /// Times to report, minutes, ascending.
    #[schema(example = json!([5, 10, 20, 40]))]
    pub times_min: Vec<f64>,
    /// Concentration band for the time-in-band metric, mg/L; the reported dissociation band for
    /// racemic models when absent.
    #[serde(default)]
    pub band_mg_per_l: Option<[f64; 2]>,
    /// Virtual patients for percentiles (1 to 100000), for models with published variability.
    #[serde(default, deserialize_with = "crate::api::whole_option")]
    #[schema(value_type = Option<u64>)]
    pub population: Option<usize>,
    /// Seed of the virtual population; the same seed gives the same percentiles.
    #[serde(default, deserialize_with = "crate::api::whole_option")]
    pub seed: Option<u64>,
}

/// Model options.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OptionsInput {
    /// kamp2020: `allometric` (default) or `linear` clearance scaling.
    #[serde(default)]
    pub weight_scaling: Option<String>,
}

/// The patient.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PatientInput {
    /// Weight, kg (2 to 350).
    #[serde(default)]
    pub weight_kg: Option<f64>,
    /// Weight, lb, instead of kg.
    #[serde(default)]
    pub weight_lb: Option<f64>,
    /// Age, years.
    #[serde(default)]
    pub age_years: Option<f64>,
    /// `female` or `male`.
    #[serde(default)]
    pub sex: Option<String>,
}

/// One administration.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DoseInput {
    /// `iv_bolus`, `iv_infusion`, `intranasal` (devices), `intramuscular`, `oral`, `sublingual`.
    pub route: String,
    /// Start, minutes.
    pub start_min: f64,
    /// Amount, mg (not for devices).
    #[serde(default)]
    pub amount_mg: Option<f64>,
    /// Infusion duration, minutes.
    #[serde(default)]
    pub duration_min: Option<f64>,
    /// Nasal devices.
    #[serde(default, deserialize_with = "crate::api::whole_option")]
    pub devices: Option<u32>,
    /// Drug per device, mg.
    #[serde(default)]
    pub mg_per_device: Option<f64>,
    /// Minutes between devices (Spravato: 5).
    #[serde(default)]
    pub interval_min: Option<f64>,
    /// Bioavailability (0 to 1) for intramuscular, oral, sublingual or intranasal racemic doses,
    /// instead of the route's default (the higher published value).
    #[serde(default)]
    pub bioavailability: Option<f64>,
    /// Time to peak (1 to 360 min) from which the absorption rate of an intramuscular, oral,
    /// sublingual or intranasal racemic dose is derived, instead of the route's published Tmax
    /// (the earlier published value).
    #[serde(default)]
    pub absorption_tmax_min: Option<f64>,
}

/// A refused scenario: the field and what is accepted.
#[derive(Debug, Clone, PartialEq)]
pub struct ScenarioError {
    /// The field, as a path such as `doses[0].amount_mg`.
    pub field: String,
    /// What is wrong and what is accepted.
    pub message: String,
}

impl std::fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

fn err(field: impl Into<String>, message: impl Into<String>) -> ScenarioError {
    ScenarioError {
        field: field.into(),
        message: message.into(),
    }
}

fn pk_err(prefix: &str, e: &PkError) -> ScenarioError {
    let field = if prefix.is_empty() {
        e.field().to_owned()
    } else {
        format!("{prefix}.{}", e.field())
    };
    err(field, e.to_string())
}

/// `n` virtual patients of `model` from `seed`, if the count is in range and the model publishes
/// inter-individual variability.
fn checked_population(
    model: ModelId,
    n: usize,
    times: usize,
    seed: u64,
) -> Result<(usize, u64), ScenarioError> {
    if !(1..=pk::population::MAX_PATIENTS).contains(&n) {
        return Err(err(
            "population",
            format!(
                "{n} virtual patients; accepted 1 to {}",
                pk::population::MAX_PATIENTS
            ),
        ));
    }
    pk::population::check_population_size(n, times).map_err(|e| pk_err("", &e))?;
    if model != ModelId::PerezRuixo2021 {
        return Err(pk_err(
            "",
            &PkError::NoPublishedVariability {
                model: model.info().id,
            },
        ));
    }
    Ok((n, seed))
}

/// A checked scenario.
#[derive(Debug, Clone)]
pub struct Scenario {
    model: ModelId,
    options: ModelOptions,
    patient: Patient,
    doses: Vec<Dose>,
    times: Vec<Minutes>,
    band: Option<(f64, f64)>,
    population: Option<(usize, u64)>,
}

fn minutes(field: String, v: f64) -> Result<Minutes, ScenarioError> {
    let m = Minutes::new("time", v)
        .map_err(|e| err(field.clone(), e.to_string().replacen("time", "value", 1)))?;
    if v > MAX_TIME_MIN {
        return Err(err(
            field,
            format!(
                "{v} is after the last time accepted; use 0 to {MAX_TIME_MIN} minutes (14 days)"
            ),
        ));
    }
    Ok(m)
}

fn amount(field: String, v: Option<f64>) -> Result<Mg, ScenarioError> {
    let v = v.ok_or_else(|| err(field.clone(), "is required for this route (mg)"))?;
    Mg::new("amount", v).map_err(|e| err(field, e.to_string().replacen("amount", "value", 1)))
}

impl ScenarioInput {
    /// Checks everything; `caps` limit each racemic dose by route (clinic settings, by default
    /// [`DoseCaps::default`]).
    pub fn validate(&self, caps: DoseCaps) -> Result<Scenario, ScenarioError> {
        let model = ModelId::parse(&self.model).map_err(|e| pk_err("", &e))?;
        let weight_scaling = match self.options.weight_scaling.as_deref() {
            None => WeightScaling::default(),
            Some(s) => WeightScaling::parse(s).ok_or_else(|| {
                err(
                    "options.weight_scaling",
                    format!("'{s}' is unknown; use allometric or linear"),
                )
            })?,
        };
        let weight = match (self.patient.weight_kg, self.patient.weight_lb) {
            (Some(kg), None) => Kg::new(kg).map_err(|e| pk_err("patient", &e))?,
            (None, Some(lb)) => Kg::from_lb(lb).map_err(|e| pk_err("patient", &e))?,
            _ => {
                return Err(err(
                    "patient.weight_kg",
                    "give the weight once, as weight_kg (2 to 350) or weight_lb",
                ));
            }
        };
        let age_years = match self.patient.age_years {
            Some(a) if !a.is_finite() || !(0.0..=120.0).contains(&a) => {
                return Err(err(
                    "patient.age_years",
                    format!("{a} is not an age; accepted 0 to 120"),
                ));
            }
            other => other,
        };
        let sex = match self.patient.sex.as_deref().map(str::trim) {
            None | Some("") => None,
            Some("female") => Some(Sex::Female),
            Some("male") => Some(Sex::Male),
            Some(other) => {
                return Err(err(
                    "patient.sex",
                    format!("'{other}' is unknown; use female or male"),
                ));
            }
        };
        let patient = Patient {
            weight,
            age_years,
            sex,
        };
        if self.doses.is_empty() {
            return Err(err("doses", "give at least one dose"));
        }
        if self.doses.len() > pk::limits::MAX_DOSES {
            return Err(err(
                "doses",
                format!(
                    "{} doses; at most {} in one simulation",
                    self.doses.len(),
                    pk::limits::MAX_DOSES
                ),
            ));
        }
        let mut doses = Vec::with_capacity(self.doses.len());
        for (i, d) in self.doses.iter().enumerate() {
            let at = |f: &str| format!("doses[{i}].{f}");
            let route = Route::parse(&d.route).ok_or_else(|| {
                pk_err(
                    &format!("doses[{i}]"),
                    &PkError::UnknownRoute {
                        input: d.route.clone(),
                    },
                )
            })?;
            model
                .check_route(route)
                .map_err(|e| pk_err(&format!("doses[{i}]"), &e))?;
            let start = minutes(at("start_min"), d.start_min)?;
            if route != Route::IvInfusion && d.duration_min.is_some() {
                return Err(err(
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
                        err(
                            at("duration_min"),
                            "is required for an infusion (minutes, more than 0)",
                        )
                    })?;
                    let duration = minutes(at("duration_min"), duration)?;
                    Dose::infusion(start, amount(at("amount_mg"), d.amount_mg)?, duration).map_err(
                        |_| {
                            err(
                                at("duration_min"),
                                "must be more than 0 minutes; give a bolus for an instant dose",
                            )
                        },
                    )?
                }
                Route::Intranasal if d.devices.is_some() || model == ModelId::PerezRuixo2021 => {
                    let devices = d.devices.ok_or_else(|| {
                        err(at("devices"), "is required for nasal devices (1 to 3)")
                    })?;
                    if !(1..=3).contains(&devices) {
                        return Err(err(
                            at("devices"),
                            format!("{devices} devices; accepted 1 to 3 per session"),
                        ));
                    }
                    let per = d
                        .mg_per_device
                        .unwrap_or(pk::dose::ESKETAMINE_MG_PER_DEVICE);
                    let mg_per_device = Mg::new("mg_per_device", per)
                        .map_err(|e| err(at("mg_per_device"), e.to_string()))?;
                    let interval = minutes(at("interval_min"), d.interval_min.unwrap_or(5.0))?;
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
                        .map_err(|e| pk_err(&format!("doses[{i}]"), &e))?;
                    let bioavailability = match d.bioavailability {
                        None => None,
                        Some(f) if f.is_finite() && f > 0.0 && f <= 1.0 => Some(f),
                        Some(f) => {
                            return Err(err(
                                at("bioavailability"),
                                format!("{f} is not a fraction; accepted above 0 up to 1"),
                            ));
                        }
                    };
                    let absorption_tmax = match d.absorption_tmax_min {
                        None => None,
                        Some(t)
                            if t.is_finite() && (1.0..=MAX_ABSORPTION_TMAX_MIN).contains(&t) =>
                        {
                            Some(minutes(at("absorption_tmax_min"), t)?)
                        }
                        Some(t) => {
                            return Err(err(
                                at("absorption_tmax_min"),
                                format!(
                                    "{t} minutes; accepted 1 to {MAX_ABSORPTION_TMAX_MIN} minutes"
                                ),
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
                    let per_kg = dose.amount() / weight.get();
                    let cap = caps.for_route(route);
                    if per_kg > cap + 1e-12 {
                        let which = DoseCaps::name_for_route(route);
                        return Err(err(
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
                    let (max, which) = pk::dose::esketamine_max_mg(route);
                    if dose.amount() > max + 1e-9 {
                        let field = if matches!(dose, Dose::NasalDevices { .. }) {
                            at("devices")
                        } else {
                            at("amount_mg")
                        };
                        return Err(err(
                            field,
                            format!("{} mg esketamine is above {which}, {max} mg", dose.amount()),
                        ));
                    }
                }
            }
            doses.push(dose);
        }
        pk::limits::check_doses(&doses).map_err(|e| pk_err("", &e))?;
        if self.times_min.is_empty() || self.times_min.len() > pk::limits::MAX_TIMES {
            return Err(err(
                "times_min",
                format!(
                    "{} times; give 1 to {} times in minutes, ascending",
                    self.times_min.len(),
                    pk::limits::MAX_TIMES
                ),
            ));
        }
        let mut times = Vec::with_capacity(self.times_min.len());
        for (i, &t) in self.times_min.iter().enumerate() {
            times.push(minutes(format!("times_min[{i}]"), t)?);
        }
        pk::simulate::check_times(&times).map_err(|e| {
            err(
                format!(
                    "times_min[{}]",
                    match e {
                        PkError::TimesNotAscending { index } => index,
                        _ => 0,
                    }
                ),
                "is earlier than the time before it; times must be ascending",
            )
        })?;
        let band = match self.band_mg_per_l {
            Some([lo, hi]) if lo.is_finite() && hi.is_finite() && 0.0 <= lo && lo < hi => {
                Some((lo, hi))
            }
            Some(_) => {
                return Err(err(
                    "band_mg_per_l",
                    "give [low, high] in mg/L with 0 ≤ low < high",
                ));
            }
            None if model.info().analyte == Analyte::RacemicKetamine => {
                Some(DISSOCIATION_BAND_MG_PER_L)
            }
            None => None,
        };
        let population = self
            .population
            .map(|n| checked_population(model, n, times.len(), self.seed.unwrap_or(1)))
            .transpose()?;
        Ok(Scenario {
            model,
            options: ModelOptions { weight_scaling },
            patient,
            doses,
            times,
            band,
            population,
        })
    }
}

/// Summary metrics.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SummaryOutput {
    /// Highest plasma concentration, mg/L.
    pub cmax_mg_per_l: f64,
    /// When, min.
    pub tmax_min: f64,
    /// Area under the plasma curve to the last reported time, mg·min/L.
    pub auc_mg_min_per_l: f64,
    /// Plasma concentration at the end of each infusion, mg/L.
    pub end_of_infusion_mg_per_l: Vec<f64>,
    /// Minutes inside `band_mg_per_l`, when a band applies.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub minutes_in_band: Option<f64>,
    /// The band used, mg/L.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub band_mg_per_l: Option<[f64; 2]>,
}

/// Metabolite concentrations.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MetabolitesOutput {
    /// Noresketamine (perez_ruixo2021; apparent), mg/L.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub noresketamine_mg_per_l: Option<Vec<f64>>,
    /// S-norketamine (simons2022), mg/L.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub norketamine_mg_per_l: Option<Vec<f64>>,
    /// S-hydroxynorketamine (simons2022), mg/L.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hydroxynorketamine_mg_per_l: Option<Vec<f64>>,
}

/// What the model is and how far to trust it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ModelOutput {
    /// Model id.
    pub id: &'static str,
    /// Name.
    pub name: &'static str,
    /// Reference.
    pub citation: &'static str,
    /// `racemic_ketamine` or `esketamine`.
    pub analyte: &'static str,
    /// `venous`, `arterial` or `unclear`.
    pub sampling: &'static str,
    /// `checked_against_paper` or `open_source_only`.
    pub provenance: &'static str,
    /// What to keep in mind.
    pub caveats: &'static str,
}

/// How an extravascular racemic dose is absorbed, and on what evidence.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct AbsorptionOutput {
    /// The route.
    pub route: &'static str,
    /// Bioavailability used.
    pub bioavailability: f64,
    /// Whether the scenario set it (otherwise the route's default).
    pub bioavailability_set: bool,
    /// Time to peak the absorption rate was derived from, min.
    pub tmax_min: f64,
    /// Whether the scenario set it (otherwise the route's published Tmax).
    pub tmax_set: bool,
    /// The published values and their sources.
    pub source: &'static str,
    /// How the absorption rate was obtained.
    pub method: &'static str,
}

/// Percentiles across virtual patients, mg/L.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PercentilesOutput {
    /// 5th percentile.
    pub p5: Vec<f64>,
    /// Median.
    pub p50: Vec<f64>,
    /// 95th percentile.
    pub p95: Vec<f64>,
    /// Virtual patients simulated.
    pub patients: usize,
    /// Seed used.
    pub seed: u64,
}

/// The result of a simulation.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SimulationOutput {
    /// Model id.
    pub model: &'static str,
    /// About the model.
    pub model_info: ModelOutput,
    /// Always `mg/L`.
    pub unit: &'static str,
    /// Times, min.
    pub times_min: Vec<f64>,
    /// Plasma concentration, mg/L.
    pub concentration_mg_per_l: Vec<f64>,
    /// Effect-site concentration, mg/L (domino only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub effect_site_mg_per_l: Option<Vec<f64>>,
    /// Metabolites, where the model has them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metabolites: Option<MetabolitesOutput>,
    /// Absorption of extravascular racemic doses, one entry per route and setting.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub absorption: Vec<AbsorptionOutput>,
    /// Summary metrics.
    pub summary: SummaryOutput,
    /// Percentiles, when a population was asked for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub percentiles: Option<PercentilesOutput>,
}

impl Scenario {
    /// The model this scenario uses.
    pub fn model(&self) -> ModelId {
        self.model
    }

    /// The doses.
    pub fn doses(&self) -> &[Dose] {
        &self.doses
    }

    /// Asks for `n` virtual patients from `seed` (the command line's `--population` and `--seed`).
    pub fn with_population(mut self, n: usize, seed: u64) -> Result<Self, ScenarioError> {
        self.population = Some(checked_population(self.model, n, self.times.len(), seed)?);
        Ok(self)
    }

    /// Percentiles of `n` virtual patients at `times`, when a population was asked for.
    pub fn percentiles_at(
        &self,
        times: &[Minutes],
        stop: &dyn Stop,
    ) -> Result<Option<pk::population::Percentiles>, PkError> {
        let Some((n, seed)) = self.population else {
            return Ok(None);
        };
        pk::population::population_until(
            self.model,
            &self.patient,
            self.options,
            &self.doses,
            times,
            n,
            seed,
            stop,
        )
        .map(Some)
    }

    /// The band for time-in-band, if any.
    pub fn band(&self) -> Option<(f64, f64)> {
        self.band
    }

    /// The last time of interest: the last reported time or the end of dosing plus an hour.
    pub fn horizon(&self) -> f64 {
        let last_time = self.times.last().map_or(0.0, |t| t.get());
        let last_dose = self.doses.iter().map(Dose::end).fold(0.0, f64::max);
        last_time.max(last_dose + 60.0)
    }

    /// A dense curve for drawing: `points` evenly spaced times from 0 to the horizon.
    pub fn dense(&self, points: usize) -> Result<pk::simulate::Curve, PkError> {
        let built = self
            .model
            .build(&self.patient, self.options)
            .for_doses(&self.doses)?;
        let h = self.horizon();
        let times: Vec<Minutes> = (0..points)
            .map(|i| Minutes::new("time", h * i as f64 / (points - 1).max(1) as f64))
            .collect::<Result<_, _>>()?;
        simulate(&built, &self.doses, &times)
    }

    /// The absorption used for each extravascular racemic route and setting in the doses.
    pub fn absorption(&self) -> Vec<AbsorptionOutput> {
        let mut out: Vec<AbsorptionOutput> = Vec::new();
        if self.model.info().analyte != Analyte::RacemicKetamine {
            return out;
        }
        for d in &self.doses {
            let Dose::Extravascular {
                route,
                bioavailability,
                absorption_tmax,
                ..
            } = d
            else {
                continue;
            };
            let Some(facts) = pk::absorption::facts(*route) else {
                continue;
            };
            let entry = AbsorptionOutput {
                route: route.code(),
                bioavailability: bioavailability.unwrap_or(facts.f_default),
                bioavailability_set: bioavailability.is_some(),
                tmax_min: absorption_tmax.map_or(facts.tmax_min, |t| t.get()),
                tmax_set: absorption_tmax.is_some(),
                source: facts.source,
                method: "first-order absorption; the rate is derived so that this model peaks at the time to peak (not a published rate)",
            };
            if !out.contains(&entry) {
                out.push(entry);
            }
        }
        out
    }

    /// Runs the simulation.
    pub fn run(&self) -> Result<SimulationOutput, PkError> {
        self.run_until(&NeverStop)
    }

    /// Runs the simulation, checking `stop` between its parts and inside the population.
    pub fn run_until(&self, stop: &dyn Stop) -> Result<SimulationOutput, PkError> {
        let stopped = || {
            if stop.stopped() {
                Err(PkError::Stopped)
            } else {
                Ok(())
            }
        };
        let built = self
            .model
            .build(&self.patient, self.options)
            .for_doses(&self.doses)?;
        let curve = simulate(&built, &self.doses, &self.times)?;
        stopped()?;
        let last = self.times.last().map_or(0.0, |t| t.get());
        let summary = summarize(
            &built,
            &self.doses,
            Minutes::new("horizon", self.horizon())?,
            Minutes::new("step", 0.1)?,
            self.band,
        )?;
        let ends: Vec<Minutes> = self
            .doses
            .iter()
            .filter(|d| matches!(d, Dose::IvInfusion { .. }))
            .map(|d| Minutes::new("end", d.end()))
            .collect::<Result<_, _>>()?;
        let mut sorted = ends.clone();
        sorted.sort_by(|a, b| a.get().total_cmp(&b.get()));
        let eoi = if sorted.is_empty() {
            Vec::new()
        } else {
            simulate(&built, &self.doses, &sorted)?.plasma
        };
        let auc_to_last = simulate(&built, &self.doses, &[Minutes::new("last", last)?])?.auc[0];
        let info = self.model.info();
        stopped()?;
        let percentiles = self
            .percentiles_at(&self.times, stop)?
            .map(|p| PercentilesOutput {
                p5: p.p5,
                p50: p.p50,
                p95: p.p95,
                patients: self.population.map_or(0, |(n, _)| n),
                seed: self.population.map_or(0, |(_, s)| s),
            });
        let metabolite = |name: &str| {
            curve
                .metabolites
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| v.clone())
        };
        let metabolites = (!curve.metabolites.is_empty()).then(|| MetabolitesOutput {
            noresketamine_mg_per_l: metabolite("noresketamine"),
            norketamine_mg_per_l: metabolite("norketamine"),
            hydroxynorketamine_mg_per_l: metabolite("hydroxynorketamine"),
        });
        Ok(SimulationOutput {
            model: info.id,
            model_info: ModelOutput {
                id: info.id,
                name: info.name,
                citation: info.citation,
                analyte: match info.analyte {
                    Analyte::RacemicKetamine => "racemic_ketamine",
                    Analyte::Esketamine => "esketamine",
                },
                sampling: match info.sampling {
                    Sampling::Venous => "venous",
                    Sampling::Arterial => "arterial",
                    Sampling::Unclear => "unclear",
                },
                provenance: match info.provenance {
                    Provenance::CheckedAgainstPaper => "checked_against_paper",
                    Provenance::OpenSourceOnly => "open_source_only",
                },
                caveats: info.caveats,
            },
            unit: "mg/L",
            times_min: curve.times,
            concentration_mg_per_l: curve.plasma,
            effect_site_mg_per_l: curve.effect_site,
            metabolites,
            absorption: self.absorption(),
            summary: SummaryOutput {
                cmax_mg_per_l: summary.cmax,
                tmax_min: summary.tmax,
                auc_mg_min_per_l: auc_to_last,
                end_of_infusion_mg_per_l: eoi,
                minutes_in_band: summary.minutes_in_band,
                band_mg_per_l: self.band.map(|(a, b)| [a, b]),
            },
            percentiles,
        })
    }
}

/// The output as CSV: one row per time.
pub fn to_csv(out: &SimulationOutput) -> String {
    let mut header = vec!["time_min", "concentration_mg_per_l"];
    if out.effect_site_mg_per_l.is_some() {
        header.push("effect_site_mg_per_l");
    }
    let metabolite_columns: Vec<(&str, &Vec<f64>)> = out
        .metabolites
        .as_ref()
        .map(|m| {
            [
                ("noresketamine_mg_per_l", &m.noresketamine_mg_per_l),
                ("norketamine_mg_per_l", &m.norketamine_mg_per_l),
                (
                    "hydroxynorketamine_mg_per_l",
                    &m.hydroxynorketamine_mg_per_l,
                ),
            ]
            .into_iter()
            .filter_map(|(name, v)| v.as_ref().map(|v| (name, v)))
            .collect()
        })
        .unwrap_or_default();
    header.extend(metabolite_columns.iter().map(|(name, _)| *name));
    if out.percentiles.is_some() {
        header.extend(["p5_mg_per_l", "p50_mg_per_l", "p95_mg_per_l"]);
    }
    let mut csv = header.join(",") + "\n";
    for (i, t) in out.times_min.iter().enumerate() {
        let mut row = vec![
            format!("{t}"),
            format!("{:.6}", out.concentration_mg_per_l[i]),
        ];
        if let Some(ce) = &out.effect_site_mg_per_l {
            row.push(format!("{:.6}", ce[i]));
        }
        for (_, values) in &metabolite_columns {
            row.push(format!("{:.6}", values[i]));
        }
        if let Some(p) = &out.percentiles {
            row.extend([
                format!("{:.6}", p.p5[i]),
                format!("{:.6}", p.p50[i]),
                format!("{:.6}", p.p95[i]),
            ]);
        }
        csv.push_str(&row.join(","));
        csv.push('\n');
    }
    csv
}

//! The simulation scenario as JSON: one wire format for `ketaflow simulate` and
//! `POST /api/v1/pk/simulate`, converted by hand into `pk` values and back.

use pk::PkError;
use pk::dose::DoseCaps;
use pk::limits::{NeverStop, Stop};
use pk::model::{Analyte, Patient, Provenance, Sampling};
use pk::models::{ModelId, ModelOptions};
use pk::regimen::RegimenInput;
use pk::simulate::{Dose, simulate, summarize};
use pk::units::Minutes;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

pub use pk::regimen::DISSOCIATION_BAND_MG_PER_L;

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

impl From<pk::regimen::Problem> for ScenarioError {
    fn from(p: pk::regimen::Problem) -> Self {
        ScenarioError {
            field: p.field,
            message: p.message,
        }
    }
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

impl ScenarioInput {
    /// The regimen as `pk` takes it, field for field.
    fn regimen_input(&self) -> RegimenInput {
        RegimenInput {
            model: self.model.clone(),
            weight_scaling: self.options.weight_scaling.clone(),
            weight_kg: self.patient.weight_kg,
            weight_lb: self.patient.weight_lb,
            age_years: self.patient.age_years,
            sex: self.patient.sex.clone(),
            doses: self
                .doses
                .iter()
                .map(|d| pk::regimen::DoseInput {
                    route: d.route.clone(),
                    start_min: d.start_min,
                    amount_mg: d.amount_mg,
                    duration_min: d.duration_min,
                    devices: d.devices,
                    mg_per_device: d.mg_per_device,
                    interval_min: d.interval_min,
                    bioavailability: d.bioavailability,
                    absorption_tmax_min: d.absorption_tmax_min,
                })
                .collect(),
            times_min: self.times_min.clone(),
            band_mg_per_l: self.band_mg_per_l,
            population: self.population,
            seed: self.seed,
        }
    }

    /// Checks everything by `pk`'s rules; `caps` limit each racemic dose by route (clinic
    /// settings, by default [`DoseCaps::default`]). Every problem, in the order of the fields.
    pub fn validate_all(&self, caps: DoseCaps) -> Result<Scenario, Vec<ScenarioError>> {
        let regimen = self.regimen_input().validate(caps).map_err(|problems| {
            problems
                .into_iter()
                .map(ScenarioError::from)
                .collect::<Vec<_>>()
        })?;
        Ok(Scenario {
            model: regimen.model,
            options: regimen.options,
            patient: regimen.patient,
            doses: regimen.doses,
            times: regimen.times,
            band: regimen.band,
            population: regimen.population,
        })
    }

    /// [`Self::validate_all`], reporting the first problem (the API and the command line name
    /// one field).
    pub fn validate(&self, caps: DoseCaps) -> Result<Scenario, ScenarioError> {
        self.validate_all(caps).map_err(|mut problems| {
            if problems.is_empty() {
                ScenarioError {
                    field: "model".into(),
                    message: "the scenario could not be checked".into(),
                }
            } else {
                problems.swap_remove(0)
            }
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
        self.population = Some(pk::regimen::check_population(
            self.model,
            n,
            self.times.len(),
            seed,
        )?);
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

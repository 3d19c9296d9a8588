//! What a model is: its published description and, for one patient, the linear system that
//! moves drug between its compartments.

use crate::matrix::Matrix;
use crate::units::Kg;

/// Biological sex, for models with a sex covariate (none of the built-in models has one yet).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sex {
    /// Female.
    Female,
    /// Male.
    Male,
}

/// The patient a simulation is for.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Patient {
    /// Total body weight.
    pub weight: Kg,
    /// Age in years, when known.
    pub age_years: Option<f64>,
    /// Sex, when known.
    pub sex: Option<Sex>,
}

/// How a dose enters the body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    /// Intravenous bolus.
    IvBolus,
    /// Intravenous infusion at a constant rate.
    IvInfusion,
    /// Intramuscular injection.
    Intramuscular,
    /// Nasal spray.
    Intranasal,
    /// Swallowed.
    Oral,
    /// Under the tongue or against the cheek.
    Sublingual,
}

impl Route {
    /// Every route, in the order messages list them.
    pub const ALL: [Route; 6] = [
        Route::IvBolus,
        Route::IvInfusion,
        Route::Intramuscular,
        Route::Intranasal,
        Route::Oral,
        Route::Sublingual,
    ];

    /// The code used in scenarios.
    pub fn code(self) -> &'static str {
        match self {
            Route::IvBolus => "iv_bolus",
            Route::IvInfusion => "iv_infusion",
            Route::Intramuscular => "intramuscular",
            Route::Intranasal => "intranasal",
            Route::Oral => "oral",
            Route::Sublingual => "sublingual",
        }
    }

    /// Parses a code.
    pub fn parse(s: &str) -> Option<Route> {
        Route::ALL.into_iter().find(|r| r.code() == s.trim())
    }
}

/// What a model's concentrations are of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Analyte {
    /// Racemic ketamine (R + S).
    RacemicKetamine,
    /// Esketamine (S-ketamine) only.
    Esketamine,
}

/// Where the data behind a model were sampled; arterial models run higher during an infusion.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sampling {
    /// Venous plasma.
    Venous,
    /// Arterial plasma.
    Arterial,
    /// Not established.
    Unclear,
}

/// How far the parameter values have been checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Provenance {
    /// Checked against the paper or a table-traced transcription of it.
    CheckedAgainstPaper,
    /// Taken from open-source implementations that agree with each other; the paper's tables
    /// were not read.
    OpenSourceOnly,
}

/// A model's public description.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ModelInfo {
    /// Identifier used in scenarios.
    pub id: &'static str,
    /// Name.
    pub name: &'static str,
    /// Reference.
    pub citation: &'static str,
    /// What it predicts.
    pub analyte: Analyte,
    /// Sampling site of its data.
    pub sampling: Sampling,
    /// How its values were checked.
    pub provenance: Provenance,
    /// Notes a clinician should read with the curves.
    pub caveats: &'static str,
    /// Routes it describes.
    pub routes: &'static [Route],
}

/// A metabolite the model tracks.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Metabolite {
    pub(crate) name: &'static str,
    pub(crate) compartment: usize,
    /// Volume of its central compartment, L (apparent, /F, where the model says so).
    pub(crate) volume: f64,
}

/// How a model turns a clinician's dose into inputs to its compartments.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Routes {
    /// IV only, into the central compartment.
    IntravenousOnly,
    /// Perez-Ruixo 2021 esketamine: nasal devices and IV.
    PerezRuixo(crate::models::perez_ruixo::Routing),
    /// Simons 2022 S-ketamine: oral thin film (sublingual) and IV.
    Simons(crate::models::simons::Routing),
}

/// Central volume (L) and rate constants (1/min) of a mammillary model; `k13` and `k31` are 0
/// for two compartments.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MicroConstants {
    /// Central volume, L.
    pub v1: f64,
    /// Elimination, 1/min.
    pub k10: f64,
    /// Central → second compartment, 1/min.
    pub k12: f64,
    /// Central → third compartment, 1/min.
    pub k13: f64,
    /// Second → central, 1/min.
    pub k21: f64,
    /// Third → central, 1/min.
    pub k31: f64,
}

/// A first-order absorption depot added to an IV model for one route and one time to peak.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Depot {
    pub(crate) route: Route,
    /// The time to peak its rate was derived from, min.
    pub(crate) tmax_min: f64,
    /// The state holding the drug not yet absorbed.
    pub(crate) state: usize,
    /// The route's default bioavailability.
    pub(crate) f_default: f64,
}

/// The refusal of an extravascular route for which Ketaflow has no racemic absorption facts.
fn no_absorption(route: Route) -> crate::PkError {
    crate::PkError::RouteNotDescribed {
        model: "this model",
        route: route.code(),
        models: "none for racemic ketamine by this route yet".into(),
    }
}

/// A model set up for one patient: `x' = A x + u`, amounts in mg, time in minutes.
#[derive(Debug, Clone)]
pub struct Built {
    /// An eigen-decomposition of `a`, where the model's structure allows a cheap one.
    pub(crate) spectral: Option<crate::spectral::Spectral>,
    pub(crate) routes: Routes,
    /// Absorption depots added for extravascular doses of IV models.
    pub(crate) depots: Vec<Depot>,
    pub(crate) metabolites: Vec<Metabolite>,
    pub(crate) a: Matrix,
    /// Index of the central compartment (amount, mg).
    pub(crate) central: usize,
    /// Central volume, L.
    pub(crate) v1: f64,
    /// Index of the effect-site state (concentration, mg/L), where the model has one.
    pub(crate) effect: Option<usize>,
    /// Index of the state accumulating the area under the central concentration, mg·min/L
    /// (absent where only concentrations are needed, as in population runs).
    pub(crate) auc: Option<usize>,
}

impl Built {
    /// A mammillary model from micro-constants (min⁻¹) and the central volume (L):
    /// `k10`, then `(k1i, ki1)` for each peripheral compartment; an effect site when `ke0` is given.
    pub(crate) fn mammillary(
        v1: f64,
        k10: f64,
        peripherals: &[(f64, f64)],
        ke0: Option<f64>,
    ) -> Built {
        let n_pk = 1 + peripherals.len();
        let effect = ke0.map(|_| n_pk);
        let auc = n_pk + usize::from(ke0.is_some());
        let mut a = Matrix::zeros(auc + 1);
        let out: f64 = k10 + peripherals.iter().map(|(k1i, _)| k1i).sum::<f64>();
        a.set(0, 0, -out);
        for (i, (k1i, ki1)) in peripherals.iter().enumerate() {
            let p = i + 1;
            a.set(0, p, *ki1);
            a.set(p, 0, *k1i);
            a.set(p, p, -ki1);
        }
        if let (Some(e), Some(ke0)) = (effect, ke0) {
            a.set(e, 0, ke0 / v1);
            a.set(e, e, -ke0);
        }
        a.add_to(auc, 0, 1.0 / v1);
        // Peripheral volumes from the micro-constants: V_i = V1·k1i/ki1.
        let volumes: Vec<f64> = std::iter::once(v1)
            .chain(peripherals.iter().map(|(k1i, ki1)| v1 * k1i / ki1))
            .collect();
        let core: Vec<usize> = (0..n_pk).collect();
        let sinks: Vec<usize> = effect.into_iter().chain([auc]).collect();
        let spectral = crate::spectral::Spectral::of_parts(&a, &core, &volumes, &[], &sinks);
        Built {
            spectral,
            routes: Routes::IntravenousOnly,
            depots: Vec::new(),
            metabolites: Vec::new(),
            a,
            central: 0,
            v1,
            effect,
            auc: Some(auc),
        }
    }

    /// The inputs a dose makes in this model.
    pub(crate) fn inputs(
        &self,
        dose: &crate::simulate::Dose,
    ) -> Result<Vec<crate::simulate::Input>, crate::PkError> {
        use crate::simulate::{Dose, Input};
        match (&self.routes, dose) {
            (_, Dose::IvBolus { start, amount }) => {
                Ok(vec![Input::bolus(self.central, start.get(), amount.get())])
            }
            (
                _,
                Dose::IvInfusion {
                    start,
                    amount,
                    duration,
                },
            ) => Ok(vec![Input::zero_order(
                self.central,
                start.get(),
                amount.get(),
                duration.get(),
            )]),
            (
                Routes::PerezRuixo(r),
                Dose::NasalDevices {
                    start,
                    devices,
                    mg_per_device,
                    interval,
                },
            ) => Ok(r.nasal_inputs(start.get(), *devices, mg_per_device.get(), interval.get())),
            (
                Routes::Simons(r),
                Dose::Extravascular {
                    route: Route::Sublingual,
                    start,
                    amount,
                    bioavailability,
                    absorption_tmax,
                },
            ) => {
                if bioavailability.is_some() {
                    return Err(crate::models::simons::fixed_absorption("bioavailability"));
                }
                if absorption_tmax.is_some() {
                    return Err(crate::models::simons::fixed_absorption("absorption_tmax_min"));
                }
                Ok(r.film_inputs(start.get(), amount.get()))
            }
            (
                Routes::IntravenousOnly,
                Dose::Extravascular {
                    route,
                    start,
                    amount,
                    bioavailability,
                    absorption_tmax,
                },
            ) => {
                let depot = self
                    .depot(*route, *absorption_tmax)
                    .ok_or_else(|| no_absorption(*route))?;
                Ok(vec![Input::bolus(
                    depot.state,
                    start.get(),
                    amount.get() * bioavailability.unwrap_or(depot.f_default),
                )])
            }
            (_, Dose::NasalDevices { .. }) => Err(crate::PkError::RouteNotDescribed {
                model: "this model",
                route: Route::Intranasal.code(),
                models: "perez_ruixo2021".into(),
            }),
            (_, Dose::Extravascular { route, .. }) => Err(crate::PkError::RouteNotDescribed {
                model: "this model",
                route: route.code(),
                models: "domino, clements250, kamp2020 (intramuscular, oral, sublingual, intranasal in mg); simons2022 (sublingual film)".into(),
            }),
        }
    }

    /// The micro-constants of an IV-only mammillary model (2 or 3 compartments), for display and
    /// for comparison with other implementations; `None` for other structures.
    pub fn micro_constants(&self) -> Option<MicroConstants> {
        if self.routes != Routes::IntravenousOnly {
            return None;
        }
        let peripherals = self.effect.or(self.auc).unwrap_or(self.a.size()) - 1;
        let a = &self.a;
        let k1 = |p: usize| a.get(p, 0);
        let kp = |p: usize| a.get(0, p);
        let k12 = k1(1);
        let k21 = kp(1);
        let (k13, k31) = if peripherals == 2 {
            (k1(2), kp(2))
        } else {
            (0.0, 0.0)
        };
        Some(MicroConstants {
            v1: self.v1,
            k10: -a.get(0, 0) - k12 - k13,
            k12,
            k13,
            k21,
            k31,
        })
    }

    /// This model ready for `doses`: with the absorption depots their routes need (deriving each
    /// depot's rate is a search, so a caller simulating the same doses several times prepares the
    /// model once; `simulate` adds missing depots itself otherwise).
    pub fn for_doses(self, doses: &[crate::simulate::Dose]) -> Result<Built, crate::PkError> {
        if self.needs_depots(doses) {
            self.with_depots(doses)
        } else {
            Ok(self)
        }
    }

    /// Whether `doses` need absorption depots this model does not have yet.
    pub(crate) fn needs_depots(&self, doses: &[crate::simulate::Dose]) -> bool {
        self.routes == Routes::IntravenousOnly
            && doses.iter().any(|d| {
                matches!(d, crate::simulate::Dose::Extravascular { route, absorption_tmax, .. }
                    if self.depot(*route, *absorption_tmax).is_none())
            })
    }

    /// The depot for `route` whose rate reproduces `tmax` (the route's published Tmax when
    /// `None`), if this model has it.
    fn depot(&self, route: Route, tmax: Option<crate::units::Minutes>) -> Option<&Depot> {
        let wanted = match tmax {
            Some(t) => t.get(),
            None => crate::absorption::facts(route)?.tmax_min,
        };
        self.depots
            .iter()
            .find(|d| d.route == route && d.tmax_min.to_bits() == wanted.to_bits())
    }

    /// A copy with one first-order depot per extravascular route and time to peak in `doses`,
    /// each draining into the central compartment at the rate that reproduces that time to peak
    /// (the route's published Tmax unless the dose sets another).
    pub(crate) fn with_depots(
        &self,
        doses: &[crate::simulate::Dose],
    ) -> Result<Built, crate::PkError> {
        let mut out = self.clone();
        for d in doses {
            let crate::simulate::Dose::Extravascular {
                route,
                absorption_tmax,
                ..
            } = d
            else {
                continue;
            };
            if out.depot(*route, *absorption_tmax).is_some() {
                continue;
            }
            if out.depots.len() >= crate::limits::MAX_ABSORPTION_DEPOTS {
                return Err(crate::PkError::TooMany {
                    field: "doses",
                    what: "distinct absorption depots (route and time to peak)",
                    count: distinct_depots(doses),
                    max: crate::limits::MAX_ABSORPTION_DEPOTS,
                    hint: "; give doses of one route the same absorption_tmax_min",
                });
            }
            let facts = crate::absorption::facts(*route).ok_or_else(|| no_absorption(*route))?;
            let tmax_min = absorption_tmax.map_or(facts.tmax_min, |t| t.get());
            out.spectral = None;
            let state = out.a.size();
            out.a = out.a.grown(state + 1);
            let ka = crate::absorption::ka_for_tmax(&out, state, tmax_min)?;
            out.a.add_to(state, state, -ka);
            out.a.add_to(out.central, state, ka);
            out.depots.push(Depot {
                route: *route,
                tmax_min,
                state,
                f_default: facts.f_default,
            });
        }
        Ok(out)
    }

    /// Number of states.
    pub fn states(&self) -> usize {
        self.a.size()
    }
}

/// How many distinct (route, time to peak) absorption depots `doses` ask for.
pub(crate) fn distinct_depots(doses: &[crate::simulate::Dose]) -> usize {
    let mut seen: Vec<(Route, Option<u64>)> = Vec::new();
    for d in doses {
        if let crate::simulate::Dose::Extravascular {
            route,
            absorption_tmax,
            ..
        } = d
        {
            let key = (*route, absorption_tmax.map(|t| t.get().to_bits()));
            if !seen.contains(&key) {
                seen.push(key);
            }
        }
    }
    seen.len()
}

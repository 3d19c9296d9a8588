//! The dose planner: a patient's weight, a route, a dose and a model in; a concentration chart,
//! what the nurse draws and programs, and a table out. Read-only, so the form is a GET and its
//! URL can be shared.
//!
//! The handler reads the form into a checked plan ([`PlannerForm::read`], every problem at its
//! field in the form's words), runs the model off the executor, and renders.

use askama::Template;
use axum::extract::{Query, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use pk::dose::{InfusionOrder, PlanningFloor, ROUNDING_RULE, plan_infusion, round_to};
use pk::model::{Analyte, Provenance, Route};
use pk::models::ModelId;
use pk::units::Kg;
use serde::Deserialize;
use store::PatientId;

use super::FormErrors;
use crate::AppState;
use crate::capability::{Can, ClinicalData};
use crate::chart::concentration_chart;
use crate::compute::{Unfinished, off_executor};
use crate::display::Choice;
use crate::error::AppError;
use crate::scenario::{DoseInput, OptionsInput, PatientInput, Scenario, ScenarioInput};
use crate::view::{PageCtx, render};

/// The planner form as typed (all text, so nothing typed is lost on an error).
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct PlannerForm {
    #[serde(default = "default_weight")]
    weight: String,
    #[serde(default = "default_unit")]
    weight_unit: String,
    #[serde(default = "default_model")]
    model: String,
    #[serde(default = "default_route")]
    route: String,
    #[serde(default = "default_mg_per_kg")]
    mg_per_kg: String,
    #[serde(default = "default_duration")]
    duration_min: String,
    #[serde(default = "default_devices")]
    devices: String,
    #[serde(default)]
    age_years: String,
    #[serde(default)]
    tmax_min: String,
    #[serde(default = "default_stock")]
    stock_mg_per_ml: String,
    #[serde(default = "default_bag")]
    bag_ml: String,
    /// The patient the plan is for, when opened from their record.
    #[serde(default)]
    patient: String,
}

fn default_weight() -> String {
    "70".into()
}
fn default_unit() -> String {
    "kg".into()
}
fn default_model() -> String {
    "kamp2020".into()
}
fn default_route() -> String {
    "iv_infusion".into()
}
fn default_mg_per_kg() -> String {
    "0.5".into()
}
fn default_duration() -> String {
    "40".into()
}
fn default_devices() -> String {
    "2".into()
}
fn default_stock() -> String {
    "50".into()
}
fn default_bag() -> String {
    "100".into()
}

/// The planner's routes: a pk route, and for the nose whether it is the Spravato device
/// (esketamine, fixed doses) or racemic ketamine by weight.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PlannerRoute {
    IvInfusion,
    IvBolus,
    Intramuscular,
    Oral,
    Sublingual,
    NasalByWeight,
    SpravatoDevices,
}

impl PlannerRoute {
    const ALL: [PlannerRoute; 7] = [
        PlannerRoute::IvInfusion,
        PlannerRoute::IvBolus,
        PlannerRoute::Intramuscular,
        PlannerRoute::Oral,
        PlannerRoute::Sublingual,
        PlannerRoute::NasalByWeight,
        PlannerRoute::SpravatoDevices,
    ];

    fn code(self) -> &'static str {
        match self {
            PlannerRoute::IvInfusion => "iv_infusion",
            PlannerRoute::IvBolus => "iv_bolus",
            PlannerRoute::Intramuscular => "intramuscular",
            PlannerRoute::Oral => "oral",
            PlannerRoute::Sublingual => "sublingual",
            PlannerRoute::NasalByWeight => "intranasal_mg",
            PlannerRoute::SpravatoDevices => "intranasal",
        }
    }

    fn label(self) -> &'static str {
        match self {
            PlannerRoute::IvInfusion => "IV infusion",
            PlannerRoute::IvBolus => "IV bolus",
            PlannerRoute::Intramuscular => "Intramuscular injection",
            PlannerRoute::Oral => "By mouth",
            PlannerRoute::Sublingual => "Under the tongue",
            PlannerRoute::NasalByWeight => "Racemic nasal spray (mg/kg)",
            PlannerRoute::SpravatoDevices => "Esketamine nasal spray (Spravato devices)",
        }
    }

    fn parse(code: &str) -> Option<PlannerRoute> {
        PlannerRoute::ALL.into_iter().find(|r| r.code() == code)
    }

    fn pk(self) -> Route {
        match self {
            PlannerRoute::IvInfusion => Route::IvInfusion,
            PlannerRoute::IvBolus => Route::IvBolus,
            PlannerRoute::Intramuscular => Route::Intramuscular,
            PlannerRoute::Oral => Route::Oral,
            PlannerRoute::Sublingual => Route::Sublingual,
            PlannerRoute::NasalByWeight | PlannerRoute::SpravatoDevices => Route::Intranasal,
        }
    }

    /// Whether `model` describes this route: its routes hold it, and the nose is the Spravato
    /// device for esketamine models and a weight-based spray for racemic ones.
    fn described_by(self, model: ModelId) -> bool {
        let info = model.info();
        info.routes.contains(&self.pk())
            && match self {
                PlannerRoute::SpravatoDevices => info.analyte == Analyte::Esketamine,
                PlannerRoute::NasalByWeight => info.analyte == Analyte::RacemicKetamine,
                _ => true,
            }
    }

    fn extravascular(self) -> bool {
        !matches!(
            self,
            PlannerRoute::IvInfusion | PlannerRoute::IvBolus | PlannerRoute::SpravatoDevices
        )
    }
}

/// The routes a model describes, in words: "IV infusion, IV bolus and by mouth".
fn routes_in_words(model: ModelId) -> String {
    let names: Vec<String> = PlannerRoute::ALL
        .into_iter()
        .filter(|r| r.described_by(model))
        .map(|r| r.label().to_lowercase().replace("iv ", "IV "))
        .collect();
    match names.split_last() {
        None => "no route".into(),
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
    }
}

/// A number for a message: at most three decimals, never hundreds of digits.
fn shown(v: f64) -> String {
    if !v.is_finite() || v.abs() >= 1e6 {
        return "a very large number".into();
    }
    if v != 0.0 && v.abs() < 0.001 {
        return "less than 0.001".into();
    }
    let s = format!("{v:.3}");
    s.trim_end_matches('0').trim_end_matches('.').to_owned()
}

/// Reads a typed number; an empty or unreadable field is a message at it.
fn number(
    errors: &mut FormErrors,
    field: &str,
    label: &str,
    text: &str,
    example: &str,
) -> Option<f64> {
    match text.trim().parse::<f64>() {
        Ok(v) if v.is_finite() => Some(v),
        _ if text.trim().is_empty() => {
            errors.push(field, format!("Enter the {label}, such as {example}."));
            None
        }
        _ => {
            errors.push(
                field,
                format!("The {label} must be a number, such as {example}."),
            );
            None
        }
    }
}

/// What the nurse draws, hangs and programs, in rows of the plan's facts.
pub(crate) struct NurseView {
    rows: Vec<(String, String)>,
    rule: &'static str,
    caution: Option<String>,
}

pub(crate) struct Row {
    time: String,
    mark: &'static str,
    plasma: String,
    effect: String,
}

pub(crate) struct PlanResult {
    /// Drawn when the page is rendered, so a failure of its template fails the page.
    chart: crate::chart::ConcentrationChart,
    model_name: &'static str,
    citation: &'static str,
    caveats: &'static str,
    absorption: Vec<String>,
    checked: bool,
    sampling: &'static str,
    dose_text: String,
    cmax: String,
    tmax: String,
    eoi: Option<String>,
    band: String,
    has_effect: bool,
    rows: Vec<Row>,
    nurse: NurseView,
}

/// The patient a plan is for.
pub(crate) struct PlanFor {
    id: String,
    name: String,
    born: String,
    mrn: String,
    /// The latest recorded weight and its date, when there is one.
    weight: Option<String>,
}

/// A route in the menu, with the models that describe it (for the script that greys out the
/// others).
pub(crate) struct RouteChoice {
    value: &'static str,
    label: &'static str,
    selected: bool,
    models: String,
}

/// A model in the menu, with its routes in words (for the hint under the route).
pub(crate) struct ModelChoice {
    value: &'static str,
    label: &'static str,
    selected: bool,
    routes: String,
}

#[derive(Template)]
#[template(path = "planner.html")]
pub(crate) struct PlannerPage {
    ctx: PageCtx,
    form: PlannerForm,
    models: Vec<ModelChoice>,
    routes: Vec<RouteChoice>,
    units: Vec<Choice>,
    stocks: Vec<Choice>,
    route_hint: String,
    errors: FormErrors,
    result: Option<PlanResult>,
    plan_for: Option<PlanFor>,
}

/// A plan read from the form: the scenario to run and the nurse's order.
struct Plan {
    scenario: Scenario,
    route: PlannerRoute,
    weight: Kg,
    dose_mg: f64,
    mg_per_kg: Option<f64>,
    duration_min: Option<f64>,
    devices: Option<u32>,
    stock_mg_per_ml: f64,
    bag_ml: f64,
}

impl PlannerForm {
    /// Checks every field and builds the plan, or gives every problem at its field.
    fn read(&self, caps: pk::dose::DoseCaps, floor: PlanningFloor) -> Result<Plan, FormErrors> {
        let mut errors = FormErrors::default();
        let model = ModelId::parse(self.model.trim()).ok();
        if model.is_none() {
            errors.push("model", "Choose a model from the list.");
        }
        let route = PlannerRoute::parse(self.route.trim());
        match (route, model) {
            (None, _) => errors.push("route", "Choose a route from the list."),
            (Some(r), Some(m)) if !r.described_by(m) => errors.push(
                "route",
                format!(
                    "{} does not describe {}; it describes {}. Choose one of those routes, or another model.",
                    m.info().name,
                    r.label().to_lowercase().replace("iv ", "IV "),
                    routes_in_words(m)
                ),
            ),
            _ => {}
        }
        let unit = self.weight_unit.trim();
        let lb = match unit {
            "kg" => false,
            "lb" => true,
            _ => {
                errors.push("weight_unit", "Choose kg or lb for the weight.");
                false
            }
        };
        let weight = number(&mut errors, "weight", "weight", &self.weight, "70").and_then(|w| {
            let kg = if lb { w * 0.453_592_37 } else { w };
            if w <= 0.0 {
                errors.push("weight", format!("Weight must be more than 0 {unit}."));
                return None;
            }
            match Kg::new(kg) {
                Ok(k) => Some(k),
                Err(_) => {
                    errors.push(
                        "weight",
                        format!(
                            "Weight must be between {} and {} kg ({} and {} lb); check the number and the unit.",
                            shown(Kg::MIN),
                            shown(Kg::MAX),
                            shown(round_to(Kg::MIN / 0.453_592_37, 1)),
                            shown(round_to(Kg::MAX / 0.453_592_37, 1))
                        ),
                    );
                    None
                }
            }
        });
        let age = if self.age_years.trim().is_empty() {
            None
        } else {
            number(&mut errors, "age_years", "age", &self.age_years, "45").and_then(|a| {
                if (0.0..=120.0).contains(&a) {
                    Some(a)
                } else {
                    errors.push("age_years", "Age must be between 0 and 120 years.");
                    None
                }
            })
        };
        let mut devices = None;
        let mut mg_per_kg = None;
        let mut duration = None;
        let mut tmax = None;
        let mut stock = 0.0;
        let mut bag = 0.0;
        if route == Some(PlannerRoute::SpravatoDevices) {
            match self.devices.trim().parse::<u32>() {
                Ok(n) => match pk::dose::check_spravato_devices(n, age) {
                    Ok(()) => devices = Some(n),
                    Err(e) => errors.push("devices", super::sentence(&e.to_string())),
                },
                Err(_) => errors.push("devices", "Enter 1, 2 or 3 devices (28, 56 or 84 mg)."),
            }
        } else if route.is_some() {
            mg_per_kg = number(&mut errors, "mg_per_kg", "dose", &self.mg_per_kg, "0.5")
                .and_then(|d| {
                    if d <= 0.0 {
                        errors.push("mg_per_kg", "Dose must be more than 0 mg/kg.");
                        return None;
                    }
                    match floor.check_dose(d) {
                        Ok(()) => Some(d),
                        Err(_) => {
                            errors.push(
                                "mg_per_kg",
                                format!(
                                    "A dose of {} mg/kg is below the smallest dose planned, {} mg/kg (the lowest dose studied for depression).",
                                    shown(d),
                                    shown(floor.min_mg_per_kg)
                                ),
                            );
                            None
                        }
                    }
                });
        }
        if route == Some(PlannerRoute::IvInfusion) {
            duration = number(&mut errors, "duration_min", "infusion duration", &self.duration_min, "40")
                .and_then(|d| {
                    if d <= 0.0 {
                        errors.push("duration_min", "Infusion duration must be more than 0 minutes.");
                        None
                    } else if floor.check_infusion(d).is_err() {
                        errors.push(
                            "duration_min",
                            format!(
                                "An infusion of {} minutes is shorter than the shortest planned, {} minutes; for an instant dose choose IV bolus.",
                                shown(d),
                                shown(floor.min_infusion_min)
                            ),
                        );
                        None
                    } else if d > 24.0 * 60.0 {
                        errors.push("duration_min", "Infusion duration must be at most 1440 minutes (24 hours).");
                        None
                    } else {
                        Some(d)
                    }
                });
            bag = number(&mut errors, "bag_ml", "bag volume", &self.bag_ml, "100").unwrap_or(0.0);
            if !(0.0..=1000.0).contains(&bag) {
                errors.push("bag_ml", "Bag volume must be between 0 and 1000 mL.");
            }
        }
        if matches!(
            route,
            Some(PlannerRoute::IvInfusion | PlannerRoute::IvBolus | PlannerRoute::Intramuscular)
        ) {
            stock = match self.stock_mg_per_ml.trim() {
                "10" => 10.0,
                "50" => 50.0,
                "100" => 100.0,
                _ => {
                    errors.push(
                        "stock_mg_per_ml",
                        "Choose the vial strength: 10, 50 or 100 mg/mL.",
                    );
                    0.0
                }
            };
        }
        if route.is_some_and(PlannerRoute::extravascular) && !self.tmax_min.trim().is_empty() {
            tmax = number(
                &mut errors,
                "tmax_min",
                "time to peak",
                &self.tmax_min,
                "20",
            )
            .and_then(|t| {
                if (1.0..=pk::regimen::MAX_ABSORPTION_TMAX_MIN).contains(&t) {
                    Some(t)
                } else {
                    errors.push(
                        "tmax_min",
                        format!(
                            "Absorption time to peak must be between 1 and {} minutes.",
                            shown(pk::regimen::MAX_ABSORPTION_TMAX_MIN)
                        ),
                    );
                    None
                }
            });
        }
        let (Some(route), Some(weight), true) = (route, weight, errors.is_empty()) else {
            return Err(errors);
        };
        let dose = match devices {
            Some(n) => DoseInput {
                route: "intranasal".into(),
                start_min: 0.0,
                amount_mg: None,
                duration_min: None,
                devices: Some(n),
                mg_per_device: Some(pk::dose::ESKETAMINE_MG_PER_DEVICE),
                interval_min: Some(5.0),
                bioavailability: None,
                absorption_tmax_min: None,
            },
            None => DoseInput {
                route: route.pk().code().into(),
                start_min: 0.0,
                amount_mg: mg_per_kg.map(|m| m * weight.get()),
                duration_min: duration,
                devices: None,
                mg_per_device: None,
                interval_min: None,
                bioavailability: None,
                absorption_tmax_min: tmax,
            },
        };
        let end = dose.duration_min.unwrap_or(0.0) + 10.0;
        let horizon = (end + 240.0).ceil();
        let times: Vec<f64> = (0..=(horizon / 10.0) as usize)
            .map(|i| i as f64 * 10.0)
            .collect();
        let input = ScenarioInput {
            model: self.model.trim().to_owned(),
            options: OptionsInput::default(),
            patient: PatientInput {
                weight_kg: Some(weight.get()),
                weight_lb: None,
                age_years: age,
                sex: None,
            },
            doses: vec![dose],
            times_min: times,
            band_mg_per_l: None,
            population: None,
            seed: None,
        };
        let scenario = input.validate_all(caps).map_err(|problems| {
            let mut errors = FormErrors::default();
            for e in problems {
                errors.push(form_field(&e.field), super::sentence(&e.message));
            }
            errors
        })?;
        let dose_mg = scenario.doses().iter().map(|d| d.amount()).sum();
        Ok(Plan {
            scenario,
            route,
            weight,
            dose_mg,
            mg_per_kg,
            duration_min: duration,
            devices,
            stock_mg_per_ml: stock,
            bag_ml: bag,
        })
    }
}

/// Maps a scenario field path to the form field that holds it.
fn form_field(path: &str) -> &'static str {
    if path.contains("weight") {
        "weight"
    } else if path.contains("age") {
        "age_years"
    } else if path.contains("absorption_tmax") {
        "tmax_min"
    } else if path.contains("duration") {
        "duration_min"
    } else if path.contains("devices") || path.contains("mg_per_device") {
        "devices"
    } else if path.contains("amount") {
        "mg_per_kg"
    } else if path.contains("route") || path.starts_with("doses") {
        "route"
    } else {
        "model"
    }
}

/// The nurse's figures for a plan: what to draw, the bag, the pump, or the devices.
fn nurse_view(plan: &Plan) -> NurseView {
    let mut rows = vec![(
        "Dose".to_owned(),
        match (plan.mg_per_kg, plan.devices) {
            (_, Some(n)) => format!(
                "{} mg esketamine: {n} Spravato device{}, 5 minutes apart",
                n * 28,
                if n == 1 { "" } else { "s" }
            ),
            (Some(m), None) => format!(
                "{:.1} mg ({} mg/kg × {:.1} kg)",
                round_to(plan.dose_mg, 1),
                shown(m),
                plan.weight.get()
            ),
            (None, None) => format!("{:.1} mg", round_to(plan.dose_mg, 1)),
        },
    )];
    let mut caution = None;
    match plan.route {
        PlannerRoute::IvInfusion => {
            let order = InfusionOrder {
                weight: plan.weight,
                mg_per_kg: plan.mg_per_kg.unwrap_or(0.0),
                duration_min: plan.duration_min.unwrap_or(0.0),
                stock_mg_per_ml: plan.stock_mg_per_ml,
                bag_ml: plan.bag_ml,
                max_mg_per_kg: f64::INFINITY,
            };
            if let Ok(p) = plan_infusion(&order) {
                rows.push((
                    "Draw from stock".into(),
                    format!(
                        "{:.2} mL of {} mg/mL",
                        round_to(p.stock_ml, 2),
                        shown(plan.stock_mg_per_ml)
                    ),
                ));
                rows.push((
                    "Bag".into(),
                    format!(
                        "{} mL + stock = {:.2} mL at {:.3} mg/mL",
                        shown(plan.bag_ml),
                        round_to(p.total_ml, 2),
                        round_to(p.bag_mg_per_ml, 3)
                    ),
                ));
                rows.push((
                    "Pump rate".into(),
                    format!(
                        "{:.1} mL/h ({:.1} mg/h) for {} min",
                        round_to(p.rate_ml_per_h, 1),
                        round_to(p.dose_rate_mg_per_h, 1),
                        shown(order.duration_min)
                    ),
                ));
                // Infusion solutions of 1–2 mg/mL are described (clinical.md §2.1, preparation).
                if p.bag_mg_per_ml > 2.0 {
                    caution = Some(format!(
                        "The bag would hold {:.3} mg/mL, stronger than the 1–2 mg/mL infusion solutions described; check the bag volume.",
                        round_to(p.bag_mg_per_ml, 3)
                    ));
                }
            }
        }
        PlannerRoute::IvBolus | PlannerRoute::Intramuscular => {
            rows.push((
                "Draw from stock".into(),
                format!(
                    "{:.2} mL of {} mg/mL",
                    round_to(plan.dose_mg / plan.stock_mg_per_ml, 2),
                    shown(plan.stock_mg_per_ml)
                ),
            ));
            // The 100 mg/mL strength must be diluted before IV use (clinical.md §2.1).
            if plan.route == PlannerRoute::IvBolus && plan.stock_mg_per_ml >= 100.0 {
                caution = Some(
                    "The 100 mg/mL strength must be diluted before it is given by vein.".into(),
                );
            }
        }
        _ => {}
    }
    NurseView {
        rows,
        rule: ROUNDING_RULE,
        caution,
    }
}

fn route_name(code: &str) -> &str {
    match code {
        "intramuscular" => "Intramuscular",
        "oral" => "By mouth",
        "sublingual" => "Under the tongue",
        "intranasal" => "Nasal spray",
        other => other,
    }
}

/// Runs the plan's model and lays out the result (on the blocking pool, with the deadline).
fn compute(plan: Plan, stop: &std::sync::atomic::AtomicBool) -> Result<PlanResult, pk::PkError> {
    let scenario = &plan.scenario;
    let out = scenario.run_until(stop)?;
    let chart = concentration_chart(scenario)?;
    let info = scenario.model().info();
    let s = &out.summary;
    let eoi = plan
        .duration_min
        .zip(s.end_of_infusion_mg_per_l.first().copied());
    let mut rows: Vec<Row> = out
        .times_min
        .iter()
        .enumerate()
        .filter(|(i, _)| i % 3 == 0)
        .map(|(i, t)| Row {
            time: format!("{t:.0}"),
            mark: "",
            plasma: format!("{:.3}", out.concentration_mg_per_l[i]),
            effect: out
                .effect_site_mg_per_l
                .as_ref()
                .map_or(String::new(), |ce| format!("{:.3}", ce[i])),
        })
        .collect();
    let mut marks = vec![(s.tmax_min, "Peak", s.cmax_mg_per_l)];
    if let Some((at, c)) = eoi {
        marks.push((at, "End of infusion", c));
    }
    for (at, mark, c) in marks {
        let row = Row {
            time: format!("{at:.0}"),
            mark,
            plasma: format!("{c:.3}"),
            effect: String::new(),
        };
        let pos = rows
            .iter()
            .position(|r| r.time.parse::<f64>().is_ok_and(|t| t > at))
            .unwrap_or(rows.len());
        rows.insert(pos, row);
    }
    Ok(PlanResult {
        chart,
        model_name: info.name,
        citation: info.citation,
        caveats: info.caveats,
        absorption: out
            .absorption
            .iter()
            .map(|a| {
                format!(
                    "{}: bioavailability {} ({}), time to peak {:.0} min ({}). Published: {}. The absorption rate is derived from the time to peak with this model, not published.",
                    route_name(a.route),
                    a.bioavailability,
                    if a.bioavailability_set { "set" } else { "default" },
                    a.tmax_min,
                    if a.tmax_set { "set here" } else { "published" },
                    a.source
                )
            })
            .collect(),
        checked: info.provenance == Provenance::CheckedAgainstPaper,
        sampling: out.model_info.sampling,
        dose_text: format!("{:.1} mg", round_to(plan.dose_mg, 1)),
        cmax: format!(
            "{:.3} mg/L ({:.0} ng/mL)",
            s.cmax_mg_per_l,
            s.cmax_mg_per_l * 1000.0
        ),
        tmax: format!("{:.0} min", s.tmax_min),
        eoi: eoi.map(|(at, c)| format!("{c:.3} mg/L at {at:.0} min")),
        band: match (s.minutes_in_band, s.band_mg_per_l) {
            (Some(m), Some([lo, hi])) => format!("{m:.0} min between {lo:.2} and {hi:.2} mg/L"),
            _ => "no reported band for this analyte".into(),
        },
        has_effect: out.effect_site_mg_per_l.is_some(),
        rows,
        nurse: nurse_view(&plan),
    })
}

pub(crate) async fn planner(
    who: Can<ClinicalData>,
    State(state): State<AppState>,
    ctx: PageCtx,
    RawQuery(raw): RawQuery,
    Query(mut form): Query<PlannerForm>,
) -> Result<Response, AppError> {
    let submitted = raw.as_deref().is_some_and(|q| {
        q.split('&')
            .any(|pair| !pair.starts_with("patient=") && !pair.is_empty())
    });
    // A plan opened from a patient's record says whose it is (an audited read of the record).
    let plan_for = match PatientId::parse(&form.patient) {
        Some(id) => {
            let p = state
                .store()
                .patient(
                    &who.actor(),
                    &who.user().site_id,
                    &id,
                    jiff::Timestamp::now(),
                )
                .await?;
            // The latest recorded weight, or nothing (never a stranger's 70 kg).
            let latest = state
                .store()
                .body_history(
                    &who.actor(),
                    &who.user().site_id,
                    &id,
                    jiff::Timestamp::now(),
                )
                .await?
                .into_iter()
                .find_map(|b| b.weight_kg.map(|kg| (kg, b.measured_on)));
            if !submitted {
                form.weight = latest.map_or_else(String::new, |(kg, _)| format!("{kg:.1}"));
                form.weight_unit = "kg".into();
            }
            Some(PlanFor {
                id: p.id.as_str().to_owned(),
                name: format!("{} {}", p.given_name, p.family_name),
                born: p.date_of_birth.to_string(),
                mrn: p.mrn,
                weight: latest.map(|(kg, on)| format!("{kg:.1} kg on {on}")),
            })
        }
        None => {
            form.patient = String::new();
            None
        }
    };
    // ok: this only marks the menu's choice and its hint; an unknown model is refused with a
    // message at its field by `PlannerForm::read`.
    let model = ModelId::parse(form.model.trim()).ok();
    let models = ModelId::ALL
        .into_iter()
        .map(|m| ModelChoice {
            value: m.info().id,
            label: m.info().name,
            selected: Some(m) == model,
            routes: format!("{} describes {}.", m.info().name, routes_in_words(m)),
        })
        .collect();
    let routes = PlannerRoute::ALL
        .into_iter()
        .map(|r| RouteChoice {
            value: r.code(),
            label: r.label(),
            selected: r.code() == form.route,
            models: ModelId::ALL
                .into_iter()
                .filter(|m| r.described_by(*m))
                .map(|m| m.info().id)
                .collect::<Vec<_>>()
                .join(" "),
        })
        .collect();
    let route_hint = model.map_or_else(String::new, |m| {
        format!("{} describes {}.", m.info().name, routes_in_words(m))
    });
    let choices = |options: &[(&'static str, &'static str)], chosen: &str| -> Vec<Choice> {
        options
            .iter()
            .map(|&(value, label)| Choice {
                value,
                label,
                selected: value == chosen,
            })
            .collect()
    };
    let units = choices(&[("kg", "kg"), ("lb", "lb")], form.weight_unit.trim());
    let stocks = choices(
        &[("10", "10 mg/mL"), ("50", "50 mg/mL"), ("100", "100 mg/mL")],
        form.stock_mg_per_ml.trim(),
    );
    let mut errors = FormErrors::default();
    let mut result = None;
    if submitted {
        match form.read(state.config().dose_caps, state.config().planning_floor) {
            Err(e) => errors = e,
            Ok(plan) => {
                let deadline = state.config().limits.simulation_deadline;
                match off_executor(deadline, move |stop| compute(plan, stop)).await {
                    Ok(Ok(r)) => result = Some(r),
                    // A combination the checks let through but the engine refuses is still a
                    // message at its field, never an error page.
                    Ok(Err(e)) => {
                        errors.push(form_field(e.field()), super::sentence(&e.to_string()))
                    }
                    Err(Unfinished::Deadline(_)) => errors.push(
                        "model",
                        "The model took too long for this plan and was stopped; try again.",
                    ),
                    Err(Unfinished::Failed) => return Err(AppError::ComputationFailed),
                }
            }
        }
    }
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let page = PlannerPage {
        ctx,
        form,
        models,
        routes,
        units,
        stocks,
        route_hint,
        errors,
        result,
        plan_for,
    };
    Ok((status, render(&page)?).into_response())
}

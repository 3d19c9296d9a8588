//! The dose planner: a patient's weight, a route, a dose and a model in; a concentration chart,
//! the numbers and a table out. Read-only, so the form is a GET and its URL can be shared.

use askama::Template;
use axum::extract::{Query, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use pk::models::ModelId;
use serde::Deserialize;

use super::FormErrors;
use crate::AppState;
use crate::capability::{Can, ClinicalData};
use crate::chart::concentration_chart;
use crate::display::Choice;
use crate::error::AppError;
use crate::scenario::{DoseInput, OptionsInput, PatientInput, ScenarioInput};
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

pub(crate) struct Row {
    time: String,
    plasma: String,
    effect: String,
}

pub(crate) struct Result_ {
    svg: String,
    model_name: &'static str,
    citation: &'static str,
    caveats: &'static str,
    absorption: Vec<String>,
    provenance: &'static str,
    sampling: &'static str,
    dose_text: String,
    cmax: String,
    tmax: String,
    eoi: String,
    band: String,
    has_effect: bool,
    rows: Vec<Row>,
}

#[derive(Template)]
#[template(path = "planner.html")]
pub(crate) struct PlannerPage {
    ctx: PageCtx,
    form: PlannerForm,
    models: Vec<Choice>,
    routes: Vec<Choice>,
    units: Vec<Choice>,
    errors: FormErrors,
    result: Option<Result_>,
}

fn number(errors: &mut FormErrors, field: &str, label: &str, text: &str) -> Option<f64> {
    match text.trim().parse::<f64>() {
        Ok(v) if v.is_finite() => Some(v),
        _ => {
            errors.push(field, format!("{label}: enter a number, such as 0.5."));
            None
        }
    }
}

/// A route's name in a sentence.
fn route_name(code: &str) -> &str {
    match code {
        "intramuscular" => "Intramuscular",
        "oral" => "By mouth",
        "sublingual" => "Under the tongue",
        "intranasal" => "Nasal spray",
        other => other,
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

pub(crate) async fn planner(
    _who: Can<ClinicalData>,
    State(state): State<AppState>,
    ctx: PageCtx,
    RawQuery(raw): RawQuery,
    Query(form): Query<PlannerForm>,
) -> Result<Response, AppError> {
    let submitted = raw.is_some_and(|q| !q.is_empty());
    let models = ModelId::ALL
        .into_iter()
        .map(|m| Choice {
            value: m.info().id,
            label: m.info().name,
            selected: m.info().id == form.model,
        })
        .collect();
    let routes = [
        ("iv_infusion", "IV infusion"),
        ("iv_bolus", "IV bolus"),
        ("intramuscular", "Intramuscular injection"),
        ("oral", "By mouth"),
        (
            "sublingual",
            "Under the tongue (esketamine film with simons2022)",
        ),
        ("intranasal_mg", "Racemic nasal spray (mg/kg)"),
        ("intranasal", "Esketamine nasal spray (devices)"),
    ]
    .into_iter()
    .map(|(value, label)| Choice {
        value,
        label,
        selected: value == form.route,
    })
    .collect();
    let units = [("kg", "kg"), ("lb", "lb")]
        .into_iter()
        .map(|(value, label)| Choice {
            value,
            label,
            selected: value == form.weight_unit,
        })
        .collect();
    let mut errors = FormErrors::default();
    let mut result = None;
    if submitted {
        let weight = number(&mut errors, "weight", "Weight", &form.weight);
        let age = if form.age_years.trim().is_empty() {
            None
        } else {
            number(&mut errors, "age_years", "Age", &form.age_years)
        };
        let dose = if form.route == "intranasal" {
            form.devices
                .trim()
                .parse::<u32>()
                .ok()
                .map(|devices| DoseInput {
                    route: "intranasal".into(),
                    start_min: 0.0,
                    amount_mg: None,
                    duration_min: None,
                    devices: Some(devices),
                    mg_per_device: Some(pk::dose::ESKETAMINE_MG_PER_DEVICE),
                    interval_min: Some(5.0),
                    bioavailability: None,
                    absorption_tmax_min: None,
                })
        } else {
            let mg_per_kg = number(&mut errors, "mg_per_kg", "Dose", &form.mg_per_kg);
            let duration = if form.route == "iv_infusion" {
                number(&mut errors, "duration_min", "Duration", &form.duration_min)
            } else {
                None
            };
            let extravascular = !matches!(form.route.as_str(), "iv_infusion" | "iv_bolus");
            let tmax = if extravascular && !form.tmax_min.trim().is_empty() {
                number(&mut errors, "tmax_min", "Time to peak", &form.tmax_min)
            } else {
                None
            };
            let kg = weight.map(|w| {
                if form.weight_unit == "lb" {
                    w * 0.453_592_37
                } else {
                    w
                }
            });
            let route = if form.route == "intranasal_mg" {
                "intranasal".to_owned()
            } else {
                form.route.clone()
            };
            match (mg_per_kg, kg) {
                (Some(m), Some(kg)) => Some(DoseInput {
                    route,
                    start_min: 0.0,
                    amount_mg: Some(m * kg),
                    duration_min: duration,
                    devices: None,
                    mg_per_device: None,
                    interval_min: None,
                    bioavailability: None,
                    absorption_tmax_min: tmax,
                }),
                _ => None,
            }
        };
        if dose.is_none() && form.route == "intranasal" {
            errors.push("devices", "Devices: enter 1, 2 or 3.");
        }
        if let (Some(w), Some(dose), true) = (weight, dose, errors.is_empty()) {
            let (weight_kg, weight_lb) = if form.weight_unit == "lb" {
                (None, Some(w))
            } else {
                (Some(w), None)
            };
            let end = dose.start_min + dose.duration_min.unwrap_or(0.0) + 10.0;
            let horizon = (end + 240.0).ceil();
            let times: Vec<f64> = (0..=(horizon / 10.0) as usize)
                .map(|i| i as f64 * 10.0)
                .collect();
            let input = ScenarioInput {
                model: form.model.clone(),
                options: OptionsInput::default(),
                patient: PatientInput {
                    weight_kg,
                    weight_lb,
                    age_years: age,
                    sex: None,
                },
                doses: vec![dose],
                times_min: times,
                band_mg_per_l: None,
                population: None,
                seed: None,
            };
            match input.validate_all(state.config().dose_caps) {
                Err(problems) => {
                    for e in problems {
                        errors.push(form_field(&e.field), format!("{}.", e.message));
                    }
                }
                Ok(scenario) => match scenario
                    .run()
                    .and_then(|out| concentration_chart(&scenario).map(|chart| (out, chart)))
                {
                    // A combination the checks above let through but the engine refuses is
                    // still a message at its field, never an error page.
                    Err(e) => errors.push(form_field(e.field()), format!("{e}.")),
                    Ok((out, chart)) => {
                        let info = scenario.model().info();
                        let s = &out.summary;
                        result = Some(Result_ {
                        svg: chart.render()?,
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
                        provenance: if out.model_info.provenance == "checked_against_paper" {
                            "checked against the paper"
                        } else {
                            "from open-source implementations, not checked against the paper"
                        },
                        sampling: out.model_info.sampling,
                        dose_text: scenario
                            .doses()
                            .iter()
                            .map(|d| format!("{:.1} mg", d.amount()))
                            .collect::<Vec<_>>()
                            .join(", "),
                        cmax: format!(
                            "{:.3} mg/L ({:.0} ng/mL)",
                            s.cmax_mg_per_l,
                            s.cmax_mg_per_l * 1000.0
                        ),
                        tmax: format!("{:.0} min", s.tmax_min),
                        eoi: s
                            .end_of_infusion_mg_per_l
                            .first()
                            .map_or("not an infusion".into(), |c| format!("{c:.3} mg/L")),
                        band: match (s.minutes_in_band, s.band_mg_per_l) {
                            (Some(m), Some([lo, hi])) => {
                                format!("{m:.0} min between {lo:.2} and {hi:.2} mg/L")
                            }
                            _ => "no reported band for this analyte".into(),
                        },
                        has_effect: out.effect_site_mg_per_l.is_some(),
                        rows: out
                            .times_min
                            .iter()
                            .enumerate()
                            .filter(|(i, _)| i % 3 == 0)
                            .map(|(i, t)| Row {
                                time: format!("{t:.0}"),
                                plasma: format!("{:.3}", out.concentration_mg_per_l[i]),
                                effect: out
                                    .effect_site_mg_per_l
                                    .as_ref()
                                    .map_or(String::new(), |ce| format!("{:.3}", ce[i])),
                            })
                            .collect(),
                    });
                    }
                },
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
        errors,
        result,
    };
    Ok((status, render(&page)?).into_response())
}

//! The treatment session as the nurse and the prescriber run it: check-in, pre-assessment, the
//! verified dose with its second check, the pump, vitals with alerts, adverse events,
//! discharge, sign and lock, addenda, and the Spravato REMS Patient Monitoring Form; and the
//! chair board of every session in the clinic, updated live.

use std::convert::Infallible;
use std::time::Duration;

use askama::Template;
use axum::Form;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{Html, IntoResponse, Redirect, Response};
use clinical::course::TargetDose;
use clinical::instruments::InstrumentId;
use clinical::instruments::schedule::TimePoint;
use clinical::ledger;
use clinical::session::{
    ADVERSE_GRADES, ActionTaken, AddendumText, AdverseKind, CheckedText, Checklist, Delivery,
    DoseLimits, EventDescription, LotNumber, NotGivenReason, OverrideReason, PregnancyTest,
    RemsAnswers, RemsChannel, SessionNote, SessionStatus, Step, Vitals, VitalsError, check_step,
};
use serde::Deserialize;
use store::{
    AppointmentId, DoseVerification, PreAssessment, SessionAlertId, SessionId, SessionRecord,
    SessionRefusal,
};

use super::{FormErrors, Posted, sentence};
use crate::AppState;
use crate::capability::{Can, ClinicalData, Prescribing};
use crate::error::AppError;
use crate::view::{PageCtx, StaffNames, render};

/// Every field any session form sends; each handler reads its own.
#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct SessionForm {
    appointment: String,
    alert: String,
    weight_kg: String,
    escort: String,
    fasting: String,
    pregnancy_test: String,
    note: String,
    /// Why the session ends without dosing, and the note saying more (fields of their own:
    /// the pre-assessment's note is on the same page).
    not_given: String,
    not_given_note: String,
    /// An adverse event's description (a field of its own: the pre-assessment's note is on
    /// the same page).
    description: String,
    systolic_mmhg: String,
    diastolic_mmhg: String,
    heart_rate_bpm: String,
    spo2_percent: String,
    respiratory_rate_per_min: String,
    dose_mg: String,
    duration_min: String,
    stock_mg_per_ml: String,
    bag_ml: String,
    lot: String,
    second_email: String,
    second_password: String,
    override_reason: String,
    step: String,
    dose_rate_mg_per_h: String,
    action: String,
    kind: String,
    grade: String,
    serious: String,
    alert_and_oriented: String,
    no_active_nausea: String,
    escort_present: String,
    vitals_near_baseline: String,
    ready_to_leave_min: String,
    first_treatment: String,
    benzodiazepines: String,
    sedative_hypnotics: String,
    psychostimulants: String,
    maois: String,
    opioids: String,
    vitals_ok_before: String,
    vitals_ok_end: String,
    sedation: String,
    dissociation: String,
    respiratory_depression: String,
    body: String,
    submitted_on: String,
    method: String,
    instrument: String,
    point: String,
    stock_lot: String,
    answer_1: String,
    answer_2: String,
    answer_3: String,
    answer_4: String,
    answer_5: String,
    answer_6: String,
    /// The form these values were sent with (the step: `pre`, `pump`, `adverse`, ...), set by
    /// the handler.
    #[serde(skip)]
    posted: Posted,
}

impl SessionForm {
    /// The discharge checklist: each item's field, its words, and whether it was ticked (kept
    /// when a discharge is refused).
    fn discharge_checks(&self) -> [(&'static str, &'static str, bool); 4] {
        [
            (
                "alert_and_oriented",
                "Alert and oriented",
                &self.alert_and_oriented,
            ),
            (
                "no_active_nausea",
                "No active nausea or vomiting",
                &self.no_active_nausea,
            ),
            (
                "escort_present",
                "A responsible adult is here to take the patient home",
                &self.escort_present,
            ),
            (
                "vitals_near_baseline",
                "Vitals near the patient's baseline",
                &self.vitals_near_baseline,
            ),
        ]
        .map(|(name, label, value)| (name, label, value == "on"))
    }

    /// The answer to item `n` (from 1) of an in-session scale.
    fn answer(&self, n: usize) -> &str {
        match n {
            1 => &self.answer_1,
            2 => &self.answer_2,
            3 => &self.answer_3,
            4 => &self.answer_4,
            5 => &self.answer_5,
            6 => &self.answer_6,
            _ => "",
        }
    }

    /// The answer sent to item `n` of the scale `instrument`'s form, when that form was the
    /// one sent back (each scale has its form; only the one sent keeps its answers).
    fn sent_answer(&self, instrument: &str, n: &usize) -> &str {
        if self.instrument == instrument {
            self.posted.sent("scale", self.answer(*n))
        } else {
            ""
        }
    }
}

fn ticked(v: &str) -> bool {
    matches!(v, "on" | "yes" | "true" | "1")
}

/// A whole-number measure; blank is none.
fn measure(errors: &mut FormErrors, field: &str, words: &str, v: &str) -> Option<u16> {
    let t = v.trim();
    if t.is_empty() {
        return None;
    }
    match t.parse::<u16>() {
        Ok(n) => Some(n),
        Err(_) => {
            errors.push(
                field,
                format!("Enter the {words} as a whole number, such as the monitor shows it."),
            );
            None
        }
    }
}

/// The vitals of the form, or `None` with their problems in `errors`; `check` is
/// [`Vitals::check`], or [`Vitals::check_before_dosing`] for the pre-assessment.
fn read_vitals(
    errors: &mut FormErrors,
    f: &SessionForm,
    check: fn(&Vitals) -> Vec<VitalsError>,
) -> Option<Vitals> {
    let before = errors.len();
    let v = Vitals {
        systolic_mmhg: measure(
            errors,
            "systolic_mmhg",
            "systolic pressure",
            &f.systolic_mmhg,
        ),
        diastolic_mmhg: measure(
            errors,
            "diastolic_mmhg",
            "diastolic pressure",
            &f.diastolic_mmhg,
        ),
        heart_rate_bpm: measure(errors, "heart_rate_bpm", "heart rate", &f.heart_rate_bpm),
        spo2_percent: measure(errors, "spo2_percent", "SpO2", &f.spo2_percent),
        respiratory_rate_per_min: measure(
            errors,
            "respiratory_rate_per_min",
            "respiratory rate",
            &f.respiratory_rate_per_min,
        ),
    };
    if errors.len() > before {
        return None;
    }
    let problems = check(&v);
    if problems.is_empty() {
        return Some(v);
    }
    for p in problems {
        errors.push(p.field(), sentence(&p.to_string()));
    }
    None
}

fn number(errors: &mut FormErrors, field: &str, words: &str, v: &str) -> Option<f64> {
    match v.trim().replace(',', ".").parse::<f64>() {
        Ok(n) if n.is_finite() && n > 0.0 => Some(n),
        _ => {
            errors.push(field, format!("Enter the {words} as a number above 0."));
            None
        }
    }
}

fn refusal_into(errors: &mut FormErrors, field: &str, r: SessionRefusal) {
    match r {
        SessionRefusal::Discharge(list) | SessionRefusal::Rems(list) => {
            for (f, m) in list {
                errors.push(f, sentence(&m));
            }
        }
        SessionRefusal::Vitals(problems) => {
            for p in problems {
                errors.push(p.field(), sentence(&p.to_string()));
            }
        }
        SessionRefusal::Limits(p) => errors.push(p.field(), sentence(&p.to_string())),
        other => errors.push(field, sentence(&other.to_string())),
    }
}

pub(crate) struct VitalsRow {
    time: String,
    minute: String,
    bp: String,
    hr: String,
    spo2: String,
    rr: String,
    source: &'static str,
    by: String,
    alerting: bool,
}

pub(crate) struct AlertRow {
    id: String,
    message: String,
    raised: String,
    acknowledged: Option<String>,
}

pub(crate) struct LineRow {
    time: String,
    text: String,
}

/// One set time of an in-session scale, or a rating taken.
pub(crate) struct ScaleRow {
    what: String,
    when: String,
    state: &'static str,
    urgent: bool,
    result: String,
}

/// One in-session scale's form: its set times still open and its items and answers.
pub(crate) struct ScaleForm {
    code: &'static str,
    name: &'static str,
    points: Vec<(String, String)>,
    selected: String,
    items: Vec<(usize, &'static str)>,
    options: Vec<(String, &'static str)>,
}

/// A rating in words: "7 of 24" or "4: Sluggish answer to name at normal voice".
fn rating_words(k: &store::ScaleRecord) -> String {
    let def = k.instrument.instrument();
    if def.items.len() == 1
        && let Some(o) = def.options.iter().find(|o| i32::from(o.value) == k.total)
    {
        return format!("{}: {}", k.total, o.label);
    }
    let max = i32::from(def.answer_max) * def.items.len() as i32;
    let band = k
        .band
        .as_deref()
        .and_then(|code| def.bands.iter().find(|b| b.code == code))
        .map_or_else(String::new, |b| format!(" ({})", b.label.to_lowercase()));
    format!("{} of {max}{band}", k.total)
}

pub(crate) struct DosePlan {
    /// The ordered dose in words.
    order: String,
    /// The dose for today's weight, mg.
    mg: String,
    /// Words about how it was reached.
    how: String,
}

#[derive(Template)]
#[template(path = "sessions/show.html")]
pub(crate) struct SessionPage {
    ctx: PageCtx,
    s: SessionRecord,
    title: String,
    status: &'static str,
    infusion: bool,
    esketamine: bool,
    can_prescribe: bool,
    next_check: Option<(String, &'static str, bool)>,
    /// The earliest discharge, in the clinic's time, while it is still ahead (esketamine).
    discharge_from: Option<String>,
    vitals: Vec<VitalsRow>,
    open_alerts: Vec<AlertRow>,
    closed_alerts: Vec<AlertRow>,
    /// The patient's open safety alerts (a PHQ-9 item 9 answered above 0, say), which stay
    /// open until a clinician records the follow-up: the nurse in the chair sees them.
    safety_alerts: Vec<AlertRow>,
    events: Vec<LineRow>,
    adverse: Vec<LineRow>,
    addenda: Vec<LineRow>,
    plan: Option<DosePlan>,
    pre_words: Option<String>,
    dose_words: Option<String>,
    chart: String,
    curve_words: Option<String>,
    steps: Vec<(&'static str, &'static str)>,
    kinds: Vec<(&'static str, &'static str)>,
    grades: Vec<(u8, &'static str)>,
    /// The REMS form's yes/no questions: code, words, the answer saved, and what Ketaflow's
    /// record says that bears on it ([`clinical::session::rems_record_hint`]).
    rems_questions: Vec<(&'static str, &'static str, Option<bool>, Option<String>)>,
    /// Where the saved REMS answers and the record disagree, each saying what to check
    /// ([`clinical::session::rems_record_differences`]).
    rems_differences: Vec<String>,
    rems_missing: Vec<String>,
    rems_ready: String,
    rems_lot: String,
    rate_hint: String,
    /// Vials to waste from: the container, what it holds in words, and the link's words.
    remainders: Vec<(String, String, &'static str)>,
    stock_lots: Vec<(String, String)>,
    /// The lots in stock that have expired, in words: not offered, named so the nurse knows
    /// why and the ledger is put right.
    expired_lots: Vec<String>,
    /// Opened vials past their days since first drawn from, in words: not drawn from.
    past_days: Vec<String>,
    /// Days an opened vial is drawn from (`ledger.opened_vial_days`).
    opened_vial_days: u32,
    scale_rows: Vec<ScaleRow>,
    scale_forms: Vec<ScaleForm>,
    before_session: String,
    before_session_link: Option<String>,
    checked_in: String,
    locked_words: Option<String>,
    /// Why the session ended without dosing, in words, once it has.
    not_given_words: Option<String>,
    /// The reasons a session may end without dosing, offered while nothing is given.
    not_given_reasons: Vec<(&'static str, &'static str)>,
    form: SessionForm,
    errors: FormErrors,
    done: Option<&'static str>,
}

fn minutes_words(s: &SessionRecord, t: jiff::Timestamp) -> String {
    match s.started_at {
        Some(st) => {
            let m = t.duration_since(st).as_mins();
            if m >= 0 {
                format!("+{m} min")
            } else {
                format!("{m} min")
            }
        }
        None => "before dosing".into(),
    }
}

/// The plasma concentration predicted for what was actually given: the infusion's real start,
/// pauses, rate changes and stop (back-to-back infusions, one per stretch at one rate), or the
/// esketamine devices 5 minutes apart, from the session's start to now or discharge. Domino
/// 1984 for racemic IV, Perez-Ruixo 2021 for esketamine nasal spray; other routes are not
/// drawn. Minutes from the start of dosing and mg/L.
fn given_curve(s: &SessionRecord, now: jiff::Timestamp) -> Option<(Vec<(f64, f64)>, &'static str)> {
    use pk::models::{ModelId, ModelOptions};
    use pk::simulate::Dose;
    use pk::units::{Mg, Minutes};
    let started = s.started_at?;
    let weight = pk::units::Kg::new(s.weight_kg?).ok()?;
    let until = s.discharged_at.unwrap_or(now);
    let minute = |t: jiff::Timestamp| t.duration_since(started).as_secs_f64() / 60.0;
    let end = minute(until).clamp(1.0, 24.0 * 60.0);
    let (model, doses) = match s.product {
        clinical::course::Product::IvRacemic => {
            // Back-to-back infusions, one per stretch the pump ran at one rate.
            // ok: a stretch the model cannot take (not a finite, positive length) is left off
            // the drawing only; what was infused is said from the stretches themselves.
            let doses = s
                .infusion_stretches(now)
                .iter()
                .filter(|st| st.from_min < end)
                .filter_map(|st| {
                    let to = st.to_min.min(end);
                    Dose::infusion(
                        Minutes::new("start", st.from_min).ok()?,
                        Mg::new("amount", st.mg_per_h * (to - st.from_min) / 60.0).ok()?,
                        Minutes::new("duration", to - st.from_min).ok()?,
                    )
                    .ok()
                })
                .collect();
            (ModelId::Domino, doses)
        }
        clinical::course::Product::EsketamineNasal => {
            let mg = s.dose.as_ref()?.dose_mg;
            let devices = pk::dose::esketamine_devices(mg).ok()?;
            (
                ModelId::PerezRuixo2021,
                vec![Dose::NasalDevices {
                    start: Minutes::new("start", 0.0).ok()?,
                    devices,
                    mg_per_device: Mg::new("mg", pk::dose::ESKETAMINE_MG_PER_DEVICE).ok()?,
                    interval: Minutes::new("interval", 5.0).ok()?,
                }],
            )
        }
        _ => return None,
    };
    if doses.is_empty() {
        return None;
    }
    let built = model.build(
        &pk::model::Patient {
            weight,
            age_years: None,
            sex: None,
        },
        ModelOptions::default(),
    );
    let steps = (end / 2.0).ceil() as usize;
    let times: Vec<Minutes> = (0..=steps)
        .filter_map(|i| Minutes::new("t", (i as f64 * 2.0).min(end)).ok())
        .collect();
    let curve = pk::simulate::simulate(&built, &doses, &times).ok()?;
    Some((
        curve.times.into_iter().zip(curve.plasma).collect(),
        model.info().name,
    ))
}

/// The vitals drawn over time: systolic and diastolic as lines, heart rate dashed, with the
/// alert thresholds as reference lines and every point labelled for screen readers in the
/// table beside it.
fn vitals_svg(
    s: &SessionRecord,
    settings: &clinical::session::AlertSettings,
    curve: Option<&(Vec<(f64, f64)>, &'static str)>,
) -> String {
    let points: Vec<(f64, &Vitals)> = s
        .vitals
        .iter()
        .map(|v| {
            let origin = s.started_at.unwrap_or(s.checked_in_at);
            (
                v.taken_at.duration_since(origin).as_secs_f64() / 60.0,
                &v.vitals,
            )
        })
        .collect();
    if points.is_empty() && s.scales.is_empty() {
        return String::new();
    }
    let (w, h, left, bottom) = (640.0, 260.0, 44.0, 28.0);
    let t_min = points.iter().map(|p| p.0).fold(0.0_f64, f64::min);
    let origin = s.started_at.unwrap_or(s.checked_in_at);
    let t_max = points
        .iter()
        .map(|p| p.0)
        .chain(
            s.scales
                .iter()
                .map(|k| k.taken_at.duration_since(origin).as_secs_f64() / 60.0),
        )
        .fold(60.0_f64, f64::max);
    let x = |t: f64| left + (t - t_min) / (t_max - t_min).max(1.0) * (w - left - 10.0);
    let y = |v: f64| (h - bottom) - v.clamp(0.0, 220.0) / 220.0 * (h - bottom - 10.0);
    let line = |get: &dyn Fn(&Vitals) -> Option<u16>| -> String {
        points
            .iter()
            .filter_map(|(t, v)| get(v).map(|m| format!("{:.1},{:.1}", x(*t), y(f64::from(m)))))
            .collect::<Vec<_>>()
            .join(" ")
    };
    let mut svg = format!(
        "<svg class=\"chart\" viewBox=\"0 0 {w} {h}\" role=\"img\" aria-labelledby=\"vitals-chart-title\"><title id=\"vitals-chart-title\">Blood pressure and heart rate over the session, with the dissociation band (CADSS-6) along the time axis; the tables list every reading and rating</title>"
    );
    for mark in [0.0, 50.0, 100.0, 150.0, 200.0] {
        svg.push_str(&format!(
            "<line x1=\"{left}\" x2=\"{}\" y1=\"{:.1}\" y2=\"{:.1}\" stroke=\"#d0d5da\"/><text x=\"4\" y=\"{:.1}\" font-size=\"11\">{mark}</text>",
            w - 10.0,
            y(mark),
            y(mark),
            y(mark) + 4.0
        ));
    }
    svg.push_str(&format!(
        "<line x1=\"{left}\" x2=\"{}\" y1=\"{:.1}\" y2=\"{:.1}\" stroke=\"#a4000f\" stroke-dasharray=\"6 4\"/><text x=\"{}\" y=\"{:.1}\" font-size=\"11\" fill=\"#a4000f\" text-anchor=\"end\">systolic alert {}</text>",
        w - 10.0,
        y(f64::from(settings.systolic_max)),
        y(f64::from(settings.systolic_max)),
        w - 12.0,
        y(f64::from(settings.systolic_max)) - 3.0,
        settings.systolic_max
    ));
    svg.push_str(&format!(
        "<text x=\"{left}\" y=\"{}\" font-size=\"11\">{:.0} min</text><text x=\"{}\" y=\"{}\" font-size=\"11\" text-anchor=\"end\">{:.0} min from the start of dosing</text>",
        h - 8.0,
        t_min,
        w - 10.0,
        h - 8.0,
        t_max
    ));
    for (get, colour, dash, name) in [
        (
            &(|v: &Vitals| v.systolic_mmhg) as &dyn Fn(&Vitals) -> Option<u16>,
            "#0b5cad",
            "",
            "systolic",
        ),
        (
            &|v: &Vitals| v.diastolic_mmhg,
            "#0b5cad",
            "2 3",
            "diastolic",
        ),
        (
            &|v: &Vitals| v.heart_rate_bpm,
            "#6b3fa0",
            "8 4",
            "heart rate",
        ),
    ] {
        let pts = line(get);
        if !pts.is_empty() {
            svg.push_str(&format!(
                "<polyline fill=\"none\" stroke=\"{colour}\" stroke-width=\"2.5\" stroke-dasharray=\"{dash}\" points=\"{pts}\"><title>{name}</title></polyline>"
            ));
        }
    }
    // The dissociation band: each CADSS-6 total, from its rating to the next (or the chart's
    // end), as a shaded strip along the time axis whose height is the total out of 24.
    let cadss: Vec<(f64, i32)> = s
        .scales
        .iter()
        .filter(|k| k.instrument == InstrumentId::Cadss6)
        .map(|k| {
            let origin = s.started_at.unwrap_or(s.checked_in_at);
            (
                k.taken_at.duration_since(origin).as_secs_f64() / 60.0,
                k.total,
            )
        })
        .collect();
    let band_h = 48.0;
    let max = 24.0;
    for (i, (t, total)) in cadss.iter().enumerate() {
        let x0 = x(t.clamp(t_min, t_max));
        let x1 = cadss
            .get(i + 1)
            .map_or(x(t_max), |(next, _)| x(next.clamp(t_min, t_max)));
        let height = f64::from(*total).clamp(0.0, max) / max * band_h;
        svg.push_str(&format!(
            "<rect x=\"{x0:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{height:.1}\" fill=\"#b35c00\" fill-opacity=\"0.35\"><title>CADSS-6 {total} of 24</title></rect><text x=\"{:.1}\" y=\"{:.1}\" font-size=\"11\" fill=\"#7a3e00\">CADSS-6 {total}</text>",
            (h - bottom) - height,
            (x1 - x0).max(2.0),
            x0 + 2.0,
            (h - bottom) - height - 3.0
        ));
    }
    if let Some((points, _)) = curve {
        // The predicted plasma concentration on its own scale (right edge), from 0 to its peak.
        let peak = points.iter().map(|p| p.1).fold(0.0_f64, f64::max).max(1e-9);
        let yc = |c: f64| (h - bottom) - c / peak * (h - bottom - 10.0);
        let pts: Vec<String> = points
            .iter()
            .filter(|(t, _)| *t <= t_max)
            .map(|(t, c)| format!("{:.1},{:.1}", x(*t), yc(*c)))
            .collect();
        svg.push_str(&format!(
            "<polyline fill=\"none\" stroke=\"#1d6b3a\" stroke-width=\"2\" stroke-dasharray=\"1 3\" points=\"{}\"><title>predicted plasma concentration</title></polyline><text x=\"{}\" y=\"{:.1}\" font-size=\"11\" fill=\"#1d6b3a\" text-anchor=\"end\">peak {:.3} mg/L predicted</text>",
            pts.join(" "),
            w - 12.0,
            yc(peak) + 12.0,
            peak
        ));
    }
    svg.push_str("</svg>");
    svg
}

/// The dose the signed order gives for the weight recorded today.
fn plan_for(
    state: &AppState,
    s: &SessionRecord,
    order: &store::OrderRecord,
) -> (Option<DosePlan>, Option<DoseLimits>) {
    let route = s.product.route();
    let order_words = order.dose.words();
    let caps = &state.config().dose_caps;
    let limits = clinical::session::dose_limits(order.dose, s.product, s.weight_kg, caps);
    let plan = match (order.dose, s.weight_kg) {
        (TargetDose::MgPerKg(_), None) => DosePlan {
            order: order_words,
            mg: String::new(),
            how: "Record today's weight in the pre-assessment to compute the dose.".into(),
        },
        (TargetDose::MgPerKg(per_kg), Some(weight)) => {
            let cap = caps.for_route(route);
            DosePlan {
                order: order_words,
                mg: format!("{:.1}", pk::dose::round_to(per_kg * weight, 1)),
                how: format!(
                    "{per_kg} mg/kg × {weight} kg today; the clinic's cap is {cap} mg/kg ({:.1} mg)",
                    cap * weight
                ),
            }
        }
        (TargetDose::Mg(mg), _) => {
            let (max, why) = pk::dose::esketamine_max_mg(route);
            DosePlan {
                order: order_words,
                mg: format!("{mg}"),
                how: format!(
                    "{} device(s) of 28 mg; at most {max} mg ({why})",
                    (mg / 28.0).round()
                ),
            }
        }
    };
    (Some(plan), limits)
}

async fn session_page(
    state: &AppState,
    who: &Can<ClinicalData>,
    ctx: PageCtx,
    id: &SessionId,
    mut form: SessionForm,
    errors: FormErrors,
    done: Option<&'static str>,
) -> Result<SessionPage, AppError> {
    for (field, default) in [
        (&mut form.duration_min, "40"),
        (&mut form.stock_mg_per_ml, "10"),
        (&mut form.bag_ml, "100"),
    ] {
        if field.is_empty() {
            *field = default.to_owned();
        }
    }
    let now = jiff::Timestamp::now();
    let site = &who.user().site_id;
    let s = state
        .store()
        .treatment_session(&who.actor(), site, id, now)
        .await?;
    let names = StaffNames::of_site(state, site).await?;
    let course = state.store().course(site, &s.course_id).await?;
    let safety_alerts = state
        .store()
        .patient_alerts(site, &s.patient_id)
        .await?
        .into_iter()
        .filter(|a| a.acknowledged_at.is_none())
        .map(|a| AlertRow {
            id: a.id.as_str().to_owned(),
            message: a.message,
            raised: ctx.time(a.created_at),
            acknowledged: None,
        })
        .collect();
    // What the record says beside the REMS form's questions: current medications of the
    // classes it asks about, and earlier esketamine sessions.
    let (rems_questions, rems_differences) = if s.product.is_esketamine() {
        let (medications, _) = state
            .store()
            .medication_history(&who.actor(), site, &s.patient_id, now)
            .await?;
        let current: Vec<clinical::medications::Medication> = medications
            .into_iter()
            .filter(|m| m.ended.is_none())
            .map(|m| m.medication)
            .collect();
        let (earlier, last) = state
            .store()
            .earlier_sessions(site, &s.patient_id, s.product, s.checked_in_at)
            .await?;
        let last_day = last.map(|t| t.to_zoned(ctx.time_zone()).date());
        let questions = s
            .rems
            .questions()
            .into_iter()
            .map(|(code, words, value)| {
                let hint = clinical::session::rems_record_hint(code, &current, earlier, last_day);
                (code, words, value, hint)
            })
            .collect();
        let differences = clinical::session::rems_record_differences(&s.rems, &current, earlier);
        (questions, differences)
    } else {
        (Vec::new(), Vec::new())
    };
    let settings = &state.config().session_alerts;
    let baseline = s.baseline().copied();
    let vitals = s
        .vitals
        .iter()
        .map(|v| {
            let m = v.vitals;
            let num = |x: Option<u16>| x.map_or_else(String::new, |n| n.to_string());
            VitalsRow {
                time: ctx
                    .time(v.taken_at)
                    .split(' ')
                    .nth(1)
                    .unwrap_or_default()
                    .to_owned(),
                minute: minutes_words(&s, v.taken_at),
                bp: match (m.systolic_mmhg, m.diastolic_mmhg) {
                    (Some(a), Some(b)) => format!("{a}/{b}"),
                    _ => String::new(),
                },
                hr: num(m.heart_rate_bpm),
                spo2: num(m.spo2_percent),
                rr: num(m.respiratory_rate_per_min),
                source: if v.source == "device" {
                    "device"
                } else {
                    "entered"
                },
                by: names.by(v.by.as_deref()).to_owned(),
                alerting: !clinical::session::evaluate(&m, baseline.as_ref(), settings).is_empty(),
            }
        })
        .collect();
    let alert_row = |a: &store::SessionAlert| AlertRow {
        id: a.id.as_str().to_owned(),
        message: a.message.clone(),
        raised: ctx.time(a.raised_at),
        acknowledged: a
            .acknowledged
            .as_ref()
            .map(|(t, by, act)| format!("{} by {}: {act}", ctx.time(*t), names.by(by.as_deref()))),
    };
    let open_alerts = s.open_alerts().map(alert_row).collect();
    let closed_alerts = s
        .alerts
        .iter()
        .filter(|a| a.acknowledged.is_some())
        .map(alert_row)
        .collect();
    // The prepared bag's volume per mg: a new dose rate is this many mL/h per mg/h on the pump.
    let ml_per_mg = s
        .dose
        .as_ref()
        .and_then(|d| match (d.rate_ml_per_h, d.dose_rate_mg_per_h) {
            (Some(ml), Some(mg)) if mg > 0.0 => Some(ml / mg),
            _ => None,
        });
    // The pump rate of a dose rate, mL/h, for the prepared bag: the verified rate scaled by the
    // dose rate's share of the verified one, so the starting rate is the verified rate exactly
    // and prints as the dose line prints it (155.85 printed 155.9 there and 155.8 here).
    let pump_ml_per_h = |r: f64| {
        s.dose
            .as_ref()
            .and_then(|d| d.rate_ml_per_h.zip(d.dose_rate_mg_per_h))
            .and_then(|(ml, mg)| pk::dose::InfusionPlan::rate_for(ml, mg, r))
    };
    let events = s
        .events
        .iter()
        .map(|e| LineRow {
            time: ctx.time(e.at),
            text: format!(
                "{}{}{} ({})",
                match e.step {
                    Step::Start => "Started",
                    Step::Pause => "Paused",
                    Step::Resume => "Resumed",
                    Step::ChangeRate => "Rate changed",
                    Step::Stop => "Stopped",
                    _ => "Step",
                },
                e.dose_rate_mg_per_h
                    .map_or_else(String::new, |r| match pump_ml_per_h(r) {
                        Some(ml) => format!(
                            " at {:.1} mg/h, pump {:.1} mL/h",
                            pk::dose::round_to(r, 1),
                            pk::dose::round_to(ml, 1)
                        ),
                        None => format!(" at {:.1} mg/h", pk::dose::round_to(r, 1)),
                    }),
                e.note
                    .as_deref()
                    .map_or_else(String::new, |n| format!(": {n}")),
                names.by(e.by.as_deref())
            ),
        })
        .collect();
    let adverse = s
        .adverse
        .iter()
        .map(|a| LineRow {
            time: ctx.time(a.at),
            text: format!(
                "{}, grade {}{}{}{} ({})",
                a.kind.label(),
                a.grade,
                if a.serious { ", SERIOUS" } else { "" },
                a.action
                    .as_deref()
                    .map_or_else(String::new, |x| format!("; action: {x}")),
                a.note
                    .as_deref()
                    .map_or_else(String::new, |x| format!("; {x}")),
                names.by(a.by.as_deref())
            ),
        })
        .collect();
    let addenda = s
        .addenda
        .iter()
        .map(|a| LineRow {
            time: ctx.time(a.at),
            text: format!("{} ({})", a.body, names.by(Some(&a.by))),
        })
        .collect();
    let order = course
        .orders
        .iter()
        .find(|o| s.dose.as_ref().is_some_and(|d| d.order_id == o.id))
        .or(course.order());
    let (plan, _) = match order {
        Some(o) => plan_for(state, &s, o),
        None => (None, None),
    };
    let dose_words = s.dose.as_ref().map(|d| {
        let mut w = format!(
            "{:.1} mg, verified by {}",
            d.dose_mg,
            names.by(Some(&d.verified_by))
        );
        if let Some(second) = &d.second_verifier {
            w.push_str(&format!(", checked by {}", names.by(Some(second))));
        }
        if let (Some(rate), Some(dr), Some(min)) =
            (d.rate_ml_per_h, d.dose_rate_mg_per_h, d.duration_min)
        {
            w.push_str(&format!(
                "; pump {:.1} mL/h ({:.1} mg/h) over {min} min",
                pk::dose::round_to(rate, 1),
                pk::dose::round_to(dr, 1)
            ));
        }
        if let Some(lot) = &d.lot {
            w.push_str(&format!("; lot {lot}"));
        }
        if let Some((by, why)) = &d.overridden {
            w.push_str(&format!("; OVERRIDE by {by}: {why}"));
        }
        if let Some(mg) = s.infused_mg(now) {
            let so_far = if s.ended_at.is_none() { " so far" } else { "" };
            w.push_str(&format!(
                "; {mg:.1} mg infused{so_far} by the pump's record"
            ));
        }
        w
    });
    let next_check = s.next_check().map(|d| {
        let overdue = d.at < now;
        (ctx.time(d.at), d.what, overdue)
    });
    let curve = given_curve(&s, now);
    let delivery = s.delivery();
    let steps = match s.status {
        SessionStatus::DoseVerified => vec![(Step::Start.code(), Step::Start.label(delivery))],
        SessionStatus::Administering if delivery == Delivery::Infusion => vec![
            (Step::Pause.code(), Step::Pause.label(delivery)),
            (Step::Stop.code(), Step::Stop.label(delivery)),
        ],
        SessionStatus::Administering => vec![(Step::Stop.code(), Step::Stop.label(delivery))],
        SessionStatus::Paused => vec![
            (Step::Resume.code(), Step::Resume.label(delivery)),
            (Step::Stop.code(), Step::Stop.label(delivery)),
        ],
        _ => Vec::new(),
    };
    let setting_contact = s.product.is_esketamine()
        && state
            .store()
            .site_rems(site)
            .await?
            .is_some_and(|r| r.contact.is_some());
    let rems_missing = if s.product.is_esketamine() {
        clinical::session::rems_missing(&s.rems, &s.rems_record(setting_contact))
            .into_iter()
            .map(|(_, m)| sentence(&m))
            .collect()
    } else {
        Vec::new()
    };
    // Dissociation and sedation at the session's set times, and the ratings taken.
    let scale_settings = &state.config().session_scales;
    let taken: Vec<(InstrumentId, u32)> =
        s.scales.iter().map(|k| (k.instrument, k.minute)).collect();
    let closed = matches!(s.status, SessionStatus::Discharged | SessionStatus::Locked);
    let checks = clinical::session::scale_checks(scale_settings, s.started_at, closed, &taken, now);
    let clock = |t: jiff::Timestamp| ctx.time(t).split(' ').nth(1).unwrap_or_default().to_owned();
    let mut scale_rows: Vec<ScaleRow> = checks
        .iter()
        .map(|c| {
            let rating = s
                .scales
                .iter()
                .find(|k| k.instrument == c.instrument && k.minute == c.minute);
            ScaleRow {
                what: format!(
                    "{} {}",
                    c.instrument.instrument().short_name,
                    clinical::session::minute_words(c.minute)
                ),
                when: c.at.map(clock).unwrap_or_default(),
                state: c.state.label(),
                urgent: c.state == clinical::session::ScaleState::Overdue,
                result: rating.map_or_else(String::new, |k| {
                    format!(
                        "{} at {} by {}",
                        rating_words(k),
                        clock(k.taken_at),
                        names.by(k.by.as_deref())
                    )
                }),
            }
        })
        .collect();
    // Ratings at times the settings no longer name are still shown.
    for k in s.scales.iter().filter(|k| {
        !checks
            .iter()
            .any(|c| c.instrument == k.instrument && c.minute == k.minute)
    }) {
        scale_rows.push(ScaleRow {
            what: format!(
                "{} {}",
                k.instrument.instrument().short_name,
                clinical::session::minute_words(k.minute)
            ),
            when: String::new(),
            state: clinical::session::ScaleState::Done.label(),
            urgent: false,
            result: format!(
                "{} at {} by {}",
                rating_words(k),
                clock(k.taken_at),
                names.by(k.by.as_deref())
            ),
        });
    }
    let scale_forms = if s.status == SessionStatus::Locked {
        Vec::new()
    } else {
        clinical::session::ScaleSettings::INSTRUMENTS
            .iter()
            .map(|&i| {
                let def = i.instrument();
                let open: Vec<_> = checks
                    .iter()
                    .filter(|c| c.instrument == i && c.state != clinical::session::ScaleState::Done)
                    .collect();
                let first_open = open
                    .iter()
                    .find(|c| {
                        matches!(
                            c.state,
                            clinical::session::ScaleState::Due
                                | clinical::session::ScaleState::Overdue
                        )
                    })
                    .or(open.first())
                    .map(|c| c.minute.to_string())
                    .unwrap_or_default();
                let selected = if form.instrument == i.code() && !form.point.is_empty() {
                    form.point.clone()
                } else {
                    first_open
                };
                ScaleForm {
                    code: i.code(),
                    name: def.short_name,
                    points: open
                        .iter()
                        .map(|c| {
                            (
                                c.minute.to_string(),
                                format!(
                                    "{} ({})",
                                    clinical::session::minute_words(c.minute),
                                    c.state.label()
                                ),
                            )
                        })
                        .collect(),
                    selected,
                    items: def
                        .items
                        .iter()
                        .enumerate()
                        .map(|(n, item)| (n + 1, item.label))
                        .collect(),
                    options: def
                        .options
                        .iter()
                        .map(|o| (o.value.to_string(), o.label))
                        .collect(),
                }
            })
            .filter(|f| !f.points.is_empty())
            .collect()
    };
    // Once the dose is drawn, what its opened vials still hold is wasted with a witness. Ended
    // undosed after the dose was verified, the vials it was to be drawn from still hold it in
    // the ledger, and a dose drawn up is wasted there (a device unused is not).
    let undrawn = s.not_given.is_some() && s.delivery() == Delivery::Infusion;
    let remainders = match s.dose.as_ref() {
        Some(d) if !d.containers.is_empty() && (undrawn || s.started_at.is_some()) => state
            .store()
            .cs_containers_among(site, &d.containers)
            .await?
            .into_iter()
            .filter(|c| c.balance_mg > 0.0 && (undrawn || c.balance_mg < c.full_mg))
            .map(|c| {
                let vial = format!("{} #{} of lot {}", c.form.label(), c.number, c.lot);
                if undrawn {
                    (
                        c.id,
                        format!(
                            "The dose verified was to be drawn from {vial} ({:.1} mg in the ledger)",
                            c.balance_mg
                        ),
                        "if it was drawn up, record its waste, with a witness",
                    )
                } else {
                    (
                        c.id,
                        format!("{vial} still holds {:.1} mg", c.balance_mg),
                        "record the waste of the remainder, with a witness",
                    )
                }
            })
            .collect(),
        _ => Vec::new(),
    };
    // The ledger's lots the dose can be drawn from; expired ones are named, not offered.
    let (stock_lots, expired_lots, past_days) = if matches!(
        s.status,
        SessionStatus::PreAssessed | SessionStatus::DoseVerified
    ) {
        let today = ctx.today();
        let rule = super::ledger::stock_rule(state, &ctx, today);
        let stock = state.store().cs_stock(site).await?;
        let (in_date, expired): (Vec<_>, Vec<_>) =
            store::usable_lots(&stock, s.product.is_esketamine(), &rule)
                .into_iter()
                .partition(|l| !ledger::expired(l.expires_on, today));
        let words = |l: &store::LotInStock, when: &str| {
            format!(
                "Lot {}: {}, {} holding {:.1} mg, {when} {}",
                l.lot,
                l.form.label(),
                l.containers,
                l.held_mg,
                l.expires_on
            )
        };
        // Opened vials past their days, which the lots above leave out.
        let past_days = stock
            .iter()
            .filter(|c| s.product.is_esketamine() == c.form.is_device())
            .filter_map(|c| match rule.check(c.expires_on, c.opened_at) {
                Err(ledger::Unusable::BeyondUse { opened_on, .. }) => Some(format!(
                    "{} #{} of lot {} (opened {opened_on})",
                    c.form.label(),
                    c.number,
                    c.lot
                )),
                _ => None,
            })
            .collect();
        (
            in_date
                .iter()
                .map(|l| (l.id.clone(), words(l, "expires")))
                .collect(),
            expired.iter().map(|l| words(l, "expired")).collect(),
            past_days,
        )
    } else {
        (Vec::new(), Vec::new(), Vec::new())
    };
    // The course's outcome scale before this session.
    let outcome = course.instrument;
    let (before_session, before_session_link) = match s
        .before_session
        .iter()
        .rev()
        .find(|k| k.instrument == outcome)
    {
        Some(k) => (
            format!(
                "{} before this session: {} at {} by {}.",
                outcome.instrument().short_name,
                rating_words(k),
                clock(k.taken_at),
                names.by(k.by.as_deref())
            ),
            None,
        ),
        None => (
            format!(
                "{} (the outcome scale of this course) before this session: not recorded{}.",
                outcome.instrument().short_name,
                // A signed record is closed: nothing more will be recorded for it.
                if s.status == SessionStatus::Locked {
                    ""
                } else {
                    " yet"
                }
            ),
            (s.status != SessionStatus::Locked).then(|| {
                format!(
                    "/patients/{}/assessments/new?{}",
                    s.patient_id,
                    super::courses::form_query(outcome, TimePoint::BeforeSession)
                )
            }),
        ),
    };
    Ok(SessionPage {
        title: format!("Session: {}", s.patient_name),
        status: s.status_words(),
        infusion: delivery == Delivery::Infusion,
        esketamine: s.product.is_esketamine(),
        can_prescribe: who.user().role == store::Role::Prescriber,
        next_check,
        discharge_from: s
            .earliest_discharge()
            .filter(|at| *at > jiff::Timestamp::now())
            .map(|at| at.to_zoned(ctx.time_zone()).strftime("%H:%M").to_string()),
        vitals,
        open_alerts,
        safety_alerts,
        closed_alerts,
        events,
        adverse,
        addenda,
        plan,
        pre_words: pre_words(&s),
        dose_words,
        chart: vitals_svg(&s, settings, curve.as_ref()),
        curve_words: curve.as_ref().map(|(points, model)| {
            let (t, c) = points
                .iter()
                .copied()
                .fold((0.0, 0.0), |best, p| if p.1 > best.1 { p } else { best });
            format!(
                "Predicted plasma concentration for what was given ({model}, {} kg): peak {:.3} mg/L at {:.0} min; now {:.3} mg/L.",
                s.weight_kg.unwrap_or_default(),
                c,
                t,
                points.last().map_or(0.0, |p| p.1)
            )
        }),
        steps,
        kinds: AdverseKind::ALL
            .iter()
            .map(|k| (k.code(), k.label()))
            .collect(),
        grades: ADVERSE_GRADES.to_vec(),
        rems_questions,
        rems_differences,
        rems_missing,
        checked_in: ctx.time(s.checked_in_at),
        not_given_words: s.not_given.as_ref().map(|(reason, note)| {
            let mut w = format!(
                "{} by {}: {}",
                s.discharged_at.map_or_else(String::new, |t| ctx.time(t)),
                names.by(s.discharged_by.as_deref()),
                reason.label()
            );
            if let Some(n) = note {
                w.push_str(&format!(". {n}"));
            }
            w
        }),
        not_given_reasons: if check_step(s.status, Step::EndUndosed, delivery).is_ok() {
            NotGivenReason::ALL
                .iter()
                .map(|r| (r.code(), r.label()))
                .collect()
        } else {
            Vec::new()
        },
        locked_words: s
            .locked
            .as_ref()
            .map(|(at, by)| {
                format!(
                    "Signed and locked {} by {}.",
                    ctx.time(*at),
                    names.by(Some(by))
                )
            }),
        rems_ready: s
            .rems
            .ready_to_leave_min
            .map(|m| m.to_string())
            .unwrap_or_default(),
        stock_lots,
        expired_lots,
        past_days,
        opened_vial_days: state.config().opened_vial_days,
        remainders,
        rate_hint: ml_per_mg.map_or_else(String::new, |k| {
            format!("On the pump: mL/h = mg/h × {k:.3} for this bag (the event list shows both).")
        }),
        scale_rows,
        scale_forms,
        before_session,
        before_session_link,
        rems_lot: s
            .dose
            .as_ref()
            .and_then(|d| d.lot.clone())
            .unwrap_or_default(),
        s,
        form,
        errors,
        done,
        ctx,
    })
}

/// `GET /sessions/{id}`.
pub(crate) async fn show(
    State(state): State<AppState>,
    who: Can<ClinicalData>,
    ctx: PageCtx,
    Path(id): Path<String>,
    axum::extract::Query(q): axum::extract::Query<std::collections::HashMap<String, String>>,
) -> Result<Html<String>, AppError> {
    let id = SessionId::parse(&id).ok_or(AppError::NotFound)?;
    let done = match q.get("done").map(String::as_str) {
        Some("saved") => Some("Saved."),
        Some("vitals") => Some("Vitals recorded."),
        Some("alert") => Some("Alert acknowledged."),
        Some("locked") => Some("Signed and locked."),
        Some("scale") => Some("Rating recorded."),
        _ => None,
    };
    let page = session_page(
        &state,
        &who,
        ctx,
        &id,
        SessionForm::default(),
        FormErrors::default(),
        done,
    )
    .await?;
    render(&page)
}

/// `POST /sessions/check-in`: opens (or reopens) the session of a booked appointment.
pub(crate) async fn check_in(
    State(state): State<AppState>,
    who: Can<ClinicalData>,
    ctx: PageCtx,
    Form(form): Form<SessionForm>,
) -> Result<Response, AppError> {
    let now = jiff::Timestamp::now();
    let appointment = AppointmentId::parse(&form.appointment).ok_or(AppError::NotFound)?;
    let today = super::schedule::day_bounds(&ctx, ctx.today(), 1);
    match state
        .store()
        .check_in(&who.actor(), &who.user().site_id, &appointment, today, now)
        .await?
    {
        Ok(id) => Ok(Redirect::to(&format!("/sessions/{id}")).into_response()),
        Err(SessionRefusal::CheckIn(why)) => Ok(crate::error::error_page(
            StatusCode::UNPROCESSABLE_ENTITY,
            "The patient cannot be checked in",
            why,
        )),
        Err(_) => Err(AppError::NotFound),
    }
}

async fn after(
    state: &AppState,
    who: &Can<ClinicalData>,
    ctx: PageCtx,
    id: &SessionId,
    form: SessionForm,
    errors: FormErrors,
    done: &str,
) -> Result<Response, AppError> {
    if errors.is_empty() {
        return Ok(Redirect::to(&format!("/sessions/{id}?done={done}#top")).into_response());
    }
    let page = session_page(state, who, ctx, id, form, errors, None).await?;
    Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)?).into_response())
}

/// What the pre-session assessment recorded, once it is recorded: the weight the dose was
/// planned on, the pregnancy test, the escort, fasting and the note.
fn pre_words(s: &SessionRecord) -> Option<String> {
    let weight = s.weight_kg?;
    let yes = |b: Option<bool>| if b == Some(true) { "yes" } else { "no" };
    let mut w = format!(
        "{weight:.1} kg; pregnancy test {}; escort home: {}; fasting: {}",
        s.pregnancy_test
            .map_or("not recorded", PregnancyTest::label),
        yes(s.escort_confirmed),
        yes(s.fasting_confirmed),
    );
    if let Some(note) = &s.pre_note {
        w.push_str(&format!("; note: {note}"));
    }
    Some(w)
}

/// The form's free texts, each checked by the session room's rules
/// (`clinical::session::SessionText`); `None` where nothing was typed.
#[derive(Debug)]
struct Texts<'a> {
    note: Option<SessionNote<'a>>,
    description: Option<EventDescription<'a>>,
    override_reason: Option<OverrideReason<'a>>,
    lot: Option<LotNumber<'a>>,
    action: Option<ActionTaken<'a>>,
    body: Option<AddendumText<'a>>,
    not_given_note: Option<SessionNote<'a>>,
}

/// Checks the form's free text (a note, a reason, the action taken, a lot number, an
/// addendum), each refusal at its field; the checked texts when none is refused.
fn check_texts<'a>(errors: &mut FormErrors, form: &'a SessionForm, step: &str) -> Texts<'a> {
    // The alert's action field is named after the alert, so the message leads to its input.
    let action = match SessionAlertId::parse(&form.alert) {
        Some(alert) if step == "alert" => format!("action-{alert}"),
        _ => "action".to_owned(),
    };
    Texts {
        note: kept(errors, "note", &form.note),
        description: kept(errors, "description", &form.description),
        override_reason: kept(errors, "override_reason", &form.override_reason),
        lot: kept(errors, "lot", &form.lot),
        action: kept(errors, &action, &form.action),
        body: kept(errors, "body", &form.body),
        not_given_note: kept(errors, "not_given_note", &form.not_given_note),
    }
}

/// A text checked as its type's kind, or `None` with its refusal recorded at its field.
fn kept<'a, T: CheckedText<'a>>(errors: &mut FormErrors, field: &str, typed: &'a str) -> Option<T> {
    T::parse(typed).unwrap_or_else(|problem| {
        errors.push(field, sentence(&problem.said_of(T::KIND.label())));
        None
    })
}

/// `POST /sessions/{id}/{action}`: every step of the session but the prescriber's lock.
pub(crate) async fn act(
    State(state): State<AppState>,
    who: Can<ClinicalData>,
    ctx: PageCtx,
    Path((id, action)): Path<(String, String)>,
    Form(mut form): Form<SessionForm>,
) -> Result<Response, AppError> {
    let id = SessionId::parse(&id).ok_or(AppError::NotFound)?;
    form.posted = Posted(action.clone());
    let now = jiff::Timestamp::now();
    let site = who.user().site_id.clone();
    let actor = who.actor();
    let settings = state.config().session_alerts;
    let store = state.store();
    let mut errors = FormErrors::default();
    let mut done = "saved";
    let texts = check_texts(&mut errors, &form, &action);
    if !errors.is_empty() {
        return after(&state, &who, ctx, &id, form, errors, done).await;
    }
    match action.as_str() {
        "pre" => {
            let weight = number(&mut errors, "weight_kg", "weight in kg", &form.weight_kg);
            if let Some(w) = weight
                && !(pk::units::Kg::MIN..=pk::units::Kg::MAX).contains(&w)
            {
                errors.push(
                    "weight_kg",
                    format!(
                        "Enter a weight from {} to {} kg.",
                        pk::units::Kg::MIN,
                        pk::units::Kg::MAX
                    ),
                );
            }
            let pregnancy_test = PregnancyTest::parse(&form.pregnancy_test);
            if pregnancy_test.is_none() {
                errors.push(
                    "pregnancy_test",
                    "Choose the pregnancy test result, or not applicable.",
                );
            }
            if !ticked(&form.escort) {
                errors.push(
                    "escort",
                    "Confirm a responsible adult will take the patient home (no driving until the next day).",
                );
            }
            let vitals = read_vitals(&mut errors, &form, Vitals::check_before_dosing);
            if let (Some(w), Some(v), Some(test), true) =
                (weight, vitals, pregnancy_test, errors.is_empty())
            {
                let pre = PreAssessment {
                    weight_kg: w,
                    escort: ticked(&form.escort),
                    fasting: ticked(&form.fasting),
                    pregnancy_test: test,
                    note: texts.note,
                    vitals: v,
                };
                if let Err(r) = store
                    .pre_assess(&actor, &site, &id, &pre, &settings, now)
                    .await?
                {
                    refusal_into(&mut errors, "weight_kg", r);
                }
            }
        }
        "dose" => {
            let s = store.treatment_session(&actor, &site, &id, now).await?;
            let course = store.course(&site, &s.course_id).await?;
            let Some(order) = course.order() else {
                errors.push("dose_mg", "The course has no signed order.");
                return after(&state, &who, ctx, &id, form, errors, done).await;
            };
            let (_, limits) = plan_for(&state, &s, order);
            let Some(limits) = limits else {
                errors.push(
                    "dose_mg",
                    "Record today's weight in the pre-assessment first.",
                );
                return after(&state, &who, ctx, &id, form, errors, done).await;
            };
            let given = if form.dose_mg.trim().is_empty() {
                Some(limits.ordered_mg)
            } else {
                number(&mut errors, "dose_mg", "dose in mg", &form.dose_mg)
            };
            // The store checks the dose and the infusion's length again against the order and
            // the weight as they stand when it records them; checked here too so that every
            // problem of the form is said at once, each at its field.
            let prescriber = who.user().role == store::Role::Prescriber;
            let reason = texts.override_reason.map(OverrideReason::as_str);
            if let Some(g) = given
                && let Err(e) = clinical::session::check_given_dose(g, &limits, prescriber, reason)
            {
                errors.push(e.field(), sentence(&e.to_string()));
            }
            let mut infusion = None;
            let mut second = None;
            if s.delivery() == Delivery::Infusion {
                let duration = number(
                    &mut errors,
                    "duration_min",
                    "infusion length in minutes",
                    &form.duration_min,
                );
                let stock = number(
                    &mut errors,
                    "stock_mg_per_ml",
                    "vial strength in mg/mL",
                    &form.stock_mg_per_ml,
                );
                let bag = form.bag_ml.trim().replace(',', ".").parse::<f64>().ok();
                if bag.is_none() {
                    errors.push("bag_ml", "Enter the bag volume in mL (0 for none).");
                }
                // Shorter than the published regimens only by a prescriber, with a reason: "4"
                // typed for "40" would run the dose ten times as fast.
                if let Some(d) = duration
                    && let Err(e) = clinical::session::check_infusion_length(
                        d,
                        state.config().planning_floor.min_infusion_min,
                        prescriber,
                        reason,
                    )
                {
                    errors.push(e.field(), sentence(&e.to_string()));
                }
                if let (Some(g), Some(d), Some(st), Some(b), Some(w)) =
                    (given, duration, stock, bag, s.weight_kg)
                    && let Ok(kg) = pk::units::Kg::new(w)
                {
                    let plan = pk::dose::plan_infusion(&pk::dose::InfusionOrder {
                        weight: kg,
                        mg_per_kg: g / w,
                        duration_min: d,
                        stock_mg_per_ml: st,
                        bag_ml: b,
                        max_mg_per_kg: f64::MAX,
                    });
                    match plan {
                        Ok(p) => infusion = Some((d, p.rate_ml_per_h, p.dose_rate_mg_per_h, st)),
                        Err(e) => errors.push("duration_min", sentence(&e.to_string())),
                    }
                }
                // The second check: another member of the clinical staff, with their password,
                // which counts toward their lockout when wrong.
                let email = form.second_email.trim();
                let sign_in = state.config().login;
                match store.user_by_email(email).await? {
                    Some(u) if u.may_attest(&site, &sign_in) && u.id != who.user().id => {
                        let said = store
                            .confirm_password(
                                &actor,
                                &u,
                                &form.second_password,
                                "dose-second-check",
                                &sign_in,
                                now,
                            )
                            .await?;
                        match said {
                            store::Confirmation::Right => second = Some(u.id),
                            store::Confirmation::Wrong => errors.push(
                                "second_password",
                                "That password is not the second checker's; they enter their own.",
                            ),
                            store::Confirmation::Locked { until } => errors.push(
                                "second_password",
                                format!(
                                    "The second checker's account is locked after too many wrong passwords, until {}. Another nurse or prescriber can check the dose, or the administrator can unlock the account.",
                                    ctx.time(until)
                                ),
                            ),
                        }
                    }
                    Some(u) if u.id == who.user().id => errors.push(
                        "second_email",
                        "The second check must be by another nurse or prescriber, not you.",
                    ),
                    _ => errors.push(
                        "second_email",
                        "Enter the email of the nurse or prescriber who checks the dose with you.",
                    ),
                }
            }
            // The stock it is drawn from, when the clinic keeps its stock in the ledger.
            let mut containers = Vec::new();
            let mut stock_lot_number = None;
            let today = now.to_zoned(ctx.time_zone()).date();
            let rule = super::ledger::stock_rule(&state, &ctx, today);
            let stock = store.cs_stock(&site).await?;
            let lots = store::usable_lots(&stock, s.product.is_esketamine(), &rule);
            // The clinic keeps its stock in Ketaflow when the ledger holds any of this kind,
            // usable or not.
            let keeps_stock = stock
                .iter()
                .any(|c| s.product.is_esketamine() == c.form.is_device());
            if keeps_stock {
                match lots.iter().find(|l| l.id == form.stock_lot.trim()) {
                    None if lots.iter().all(|l| ledger::expired(l.expires_on, today)) => {
                        errors.push(
                            "stock_lot",
                            "No stock in the ledger can be given: every lot has expired, or its opened vials are past their days. Receive stock in date into the ledger first, and return or waste the rest there.",
                        )
                    }
                    None => errors.push(
                        "stock_lot",
                        "Choose the lot the dose is drawn from, so the ledger records it.",
                    ),
                    Some(l) if ledger::expired(l.expires_on, today) => errors.push(
                        "stock_lot",
                        format!(
                            "Lot {} expired on {}: choose a lot in date.",
                            l.lot, l.expires_on
                        ),
                    ),
                    Some(l) => {
                        stock_lot_number = Some((l.id.clone(), l.lot.clone()));
                        if let Some(g) = given {
                            match store.pick_containers(&site, &l.id, g, &rule).await? {
                                Ok(ids) => containers = ids,
                                Err(why) => errors.push("stock_lot", sentence(&why)),
                            }
                        }
                    }
                }
            }
            if let (Some(g), true) = (given, errors.is_empty()) {
                // The ledger checked the lot's number as a lot number when it was received; one
                // that no longer passes was changed behind its back.
                let stocked = match &stock_lot_number {
                    None => None,
                    Some((lot_id, number)) => LotNumber::parse(number).map_err(|problem| {
                        store::StoreError::Corrupt(store::Corrupt {
                            table: "cs_lots",
                            column: "lot",
                            id: lot_id.clone(),
                            problem: problem.to_string(),
                        })
                    })?,
                };
                let lot = texts.lot.or(stocked);
                let v = DoseVerification {
                    order_id: &order.id,
                    dose_mg: g,
                    caps: &state.config().dose_caps,
                    min_infusion_min: state.config().planning_floor.min_infusion_min,
                    infusion,
                    lot,
                    second_verifier: second.as_ref(),
                    override_reason: texts.override_reason,
                    containers: &containers,
                    rule: &rule,
                };
                if let Err(r) = store.verify_dose(&actor, &site, &id, &v, now).await? {
                    refusal_into(&mut errors, "dose_mg", r);
                }
            }
        }
        "pump" => {
            let Some(step) = Step::parse(form.step.trim()) else {
                errors.push(
                    "step",
                    "Choose one of the buttons: start, pause, resume, change the rate or stop.",
                );
                return after(&state, &who, ctx, &id, form, errors, done).await;
            };
            let rate = if step == Step::ChangeRate {
                number(
                    &mut errors,
                    "dose_rate_mg_per_h",
                    "new dose rate in mg/h",
                    &form.dose_rate_mg_per_h,
                )
            } else {
                None
            };
            if errors.is_empty()
                && let Err(r) = store
                    .pump(&actor, &site, &id, step, rate, texts.note, now)
                    .await?
            {
                // A new rate refused (faster than verified, not a prescriber) is said at the
                // rate; any other refusal at the buttons.
                let field = match r {
                    SessionRefusal::Dose(_) if step == Step::ChangeRate => "dose_rate_mg_per_h",
                    _ => "step",
                };
                refusal_into(&mut errors, field, r);
            }
        }
        "vitals" => {
            done = "vitals";
            if let Some(v) = read_vitals(&mut errors, &form, Vitals::check)
                && let Err(r) = store
                    .record_vitals(
                        &actor,
                        &site,
                        &id,
                        &[(now, v)],
                        "hand",
                        None,
                        &settings,
                        now,
                    )
                    .await?
            {
                refusal_into(&mut errors, "systolic_mmhg", r);
            }
        }
        "adverse" => {
            let kind = AdverseKind::parse(form.kind.trim());
            if kind.is_none() {
                errors.push("kind", "Choose what happened.");
            }
            let grade = form
                .grade
                .trim()
                .parse::<u8>()
                .ok()
                .filter(|g| (1..=5).contains(g));
            if grade.is_none() {
                errors.push("grade", "Choose a grade from 1 (mild) to 5.");
            }
            if kind == Some(AdverseKind::Other) && texts.description.is_none() {
                errors.push("description", "Describe the event.");
            }
            if let (Some(k), Some(g), true) = (kind, grade, errors.is_empty())
                && let Err(r) = store
                    .add_adverse_event(
                        &actor,
                        &site,
                        &id,
                        k,
                        g,
                        texts.action,
                        ticked(&form.serious),
                        texts.description,
                        now,
                    )
                    .await?
            {
                refusal_into(&mut errors, "kind", r);
            }
        }
        "scale" => {
            done = "scale";
            let instrument = match form.instrument.as_str() {
                "cadss6" => InstrumentId::Cadss6,
                "moaas" => InstrumentId::Moaas,
                _ => return Err(AppError::NotFound),
            };
            let code = instrument.code();
            let def = instrument.instrument();
            let minute = form.point.trim().parse::<u32>().ok();
            if minute.is_none() {
                errors.push(
                    format!("{code}-point"),
                    "Choose the set time this rating answers.",
                );
            }
            let mut answers = Vec::with_capacity(def.items.len());
            for (n, item) in def.items.iter().enumerate() {
                match form.answer(n + 1).trim().parse::<i64>() {
                    Ok(v)
                        if (i64::from(def.answer_min)..=i64::from(def.answer_max)).contains(&v) =>
                    {
                        answers.push(v);
                    }
                    _ => errors.push(
                        format!("{code}-answer-{}", n + 1),
                        format!("Choose an answer for \u{201c}{}\u{201d}.", item.label),
                    ),
                }
            }
            if let (Some(m), true) = (minute, errors.is_empty()) {
                match clinical::instruments::score(instrument, &answers) {
                    Ok(score) => {
                        if let Err(r) = store
                            .record_session_scale(
                                &actor,
                                &site,
                                &id,
                                &score,
                                m,
                                &state.config().session_scales,
                                now,
                            )
                            .await?
                        {
                            refusal_into(&mut errors, &format!("{code}-point"), r);
                        }
                    }
                    Err(e) => errors.push(format!("{code}-answer-1"), sentence(&e.to_string())),
                }
            }
        }
        "not-given" => match NotGivenReason::parse(form.not_given.trim()) {
            None => errors.push("not_given", "Choose why the dose is not given today."),
            Some(reason) => {
                if reason.needs_note() && texts.not_given_note.is_none() {
                    errors.push(
                            "not_given_note",
                            format!(
                                "Say in the note why the dose is not given (\u{201c}{}\u{201d} needs it).",
                                reason.label()
                            ),
                        );
                } else if let Err(r) = store
                    .end_undosed(&actor, &site, &id, reason, texts.not_given_note, now)
                    .await?
                {
                    let field = match r {
                        SessionRefusal::NotGiven(_) => "not_given_note",
                        _ => "not_given",
                    };
                    refusal_into(&mut errors, field, r);
                }
            }
        },
        "discharge" => {
            let checklist = Checklist {
                alert_and_oriented: ticked(&form.alert_and_oriented),
                no_active_nausea: ticked(&form.no_active_nausea),
                escort_present: ticked(&form.escort_present),
                vitals_near_baseline: ticked(&form.vitals_near_baseline),
            };
            if let Err(r) = store
                .discharge(&actor, &site, &id, &checklist, &settings, now)
                .await?
            {
                refusal_into(&mut errors, "alert_and_oriented", r);
            }
        }
        "rems" => {
            let yn = |v: &str| match v {
                "yes" => Some(true),
                "no" => Some(false),
                _ => None,
            };
            let ready = if form.ready_to_leave_min.trim().is_empty() {
                None
            } else {
                match form.ready_to_leave_min.trim().parse::<u16>() {
                    Ok(m) if m <= 24 * 60 => Some(m),
                    _ => {
                        errors.push(
                            "ready_to_leave_min",
                            "Enter the minutes as a whole number, such as 90.",
                        );
                        None
                    }
                }
            };
            let answers = RemsAnswers {
                first_treatment: yn(&form.first_treatment),
                benzodiazepines: yn(&form.benzodiazepines),
                sedative_hypnotics: yn(&form.sedative_hypnotics),
                psychostimulants: yn(&form.psychostimulants),
                maois: yn(&form.maois),
                opioids: yn(&form.opioids),
                vitals_ok_before: yn(&form.vitals_ok_before),
                vitals_ok_end: yn(&form.vitals_ok_end),
                sedation: yn(&form.sedation),
                dissociation: yn(&form.dissociation),
                respiratory_depression: yn(&form.respiratory_depression),
                ready_to_leave_min: ready,
            };
            if errors.is_empty()
                && let Err(r) = store
                    .save_rems_answers(&actor, &site, &id, &answers, texts.lot, now)
                    .await?
            {
                refusal_into(&mut errors, "first_treatment", r);
            }
        }
        "alert" => {
            done = "alert";
            let alert = SessionAlertId::parse(&form.alert).ok_or(AppError::NotFound)?;
            let field = format!("action-{alert}");
            match texts.action {
                None => errors.push(
                    field,
                    "Record the action taken (for example rate reduced, infusion paused, medication given, observed).",
                ),
                Some(a) => {
                    if let Err(r) = store
                        .acknowledge_session_alert(&actor, &site, &id, &alert, a, now)
                        .await?
                    {
                        refusal_into(&mut errors, &field, r);
                    }
                }
            }
        }
        "addendum" => match texts.body {
            None => errors.push("body", "Write the addendum."),
            Some(b) => {
                if let Err(r) = store.add_addendum(&actor, &site, &id, b, now).await? {
                    refusal_into(&mut errors, "body", r);
                }
            }
        },
        "rems-submitted" => {
            let on = form.submitted_on.trim().parse::<jiff::civil::Date>().ok();
            if on.is_none() {
                errors.push("submitted_on", "Enter the date the form was submitted.");
            }
            let channel = RemsChannel::parse(&form.method);
            if channel.is_none() {
                errors.push("method", "Choose online or fax.");
            }
            if let (Some(d), Some(channel), true) = (on, channel, errors.is_empty())
                && !store
                    .record_rems_submission(&actor, &site, &id, d, channel, now)
                    .await?
            {
                errors.push(
                    "submitted_on",
                    "The submission is already recorded, or this is not an esketamine session.",
                );
            }
        }
        _ => return Err(AppError::NotFound),
    }
    after(&state, &who, ctx, &id, form, errors, done).await
}

/// `POST /sessions/{id}/lock`: the prescriber signs and locks.
pub(crate) async fn lock(
    State(state): State<AppState>,
    who: Can<Prescribing>,
    clinical_who: Can<ClinicalData>,
    ctx: PageCtx,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let id = SessionId::parse(&id).ok_or(AppError::NotFound)?;
    let now = jiff::Timestamp::now();
    let mut errors = FormErrors::default();
    if let Err(r) = state
        .store()
        .lock_session(&who.actor(), &who.user().site_id, &id, now)
        .await?
    {
        refusal_into(&mut errors, "lock", r);
    }
    after(
        &state,
        &clinical_who,
        ctx,
        &id,
        SessionForm::default(),
        errors,
        "locked",
    )
    .await
}

#[derive(Template)]
#[template(path = "sessions/rems_form.html")]
pub(crate) struct RemsFormPage {
    ctx: PageCtx,
    s: SessionRecord,
    patient: store::PatientRecord,
    clinic: String,
    date: String,
    dose: String,
    bp: [(&'static str, String); 3],
    minutes: String,
    questions: Vec<(&'static str, &'static str, Option<bool>)>,
    ready: String,
    missing: Vec<String>,
    monitoring_hcp: String,
}

/// `GET /sessions/{id}/rems-form`: the Patient Monitoring Form, filled from the record, one
/// printed page.
pub(crate) async fn rems_form(
    State(state): State<AppState>,
    who: Can<ClinicalData>,
    ctx: PageCtx,
    Path(id): Path<String>,
) -> Result<Html<String>, AppError> {
    let id = SessionId::parse(&id).ok_or(AppError::NotFound)?;
    let now = jiff::Timestamp::now();
    let site = &who.user().site_id;
    let s = state
        .store()
        .treatment_session(&who.actor(), site, &id, now)
        .await?;
    if !s.product.is_esketamine() {
        return Err(AppError::NotFound);
    }
    let patient = state
        .store()
        .patient(&who.actor(), site, &s.patient_id, now)
        .await?;
    let clinic = state.store().site(site).await?.name;
    let contact = state.store().site_rems(site).await?.and_then(|r| r.contact);
    let record = s.rems_record(contact.is_some());
    let verifier = match s.dose.as_ref() {
        Some(d) => state.store().user_by_email(&d.verified_by).await?,
        None => None,
    };
    let monitoring_hcp = match (&verifier, &contact) {
        (Some(u), Some(c)) => format!("{}, {}, telephone {}", u.display_name, u.email, c.phone),
        (Some(u), None) => format!("{}, {}, telephone not recorded", u.display_name, u.email),
        (None, _) => "not recorded".to_owned(),
    };
    let setting = match &contact {
        Some(c) => format!(
            "{clinic}, {}, {}, {} {}",
            c.street, c.city, c.state, c.postal_code
        ),
        None => format!("{clinic} (address not recorded)"),
    };
    let bp = |p: Option<(u16, u16)>| {
        p.map_or_else(|| "not recorded".into(), |(a, b)| format!("{a}/{b} mmHg"))
    };
    let missing = clinical::session::rems_missing(&s.rems, &record)
        .into_iter()
        .map(|(_, m)| sentence(&m))
        .collect();
    render(&RemsFormPage {
        clinic: setting,
        date: ctx.date(s.checked_in_at),
        dose: s.dose.as_ref().map_or_else(
            || "not recorded".into(),
            |d| {
                let lot = d.lot.as_deref().unwrap_or("lot not recorded");
                format!("{} mg (lot {lot})", d.dose_mg)
            },
        ),
        bp: [
            ("Before dosing", bp(record.bp_before)),
            ("About 40 minutes after dosing", bp(record.bp_forty)),
            ("Before the end of the session", bp(record.bp_end)),
        ],
        minutes: record
            .monitored_min
            .map_or_else(|| "not recorded".into(), |m| format!("{m} minutes")),
        questions: s.rems.questions().to_vec(),
        ready: s
            .rems
            .ready_to_leave_min
            .map_or_else(|| "not answered".into(), |m| format!("{m} minutes")),
        missing,
        monitoring_hcp,
        patient,
        s,
        ctx,
    })
}

pub(crate) struct FormDueRow {
    session_id: String,
    patient_id: String,
    patient: String,
    session_date: String,
    due: String,
    overdue: bool,
    status: &'static str,
}

#[derive(Template)]
#[template(path = "sessions/rems_due.html")]
pub(crate) struct RemsDuePage {
    ctx: PageCtx,
    rows: Vec<FormDueRow>,
}

/// The day by which the REMS Patient Monitoring Form of a session checked in at `at` is due:
/// [`clinical::session::REMS_FORM_DAYS`] after the session's day in the clinic's zone `tz`.
pub(crate) fn rems_form_due_on(at: jiff::Timestamp, tz: &jiff::tz::TimeZone) -> jiff::civil::Date {
    let day = at.to_zoned(tz.clone()).date();
    // ok: only a session at the calendar's end has no date seven days later.
    day.checked_add(jiff::Span::new().days(clinical::session::REMS_FORM_DAYS))
        .unwrap_or(day)
}

/// `GET /rems/forms`: Patient Monitoring Forms not yet submitted, with their due dates.
pub(crate) async fn rems_due(
    State(state): State<AppState>,
    who: Can<ClinicalData>,
    ctx: PageCtx,
) -> Result<Html<String>, AppError> {
    let now = jiff::Timestamp::now();
    let list = state
        .store()
        .rems_forms_due(&who.actor(), &who.user().site_id, now)
        .await?;
    let today = ctx.today();
    let tz = ctx.time_zone();
    let rows = list
        .into_iter()
        .map(|r| {
            let day = r.checked_in_at.to_zoned(tz.clone()).date();
            let due = rems_form_due_on(r.checked_in_at, &tz);
            FormDueRow {
                session_id: r.session_id.as_str().to_owned(),
                patient_id: r.patient_id.as_str().to_owned(),
                patient: r.patient_name,
                session_date: day.to_string(),
                due: due.to_string(),
                overdue: due < today,
                status: r.status.label(),
            }
        })
        .collect();
    render(&RemsDuePage { ctx, rows })
}

pub(crate) struct BoardCard {
    session_id: String,
    patient: String,
    chair: String,
    product: &'static str,
    status: &'static str,
    elapsed: String,
    next_check: String,
    /// When the patient may be discharged, where the rules set a time (esketamine).
    discharge: Option<String>,
    overdue: bool,
    last_bp: String,
    alerts: Vec<String>,
}

/// A patient in the waiting room: marked arrived for a treatment session of today that has not
/// been checked in yet.
pub(crate) struct WaitingRow {
    appointment_id: String,
    patient_id: String,
    patient: String,
    chair: String,
    /// The appointment's start, "09:00".
    booked: String,
    /// When the front desk marked the arrival, "08:52".
    arrived: String,
    /// Whole minutes since then.
    waiting_min: i64,
}

#[derive(Template)]
#[template(path = "sessions/board_cards.html")]
pub(crate) struct BoardCards {
    cards: Vec<BoardCard>,
    waiting: Vec<WaitingRow>,
    /// The reader's form token, for the check-in buttons.
    csrf: String,
    updated: String,
}

/// The board's reads: the sessions in the chairs, the safety alerts their ratings raised and
/// the waiting room of the clinic's today (none audited here: the board audits once when it
/// opens, page or stream).
async fn board_read(
    state: &AppState,
    site: &store::SiteId,
    tz: &jiff::tz::TimeZone,
    now: jiff::Timestamp,
) -> Result<BoardRead, store::StoreError> {
    let store = state.store();
    let today = now.to_zoned(tz.clone()).date();
    let (from, until) = super::schedule::zone_day_bounds(tz, today, 1);
    Ok(BoardRead {
        sessions: store.board_sessions(site).await?,
        scale_alerts: store.board_scale_alerts(site).await?,
        waiting: store.waiting_room(site, from, until).await?,
    })
}

struct BoardRead {
    sessions: Vec<SessionRecord>,
    scale_alerts: Vec<(store::SessionId, String)>,
    waiting: Vec<store::AppointmentRecord>,
}

#[derive(Template)]
#[template(path = "sessions/board.html")]
pub(crate) struct BoardPage {
    ctx: PageCtx,
    cards: BoardCards,
}

fn board_cards(
    ctx_tz: &jiff::tz::TimeZone,
    read: &BoardRead,
    csrf: &str,
    now: jiff::Timestamp,
) -> BoardCards {
    let time = |t: jiff::Timestamp| t.to_zoned(ctx_tz.clone()).strftime("%H:%M").to_string();
    let scale_alerts = &read.scale_alerts;
    let cards = read
        .sessions
        .iter()
        .map(|s| {
            let due = s.next_check();
            BoardCard {
                session_id: s.id.as_str().to_owned(),
                patient: s.patient_name.clone(),
                chair: s.chair_name.clone(),
                product: s.product.label(),
                status: s.status_words(),
                elapsed: s.started_at.map_or_else(
                    || format!("checked in {}", time(s.checked_in_at)),
                    |st| {
                        format!(
                            "{} min since dosing began",
                            now.duration_since(st).as_mins()
                        )
                    },
                ),
                next_check: due.map_or_else(
                    // ok: with no check due and dosing begun, the rule asks for none (after
                    // discharge, or after esketamine's reading before discharge).
                    || s.status.before_dosing().unwrap_or("none due").to_owned(),
                    |d| format!("{} at {}", d.what, time(d.at)),
                ),
                overdue: due.is_some_and(|d| d.at < now),
                discharge: s.earliest_discharge().map(|at| {
                    if at > now {
                        format!("from {}, two hours after dosing began", time(at))
                    } else {
                        "two hours have passed: when the discharge checklist is met".to_owned()
                    }
                }),
                last_bp: s
                    .vitals
                    .iter()
                    .rev()
                    .find_map(|v| v.vitals.systolic_mmhg.zip(v.vitals.diastolic_mmhg))
                    .map_or_else(
                        || "no blood pressure yet".into(),
                        |(a, b)| format!("BP {a}/{b}"),
                    ),
                alerts: s
                    .open_alerts()
                    .map(|a| a.message.clone())
                    .chain(
                        scale_alerts
                            .iter()
                            .filter(|(id, _)| *id == s.id)
                            .map(|(_, message)| message.clone()),
                    )
                    .collect(),
            }
        })
        .collect();
    let waiting = read
        .waiting
        .iter()
        .filter_map(|a| {
            // The waiting room's query reads only appointments marked arrived.
            let arrived = a.arrived_at?;
            Some(WaitingRow {
                appointment_id: a.id.as_str().to_owned(),
                patient_id: a.patient_id.as_str().to_owned(),
                patient: a.patient_name.clone(),
                chair: a.chair_name.clone(),
                booked: time(a.starts_at),
                arrived: time(arrived),
                waiting_min: now.duration_since(arrived).as_mins().max(0),
            })
        })
        .collect();
    BoardCards {
        cards,
        waiting,
        csrf: csrf.to_owned(),
        updated: time(now),
    }
}

/// `GET /board`: every session in the clinic's chairs.
pub(crate) async fn board(
    State(state): State<AppState>,
    who: Can<ClinicalData>,
    ctx: PageCtx,
) -> Result<Html<String>, AppError> {
    let now = jiff::Timestamp::now();
    audit_board(&state, &who, now).await?;
    let tz = ctx.time_zone();
    let read = board_read(&state, &who.user().site_id, &tz, now).await?;
    let cards = board_cards(&tz, &read, &ctx.csrf, now);
    render(&BoardPage { ctx, cards })
}

/// The board is one audited read when it is opened, whether as a page or as its live stream;
/// page and stream read the same sessions in the same order.
async fn audit_board(
    state: &AppState,
    who: &Can<ClinicalData>,
    now: jiff::Timestamp,
) -> Result<(), AppError> {
    let event = store::AuditEvent::new("session.board", store::AuditOutcome::Ok)
        .site(who.user().site_id.as_str());
    Ok(state.store().audit(&who.actor(), event, now).await?)
}

/// How often the live board reads the database for changes. Every process of a clinic network
/// reads the same rows, so a vital recorded through another process appears here too.
const BOARD_POLL: Duration = Duration::from_secs(2);

/// `GET /board/events`: server-sent events, each the board's cards as HTML, sent when they
/// change (and a keep-alive comment in between). The stream reads the database, never
/// in-process state, and is audited once when it opens.
pub(crate) async fn board_events(
    State(state): State<AppState>,
    who: Can<ClinicalData>,
    ctx: PageCtx,
) -> Result<Sse<impl futures_util::Stream<Item = Result<Event, Infallible>>>, AppError> {
    audit_board(&state, &who, jiff::Timestamp::now()).await?;
    let site = who.user().site_id.clone();
    let tz = ctx.time_zone();
    let csrf = ctx.csrf.clone();
    let stream = futures_util::stream::unfold(
        (state, site, tz, csrf, String::new()),
        |(state, site, tz, csrf, last)| async move {
            loop {
                let now = jiff::Timestamp::now();
                let html = match board_read(&state, &site, &tz, now).await {
                    Ok(read) => board_cards(&tz, &read, &csrf, now)
                        .render()
                        .unwrap_or_else(|e| {
                            // The empty text is not sent: the board keeps its last cards.
                            tracing::warn!(error = %e, "drawing the chair board failed");
                            String::new()
                        }),
                    Err(e) => {
                        tracing::warn!(error = %e, "reading the chair board failed");
                        String::new()
                    }
                };
                // The clock line changes every minute; compare without it.
                let key = html
                    .split_once("<p class=\"board-updated\"")
                    .map_or(html.as_str(), |(a, _)| a)
                    .to_owned();
                if !html.is_empty() && key != last {
                    let event = Event::default()
                        .event("board")
                        .data(html.replace('\n', " "));
                    return Some((Ok(event), (state, site, tz, csrf, key)));
                }
                tokio::time::sleep(BOARD_POLL).await;
            }
        },
    );
    Ok(Sse::new(stream).keep_alive(KeepAlive::default()))
}

//! A patient's contraindication screening: the form, pre-filled from the intake record (and the
//! patient's own self-screening, marked as reported), the findings of every screening, and the
//! prescriber's decision.

use std::collections::BTreeSet;

use askama::Template;
use axum::Form;
use axum::extract::Extension;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::cookie::CookieJar;
use clinical::medications::MedicationClass;
use clinical::patient::intake::{Allergies, Pregnancy};
use clinical::screening::{
    BloodPressure, Condition, FindingClass, ScreeningInput, check_decision, screen,
};
use serde::Deserialize;
use store::{PatientId, Role, ScreeningId, ScreeningLinkState, ScreeningRecord};

use super::measure::NewLinkView;
use super::patients::base_url;
use super::self_screening::NEW_SCREENING_LINK_COOKIE;
use super::{FormErrors, sentence};
use crate::AppState;
use crate::auth::Identity;
use crate::capability::{Can, ClinicalData, Prescribing};
use crate::error::AppError;
use crate::ids::IdPath;
use crate::view::{PageCtx, render};

/// Diagnoses whose code says the episode has psychotic features (`clinical::diagnoses`).
const PSYCHOTIC_CODES: [&str; 2] = ["F32.3", "F33.3"];

pub(crate) struct Check {
    value: &'static str,
    label: &'static str,
    checked: bool,
    /// Where the pre-filled tick came from.
    from: Option<String>,
}

pub(crate) struct FindingView {
    class: &'static str,
    class_label: &'static str,
    reason: String,
    source: String,
}

pub(crate) struct DecisionView {
    label: &'static str,
    reason: String,
    justification: Option<String>,
    by: String,
}

pub(crate) struct ScreeningView {
    /// The decision form as sent back, for the screening it was about.
    sent: DecisionForm,
    id: String,
    when: String,
    by: String,
    bp: String,
    findings: Vec<FindingView>,
    absolute: usize,
    decision: Option<DecisionView>,
    earlier: Vec<DecisionView>,
}

/// What the decision form sent back holds.
#[derive(Default)]
pub(crate) struct DecisionForm {
    screening: String,
    decision: String,
    reason: String,
    justification: String,
    errors: FormErrors,
}

#[derive(Template)]
#[template(path = "patients/screening.html")]
pub(crate) struct ScreeningPage {
    ctx: PageCtx,
    patient_id: String,
    patient_name: String,
    age: i16,
    conditions: Vec<Check>,
    reported: Vec<&'static str>,
    /// What the patient's own questionnaire said, in words.
    self_report: Option<String>,
    new_link: Option<NewLinkView>,
    classes: Vec<Check>,
    systolic: String,
    diastolic: String,
    trials: String,
    trials_from: Option<String>,
    errors: FormErrors,
    screenings: Vec<ScreeningView>,
    can_decide: bool,
    /// Problems with a decision sent back, named `<field>-<screening id>`.
    decision_errors: FormErrors,
    notice: Option<&'static str>,
}

/// The screening form as typed.
#[derive(Default)]
struct Typed {
    conditions: BTreeSet<String>,
    classes: BTreeSet<String>,
    systolic: String,
    diastolic: String,
    trials: String,
}

impl Typed {
    fn read(pairs: &[(String, String)]) -> Typed {
        let mut t = Typed::default();
        for (k, v) in pairs {
            match k.as_str() {
                "condition" => {
                    t.conditions.insert(v.clone());
                }
                "med_class" => {
                    t.classes.insert(v.clone());
                }
                "systolic" => t.systolic = v.clone(),
                "diastolic" => t.diastolic = v.clone(),
                "trials" => t.trials = v.clone(),
                _ => {}
            }
        }
        t
    }
}

fn view(ctx: &PageCtx, r: ScreeningRecord) -> ScreeningView {
    let decided = |d: &store::DecisionRecord| DecisionView {
        label: d.decision.label(),
        reason: d.reason.clone(),
        justification: d.justification.clone(),
        by: ctx.time_by(d.decided_at, d.decided_by.as_deref()),
    };
    let bp = &r.input.blood_pressure;
    ScreeningView {
        sent: DecisionForm::default(),
        id: r.id.as_str().to_owned(),
        when: ctx.time(r.recorded_at),
        by: crate::view::recorded_by(r.recorded_by.as_deref()).to_owned(),
        bp: match (bp.systolic_mmhg, bp.diastolic_mmhg) {
            (Some(s), Some(d)) => format!("{s}/{d} mmHg"),
            (Some(s), None) => format!("systolic {s} mmHg"),
            (None, Some(d)) => format!("diastolic {d} mmHg"),
            (None, None) => "not measured".to_owned(),
        },
        absolute: r
            .findings
            .iter()
            .filter(|f| f.class == FindingClass::Absolute)
            .count(),
        findings: r
            .findings
            .iter()
            .map(|f| FindingView {
                class: f.class.code(),
                class_label: f.class.label(),
                reason: sentence(&f.reason),
                source: f.source.clone(),
            })
            .collect(),
        decision: r.decision().map(decided),
        earlier: r.decisions.iter().skip(1).map(decided).collect(),
    }
}

struct Prefill {
    conditions: Vec<(Condition, String)>,
    classes: Vec<(MedicationClass, String)>,
    trials: Option<(usize, String)>,
}

/// What the intake record says, for ticking the form's boxes before the clinician confirms.
async fn prefill<C>(
    state: &AppState,
    who: &Can<C>,
    id: &PatientId,
    now: jiff::Timestamp,
) -> Result<Prefill, AppError> {
    let site = &who.user().site_id;
    let actor = who.actor();
    let mut conditions = Vec::new();
    if let Some(intake) = state.store().intake(&actor, site, id, now).await? {
        match intake.pregnancy {
            Pregnancy::Pregnant => {
                conditions.push((Condition::Pregnancy, "intake: pregnant".to_owned()));
            }
            Pregnancy::Breastfeeding => {
                conditions.push((Condition::Breastfeeding, "intake: breastfeeding".to_owned()));
            }
            _ => {}
        }
        if let Allergies::Listed(list) = &intake.allergies
            && let Some(line) = list
                .iter()
                .find(|l| clinical::patient::fold(l).contains("ketamine"))
        {
            conditions.push((
                Condition::KetamineHypersensitivity,
                format!("allergy listed: {line}"),
            ));
        }
    }
    let diagnoses = state.store().diagnoses(&actor, site, id, now).await?;
    if let Some(d) = diagnoses
        .iter()
        .find(|d| d.ended.is_none() && PSYCHOTIC_CODES.contains(&d.diagnosis.code))
    {
        conditions.push((
            Condition::PsychoticFeatures,
            format!("diagnosis {} {}", d.diagnosis.code, d.diagnosis.label),
        ));
    }
    let (meds, trials) = state
        .store()
        .medication_history(&actor, site, id, now)
        .await?;
    let mut classes: Vec<(MedicationClass, String)> = Vec::new();
    for m in meds.iter().filter(|m| m.ended.is_none()) {
        if let Some(c) = m.medication.class {
            match classes.iter_mut().find(|(k, _)| *k == c) {
                Some((_, names)) => {
                    names.push_str(", ");
                    names.push_str(&m.medication.name);
                }
                None => classes.push((c, m.medication.name.clone())),
            }
        }
    }
    let live: Vec<_> = trials.iter().filter(|t| t.struck.is_none()).collect();
    let trials = (!live.is_empty()).then(|| {
        let counted = live.iter().filter(|t| t.trial.counts()).count();
        (
            counted,
            format!(
                "{counted} of the {} trial{} recorded count",
                live.len(),
                if live.len() == 1 { "" } else { "s" }
            ),
        )
    });
    Ok(Prefill {
        conditions,
        classes,
        trials,
    })
}

#[allow(clippy::too_many_arguments)]
async fn page<C>(
    state: &AppState,
    who: &Can<C>,
    ctx: PageCtx,
    id: &PatientId,
    typed: Option<Typed>,
    errors: FormErrors,
    decision_form: DecisionForm,
    notice: Option<&'static str>,
    new_link: Option<NewLinkView>,
) -> Result<ScreeningPage, AppError> {
    let now = jiff::Timestamp::now();
    let site = &who.user().site_id;
    let p = state.store().patient(&who.actor(), site, id, now).await?;
    let pre = prefill(state, who, id, now).await?;
    let own = state
        .store()
        .latest_self_screening(&who.actor(), site, id, now)
        .await?;
    let mut reported: Vec<&'static str> = Vec::new();
    let mut self_report = None;
    if let Some(own) = &own {
        let date = ctx.date(own.submitted_at);
        let mut said = Vec::new();
        for c in Condition::ALL {
            if own.yes.contains(&c) {
                reported.push(c.code());
                said.push(format!("yes to “{}”", c.patient_question()));
            } else if own.not_sure.contains(&c) {
                reported.push(c.code());
                said.push(format!("not sure about “{}”", c.patient_question()));
            }
        }
        self_report = Some(if said.is_empty() {
            format!("The patient's self-screening of {date} answered no to every question.")
        } else {
            format!(
                "The patient's self-screening of {date} answered {}. Unticked, these still appear as findings reported by the patient; tick a box once it is confirmed.",
                said.join("; ")
            )
        });
    }
    let own_date = own.as_ref().map(|o| ctx.date(o.submitted_at));
    let from_condition = |c: Condition| {
        pre.conditions
            .iter()
            .find(|(k, _)| *k == c)
            .map(|(_, why)| why.clone())
            .or_else(|| {
                let o = own.as_ref()?;
                let date = own_date.as_deref().unwrap_or_default();
                if o.yes.contains(&c) {
                    Some(format!(
                        "the patient answered yes on {date} (not confirmed)"
                    ))
                } else if o.not_sure.contains(&c) {
                    Some(format!(
                        "the patient was not sure on {date} (not confirmed)"
                    ))
                } else {
                    None
                }
            })
    };
    let confirmed_from = |c: Condition| pre.conditions.iter().any(|(k, _)| *k == c);
    let from_class = |c: MedicationClass| {
        pre.classes
            .iter()
            .find(|(k, _)| *k == c)
            .map(|(_, why)| format!("current: {why}"))
    };
    let conditions = Condition::ALL
        .into_iter()
        .map(|c| Check {
            value: c.code(),
            label: c.label(),
            checked: match &typed {
                Some(t) => t.conditions.contains(c.code()),
                None => confirmed_from(c),
            },
            from: from_condition(c),
        })
        .collect();
    let classes = MedicationClass::ALL
        .into_iter()
        .map(|c| Check {
            value: c.code(),
            label: c.label(),
            checked: match &typed {
                Some(t) => t.classes.contains(c.code()),
                None => from_class(c).is_some(),
            },
            from: from_class(c),
        })
        .collect();
    let (systolic, diastolic, trials) = match typed {
        Some(t) => (t.systolic, t.diastolic, t.trials),
        None => (
            String::new(),
            String::new(),
            pre.trials
                .as_ref()
                .map_or_else(String::new, |(n, _)| n.to_string()),
        ),
    };
    let mut screenings: Vec<ScreeningView> = state
        .store()
        .screenings(&who.actor(), site, id, now)
        .await?
        .into_iter()
        .map(|r| view(&ctx, r))
        .collect();
    let decision_errors = decision_form.errors.clone();
    if let Some(v) = screenings
        .iter_mut()
        .find(|v| v.id == decision_form.screening)
    {
        v.sent = decision_form;
    }
    Ok(ScreeningPage {
        patient_id: p.id.as_str().to_owned(),
        patient_name: format!("{} {}", p.given_name, p.family_name),
        age: clinical::patient::age_on(p.date_of_birth, ctx.today()),
        conditions,
        reported,
        self_report,
        new_link,
        classes,
        systolic,
        diastolic,
        trials,
        trials_from: pre.trials.map(|(_, why)| why),
        errors,
        screenings,
        can_decide: who.user().role == Role::Prescriber,
        decision_errors,
        notice,
        ctx,
    })
}

#[derive(Deserialize)]
pub(crate) struct NoticeQuery {
    done: Option<String>,
}

/// `GET /patients/{id}/screening`.
pub(crate) async fn show(
    State(state): State<AppState>,
    who: Can<ClinicalData>,
    Extension(identity): Extension<Identity>,
    headers: HeaderMap,
    ctx: PageCtx,
    IdPath(id): IdPath<PatientId>,
    Query(q): Query<NoticeQuery>,
) -> Result<Response, AppError> {
    // A self-screening link made just before the redirect here: shown this once.
    let secret = CookieJar::from_headers(&headers)
        .get(NEW_SCREENING_LINK_COOKIE)
        .map(|c| c.value().to_owned());
    let mut new_link = None;
    if let Some(secret) = &secret
        && let ScreeningLinkState::Open {
            patient_id,
            expires_at,
        } = state
            .store()
            .screening_link(secret, jiff::Timestamp::now())
            .await?
        && patient_id == id
    {
        new_link = Some(NewLinkView::at(
            format!("{}/s/{secret}", base_url(&identity, &headers)),
            "self-screening",
            ctx.time(expires_at),
        ));
    }
    let notice = match q.done.as_deref() {
        Some("screened") => {
            Some("The screening is recorded; its findings are at the top of the list below.")
        }
        Some("decided") => Some("The decision is recorded."),
        Some("link") if new_link.is_none() => {
            Some("The self-screening link was made; it is shown only once, right after it is made.")
        }
        _ => None,
    };
    let page = page(
        &state,
        &who,
        ctx,
        &id,
        None,
        FormErrors::default(),
        DecisionForm::default(),
        notice,
        new_link,
    )
    .await?;
    let mut res = render(&page)?.into_response();
    if secret.is_some() {
        let mut gone =
            crate::auth::cookie(NEW_SCREENING_LINK_COOKIE, String::new(), identity.secure);
        gone.set_path(format!("/patients/{id}/screening"));
        gone.make_removal();
        crate::auth::append_cookie(&mut res, &gone);
    }
    Ok(res)
}

/// A number typed into a form: empty is `None`; anything not a whole number is an error.
fn whole(errors: &mut FormErrors, field: &str, words: &str, text: &str) -> Result<Option<i64>, ()> {
    match text.trim() {
        "" => Ok(None),
        t => t.parse::<i64>().map(Some).map_err(|_| {
            errors.push(
                field,
                format!(
                    "{words} must be a whole number, such as 120; leave it empty when not measured."
                ),
            );
        }),
    }
}

/// `POST /patients/{id}/screening`.
pub(crate) async fn create(
    State(state): State<AppState>,
    who: Can<ClinicalData>,
    ctx: PageCtx,
    IdPath(id): IdPath<PatientId>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    let typed = Typed::read(&pairs);
    let reported: Vec<String> = pairs
        .iter()
        .filter(|(k, _)| k == "reported")
        .map(|(_, v)| v.clone())
        .collect();
    let mut errors = FormErrors::default();
    let systolic = whole(
        &mut errors,
        "systolic",
        "Systolic pressure",
        &typed.systolic,
    );
    let diastolic = whole(
        &mut errors,
        "diastolic",
        "Diastolic pressure",
        &typed.diastolic,
    );
    let trials = whole(
        &mut errors,
        "trials",
        "Failed adequate trials",
        &typed.trials,
    );
    let field = |api: &str| match api {
        "systolic_mmhg" => "systolic",
        "diastolic_mmhg" => "diastolic",
        "adequate_antidepressant_trials" => "trials",
        "medication_classes" => "med_class",
        _ => "conditions",
    };
    let now = jiff::Timestamp::now();
    let input = match (systolic, diastolic, trials) {
        (Ok(s), Ok(d), Ok(t)) => {
            let bp = BloodPressure::parse(s, d);
            let p = state
                .store()
                .patient(&who.actor(), &who.user().site_id, &id, now)
                .await?;
            let age = clinical::patient::age_on(p.date_of_birth, ctx.today());
            let conditions: Vec<&String> = typed.conditions.iter().collect();
            let classes: Vec<&String> = typed.classes.iter().collect();
            let reported: Vec<&String> = reported.iter().collect();
            let mut all = Vec::new();
            let bp = bp.unwrap_or_else(|e| {
                all.extend(e);
                BloodPressure {
                    systolic_mmhg: None,
                    diastolic_mmhg: None,
                }
            });
            // ok: registration refuses a birth date after today, so the age is never negative;
            // a negative one would screen as under age, the cautious side.
            let age = u32::try_from(age).unwrap_or(0);
            match ScreeningInput::from_codes(age, &conditions, &reported, bp, &classes, t) {
                Ok(input) if all.is_empty() => Some(input),
                Ok(_) => None,
                Err(e) => {
                    all.extend(e);
                    None
                }
            }
            .ok_or(all)
        }
        _ => Err(Vec::new()),
    };
    match input {
        Ok(input) => {
            let found = screen(&input, &state.config().screening);
            state
                .store()
                .record_screening(&who.actor(), &who.user().site_id, &id, &input, &found, now)
                .await?;
            Ok(Redirect::to(&format!("/patients/{id}/screening?done=screened")).into_response())
        }
        Err(problems) => {
            for p in problems {
                errors.push(field(p.field()), sentence(&p.to_string()));
            }
            let page = page(
                &state,
                &who,
                ctx,
                &id,
                Some(typed),
                errors,
                DecisionForm::default(),
                None,
                None,
            )
            .await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)?).into_response())
        }
    }
}

#[derive(Deserialize)]
pub(crate) struct DecideForm {
    #[serde(default)]
    decision: String,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    justification: String,
}

/// `POST /patients/{id}/screenings/{screening}/decision` (prescribers only).
pub(crate) async fn decide(
    State(state): State<AppState>,
    who: Can<Prescribing>,
    ctx: PageCtx,
    axum::extract::Path((patient, screening)): axum::extract::Path<(String, String)>,
    Form(form): Form<DecideForm>,
) -> Result<Response, AppError> {
    let (Some(id), Some(sid)) = (PatientId::parse(&patient), ScreeningId::parse(&screening)) else {
        return Err(AppError::NotFound);
    };
    let now = jiff::Timestamp::now();
    let site = &who.user().site_id;
    let list = state
        .store()
        .screenings(&who.actor(), site, &id, now)
        .await?;
    let Some(record) = list.into_iter().find(|s| s.id == sid) else {
        return Err(AppError::NotFound);
    };
    match check_decision(
        &record.findings,
        &form.decision,
        &form.reason,
        &form.justification,
    ) {
        Ok(checked) => {
            if !state
                .store()
                .decide_screening(&who.actor(), site, &id, &sid, &checked, now)
                .await?
            {
                return Err(AppError::NotFound);
            }
            Ok(Redirect::to(&format!("/patients/{id}/screening?done=decided")).into_response())
        }
        Err(problems) => {
            let mut errors = FormErrors::default();
            for p in problems {
                errors.push(format!("{}-{sid}", p.field()), sentence(&p.to_string()));
            }
            let form = DecisionForm {
                screening: sid.as_str().to_owned(),
                decision: form.decision,
                reason: form.reason,
                justification: form.justification,
                errors,
            };
            let page = page(
                &state,
                &who,
                ctx,
                &id,
                None,
                FormErrors::default(),
                form,
                None,
                None,
            )
            .await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)?).into_response())
        }
    }
}

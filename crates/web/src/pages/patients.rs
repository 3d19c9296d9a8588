//! The patient directory: search, register, view demographics.

use askama::Template;
use axum::Form;
use axum::extract::{Extension, Query, State};
use axum::http::StatusCode;
use axum::http::{HeaderMap, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum_extra::extract::cookie::CookieJar;
use clinical::patient::{ContactInput, PatientInput, Sex};
use serde::Deserialize;
use store::{Actor, LinkId, LinkState, PatientId, PatientRecord, PatientSort, Registration};

use super::measure::{
    DueView, LinkOutcome, LinkRefused, Measurements, NewLinkView, make_link, measurements,
};

use super::{FormErrors, sentence};
use crate::AppState;
use crate::auth::Identity;
use crate::capability::{Can, Capability, ClinicalData, PatientDirectory};
use crate::display::Choice;
use crate::error::AppError;
use crate::ids::IdPath;
use crate::view::{PageCtx, render};

/// A patient as the pages show one.
pub(crate) struct PatientView {
    id: String,
    mrn: String,
    given_name: String,
    family_name: String,
    date_of_birth: String,
    age: i16,
    sex: &'static str,
    phone: Option<String>,
    email: Option<String>,
    address: Option<String>,
    emergency_contact: Option<String>,
    registered: String,
    updated: Option<String>,
}

impl PatientView {
    fn new(p: PatientRecord, ctx: &PageCtx) -> Self {
        PatientView {
            age: clinical::patient::age_on(p.date_of_birth, ctx.today()),
            registered: ctx.time(p.created_at),
            updated: (p.updated_at != p.created_at).then(|| ctx.time(p.updated_at)),
            emergency_contact: match (p.emergency_contact_name, p.emergency_contact_phone) {
                (Some(n), Some(t)) => Some(format!("{n}, {t}")),
                (Some(one), None) | (None, Some(one)) => Some(one),
                (None, None) => None,
            },
            address: p.address,
            id: p.id.as_str().to_owned(),
            mrn: p.mrn,
            given_name: p.given_name,
            family_name: p.family_name,
            date_of_birth: p.date_of_birth.to_string(),
            sex: p.sex.label(),
            phone: p.phone,
            email: p.email,
        }
    }
}

#[derive(Template)]
#[template(path = "patients/list.html")]
pub(crate) struct ListPage {
    ctx: PageCtx,
    query: String,
    patients: Vec<PatientView>,
}

#[derive(Deserialize)]
pub(crate) struct ListQuery {
    #[serde(default)]
    q: String,
}

/// How many patients one page lists.
const LIST_LIMIT: i64 = 200;

pub(crate) async fn list(
    State(state): State<AppState>,
    who: Can<PatientDirectory>,
    ctx: PageCtx,
    Query(q): Query<ListQuery>,
) -> Result<Html<String>, AppError> {
    let records = state
        .store()
        .patients(
            &who.actor(),
            &who.user().site_id,
            &q.q,
            PatientSort::Name,
            LIST_LIMIT,
            jiff::Timestamp::now(),
        )
        .await?;
    let patients = records
        .into_iter()
        .map(|p| PatientView::new(p, &ctx))
        .collect();
    render(&ListPage {
        ctx,
        query: q.q.trim().to_owned(),
        patients,
    })
}

/// The registration form's fields, as typed.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct PatientForm {
    #[serde(default)]
    given_name: String,
    #[serde(default)]
    family_name: String,
    #[serde(default)]
    date_of_birth: String,
    #[serde(default)]
    sex: String,
    #[serde(default)]
    phone: String,
    #[serde(default)]
    email: String,
    /// Set when the person registering confirmed, after the duplicate warning, that this is a
    /// different person from the records shown.
    #[serde(default)]
    different_person: String,
    /// The public inquiry this registration comes from, when it does.
    #[serde(default)]
    inquiry: String,
}

#[derive(Deserialize)]
pub(crate) struct NewQuery {
    #[serde(default)]
    inquiry: String,
}

impl From<&PatientForm> for PatientInput {
    fn from(f: &PatientForm) -> Self {
        PatientInput {
            given_name: f.given_name.clone(),
            family_name: f.family_name.clone(),
            date_of_birth: f.date_of_birth.clone(),
            sex: f.sex.clone(),
            phone: f.phone.clone(),
            email: f.email.clone(),
        }
    }
}

#[derive(Template)]
#[template(path = "patients/new.html")]
pub(crate) struct NewPage {
    ctx: PageCtx,
    form: PatientForm,
    errors: FormErrors,
    sexes: Vec<Choice>,
    /// Records with the same name and birth date, shown before registering another.
    same: Vec<PatientView>,
}

impl NewPage {
    /// The registration form again, as typed, with its messages or the likely duplicates.
    fn answer(
        ctx: PageCtx,
        form: PatientForm,
        errors: FormErrors,
        same: Vec<PatientView>,
        status: StatusCode,
    ) -> Result<Response, AppError> {
        let sexes = sex_choices(form.sex.trim());
        let page = NewPage {
            ctx,
            form,
            errors,
            sexes,
            same,
        };
        Ok((status, render(&page)?).into_response())
    }
}

fn sex_choices(selected: &str) -> Vec<Choice> {
    Sex::ALL
        .into_iter()
        .map(|s| Choice {
            value: s.code(),
            label: s.label(),
            selected: s.code() == selected,
        })
        .collect()
}

pub(crate) async fn new(
    State(state): State<AppState>,
    who: Can<PatientDirectory>,
    ctx: PageCtx,
    Query(q): Query<NewQuery>,
) -> Result<Html<String>, AppError> {
    // From an inquiry: its name and contact details carried over (an audited read).
    let mut form = PatientForm::default();
    if let Some(id) = store::InquiryId::parse(&q.inquiry) {
        let (i, _) = state
            .store()
            .inquiry(
                &who.actor(),
                &who.user().site_id,
                &id,
                jiff::Timestamp::now(),
            )
            .await?;
        form = PatientForm {
            given_name: i.given_name,
            family_name: i.family_name,
            phone: i.phone.unwrap_or_default(),
            email: i.email.unwrap_or_default(),
            inquiry: id.as_str().to_owned(),
            ..PatientForm::default()
        };
    }
    render(&NewPage {
        ctx,
        form,
        errors: FormErrors::default(),
        sexes: sex_choices(""),
        same: Vec::new(),
    })
}

pub(crate) async fn create(
    State(state): State<AppState>,
    who: Can<PatientDirectory>,
    ctx: PageCtx,
    Form(form): Form<PatientForm>,
) -> Result<Response, AppError> {
    match PatientInput::from(&form).validate(ctx.today()) {
        Ok(patient) => {
            // The look for the same person and the registration are one transaction, so a
            // double click registers once.
            let registered = state
                .store()
                .register_patient(
                    &who.actor(),
                    &who.user().site_id,
                    &patient,
                    store::InquiryId::parse(&form.inquiry).as_ref(),
                    form.different_person != "yes",
                    jiff::Timestamp::now(),
                )
                .await?;
            match registered {
                Registration::Registered(record) => {
                    Ok(Redirect::to(&format!("/patients/{}?created=1", record.id)).into_response())
                }
                Registration::LikelySame(same) => {
                    let same = same
                        .into_iter()
                        .map(|p| PatientView::new(p, &ctx))
                        .collect();
                    NewPage::answer(ctx, form, FormErrors::default(), same, StatusCode::CONFLICT)
                }
                Registration::InquiryTaken => {
                    let mut errors = FormErrors::default();
                    errors.push(
                        "given_name",
                        "This inquiry has been registered as a patient already; open it from the inquiry's page.",
                    );
                    NewPage::answer(ctx, form, errors, Vec::new(), StatusCode::CONFLICT)
                }
            }
        }
        Err(problems) => {
            let mut errors = FormErrors::default();
            for p in problems {
                errors.push(p.field(), sentence(&p.to_string()));
            }
            NewPage::answer(
                ctx,
                form,
                errors,
                Vec::new(),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
        }
    }
}

#[derive(Template)]
#[template(path = "patients/show.html")]
pub(crate) struct ShowPage {
    ctx: PageCtx,
    p: PatientView,
    created: bool,
    recorded: bool,
    updated: bool,
    clinical: Option<Measurements>,
    new_link: Option<NewLinkView>,
    link_error: Option<LinkRefused>,
    link_notice: Option<&'static str>,
    open_links: Vec<OpenLinkView>,
    candidate: Option<CandidateView>,
    /// Courses by name and status, for every role that books (no dose, no condition).
    courses: Vec<(String, String, &'static str, bool)>,
    /// The next booked appointments not yet checked in: when, where, what.
    upcoming: Vec<String>,
    /// The patient's treatment sessions, newest first, for the clinical staff.
    sessions: Vec<SessionLine>,
}

/// One treatment session on the patient's record.
pub(crate) struct SessionLine {
    id: String,
    when: String,
    treatment: &'static str,
    /// The dose verified and whether it was given, in words.
    dose: String,
    status: &'static str,
    adverse: String,
}

/// Where the patient stands on the way to a first session: screening and consent.
pub(crate) struct CandidateView {
    screening: String,
    consent: String,
    /// Screened, decided eligible and signed the current consent.
    ready: bool,
}

async fn candidate(
    state: &AppState,
    user: &store::User,
    actor: &Actor,
    ctx: &PageCtx,
    id: &PatientId,
    now: jiff::Timestamp,
) -> Result<CandidateView, AppError> {
    let actor = actor.clone();
    let screenings = state
        .store()
        .screenings(&actor, &user.site_id, id, now)
        .await?;
    let (screening, eligible) = match screenings.first() {
        None => ("not screened yet".to_owned(), false),
        Some(s) => {
            let absolute = s
                .findings
                .iter()
                .filter(|f| f.class == clinical::screening::FindingClass::Absolute)
                .count();
            let found = match absolute {
                0 => "no contraindication".to_owned(),
                1 => "1 contraindication".to_owned(),
                n => format!("{n} contraindications"),
            };
            match s.decision() {
                None => (
                    format!(
                        "screened {} ({found}); no decision yet",
                        ctx.date(s.recorded_at)
                    ),
                    false,
                ),
                Some(d) => (
                    format!(
                        "screened {} ({found}); {}{}",
                        ctx.date(s.recorded_at),
                        d.decision.label().to_lowercase(),
                        if d.justification.is_some() {
                            " with the contraindication overridden"
                        } else {
                            ""
                        }
                    ),
                    d.decision == clinical::screening::Decision::Eligible,
                ),
            }
        }
    };
    let status = state
        .store()
        .consent_status(&actor, &user.site_id, id, now)
        .await?;
    let consent = match (&status.current, status.signed_current()) {
        (None, _) => "no consent document is published".to_owned(),
        (Some(d), true) => format!("signed version {}", d.version),
        (Some(d), false) => format!("version {} needs signing", d.version),
    };
    Ok(CandidateView {
        screening,
        consent,
        ready: eligible && status.signed_current(),
    })
}

/// A self-report link the patient can still use, as the patient page lists it.
pub(crate) struct OpenLinkView {
    id: String,
    instrument: &'static str,
    time_point: &'static str,
    made: String,
    expires: String,
}

#[derive(Deserialize)]
pub(crate) struct ShowQuery {
    created: Option<String>,
    recorded: Option<String>,
    updated: Option<String>,
    link: Option<String>,
}

/// The cookie that carries a new self-report link's secret across the redirect after it is
/// made, to the one page view that shows it (post-redirect-get without storing the secret).
const NEW_LINK_COOKIE: &str = "kf_new_link";

/// The address patients open links at, as the staff member's browser reached this server.
pub(crate) fn base_url(identity: &Identity, headers: &HeaderMap) -> String {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| {
            !h.is_empty()
                && h.bytes().all(|b| {
                    b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':' | b'[' | b']')
                })
        })
        .unwrap_or("127.0.0.1:8080");
    let scheme = if identity.secure { "https" } else { "http" };
    format!("{scheme}://{host}")
}

impl ShowPage {
    /// The self-report link form's field at fault, or "".
    fn link_field(&self) -> &'static str {
        self.link_error.as_ref().map_or("", |e| e.field)
    }
}

/// Renders a patient's page; the measurements section only for roles with clinical access.
async fn show_page<C>(
    state: &AppState,
    who: &Can<C>,
    ctx: PageCtx,
    id: &PatientId,
    query: &ShowQuery,
    new_link: Option<NewLinkView>,
    link_error: Option<LinkRefused>,
) -> Result<Html<String>, AppError> {
    let user = who.user();
    let actor = &who.actor();
    let now = jiff::Timestamp::now();
    let record = state.store().patient(actor, &user.site_id, id, now).await?;
    let p = PatientView::new(record, &ctx);
    let (mut clinical, open_links) = if ClinicalData::allows(user.role) {
        let links = state
            .store()
            .open_links(&user.site_id, id, now)
            .await?
            .into_iter()
            .map(|l| OpenLinkView {
                id: l.id.as_str().to_owned(),
                instrument: l.instrument.instrument().short_name,
                time_point: l.time_point.label(),
                made: format!("{} by {}", ctx.time(l.created_at), l.created_by),
                expires: ctx.time(l.expires_at),
            })
            .collect();
        let mut m = measurements(state, user, actor, &ctx, id).await?;
        if let Some(refused) = &link_error {
            m.keep_link_choices(refused);
        }
        (Some(m), links)
    } else {
        (None, Vec::new())
    };
    let candidate = match clinical {
        Some(_) => Some(candidate(state, user, actor, &ctx, id, now).await?),
        None => None,
    };
    let records = state.store().courses(actor, &user.site_id, id, now).await?;
    // What is due follows the planned and active courses where there are any, as on the start
    // page; the default plan only for a patient without one.
    let open: Vec<&store::CourseRecord> = records
        .iter()
        .filter(|c| {
            matches!(
                c.status,
                clinical::course::CourseStatus::Planned | clinical::course::CourseStatus::Active
            )
        })
        .collect();
    // The assessments the measurements read already (they were read, and audited, twice).
    if let Some(m) = clinical.as_mut().filter(|_| !open.is_empty()) {
        let mut due = Vec::new();
        for c in &open {
            let rows = super::courses::due_rows(&ctx, c, &m.done);
            let next = super::courses::next_row(&ctx, c, &m.done);
            due.extend(rows.into_iter().chain(next).map(|r| DueView {
                instrument: r.instrument_name(),
                time_point: r.time_point_label(),
                window: r.window_text(),
                status: r.listed_status(),
            }));
        }
        due.sort_by_key(|d| super::measure::listed_rank(d.status));
        let names: Vec<String> = open.iter().map(|c| c.protocol_name.clone()).collect();
        m.follow_courses(&names, due);
    }
    let courses = records
        .into_iter()
        .map(|c| {
            (
                c.id.as_str().to_owned(),
                c.protocol_name,
                c.status.label(),
                !c.status.is_final(),
            )
        })
        .collect();
    let until = now
        .checked_add(jiff::SignedDuration::from_hours(24 * 120))
        .unwrap_or(now);
    let upcoming = state
        .store()
        .appointments(actor, &user.site_id, now, until, None, Some(id), now)
        .await?
        .into_iter()
        .filter(|a| a.status == store::AppointmentStatus::Booked && a.session_id.is_none())
        .take(8)
        .map(|a| {
            format!(
                "{}: {} in {}",
                ctx.time(a.starts_at),
                a.kind.label(),
                a.chair_name
            )
        })
        .collect();
    // The treatment history: what was given at each session, for those who read clinical data.
    let sessions = if ClinicalData::allows(user.role) {
        state
            .store()
            .patient_sessions(actor, &user.site_id, id, now)
            .await?
            .into_iter()
            .map(|s| SessionLine {
                id: s.id.as_str().to_owned(),
                when: ctx.time(s.checked_in_at),
                treatment: s.product.label(),
                dose: match (s.dose_mg, s.started, s.not_given) {
                    (_, _, Some(_)) | (None, _, None) => "none given".into(),
                    (Some(mg), true, None) => match s.infused_mg {
                        // An infusion stopped early gave what its pump record says.
                        Some(given) if format!("{given:.1}") != format!("{mg:.1}") => {
                            let running = matches!(
                                s.status,
                                clinical::session::SessionStatus::Administering
                                    | clinical::session::SessionStatus::Paused
                            );
                            let so_far = if running { " so far" } else { "" };
                            format!("{given:.1} of {mg:.1} mg infused{so_far}")
                        }
                        _ => format!("{mg:.1} mg"),
                    },
                    (Some(mg), false, None) => format!("{mg:.1} mg verified, not started"),
                },
                status: store::session_status_words(s.status, s.not_given.is_some()),
                adverse: match s.adverse_events {
                    0 => "none".into(),
                    n => n.to_string(),
                },
            })
            .collect()
    } else {
        Vec::new()
    };
    let link_notice = match query.link.as_deref() {
        Some("revoked") => Some("The link is revoked: it no longer opens the questions."),
        Some("gone") => Some("That link was already used, revoked or expired."),
        _ => None,
    };
    render(&ShowPage {
        ctx,
        p,
        created: query.created.is_some(),
        recorded: query.recorded.is_some(),
        updated: query.updated.is_some(),
        clinical,
        new_link,
        link_error,
        link_notice,
        open_links,
        candidate,
        courses,
        upcoming,
        sessions,
    })
}

pub(crate) async fn show(
    State(state): State<AppState>,
    who: Can<PatientDirectory>,
    Extension(identity): Extension<Identity>,
    headers: HeaderMap,
    ctx: PageCtx,
    IdPath(id): IdPath<PatientId>,
    Query(q): Query<ShowQuery>,
) -> Result<Response, AppError> {
    let jar = CookieJar::from_headers(&headers);
    // A link made just before the redirect here: shown this once, then the cookie is gone.
    let secret = jar
        .get(NEW_LINK_COOKIE)
        .map(|c| c.value().to_owned())
        .filter(|_| ClinicalData::allows(who.user().role));
    let mut new_link = None;
    if let Some(secret) = &secret
        && let LinkState::Open {
            patient_id,
            instrument,
            expires_at,
            ..
        } = state
            .store()
            .self_report_link(secret, jiff::Timestamp::now())
            .await?
        && patient_id == id
    {
        new_link = Some(NewLinkView::new(
            &base_url(&identity, &headers),
            secret,
            instrument.instrument(),
            ctx.time(expires_at),
        ));
    }
    let html = show_page(&state, &who, ctx, &id, &q, new_link, None).await?;
    let mut res = html.into_response();
    if secret.is_some() {
        let mut gone = crate::auth::cookie(NEW_LINK_COOKIE, String::new(), identity.secure);
        gone.set_path(format!("/patients/{id}"));
        gone.make_removal();
        crate::auth::append_cookie(&mut res, &gone);
    }
    Ok(res)
}

/// `POST /patients/{id}/links`: makes a self-report link, then sends the browser to the
/// patient's page, which shows it once (a reload does not make a second link).
pub(crate) async fn create_link(
    State(state): State<AppState>,
    who: Can<ClinicalData>,
    Extension(identity): Extension<Identity>,
    ctx: PageCtx,
    IdPath(id): IdPath<PatientId>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    match make_link(&state, who.user(), &who.actor(), &ctx, &id, &fields).await? {
        LinkOutcome::Made(secret) => {
            let mut c = crate::auth::cookie(NEW_LINK_COOKIE, secret, identity.secure);
            c.set_path(format!("/patients/{id}"));
            c.set_max_age(time::Duration::minutes(5));
            let mut res = Redirect::to(&format!("/patients/{id}?link=new")).into_response();
            crate::auth::append_cookie(&mut res, &c);
            Ok(res)
        }
        LinkOutcome::Refused(refused) => {
            let query = ShowQuery {
                created: None,
                recorded: None,
                updated: None,
                link: None,
            };
            let html = show_page(&state, &who, ctx, &id, &query, None, Some(refused)).await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, html).into_response())
        }
    }
}

/// `GET /patients/{id}/links`: the links live on the patient's page.
pub(crate) async fn links(_who: Can<ClinicalData>, IdPath(id): IdPath<PatientId>) -> Redirect {
    Redirect::to(&format!("/patients/{id}#self-report"))
}

/// `POST /patients/{id}/links/{link}/revoke`: withdraws an open link.
pub(crate) async fn revoke_link(
    State(state): State<AppState>,
    who: Can<ClinicalData>,
    axum::extract::Path((patient, link)): axum::extract::Path<(String, String)>,
) -> Result<Response, AppError> {
    let (Some(patient), Some(link)) = (PatientId::parse(&patient), LinkId::parse(&link)) else {
        return Err(AppError::NotFound);
    };
    let revoked = state
        .store()
        .revoke_link(who.user(), &patient, &link, jiff::Timestamp::now())
        .await?;
    let outcome = if revoked { "revoked" } else { "gone" };
    Ok(Redirect::to(&format!("/patients/{patient}?link={outcome}#self-report")).into_response())
}

/// The contact-details form's fields, as typed.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct ContactForm {
    #[serde(default)]
    phone: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    address: String,
    #[serde(default)]
    emergency_contact_name: String,
    #[serde(default)]
    emergency_contact_phone: String,
}

impl From<&ContactForm> for ContactInput {
    fn from(f: &ContactForm) -> Self {
        ContactInput {
            phone: f.phone.clone(),
            email: f.email.clone(),
            address: f.address.clone(),
            emergency_contact_name: f.emergency_contact_name.clone(),
            emergency_contact_phone: f.emergency_contact_phone.clone(),
        }
    }
}

#[derive(Template)]
#[template(path = "patients/contact.html")]
pub(crate) struct ContactPage {
    ctx: PageCtx,
    p: PatientView,
    form: ContactForm,
    errors: FormErrors,
    changes: Vec<super::ChangeRow>,
}

/// The contact form's fields in words, for the list of changes.
fn contact_words(code: &str) -> &'static str {
    match code {
        "phone" => "telephone",
        "email" => "email",
        "address" => "postal address",
        "emergency_contact_name" => "emergency contact",
        "emergency_contact_phone" => "emergency contact phone",
        _ => "another field",
    }
}

/// `GET /patients/{id}/contact`: the contact details, ready to change.
pub(crate) async fn contact_form(
    State(state): State<AppState>,
    who: Can<PatientDirectory>,
    ctx: PageCtx,
    IdPath(id): IdPath<PatientId>,
) -> Result<Html<String>, AppError> {
    let record = state
        .store()
        .patient(
            &who.actor(),
            &who.user().site_id,
            &id,
            jiff::Timestamp::now(),
        )
        .await?;
    let form = ContactForm {
        phone: record.phone.clone().unwrap_or_default(),
        email: record.email.clone().unwrap_or_default(),
        address: record.address.clone().unwrap_or_default(),
        emergency_contact_name: record.emergency_contact_name.clone().unwrap_or_default(),
        emergency_contact_phone: record.emergency_contact_phone.clone().unwrap_or_default(),
    };
    let p = PatientView::new(record, &ctx);
    let changes = super::change_rows(
        &state,
        &ctx,
        &who.user().site_id,
        &id,
        "patient.update",
        contact_words,
    )
    .await?;
    render(&ContactPage {
        ctx,
        p,
        form,
        errors: FormErrors::default(),
        changes,
    })
}

/// `POST /patients/{id}/contact`: saves the details, or shows the form again with each problem
/// at its field (nothing stored changes until every field is right).
pub(crate) async fn contact_save(
    State(state): State<AppState>,
    who: Can<PatientDirectory>,
    ctx: PageCtx,
    IdPath(id): IdPath<PatientId>,
    Form(form): Form<ContactForm>,
) -> Result<Response, AppError> {
    let now = jiff::Timestamp::now();
    match ContactInput::from(&form).validate() {
        Ok(details) => {
            state
                .store()
                .update_contact(&who.actor(), &who.user().site_id, &id, &details, now)
                .await?;
            Ok(Redirect::to(&format!("/patients/{id}?updated=1")).into_response())
        }
        Err(problems) => {
            let record = state
                .store()
                .patient(&who.actor(), &who.user().site_id, &id, now)
                .await?;
            let mut errors = FormErrors::default();
            for p in problems {
                errors.push(p.field(), sentence(&p.to_string()));
            }
            let changes = super::change_rows(
                &state,
                &ctx,
                &who.user().site_id,
                &id,
                "patient.update",
                contact_words,
            )
            .await?;
            let page = ContactPage {
                p: PatientView::new(record, &ctx),
                ctx,
                form,
                errors,
                changes,
            };
            Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)?).into_response())
        }
    }
}

//! The public inquiry page ("find out if you are a candidate") and the front desk's queue.
//!
//! The public form takes contact details only; its fields are the allow-list (a field the form
//! does not have is never read, so never stored). A hidden honeypot field catches simple bots:
//! a form that fills it is thanked and dropped.

use askama::Template;
use axum::Form;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use clinical::inquiry::{ContactTime, HeardFrom, InquiryInput, InquiryStatus};
use serde::Deserialize;
use store::{InquiryId, SiteId};

use super::{FormErrors, sentence};
use crate::AppState;
use crate::capability::{Can, PatientDirectory};
use crate::display::Choice;
use crate::error::AppError;
use crate::ids::IdPath;
use crate::view::{PageCtx, render};

/// The public form as sent: the allow-listed fields, the honeypot, and nothing else.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct PublicForm {
    #[serde(default)]
    given_name: String,
    #[serde(default)]
    family_name: String,
    #[serde(default)]
    phone: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    contact_times: Vec<String>,
    #[serde(default)]
    location: String,
    #[serde(default)]
    heard_from: String,
    #[serde(default)]
    question: String,
    /// The honeypot: hidden from people, filled by bots.
    #[serde(default)]
    website: String,
}

impl PublicForm {
    /// Reads the urlencoded body keeping only the form's own fields (repeated `contact_times`).
    pub(crate) fn from_pairs(pairs: &[(String, String)]) -> PublicForm {
        let mut form = PublicForm::default();
        for (key, value) in pairs {
            let value = value.clone();
            match key.as_str() {
                "given_name" => form.given_name = value,
                "family_name" => form.family_name = value,
                "phone" => form.phone = value,
                "email" => form.email = value,
                "contact_times" => form.contact_times.push(value),
                "location" => form.location = value,
                "heard_from" => form.heard_from = value,
                "question" => form.question = value,
                "website" => form.website = value,
                _ => {}
            }
        }
        form
    }

    /// The fields the domain validates.
    pub(crate) fn input(&self) -> InquiryInput {
        InquiryInput {
            given_name: self.given_name.clone(),
            family_name: self.family_name.clone(),
            phone: self.phone.clone(),
            email: self.email.clone(),
            contact_times: self.contact_times.clone(),
            heard_from: self.heard_from.clone(),
            question: self.question.clone(),
        }
    }
}

/// A checkbox choice with an owned value.
pub(crate) struct Check {
    value: &'static str,
    label: &'static str,
    checked: bool,
}

/// A location in the list.
pub(crate) struct Location {
    value: String,
    label: String,
    selected: bool,
}

#[derive(Template)]
#[template(path = "inquiry/public.html")]
pub(crate) struct PublicPage {
    ctx: PageCtx,
    form: PublicForm,
    errors: FormErrors,
    times: Vec<Check>,
    sources: Vec<Choice>,
    locations: Vec<Location>,
    call_back: String,
}

async fn public_page(
    state: &AppState,
    ctx: PageCtx,
    form: PublicForm,
    errors: FormErrors,
) -> Result<PublicPage, AppError> {
    let sites = state.store().sites().await?;
    let locations = sites
        .into_iter()
        .map(|s| Location {
            selected: s.id.as_str() == form.location,
            value: s.id.as_str().to_owned(),
            label: s.name,
        })
        .collect();
    let times = ContactTime::ALL
        .into_iter()
        .map(|t| Check {
            value: t.code(),
            label: t.label(),
            checked: form.contact_times.iter().any(|c| c == t.code()),
        })
        .collect();
    let sources = HeardFrom::ALL
        .into_iter()
        .map(|h| Choice {
            value: h.code(),
            label: h.label(),
            selected: form.heard_from == h.code(),
        })
        .collect();
    Ok(PublicPage {
        ctx,
        form,
        errors,
        times,
        sources,
        locations,
        call_back: state.config().inquiry_call_back.clone(),
    })
}

/// `GET /inquiry`.
pub(crate) async fn public_form(
    State(state): State<AppState>,
    ctx: PageCtx,
) -> Result<Html<String>, AppError> {
    render(&public_page(&state, ctx, PublicForm::default(), FormErrors::default()).await?)
}

/// `POST /inquiry`: stores the allow-listed fields and thanks the person, or shows the form
/// again with each problem at its field and everything typed kept.
pub(crate) async fn public_submit(
    State(state): State<AppState>,
    ctx: PageCtx,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    let form = PublicForm::from_pairs(&pairs);
    if !form.website.trim().is_empty() {
        // A bot filled the hidden field: thank it and keep nothing.
        return Ok(Redirect::to("/inquiry/thanks").into_response());
    }
    let input = form.input();
    let sites = state.store().sites().await?;
    let site: Option<SiteId> = match form.location.trim() {
        "" => sites.first().map(|s| s.id.clone()),
        chosen => sites
            .iter()
            .find(|s| s.id.as_str() == chosen)
            .map(|s| s.id.clone()),
    };
    let mut errors = FormErrors::default();
    if site.is_none() {
        errors.push("location", "Choose a location from the list.");
    }
    match (input.validate(), site) {
        (Ok(inquiry), Some(site)) => {
            state
                .store()
                .create_inquiry(&site, &inquiry, jiff::Timestamp::now())
                .await?;
            Ok(Redirect::to("/inquiry/thanks").into_response())
        }
        (result, _) => {
            if let Err(problems) = result {
                for p in problems {
                    errors.push(p.field(), sentence(&p.to_string()));
                }
            }
            let page = public_page(&state, ctx, form, errors).await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)?).into_response())
        }
    }
}

#[derive(Template)]
#[template(path = "inquiry/thanks.html")]
pub(crate) struct ThanksPage {
    ctx: PageCtx,
    call_back: String,
}

/// `GET /inquiry/thanks`.
pub(crate) async fn thanks(
    State(state): State<AppState>,
    ctx: PageCtx,
) -> Result<Html<String>, AppError> {
    render(&ThanksPage {
        ctx,
        call_back: state.config().inquiry_call_back.clone(),
    })
}

/// An inquiry as the queue shows it.
pub(crate) struct InquiryView {
    id: String,
    name: String,
    phone: Option<String>,
    email: Option<String>,
    times: String,
    heard_from: &'static str,
    question: Option<String>,
    status: &'static str,
    arrived: String,
    patient_id: Option<String>,
}

impl InquiryView {
    fn new(r: store::InquiryRecord, ctx: &PageCtx) -> Self {
        InquiryView {
            id: r.id.as_str().to_owned(),
            name: format!("{} {}", r.given_name, r.family_name),
            phone: r.phone,
            email: r.email,
            times: if r.contact_times.is_empty() {
                "any time".into()
            } else {
                r.contact_times
                    .iter()
                    .map(|t| t.label().to_lowercase())
                    .collect::<Vec<_>>()
                    .join(", ")
            },
            heard_from: r.heard_from.map_or("not said", HeardFrom::label),
            question: r.question,
            status: r.status.label(),
            arrived: ctx.time(r.created_at),
            patient_id: r.patient_id.map(|p| p.as_str().to_owned()),
        }
    }
}

/// A tab of the queue.
pub(crate) struct Tab {
    href: String,
    label: &'static str,
    /// How many inquiries it holds.
    count: i64,
    current: bool,
}

#[derive(Template)]
#[template(path = "inquiry/list.html")]
pub(crate) struct ListPage {
    ctx: PageCtx,
    tabs: Vec<Tab>,
    heading: &'static str,
    /// "oldest first" for a queue still being worked, "newest first" for the others.
    order: &'static str,
    /// How many the status holds, where the page lists fewer.
    held: Option<i64>,
    inquiries: Vec<InquiryView>,
}

#[derive(Deserialize)]
pub(crate) struct ListQuery {
    #[serde(default)]
    status: String,
}

/// How many inquiries one page of the queue lists.
const QUEUE_LIMIT: i64 = 200;

/// `GET /inquiries`: the queue, new ones by default; a status still being worked oldest first,
/// the others newest first, each tab with its count.
pub(crate) async fn list(
    State(state): State<AppState>,
    who: Can<PatientDirectory>,
    ctx: PageCtx,
    Query(q): Query<ListQuery>,
) -> Result<Html<String>, AppError> {
    let status = match q.status.as_str() {
        "" => Some(InquiryStatus::New),
        "all" => None,
        code => Some(InquiryStatus::parse(code).ok_or(AppError::NotFound)?),
    };
    let site = &who.user().site_id;
    let counts = state.store().inquiry_counts(site).await?;
    let records = state
        .store()
        .inquiries(
            &who.actor(),
            site,
            status,
            QUEUE_LIMIT,
            jiff::Timestamp::now(),
        )
        .await?;
    let mut tabs: Vec<Tab> = counts
        .iter()
        .map(|&(s, count)| Tab {
            href: format!("/inquiries?status={}", s.code()),
            label: s.label(),
            count,
            current: status == Some(s),
        })
        .collect();
    tabs.push(Tab {
        href: "/inquiries?status=all".into(),
        label: "All",
        count: counts.iter().map(|(_, n)| n).sum(),
        current: status.is_none(),
    });
    let held = tabs.iter().find(|t| t.current).map_or(0, |t| t.count);
    // ok: the page holds at most QUEUE_LIMIT rows, which any i64 counts.
    let listed = i64::try_from(records.len()).unwrap_or(i64::MAX);
    render(&ListPage {
        heading: status.map_or("All inquiries", InquiryStatus::label),
        order: if status.is_some_and(InquiryStatus::is_open) {
            "oldest first"
        } else {
            "newest first"
        },
        held: (held > listed).then_some(held),
        inquiries: records
            .into_iter()
            .map(|r| InquiryView::new(r, &ctx))
            .collect(),
        ctx,
        tabs,
    })
}

/// A change in an inquiry's history.
pub(crate) struct ChangeView {
    status: &'static str,
    by: String,
    at: String,
    note: Option<String>,
}

#[derive(Template)]
#[template(path = "inquiry/show.html")]
pub(crate) struct ShowPage {
    ctx: PageCtx,
    i: InquiryView,
    changes: Vec<ChangeView>,
    statuses: Vec<Choice>,
    errors: FormErrors,
    note: String,
    saved: bool,
}

#[derive(Deserialize)]
pub(crate) struct ShowQuery {
    saved: Option<String>,
}

async fn show_page(
    state: &AppState,
    who: &Can<PatientDirectory>,
    ctx: PageCtx,
    id: &InquiryId,
    errors: FormErrors,
    note: String,
    saved: bool,
) -> Result<ShowPage, AppError> {
    let (record, changes) = state
        .store()
        .inquiry(
            &who.actor(),
            &who.user().site_id,
            id,
            jiff::Timestamp::now(),
        )
        .await?;
    let current = record.status;
    Ok(ShowPage {
        i: InquiryView::new(record, &ctx),
        changes: changes
            .into_iter()
            .map(|c| ChangeView {
                status: c.status.label(),
                by: c.by.unwrap_or_else(|| "the public inquiry page".into()),
                at: ctx.time(c.at),
                note: c.note,
            })
            .collect(),
        statuses: InquiryStatus::ALL
            .into_iter()
            .map(|s| Choice {
                value: s.code(),
                label: s.label(),
                selected: s == current,
            })
            .collect(),
        ctx,
        errors,
        note,
        saved,
    })
}

/// `GET /inquiries/{id}`.
pub(crate) async fn show(
    State(state): State<AppState>,
    who: Can<PatientDirectory>,
    ctx: PageCtx,
    IdPath(id): IdPath<InquiryId>,
    Query(q): Query<ShowQuery>,
) -> Result<Html<String>, AppError> {
    let page = show_page(
        &state,
        &who,
        ctx,
        &id,
        FormErrors::default(),
        String::new(),
        q.saved.is_some(),
    )
    .await?;
    render(&page)
}

#[derive(Deserialize)]
pub(crate) struct StatusForm {
    #[serde(default)]
    status: String,
    #[serde(default)]
    note: String,
}

/// `POST /inquiries/{id}/status`.
pub(crate) async fn set_status(
    State(state): State<AppState>,
    who: Can<PatientDirectory>,
    ctx: PageCtx,
    IdPath(id): IdPath<InquiryId>,
    Form(form): Form<StatusForm>,
) -> Result<Response, AppError> {
    let mut errors = FormErrors::default();
    let status = InquiryStatus::parse(form.status.trim());
    if status.is_none() {
        errors.push("status", "Choose a status from the list.");
    }
    let note = match clinical::text::optional_line(&form.note, store::MAX_INQUIRY_NOTE_CHARS) {
        Ok(note) => note,
        Err(clinical::text::TextProblem::TooLong { .. }) => {
            errors.push(
                "note",
                format!(
                    "The note is {} characters long; at most {} are kept.",
                    form.note.trim().chars().count(),
                    store::MAX_INQUIRY_NOTE_CHARS
                ),
            );
            None
        }
        Err(problem) => {
            errors.push("note", super::sentence(&problem.said_of("the note")));
            None
        }
    };
    match status {
        Some(status) if errors.is_empty() => {
            state
                .store()
                .set_inquiry_status(who.user(), &id, status, note, jiff::Timestamp::now())
                .await?;
            Ok(Redirect::to(&format!("/inquiries/{id}?saved=1")).into_response())
        }
        _ => {
            let page = show_page(&state, &who, ctx, &id, errors, form.note, false).await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)?).into_response())
        }
    }
}

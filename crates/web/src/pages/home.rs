//! The start page after sign-in.

use askama::Template;
use axum::extract::State;
use axum::response::Html;

use super::measure::{AlertView, DEFAULT_PLAN_WEEKS, alert_views, due_items};
use crate::AppState;
use crate::capability::{
    Administration, Can, Capability, ClinicalData, LedgerReports, PatientDirectory, Staff,
};
use crate::error::AppError;
use crate::view::{PageCtx, render};

#[derive(Template)]
#[template(path = "home.html")]
pub(crate) struct HomePage {
    ctx: PageCtx,
    name: String,
    role: &'static str,
    patient_count: Option<i64>,
    admin: bool,
    user_count: usize,
    /// Accounts locked now after wrong passwords, by name, for the administrator to unlock.
    locked: Vec<(String, String)>,
    /// Accounts disabled.
    disabled: usize,
    alerts: Option<Vec<AlertView>>,
    /// What the controlled-substance ledger needs done, for those who keep or read it.
    ledger: Vec<super::ledger::ToSeeTo>,
    /// Spravato REMS monitoring forms not submitted yet, for clinicians, when there are any.
    rems: Option<RemsDue>,
    /// Discharged sessions waiting for a prescriber's signature and lock, for prescribers.
    to_lock: Vec<ToLockRow>,
    due: Option<Vec<DueRow>>,
    missed: Vec<MissedRow>,
    today: Option<Today>,
}

/// A discharged session to sign and lock.
pub(crate) struct ToLockRow {
    session_id: String,
    patient: String,
    treatment: &'static str,
    /// Whether it ended before any drug was given.
    undosed: bool,
    discharged: String,
}

/// The esketamine sessions whose REMS Patient Monitoring Form is not recorded as submitted.
pub(crate) struct RemsDue {
    total: usize,
    /// Past their due day.
    overdue: usize,
    /// The earliest due day.
    first_due: jiff::civil::Date,
    /// Days after a session within which its form is due.
    days: i64,
}

/// Today at the clinic, for everyone who books: who is expected, and the inquiries waiting.
pub(crate) struct Today {
    /// The day in words ("Monday 7 December").
    label: String,
    /// The appointments still booked, by time.
    rows: Vec<TodayRow>,
    /// Today's appointments cancelled or marked a no-show.
    closed: usize,
    /// Inquiries still being worked, of each such status that holds any.
    inquiries: Vec<InquiryCount>,
    /// Course sessions of the last [`LEFT_OPEN_DAYS`] days left open, oldest first.
    left_open: Vec<LeftOpenRow>,
    /// How many there are in all (more than listed past [`LEFT_OPEN_LISTED`]).
    left_open_total: i64,
    /// Planned and active courses with sessions not booked yet, the soonest to book first.
    to_book: Vec<ToBookRow>,
    /// How many there are in all (more than listed past [`TO_BOOK_LISTED`]).
    to_book_total: usize,
}

/// How many courses with sessions to book the start page lists.
const TO_BOOK_LISTED: usize = 20;

/// A planned or active course with sessions not booked yet.
pub(crate) struct ToBookRow {
    course_id: String,
    patient_id: String,
    patient: String,
    /// The protocol's name.
    course: String,
    /// "2 of 6".
    booked: String,
    /// The day the next session can be booked from, with the day it was planned for when
    /// the plan has fallen behind.
    next: String,
}

/// How far back the start page looks for course sessions left open: a month of a course's
/// sessions, which a clinic closes day by day.
pub(crate) const LEFT_OPEN_DAYS: i64 = 30;
/// How many of them it lists.
const LEFT_OPEN_LISTED: u32 = 20;

/// A course session of an earlier day still booked: no one was checked in, and it was neither
/// cancelled nor marked a no-show.
pub(crate) struct LeftOpenRow {
    /// The day in words ("Thursday 3 December").
    day: String,
    /// The day, for its day list's address.
    date: String,
    time: String,
    patient_id: String,
    patient: String,
    kind: &'static str,
    chair: String,
}

/// One of today's booked appointments.
pub(crate) struct TodayRow {
    time: String,
    patient_id: String,
    patient: String,
    kind: &'static str,
    chair: String,
    /// "Booked", "Arrived 09:02" or "Checked in".
    status: String,
}

/// Inquiries of one status still being worked.
pub(crate) struct InquiryCount {
    label: &'static str,
    count: i64,
    href: String,
}

/// An assessment due today, for the clinician's start page.
pub(crate) struct DueRow {
    patient_id: String,
    patient_name: String,
    instrument: &'static str,
    time_point: &'static str,
    window: String,
    /// The query that opens the assessment form on this row's instrument and time point.
    form: String,
}

/// A patient's missed assessments (windows closed without one), in brief: they cannot be made
/// up, so the start page counts them rather than listing them as work.
pub(crate) struct MissedRow {
    patient_id: String,
    patient_name: String,
    count: usize,
    /// The one whose window closed last, in words.
    latest: String,
    closes: jiff::civil::Date,
}

/// One row of a plan as the start page sorts it.
struct Listed {
    patient_id: String,
    patient_name: String,
    instrument: &'static str,
    time_point: &'static str,
    window: String,
    form: String,
    closes: jiff::civil::Date,
    missed: bool,
}

/// The most assessments the start page reads to work out what is due.
const DUE_READ_LIMIT: i64 = 10_000;

pub(crate) async fn home(
    State(state): State<AppState>,
    who: Can<Staff>,
    ctx: PageCtx,
) -> Result<Html<String>, AppError> {
    let user = who.user();
    let (patient_count, today) = if PatientDirectory::allows(user.role) {
        (
            Some(state.store().patient_count(&user.site_id).await?),
            Some(today(&state, &who, &ctx).await?),
        )
    } else {
        (None, None)
    };
    let admin = Administration::allows(user.role);
    let users = if admin {
        state.store().users(&user.site_id).await?
    } else {
        Vec::new()
    };
    let user_count = users.len();
    let now = jiff::Timestamp::now();
    let locked = users
        .iter()
        .filter(|u| !u.disabled && u.locked_until.is_some_and(|t| t > now))
        .map(|u| (u.id.as_str().to_owned(), u.display_name.clone()))
        .collect();
    let disabled = users.iter().filter(|u| u.disabled).count();
    let ledger = if LedgerReports::allows(user.role) {
        super::ledger::to_see_to(&state, &user.site_id, &ctx).await?
    } else {
        Vec::new()
    };
    let rems = if ClinicalData::allows(user.role) {
        let forms = state
            .store()
            .rems_forms_due(&who.actor(), &user.site_id, now)
            .await?;
        let tz = ctx.time_zone();
        let due: Vec<jiff::civil::Date> = forms
            .iter()
            .map(|f| super::sessions::rems_form_due_on(f.checked_in_at, &tz))
            .collect();
        due.iter().min().map(|first| RemsDue {
            total: due.len(),
            overdue: due.iter().filter(|d| **d < ctx.today()).count(),
            first_due: *first,
            days: clinical::session::REMS_FORM_DAYS,
        })
    } else {
        None
    };
    // Only a prescriber signs and locks a session: they see the ones waiting.
    let to_lock = if user.role == store::Role::Prescriber {
        state
            .store()
            .sessions_to_lock(&who.actor(), &user.site_id, now)
            .await?
            .into_iter()
            .map(|s| ToLockRow {
                session_id: s.session_id.as_str().to_owned(),
                patient: s.patient_name,
                treatment: s.product.label(),
                undosed: s.undosed,
                discharged: ctx.time(s.discharged_at),
            })
            .collect()
    } else {
        Vec::new()
    };
    let (alerts, due) = if ClinicalData::allows(user.role) {
        let alerts = alert_views(
            state
                .store()
                .open_alerts(&who.actor(), &user.site_id, now)
                .await?,
            &ctx,
        );
        // Plans run DEFAULT_PLAN_WEEKS from a baseline; a week more keeps the missed last one.
        let since = now
            .checked_sub(jiff::SignedDuration::from_hours(
                24 * 7 * i64::from(DEFAULT_PLAN_WEEKS + 1),
            ))
            .unwrap_or(now);
        let rows = state
            .store()
            .recent_courses(&who.actor(), &user.site_id, since, DUE_READ_LIMIT, now)
            .await?;
        let (courses, course_records) = state
            .store()
            .open_courses(&who.actor(), &user.site_id, now)
            .await?;
        Some((alerts, due_today(rows, &courses, &course_records, &ctx)))
    } else {
        None
    }
    .unzip();
    let (due, missed) = match due {
        Some((due, missed)) => (Some(due), missed),
        None => (None, Vec::new()),
    };
    render(&HomePage {
        alerts,
        ledger,
        rems,
        to_lock,
        due,
        missed,
        today,
        ctx,
        name: user.display_name.clone(),
        role: user.role.label(),
        patient_count,
        admin,
        user_count,
        locked,
        disabled,
    })
}

/// Every patient's assessments due today, by patient, and each patient's missed ones in brief:
/// from the patient's planned or active courses where there are any, else from the default
/// plan after a baseline.
fn due_today(
    rows: Vec<(store::AssessmentRecord, String)>,
    courses: &[store::CourseRecord],
    course_records: &[store::AssessmentRecord],
    ctx: &PageCtx,
) -> (Vec<DueRow>, Vec<MissedRow>) {
    let tz = ctx.time_zone();
    let mut listed: Vec<Listed> = Vec::new();
    for c in courses {
        let done = super::measure::done_of(
            course_records
                .iter()
                .filter(|a| a.patient_id == c.patient_id),
            &tz,
        );
        for row in super::courses::due_rows(ctx, c, &done) {
            listed.push(Listed {
                patient_id: c.patient_id.as_str().to_owned(),
                patient_name: c.patient_name.clone(),
                instrument: row.instrument_name(),
                time_point: row.time_point_label(),
                window: row.window_text(),
                form: row.form_query(),
                closes: row.closes(),
                missed: row.listed_status() == "Missed",
            });
        }
    }
    let mut by_patient: Vec<(store::PatientId, String, Vec<store::AssessmentRecord>)> = Vec::new();
    for (record, name) in rows {
        if courses.iter().any(|c| c.patient_id == record.patient_id) {
            continue;
        }
        match by_patient
            .iter_mut()
            .find(|(id, _, _)| *id == record.patient_id)
        {
            Some((_, _, list)) => list.push(record),
            None => by_patient.push((record.patient_id.clone(), name, vec![record])),
        }
    }
    listed.extend(by_patient.into_iter().flat_map(|(id, name, records)| {
        due_items(&records, ctx.today(), &tz)
            .into_iter()
            .filter(|d| d.status != "Next")
            .map(|d| Listed {
                patient_id: id.as_str().to_owned(),
                patient_name: name.clone(),
                instrument: d.instrument.instrument().short_name,
                time_point: d.time_point.label(),
                form: super::courses::form_query(d.instrument, d.time_point),
                window: d.window,
                closes: d.closes,
                missed: d.status == "Missed",
            })
            .collect::<Vec<_>>()
    }));
    listed.sort_by(|a, b| a.patient_name.cmp(&b.patient_name));
    let mut due = Vec::new();
    let mut missed: Vec<MissedRow> = Vec::new();
    for l in listed {
        if !l.missed {
            due.push(DueRow {
                patient_id: l.patient_id,
                patient_name: l.patient_name,
                instrument: l.instrument,
                time_point: l.time_point,
                window: l.window,
                form: l.form,
            });
            continue;
        }
        let latest = format!("{} {}, {}", l.instrument, l.time_point, l.window);
        match missed.iter_mut().find(|m| m.patient_id == l.patient_id) {
            Some(m) => {
                m.count += 1;
                if l.closes > m.closes {
                    m.latest = latest;
                    m.closes = l.closes;
                }
            }
            None => missed.push(MissedRow {
                patient_id: l.patient_id,
                patient_name: l.patient_name,
                count: 1,
                latest,
                closes: l.closes,
            }),
        }
    }
    (due, missed)
}

/// Today's booked appointments by time, how many were cancelled or missed, and the inquiries
/// waiting for an answer.
async fn today(state: &AppState, who: &Can<Staff>, ctx: &PageCtx) -> Result<Today, AppError> {
    let site = &who.user().site_id;
    let day = ctx.today();
    let list = super::schedule::day_appointments(state, &who.actor(), site, ctx, day).await?;
    let tz = ctx.time_zone();
    let mut rows = Vec::new();
    let mut closed = 0;
    for a in list {
        if a.status != store::AppointmentStatus::Booked {
            closed += 1;
            continue;
        }
        let status = match a.arrived_at {
            Some(at) if a.session_id.is_none() => {
                format!("Arrived {}", at.to_zoned(tz.clone()).strftime("%H:%M"))
            }
            _ => super::schedule::status_words(&a).to_owned(),
        };
        rows.push(TodayRow {
            time: a
                .starts_at
                .to_zoned(tz.clone())
                .strftime("%H:%M")
                .to_string(),
            patient_id: a.patient_id.as_str().to_owned(),
            patient: a.patient_name,
            kind: a.kind.label(),
            chair: a.chair_name,
            status,
        });
    }
    let inquiries = state
        .store()
        .inquiry_counts(site)
        .await?
        .into_iter()
        .filter(|&(s, n)| s.is_open() && n > 0)
        .map(|(s, count)| InquiryCount {
            label: s.label(),
            count,
            href: format!("/inquiries?status={}", s.code()),
        })
        .collect();
    // ok: only a today at the calendar's start has no days before it; none is then looked at.
    let first = day
        .checked_sub(jiff::Span::new().days(LEFT_OPEN_DAYS))
        .unwrap_or(day);
    let (from, until) = super::schedule::zone_day_bounds(&tz, first, LEFT_OPEN_DAYS);
    let (open, left_open_total) = state
        .store()
        .sessions_left_open(
            &who.actor(),
            site,
            from,
            until,
            LEFT_OPEN_LISTED,
            jiff::Timestamp::now(),
        )
        .await?;
    let left_open = open
        .into_iter()
        .map(|a| {
            let at = a.starts_at.to_zoned(tz.clone());
            LeftOpenRow {
                day: at.strftime("%A %-d %B").to_string(),
                date: at.date().to_string(),
                time: at.strftime("%H:%M").to_string(),
                patient_id: a.patient_id.as_str().to_owned(),
                patient: a.patient_name,
                kind: a.kind.label(),
                chair: a.chair_name,
            }
        })
        .collect();
    let courses = state
        .store()
        .courses_to_book(&who.actor(), site, jiff::Timestamp::now())
        .await?;
    let mut to_book: Vec<(jiff::civil::Date, ToBookRow)> = courses
        .iter()
        .filter_map(|c| {
            let booked = c.booked.len();
            let planned = c.planned();
            let next = c.sessions_as_they_stand(&tz, day).into_iter().nth(booked)?;
            let next_words = match planned.get(booked) {
                Some(was) if was.date != next.date => {
                    format!("{} (planned for {})", next.date, was.date)
                }
                _ => next.date.to_string(),
            };
            Some((
                next.date,
                ToBookRow {
                    course_id: c.id.as_str().to_owned(),
                    patient_id: c.patient_id.as_str().to_owned(),
                    patient: c.patient_name.clone(),
                    course: c.protocol_name.clone(),
                    booked: format!("{booked} of {}", planned.len()),
                    next: next_words,
                },
            ))
        })
        .collect();
    to_book.sort_by_key(|(date, _)| *date);
    let to_book_total = to_book.len();
    Ok(Today {
        label: day.strftime("%A %-d %B").to_string(),
        rows,
        closed,
        inquiries,
        left_open,
        left_open_total,
        to_book: to_book
            .into_iter()
            .take(TO_BOOK_LISTED)
            .map(|(_, row)| row)
            .collect(),
        to_book_total,
    })
}

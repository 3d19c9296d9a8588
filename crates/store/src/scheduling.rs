//! Rooms, chairs and appointments. A booking locks the chair's row and the patient's row,
//! checks in the same transaction that neither is taken for any minute of the slot, and only
//! then writes; two bookings of one slot therefore never both succeed, on either database.

use clinical::booking::{AppointmentKind, ChairPlan, OpeningHours};
use clinical::course::Product;
use jiff::civil::Time;

use crate::audit::{self, Actor, AuditEvent, AuditOutcome};
use crate::courses::{CourseRefusal, rems_gate};
use crate::row::{AppointmentId, ChairId, CourseId, PatientId, RowReader, SiteId};
use crate::{Store, StoreError, millis};

/// A chair with its room.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChairRecord {
    /// Identifier.
    pub id: ChairId,
    /// The room's name.
    pub room: String,
    /// The chair's name.
    pub name: String,
    /// Products it supports.
    pub supports: Vec<Product>,
    /// When it can be booked.
    pub hours: OpeningHours,
}

/// A chair to add.
#[derive(Debug, Clone, Copy)]
pub struct NewChair<'a> {
    /// Its room.
    pub room_id: &'a str,
    /// Its name ("Chair 2").
    pub name: &'a str,
    /// What it is set up for.
    pub supports: &'a [Product],
    /// When it can be booked.
    pub hours: &'a OpeningHours,
}

/// Where an appointment stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AppointmentStatus {
    /// Booked.
    Booked,
    /// Cancelled (frees the slot).
    Cancelled,
    /// The patient did not come (frees the slot).
    NoShow,
}

impl AppointmentStatus {
    /// Stored code.
    pub fn code(self) -> &'static str {
        match self {
            AppointmentStatus::Booked => "booked",
            AppointmentStatus::Cancelled => "cancelled",
            AppointmentStatus::NoShow => "no_show",
        }
    }

    fn parse(code: &str) -> Option<AppointmentStatus> {
        [
            AppointmentStatus::Booked,
            AppointmentStatus::Cancelled,
            AppointmentStatus::NoShow,
        ]
        .into_iter()
        .find(|s| s.code() == code)
    }
}

/// A stored appointment, with the names people read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppointmentRecord {
    /// Identifier.
    pub id: AppointmentId,
    /// The patient.
    pub patient_id: PatientId,
    /// Their name, "Given Family".
    pub patient_name: String,
    /// The chair.
    pub chair_id: ChairId,
    /// Its room and name, "Room A, Chair 2".
    pub chair_name: String,
    /// The course it belongs to.
    pub course_id: Option<CourseId>,
    /// Kind.
    pub kind: AppointmentKind,
    /// Start.
    pub starts_at: jiff::Timestamp,
    /// End.
    pub ends_at: jiff::Timestamp,
    /// Status.
    pub status: AppointmentStatus,
    /// Why cancelled or marked no-show.
    pub status_reason: Option<String>,
    /// When the front desk marked the patient arrived (in the waiting room).
    pub arrived_at: Option<jiff::Timestamp>,
    /// The treatment session checked in for it, once the patient is in the chair.
    pub session_id: Option<crate::SessionId>,
    /// Whether that session ended before any drug was given (why is the clinical record's, not
    /// the schedule's): the course still owes the session.
    pub not_dosed: bool,
}

/// Why an appointment was not cancelled or marked a no-show.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum CloseRefused {
    /// It was cancelled or marked a no-show already, or there is no such appointment.
    #[error("the appointment is not booked (already cancelled or marked a no-show)")]
    NotBooked,
    /// The patient is checked in for it: the session is under way or done.
    #[error("the patient is checked in for the appointment; its session is in the session room")]
    CheckedIn,
}

/// What a booking asks for.
#[derive(Debug, Clone)]
pub struct NewAppointment<'a> {
    /// The patient.
    pub patient_id: &'a PatientId,
    /// The chair.
    pub chair_id: &'a ChairId,
    /// The course, when it is one of its sessions.
    pub course_id: Option<&'a CourseId>,
    /// Kind.
    pub kind: AppointmentKind,
    /// Start.
    pub starts_at: jiff::Timestamp,
    /// End.
    pub ends_at: jiff::Timestamp,
}

/// Why a booking was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BookingRefusal {
    /// The chair is taken for part of the slot.
    #[error(
        "{chair} is booked from {from} to {until} (an appointment for {patient}); choose another time or chair"
    )]
    ChairTaken {
        /// The chair, in words.
        chair: String,
        /// The other appointment's id.
        with: AppointmentId,
        /// Its patient's name.
        patient: String,
        /// From (instant).
        from: jiff::Timestamp,
        /// Until.
        until: jiff::Timestamp,
    },
    /// The patient has another appointment then.
    #[error(
        "the patient already has an appointment from {from} to {until} in {chair}; choose another time"
    )]
    PatientTaken {
        /// The other chair, in words.
        chair: String,
        /// The other appointment's id.
        with: AppointmentId,
        /// From.
        from: jiff::Timestamp,
        /// Until.
        until: jiff::Timestamp,
    },
    /// The chair does not support the kind.
    #[error("{chair} is not set up for {kind}; choose a chair that is")]
    NotSupported {
        /// The chair, in words.
        chair: String,
        /// The kind, in words.
        kind: &'static str,
    },
    /// Outside the chair's opening hours.
    #[error("{chair} is open {hours}; the appointment must start and end within them")]
    OutsideHours {
        /// The chair, in words.
        chair: String,
        /// The hours, in words.
        hours: String,
    },
    /// The REMS gate.
    #[error("{0}")]
    Rems(CourseRefusal),
    /// The course is not the patient's or has ended.
    #[error("the course is not this patient's, or it has ended")]
    CourseNotOpen,
    /// A session of the course is of another kind than the one asked for (its product's).
    #[error("a session of this course is booked as “{course_kind}”; choose that for it")]
    NotCourseKind {
        /// The course's kind, in words.
        course_kind: &'static str,
    },
    /// Every session the course plans is booked already (cancelled and no-show appointments
    /// do not count).
    #[error(
        "all {sessions} sessions of this course are booked already; cancel one or mark it a no-show to book it again, or have a prescriber order a new course"
    )]
    CourseFull {
        /// The sessions the course plans.
        sessions: usize,
    },
    /// The clinic is closed that day.
    #[error("the clinic is closed on {day} ({reason}); choose another day")]
    Closed {
        /// The day.
        day: jiff::civil::Date,
        /// Why it is closed.
        reason: String,
    },
    /// The course has a session booked that day already.
    #[error(
        "this course has a session on that day already, from {from} in {chair}; a course plans one session a day at most, so choose another day"
    )]
    SameDay {
        /// The other session's appointment.
        with: AppointmentId,
        /// Its chair, in words.
        chair: String,
        /// Its start.
        from: jiff::Timestamp,
    },
}

impl BookingRefusal {
    /// Whether another appointment holds the slot (the chair's or the patient's): a conflict,
    /// where every other refusal is about the booking itself.
    pub fn is_taken(&self) -> bool {
        matches!(
            self,
            BookingRefusal::ChairTaken { .. } | BookingRefusal::PatientTaken { .. }
        )
    }
}

/// The condition on an appointment `a` that it is one of its course's sessions: booked, and
/// not a session that ended before any drug was given (the course still owes that one).
pub(crate) const COUNTS_FOR_COURSE: &str = "a.status = 'booked'
    and not exists (select 1 from treatment_sessions ts
                     where ts.appointment_id = a.id and ts.not_given is not null)";

/// Whether `course` has room for the session `new`: none of its sessions booked on the same
/// clinic day (its plan, from the protocol's frequency, puts one on a day at most: three a
/// week is the most frequent schedule of [`clinical::course::builtin_protocols`]) and fewer of
/// its sessions booked than its phases plan. Cancelled and no-show appointments do not count, nor sessions ended undosed.
async fn course_room(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    course: &CourseId,
    phases: &[clinical::course::Phase],
    new: &NewAppointment<'_>,
    tz: &jiff::tz::TimeZone,
) -> Result<Option<BookingRefusal>, StoreError> {
    // ok: only the calendar's last day has no end; the overlap check still holds then.
    if let Some((from, until)) = local_day(new.starts_at, tz) {
        let row = sqlx::query(&format!(
            "{APPOINTMENT_SELECT}
              where a.course_id = $1 and {COUNTS_FOR_COURSE}
                and a.starts_at >= $2 and a.starts_at < $3
              order by a.starts_at limit 1"
        ))
        .bind(course.as_str())
        .bind(millis(from))
        .bind(millis(until))
        .fetch_optional(&mut **tx)
        .await?;
        if let Some(row) = row {
            let other = appointment_from_row(&row)?;
            return Ok(Some(BookingRefusal::SameDay {
                with: other.id,
                chair: other.chair_name,
                from: other.starts_at,
            }));
        }
    }
    let sessions = clinical::course::session_count(phases) as usize;
    let booked: i64 = sqlx::query_scalar(&format!(
        "select count(*) from appointments a where a.course_id = $1 and {COUNTS_FOR_COURSE}"
    ))
    .bind(course.as_str())
    .fetch_one(&mut **tx)
    .await?;
    // ok: a negative count cannot come from `count(*)`; it would only refuse the booking.
    let booked = usize::try_from(booked).unwrap_or(usize::MAX);
    Ok((booked >= sessions).then_some(BookingRefusal::CourseFull { sessions }))
}

/// The instants `[start, end)` of the clinic day in `tz` that holds `at`; `None` only for the
/// calendar's last day, which has no next.
pub(crate) fn local_day(
    at: jiff::Timestamp,
    tz: &jiff::tz::TimeZone,
) -> Option<(jiff::Timestamp, jiff::Timestamp)> {
    let day = at.to_zoned(tz.clone()).date();
    // ok: a day's start or its end is out of range only at the calendar's last day; callers
    // say what they do then (see the `// ok:` at each).
    let start = day.to_zoned(tz.clone()).ok()?;
    let end = day.tomorrow().ok()?.to_zoned(tz.clone()).ok()?;
    Some((start.timestamp(), end.timestamp()))
}

fn minutes(t: Time) -> i64 {
    i64::from(t.hour()) * 60 + i64::from(t.minute())
}

fn time_of(r: &RowReader<'_>, column: &'static str) -> Result<Time, StoreError> {
    let m = r.int(column)?;
    let (h, mi) = (m / 60, m % 60);
    if m == 1440 {
        return Ok(Time::constant(23, 59, 59, 999_999_999));
    }
    Time::new(
        i8::try_from(h).map_err(|_| r.corrupt(column, "not a time of day"))?,
        i8::try_from(mi).map_err(|_| r.corrupt(column, "not a time of day"))?,
        0,
        0,
    )
    .map_err(|_| r.corrupt(column, format!("{m} is not a minute of the day")))
}

fn chair_from_row(r: &RowReader<'_>) -> Result<ChairRecord, StoreError> {
    let supports = r
        .text("supports")?
        .split(',')
        .filter(|s| !s.is_empty())
        .map(|s| {
            Product::parse(s)
                .ok_or_else(|| r.corrupt("supports", format!("'{s}' is not a product")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let days = r.parsed("open_days", |s| {
        OpeningHours::parse_days(s).ok_or("not a list of days")
    })?;
    Ok(ChairRecord {
        id: r.id("id", ChairId::parse)?,
        room: r.text("room_name")?,
        name: r.text("name")?,
        supports,
        hours: OpeningHours {
            days,
            opens: time_of(r, "opens_min")?,
            closes: time_of(r, "closes_min")?,
        },
    })
}

pub(crate) const APPOINTMENT_SELECT: &str =
    "select a.id, a.patient_id, p.given_name || ' ' || p.family_name as patient_name,
        a.chair_id, r.name || ', ' || c.name as chair_name, a.course_id, a.kind, a.starts_at,
        a.ends_at, a.status, a.status_reason, a.arrived_at,
        (select s.id from treatment_sessions s where s.appointment_id = a.id) as session_id,
        (select count(*) from treatment_sessions s
          where s.appointment_id = a.id and s.not_given is not null) as not_dosed
   from appointments a
   join patients p on p.id = a.patient_id
   join chairs c on c.id = a.chair_id
   join rooms r on r.id = c.room_id";

pub(crate) fn appointment_from_row(
    row: &sqlx::any::AnyRow,
) -> Result<AppointmentRecord, StoreError> {
    let r = RowReader::new(row, "appointments", "id")?;
    Ok(AppointmentRecord {
        id: r.id("id", AppointmentId::parse)?,
        patient_id: r.id("patient_id", PatientId::parse)?,
        patient_name: r.text("patient_name")?,
        chair_id: r.id("chair_id", ChairId::parse)?,
        chair_name: r.text("chair_name")?,
        course_id: r.opt_id("course_id", CourseId::parse)?,
        kind: r.parsed("kind", |s| AppointmentKind::parse(s).ok_or("not a kind"))?,
        starts_at: r.instant("starts_at")?,
        ends_at: r.instant("ends_at")?,
        status: r.parsed("status", |s| {
            AppointmentStatus::parse(s).ok_or("not a status")
        })?,
        status_reason: r.opt_text("status_reason")?,
        arrived_at: r.opt_instant("arrived_at")?,
        session_id: r.opt_id("session_id", crate::SessionId::parse)?,
        not_dosed: r.int("not_dosed")? > 0,
    })
}

/// Finishes a one-row change of appointment `id`: `row` is what its update returned
/// (`returning id, patient_id`; `None` when no row matched, and then nothing is written and the
/// answer is `false`). Otherwise `event` is recorded for the appointment and its patient in the
/// same transaction, which is committed.
async fn audit_appointment_change(
    mut tx: sqlx::Transaction<'_, sqlx::Any>,
    row: Option<sqlx::any::AnyRow>,
    id: &AppointmentId,
    event: AuditEvent,
    actor: &Actor,
    now: jiff::Timestamp,
) -> Result<bool, StoreError> {
    let Some(row) = row else {
        return Ok(false);
    };
    let patient = RowReader::new(&row, "appointments", "id")?.text("patient_id")?;
    let event = event.entity("appointment", id.as_str()).patient(&patient);
    audit::insert(&mut tx, now, actor, &event).await?;
    tx.commit().await?;
    Ok(true)
}

/// Closes appointment `id` as `status` with `reason` in `tx`, audited as its patient's: its row
/// is locked first (as checking in locks it), then its check-in looked for, so a check-in and a
/// cancellation at once do one or the other. Refused when the patient is checked in or it is
/// not booked; nothing is written then.
async fn close_locked(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    actor: &Actor,
    site_id: &SiteId,
    id: &AppointmentId,
    status: AppointmentStatus,
    reason: &str,
    now: jiff::Timestamp,
) -> Result<Result<(), CloseRefused>, StoreError> {
    sqlx::query("update appointments set changed_at = changed_at where id = $1 and site_id = $2")
        .bind(id.as_str())
        .bind(site_id.as_str())
        .execute(&mut **tx)
        .await?;
    let checked_in: Option<String> =
        sqlx::query_scalar("select id from treatment_sessions where appointment_id = $1")
            .bind(id.as_str())
            .fetch_optional(&mut **tx)
            .await?;
    if checked_in.is_some() {
        return Ok(Err(CloseRefused::CheckedIn));
    }
    let row = sqlx::query(
        "update appointments set status = $3, status_reason = $4, changed_by = $5,
                changed_at = $6
          where id = $1 and site_id = $2 and status = 'booked'
          returning id, patient_id",
    )
    .bind(id.as_str())
    .bind(site_id.as_str())
    .bind(status.code())
    .bind(reason)
    .bind(actor.user_id())
    .bind(millis(now))
    .fetch_optional(&mut **tx)
    .await?;
    let Some(row) = row else {
        return Ok(Err(CloseRefused::NotBooked));
    };
    let patient = RowReader::new(&row, "appointments", "id")?.text("patient_id")?;
    let event = AuditEvent::new("appointment.close", AuditOutcome::Ok)
        .site(site_id.as_str())
        .entity("appointment", id.as_str())
        .patient(&patient)
        .detail(format!("status={}", status.code()));
    audit::insert(tx, now, actor, &event).await?;
    Ok(Ok(()))
}

impl Store {
    /// Adds a room to the site.
    #[tracing::instrument(skip_all)]
    pub async fn create_room(
        &self,
        actor: &Actor,
        site_id: &SiteId,
        name: &str,
        now: jiff::Timestamp,
    ) -> Result<String, StoreError> {
        let id = crate::new_id();
        let mut tx = self.pool.begin().await?;
        sqlx::query("insert into rooms (id, site_id, name) values ($1, $2, $3)")
            .bind(id.as_str())
            .bind(site_id.as_str())
            .bind(name)
            .execute(&mut *tx)
            .await?;
        let event = AuditEvent::new("room.create", AuditOutcome::Ok)
            .site(site_id.as_str())
            .entity("room", &id);
        audit::insert(&mut tx, now, actor, &event).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// The site's rooms (id, name), by name.
    #[tracing::instrument(skip_all)]
    pub async fn rooms(&self, site_id: &SiteId) -> Result<Vec<(String, String)>, StoreError> {
        let rows = sqlx::query("select id, name from rooms where site_id = $1 order by name")
            .bind(site_id.as_str())
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|row| {
                let r = RowReader::new(row, "rooms", "id")?;
                Ok((r.text("id")?, r.text("name")?))
            })
            .collect()
    }

    /// Adds a chair to a room of the site.
    #[tracing::instrument(skip_all)]
    pub async fn create_chair(
        &self,
        actor: &Actor,
        site_id: &SiteId,
        chair: &NewChair<'_>,
        now: jiff::Timestamp,
    ) -> Result<ChairId, StoreError> {
        let NewChair {
            room_id,
            name,
            supports,
            hours,
        } = *chair;
        let id = ChairId::new();
        let supports: Vec<&str> = supports.iter().map(|p| p.code()).collect();
        let closes = if hours.closes == Time::constant(23, 59, 59, 999_999_999) {
            1440
        } else {
            minutes(hours.closes)
        };
        let mut tx = self.pool.begin().await?;
        let made = sqlx::query(
            "insert into chairs (id, site_id, room_id, name, supports, open_days, opens_min,
                                 closes_min)
             select $1, r.site_id, r.id, $3, $4, $5, $6, $7 from rooms r
              where r.id = $2 and r.site_id = $8",
        )
        .bind(id.as_str())
        .bind(room_id)
        .bind(name)
        .bind(supports.join(","))
        .bind(hours.day_codes())
        .bind(minutes(hours.opens))
        .bind(closes)
        .bind(site_id.as_str())
        .execute(&mut *tx)
        .await?;
        if made.rows_affected() != 1 {
            return Err(StoreError::NotFound { entity: "room" });
        }
        let event = AuditEvent::new("chair.create", AuditOutcome::Ok)
            .site(site_id.as_str())
            .entity("chair", id.as_str());
        audit::insert(&mut tx, now, actor, &event).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// The site's chairs, by room and name.
    #[tracing::instrument(skip_all)]
    pub async fn chairs(&self, site_id: &SiteId) -> Result<Vec<ChairRecord>, StoreError> {
        let rows = sqlx::query(
            "select c.id, r.name as room_name, c.name, c.supports, c.open_days, c.opens_min,
                    c.closes_min
               from chairs c join rooms r on r.id = c.room_id
              where c.site_id = $1 order by r.name, c.name",
        )
        .bind(site_id.as_str())
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| chair_from_row(&RowReader::new(row, "chairs", "id")?))
            .collect()
    }

    /// Books an appointment: the chair must take the kind and be open for the whole slot,
    /// esketamine needs the REMS records, a session of a course must be of its kind, on a
    /// clinic day (in `tz`) without another of its sessions and within the number it plans,
    /// and neither the chair nor the patient may have another booked appointment overlapping
    /// it. All checked and written in one transaction holding the chair's and the patient's
    /// rows.
    #[tracing::instrument(skip_all)]
    pub async fn book(
        &self,
        actor: &Actor,
        site_id: &SiteId,
        new: &NewAppointment<'_>,
        tz: &jiff::tz::TimeZone,
        now: jiff::Timestamp,
    ) -> Result<Result<AppointmentRecord, BookingRefusal>, StoreError> {
        let mut tx = self.pool.begin().await?;
        // The site's row first, which closing a day takes too: the day cannot close between
        // this check and the booking.
        crate::closures::lock_site(&mut tx, site_id).await?;
        let day = new.starts_at.to_zoned(tz.clone()).date();
        if let Some(reason) = crate::closures::closed_reason(&mut tx, site_id, day).await? {
            return Ok(Err(BookingRefusal::Closed { day, reason }));
        }
        // Then the chair's row: every booking of this chair waits here for the one before.
        let locked = sqlx::query("update chairs set name = name where id = $1 and site_id = $2")
            .bind(new.chair_id.as_str())
            .bind(site_id.as_str())
            .execute(&mut *tx)
            .await?;
        if locked.rows_affected() != 1 {
            return Err(StoreError::NotFound { entity: "chair" });
        }
        let row = sqlx::query(
            "select c.id, r.name as room_name, c.name, c.supports, c.open_days, c.opens_min,
                    c.closes_min
               from chairs c join rooms r on r.id = c.room_id where c.id = $1",
        )
        .bind(new.chair_id.as_str())
        .fetch_one(&mut *tx)
        .await?;
        let chair = chair_from_row(&RowReader::new(&row, "chairs", "id")?)?;
        let chair_words = format!("{}, {}", chair.room, chair.name);
        let locked = sqlx::query(
            "update patients set updated_at = updated_at where id = $1 and site_id = $2",
        )
        .bind(new.patient_id.as_str())
        .bind(site_id.as_str())
        .execute(&mut *tx)
        .await?;
        if locked.rows_affected() != 1 {
            return Err(StoreError::NotFound { entity: "patient" });
        }
        let plan = ChairPlan {
            id: chair.id.as_str().to_owned(),
            supports: chair.supports.clone(),
            hours: chair.hours.clone(),
            busy: Vec::new(),
        };
        if !plan.takes(new.kind) {
            return Ok(Err(BookingRefusal::NotSupported {
                chair: chair_words,
                kind: new.kind.label(),
            }));
        }
        if !chair.hours.contains(tz, new.starts_at, new.ends_at) {
            return Ok(Err(BookingRefusal::OutsideHours {
                chair: chair_words,
                hours: chair.hours.words(),
            }));
        }
        if new.kind.is_esketamine()
            && let Some(refusal) = rems_gate(&mut tx, site_id, new.patient_id).await?
        {
            return Ok(Err(BookingRefusal::Rems(refusal)));
        }
        if let Some(course) = new.course_id {
            let row = sqlx::query(
                "select id, product, phases from courses where id = $1 and patient_id = $2
                    and status in ('planned', 'active', 'paused')",
            )
            .bind(course.as_str())
            .bind(new.patient_id.as_str())
            .fetch_optional(&mut *tx)
            .await?;
            let Some(row) = row else {
                return Ok(Err(BookingRefusal::CourseNotOpen));
            };
            let r = RowReader::new(&row, "courses", "id")?;
            let product = r.parsed("product", |s| Product::parse(s).ok_or("not a product"))?;
            let phases = r.parsed("phases", crate::courses::decode_phases)?;
            let course_kind = AppointmentKind::for_product(product);
            if course_kind != new.kind {
                return Ok(Err(BookingRefusal::NotCourseKind {
                    course_kind: course_kind.label(),
                }));
            }
            // The patient's row is locked above, so two bookings of the course at once count
            // one after the other.
            if let Some(refusal) = course_room(&mut tx, course, &phases, new, tz).await? {
                return Ok(Err(refusal));
            }
        }
        let clash = sqlx::query(&format!(
            "{APPOINTMENT_SELECT}
              where a.status = 'booked' and a.starts_at < $2 and a.ends_at > $1
                and (a.chair_id = $3 or a.patient_id = $4)
              order by a.starts_at limit 1"
        ))
        .bind(millis(new.starts_at))
        .bind(millis(new.ends_at))
        .bind(new.chair_id.as_str())
        .bind(new.patient_id.as_str())
        .fetch_optional(&mut *tx)
        .await?;
        if let Some(row) = clash {
            let other = appointment_from_row(&row)?;
            return Ok(Err(if other.chair_id == *new.chair_id {
                BookingRefusal::ChairTaken {
                    chair: chair_words,
                    with: other.id,
                    patient: other.patient_name,
                    from: other.starts_at,
                    until: other.ends_at,
                }
            } else {
                BookingRefusal::PatientTaken {
                    chair: other.chair_name,
                    with: other.id,
                    from: other.starts_at,
                    until: other.ends_at,
                }
            }));
        }
        let id = AppointmentId::new();
        sqlx::query(
            "insert into appointments (id, site_id, patient_id, chair_id, course_id, kind,
                                       starts_at, ends_at, status, booked_by, booked_at)
             values ($1, $2, $3, $4, $5, $6, $7, $8, 'booked', $9, $10)",
        )
        .bind(id.as_str())
        .bind(site_id.as_str())
        .bind(new.patient_id.as_str())
        .bind(new.chair_id.as_str())
        .bind(new.course_id.map(|c| c.as_str()))
        .bind(new.kind.code())
        .bind(millis(new.starts_at))
        .bind(millis(new.ends_at))
        .bind(actor.user_id())
        .bind(millis(now))
        .execute(&mut *tx)
        .await?;
        let event = AuditEvent::new("appointment.book", AuditOutcome::Ok)
            .site(site_id.as_str())
            .entity("appointment", id.as_str())
            .patient(new.patient_id.as_str());
        audit::insert(&mut tx, now, actor, &event).await?;
        let row = sqlx::query(&format!("{APPOINTMENT_SELECT} where a.id = $1"))
            .bind(id.as_str())
            .fetch_one(&mut *tx)
            .await?;
        let record = appointment_from_row(&row)?;
        tx.commit().await?;
        Ok(Ok(record))
    }

    /// Cancels every appointment of the site starting in `[from, until)` that is still booked
    /// and not checked in, with one reason: the clinic cannot open a day it had booked (a storm,
    /// a power cut). One transaction; each appointment is closed as [`Store::close_appointment`]
    /// closes one (its row locked before its check-in is looked for), so a patient checked in at
    /// that moment keeps their appointment. Each is audited as its patient's cancellation. How
    /// many were cancelled.
    #[tracing::instrument(skip_all)]
    pub async fn cancel_day(
        &self,
        actor: &Actor,
        site_id: &SiteId,
        (from, until): (jiff::Timestamp, jiff::Timestamp),
        reason: &str,
        now: jiff::Timestamp,
    ) -> Result<usize, StoreError> {
        let mut tx = self.pool.begin().await?;
        let rows = sqlx::query(
            "select a.id from appointments a
              where a.site_id = $1 and a.starts_at >= $2 and a.starts_at < $3
                and a.status = 'booked'
                and not exists (select 1 from treatment_sessions s where s.appointment_id = a.id)
              order by a.starts_at, a.id limit 2000",
        )
        .bind(site_id.as_str())
        .bind(millis(from))
        .bind(millis(until))
        .fetch_all(&mut *tx)
        .await?;
        let mut cancelled = 0;
        for row in &rows {
            let id = RowReader::new(row, "appointments", "id")?.id("id", AppointmentId::parse)?;
            let closed = close_locked(
                &mut tx,
                actor,
                site_id,
                &id,
                AppointmentStatus::Cancelled,
                reason,
                now,
            )
            .await?;
            // A patient checked in meanwhile keeps their appointment.
            cancelled += usize::from(closed.is_ok());
        }
        tx.commit().await?;
        Ok(cancelled)
    }

    /// Cancels a booked appointment or marks it a no-show, with the reason. Refused when it is
    /// not booked (already cancelled or marked) or when the patient is checked in for it (a
    /// session in the chair must not leave its chair free for another booking). The
    /// appointment's row is locked first, as checking in locks it, so a check-in and a
    /// cancellation at once do one or the other.
    #[tracing::instrument(skip_all)]
    pub async fn close_appointment(
        &self,
        actor: &Actor,
        site_id: &SiteId,
        id: &AppointmentId,
        status: AppointmentStatus,
        reason: &str,
        now: jiff::Timestamp,
    ) -> Result<Result<(), CloseRefused>, StoreError> {
        let mut tx = self.pool.begin().await?;
        let closed = close_locked(&mut tx, actor, site_id, id, status, reason, now).await?;
        if closed.is_ok() {
            tx.commit().await?;
        }
        Ok(closed)
    }

    /// Marks the patient of a booked appointment arrived (in the waiting room) at `now`, with
    /// its audit event, in one statement and transaction. `today` is the clinic's day around
    /// `now` (`[start, end)`): only an appointment starting that day can be marked. `false` when
    /// the appointment is not today's, not booked (cancelled or marked a no-show), was marked
    /// arrived already (so two clicks at once mark it once) or has its patient checked in.
    #[tracing::instrument(skip_all)]
    pub async fn mark_arrived(
        &self,
        actor: &Actor,
        site_id: &SiteId,
        id: &AppointmentId,
        today: (jiff::Timestamp, jiff::Timestamp),
        now: jiff::Timestamp,
    ) -> Result<bool, StoreError> {
        let mut tx = self.pool.begin().await?;
        let row = sqlx::query(
            "update appointments set arrived_at = $3, changed_by = $4, changed_at = $3
              where id = $1 and site_id = $2 and status = 'booked' and arrived_at is null
                and starts_at >= $5 and starts_at < $6
                and not exists (select 1 from treatment_sessions s
                                 where s.appointment_id = appointments.id)
              returning id, patient_id",
        )
        .bind(id.as_str())
        .bind(site_id.as_str())
        .bind(millis(now))
        .bind(actor.user_id())
        .bind(millis(today.0))
        .bind(millis(today.1))
        .fetch_optional(&mut *tx)
        .await?;
        let event = AuditEvent::new("appointment.arrived", AuditOutcome::Ok).site(site_id.as_str());
        audit_appointment_change(tx, row, id, event, actor, now).await
    }

    /// The site's waiting room: course appointments starting in `[from, until)` (the clinic's
    /// today) whose patient the front desk marked arrived and for which no treatment session
    /// has been checked in yet, first arrived first; at most 200. Not audited, like
    /// [`Store::board_sessions`]: the chair board that shows it audits once when it opens.
    #[tracing::instrument(skip_all)]
    pub async fn waiting_room(
        &self,
        site_id: &SiteId,
        from: jiff::Timestamp,
        until: jiff::Timestamp,
    ) -> Result<Vec<AppointmentRecord>, StoreError> {
        let rows = sqlx::query(&format!(
            "{APPOINTMENT_SELECT}
              where a.site_id = $1 and a.starts_at >= $2 and a.starts_at < $3
                and a.status = 'booked' and a.course_id is not null
                and a.arrived_at is not null
                and not exists (select 1 from treatment_sessions s where s.appointment_id = a.id)
              order by a.arrived_at, a.id limit 200"
        ))
        .bind(site_id.as_str())
        .bind(millis(from))
        .bind(millis(until))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(appointment_from_row).collect()
    }

    /// The site's appointments starting in `[from, until)`, optionally of one chair or one
    /// patient, by start; at most 2,000. Audited as a read of the schedule (it names patients).
    #[tracing::instrument(skip_all)]
    #[allow(clippy::too_many_arguments)]
    pub async fn appointments(
        &self,
        actor: &Actor,
        site_id: &SiteId,
        from: jiff::Timestamp,
        until: jiff::Timestamp,
        chair: Option<&ChairId>,
        patient: Option<&PatientId>,
        now: jiff::Timestamp,
    ) -> Result<Vec<AppointmentRecord>, StoreError> {
        let rows = sqlx::query(&format!(
            "{APPOINTMENT_SELECT}
              where a.site_id = $1 and a.starts_at >= $2 and a.starts_at < $3
                and ($4 = '' or a.chair_id = $4) and ($5 = '' or a.patient_id = $5)
              order by a.starts_at, a.id limit 2000"
        ))
        .bind(site_id.as_str())
        .bind(millis(from))
        .bind(millis(until))
        .bind(chair.map_or("", |c| c.as_str()))
        .bind(patient.map_or("", |p| p.as_str()))
        .fetch_all(&self.pool)
        .await?;
        let list = rows
            .iter()
            .map(appointment_from_row)
            .collect::<Result<Vec<_>, _>>()?;
        let mut event = AuditEvent::new("appointment.list", AuditOutcome::Ok)
            .site(site_id.as_str())
            .detail(format!("rows={}", list.len()));
        if let Some(p) = patient {
            event = event.patient(p.as_str());
        }
        self.audit(actor, event, now).await?;
        Ok(list)
    }

    /// The site's course sessions that started in `[from, until)` and were left open: still
    /// booked, with no one checked in, neither cancelled nor marked a no-show. The course
    /// counts each as booked, so nothing replaces it until the front desk closes it. Oldest
    /// first, at most `limit`, with how many there are in all. Audited as a read of the
    /// schedule (it names patients).
    #[tracing::instrument(skip_all)]
    pub async fn sessions_left_open(
        &self,
        actor: &Actor,
        site_id: &SiteId,
        from: jiff::Timestamp,
        until: jiff::Timestamp,
        limit: u32,
        now: jiff::Timestamp,
    ) -> Result<(Vec<AppointmentRecord>, i64), StoreError> {
        const OPEN: &str = "a.site_id = $1 and a.starts_at >= $2 and a.starts_at < $3
                and a.status = 'booked' and a.course_id is not null
                and not exists (select 1 from treatment_sessions s where s.appointment_id = a.id)";
        let total: i64 =
            sqlx::query_scalar(&format!("select count(*) from appointments a where {OPEN}"))
                .bind(site_id.as_str())
                .bind(millis(from))
                .bind(millis(until))
                .fetch_one(&self.pool)
                .await?;
        let rows = sqlx::query(&format!(
            "{APPOINTMENT_SELECT} where {OPEN} order by a.starts_at, a.id limit $4"
        ))
        .bind(site_id.as_str())
        .bind(millis(from))
        .bind(millis(until))
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        let list = rows
            .iter()
            .map(appointment_from_row)
            .collect::<Result<Vec<_>, _>>()?;
        let event = AuditEvent::new("appointment.list", AuditOutcome::Ok)
            .site(site_id.as_str())
            .detail(format!("rows={} scope=left_open", list.len()));
        self.audit(actor, event, now).await?;
        Ok((list, total))
    }

    /// The booked intervals of a chair or a patient from `from` on (for proposals).
    #[tracing::instrument(skip_all)]
    pub async fn busy(
        &self,
        site_id: &SiteId,
        from: jiff::Timestamp,
    ) -> Result<Vec<(ChairId, PatientId, jiff::Timestamp, jiff::Timestamp)>, StoreError> {
        let rows = sqlx::query(
            "select id, chair_id, patient_id, starts_at, ends_at from appointments
              where site_id = $1 and status = 'booked' and ends_at > $2
              order by starts_at limit 20000",
        )
        .bind(site_id.as_str())
        .bind(millis(from))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                let r = RowReader::new(row, "appointments", "id")?;
                Ok((
                    r.id("chair_id", ChairId::parse)?,
                    r.id("patient_id", PatientId::parse)?,
                    r.instant("starts_at")?,
                    r.instant("ends_at")?,
                ))
            })
            .collect()
    }
}

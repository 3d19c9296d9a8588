//! Days the clinic is closed (holidays, training days). Nothing is proposed or booked on them
//! ([`Store::book`] refuses), and a day is closed only while no appointment is booked on it.
//! Closing a day and booking on it both take the site's row first, so the two never pass each
//! other's check at once, on either database.

use clinical::booking::{DayError, check_day};
use clinical::text::TextProblem;
use jiff::Timestamp;
use jiff::civil::Date;

use crate::audit::{self, Actor, AuditEvent, AuditOutcome};
use crate::row::{RowReader, SiteId};
use crate::scheduling::{APPOINTMENT_SELECT, AppointmentRecord, appointment_from_row, local_day};
use crate::{Store, StoreError, millis};

/// A day the clinic is closed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClosedDay {
    /// The day, on the clinic's calendar.
    pub day: Date,
    /// Why ("Christmas Day").
    pub reason: String,
    /// Who closed it (their name), when a person did.
    pub closed_by: Option<String>,
    /// When it was closed.
    pub closed_at: Timestamp,
}

/// Why a day was not closed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClosingRefusal {
    /// The reason is missing, too long or unreadable.
    #[error("{}", .0.said_of("the reason"))]
    Reason(TextProblem),
    /// The day has passed, or lies beyond what can be booked.
    #[error("{0}")]
    Day(DayError),
    /// The day is closed already.
    #[error("the clinic is closed that day already ({reason})")]
    AlreadyClosed {
        /// Why it is closed.
        reason: String,
    },
    /// Appointments are booked on the day: they are moved or cancelled first.
    #[error(
        "{} booked that day; move or cancel {} first, then close the day",
        booked_words(.booked.len()),
        if .booked.len() == 1 { "it" } else { "them" }
    )]
    Booked {
        /// The appointments booked that day, earliest first.
        booked: Vec<AppointmentRecord>,
    },
}

fn booked_words(n: usize) -> String {
    if n == 1 {
        "an appointment is".to_owned()
    } else {
        format!("{n} appointments are")
    }
}

/// The audit event of closing or opening `day`: the site and the day, nothing else.
fn day_event(action: &'static str, site_id: &SiteId, day: Date) -> AuditEvent {
    AuditEvent::new(action, AuditOutcome::Ok)
        .site(site_id.as_str())
        .entity("site", site_id.as_str())
        .detail(format!("day={day}"))
}

/// Takes the site's row for the rest of the transaction: closing a day and booking wait here
/// for each other.
pub(crate) async fn lock_site(
    conn: &mut sqlx::AnyConnection,
    site_id: &SiteId,
) -> Result<(), StoreError> {
    let locked = sqlx::query("update sites set name = name where id = $1")
        .bind(site_id.as_str())
        .execute(conn)
        .await?;
    if locked.rows_affected() != 1 {
        return Err(StoreError::NotFound { entity: "site" });
    }
    Ok(())
}

/// Why `day` is closed at `site_id`, if it is.
pub(crate) async fn closed_reason(
    conn: &mut sqlx::AnyConnection,
    site_id: &SiteId,
    day: Date,
) -> Result<Option<String>, StoreError> {
    Ok(
        sqlx::query_scalar("select reason from site_closures where site_id = $1 and day = $2")
            .bind(site_id.as_str())
            .bind(day.to_string())
            .fetch_optional(conn)
            .await?,
    )
}

impl Store {
    /// The days the clinic is closed from `from` to `to`, both included, earliest first.
    #[tracing::instrument(skip_all)]
    pub async fn closed_days(
        &self,
        site_id: &SiteId,
        from: Date,
        to: Date,
    ) -> Result<Vec<ClosedDay>, StoreError> {
        let rows = sqlx::query(
            "select c.day, c.reason, u.display_name as closed_by, c.closed_at
               from site_closures c left join users u on u.id = c.closed_by
              where c.site_id = $1 and c.day >= $2 and c.day <= $3
              order by c.day limit 1000",
        )
        .bind(site_id.as_str())
        .bind(from.to_string())
        .bind(to.to_string())
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                let r = RowReader::new(row, "site_closures", "day")?;
                Ok(ClosedDay {
                    day: r.parsed("day", |s| s.parse::<Date>())?,
                    reason: r.text("reason")?,
                    closed_by: r.opt_text("closed_by")?,
                    closed_at: r.instant("closed_at")?,
                })
            })
            .collect()
    }

    /// Closes `day` (the clinic's calendar, `tz` its zone) for `reason`: refused for a day
    /// past, a day closed already, and a day with appointments booked, which are named. One
    /// transaction holding the site's row, so no booking slips in between the check and the
    /// write.
    #[allow(clippy::too_many_arguments)]
    #[tracing::instrument(skip_all)]
    pub async fn close_day(
        &self,
        actor: &Actor,
        site_id: &SiteId,
        day: Date,
        reason: &str,
        tz: &jiff::tz::TimeZone,
        today: Date,
        now: Timestamp,
    ) -> Result<Result<(), ClosingRefusal>, StoreError> {
        let reason = match clinical::booking::check_closed_day_reason(reason) {
            Ok(r) => r,
            Err(problem) => return Ok(Err(ClosingRefusal::Reason(problem))),
        };
        if let Err(e) = check_day(day, today) {
            return Ok(Err(ClosingRefusal::Day(e)));
        }
        // The day's span on the clinic's clock, as bookings read it.
        // ok: a day within two years of today always has a start and an end; one that had
        // none would lie at the calendar's end, refused as too far like any beyond two years.
        let span = day
            .to_zoned(tz.clone())
            .ok()
            .and_then(|start| local_day(start.timestamp(), tz));
        let Some((from, until)) = span else {
            return Ok(Err(ClosingRefusal::Day(DayError::TooFar { latest: today })));
        };
        let mut tx = self.pool.begin().await?;
        lock_site(&mut tx, site_id).await?;
        if let Some(reason) = closed_reason(&mut tx, site_id, day).await? {
            return Ok(Err(ClosingRefusal::AlreadyClosed { reason }));
        }
        let rows = sqlx::query(&format!(
            "{APPOINTMENT_SELECT}
              where a.site_id = $1 and a.status = 'booked' and a.starts_at < $3
                and a.ends_at > $2
              order by a.starts_at limit 200"
        ))
        .bind(site_id.as_str())
        .bind(millis(from))
        .bind(millis(until))
        .fetch_all(&mut *tx)
        .await?;
        if !rows.is_empty() {
            let booked = rows
                .iter()
                .map(appointment_from_row)
                .collect::<Result<Vec<_>, _>>()?;
            return Ok(Err(ClosingRefusal::Booked { booked }));
        }
        sqlx::query(
            "insert into site_closures (site_id, day, reason, closed_by, closed_at)
             values ($1, $2, $3, $4, $5)",
        )
        .bind(site_id.as_str())
        .bind(day.to_string())
        .bind(reason)
        .bind(actor.user_id())
        .bind(millis(now))
        .execute(&mut *tx)
        .await?;
        audit::insert(
            &mut tx,
            now,
            actor,
            &day_event("site.close_day", site_id, day),
        )
        .await?;
        tx.commit().await?;
        Ok(Ok(()))
    }

    /// Opens a closed day again; `false` when it was not closed.
    #[tracing::instrument(skip_all)]
    pub async fn reopen_day(
        &self,
        actor: &Actor,
        site_id: &SiteId,
        day: Date,
        now: Timestamp,
    ) -> Result<bool, StoreError> {
        let mut tx = self.pool.begin().await?;
        let gone = sqlx::query("delete from site_closures where site_id = $1 and day = $2")
            .bind(site_id.as_str())
            .bind(day.to_string())
            .execute(&mut *tx)
            .await?;
        if gone.rows_affected() == 0 {
            return Ok(false);
        }
        audit::insert(
            &mut tx,
            now,
            actor,
            &day_event("site.reopen_day", site_id, day),
        )
        .await?;
        tx.commit().await?;
        Ok(true)
    }
}

//! Assessments (scored rating instruments), patient self-report links, and safety alerts.
//!
//! Recording an assessment whose score calls for same-day safety follow-up raises an alert in
//! the same transaction, so an alert can never be lost between the two writes.

use crate::audit::{self, Actor, AuditEvent, AuditOutcome};
use crate::row::UserId;
use crate::row::{AlertId, AssessmentId, LinkId, PatientId, RowReader, SiteId};
use crate::users::{Role, User};
use crate::{Store, StoreError, millis, random_hex, token_hash};
use clinical::instruments::recording::{self, Intent, RecordingRefusal};
use clinical::instruments::schedule::TimePoint;
use clinical::instruments::{InstrumentId, Score};
use clinical::safety::{Action, Contact, FollowUp};
use jiff::{SignedDuration, Timestamp};

/// A stored assessment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssessmentRecord {
    /// Identifier.
    pub id: AssessmentId,
    /// Patient.
    pub patient_id: PatientId,
    /// Instrument.
    pub instrument: InstrumentId,
    /// Time point in the course.
    pub time_point: TimePoint,
    /// When it was taken.
    pub administered_at: Timestamp,
    /// Answers as given.
    pub answers: Vec<i64>,
    /// Total score.
    pub total: i32,
    /// Severity band code, where the instrument has bands.
    pub severity: Option<String>,
    /// Flag codes raised.
    pub flags: Vec<String>,
    /// Version of the scoring that computed the result.
    pub scoring_version: String,
    /// Staff member who entered it, if staff did.
    pub entered_by_user_id: Option<UserId>,
    /// Whether the patient entered it (by link).
    pub entered_by_patient: bool,
    /// The staff member who entered it, with their role, when staff did.
    pub entered_by: Option<(String, Role)>,
    /// Why a clinician recorded this baseline again, when it is a re-baseline.
    pub rebaseline_reason: Option<String>,
}

/// Who entered an assessment.
#[derive(Debug, Clone)]
pub enum EnteredBy<'a> {
    /// A staff member.
    Staff(&'a Actor),
    /// The patient, through a self-report link.
    Patient,
}

/// An open or acknowledged alert.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlertRecord {
    /// Identifier.
    pub id: AlertId,
    /// Patient.
    pub patient_id: PatientId,
    /// Patient's name as people say it (`given family`), as the start page's other lists show it.
    pub patient_name: String,
    /// What kind (`safety`).
    pub kind: String,
    /// What happened and what to do.
    pub message: String,
    /// When it was raised.
    pub created_at: Timestamp,
    /// When someone acknowledged it.
    pub acknowledged_at: Option<Timestamp>,
    /// The patient's telephone, to call them back.
    pub patient_phone: Option<String>,
    /// The instrument, answers and flags of the assessment that raised it.
    pub raised_by: Option<(InstrumentId, Vec<i64>, Vec<String>)>,
    /// The follow-up that closed it, when it is closed.
    pub follow_up: Option<FollowUpRecord>,
}

/// How a safety alert was followed up, and by whom.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FollowUpRecord {
    /// How the patient was reached.
    pub contact: Contact,
    /// What was done.
    pub actions: Vec<Action>,
    /// The clinician's note.
    pub note: String,
    /// Who followed it up (their name; `None` for alerts closed before follow-ups were kept).
    pub by_name: Option<String>,
}

/// What a self-report link leads to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LinkState {
    /// Open: the patient may submit.
    Open {
        /// Patient.
        patient_id: PatientId,
        /// Instrument to complete.
        instrument: InstrumentId,
        /// Time point.
        time_point: TimePoint,
        /// When the link stops working.
        expires_at: Timestamp,
    },
    /// Already used.
    Used,
    /// Past its expiry.
    Expired,
    /// Withdrawn by the clinic before it was used.
    Revoked,
    /// No such link.
    Unknown,
}

/// A self-report link that is still open, as staff see it (never its secret).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenLink {
    /// The link's public name.
    pub id: LinkId,
    /// Instrument to complete.
    pub instrument: InstrumentId,
    /// Time point.
    pub time_point: TimePoint,
    /// When it was made.
    pub created_at: Timestamp,
    /// Who made it.
    pub created_by: String,
    /// When it stops working.
    pub expires_at: Timestamp,
}

/// A self-report link just made; the secret goes into the URL and is not stored.
#[derive(Debug, Clone)]
pub struct NewLink {
    /// The secret part of the URL.
    pub secret: String,
    /// When it stops working.
    pub expires_at: Timestamp,
}

/// The baseline of one instrument in a patient's assessments (oldest first), by
/// [`clinical::instruments::outcome::choose_baseline`].
pub fn baseline(
    records: &[AssessmentRecord],
    instrument: InstrumentId,
) -> Option<&AssessmentRecord> {
    let of_this: Vec<&AssessmentRecord> = records
        .iter()
        .filter(|r| r.instrument == instrument)
        .collect();
    clinical::instruments::outcome::choose_baseline(
        &of_this,
        |r| r.time_point,
        |r| r.rebaseline_reason.is_some(),
    )
    .copied()
}

/// An assessment with the name and role of the staff member who entered it (left join: the
/// patient enters some). Callers add their own joins and conditions after it.
const ASSESSMENT_SELECT: &str =
    "select a.id, a.patient_id, a.instrument, a.time_point, a.administered_at, a.answers,
        a.total, a.severity, a.flags, a.scoring_version, a.entered_by_user_id, a.entered_by_patient,
        a.rebaseline_reason, u.display_name as entered_by_name, u.role as entered_by_role
   from assessments a left join users u on u.id = a.entered_by_user_id";

/// The one decoder of `assessments` rows.
fn assessment_from_row(row: &sqlx::any::AnyRow) -> Result<AssessmentRecord, StoreError> {
    let r = RowReader::new(row, "assessments", "id")?;
    let answers = r.int_list("answers")?;
    let total = r.int("total")?;
    Ok(AssessmentRecord {
        id: r.id("id", AssessmentId::parse)?,
        patient_id: r.id("patient_id", PatientId::parse)?,
        instrument: r.parsed("instrument", InstrumentId::parse)?,
        time_point: r.parsed("time_point", |s| {
            TimePoint::parse(s).ok_or("not a time point")
        })?,
        administered_at: r.instant("administered_at")?,
        answers,
        total: i32::try_from(total)
            .map_err(|_| r.corrupt("total", format!("{total} is out of range")))?,
        severity: r.opt_text("severity")?,
        flags: r.text_list("flags")?,
        scoring_version: r.text("scoring_version")?,
        entered_by_user_id: r.opt_id("entered_by_user_id", UserId::parse)?,
        entered_by_patient: r.flag("entered_by_patient")?,
        entered_by: match r.opt_text("entered_by_name")? {
            Some(name) => Some((
                name,
                r.parsed("entered_by_role", |s| Role::parse(s).ok_or("not a role"))?,
            )),
            None => None,
        },
        rebaseline_reason: r.opt_text("rebaseline_reason")?,
    })
}

impl Store {
    /// Stores a scored assessment for a patient of `site_id`, unless the patient's earlier
    /// assessments of the instrument refuse it as it stands ([`recording::check`]: a second
    /// baseline without a reason, identical answers moments apart without confirmation). Raises
    /// a safety alert when the score calls for same-day follow-up. Audited.
    ///
    /// The check and the write are one transaction that first takes the patient's row (a write
    /// lock on both databases), so two entries at once cannot both pass the check.
    #[allow(clippy::too_many_arguments)]
    #[tracing::instrument(skip_all, fields(patient_id = %patient_id))]
    pub async fn record_assessment(
        &self,
        entered_by: EnteredBy<'_>,
        site_id: &SiteId,
        patient_id: &PatientId,
        score: &Score,
        time_point: TimePoint,
        administered_at: Timestamp,
        intent: Intent<'_>,
        now: Timestamp,
    ) -> Result<Result<AssessmentRecord, RecordingRefusal>, StoreError> {
        let mut tx = self.pool.begin().await?;
        let locked = sqlx::query(
            "update patients set updated_at = updated_at where id = $1 and site_id = $2",
        )
        .bind(patient_id.as_str())
        .bind(site_id.as_str())
        .execute(&mut *tx)
        .await?;
        if locked.rows_affected() != 1 {
            return Err(StoreError::NotFound { entity: "patient" });
        }
        let rows = sqlx::query(
            "select id, time_point, administered_at, answers from assessments
              where patient_id = $1 and instrument = $2 order by administered_at, id",
        )
        .bind(patient_id.as_str())
        .bind(score.instrument.code())
        .fetch_all(&mut *tx)
        .await?;
        let mut earlier = Vec::with_capacity(rows.len());
        for row in &rows {
            let r = RowReader::new(row, "assessments", "id")?;
            earlier.push((
                r.parsed("time_point", |s| {
                    TimePoint::parse(s).ok_or("not a time point")
                })?,
                r.instant("administered_at")?,
                r.int_list("answers")?,
            ));
        }
        let prior: Vec<recording::Prior<'_>> = earlier
            .iter()
            .map(|(time_point, taken_at, answers)| recording::Prior {
                time_point: *time_point,
                taken_at: *taken_at,
                answers,
            })
            .collect();
        let answers: Vec<i64> = score.answers.iter().map(|&a| i64::from(a)).collect();
        let reason = match recording::check(&prior, time_point, administered_at, &answers, intent) {
            Ok(reason) => reason,
            Err(refusal) => return Ok(Err(refusal)),
        };
        let id = insert_assessment(
            &mut tx,
            &entered_by,
            site_id,
            patient_id,
            score,
            time_point,
            administered_at,
            now,
        )
        .await?;
        if let Some(reason) = reason {
            sqlx::query("update assessments set rebaseline_reason = $2 where id = $1")
                .bind(id.as_str())
                .bind(reason)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(Ok(self.assessment(&id).await?))
    }

    async fn assessment(&self, id: &AssessmentId) -> Result<AssessmentRecord, StoreError> {
        let row = sqlx::query(&format!("{ASSESSMENT_SELECT} where a.id = $1"))
            .bind(id.as_str())
            .fetch_optional(&self.pool)
            .await?
            .ok_or(StoreError::NotFound {
                entity: "assessment",
            })?;
        assessment_from_row(&row)
    }

    /// A patient's assessments, oldest first, read by a person (audited).
    #[tracing::instrument(skip_all, fields(patient_id = %patient_id))]
    pub async fn assessments(
        &self,
        actor: &Actor,
        site_id: &SiteId,
        patient_id: &PatientId,
        now: Timestamp,
    ) -> Result<Vec<AssessmentRecord>, StoreError> {
        let rows = sqlx::query(&format!(
            "{ASSESSMENT_SELECT} join patients p on p.id = a.patient_id
             where p.site_id = $1 and a.patient_id = $2 order by a.administered_at, a.id"
        ))
        .bind(site_id.as_str())
        .bind(patient_id.as_str())
        .fetch_all(&self.pool)
        .await?;
        let records = rows
            .iter()
            .map(assessment_from_row)
            .collect::<Result<Vec<_>, _>>()?;
        let event = AuditEvent::new("assessment.list", AuditOutcome::Ok)
            .site(site_id.as_str())
            .patient(patient_id.as_str())
            .detail(format!("rows={}", records.len()));
        self.audit(actor, event, now).await?;
        Ok(records)
    }

    /// The assessments of every patient of a site whose baseline for some instrument was taken
    /// at or after `since`, oldest first, with the patient's name: what a clinician's start
    /// page needs to say what is due today. At most `limit` rows; audited as one site-wide
    /// read (the number of rows, no patient).
    #[tracing::instrument(skip_all)]
    pub async fn recent_courses(
        &self,
        actor: &Actor,
        site_id: &SiteId,
        since: Timestamp,
        limit: i64,
        now: Timestamp,
    ) -> Result<Vec<(AssessmentRecord, String)>, StoreError> {
        let rows = sqlx::query(&format!(
            "{ASSESSMENT_SELECT} join patients p on p.id = a.patient_id
              where p.site_id = $1
                and exists (select 1 from assessments b
                             where b.patient_id = a.patient_id and b.instrument = a.instrument
                               and b.time_point = 'baseline' and b.administered_at >= $2)
              order by a.administered_at, a.id limit $3"
        ).replace(
            "u.display_name as entered_by_name",
            "p.given_name || ' ' || p.family_name as patient_name, u.display_name as entered_by_name",
        ))
        .bind(site_id.as_str())
        .bind(millis(since))
        .bind(limit.clamp(1, 20_000))
        .fetch_all(&self.pool)
        .await?;
        let records = rows
            .iter()
            .map(|row| {
                let name = RowReader::new(row, "assessments", "id")?.text("patient_name")?;
                Ok((assessment_from_row(row)?, name))
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        let event = AuditEvent::new("assessment.list", AuditOutcome::Ok)
            .site(site_id.as_str())
            .detail(format!("rows={} scope=site", records.len()));
        self.audit(actor, event, now).await?;
        Ok(records)
    }

    /// Every assessment of the site's patients who have a planned or active course, oldest
    /// first, at most 20,000 (the caller audits the read).
    pub(crate) async fn assessments_of_open_courses(
        &self,
        site_id: &SiteId,
    ) -> Result<Vec<AssessmentRecord>, StoreError> {
        let rows = sqlx::query(&format!(
            "{ASSESSMENT_SELECT} join patients p on p.id = a.patient_id
              where p.site_id = $1
                and exists (select 1 from courses c where c.patient_id = a.patient_id
                               and c.status in ('planned', 'active'))
              order by a.administered_at, a.id limit 20000"
        ))
        .bind(site_id.as_str())
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(assessment_from_row).collect()
    }

    /// Makes a single-use self-report link for one instrument, valid for `valid_for`, for a
    /// patient of the creating staff member's site.
    #[tracing::instrument(skip_all, fields(patient_id = %patient_id))]
    pub async fn create_self_report_link(
        &self,
        creator: &User,
        patient_id: &PatientId,
        instrument: InstrumentId,
        time_point: TimePoint,
        valid_for: SignedDuration,
        now: Timestamp,
    ) -> Result<NewLink, StoreError> {
        let actor = &Actor::user(creator);
        let secret = random_hex(24);
        let expires_at = now.checked_add(valid_for).unwrap_or(now);
        let mut tx = self.pool.begin().await?;
        // One statement: the link is made only for a patient of the creator's site.
        let made = sqlx::query(
            "insert into self_report_links (token_hash, patient_id, instrument, time_point, created_by, created_at, expires_at)
             select $1, p.id, $3, $4, $5, $6, $7 from patients p where p.id = $2 and p.site_id = $8",
        )
        .bind(token_hash(&secret))
        .bind(patient_id.as_str())
        .bind(instrument.code())
        .bind(time_point.code())
        .bind(creator.id.as_str())
        .bind(millis(now))
        .bind(millis(expires_at))
        .bind(creator.site_id.as_str())
        .execute(&mut *tx)
        .await?;
        if made.rows_affected() != 1 {
            return Err(StoreError::NotFound { entity: "patient" });
        }
        let event = AuditEvent::new("self_report_link.create", AuditOutcome::Ok)
            .patient(patient_id.as_str());
        audit::insert(&mut tx, now, actor, &event).await?;
        tx.commit().await?;
        Ok(NewLink { secret, expires_at })
    }

    /// A patient's links that can still be used (not used, revoked or expired), newest first.
    #[tracing::instrument(skip_all, fields(patient_id = %patient_id))]
    pub async fn open_links(
        &self,
        site_id: &SiteId,
        patient_id: &PatientId,
        now: Timestamp,
    ) -> Result<Vec<OpenLink>, StoreError> {
        let rows = sqlx::query(
            "select l.token_hash, l.instrument, l.time_point, l.created_at, l.expires_at,
                    u.display_name
               from self_report_links l
               join patients p on p.id = l.patient_id
               join users u on u.id = l.created_by
              where p.site_id = $1 and l.patient_id = $2 and l.used_at is null
                and l.revoked_at is null and l.expires_at > $3
              order by l.created_at desc, l.token_hash",
        )
        .bind(site_id.as_str())
        .bind(patient_id.as_str())
        .bind(millis(now))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                let r = RowReader::new(row, "self_report_links", "token_hash")?;
                Ok(OpenLink {
                    id: r.id("token_hash", LinkId::parse)?,
                    instrument: r.parsed("instrument", InstrumentId::parse)?,
                    time_point: r.parsed("time_point", |s| {
                        TimePoint::parse(s).ok_or("not a time point")
                    })?,
                    created_at: r.instant("created_at")?,
                    created_by: r.text("display_name")?,
                    expires_at: r.instant("expires_at")?,
                })
            })
            .collect()
    }

    /// Withdraws a patient's open link, in one statement that also checks the link is the
    /// patient's, at the staff member's site, and still open; audited. `false` when there was
    /// no such open link (already used, revoked or expired).
    #[tracing::instrument(skip_all, fields(patient_id = %patient_id))]
    pub async fn revoke_link(
        &self,
        staff: &User,
        patient_id: &PatientId,
        link: &LinkId,
        now: Timestamp,
    ) -> Result<bool, StoreError> {
        let mut tx = self.pool.begin().await?;
        let revoked = sqlx::query(
            "update self_report_links set revoked_at = $4
              where token_hash = $1 and patient_id = $2 and used_at is null
                and revoked_at is null and expires_at > $4
                and exists (select 1 from patients p where p.id = $2 and p.site_id = $3)",
        )
        .bind(link.as_str())
        .bind(patient_id.as_str())
        .bind(staff.site_id.as_str())
        .bind(millis(now))
        .execute(&mut *tx)
        .await?;
        if revoked.rows_affected() != 1 {
            return Ok(false);
        }
        let event = AuditEvent::new("self_report_link.revoke", AuditOutcome::Ok)
            .site(staff.site_id.as_str())
            .patient(patient_id.as_str());
        audit::insert(&mut tx, now, &Actor::user(staff), &event).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// What a link leads to now.
    #[tracing::instrument(skip_all)]
    pub async fn self_report_link(
        &self,
        secret: &str,
        now: Timestamp,
    ) -> Result<LinkState, StoreError> {
        let row = sqlx::query(
            "select token_hash, patient_id, instrument, time_point, expires_at, used_at, revoked_at
               from self_report_links where token_hash = $1",
        )
        .bind(token_hash(secret))
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else {
            return Ok(LinkState::Unknown);
        };
        let r = RowReader::new(&row, "self_report_links", "token_hash")?;
        if r.opt_instant("used_at")?.is_some() {
            return Ok(LinkState::Used);
        }
        if r.opt_instant("revoked_at")?.is_some() {
            return Ok(LinkState::Revoked);
        }
        let expires_at = r.instant("expires_at")?;
        if expires_at <= now {
            return Ok(LinkState::Expired);
        }
        Ok(LinkState::Open {
            patient_id: r.id("patient_id", PatientId::parse)?,
            instrument: r.parsed("instrument", InstrumentId::parse)?,
            time_point: r.parsed("time_point", |s| {
                TimePoint::parse(s).ok_or("not a time point")
            })?,
            expires_at,
        })
    }

    /// Stores a patient's answers given through a link, once: the link is closed in the same
    /// transaction. A baseline link answered when the instrument already has its baseline is
    /// kept at another time ([`recording::self_report_time_point`]). Returns `None` when the
    /// link is not open (used, expired, unknown).
    #[tracing::instrument(skip_all)]
    pub async fn submit_self_report(
        &self,
        secret: &str,
        score: &Score,
        now: Timestamp,
    ) -> Result<Option<AssessmentRecord>, StoreError> {
        let LinkState::Open {
            patient_id,
            instrument,
            time_point,
            ..
        } = self.self_report_link(secret, now).await?
        else {
            return Ok(None);
        };
        if instrument != score.instrument {
            return Ok(None);
        }
        let row = sqlx::query("select id, site_id from patients where id = $1")
            .bind(patient_id.as_str())
            .fetch_one(&self.pool)
            .await?;
        let site_id = RowReader::new(&row, "patients", "id")?.id("site_id", SiteId::parse)?;
        let hash = token_hash(secret);
        let mut tx = self.pool.begin().await?;
        let closed = sqlx::query(
            "update self_report_links set used_at = $2
              where token_hash = $1 and used_at is null and revoked_at is null and expires_at > $2",
        )
        .bind(&hash)
        .bind(millis(now))
        .execute(&mut *tx)
        .await?;
        if closed.rows_affected() != 1 {
            // Someone else submitted in between; nothing is stored twice.
            return Ok(None);
        }
        // Whether the instrument has its baseline, read under the patient's row lock (as
        // `record_assessment` takes it), so two baseline links answered at once make one.
        sqlx::query("update patients set updated_at = updated_at where id = $1")
            .bind(patient_id.as_str())
            .execute(&mut *tx)
            .await?;
        let baseline_taken: i64 = sqlx::query_scalar(
            "select count(*) from assessments
              where patient_id = $1 and instrument = $2 and time_point = $3",
        )
        .bind(patient_id.as_str())
        .bind(score.instrument.code())
        .bind(TimePoint::Baseline.code())
        .fetch_one(&mut *tx)
        .await?;
        let time_point = recording::self_report_time_point(time_point, baseline_taken > 0);
        let id = insert_assessment(
            &mut tx,
            &EnteredBy::Patient,
            &site_id,
            &patient_id,
            score,
            time_point,
            now,
            now,
        )
        .await?;
        sqlx::query("update self_report_links set assessment_id = $2 where token_hash = $1")
            .bind(&hash)
            .bind(id.as_str())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        self.assessment(&id).await.map(Some)
    }

    /// Alerts of a site not yet acknowledged, newest first, read by a person (audited: the
    /// list names patients).
    #[tracing::instrument(skip_all)]
    pub async fn open_alerts(
        &self,
        actor: &Actor,
        site_id: &SiteId,
        now: Timestamp,
    ) -> Result<Vec<AlertRecord>, StoreError> {
        let alerts = self
            .alerts_where(site_id, "a.acknowledged_at is null", None)
            .await?;
        let event = AuditEvent::new("alert.list", AuditOutcome::Ok)
            .site(site_id.as_str())
            .detail(format!("rows={}", alerts.len()));
        self.audit(actor, event, now).await?;
        Ok(alerts)
    }

    /// How many alerts of a site are open: a number for the navigation, naming no patient, so
    /// not an audited read.
    #[tracing::instrument(skip_all)]
    pub async fn open_alert_count(&self, site_id: &SiteId) -> Result<i64, StoreError> {
        Ok(sqlx::query_scalar(
            "select count(*) from alerts where site_id = $1 and acknowledged_at is null",
        )
        .bind(site_id.as_str())
        .fetch_one(&self.pool)
        .await?)
    }

    /// A patient's alerts, open and acknowledged, newest first.
    #[tracing::instrument(skip_all)]
    pub async fn patient_alerts(
        &self,
        site_id: &SiteId,
        patient_id: &PatientId,
    ) -> Result<Vec<AlertRecord>, StoreError> {
        self.alerts_where(site_id, "a.patient_id = $2", Some(patient_id))
            .await
    }

    /// Alerts of a site matching `condition` (which may use `$2`, bound to `patient_id`).
    async fn alerts_where(
        &self,
        site_id: &SiteId,
        condition: &str,
        patient_id: Option<&PatientId>,
    ) -> Result<Vec<AlertRecord>, StoreError> {
        let sql = format!(
            "{ALERT_SELECT} where a.site_id = $1 and {condition} order by a.created_at desc, a.id desc"
        );
        let mut query = sqlx::query(&sql).bind(site_id.as_str());
        if let Some(patient_id) = patient_id {
            query = query.bind(patient_id.as_str());
        }
        let rows = query.fetch_all(&self.pool).await?;
        rows.iter().map(alert_from_row).collect()
    }

    /// Closes an alert with its follow-up, written by `actor`. Audited. One statement claims the
    /// alert, so two people closing it at once cannot both succeed.
    #[tracing::instrument(skip_all)]
    pub async fn acknowledge_alert(
        &self,
        actor: &Actor,
        site_id: &SiteId,
        alert_id: &AlertId,
        follow_up: &FollowUp,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let actions = serde_json::Value::from(
            follow_up
                .actions()
                .iter()
                .map(|a| a.code().to_owned())
                .collect::<Vec<_>>(),
        )
        .to_string();
        let mut tx = self.pool.begin().await?;
        let patient_id: Option<String> = sqlx::query_scalar(
            "update alerts set acknowledged_at = $3, acknowledged_by = $4,
                    follow_up_contact = $5, follow_up_actions = $6, follow_up_note = $7
              where site_id = $1 and id = $2 and acknowledged_at is null
             returning patient_id",
        )
        .bind(site_id.as_str())
        .bind(alert_id.as_str())
        .bind(millis(now))
        .bind(actor.user_id())
        .bind(follow_up.contact().code())
        .bind(actions)
        .bind(follow_up.note())
        .fetch_optional(&mut *tx)
        .await?;
        let Some(patient_id) = patient_id else {
            return Err(StoreError::NotFound {
                entity: "open alert",
            });
        };
        let event = AuditEvent::new("alert.acknowledge", AuditOutcome::Ok)
            .site(site_id.as_str())
            .entity("alert", alert_id.as_str())
            .patient(&patient_id);
        audit::insert(&mut tx, now, actor, &event).await?;
        tx.commit().await?;
        Ok(())
    }

    /// One alert of a site, read by a person (audited: it names the patient).
    #[tracing::instrument(skip_all)]
    pub async fn alert(
        &self,
        actor: &Actor,
        site_id: &SiteId,
        alert_id: &AlertId,
        now: Timestamp,
    ) -> Result<AlertRecord, StoreError> {
        let sql = format!("{ALERT_SELECT} where a.site_id = $1 and a.id = $2");
        let row = sqlx::query(&sql)
            .bind(site_id.as_str())
            .bind(alert_id.as_str())
            .fetch_optional(&self.pool)
            .await?
            .ok_or(StoreError::NotFound { entity: "alert" })?;
        let alert = alert_from_row(&row)?;
        let event = AuditEvent::new("alert.read", AuditOutcome::Ok)
            .site(site_id.as_str())
            .entity("alert", alert_id.as_str())
            .patient(alert.patient_id.as_str());
        self.audit(actor, event, now).await?;
        Ok(alert)
    }
}

/// An alert with the patient's name and phone, the follow-up's author and the raising
/// assessment; callers add the conditions.
const ALERT_SELECT: &str =
    "select a.id, a.patient_id, p.family_name, p.given_name, p.phone, a.kind, a.message,
        a.created_at, a.acknowledged_at, a.follow_up_contact, a.follow_up_actions,
        a.follow_up_note, u.display_name as follow_up_by,
        s.instrument as raised_instrument, s.answers as raised_answers,
        s.flags as raised_flags
   from alerts a join patients p on p.id = a.patient_id
   left join users u on u.id = a.acknowledged_by
   left join assessments s on s.id = a.assessment_id";

/// The one decoder of `alerts` rows (with the patient's name and phone, the follow-up's author
/// and the raising assessment joined in).
fn alert_from_row(row: &sqlx::any::AnyRow) -> Result<AlertRecord, StoreError> {
    let r = RowReader::new(row, "alerts", "id")?;
    let family = r.text("family_name")?;
    let given = r.text("given_name")?;
    let acknowledged_at = r.opt_instant("acknowledged_at")?;
    let follow_up = match r.opt_text("follow_up_contact")? {
        Some(code) => Some(FollowUpRecord {
            contact: Contact::parse(&code).ok_or_else(|| {
                r.corrupt("follow_up_contact", format!("'{code}' is not a contact"))
            })?,
            actions: r
                .text_list("follow_up_actions")?
                .iter()
                .map(|c| {
                    Action::parse(c).ok_or_else(|| {
                        r.corrupt("follow_up_actions", format!("'{c}' is not an action"))
                    })
                })
                .collect::<Result<_, _>>()?,
            note: r.text("follow_up_note")?,
            by_name: r.opt_text("follow_up_by")?,
        }),
        // Closed before follow-ups were recorded: say so rather than invent one.
        None => None,
    };
    let raised_by = match r.opt_text("raised_instrument")? {
        Some(code) => Some((
            InstrumentId::parse(&code)
                .map_err(|e| r.corrupt("raised_instrument", e.to_string()))?,
            r.int_list("raised_answers")?,
            r.text_list("raised_flags")?,
        )),
        None => None,
    };
    Ok(AlertRecord {
        id: r.id("id", AlertId::parse)?,
        patient_id: r.id("patient_id", PatientId::parse)?,
        patient_name: format!("{given} {family}"),
        kind: r.text("kind")?,
        message: r.text("message")?,
        created_at: r.instant("created_at")?,
        acknowledged_at,
        patient_phone: r.opt_text("phone")?,
        raised_by,
        follow_up,
    })
}

#[allow(clippy::too_many_arguments)]
pub(crate) async fn insert_assessment(
    conn: &mut sqlx::AnyConnection,
    entered_by: &EnteredBy<'_>,
    site_id: &SiteId,
    patient_id: &PatientId,
    score: &Score,
    time_point: TimePoint,
    administered_at: Timestamp,
    now: Timestamp,
) -> Result<AssessmentId, StoreError> {
    let id = AssessmentId::new();
    let answers = serde_json::Value::from(
        score
            .answers
            .iter()
            .map(|&a| i64::from(a))
            .collect::<Vec<_>>(),
    )
    .to_string();
    let flags = serde_json::Value::from(
        score
            .flags
            .iter()
            .map(|f| f.code().to_owned())
            .collect::<Vec<_>>(),
    )
    .to_string();
    let (user_id, by_patient, actor) = match entered_by {
        EnteredBy::Staff(actor) => (actor.user_id().map(str::to_owned), 0_i64, (*actor).clone()),
        EnteredBy::Patient => (None, 1, Actor::anonymous("patient self-report link")),
    };
    // One statement: the assessment is stored only for a patient of this site.
    let stored = sqlx::query(
        "insert into assessments (id, patient_id, instrument, time_point, administered_at, answers, total, severity,
                                  flags, scoring_version, entered_by_user_id, entered_by_patient, created_at)
         select $1, p.id, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13
           from patients p where p.id = $2 and p.site_id = $14",
    )
    .bind(id.as_str())
    .bind(patient_id.as_str())
    .bind(score.instrument.code())
    .bind(time_point.code())
    .bind(millis(administered_at))
    .bind(answers)
    .bind(i64::from(score.total))
    .bind(score.severity.map(|b| b.code))
    .bind(flags)
    .bind(score.instrument.instrument().scoring_version)
    .bind(user_id)
    .bind(by_patient)
    .bind(millis(now))
    .bind(site_id.as_str())
    .execute(&mut *conn)
    .await?;
    if stored.rows_affected() != 1 {
        return Err(StoreError::NotFound { entity: "patient" });
    }
    let event = AuditEvent::new("assessment.create", AuditOutcome::Ok)
        .site(site_id.as_str())
        .entity("assessment", id.as_str())
        .patient(patient_id.as_str());
    audit::insert(conn, now, &actor, &event).await?;
    for flag in score.flags.iter().filter(|f| f.is_safety()) {
        let alert_id = AlertId::new();
        sqlx::query(
            "insert into alerts (id, site_id, patient_id, kind, message, assessment_id, created_at)
             values ($1, $2, $3, 'safety', $4, $5, $6)",
        )
        .bind(alert_id.as_str())
        .bind(site_id.as_str())
        .bind(patient_id.as_str())
        .bind(flag.message())
        .bind(id.as_str())
        .bind(millis(now))
        .execute(&mut *conn)
        .await?;
        let event = AuditEvent::new("alert.raise", AuditOutcome::Ok)
            .site(site_id.as_str())
            .entity("alert", alert_id.as_str())
            .patient(patient_id.as_str());
        audit::insert(conn, now, &Actor::system("scoring"), &event).await?;
    }
    Ok(id)
}

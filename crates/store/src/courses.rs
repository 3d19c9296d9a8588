//! Treatment courses and their signed orders, and the Spravato REMS records that gate
//! esketamine.

use clinical::course::{CourseStatus, Frequency, Phase, Product, Protocol, TargetDose};
use clinical::instruments::InstrumentId;
use clinical::session::RemsChannel;
use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use crate::audit::{self, Actor, AuditEvent, AuditOutcome};
use crate::row::{CourseId, PatientId, RowReader, SiteId};
use crate::{Store, StoreError, millis};

/// A signed order of a course.
#[derive(Debug, Clone, PartialEq)]
pub struct OrderRecord {
    /// Identifier.
    pub id: String,
    /// The dose ordered.
    pub dose: TargetDose,
    /// Why the dose changed (none for the first order).
    pub reason: Option<String>,
    /// The prescriber who signed it.
    pub signed_by: String,
    /// When.
    pub signed_at: jiff::Timestamp,
    /// Whether a later order replaced it.
    pub superseded: bool,
}

/// A stored course.
#[derive(Debug, Clone, PartialEq)]
pub struct CourseRecord {
    /// Identifier.
    pub id: CourseId,
    /// The patient.
    pub patient_id: PatientId,
    /// Their name, "Given Family".
    pub patient_name: String,
    /// ICD-10-CM code of the condition treated.
    pub diagnosis_code: String,
    /// Product and route.
    pub product: Product,
    /// The protocol's code, name and source as planned.
    pub protocol_code: String,
    /// Its name.
    pub protocol_name: String,
    /// Its source.
    pub protocol_source: String,
    /// Its phases.
    pub phases: Vec<Phase>,
    /// Outcome instrument.
    pub instrument: InstrumentId,
    /// First session's target date.
    pub starts_on: Date,
    /// Status.
    pub status: CourseStatus,
    /// Why it was stopped.
    pub status_reason: Option<String>,
    /// Orders, newest first; the first is in force.
    pub orders: Vec<OrderRecord>,
    /// When its booked sessions start, in order (cancelled and no-show appointments, and
    /// sessions ended before any drug was given, are not among them).
    pub booked: Vec<jiff::Timestamp>,
}

impl CourseRecord {
    /// The planned sessions' target dates.
    pub fn planned(&self) -> Vec<clinical::course::PlannedSession> {
        clinical::course::expand(&self.phases, self.starts_on)
    }

    /// Its sessions as they stand on `today` in the clinic's zone `tz`: those booked on their
    /// days, the rest where they can still be booked ([`clinical::course::as_they_stand`]).
    pub fn sessions_as_they_stand(
        &self,
        tz: &jiff::tz::TimeZone,
        today: Date,
    ) -> Vec<clinical::course::PlannedSession> {
        let days: Vec<Date> = self
            .booked
            .iter()
            .map(|t| t.to_zoned(tz.clone()).date())
            .collect();
        clinical::course::as_they_stand(&self.planned(), &days, today)
    }

    /// The order in force.
    pub fn order(&self) -> Option<&OrderRecord> {
        self.orders.first()
    }
}

/// What a new course holds.
#[derive(Debug, Clone)]
pub struct NewCourse<'a> {
    /// The patient.
    pub patient_id: &'a PatientId,
    /// The condition (one of the patient's current diagnoses).
    pub diagnosis_code: &'a str,
    /// The protocol it follows.
    pub protocol: &'a Protocol,
    /// The outcome instrument.
    pub instrument: InstrumentId,
    /// The first session's target date.
    pub starts_on: Date,
    /// The ordered dose (checked against the caps and the label).
    pub dose: TargetDose,
}

/// Why a course or an esketamine appointment was refused by the REMS gate, or a course change.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CourseRefusal {
    /// The site has no REMS certification on file.
    #[error(
        "esketamine needs the site's Spravato REMS certification on file; an administrator records it under REMS"
    )]
    RemsCertificationRequired,
    /// The patient is not enrolled.
    #[error(
        "esketamine needs the patient's Spravato REMS enrollment on file; record it on the patient's course page first"
    )]
    RemsEnrollmentRequired,
    /// The diagnosis is not one of the patient's current ones.
    #[error(
        "choose the condition from the patient's current diagnoses (record it under Diagnoses first)"
    )]
    DiagnosisNotCurrent,
    /// The course changed status meanwhile.
    #[error("the course's status changed while the page was open; look at it again")]
    StatusChanged,
    /// A dose change on a course that has ended.
    #[error("the course has ended; order a new course instead")]
    Ended,
    /// The patient has a course of the same protocol that has not ended: a second order of
    /// it (a form sent twice, two prescribers at once) would double the patient's sessions.
    #[error(
        "the patient already has a {} course of this protocol; change that course, or stop it before ordering the protocol again",
        status.label().to_lowercase()
    )]
    SameProtocolOpen {
        /// The open course's status.
        status: CourseStatus,
    },
}

/// A change of a course's status, checked by `clinical::course::check_status_change`.
#[derive(Debug, Clone, Copy)]
pub struct StatusChange<'a> {
    /// The status the page showed.
    pub from: CourseStatus,
    /// The new one.
    pub to: CourseStatus,
    /// Why (for stopping).
    pub reason: Option<&'a str>,
}

/// A site's REMS certification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SiteRems {
    /// Date certified.
    pub certified_on: Date,
    /// Authorized representative.
    pub representative: String,
    /// The setting's address and telephone (none on a certification recorded before they
    /// were asked for).
    pub contact: Option<SettingContact>,
}

/// The setting's address and telephone, as the REMS Patient Monitoring Form asks for them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SettingContact {
    /// Street address.
    pub street: String,
    /// City.
    pub city: String,
    /// State, two letters.
    pub state: String,
    /// ZIP code.
    pub postal_code: String,
    /// Telephone at which the monitoring provider is reached.
    pub phone: String,
}

/// A patient's REMS enrollment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatientRems {
    /// Date enrolled.
    pub enrolled_on: Date,
    /// How the enrollment form went to the program.
    pub submitted_by: RemsChannel,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct StoredPhase {
    name: String,
    sessions: u32,
    frequency: String,
}

fn encode_phases(phases: &[Phase]) -> String {
    let stored: Vec<StoredPhase> = phases
        .iter()
        .map(|p| StoredPhase {
            name: p.name.clone(),
            sessions: p.sessions,
            frequency: p.frequency.code().to_owned(),
        })
        .collect();
    // ok: a list of strings and numbers always serialises.
    serde_json::to_string(&stored).unwrap_or_default()
}

pub(crate) fn decode_phases(text: &str) -> Result<Vec<Phase>, String> {
    let stored: Vec<StoredPhase> = serde_json::from_str(text).map_err(|e| e.to_string())?;
    stored
        .into_iter()
        .map(|p| {
            Ok(Phase {
                frequency: Frequency::parse(&p.frequency)
                    .ok_or_else(|| format!("'{}' is not a frequency", p.frequency))?,
                name: p.name,
                sessions: p.sessions,
            })
        })
        .collect()
}

fn dose_parts(dose: TargetDose) -> (f64, &'static str) {
    match dose {
        TargetDose::MgPerKg(v) => (v, "mg_per_kg"),
        TargetDose::Mg(v) => (v, "mg"),
    }
}

/// Whether the site and the patient have their REMS records, in the caller's transaction.
pub(crate) async fn rems_gate(
    conn: &mut sqlx::AnyConnection,
    site_id: &SiteId,
    patient_id: &PatientId,
) -> Result<Option<CourseRefusal>, StoreError> {
    let site: i64 = sqlx::query_scalar("select count(*) from site_rems where site_id = $1")
        .bind(site_id.as_str())
        .fetch_one(&mut *conn)
        .await?;
    if site == 0 {
        return Ok(Some(CourseRefusal::RemsCertificationRequired));
    }
    let patient: i64 =
        sqlx::query_scalar("select count(*) from patient_rems where patient_id = $1")
            .bind(patient_id.as_str())
            .fetch_one(&mut *conn)
            .await?;
    if patient == 0 {
        return Ok(Some(CourseRefusal::RemsEnrollmentRequired));
    }
    Ok(None)
}

/// An order's dose, from its `dose_value` and `dose_unit` columns.
pub(crate) fn target_dose(r: &RowReader<'_>) -> Result<TargetDose, StoreError> {
    let value = r.float("dose_value")?;
    match r.text("dose_unit")?.as_str() {
        "mg_per_kg" => Ok(TargetDose::MgPerKg(value)),
        "mg" => Ok(TargetDose::Mg(value)),
        other => Err(r.corrupt("dose_unit", format!("'{other}' is not a unit"))),
    }
}

impl Store {
    /// Orders a course, signed by the prescriber acting: the course (planned) and its first
    /// order in one transaction. Esketamine needs the site's certification and the patient's
    /// enrollment; the condition must be a current diagnosis of the patient.
    #[tracing::instrument(skip_all)]
    pub async fn create_course(
        &self,
        actor: &Actor,
        site_id: &SiteId,
        new: &NewCourse<'_>,
        now: jiff::Timestamp,
    ) -> Result<Result<CourseId, CourseRefusal>, StoreError> {
        let mut tx = self.pool.begin().await?;
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
        let current: i64 = sqlx::query_scalar(
            "select count(*) from patient_diagnoses
              where patient_id = $1 and code = $2 and ended_at is null",
        )
        .bind(new.patient_id.as_str())
        .bind(new.diagnosis_code)
        .fetch_one(&mut *tx)
        .await?;
        if current == 0 {
            return Ok(Err(CourseRefusal::DiagnosisNotCurrent));
        }
        if new.protocol.product.is_esketamine()
            && let Some(refusal) = rems_gate(&mut tx, site_id, new.patient_id).await?
        {
            return Ok(Err(refusal));
        }
        // Under the patient's row lock: two orders at once make one course.
        let open = sqlx::query(
            "select id, status from courses
              where patient_id = $1 and protocol_code = $2
                and status in ('planned', 'active', 'paused')
              limit 1",
        )
        .bind(new.patient_id.as_str())
        .bind(new.protocol.code.as_str())
        .fetch_optional(&mut *tx)
        .await?;
        if let Some(row) = open {
            let r = RowReader::new(&row, "courses", "id")?;
            let status = r.parsed("status", |s| CourseStatus::parse(s).ok_or("not a status"))?;
            return Ok(Err(CourseRefusal::SameProtocolOpen { status }));
        }
        let id = CourseId::new();
        sqlx::query(
            "insert into courses (id, patient_id, diagnosis_code, product, protocol_code,
                                  protocol_name, protocol_source, phases, instrument, starts_on,
                                  status, created_by, created_at, updated_by, updated_at)
             values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'planned', $11, $12, $11, $12)",
        )
        .bind(id.as_str())
        .bind(new.patient_id.as_str())
        .bind(new.diagnosis_code)
        .bind(new.protocol.product.code())
        .bind(new.protocol.code.as_str())
        .bind(new.protocol.name.as_str())
        .bind(new.protocol.source.as_str())
        .bind(encode_phases(&new.protocol.phases))
        .bind(new.instrument.code())
        .bind(new.starts_on.to_string())
        .bind(actor.user_id())
        .bind(millis(now))
        .execute(&mut *tx)
        .await?;
        let (value, unit) = dose_parts(new.dose);
        sqlx::query(
            "insert into course_orders (id, course_id, dose_value, dose_unit, signed_by, signed_at)
             values ($1, $2, $3, $4, $5, $6)",
        )
        .bind(crate::new_id())
        .bind(id.as_str())
        .bind(value)
        .bind(unit)
        .bind(actor.user_id())
        .bind(millis(now))
        .execute(&mut *tx)
        .await?;
        let event = AuditEvent::new("course.create", AuditOutcome::Ok)
            .site(site_id.as_str())
            .entity("course", id.as_str())
            .patient(new.patient_id.as_str());
        audit::insert(&mut tx, now, actor, &event).await?;
        tx.commit().await?;
        Ok(Ok(id))
    }

    /// A new signed order with a changed dose; the order it replaces is kept.
    #[tracing::instrument(skip_all)]
    pub async fn change_dose(
        &self,
        actor: &Actor,
        site_id: &SiteId,
        course_id: &CourseId,
        dose: TargetDose,
        reason: &str,
        now: jiff::Timestamp,
    ) -> Result<Result<(), CourseRefusal>, StoreError> {
        let mut tx = self.pool.begin().await?;
        // Lock the course row: two changes at once make a chain, not a fork.
        let row = sqlx::query(
            "update courses set updated_at = $3, updated_by = $4
              where id = $1 and patient_id in (select id from patients where site_id = $2)
              returning id, patient_id, status",
        )
        .bind(course_id.as_str())
        .bind(site_id.as_str())
        .bind(millis(now))
        .bind(actor.user_id())
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = row else {
            return Err(StoreError::NotFound { entity: "course" });
        };
        let r = RowReader::new(&row, "courses", "id")?;
        let status = r.parsed("status", |s| CourseStatus::parse(s).ok_or("not a status"))?;
        if status.is_final() {
            return Ok(Err(CourseRefusal::Ended));
        }
        let patient = r.text("patient_id")?;
        let latest: Option<String> = sqlx::query_scalar(
            "select id from course_orders where course_id = $1
              order by signed_at desc, id desc limit 1",
        )
        .bind(course_id.as_str())
        .fetch_optional(&mut *tx)
        .await?;
        let (value, unit) = dose_parts(dose);
        sqlx::query(
            "insert into course_orders (id, course_id, dose_value, dose_unit, reason, supersedes,
                                        signed_by, signed_at)
             values ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(crate::new_id())
        .bind(course_id.as_str())
        .bind(value)
        .bind(unit)
        .bind(reason)
        .bind(latest)
        .bind(actor.user_id())
        .bind(millis(now))
        .execute(&mut *tx)
        .await?;
        let event = AuditEvent::new("course.order", AuditOutcome::Ok)
            .site(site_id.as_str())
            .entity("course", course_id.as_str())
            .patient(&patient);
        audit::insert(&mut tx, now, actor, &event).await?;
        tx.commit().await?;
        Ok(Ok(()))
    }

    /// Moves a course from `from` to `to` (checked by `clinical::course::check_status_change`),
    /// in one statement that also checks the course is still at `from`.
    #[tracing::instrument(skip_all)]
    pub async fn set_course_status(
        &self,
        actor: &Actor,
        site_id: &SiteId,
        course_id: &CourseId,
        change: StatusChange<'_>,
        now: jiff::Timestamp,
    ) -> Result<Result<(), CourseRefusal>, StoreError> {
        let StatusChange { from, to, reason } = change;
        let mut tx = self.pool.begin().await?;
        let row = sqlx::query(
            "update courses set status = $3, status_reason = $4, updated_at = $5, updated_by = $6
              where id = $1 and status = $7
                and patient_id in (select id from patients where site_id = $2)
              returning id, patient_id",
        )
        .bind(course_id.as_str())
        .bind(site_id.as_str())
        .bind(to.code())
        .bind(reason)
        .bind(millis(now))
        .bind(actor.user_id())
        .bind(from.code())
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = row else {
            return Ok(Err(CourseRefusal::StatusChanged));
        };
        let patient = RowReader::new(&row, "courses", "id")?.text("patient_id")?;
        let event = AuditEvent::new("course.status", AuditOutcome::Ok)
            .site(site_id.as_str())
            .entity("course", course_id.as_str())
            .patient(&patient)
            .detail(format!("status={}", to.code()));
        audit::insert(&mut tx, now, actor, &event).await?;
        tx.commit().await?;
        Ok(Ok(()))
    }

    /// A patient's courses, newest first, each with its orders; audited as a read.
    #[tracing::instrument(skip_all)]
    pub async fn courses(
        &self,
        actor: &Actor,
        site_id: &SiteId,
        patient_id: &PatientId,
        now: jiff::Timestamp,
    ) -> Result<Vec<CourseRecord>, StoreError> {
        let list = self
            .courses_where(site_id, "c.patient_id = $2", Some(patient_id.as_str()))
            .await?;
        let event = AuditEvent::new("course.list", AuditOutcome::Ok)
            .site(site_id.as_str())
            .patient(patient_id.as_str())
            .detail(format!("rows={}", list.len()));
        self.audit(actor, event, now).await?;
        Ok(list)
    }

    /// The site's planned and active courses with every assessment of their patients: what
    /// the start page needs to say what the courses make due. Audited as one site-wide read.
    #[tracing::instrument(skip_all)]
    pub async fn open_courses(
        &self,
        actor: &Actor,
        site_id: &SiteId,
        now: jiff::Timestamp,
    ) -> Result<(Vec<CourseRecord>, Vec<crate::AssessmentRecord>), StoreError> {
        let courses = self
            .courses_where(
                site_id,
                "c.status in ('planned', 'active') and $2 = ''",
                Some(""),
            )
            .await?;
        let assessments = self.assessments_of_open_courses(site_id).await?;
        let event = AuditEvent::new("course.list", AuditOutcome::Ok)
            .site(site_id.as_str())
            .detail(format!(
                "rows={} assessments={} scope=site",
                courses.len(),
                assessments.len()
            ));
        self.audit(actor, event, now).await?;
        Ok((courses, assessments))
    }

    /// One course of the site (not audited: callers audit what they show).
    #[tracing::instrument(skip_all)]
    pub async fn course(
        &self,
        site_id: &SiteId,
        course_id: &CourseId,
    ) -> Result<CourseRecord, StoreError> {
        self.courses_where(site_id, "c.id = $2", Some(course_id.as_str()))
            .await?
            .into_iter()
            .next()
            .ok_or(StoreError::NotFound { entity: "course" })
    }

    async fn courses_where(
        &self,
        site_id: &SiteId,
        condition: &str,
        value: Option<&str>,
    ) -> Result<Vec<CourseRecord>, StoreError> {
        let sql = format!(
            "select c.id, c.patient_id, p.given_name || ' ' || p.family_name as patient_name,
                    c.diagnosis_code, c.product, c.protocol_code,
                    c.protocol_name, c.protocol_source, c.phases, c.instrument, c.starts_on,
                    c.status, c.status_reason
               from courses c join patients p on p.id = c.patient_id
              where p.site_id = $1 and {condition}
              order by c.created_at desc, c.id desc limit 500"
        );
        let rows = sqlx::query(&sql)
            .bind(site_id.as_str())
            .bind(value)
            .fetch_all(&self.pool)
            .await?;
        let mut list = Vec::with_capacity(rows.len());
        for row in &rows {
            let r = RowReader::new(row, "courses", "id")?;
            let product = r.parsed("product", |s| Product::parse(s).ok_or("not a product"))?;
            let id = r.id("id", CourseId::parse)?;
            list.push(CourseRecord {
                patient_id: r.id("patient_id", PatientId::parse)?,
                patient_name: r.text("patient_name")?,
                diagnosis_code: r.text("diagnosis_code")?,
                product,
                protocol_code: r.text("protocol_code")?,
                protocol_name: r.text("protocol_name")?,
                protocol_source: r.text("protocol_source")?,
                phases: r.parsed("phases", decode_phases)?,
                instrument: r.parsed("instrument", InstrumentId::parse)?,
                starts_on: r.parsed("starts_on", |s| s.parse::<Date>())?,
                status: r.parsed("status", |s| CourseStatus::parse(s).ok_or("not a status"))?,
                status_reason: r.opt_text("status_reason")?,
                orders: self.orders(&id).await?,
                booked: Vec::new(),
                id,
            });
        }
        // The booked sessions of every course listed, in one read.
        let rows = sqlx::query(&format!(
            "select a.id, a.course_id, a.starts_at
               from appointments a join courses c on c.id = a.course_id
                    join patients p on p.id = c.patient_id
              where p.site_id = $1 and {condition}
                and {counts}
              order by a.starts_at, a.id limit 100000",
            counts = crate::scheduling::COUNTS_FOR_COURSE
        ))
        .bind(site_id.as_str())
        .bind(value)
        .fetch_all(&self.pool)
        .await?;
        let index: std::collections::HashMap<String, usize> = list
            .iter()
            .enumerate()
            .map(|(i, c)| (c.id.as_str().to_owned(), i))
            .collect();
        for row in &rows {
            let r = RowReader::new(row, "appointments", "id")?;
            let course = r.id("course_id", CourseId::parse)?;
            let at = r.instant("starts_at")?;
            // A course beyond the 500 listed has its appointments read too; they are skipped.
            if let Some(&i) = index.get(course.as_str()) {
                list[i].booked.push(at);
            }
        }
        Ok(list)
    }

    /// The site's planned and active courses with sessions still to book (fewer booked than
    /// they plan), newest first, for the start page of those who book. Audited as one
    /// site-wide read of courses.
    #[tracing::instrument(skip_all)]
    pub async fn courses_to_book(
        &self,
        actor: &Actor,
        site_id: &SiteId,
        now: jiff::Timestamp,
    ) -> Result<Vec<CourseRecord>, StoreError> {
        let list: Vec<CourseRecord> = self
            .courses_where(
                site_id,
                "c.status in ('planned', 'active') and $2 = ''",
                Some(""),
            )
            .await?
            .into_iter()
            .filter(|c| c.booked.len() < clinical::course::session_count(&c.phases) as usize)
            .collect();
        let event = AuditEvent::new("course.list", AuditOutcome::Ok)
            .site(site_id.as_str())
            .detail(format!("rows={} scope=to_book", list.len()));
        self.audit(actor, event, now).await?;
        Ok(list)
    }

    async fn orders(&self, course_id: &CourseId) -> Result<Vec<OrderRecord>, StoreError> {
        let rows = sqlx::query(
            "select o.id, o.dose_value, o.dose_unit, o.reason, o.signed_at, u.display_name,
                    (select count(*) from course_orders n where n.supersedes = o.id) as later
               from course_orders o join users u on u.id = o.signed_by
              where o.course_id = $1 order by o.signed_at desc, o.id desc",
        )
        .bind(course_id.as_str())
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                let r = RowReader::new(row, "course_orders", "id")?;
                Ok(OrderRecord {
                    id: r.text("id")?,
                    dose: target_dose(&r)?,
                    reason: r.opt_text("reason")?,
                    signed_by: r.text("display_name")?,
                    signed_at: r.instant("signed_at")?,
                    superseded: r.int("later")? > 0,
                })
            })
            .collect()
    }

    /// Adds a protocol template of the clinic's own (its code must not be a built-in one's;
    /// the caller checks, the database refuses a second of the same code at the site).
    #[tracing::instrument(skip_all)]
    pub async fn create_protocol(
        &self,
        actor: &Actor,
        site_id: &SiteId,
        protocol: &Protocol,
        now: jiff::Timestamp,
    ) -> Result<(), StoreError> {
        let (value, unit) = dose_parts(protocol.dose);
        let id = crate::new_id();
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "insert into protocols (id, site_id, code, name, product, phases, dose_value,
                                    dose_unit, source, created_by, created_at)
             values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        )
        .bind(id.as_str())
        .bind(site_id.as_str())
        .bind(protocol.code.as_str())
        .bind(protocol.name.as_str())
        .bind(protocol.product.code())
        .bind(encode_phases(&protocol.phases))
        .bind(value)
        .bind(unit)
        .bind(protocol.source.as_str())
        .bind(actor.user_id())
        .bind(millis(now))
        .execute(&mut *tx)
        .await?;
        let event = AuditEvent::new("protocol.create", AuditOutcome::Ok)
            .site(site_id.as_str())
            .entity("protocol", &id);
        audit::insert(&mut tx, now, actor, &event).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The clinic's own protocol templates, by name.
    #[tracing::instrument(skip_all)]
    pub async fn site_protocols(&self, site_id: &SiteId) -> Result<Vec<Protocol>, StoreError> {
        let rows = sqlx::query(
            "select id, code, name, product, phases, dose_value, dose_unit, source
               from protocols where site_id = $1 order by name, code",
        )
        .bind(site_id.as_str())
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                let r = RowReader::new(row, "protocols", "id")?;
                let value = r.float("dose_value")?;
                let dose = match r.text("dose_unit")?.as_str() {
                    "mg_per_kg" => TargetDose::MgPerKg(value),
                    "mg" => TargetDose::Mg(value),
                    other => {
                        return Err(r.corrupt("dose_unit", format!("'{other}' is not a unit")));
                    }
                };
                Ok(Protocol {
                    code: r.text("code")?,
                    name: r.text("name")?,
                    product: r.parsed("product", |s| Product::parse(s).ok_or("not a product"))?,
                    phases: r.parsed("phases", decode_phases)?,
                    dose,
                    dose_65_and_over: None,
                    source: r.text("source")?,
                })
            })
            .collect()
    }

    /// Records the site's Spravato REMS certification (replacing an earlier record).
    #[tracing::instrument(skip_all)]
    pub async fn set_site_rems(
        &self,
        actor: &Actor,
        site_id: &SiteId,
        rems: &SiteRems,
        now: jiff::Timestamp,
    ) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "insert into site_rems (site_id, certified_on, representative, recorded_by, recorded_at,
                                    street, city, state, postal_code, phone)
             values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
             on conflict (site_id) do update set certified_on = excluded.certified_on,
                 representative = excluded.representative, recorded_by = excluded.recorded_by,
                 recorded_at = excluded.recorded_at, street = excluded.street,
                 city = excluded.city, state = excluded.state,
                 postal_code = excluded.postal_code, phone = excluded.phone",
        )
        .bind(site_id.as_str())
        .bind(rems.certified_on.to_string())
        .bind(rems.representative.as_str())
        .bind(actor.user_id())
        .bind(millis(now))
        .bind(rems.contact.as_ref().map(|c| c.street.as_str()))
        .bind(rems.contact.as_ref().map(|c| c.city.as_str()))
        .bind(rems.contact.as_ref().map(|c| c.state.as_str()))
        .bind(rems.contact.as_ref().map(|c| c.postal_code.as_str()))
        .bind(rems.contact.as_ref().map(|c| c.phone.as_str()))
        .execute(&mut *tx)
        .await?;
        let event = AuditEvent::new("rems.site", AuditOutcome::Ok).site(site_id.as_str());
        audit::insert(&mut tx, now, actor, &event).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The site's REMS certification, if recorded.
    #[tracing::instrument(skip_all)]
    pub async fn site_rems(&self, site_id: &SiteId) -> Result<Option<SiteRems>, StoreError> {
        let row = sqlx::query(
            "select site_id, certified_on, representative, street, city, state, postal_code, phone
               from site_rems where site_id = $1",
        )
        .bind(site_id.as_str())
        .fetch_optional(&self.pool)
        .await?;
        row.map(|row| {
            let r = RowReader::new(&row, "site_rems", "site_id")?;
            let contact = match r.opt_text("street")? {
                None => None,
                Some(street) => {
                    let part = |column: &'static str| {
                        r.opt_text(column)?.ok_or_else(|| {
                            r.corrupt(column, "missing beside the street address".to_owned())
                        })
                    };
                    Some(SettingContact {
                        street,
                        city: part("city")?,
                        state: part("state")?,
                        postal_code: part("postal_code")?,
                        phone: part("phone")?,
                    })
                }
            };
            Ok(SiteRems {
                certified_on: r.parsed("certified_on", |s| s.parse::<Date>())?,
                representative: r.text("representative")?,
                contact,
            })
        })
        .transpose()
    }

    /// Records a patient's Spravato REMS enrollment (replacing an earlier record).
    #[tracing::instrument(skip_all)]
    pub async fn set_patient_rems(
        &self,
        actor: &Actor,
        site_id: &SiteId,
        patient_id: &PatientId,
        rems: &PatientRems,
        now: jiff::Timestamp,
    ) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        let saved = sqlx::query(
            "insert into patient_rems (patient_id, enrolled_on, submitted_by, recorded_by,
                                       recorded_at)
             select p.id, $3, $4, $5, $6 from patients p where p.id = $1 and p.site_id = $2
             on conflict (patient_id) do update set enrolled_on = excluded.enrolled_on,
                 submitted_by = excluded.submitted_by, recorded_by = excluded.recorded_by,
                 recorded_at = excluded.recorded_at",
        )
        .bind(patient_id.as_str())
        .bind(site_id.as_str())
        .bind(rems.enrolled_on.to_string())
        .bind(rems.submitted_by.code())
        .bind(actor.user_id())
        .bind(millis(now))
        .execute(&mut *tx)
        .await?;
        if saved.rows_affected() != 1 {
            return Err(StoreError::NotFound { entity: "patient" });
        }
        let event = AuditEvent::new("rems.patient", AuditOutcome::Ok)
            .site(site_id.as_str())
            .patient(patient_id.as_str());
        audit::insert(&mut tx, now, actor, &event).await?;
        tx.commit().await?;
        Ok(())
    }

    /// A patient's REMS enrollment, if recorded.
    #[tracing::instrument(skip_all)]
    pub async fn patient_rems(
        &self,
        site_id: &SiteId,
        patient_id: &PatientId,
    ) -> Result<Option<PatientRems>, StoreError> {
        let row = sqlx::query(
            "select r.patient_id, r.enrolled_on, r.submitted_by from patient_rems r
               join patients p on p.id = r.patient_id where p.site_id = $1 and r.patient_id = $2",
        )
        .bind(site_id.as_str())
        .bind(patient_id.as_str())
        .fetch_optional(&self.pool)
        .await?;
        row.map(|row| {
            let r = RowReader::new(&row, "patient_rems", "patient_id")?;
            Ok(PatientRems {
                enrolled_on: r.parsed("enrolled_on", |s| s.parse::<Date>())?,
                submitted_by: r.parsed("submitted_by", |s| {
                    RemsChannel::parse(s).ok_or("not online or fax")
                })?,
            })
        })
        .transpose()
    }
}

//! Patients: demographics only for now. Every write and every read by a person is audited.

use crate::audit::{self, Actor, AuditEvent, AuditOutcome};
use crate::row::{PatientId, RowReader, SiteId};
use crate::{Store, StoreError, millis};
use clinical::patient::{NewPatient, Sex};
use jiff::civil::Date;

/// A stored patient.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatientRecord {
    /// Identifier.
    pub id: PatientId,
    /// The site the patient is registered at.
    pub site_id: SiteId,
    /// Medical record number: short, unique within the site, for people to read out.
    pub mrn: String,
    /// Given name.
    pub given_name: String,
    /// Family name.
    pub family_name: String,
    /// Date of birth.
    pub date_of_birth: Date,
    /// Administrative sex.
    pub sex: Sex,
    /// Telephone number.
    pub phone: Option<String>,
    /// Email address.
    pub email: Option<String>,
    /// Whether demo seeding made it.
    pub is_demo: bool,
    /// When it was registered.
    pub created_at: jiff::Timestamp,
}

/// The order of a patient list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PatientSort {
    /// By family name, then given name.
    Name,
    /// Newest registrations first.
    Newest,
}

const PATIENT_COLUMNS: &str = "id, site_id, mrn, given_name, family_name, date_of_birth, sex, phone, email, is_demo, created_at";

/// The one decoder of `patients` rows.
fn patient_from_row(row: &sqlx::any::AnyRow) -> Result<PatientRecord, StoreError> {
    let r = RowReader::new(row, "patients", "id")?;
    Ok(PatientRecord {
        id: r.id("id", PatientId::parse)?,
        site_id: r.id("site_id", SiteId::parse)?,
        mrn: r.text("mrn")?,
        given_name: r.text("given_name")?,
        family_name: r.text("family_name")?,
        date_of_birth: r.parsed("date_of_birth", |s| s.parse::<Date>())?,
        sex: r.parsed("sex", Sex::parse)?,
        phone: r.opt_text("phone")?,
        email: r.opt_text("email")?,
        is_demo: r.flag("is_demo")?,
        created_at: r.instant("created_at")?,
    })
}

/// A medical record number: `K` and seven characters of Crockford's base 32 (no I, L, O, U),
/// so it can be read over the phone without confusion.
fn new_mrn() -> String {
    use rand::Rng;
    const ALPHABET: &[u8] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
    let mut rng = rand::rng();
    let tail: String = (0..7)
        .map(|_| char::from(ALPHABET[rng.random_range(0..ALPHABET.len())]))
        .collect();
    format!("K{tail}")
}

impl Store {
    /// Registers a patient at a site and audits the write.
    #[tracing::instrument(skip_all)]
    pub async fn create_patient(
        &self,
        actor: &Actor,
        site_id: &SiteId,
        patient: &NewPatient,
        now: jiff::Timestamp,
    ) -> Result<PatientRecord, StoreError> {
        self.insert_patient(actor, site_id, patient, false, now)
            .await
    }

    pub(crate) async fn insert_patient(
        &self,
        actor: &Actor,
        site_id: &SiteId,
        patient: &NewPatient,
        is_demo: bool,
        now: jiff::Timestamp,
    ) -> Result<PatientRecord, StoreError> {
        // 32^7 numbers per site: a clash is rare, and a few retries make it vanishingly so.
        let mut attempts = 0;
        loop {
            attempts += 1;
            match self
                .try_insert_patient(actor, site_id, patient, is_demo, now)
                .await
            {
                Err(StoreError::Conflict { constraint })
                    if constraint == "patients_mrn_key" && attempts < 5 => {}
                other => return other,
            }
        }
    }

    async fn try_insert_patient(
        &self,
        actor: &Actor,
        site_id: &SiteId,
        patient: &NewPatient,
        is_demo: bool,
        now: jiff::Timestamp,
    ) -> Result<PatientRecord, StoreError> {
        let id = PatientId::new();
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "insert into patients (id, site_id, mrn, given_name, family_name, date_of_birth, sex,
                                   phone, email, is_demo, created_at, updated_at, created_by)
             values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11, $12)",
        )
        .bind(id.as_str())
        .bind(site_id.as_str())
        .bind(new_mrn())
        .bind(patient.given_name().as_str())
        .bind(patient.family_name().as_str())
        .bind(patient.date_of_birth().date().to_string())
        .bind(patient.sex().code())
        .bind(patient.phone().map(|p| p.as_str()))
        .bind(patient.email().map(|e| e.as_str()))
        .bind(i64::from(is_demo))
        .bind(millis(now))
        .bind(actor_user_id(actor))
        .execute(&mut *tx)
        .await?;
        let event = AuditEvent::new("patient.create", AuditOutcome::Ok)
            .site(site_id.as_str())
            .entity("patient", id.as_str())
            .patient(id.as_str());
        audit::insert(&mut tx, now, actor, &event).await?;
        tx.commit().await?;
        self.fetch_patient(site_id, &id).await
    }

    async fn fetch_patient(
        &self,
        site_id: &SiteId,
        id: &PatientId,
    ) -> Result<PatientRecord, StoreError> {
        let row = sqlx::query(&format!(
            "select {PATIENT_COLUMNS} from patients where site_id = $1 and id = $2"
        ))
        .bind(site_id.as_str())
        .bind(id.as_str())
        .fetch_optional(&self.pool)
        .await?
        .ok_or(StoreError::NotFound { entity: "patient" })?;
        patient_from_row(&row)
    }

    /// One patient, read by a person: the read is audited.
    #[tracing::instrument(skip_all)]
    pub async fn patient(
        &self,
        actor: &Actor,
        site_id: &SiteId,
        id: &PatientId,
        now: jiff::Timestamp,
    ) -> Result<PatientRecord, StoreError> {
        let patient = self.fetch_patient(site_id, id).await?;
        let event = AuditEvent::new("patient.read", AuditOutcome::Ok)
            .site(site_id.as_str())
            .entity("patient", id.as_str())
            .patient(id.as_str());
        self.audit(actor, event, now).await?;
        Ok(patient)
    }

    /// Patients of a site whose name or record number contains `search` (all when empty), at
    /// most `limit`. The listing is audited with the number of rows shown.
    #[tracing::instrument(skip_all)]
    pub async fn patients(
        &self,
        actor: &Actor,
        site_id: &SiteId,
        search: &str,
        sort: PatientSort,
        limit: i64,
        now: jiff::Timestamp,
    ) -> Result<Vec<PatientRecord>, StoreError> {
        let order = match sort {
            PatientSort::Name => "lower(family_name), lower(given_name), id",
            PatientSort::Newest => "created_at desc, id desc",
        };
        let pattern = format!("%{}%", escape_like(&search.trim().to_lowercase()));
        let rows = sqlx::query(&format!(
            "select {PATIENT_COLUMNS} from patients
             where site_id = $1
               and (lower(given_name) like $2 escape '\\' or lower(family_name) like $2 escape '\\'
                    or lower(mrn) like $2 escape '\\')
             order by {order} limit $3"
        ))
        .bind(site_id.as_str())
        .bind(pattern)
        .bind(limit.clamp(1, 500))
        .fetch_all(&self.pool)
        .await?;
        let patients = rows
            .iter()
            .map(patient_from_row)
            .collect::<Result<Vec<_>, _>>()?;
        let event = AuditEvent::new("patient.list", AuditOutcome::Ok)
            .site(site_id.as_str())
            .detail(format!(
                "rows={}{}",
                patients.len(),
                if search.trim().is_empty() {
                    ""
                } else {
                    " search=yes"
                }
            ));
        self.audit(actor, event, now).await?;
        Ok(patients)
    }

    /// How many patients a site has.
    #[tracing::instrument(skip_all)]
    pub async fn patient_count(&self, site_id: &SiteId) -> Result<i64, StoreError> {
        Ok(
            sqlx::query_scalar("select count(*) from patients where site_id = $1")
                .bind(site_id.as_str())
                .fetch_one(&self.pool)
                .await?,
        )
    }
}

fn actor_user_id(actor: &Actor) -> Option<String> {
    actor.user_id().map(str::to_owned)
}

/// Escapes `%`, `_` and the escape character itself for a `like` pattern.
fn escape_like(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

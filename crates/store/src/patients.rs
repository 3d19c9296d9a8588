//! Patients: demographics only for now. Every write and every read by a person is audited.

use crate::audit::{self, Actor, AuditEvent, AuditOutcome};
use crate::row::{Columns, InquiryId, PatientId, RowReader, SiteId};

/// The conflict of registering an inquiry that is not open for registration (another site's,
/// or registered already).
const INQUIRY_TAKEN: &str = "inquiry_already_registered";
use crate::{Store, StoreError, millis};
use clinical::patient::{ContactDetails, NewPatient, PatientQuery, Sex};
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
    /// Postal address, one line per part.
    pub address: Option<String>,
    /// Who to call in an emergency.
    pub emergency_contact_name: Option<String>,
    /// Their telephone number.
    pub emergency_contact_phone: Option<String>,
    /// Whether demo seeding made it.
    pub is_demo: bool,
    /// When it was registered.
    pub created_at: jiff::Timestamp,
    /// When it was last changed.
    pub updated_at: jiff::Timestamp,
}

/// The order of a patient list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PatientSort {
    /// By family name, then given name.
    Name,
    /// Newest registrations first.
    Newest,
}

const PATIENT_COLUMNS: &str = "id, site_id, mrn, given_name, family_name, date_of_birth, sex, phone, email, \
     address, emergency_contact_name, emergency_contact_phone, is_demo, created_at, updated_at";

/// The one decoder of `patients` rows.
fn patient_from_row<R: Columns + ?Sized>(row: &R) -> Result<PatientRecord, StoreError> {
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
        address: r.opt_text("address")?,
        emergency_contact_name: r.opt_text("emergency_contact_name")?,
        emergency_contact_phone: r.opt_text("emergency_contact_phone")?,
        is_demo: r.flag("is_demo")?,
        created_at: r.instant("created_at")?,
        updated_at: r.instant("updated_at")?,
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
        match self
            .register_patient(actor, site_id, patient, None, false, now)
            .await?
        {
            Registration::Registered(record) => Ok(*record),
            // Unreachable without an inquiry or the check; an error, never a record made up.
            Registration::LikelySame(_) | Registration::InquiryTaken => Err(StoreError::Conflict {
                constraint: "patients (registration without a check)".to_owned(),
            }),
        }
    }

    /// Registers a patient, from an inquiry when one is given, in one transaction with its
    /// audit event. With `check_same`, the site's patients of the same name (case and accents
    /// aside) and birth date are looked for in that transaction first, under a lock on the
    /// site's row, and when there are any nothing is registered: they are returned, to ask the
    /// person registering whether this is someone else (then registered with the check off).
    /// Two registrations of one person at once (a double click, a retried request) make one
    /// record and one answer of likely duplicates.
    #[tracing::instrument(skip_all)]
    pub async fn register_patient(
        &self,
        actor: &Actor,
        site_id: &SiteId,
        patient: &NewPatient,
        inquiry: Option<&InquiryId>,
        check_same: bool,
        now: jiff::Timestamp,
    ) -> Result<Registration, StoreError> {
        match self
            .insert_patient(
                actor,
                site_id,
                patient,
                Registering {
                    inquiry,
                    is_demo: false,
                    check_same,
                },
                now,
            )
            .await
        {
            Err(StoreError::Conflict { constraint }) if constraint == INQUIRY_TAKEN => {
                Ok(Registration::InquiryTaken)
            }
            other => other,
        }
    }

    /// Registers a patient from a public inquiry in one transaction: the record, the inquiry
    /// linked to it and marked booked for intake, and the audit event. `None` when the inquiry
    /// is not the site's or was registered already (two registrations at once make one patient).
    #[tracing::instrument(skip_all)]
    pub async fn create_patient_from_inquiry(
        &self,
        actor: &Actor,
        site_id: &SiteId,
        inquiry: &InquiryId,
        patient: &NewPatient,
        now: jiff::Timestamp,
    ) -> Result<Option<PatientRecord>, StoreError> {
        match self
            .register_patient(actor, site_id, patient, Some(inquiry), false, now)
            .await?
        {
            Registration::Registered(record) => Ok(Some(*record)),
            // ok: no check was asked for, so no likely duplicates come back.
            Registration::InquiryTaken | Registration::LikelySame(_) => Ok(None),
        }
    }

    pub(crate) async fn insert_patient(
        &self,
        actor: &Actor,
        site_id: &SiteId,
        patient: &NewPatient,
        how: Registering<'_>,
        now: jiff::Timestamp,
    ) -> Result<Registration, StoreError> {
        // 32^7 numbers per site: a clash is rare, and a few retries make it vanishingly so.
        let mut attempts = 0;
        loop {
            attempts += 1;
            match self
                .try_insert_patient(actor, site_id, patient, how, now)
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
        how: Registering<'_>,
        now: jiff::Timestamp,
    ) -> Result<Registration, StoreError> {
        let Registering {
            inquiry,
            is_demo,
            check_same,
        } = how;
        let id = PatientId::new();
        let mrn = new_mrn();
        let search_text = clinical::patient::search_key(
            patient.given_name().as_str(),
            patient.family_name().as_str(),
            &mrn,
        );
        let mut tx = self.pool.begin().await?;
        if check_same {
            // Registrations at a site take turns on its row (on SQLite this first write holds
            // the write lock), so two at once see each other's record.
            sqlx::query("update sites set name = name where id = $1")
                .bind(site_id.as_str())
                .execute(&mut *tx)
                .await?;
            let same = same_person_in(&mut tx, site_id, patient).await?;
            if !same.is_empty() {
                audit::insert(&mut tx, now, actor, &same_person_event(site_id, same.len())).await?;
                tx.commit().await?;
                return Ok(Registration::LikelySame(same));
            }
        }
        sqlx::query(
            "insert into patients (id, site_id, mrn, given_name, family_name, date_of_birth, sex,
                                   phone, email, is_demo, created_at, updated_at, created_by,
                                   search_text)
             values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11, $12, $13)",
        )
        .bind(id.as_str())
        .bind(site_id.as_str())
        .bind(&mrn)
        .bind(patient.given_name().as_str())
        .bind(patient.family_name().as_str())
        .bind(patient.date_of_birth().date().to_string())
        .bind(patient.sex().code())
        .bind(patient.phone().map(|p| p.as_str()))
        .bind(patient.email().map(|e| e.as_str()))
        .bind(i64::from(is_demo))
        .bind(millis(now))
        .bind(actor_user_id(actor))
        .bind(search_text)
        .execute(&mut *tx)
        .await?;
        let mut event = AuditEvent::new("patient.create", AuditOutcome::Ok)
            .site(site_id.as_str())
            .entity("patient", id.as_str())
            .patient(id.as_str());
        if let Some(inquiry) = inquiry {
            let staff = actor.user_id().and_then(crate::row::UserId::parse);
            if !crate::inquiries::link_to_patient(
                &mut tx,
                staff.as_ref(),
                site_id,
                inquiry,
                &id,
                now,
            )
            .await?
            {
                return Err(StoreError::Conflict {
                    constraint: INQUIRY_TAKEN.to_owned(),
                });
            }
            event = event.detail(format!("from_inquiry={inquiry}"));
        }
        audit::insert(&mut tx, now, actor, &event).await?;
        tx.commit().await?;
        self.fetch_patient(site_id, &id)
            .await
            .map(|record| Registration::Registered(Box::new(record)))
    }

    pub(crate) async fn fetch_patient(
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

    /// Patients of a site matching `search` (all when it is empty), at most `limit`: every word
    /// of the search must be in the given name, family name or record number, in any order and
    /// ignoring case and accents, and a date in the search must be the birth date (see
    /// [`PatientQuery`]). The listing is audited with the number of rows shown.
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
        let query = PatientQuery::parse(search);
        // One statement for both paths; only the placeholder differs (`?1` is SQLite's own).
        let sql = |mark: char| {
            let mut sql = format!("select {PATIENT_COLUMNS} from patients where site_id = {mark}1");
            let mut n = 1;
            for _ in &query.words {
                n += 1;
                sql.push_str(&format!(" and search_text like {mark}{n} escape '\\'"));
            }
            if query.birth_date.is_some() {
                n += 1;
                sql.push_str(&format!(" and date_of_birth = {mark}{n}"));
            }
            sql.push_str(&format!(" order by {order} limit {mark}{}", n + 1));
            sql
        };
        let mut texts = vec![site_id.as_str().to_owned()];
        texts.extend(
            query
                .words
                .iter()
                .map(|word| format!("%{}%", escape_like(word))),
        );
        texts.extend(query.birth_date.map(|date| date.to_string()));
        let limit = limit.clamp(1, 500);
        let patients = match &self.native {
            Some(native) => {
                let sql = sql('?');
                native
                    .read(move |conn| {
                        let mut args: Vec<rusqlite::types::Value> =
                            texts.iter().cloned().map(Into::into).collect();
                        args.push(limit.into());
                        crate::native::select_all(
                            conn,
                            &sql,
                            rusqlite::params_from_iter(args),
                            PATIENT_COLUMNS,
                            |row| patient_from_row(row),
                        )
                    })
                    .await?
            }
            None => {
                let sql = sql('$');
                let mut select = sqlx::query(&sql);
                for text in &texts {
                    select = select.bind(text.as_str());
                }
                let rows = select.bind(limit).fetch_all(&self.pool).await?;
                rows.iter()
                    .map(patient_from_row)
                    .collect::<Result<Vec<_>, _>>()?
            }
        };
        let event = AuditEvent::new("patient.list", AuditOutcome::Ok)
            .site(site_id.as_str())
            .detail(format!(
                "rows={}{}",
                patients.len(),
                if query.is_empty() { "" } else { " search=yes" }
            ));
        self.audit(actor, event, now).await?;
        Ok(patients)
    }

    /// Patients of a site with the same name (folded: case and accents do not count) and birth
    /// date as `patient`: the likely duplicates a registration should warn about. Audited as a
    /// listing.
    #[tracing::instrument(skip_all)]
    pub async fn same_person(
        &self,
        actor: &Actor,
        site_id: &SiteId,
        patient: &NewPatient,
        now: jiff::Timestamp,
    ) -> Result<Vec<PatientRecord>, StoreError> {
        let mut conn = self.pool.acquire().await?;
        let patients = same_person_in(&mut conn, site_id, patient).await?;
        if !patients.is_empty() {
            self.audit(actor, same_person_event(site_id, patients.len()), now)
                .await?;
        }
        Ok(patients)
    }

    /// Replaces a patient's contact details and audits the write, naming the fields that
    /// changed (never their values). Returns the record as stored.
    #[tracing::instrument(skip_all)]
    pub async fn update_contact(
        &self,
        actor: &Actor,
        site_id: &SiteId,
        id: &PatientId,
        details: &ContactDetails,
        now: jiff::Timestamp,
    ) -> Result<PatientRecord, StoreError> {
        let before = self.fetch_patient(site_id, id).await?;
        let after = [
            ("phone", details.phone.as_ref().map(|v| v.as_str())),
            ("email", details.email.as_ref().map(|v| v.as_str())),
            ("address", details.address.as_ref().map(|v| v.as_str())),
            (
                "emergency_contact_name",
                details.emergency_contact_name.as_ref().map(|v| v.as_str()),
            ),
            (
                "emergency_contact_phone",
                details.emergency_contact_phone.as_ref().map(|v| v.as_str()),
            ),
        ];
        let was = [
            before.phone.as_deref(),
            before.email.as_deref(),
            before.address.as_deref(),
            before.emergency_contact_name.as_deref(),
            before.emergency_contact_phone.as_deref(),
        ];
        let changed: Vec<&str> = after
            .iter()
            .zip(was)
            .filter(|((_, new), old)| *new != *old)
            .map(|((name, _), _)| *name)
            .collect();
        if changed.is_empty() {
            return Ok(before);
        }
        let mut tx = self.pool.begin().await?;
        let updated = sqlx::query(
            "update patients set phone = $3, email = $4, address = $5,
                    emergency_contact_name = $6, emergency_contact_phone = $7,
                    updated_at = $8, updated_by = $9
              where site_id = $1 and id = $2",
        )
        .bind(site_id.as_str())
        .bind(id.as_str())
        .bind(after[0].1)
        .bind(after[1].1)
        .bind(after[2].1)
        .bind(after[3].1)
        .bind(after[4].1)
        .bind(millis(now))
        .bind(actor_user_id(actor))
        .execute(&mut *tx)
        .await?;
        if updated.rows_affected() == 0 {
            return Err(StoreError::NotFound { entity: "patient" });
        }
        let event = AuditEvent::new("patient.update", AuditOutcome::Ok)
            .site(site_id.as_str())
            .entity("patient", id.as_str())
            .patient(id.as_str())
            .detail(format!("fields={}", changed.join(",")));
        audit::insert(&mut tx, now, actor, &event).await?;
        tx.commit().await?;
        self.fetch_patient(site_id, id).await
    }

    /// Fills the search text of records made before it existed (the migration that added it
    /// cannot fold accents; this runs once after migrating and finds nothing to do afterwards).
    pub(crate) async fn fill_patient_search_keys(&self) -> Result<(), StoreError> {
        loop {
            let rows = sqlx::query(
                "select id, given_name, family_name, mrn from patients
                  where search_text = '' limit 500",
            )
            .fetch_all(&self.pool)
            .await?;
            if rows.is_empty() {
                return Ok(());
            }
            let mut tx = self.pool.begin().await?;
            for row in &rows {
                let r = RowReader::new(row, "patients", "id")?;
                let key = clinical::patient::search_key(
                    &r.text("given_name")?,
                    &r.text("family_name")?,
                    &r.text("mrn")?,
                );
                sqlx::query("update patients set search_text = $1 where id = $2")
                    .bind(key)
                    .bind(r.text("id")?)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
        }
    }

    /// The id of the site's patient with record number `mrn`, whatever its case: identifiers
    /// only (an administrator filtering the audit trail), so it is not a read of the record.
    #[tracing::instrument(skip_all)]
    pub async fn patient_id_by_mrn(
        &self,
        site_id: &SiteId,
        mrn: &str,
    ) -> Result<Option<PatientId>, StoreError> {
        let row = sqlx::query("select id from patients where site_id = $1 and mrn = $2")
            .bind(site_id.as_str())
            .bind(mrn.trim().to_uppercase())
            .fetch_optional(&self.pool)
            .await?;
        row.map(|row| RowReader::new(&row, "patients", "id")?.id("id", PatientId::parse))
            .transpose()
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

/// How a patient is registered: from an inquiry or not, as demo data or not, looking for the
/// same person first or not.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Registering<'a> {
    pub(crate) inquiry: Option<&'a InquiryId>,
    pub(crate) is_demo: bool,
    /// Registers only when no patient of the site has the same name and birth date.
    pub(crate) check_same: bool,
}

/// What registering a patient did.
#[derive(Debug)]
pub enum Registration {
    /// Registered: the new record.
    Registered(Box<PatientRecord>),
    /// Not registered: the site's patients of the same name and birth date, likely the same
    /// person (at most 20).
    LikelySame(Vec<PatientRecord>),
    /// Not registered: the inquiry is not the site's or was registered already.
    InquiryTaken,
}

/// The site's patients of the same name (folded: case and accents do not count) and birth date.
async fn same_person_in(
    conn: &mut sqlx::AnyConnection,
    site_id: &SiteId,
    patient: &NewPatient,
) -> Result<Vec<PatientRecord>, StoreError> {
    let key = clinical::patient::name_key(
        patient.given_name().as_str(),
        patient.family_name().as_str(),
    );
    let rows = sqlx::query(&format!(
        "select {PATIENT_COLUMNS} from patients
         where site_id = $1 and date_of_birth = $2 and search_text like $3 escape '\\'
         order by created_at, id limit 20"
    ))
    .bind(site_id.as_str())
    .bind(patient.date_of_birth().date().to_string())
    .bind(format!("{}%", escape_like(&key)))
    .fetch_all(&mut *conn)
    .await?;
    rows.iter().map(patient_from_row).collect()
}

/// The audit event of a look for likely duplicates that found some: a listing.
fn same_person_event(site_id: &SiteId, rows: usize) -> AuditEvent {
    AuditEvent::new("patient.list", AuditOutcome::Ok)
        .site(site_id.as_str())
        .detail(format!("rows={rows} duplicate_check=yes"))
}

//! Public inquiries: written by anyone from the public page (contact details only), worked by the
//! front desk (each change kept with who and when), turned into a patient record, and purged after
//! the clinic's retention period.

use clinical::inquiry::{ContactTime, HeardFrom, Inquiry, InquiryStatus};

use crate::audit::{self, Actor, AuditEvent, AuditOutcome};
use crate::row::{InquiryId, PatientId, RowReader, SiteId, UserId};
use crate::users::User;
use crate::{Store, StoreError, millis};

/// A stored inquiry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InquiryRecord {
    /// Identifier.
    pub id: InquiryId,
    /// Given name.
    pub given_name: String,
    /// Family name.
    pub family_name: String,
    /// Telephone number.
    pub phone: Option<String>,
    /// Email address.
    pub email: Option<String>,
    /// Preferred contact times.
    pub contact_times: Vec<ContactTime>,
    /// How they heard of the clinic.
    pub heard_from: Option<HeardFrom>,
    /// Their question.
    pub question: Option<String>,
    /// Where it stands.
    pub status: InquiryStatus,
    /// The patient record it became, once registered.
    pub patient_id: Option<PatientId>,
    /// When it arrived.
    pub created_at: jiff::Timestamp,
    /// When it last changed.
    pub updated_at: jiff::Timestamp,
}

/// One change of an inquiry's status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InquiryChange {
    /// The status it moved to.
    pub status: InquiryStatus,
    /// Who changed it (none for the arrival).
    pub by: Option<String>,
    /// When.
    pub at: jiff::Timestamp,
    /// What the staff member noted.
    pub note: Option<String>,
}

/// The longest note on a status change, in characters.
pub const MAX_INQUIRY_NOTE_CHARS: usize = 500;

const INQUIRY_COLUMNS: &str = "id, given_name, family_name, phone, email, contact_times, heard_from, \
     question, status, patient_id, created_at, updated_at";

/// The one decoder of `inquiries` rows.
fn inquiry_from_row(row: &sqlx::any::AnyRow) -> Result<InquiryRecord, StoreError> {
    let r = RowReader::new(row, "inquiries", "id")?;
    let contact_times = r
        .text_list("contact_times")?
        .iter()
        .map(|code| {
            ContactTime::parse(code).ok_or_else(|| {
                r.corrupt("contact_times", format!("'{code}' is not a contact time"))
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let heard_from = match r.opt_text("heard_from")? {
        None => None,
        Some(code) => Some(
            HeardFrom::parse(&code)
                .ok_or_else(|| r.corrupt("heard_from", format!("'{code}' is not a source")))?,
        ),
    };
    Ok(InquiryRecord {
        id: r.id("id", InquiryId::parse)?,
        given_name: r.text("given_name")?,
        family_name: r.text("family_name")?,
        phone: r.opt_text("phone")?,
        email: r.opt_text("email")?,
        contact_times,
        heard_from,
        question: r.opt_text("question")?,
        status: r.parsed("status", |s| InquiryStatus::parse(s).ok_or("not a status"))?,
        patient_id: r.opt_id("patient_id", PatientId::parse)?,
        created_at: r.instant("created_at")?,
        updated_at: r.instant("updated_at")?,
    })
}

fn json_codes(codes: impl Iterator<Item = &'static str>) -> String {
    serde_json::Value::from(codes.collect::<Vec<_>>()).to_string()
}

impl Store {
    /// Stores an inquiry from the public page for a site, with its arrival as the first change.
    /// Audited as an anonymous write naming only the inquiry's id.
    #[tracing::instrument(skip_all)]
    pub async fn create_inquiry(
        &self,
        site_id: &SiteId,
        inquiry: &Inquiry,
        now: jiff::Timestamp,
    ) -> Result<InquiryId, StoreError> {
        let id = InquiryId::new();
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "insert into inquiries (id, site_id, given_name, family_name, phone, email,
                                    contact_times, heard_from, question, status, created_at, updated_at)
             values ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'new', $10, $10)",
        )
        .bind(id.as_str())
        .bind(site_id.as_str())
        .bind(inquiry.given_name.as_str())
        .bind(inquiry.family_name.as_str())
        .bind(inquiry.phone.as_ref().map(|p| p.as_str()))
        .bind(inquiry.email.as_ref().map(|e| e.as_str()))
        .bind(json_codes(inquiry.contact_times.iter().map(|c| c.code())))
        .bind(inquiry.heard_from.map(HeardFrom::code))
        .bind(inquiry.question.as_deref())
        .bind(millis(now))
        .execute(&mut *tx)
        .await?;
        insert_change(&mut tx, &id, InquiryStatus::New, None, None, now).await?;
        let event = AuditEvent::new("inquiry.create", AuditOutcome::Ok)
            .site(site_id.as_str())
            .entity("inquiry", id.as_str());
        audit::insert(
            &mut tx,
            now,
            &Actor::anonymous("public inquiry page"),
            &event,
        )
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    /// A site's inquiries of one status, or of every status, at most `limit` (1 to 1,000): of
    /// a status still being worked ([`InquiryStatus::is_open`]) oldest first, as a queue is
    /// answered; of the others, and of every status together, newest first. Audited as a
    /// listing.
    #[tracing::instrument(skip_all)]
    pub async fn inquiries(
        &self,
        actor: &Actor,
        site_id: &SiteId,
        status: Option<InquiryStatus>,
        limit: i64,
        now: jiff::Timestamp,
    ) -> Result<Vec<InquiryRecord>, StoreError> {
        let order = if status.is_some_and(InquiryStatus::is_open) {
            "created_at, id"
        } else {
            "created_at desc, id desc"
        };
        let rows = sqlx::query(&format!(
            "select {INQUIRY_COLUMNS} from inquiries
              where site_id = $1 and ($2 = '' or status = $2)
              order by {order} limit $3"
        ))
        .bind(site_id.as_str())
        .bind(status.map_or("", InquiryStatus::code))
        .bind(limit.clamp(1, 1000))
        .fetch_all(&self.pool)
        .await?;
        let list = rows
            .iter()
            .map(inquiry_from_row)
            .collect::<Result<Vec<_>, _>>()?;
        let event = AuditEvent::new("inquiry.list", AuditOutcome::Ok)
            .site(site_id.as_str())
            .detail(format!("rows={}", list.len()));
        self.audit(actor, event, now).await?;
        Ok(list)
    }

    /// How many inquiries a site holds of each status, every status listed (zero included), in
    /// the order of the work. Counts only: nothing about a person is read, so nothing is
    /// audited.
    #[tracing::instrument(skip_all)]
    pub async fn inquiry_counts(
        &self,
        site_id: &SiteId,
    ) -> Result<Vec<(InquiryStatus, i64)>, StoreError> {
        let rows = sqlx::query(
            "select status, count(*) as n from inquiries where site_id = $1 group by status",
        )
        .bind(site_id.as_str())
        .fetch_all(&self.pool)
        .await?;
        let mut counts: Vec<(InquiryStatus, i64)> =
            InquiryStatus::ALL.into_iter().map(|s| (s, 0)).collect();
        for row in &rows {
            let r = RowReader::new(row, "inquiries", "status")?;
            let status = r.parsed("status", |s| InquiryStatus::parse(s).ok_or("not a status"))?;
            let n = r.int("n")?;
            if let Some(slot) = counts.iter_mut().find(|(s, _)| *s == status) {
                slot.1 = n;
            }
        }
        Ok(counts)
    }

    /// One inquiry of a site with its changes, oldest first. Audited as a read.
    #[tracing::instrument(skip_all)]
    pub async fn inquiry(
        &self,
        actor: &Actor,
        site_id: &SiteId,
        id: &InquiryId,
        now: jiff::Timestamp,
    ) -> Result<(InquiryRecord, Vec<InquiryChange>), StoreError> {
        let row = sqlx::query(&format!(
            "select {INQUIRY_COLUMNS} from inquiries where site_id = $1 and id = $2"
        ))
        .bind(site_id.as_str())
        .bind(id.as_str())
        .fetch_optional(&self.pool)
        .await?
        .ok_or(StoreError::NotFound { entity: "inquiry" })?;
        let record = inquiry_from_row(&row)?;
        let rows = sqlx::query(
            "select c.id, c.status, c.changed_at, c.note, u.display_name
               from inquiry_changes c left join users u on u.id = c.changed_by
              where c.inquiry_id = $1 order by c.changed_at, c.id",
        )
        .bind(id.as_str())
        .fetch_all(&self.pool)
        .await?;
        let changes = rows
            .iter()
            .map(|row| {
                let r = RowReader::new(row, "inquiry_changes", "id")?;
                Ok(InquiryChange {
                    status: r
                        .parsed("status", |s| InquiryStatus::parse(s).ok_or("not a status"))?,
                    by: r.opt_text("display_name")?,
                    at: r.instant("changed_at")?,
                    note: r.opt_text("note")?,
                })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        let event = AuditEvent::new("inquiry.read", AuditOutcome::Ok)
            .site(site_id.as_str())
            .entity("inquiry", id.as_str());
        self.audit(actor, event, now).await?;
        Ok((record, changes))
    }

    /// Moves an inquiry of the staff member's site to `status`, keeping the change with who,
    /// when and the note; one transaction with its audit event.
    #[tracing::instrument(skip_all)]
    pub async fn set_inquiry_status(
        &self,
        staff: &User,
        id: &InquiryId,
        status: InquiryStatus,
        note: Option<&str>,
        now: jiff::Timestamp,
    ) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        let changed = sqlx::query(
            "update inquiries set status = $3, updated_at = $4 where id = $1 and site_id = $2",
        )
        .bind(id.as_str())
        .bind(staff.site_id.as_str())
        .bind(status.code())
        .bind(millis(now))
        .execute(&mut *tx)
        .await?;
        if changed.rows_affected() != 1 {
            return Err(StoreError::NotFound { entity: "inquiry" });
        }
        insert_change(&mut tx, id, status, Some(&staff.id), note, now).await?;
        let event = AuditEvent::new("inquiry.status", AuditOutcome::Ok)
            .site(staff.site_id.as_str())
            .entity("inquiry", id.as_str())
            .detail(format!("status={}", status.code()));
        audit::insert(&mut tx, now, &Actor::user(staff), &event).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Deletes the inquiries that arrived before `before` (the clinic's retention period), with
    /// their changes; the patient records made from them stay. Returns how many went; audited
    /// by the system with the count. Safe to run from several processes at once.
    #[tracing::instrument(skip_all)]
    pub async fn purge_inquiries(
        &self,
        before: jiff::Timestamp,
        now: jiff::Timestamp,
    ) -> Result<u64, StoreError> {
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "delete from inquiry_changes
              where inquiry_id in (select id from inquiries where created_at < $1)",
        )
        .bind(millis(before))
        .execute(&mut *tx)
        .await?;
        let gone = sqlx::query("delete from inquiries where created_at < $1")
            .bind(millis(before))
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if gone > 0 {
            let event =
                AuditEvent::new("inquiry.purge", AuditOutcome::Ok).detail(format!("rows={gone}"));
            audit::insert(&mut tx, now, &Actor::system("retention"), &event).await?;
        }
        tx.commit().await?;
        Ok(gone)
    }
}

/// Links an inquiry to the patient registered from it and marks it booked for intake, inside
/// the registration's transaction; `false` when the inquiry is not the site's or was already
/// registered (so two registrations at once make one patient).
pub(crate) async fn link_to_patient(
    conn: &mut sqlx::AnyConnection,
    staff: Option<&UserId>,
    site_id: &SiteId,
    inquiry: &InquiryId,
    patient: &PatientId,
    now: jiff::Timestamp,
) -> Result<bool, StoreError> {
    let linked = sqlx::query(
        "update inquiries set patient_id = $3, status = 'booked_for_intake', updated_at = $4
          where id = $1 and site_id = $2 and patient_id is null",
    )
    .bind(inquiry.as_str())
    .bind(site_id.as_str())
    .bind(patient.as_str())
    .bind(millis(now))
    .execute(&mut *conn)
    .await?;
    if linked.rows_affected() != 1 {
        return Ok(false);
    }
    insert_change(
        conn,
        inquiry,
        InquiryStatus::BookedForIntake,
        staff,
        Some("registered as a patient"),
        now,
    )
    .await?;
    Ok(true)
}

async fn insert_change(
    conn: &mut sqlx::AnyConnection,
    inquiry: &InquiryId,
    status: InquiryStatus,
    by: Option<&UserId>,
    note: Option<&str>,
    now: jiff::Timestamp,
) -> Result<(), StoreError> {
    let note: Option<String> = note
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .map(|n| n.chars().take(MAX_INQUIRY_NOTE_CHARS).collect());
    sqlx::query(
        "insert into inquiry_changes (id, inquiry_id, status, changed_by, changed_at, note)
         values ($1, $2, $3, $4, $5, $6)",
    )
    .bind(crate::new_id())
    .bind(inquiry.as_str())
    .bind(status.code())
    .bind(by.map(UserId::as_str))
    .bind(millis(now))
    .bind(note)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

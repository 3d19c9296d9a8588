//! The candidate's self-screening questionnaire: a single-use link made by staff, the answers
//! stored once (the link is closed in the same transaction), and the latest answers read back
//! for the clinician's screening.

use std::collections::BTreeSet;

use clinical::screening::Condition;

use crate::audit::{self, Actor, AuditEvent, AuditOutcome};
use crate::row::{PatientId, RowReader, SiteId};
use crate::users::User;
use crate::{NewLink, Store, StoreError, millis, random_hex, token_hash};

/// What a self-screening link leads to now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScreeningLinkState {
    /// Usable.
    Open {
        /// Whose questionnaire it is.
        patient_id: PatientId,
        /// Until when.
        expires_at: jiff::Timestamp,
    },
    /// Already answered.
    Used,
    /// Past its time.
    Expired,
    /// Withdrawn by staff.
    Revoked,
    /// No such link.
    Unknown,
}

/// A patient's answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SelfScreeningRecord {
    /// Conditions the patient answered "yes" to.
    pub yes: BTreeSet<Condition>,
    /// Conditions the patient was not sure about.
    pub not_sure: BTreeSet<Condition>,
    /// When.
    pub submitted_at: jiff::Timestamp,
}

fn codes(set: &BTreeSet<Condition>) -> String {
    serde_json::Value::from(set.iter().map(|c| c.code()).collect::<Vec<_>>()).to_string()
}

fn conditions(r: &RowReader<'_>, column: &'static str) -> Result<BTreeSet<Condition>, StoreError> {
    r.text_list(column)?
        .iter()
        .map(|c| {
            Condition::parse(c)
                .ok_or_else(|| r.corrupt(column, format!("'{c}' is not a screening condition")))
        })
        .collect()
}

impl Store {
    /// Makes a single-use self-screening link for a patient of the creator's site.
    #[tracing::instrument(skip_all)]
    pub async fn create_screening_link(
        &self,
        creator: &User,
        patient_id: &PatientId,
        valid_for: jiff::SignedDuration,
        now: jiff::Timestamp,
    ) -> Result<NewLink, StoreError> {
        let secret = random_hex(24);
        let expires_at = now.checked_add(valid_for).unwrap_or(now);
        let mut tx = self.pool.begin().await?;
        let made = sqlx::query(
            "insert into self_screening_links (token_hash, patient_id, created_by, created_at,
                                               expires_at)
             select $1, p.id, $3, $4, $5 from patients p where p.id = $2 and p.site_id = $6",
        )
        .bind(token_hash(&secret))
        .bind(patient_id.as_str())
        .bind(creator.id.as_str())
        .bind(millis(now))
        .bind(millis(expires_at))
        .bind(creator.site_id.as_str())
        .execute(&mut *tx)
        .await?;
        if made.rows_affected() != 1 {
            return Err(StoreError::NotFound { entity: "patient" });
        }
        let event = AuditEvent::new("self_screening_link.create", AuditOutcome::Ok)
            .site(creator.site_id.as_str())
            .patient(patient_id.as_str());
        audit::insert(&mut tx, now, &Actor::user(creator), &event).await?;
        tx.commit().await?;
        Ok(NewLink { secret, expires_at })
    }

    /// What a self-screening link leads to now.
    #[tracing::instrument(skip_all)]
    pub async fn screening_link(
        &self,
        secret: &str,
        now: jiff::Timestamp,
    ) -> Result<ScreeningLinkState, StoreError> {
        let row = sqlx::query(
            "select token_hash, patient_id, expires_at, used_at, revoked_at
               from self_screening_links where token_hash = $1",
        )
        .bind(token_hash(secret))
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else {
            return Ok(ScreeningLinkState::Unknown);
        };
        let r = RowReader::new(&row, "self_screening_links", "token_hash")?;
        if r.opt_instant("used_at")?.is_some() {
            return Ok(ScreeningLinkState::Used);
        }
        if r.opt_instant("revoked_at")?.is_some() {
            return Ok(ScreeningLinkState::Revoked);
        }
        let expires_at = r.instant("expires_at")?;
        if expires_at <= now {
            return Ok(ScreeningLinkState::Expired);
        }
        Ok(ScreeningLinkState::Open {
            patient_id: r.id("patient_id", PatientId::parse)?,
            expires_at,
        })
    }

    /// Stores the answers given through a link, once; `false` when the link is not open (used,
    /// revoked, expired or unknown), so two submissions store one.
    #[tracing::instrument(skip_all)]
    pub async fn submit_self_screening(
        &self,
        secret: &str,
        yes: &BTreeSet<Condition>,
        not_sure: &BTreeSet<Condition>,
        now: jiff::Timestamp,
    ) -> Result<bool, StoreError> {
        let hash = token_hash(secret);
        let mut tx = self.pool.begin().await?;
        let closed = sqlx::query(
            "update self_screening_links set used_at = $2
              where token_hash = $1 and used_at is null and revoked_at is null and expires_at > $2",
        )
        .bind(&hash)
        .bind(millis(now))
        .execute(&mut *tx)
        .await?;
        if closed.rows_affected() != 1 {
            return Ok(false);
        }
        let row = sqlx::query(
            "select l.patient_id, p.site_id from self_screening_links l
               join patients p on p.id = l.patient_id where l.token_hash = $1",
        )
        .bind(&hash)
        .fetch_one(&mut *tx)
        .await?;
        let r = RowReader::new(&row, "self_screening_links", "patient_id")?;
        let patient_id = r.id("patient_id", PatientId::parse)?;
        let site_id = r.id("site_id", SiteId::parse)?;
        sqlx::query(
            "insert into self_screenings (id, patient_id, link_hash, answered_yes,
                                          answered_not_sure, submitted_at)
             values ($1, $2, $3, $4, $5, $6)",
        )
        .bind(crate::new_id())
        .bind(patient_id.as_str())
        .bind(&hash)
        .bind(codes(yes))
        .bind(codes(not_sure))
        .bind(millis(now))
        .execute(&mut *tx)
        .await?;
        let event = AuditEvent::new("self_screening.submit", AuditOutcome::Ok)
            .site(site_id.as_str())
            .patient(patient_id.as_str());
        audit::insert(&mut tx, now, &Actor::anonymous("patient link"), &event).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// The patient's latest self-screening answers, if any; audited as a read.
    #[tracing::instrument(skip_all)]
    pub async fn latest_self_screening(
        &self,
        actor: &Actor,
        site_id: &SiteId,
        patient_id: &PatientId,
        now: jiff::Timestamp,
    ) -> Result<Option<SelfScreeningRecord>, StoreError> {
        let row = sqlx::query(
            "select s.id, s.answered_yes, s.answered_not_sure, s.submitted_at
               from self_screenings s join patients p on p.id = s.patient_id
              where p.site_id = $1 and s.patient_id = $2
              order by s.submitted_at desc, s.id desc limit 1",
        )
        .bind(site_id.as_str())
        .bind(patient_id.as_str())
        .fetch_optional(&self.pool)
        .await?;
        let record = match row {
            None => None,
            Some(row) => {
                let r = RowReader::new(&row, "self_screenings", "id")?;
                Some(SelfScreeningRecord {
                    yes: conditions(&r, "answered_yes")?,
                    not_sure: conditions(&r, "answered_not_sure")?,
                    submitted_at: r.instant("submitted_at")?,
                })
            }
        };
        let event = AuditEvent::new("self_screening.read", AuditOutcome::Ok)
            .site(site_id.as_str())
            .patient(patient_id.as_str());
        self.audit(actor, event, now).await?;
        Ok(record)
    }
}

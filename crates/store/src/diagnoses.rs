//! A patient's diagnoses: codes from `clinical::diagnoses`, recorded and ended (never deleted),
//! every write and read by a person audited.

use clinical::diagnoses::Diagnosis;

use crate::audit::{self, Actor, AuditEvent, AuditOutcome};
use crate::row::{PatientId, RowReader, SiteId};
use crate::{Store, StoreError, millis};

/// A stored diagnosis.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiagnosisRecord {
    /// Identifier (for ending it).
    pub id: String,
    /// The diagnosis.
    pub diagnosis: &'static Diagnosis,
    /// Who recorded it.
    pub recorded_by: Option<String>,
    /// When.
    pub recorded_at: jiff::Timestamp,
    /// Who ended it and when, once it is no longer current.
    pub ended: Option<(Option<String>, jiff::Timestamp)>,
}

impl Store {
    /// Records a diagnosis for a patient of the site, unless the same code is current already;
    /// `false` then. Audited as a write, naming no code.
    #[tracing::instrument(skip_all)]
    pub async fn add_diagnosis(
        &self,
        actor: &Actor,
        site_id: &SiteId,
        patient_id: &PatientId,
        diagnosis: &Diagnosis,
        now: jiff::Timestamp,
    ) -> Result<bool, StoreError> {
        let mut tx = self.pool.begin().await?;
        // Take the patient's row first (a write lock on both databases), so two additions of
        // one code at once cannot both pass the check below.
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
        let added = sqlx::query(
            "insert into patient_diagnoses (id, patient_id, code, recorded_by, recorded_at)
             select $1, $2, $3, $4, $5
              where not exists (select 1 from patient_diagnoses
                                 where patient_id = $2 and code = $3 and ended_at is null)",
        )
        .bind(crate::new_id())
        .bind(patient_id.as_str())
        .bind(diagnosis.code)
        .bind(actor.user_id())
        .bind(millis(now))
        .execute(&mut *tx)
        .await?;
        if added.rows_affected() == 0 {
            return Ok(false);
        }
        let event = AuditEvent::new("diagnosis.add", AuditOutcome::Ok)
            .site(site_id.as_str())
            .patient(patient_id.as_str());
        audit::insert(&mut tx, now, actor, &event).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Ends a current diagnosis (it stays on the record as ended); `false` when there was no
    /// such current diagnosis. Audited as a write.
    #[tracing::instrument(skip_all)]
    pub async fn end_diagnosis(
        &self,
        actor: &Actor,
        site_id: &SiteId,
        patient_id: &PatientId,
        id: &str,
        now: jiff::Timestamp,
    ) -> Result<bool, StoreError> {
        let mut tx = self.pool.begin().await?;
        let ended = sqlx::query(
            "update patient_diagnoses set ended_at = $4, ended_by = $5
              where id = $1 and patient_id = $2 and ended_at is null
                and exists (select 1 from patients p where p.id = $2 and p.site_id = $3)",
        )
        .bind(id)
        .bind(patient_id.as_str())
        .bind(site_id.as_str())
        .bind(millis(now))
        .bind(actor.user_id())
        .execute(&mut *tx)
        .await?;
        if ended.rows_affected() != 1 {
            return Ok(false);
        }
        let event = AuditEvent::new("diagnosis.end", AuditOutcome::Ok)
            .site(site_id.as_str())
            .patient(patient_id.as_str());
        audit::insert(&mut tx, now, actor, &event).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// A patient's diagnoses, current first, then ended, each newest first; audited as a read.
    #[tracing::instrument(skip_all)]
    pub async fn diagnoses(
        &self,
        actor: &Actor,
        site_id: &SiteId,
        patient_id: &PatientId,
        now: jiff::Timestamp,
    ) -> Result<Vec<DiagnosisRecord>, StoreError> {
        let rows = sqlx::query(
            "select d.id, d.code, d.recorded_at, d.ended_at, r.display_name as recorded_name,
                    e.display_name as ended_name
               from patient_diagnoses d
               join patients p on p.id = d.patient_id
               left join users r on r.id = d.recorded_by
               left join users e on e.id = d.ended_by
              where p.site_id = $1 and d.patient_id = $2
              order by case when d.ended_at is null then 0 else 1 end, d.recorded_at desc, d.id",
        )
        .bind(site_id.as_str())
        .bind(patient_id.as_str())
        .fetch_all(&self.pool)
        .await?;
        let list = rows
            .iter()
            .map(|row| {
                let r = RowReader::new(row, "patient_diagnoses", "id")?;
                let code = r.text("code")?;
                let diagnosis = clinical::diagnoses::find(&code)
                    .ok_or_else(|| r.corrupt("code", format!("'{code}' is not on the list")))?;
                Ok(DiagnosisRecord {
                    id: r.text("id")?,
                    diagnosis,
                    recorded_by: r.opt_text("recorded_name")?,
                    recorded_at: r.instant("recorded_at")?,
                    ended: match r.opt_instant("ended_at")? {
                        Some(at) => Some((r.opt_text("ended_name")?, at)),
                        None => None,
                    },
                })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        let event = AuditEvent::new("diagnosis.list", AuditOutcome::Ok)
            .site(site_id.as_str())
            .patient(patient_id.as_str())
            .detail(format!("rows={}", list.len()));
        self.audit(actor, event, now).await?;
        Ok(list)
    }
}

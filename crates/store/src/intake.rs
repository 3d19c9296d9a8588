//! Intake details, one row per patient: allergies, referring clinician, pregnancy status.

use clinical::patient::intake::{Allergies, IntakeDetails, Pregnancy};

use crate::audit::{self, Actor, AuditEvent, AuditOutcome};
use crate::row::{PatientId, RowReader, SiteId};
use crate::{Store, StoreError, millis};

/// The stored columns and the form field each belongs to, in form order (the allergy state
/// and list are one field).
const INTAKE_FIELDS: [(&str, &str); 6] = [
    ("allergies", "allergies"),
    ("allergy_list", "allergies"),
    ("referrer_name", "referrer_name"),
    ("referrer_practice", "referrer_practice"),
    ("referrer_phone", "referrer_phone"),
    ("pregnancy", "pregnancy"),
];

/// Stored intake details with who changed them last and when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IntakeRecord {
    /// Allergies.
    pub allergies: Allergies,
    /// The referring clinician's name.
    pub referrer_name: Option<String>,
    /// Their practice.
    pub referrer_practice: Option<String>,
    /// Their telephone.
    pub referrer_phone: Option<String>,
    /// Pregnancy status.
    pub pregnancy: Pregnancy,
    /// Who changed them last.
    pub updated_by: Option<String>,
    /// When.
    pub updated_at: jiff::Timestamp,
}

impl Store {
    /// A patient's intake details, `None` before any were saved; audited as a read.
    #[tracing::instrument(skip_all)]
    pub async fn intake(
        &self,
        actor: &Actor,
        site_id: &SiteId,
        patient_id: &PatientId,
        now: jiff::Timestamp,
    ) -> Result<Option<IntakeRecord>, StoreError> {
        let row = sqlx::query(
            "select i.patient_id, i.allergies, i.allergy_list, i.referrer_name, i.referrer_practice,
                    i.referrer_phone, i.pregnancy, i.updated_at, u.display_name
               from intake_details i
               join patients p on p.id = i.patient_id
               left join users u on u.id = i.updated_by
              where p.site_id = $1 and i.patient_id = $2",
        )
        .bind(site_id.as_str())
        .bind(patient_id.as_str())
        .fetch_optional(&self.pool)
        .await?;
        let record = match row {
            None => None,
            Some(row) => {
                let r = RowReader::new(&row, "intake_details", "patient_id")?;
                let list = r.text_list("allergy_list")?;
                let allergies = match r.text("allergies")?.as_str() {
                    "not_asked" => Allergies::NotAsked,
                    "none_known" => Allergies::NoneKnown,
                    "listed" => Allergies::Listed(list),
                    other => {
                        return Err(r.corrupt("allergies", format!("'{other}' is not a state")));
                    }
                };
                Some(IntakeRecord {
                    allergies,
                    referrer_name: r.opt_text("referrer_name")?,
                    referrer_practice: r.opt_text("referrer_practice")?,
                    referrer_phone: r.opt_text("referrer_phone")?,
                    pregnancy: r
                        .parsed("pregnancy", |s| Pregnancy::parse(s).ok_or("not a status"))?,
                    updated_by: r.opt_text("display_name")?,
                    updated_at: r.instant("updated_at")?,
                })
            }
        };
        let event = AuditEvent::new("intake.read", AuditOutcome::Ok)
            .site(site_id.as_str())
            .patient(patient_id.as_str());
        self.audit(actor, event, now).await?;
        Ok(record)
    }

    /// Saves a patient's intake details (one statement: insert or replace), audited as a write.
    #[tracing::instrument(skip_all)]
    pub async fn save_intake(
        &self,
        actor: &Actor,
        site_id: &SiteId,
        patient_id: &PatientId,
        details: &IntakeDetails,
        now: jiff::Timestamp,
    ) -> Result<(), StoreError> {
        let (state, list) = match &details.allergies {
            Allergies::NotAsked => ("not_asked", Vec::new()),
            Allergies::NoneKnown => ("none_known", Vec::new()),
            Allergies::Listed(l) => ("listed", l.clone()),
        };
        let mut tx = self.pool.begin().await?;
        // Take the patient's row first, so two saves at once are told apart in the trail.
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
        let before = sqlx::query(
            "select patient_id, allergies, allergy_list, referrer_name, referrer_practice,
                    referrer_phone, pregnancy
               from intake_details where patient_id = $1",
        )
        .bind(patient_id.as_str())
        .fetch_optional(&mut *tx)
        .await?;
        let list_text = serde_json::Value::from(list.clone()).to_string();
        let new_values = [
            Some(state),
            Some(list_text.as_str()),
            details.referrer_name.as_ref().map(|n| n.as_str()),
            details.referrer_practice.as_deref(),
            details.referrer_phone.as_ref().map(|p| p.as_str()),
            Some(details.pregnancy.code()),
        ];
        let mut changed: Vec<&str> = Vec::new();
        match &before {
            None => changed.push("all"),
            Some(row) => {
                let r = RowReader::new(row, "intake_details", "patient_id")?;
                for ((column, field), new) in INTAKE_FIELDS.iter().zip(new_values) {
                    if r.opt_text(column)?.as_deref() != new && !changed.contains(field) {
                        changed.push(field);
                    }
                }
            }
        }
        let saved = sqlx::query(
            "insert into intake_details (patient_id, allergies, allergy_list, referrer_name,
                                         referrer_practice, referrer_phone, pregnancy,
                                         updated_by, updated_at)
             select p.id, $3, $4, $5, $6, $7, $8, $9, $10 from patients p
              where p.id = $1 and p.site_id = $2
             on conflict (patient_id) do update set
                 allergies = excluded.allergies, allergy_list = excluded.allergy_list,
                 referrer_name = excluded.referrer_name,
                 referrer_practice = excluded.referrer_practice,
                 referrer_phone = excluded.referrer_phone, pregnancy = excluded.pregnancy,
                 updated_by = excluded.updated_by, updated_at = excluded.updated_at",
        )
        .bind(patient_id.as_str())
        .bind(site_id.as_str())
        .bind(state)
        .bind(serde_json::Value::from(list).to_string())
        .bind(details.referrer_name.as_ref().map(|n| n.as_str()))
        .bind(details.referrer_practice.as_deref())
        .bind(details.referrer_phone.as_ref().map(|p| p.as_str()))
        .bind(details.pregnancy.code())
        .bind(actor.user_id())
        .bind(millis(now))
        .execute(&mut *tx)
        .await?;
        if saved.rows_affected() != 1 {
            return Err(StoreError::NotFound { entity: "patient" });
        }
        let event = AuditEvent::new("intake.update", AuditOutcome::Ok)
            .site(site_id.as_str())
            .patient(patient_id.as_str())
            .detail(format!(
                "fields={}",
                if changed.is_empty() {
                    "none".to_owned()
                } else {
                    changed.join(",")
                }
            ));
        audit::insert(&mut tx, now, actor, &event).await?;
        tx.commit().await?;
        Ok(())
    }
}

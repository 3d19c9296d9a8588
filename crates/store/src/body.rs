//! Weight and height history per patient: clinical data, every write and read by a person audited.

use clinical::patient::body::Body;
use jiff::civil::Date;

use crate::audit::{self, Actor, AuditEvent, AuditOutcome};
use crate::row::{PatientId, RowReader, SiteId};
use crate::{Store, StoreError, millis};

/// A stored measurement.
#[derive(Debug, Clone, PartialEq)]
pub struct BodyRecord {
    /// The date it was taken.
    pub measured_on: Date,
    /// Weight, kg.
    pub weight_kg: Option<f64>,
    /// Height, cm.
    pub height_cm: Option<f64>,
    /// Who recorded it.
    pub recorded_by: Option<String>,
    /// When it was recorded.
    pub recorded_at: jiff::Timestamp,
}

/// Whole grams of a weight in kg (stored exactly as an integer).
fn grams(kg: f64) -> i64 {
    // ok: the weight was checked to lie in 2..=350 kg, far inside i64.
    (kg * 1000.0).round() as i64
}

/// Whole millimetres of a height in cm.
fn millimetres(cm: f64) -> i64 {
    // ok: the height was checked to lie in 40..=250 cm.
    (cm * 10.0).round() as i64
}

impl Store {
    /// Records a patient's weight and/or height for a day, audited as a write.
    #[tracing::instrument(skip_all)]
    pub async fn record_body(
        &self,
        actor: &Actor,
        site_id: &SiteId,
        patient_id: &PatientId,
        body: &Body,
        now: jiff::Timestamp,
    ) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        let stored = sqlx::query(
            "insert into body_measurements (id, patient_id, measured_on, weight_g, height_mm,
                                            recorded_by, recorded_at)
             select $1, p.id, $3, $4, $5, $6, $7 from patients p where p.id = $2 and p.site_id = $8",
        )
        .bind(crate::new_id())
        .bind(patient_id.as_str())
        .bind(body.measured_on.to_string())
        .bind(body.weight_kg.map(grams))
        .bind(body.height_cm.map(millimetres))
        .bind(actor.user_id())
        .bind(millis(now))
        .bind(site_id.as_str())
        .execute(&mut *tx)
        .await?;
        if stored.rows_affected() != 1 {
            return Err(StoreError::NotFound { entity: "patient" });
        }
        let event = AuditEvent::new("body.record", AuditOutcome::Ok)
            .site(site_id.as_str())
            .patient(patient_id.as_str());
        audit::insert(&mut tx, now, actor, &event).await?;
        tx.commit().await?;
        Ok(())
    }

    /// A patient's measurements, newest first; audited as a read.
    #[tracing::instrument(skip_all)]
    pub async fn body_history(
        &self,
        actor: &Actor,
        site_id: &SiteId,
        patient_id: &PatientId,
        now: jiff::Timestamp,
    ) -> Result<Vec<BodyRecord>, StoreError> {
        let rows = sqlx::query(
            "select b.id, b.measured_on, b.weight_g, b.height_mm, b.recorded_at, u.display_name
               from body_measurements b
               join patients p on p.id = b.patient_id
               left join users u on u.id = b.recorded_by
              where p.site_id = $1 and b.patient_id = $2
              order by b.measured_on desc, b.recorded_at desc, b.id",
        )
        .bind(site_id.as_str())
        .bind(patient_id.as_str())
        .fetch_all(&self.pool)
        .await?;
        let history = rows
            .iter()
            .map(|row| {
                let r = RowReader::new(row, "body_measurements", "id")?;
                let weight_g: Option<i64> = r.opt_int("weight_g")?;
                let height_mm: Option<i64> = r.opt_int("height_mm")?;
                Ok(BodyRecord {
                    measured_on: r.parsed("measured_on", |s| s.parse::<Date>())?,
                    weight_kg: weight_g.map(|g| g as f64 / 1000.0),
                    height_cm: height_mm.map(|mm| mm as f64 / 10.0),
                    recorded_by: r.opt_text("display_name")?,
                    recorded_at: r.instant("recorded_at")?,
                })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        let event = AuditEvent::new("body.list", AuditOutcome::Ok)
            .site(site_id.as_str())
            .patient(patient_id.as_str())
            .detail(format!("rows={}", history.len()));
        self.audit(actor, event, now).await?;
        Ok(history)
    }
}

//! Current medications, past antidepressant trials, screenings and the prescriber's decisions.
//!
//! A screening is stored with the input it read and the findings `clinical::screening` gave, as
//! JSON checked field by field when read back: a code that is no longer known is a corrupt row,
//! never a finding quietly dropped.

use std::collections::BTreeSet;

use clinical::medications::{AntidepressantTrial, Medication, MedicationClass, TrialResponse};
use clinical::screening::{
    Basis, BloodPressure, CheckedDecision, Condition, Decision, Finding, FindingClass,
    ScreeningInput,
};
use serde::{Deserialize, Serialize};

use crate::audit::{self, Actor, AuditEvent, AuditOutcome};
use crate::row::{PatientId, RowReader, ScreeningId, SiteId};
use crate::{Store, StoreError, millis};

type AnyQuery<'q> = sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>;

/// A stored medication.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MedicationRecord {
    /// Identifier (for ending it).
    pub id: String,
    /// The medication.
    pub medication: Medication,
    /// Who recorded it and when.
    pub recorded: (Option<String>, jiff::Timestamp),
    /// Who ended it and when, once the patient no longer takes it.
    pub ended: Option<(Option<String>, jiff::Timestamp)>,
}

/// A stored antidepressant trial.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrialRecord {
    /// Identifier (for striking it out).
    pub id: String,
    /// The trial.
    pub trial: AntidepressantTrial,
    /// Who recorded it and when.
    pub recorded: (Option<String>, jiff::Timestamp),
    /// Who struck it out as entered in error, and when.
    pub struck: Option<(Option<String>, jiff::Timestamp)>,
}

/// A prescriber's decision on a screening.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecisionRecord {
    /// The decision.
    pub decision: Decision,
    /// Why.
    pub reason: String,
    /// Why an absolute finding was overridden.
    pub justification: Option<String>,
    /// Who decided.
    pub decided_by: Option<String>,
    /// When.
    pub decided_at: jiff::Timestamp,
}

/// A stored screening.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScreeningRecord {
    /// Identifier.
    pub id: ScreeningId,
    /// What it read.
    pub input: ScreeningInput,
    /// What it found, heaviest first.
    pub findings: Vec<Finding>,
    /// Who recorded it.
    pub recorded_by: Option<String>,
    /// When.
    pub recorded_at: jiff::Timestamp,
    /// Decisions, newest first; the first stands.
    pub decisions: Vec<DecisionRecord>,
}

impl ScreeningRecord {
    /// The decision that stands, if any.
    pub fn decision(&self) -> Option<&DecisionRecord> {
        self.decisions.first()
    }
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct StoredInput {
    confirmed: Vec<String>,
    patient_reported: Vec<String>,
    age_years: u32,
    systolic_mmhg: Option<u16>,
    diastolic_mmhg: Option<u16>,
    medication_classes: Vec<String>,
    adequate_trials: Option<u32>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct StoredFinding {
    code: String,
    class: String,
    reason: String,
    source: String,
    basis: String,
}

fn codes<T: Copy>(set: &BTreeSet<T>, code: fn(T) -> &'static str) -> Vec<String> {
    set.iter().map(|c| code(*c).to_owned()).collect()
}

fn encode_input(input: &ScreeningInput) -> String {
    let stored = StoredInput {
        confirmed: codes(&input.confirmed, Condition::code),
        patient_reported: codes(&input.patient_reported, Condition::code),
        age_years: input.age_years,
        systolic_mmhg: input.blood_pressure.systolic_mmhg,
        diastolic_mmhg: input.blood_pressure.diastolic_mmhg,
        medication_classes: codes(&input.medication_classes, MedicationClass::code),
        adequate_trials: input.adequate_trials,
    };
    // ok: a struct of strings and numbers always serialises.
    serde_json::to_string(&stored).unwrap_or_default()
}

fn decode_set<T: Ord>(
    codes: &[String],
    parse: fn(&str) -> Option<T>,
) -> Result<BTreeSet<T>, String> {
    codes
        .iter()
        .map(|c| parse(c).ok_or_else(|| format!("'{c}' is not a known code")))
        .collect()
}

fn decode_input(text: &str) -> Result<ScreeningInput, String> {
    let s: StoredInput = serde_json::from_str(text).map_err(|e| e.to_string())?;
    Ok(ScreeningInput {
        confirmed: decode_set(&s.confirmed, Condition::parse)?,
        patient_reported: decode_set(&s.patient_reported, Condition::parse)?,
        age_years: s.age_years,
        blood_pressure: BloodPressure {
            systolic_mmhg: s.systolic_mmhg,
            diastolic_mmhg: s.diastolic_mmhg,
        },
        medication_classes: decode_set(&s.medication_classes, MedicationClass::parse)?,
        adequate_trials: s.adequate_trials,
    })
}

fn encode_findings(findings: &[Finding]) -> String {
    let stored: Vec<StoredFinding> = findings
        .iter()
        .map(|f| StoredFinding {
            code: f.code.clone(),
            class: f.class.code().to_owned(),
            reason: f.reason.clone(),
            source: f.source.clone(),
            basis: f.basis.code().to_owned(),
        })
        .collect();
    // ok: a list of strings always serialises.
    serde_json::to_string(&stored).unwrap_or_default()
}

fn decode_findings(text: &str) -> Result<Vec<Finding>, String> {
    let stored: Vec<StoredFinding> = serde_json::from_str(text).map_err(|e| e.to_string())?;
    stored
        .into_iter()
        .map(|f| {
            Ok(Finding {
                class: FindingClass::parse(&f.class)
                    .ok_or_else(|| format!("'{}' is not a finding class", f.class))?,
                basis: Basis::parse(&f.basis)
                    .ok_or_else(|| format!("'{}' is not a basis", f.basis))?,
                code: f.code,
                reason: f.reason,
                source: f.source,
            })
        })
        .collect()
}

fn who_when(
    r: &RowReader<'_>,
    name: &'static str,
    at: &'static str,
) -> Result<Option<(Option<String>, jiff::Timestamp)>, StoreError> {
    Ok(match r.opt_instant(at)? {
        Some(when) => Some((r.opt_text(name)?, when)),
        None => None,
    })
}

impl Store {
    /// Runs one write and, when it touched one row, its audit event, in one transaction.
    #[allow(clippy::too_many_arguments)]
    async fn audited_write<'q>(
        &self,
        actor: &Actor,
        site_id: &SiteId,
        patient_id: &PatientId,
        action: &'static str,
        now: jiff::Timestamp,
        sql: &'q str,
        bind: impl FnOnce(AnyQuery<'q>) -> AnyQuery<'q>,
    ) -> Result<bool, StoreError> {
        let mut tx = self.pool.begin().await?;
        let done = bind(sqlx::query(sql)).execute(&mut *tx).await?;
        if done.rows_affected() != 1 {
            return Ok(false);
        }
        let event = AuditEvent::new(action, AuditOutcome::Ok)
            .site(site_id.as_str())
            .patient(patient_id.as_str());
        audit::insert(&mut tx, now, actor, &event).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Records a current medication for a patient of the site; `false` when there is no such
    /// patient. Audited as a write, naming no drug.
    #[tracing::instrument(skip_all)]
    pub async fn add_medication(
        &self,
        actor: &Actor,
        site_id: &SiteId,
        patient_id: &PatientId,
        medication: &Medication,
        now: jiff::Timestamp,
    ) -> Result<bool, StoreError> {
        let id = crate::new_id();
        self.audited_write(
            actor,
            site_id,
            patient_id,
            "medication.add",
            now,
            "insert into patient_medications (id, patient_id, name, dose, class, recorded_by,
                                              recorded_at)
             select $1, p.id, $3, $4, $5, $6, $7 from patients p where p.id = $2 and p.site_id = $8",
            |q| {
                q.bind(id)
                    .bind(patient_id.as_str())
                    .bind(medication.name.clone())
                    .bind(medication.dose.clone())
                    .bind(medication.class.map(MedicationClass::code))
                    .bind(actor.user_id())
                    .bind(millis(now))
                    .bind(site_id.as_str())
            },
        )
        .await
    }

    /// Ends a current medication (kept as ended); `false` when there was no such one.
    #[tracing::instrument(skip_all)]
    pub async fn end_medication(
        &self,
        actor: &Actor,
        site_id: &SiteId,
        patient_id: &PatientId,
        id: &str,
        now: jiff::Timestamp,
    ) -> Result<bool, StoreError> {
        self.audited_write(
            actor,
            site_id,
            patient_id,
            "medication.end",
            now,
            "update patient_medications set ended_at = $4, ended_by = $5
              where id = $1 and patient_id = $2 and ended_at is null
                and exists (select 1 from patients p where p.id = $2 and p.site_id = $3)",
            |q| {
                q.bind(id.to_owned())
                    .bind(patient_id.as_str())
                    .bind(site_id.as_str())
                    .bind(millis(now))
                    .bind(actor.user_id())
            },
        )
        .await
    }

    /// Records a past antidepressant trial; `false` when there is no such patient.
    #[tracing::instrument(skip_all)]
    pub async fn add_trial(
        &self,
        actor: &Actor,
        site_id: &SiteId,
        patient_id: &PatientId,
        trial: &AntidepressantTrial,
        now: jiff::Timestamp,
    ) -> Result<bool, StoreError> {
        let id = crate::new_id();
        self.audited_write(
            actor,
            site_id,
            patient_id,
            "trial.add",
            now,
            "insert into antidepressant_trials (id, patient_id, drug, dose, weeks, response,
                                                adequate, recorded_by, recorded_at)
             select $1, p.id, $3, $4, $5, $6, $7, $8, $9 from patients p
              where p.id = $2 and p.site_id = $10",
            |q| {
                q.bind(id)
                    .bind(patient_id.as_str())
                    .bind(trial.drug.clone())
                    .bind(trial.dose.clone())
                    .bind(trial.weeks.map(i64::from))
                    .bind(trial.response.code())
                    .bind(i64::from(trial.adequate))
                    .bind(actor.user_id())
                    .bind(millis(now))
                    .bind(site_id.as_str())
            },
        )
        .await
    }

    /// Strikes out a trial entered in error (kept, struck); `false` when there was no such one.
    #[tracing::instrument(skip_all)]
    pub async fn strike_trial(
        &self,
        actor: &Actor,
        site_id: &SiteId,
        patient_id: &PatientId,
        id: &str,
        now: jiff::Timestamp,
    ) -> Result<bool, StoreError> {
        self.audited_write(
            actor,
            site_id,
            patient_id,
            "trial.strike",
            now,
            "update antidepressant_trials set struck_at = $4, struck_by = $5
              where id = $1 and patient_id = $2 and struck_at is null
                and exists (select 1 from patients p where p.id = $2 and p.site_id = $3)",
            |q| {
                q.bind(id.to_owned())
                    .bind(patient_id.as_str())
                    .bind(site_id.as_str())
                    .bind(millis(now))
                    .bind(actor.user_id())
            },
        )
        .await
    }

    /// A patient's medications (current first, each newest first) and antidepressant trials
    /// (newest first), in one audited read.
    #[tracing::instrument(skip_all)]
    pub async fn medication_history(
        &self,
        actor: &Actor,
        site_id: &SiteId,
        patient_id: &PatientId,
        now: jiff::Timestamp,
    ) -> Result<(Vec<MedicationRecord>, Vec<TrialRecord>), StoreError> {
        let rows = sqlx::query(
            "select m.id, m.name, m.dose, m.class, m.recorded_at, m.ended_at,
                    r.display_name as recorded_name, e.display_name as ended_name
               from patient_medications m
               join patients p on p.id = m.patient_id
               left join users r on r.id = m.recorded_by
               left join users e on e.id = m.ended_by
              where p.site_id = $1 and m.patient_id = $2
              order by case when m.ended_at is null then 0 else 1 end, m.recorded_at desc, m.id",
        )
        .bind(site_id.as_str())
        .bind(patient_id.as_str())
        .fetch_all(&self.pool)
        .await?;
        let medications = rows
            .iter()
            .map(|row| {
                let r = RowReader::new(row, "patient_medications", "id")?;
                let class = match r.opt_text("class")? {
                    None => None,
                    Some(c) => Some(MedicationClass::parse(&c).ok_or_else(|| {
                        r.corrupt("class", format!("'{c}' is not a medication class"))
                    })?),
                };
                Ok(MedicationRecord {
                    id: r.text("id")?,
                    medication: Medication {
                        name: r.text("name")?,
                        dose: r.text("dose")?,
                        class,
                    },
                    recorded: (r.opt_text("recorded_name")?, r.instant("recorded_at")?),
                    ended: who_when(&r, "ended_name", "ended_at")?,
                })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        let rows = sqlx::query(
            "select t.id, t.drug, t.dose, t.weeks, t.response, t.adequate, t.recorded_at,
                    t.struck_at, r.display_name as recorded_name, s.display_name as struck_name
               from antidepressant_trials t
               join patients p on p.id = t.patient_id
               left join users r on r.id = t.recorded_by
               left join users s on s.id = t.struck_by
              where p.site_id = $1 and t.patient_id = $2
              order by case when t.struck_at is null then 0 else 1 end, t.recorded_at desc, t.id",
        )
        .bind(site_id.as_str())
        .bind(patient_id.as_str())
        .fetch_all(&self.pool)
        .await?;
        let trials = rows
            .iter()
            .map(|row| {
                let r = RowReader::new(row, "antidepressant_trials", "id")?;
                let weeks = match r.opt_int("weeks")? {
                    None => None,
                    Some(w) => Some(u32::try_from(w).map_err(|_| {
                        r.corrupt("weeks", format!("{w} is not a number of weeks"))
                    })?),
                };
                Ok(TrialRecord {
                    id: r.text("id")?,
                    trial: AntidepressantTrial {
                        drug: r.text("drug")?,
                        dose: r.text("dose")?,
                        weeks,
                        response: r.parsed("response", |s| {
                            TrialResponse::parse(s).ok_or("not a response")
                        })?,
                        adequate: r.flag("adequate")?,
                    },
                    recorded: (r.opt_text("recorded_name")?, r.instant("recorded_at")?),
                    struck: who_when(&r, "struck_name", "struck_at")?,
                })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        let event = AuditEvent::new("medication.list", AuditOutcome::Ok)
            .site(site_id.as_str())
            .patient(patient_id.as_str())
            .detail(format!(
                "medications={} trials={}",
                medications.len(),
                trials.len()
            ));
        self.audit(actor, event, now).await?;
        Ok((medications, trials))
    }

    /// Stores a screening (its input and findings); the patient must be of the site.
    #[tracing::instrument(skip_all)]
    pub async fn record_screening(
        &self,
        actor: &Actor,
        site_id: &SiteId,
        patient_id: &PatientId,
        input: &ScreeningInput,
        findings: &[Finding],
        now: jiff::Timestamp,
    ) -> Result<ScreeningId, StoreError> {
        let id = ScreeningId::new();
        let mut tx = self.pool.begin().await?;
        let saved = sqlx::query(
            "insert into screenings (id, patient_id, input, findings, recorded_by, recorded_at)
             select $1, p.id, $3, $4, $5, $6 from patients p where p.id = $2 and p.site_id = $7",
        )
        .bind(id.as_str())
        .bind(patient_id.as_str())
        .bind(encode_input(input))
        .bind(encode_findings(findings))
        .bind(actor.user_id())
        .bind(millis(now))
        .bind(site_id.as_str())
        .execute(&mut *tx)
        .await?;
        if saved.rows_affected() != 1 {
            return Err(StoreError::NotFound { entity: "patient" });
        }
        let event = AuditEvent::new("screening.record", AuditOutcome::Ok)
            .site(site_id.as_str())
            .entity("screening", id.as_str())
            .patient(patient_id.as_str())
            .detail(format!("findings={}", findings.len()));
        audit::insert(&mut tx, now, actor, &event).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Appends a prescriber's decision to a screening of the patient; `false` when there is no
    /// such screening. The decision was checked against the screening's stored findings, which
    /// never change.
    #[tracing::instrument(skip_all)]
    pub async fn decide_screening(
        &self,
        actor: &Actor,
        site_id: &SiteId,
        patient_id: &PatientId,
        screening_id: &ScreeningId,
        decision: &CheckedDecision,
        now: jiff::Timestamp,
    ) -> Result<bool, StoreError> {
        let id = crate::new_id();
        let event_patient = patient_id.clone();
        let mut tx = self.pool.begin().await?;
        let saved = sqlx::query(
            "insert into screening_decisions (id, screening_id, decision, reason, justification,
                                              decided_by, decided_at)
             select $1, s.id, $3, $4, $5, $6, $7 from screenings s
               join patients p on p.id = s.patient_id
              where s.id = $2 and s.patient_id = $8 and p.site_id = $9",
        )
        .bind(id)
        .bind(screening_id.as_str())
        .bind(decision.decision.code())
        .bind(decision.reason.clone())
        .bind(decision.justification.clone())
        .bind(actor.user_id())
        .bind(millis(now))
        .bind(patient_id.as_str())
        .bind(site_id.as_str())
        .execute(&mut *tx)
        .await?;
        if saved.rows_affected() != 1 {
            return Ok(false);
        }
        let event = AuditEvent::new("screening.decide", AuditOutcome::Ok)
            .site(site_id.as_str())
            .entity("screening", screening_id.as_str())
            .patient(event_patient.as_str())
            .detail(format!(
                "decision={} override={}",
                decision.decision.code(),
                decision.justification.is_some()
            ));
        audit::insert(&mut tx, now, actor, &event).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// A patient's screenings, newest first, each with its decisions; audited as a read.
    #[tracing::instrument(skip_all)]
    pub async fn screenings(
        &self,
        actor: &Actor,
        site_id: &SiteId,
        patient_id: &PatientId,
        now: jiff::Timestamp,
    ) -> Result<Vec<ScreeningRecord>, StoreError> {
        let rows = sqlx::query(
            "select s.id, s.input, s.findings, s.recorded_at, u.display_name
               from screenings s
               join patients p on p.id = s.patient_id
               left join users u on u.id = s.recorded_by
              where p.site_id = $1 and s.patient_id = $2
              order by s.recorded_at desc, s.id desc
              limit 200",
        )
        .bind(site_id.as_str())
        .bind(patient_id.as_str())
        .fetch_all(&self.pool)
        .await?;
        let mut list = rows
            .iter()
            .map(|row| {
                let r = RowReader::new(row, "screenings", "id")?;
                Ok(ScreeningRecord {
                    id: r.id("id", ScreeningId::parse)?,
                    input: r.parsed("input", decode_input)?,
                    findings: r.parsed("findings", decode_findings)?,
                    recorded_by: r.opt_text("display_name")?,
                    recorded_at: r.instant("recorded_at")?,
                    decisions: Vec::new(),
                })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        let rows = sqlx::query(
            "select d.id, d.screening_id, d.decision, d.reason, d.justification, d.decided_at,
                    u.display_name
               from screening_decisions d
               join screenings s on s.id = d.screening_id
               join patients p on p.id = s.patient_id
               left join users u on u.id = d.decided_by
              where p.site_id = $1 and s.patient_id = $2
              order by d.decided_at desc, d.id desc",
        )
        .bind(site_id.as_str())
        .bind(patient_id.as_str())
        .fetch_all(&self.pool)
        .await?;
        for row in &rows {
            let r = RowReader::new(row, "screening_decisions", "id")?;
            let screening = r.id("screening_id", ScreeningId::parse)?;
            let record = DecisionRecord {
                decision: r.parsed("decision", |s| Decision::parse(s).ok_or("not a decision"))?,
                reason: r.text("reason")?,
                justification: r.opt_text("justification")?,
                decided_by: r.opt_text("display_name")?,
                decided_at: r.instant("decided_at")?,
            };
            // A decision on a screening past the 200 shown is not shown either.
            if let Some(s) = list.iter_mut().find(|s| s.id == screening) {
                s.decisions.push(record);
            }
        }
        let event = AuditEvent::new("screening.list", AuditOutcome::Ok)
            .site(site_id.as_str())
            .patient(patient_id.as_str())
            .detail(format!("rows={}", list.len()));
        self.audit(actor, event, now).await?;
        Ok(list)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn screening_json_round_trips_and_refuses_unknown_codes() {
        let mut input = ScreeningInput::for_age(44);
        input.confirmed.insert(Condition::Mania);
        input.patient_reported.insert(Condition::Pregnancy);
        input.medication_classes.insert(MedicationClass::Opioid);
        input.adequate_trials = Some(3);
        input.blood_pressure = BloodPressure {
            systolic_mmhg: Some(150),
            diastolic_mmhg: None,
        };
        assert_eq!(decode_input(&encode_input(&input)).unwrap(), input);
        let findings = clinical::screening::screen(&input, &Default::default());
        assert_eq!(
            decode_findings(&encode_findings(&findings)).unwrap(),
            findings
        );
        let bad = encode_input(&input).replace("mania", "melancholy");
        assert!(decode_input(&bad).unwrap_err().contains("melancholy"));
        let bad = encode_findings(&findings).replace("\"relative\"", "\"serious\"");
        assert!(decode_findings(&bad).is_err());
        assert!(decode_input("{\"confirmed\":[]}").is_err());
    }
}

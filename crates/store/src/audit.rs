//! The audit trail: an append-only record of every write of patient data, every read of it by a
//! person, and every security-relevant event (logins, lockouts, accounts, tokens).
//!
//! Rows are never updated or deleted; both schemas enforce this with triggers.
//! Details hold identifiers and codes only, never names, scores or notes.

use sqlx::{AnyConnection, Row};

use crate::users::User;
use crate::{Store, StoreError, instant, millis};

/// Who did something: a signed-in person or a part of the system.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    user_id: Option<String>,
    label: String,
}

impl Actor {
    /// A signed-in staff member.
    pub fn user(user: &User) -> Self {
        Actor {
            user_id: Some(user.id.as_str().to_owned()),
            label: user.email.clone(),
        }
    }

    /// Someone not (yet) known to be a user, such as a login attempt for an unknown email.
    pub fn anonymous(label: impl Into<String>) -> Self {
        Actor {
            user_id: None,
            label: label.into(),
        }
    }

    /// The acting user's id, when a user acts.
    pub fn user_id(&self) -> Option<&str> {
        self.user_id.as_deref()
    }

    /// A part of the system acting on its own, such as `cli` or `demo-seed`.
    pub fn system(label: &str) -> Self {
        Actor {
            user_id: None,
            label: format!("system:{label}"),
        }
    }
}

/// How an audited action ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuditOutcome {
    /// It happened.
    Ok,
    /// A permission check refused it.
    Denied,
    /// It was attempted and failed (for example a wrong password).
    Failed,
}

impl AuditOutcome {
    fn code(self) -> &'static str {
        match self {
            AuditOutcome::Ok => "ok",
            AuditOutcome::Denied => "denied",
            AuditOutcome::Failed => "failed",
        }
    }

    fn parse(s: &str) -> AuditOutcome {
        match s {
            "denied" => AuditOutcome::Denied,
            "failed" => AuditOutcome::Failed,
            _ => AuditOutcome::Ok,
        }
    }
}

/// An event to record.
#[derive(Debug, Clone)]
pub struct AuditEvent {
    action: &'static str,
    outcome: AuditOutcome,
    entity_type: Option<&'static str>,
    entity_id: Option<String>,
    patient_id: Option<String>,
    detail: Option<String>,
}

impl AuditEvent {
    /// An event named `action` (dotted, such as `patient.read`).
    pub fn new(action: &'static str, outcome: AuditOutcome) -> Self {
        AuditEvent {
            action,
            outcome,
            entity_type: None,
            entity_id: None,
            patient_id: None,
            detail: None,
        }
    }

    /// The record acted on.
    pub fn entity(mut self, entity_type: &'static str, id: &str) -> Self {
        self.entity_type = Some(entity_type);
        self.entity_id = Some(id.to_owned());
        self
    }

    /// The patient whose data was touched.
    pub fn patient(mut self, patient_id: &str) -> Self {
        self.patient_id = Some(patient_id.to_owned());
        self
    }

    /// Codes or identifiers that explain the event; never personal health information.
    pub fn detail(mut self, detail: String) -> Self {
        self.detail = Some(detail);
        self
    }
}

/// A recorded event as read back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditRecord {
    /// Position in the trail (increasing).
    pub id: i64,
    /// When it happened.
    pub at: jiff::Timestamp,
    /// The acting user's id, when a user acted.
    pub actor_user_id: Option<String>,
    /// The actor's email or system label.
    pub actor_label: String,
    /// What happened.
    pub action: String,
    /// How it ended.
    pub outcome: AuditOutcome,
    /// Kind of record acted on.
    pub entity_type: Option<String>,
    /// Id of the record acted on.
    pub entity_id: Option<String>,
    /// Patient whose data was touched.
    pub patient_id: Option<String>,
    /// Codes that explain the event.
    pub detail: Option<String>,
}

/// Appends one event inside the caller's transaction, so the event and the change it records
/// commit or roll back together.
pub(crate) async fn insert(
    conn: &mut AnyConnection,
    now: jiff::Timestamp,
    actor: &Actor,
    event: &AuditEvent,
) -> Result<(), StoreError> {
    sqlx::query(
        "insert into audit_events
            (at, actor_user_id, actor_label, action, outcome, entity_type, entity_id, patient_id, detail)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(millis(now))
    .bind(actor.user_id.as_deref())
    .bind(&actor.label)
    .bind(event.action)
    .bind(event.outcome.code())
    .bind(event.entity_type)
    .bind(event.entity_id.as_deref())
    .bind(event.patient_id.as_deref())
    .bind(event.detail.as_deref())
    .execute(conn)
    .await?;
    Ok(())
}

fn record_from_row(row: &sqlx::any::AnyRow) -> Result<AuditRecord, StoreError> {
    let outcome: String = row.try_get("outcome")?;
    Ok(AuditRecord {
        id: row.try_get("id")?,
        at: instant(row.try_get("at")?),
        actor_user_id: row.try_get("actor_user_id")?,
        actor_label: row.try_get("actor_label")?,
        action: row.try_get("action")?,
        outcome: AuditOutcome::parse(&outcome),
        entity_type: row.try_get("entity_type")?,
        entity_id: row.try_get("entity_id")?,
        patient_id: row.try_get("patient_id")?,
        detail: row.try_get("detail")?,
    })
}

const AUDIT_COLUMNS: &str = "id, at, actor_user_id, actor_label, action, outcome, entity_type, entity_id, patient_id, detail";

impl Store {
    /// Records an event on its own (for events that change nothing else, such as a read).
    pub async fn audit(
        &self,
        actor: &Actor,
        event: AuditEvent,
        now: jiff::Timestamp,
    ) -> Result<(), StoreError> {
        let mut conn = self.pool.acquire().await?;
        insert(&mut conn, now, actor, &event).await
    }

    /// The newest events first, at most `limit`, older than `before` when given (for paging).
    pub async fn audit_events(
        &self,
        limit: i64,
        before: Option<i64>,
    ) -> Result<Vec<AuditRecord>, StoreError> {
        let sql = format!(
            "select {AUDIT_COLUMNS} from audit_events where id < $1 order by id desc limit $2"
        );
        let rows = sqlx::query(&sql)
            .bind(before.unwrap_or(i64::MAX))
            .bind(limit.clamp(1, 1000))
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(record_from_row).collect()
    }

    /// Every event about one patient, oldest first.
    pub async fn audit_events_for_patient(
        &self,
        patient_id: &str,
    ) -> Result<Vec<AuditRecord>, StoreError> {
        let sql =
            format!("select {AUDIT_COLUMNS} from audit_events where patient_id = $1 order by id");
        let rows = sqlx::query(&sql)
            .bind(patient_id)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(record_from_row).collect()
    }

    /// Tries to change a recorded event; the schema must refuse. Exists so the append-only
    /// guarantee is tested against both databases.
    pub async fn try_tamper_with_audit(&self, id: i64) -> Result<(), StoreError> {
        sqlx::query("update audit_events set action = 'tampered' where id = $1")
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Tries to delete a recorded event; the schema must refuse.
    pub async fn try_delete_audit(&self, id: i64) -> Result<(), StoreError> {
        sqlx::query("delete from audit_events where id = $1")
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}

//! The audit trail: an append-only record of every write of patient data, every read of it by a
//! person, and every security-relevant event (logins, lockouts, accounts, tokens).
//!
//! Rows are never updated or deleted; both schemas enforce this with triggers.
//! Details hold record kinds, identifiers and codes only, never names, scores, instruments or
//! notes: an instrument's name alone hints at a diagnosis (PCL-5 at PTSD, EPDS at postpartum
//! depression), so it stays in the clinical record, not in the trail an administrator reads.
//!
//! Writes of patient data record their event inside their own transaction
//! ([`insert`]). Events that change nothing else (reads, refused attempts) go through
//! [`AuditWriter`], one task per store that commits whatever events are waiting in one
//! transaction (group commit) and only then lets each caller go on, so a read is still audited
//! before its response is sent, at a fraction of the cost of one commit per read.

use sqlx::pool::PoolConnection;
use sqlx::{Any, AnyConnection, AnyPool, Connection, Row};
use tokio::sync::{mpsc, oneshot};

use crate::chain::{GENESIS_HASH, Walked, chain_hash, walk_in_chunks};
use crate::error::Corrupt;
use crate::row::{PatientId, RowReader, SiteId};
use crate::users::User;
use crate::{Store, StoreError, instant, millis};

/// The longest actor label stored: an email address has at most 254 characters (RFC 5321
/// §4.5.3.1.3 path limit less the angle brackets), so nothing typed into a form before sign-in
/// can make a row larger than that.
pub(crate) const MAX_LABEL_CHARS: usize = 254;

/// The longest client address stored (an IPv6 address with a zone is under 64 characters).
const MAX_ADDRESS_CHARS: usize = 64;

/// The longest detail stored (codes and ids; a path of a refused request).
const MAX_DETAIL_CHARS: usize = 512;

/// Which events an administrator asks for; every part left `None` matches all.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditFilter {
    /// At or after this instant.
    pub from: Option<jiff::Timestamp>,
    /// Before this instant.
    pub until: Option<jiff::Timestamp>,
    /// Done by this staff account.
    pub actor: Option<crate::row::UserId>,
    /// This action code (one of [`AUDIT_ACTIONS`]).
    pub action: Option<String>,
    /// About this patient.
    pub patient: Option<PatientId>,
}

/// Every action the trail records, with what it means in words, for people reading the trail.
pub const AUDIT_ACTIONS: &[(&str, &str)] = &[
    ("auth.login", "signed in"),
    ("auth.logout", "signed out"),
    ("auth.lockout", "account locked after wrong passwords"),
    ("auth.confirm", "confirmed an act with a password"),
    ("access.denied", "was refused a page"),
    ("patient.list", "listed or searched patients"),
    ("patient.read", "read a patient record"),
    ("patient.create", "registered a patient"),
    ("patient.update", "changed a patient's contact details"),
    ("assessment.list", "read a patient's assessments"),
    ("body.record", "recorded a patient's weight or height"),
    ("intake.read", "read a patient's intake details"),
    ("intake.update", "changed a patient's intake details"),
    ("diagnosis.add", "recorded a diagnosis"),
    ("diagnosis.end", "ended a diagnosis"),
    ("diagnosis.list", "read a patient's diagnoses"),
    ("body.list", "read a patient's weights and heights"),
    ("medication.add", "recorded a medication"),
    ("medication.end", "ended a medication"),
    (
        "medication.list",
        "read a patient's medications and past treatment",
    ),
    ("trial.add", "recorded an antidepressant trial"),
    ("trial.strike", "struck out an antidepressant trial"),
    (
        "screening.record",
        "screened a patient for contraindications",
    ),
    ("screening.list", "read a patient's screenings"),
    ("screening.decide", "decided a patient's eligibility"),
    ("self_screening_link.create", "made a self-screening link"),
    (
        "self_screening.submit",
        "answered the self-screening questionnaire",
    ),
    (
        "self_screening.read",
        "read a patient's self-screening answers",
    ),
    ("protocol.create", "added a protocol template"),
    ("course.create", "ordered a treatment course"),
    ("course.order", "signed a new dose order"),
    ("course.status", "changed a course's status"),
    ("course.list", "read a patient's courses"),
    ("rems.site", "recorded the site's REMS certification"),
    ("rems.patient", "recorded a patient's REMS enrollment"),
    ("room.create", "added a room"),
    ("chair.create", "added a chair"),
    ("appointment.book", "booked an appointment"),
    (
        "appointment.close",
        "cancelled an appointment or marked a no-show",
    ),
    ("appointment.list", "read the schedule"),
    ("session.check_in", "checked a patient in for a session"),
    ("session.step", "recorded a step of a session"),
    ("session.read", "read a session"),
    ("session.board", "opened the chair board"),
    ("session.vitals", "recorded vital signs"),
    ("session.alert_acknowledge", "acknowledged a session alert"),
    ("session.adverse_event", "recorded an adverse event"),
    ("session.addendum", "added an addendum to a locked session"),
    ("session.rems", "recorded the REMS monitoring form"),
    ("session.rems_submit", "recorded a REMS form's submission"),
    ("session.list", "listed sessions"),
    (
        "session.scale",
        "rated dissociation or sedation in a session",
    ),
    (
        "ledger.location",
        "added a controlled-substance storage place",
    ),
    ("ledger.receipt", "received controlled-substance stock"),
    (
        "ledger.entry",
        "recorded a controlled-substance ledger entry",
    ),
    ("ledger.transfer", "moved controlled-substance stock"),
    ("ledger.inventory", "took a controlled-substance inventory"),
    ("ledger.dea_task", "recorded a DEA report as done"),
    ("ledger.log", "read the dispensing log"),
    ("ledger.reconciliation", "read the ledger reconciliation"),
    ("ledger.verify", "checked the ledger's hash chain"),
    ("audit.verify", "checked the audit trail's hash chain"),
    ("consent.publish", "published a new consent version"),
    ("consent.read", "read a patient's consent"),
    ("consent.sign", "recorded a patient's signed consent"),
    ("assessment.create", "recorded an assessment"),
    ("self_report_link.create", "made a self-report link"),
    ("self_report_link.revoke", "revoked a self-report link"),
    ("alert.raise", "raised a safety alert"),
    ("alert.list", "read the open safety alerts"),
    ("alert.read", "read a safety alert"),
    ("alert.acknowledge", "recorded a safety alert's follow-up"),
    ("inquiry.create", "sent an inquiry from the public page"),
    ("inquiry.list", "listed inquiries"),
    ("inquiry.read", "read an inquiry"),
    ("inquiry.status", "changed an inquiry's status"),
    (
        "inquiry.purge",
        "deleted inquiries past the retention period",
    ),
    ("user.create", "added a staff account"),
    ("user.disable", "switched off a staff account"),
    ("user.enable", "switched on a staff account"),
    ("user.role_change", "changed a staff member's role"),
    ("user.unlock", "unlocked a staff account"),
    ("user.password_reset", "reset a staff member's password"),
    ("user.password_change", "chose a new password"),
    ("token.create", "made an API token"),
    ("token.revoke", "revoked an API token"),
    ("site.create", "set up the site"),
    ("site.close_day", "closed the clinic for a day"),
    ("site.reopen_day", "opened a closed day again"),
    (
        "instrument_content.import",
        "imported licensed instrument wording",
    ),
];

/// What an event's action and outcome mean in words ("signed in", "sign-in failed: signed
/// in"); an action this build does not know is shown as its code.
pub fn action_in_words(action: &str, outcome: AuditOutcome) -> String {
    let words = AUDIT_ACTIONS
        .iter()
        .find(|(code, _)| *code == action)
        .map_or(action, |(_, words)| *words);
    match (action, outcome) {
        ("auth.login", AuditOutcome::Failed) => "tried to sign in and failed".to_owned(),
        ("auth.confirm", AuditOutcome::Failed) => {
            "typed a password to confirm an act, refused (wrong, or the account locked)".to_owned()
        }
        (_, AuditOutcome::Ok) => words.to_owned(),
        (_, AuditOutcome::Denied) => format!("{words} (refused)"),
        (_, AuditOutcome::Failed) => format!("{words} (failed)"),
    }
}

/// Who did something: a signed-in person or a part of the system.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    user_id: Option<String>,
    site_id: Option<String>,
    label: String,
    address: Option<String>,
}

/// `s` cut to at most `max` characters, with control characters replaced by spaces.
fn bounded(s: &str, max: usize) -> String {
    s.chars()
        .take(max)
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

impl Actor {
    /// A signed-in staff member.
    pub fn user(user: &User) -> Self {
        Actor {
            user_id: Some(user.id.as_str().to_owned()),
            site_id: Some(user.site_id.as_str().to_owned()),
            label: user.email.clone(),
            address: None,
        }
    }

    /// Someone not (yet) known to be a user, such as a login attempt for an unknown email.
    /// The label is what they typed, cut to [`MAX_LABEL_CHARS`] characters.
    pub fn anonymous(label: &str) -> Self {
        Actor {
            user_id: None,
            site_id: None,
            label: bounded(label, MAX_LABEL_CHARS),
            address: None,
        }
    }

    /// The acting user's id, when a user acts.
    pub fn user_id(&self) -> Option<&str> {
        self.user_id.as_deref()
    }

    /// Who acts, as the trail names them (a user's email).
    pub fn label(&self) -> &str {
        &self.label
    }

    /// A part of the system acting on its own, such as `cli` or `demo-seed`.
    pub fn system(label: &str) -> Self {
        Actor {
            user_id: None,
            site_id: None,
            label: format!("system:{label}"),
            address: None,
        }
    }

    /// The same actor, acting from the network address `address` (the client's IP address, as
    /// the server saw the connection).
    pub fn from_address(mut self, address: &str) -> Self {
        self.address = Some(bounded(address, MAX_ADDRESS_CHARS));
        self
    }

    /// The network address the actor acts from, when known.
    pub fn address(&self) -> Option<&str> {
        self.address.as_deref()
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

    fn parse(s: &str) -> Option<AuditOutcome> {
        match s {
            "ok" => Some(AuditOutcome::Ok),
            "denied" => Some(AuditOutcome::Denied),
            "failed" => Some(AuditOutcome::Failed),
            _ => None,
        }
    }
}

/// An event to record.
#[derive(Debug, Clone)]
pub struct AuditEvent {
    action: &'static str,
    outcome: AuditOutcome,
    site_id: Option<String>,
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
            site_id: None,
            entity_type: None,
            entity_id: None,
            patient_id: None,
            detail: None,
        }
    }

    /// The site the event belongs to, when the actor's own site does not say it (system and
    /// patient actors).
    pub fn site(mut self, site_id: &str) -> Self {
        self.site_id = Some(site_id.to_owned());
        self
    }

    /// The record acted on.
    pub fn entity(mut self, entity_type: &'static str, id: &str) -> Self {
        self.entity_type = Some(entity_type);
        self.entity_id = Some(bounded(id, 64));
        self
    }

    /// The patient whose data was touched.
    pub fn patient(mut self, patient_id: &str) -> Self {
        self.patient_id = Some(bounded(patient_id, 64));
        self
    }

    /// Codes or identifiers that explain the event; never personal health information.
    pub fn detail(mut self, detail: String) -> Self {
        self.detail = Some(bounded(&detail, MAX_DETAIL_CHARS));
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
    /// The site it belongs to, when known (sign-in attempts for unknown emails have none).
    pub site_id: Option<String>,
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
    /// The network address the request came from, when the event came from a request.
    pub client_address: Option<String>,
}

pub(crate) const INSERT_COLUMNS: &str = "seq, at, site_id, actor_user_id, actor_label, action, outcome, entity_type, entity_id, patient_id, detail, client_address, prev_hash, hash";
const INSERT_ARITY: usize = 14;

/// Appends one event inside the caller's transaction, so the event and the change it records
/// commit or roll back together.
///
/// This takes the chain's head row, which the transaction then holds until it ends: statements
/// after it may only insert new rows (as they all do), so that no two transactions can each
/// wait for a row the other holds.
pub(crate) async fn insert(
    conn: &mut AnyConnection,
    now: jiff::Timestamp,
    actor: &Actor,
    event: &AuditEvent,
) -> Result<(), StoreError> {
    insert_many(conn, &[(millis(now), actor, event)]).await
}

/// The columns of one event that its hash covers, in a fixed order, as JSON: what the event
/// says, its place and the address it came from. (The row id is left out: PostgreSQL assigns
/// it on insert; `seq` is the event's place.)
pub(crate) struct Content<'a> {
    pub(crate) seq: i64,
    pub(crate) at: i64,
    pub(crate) site_id: Option<&'a str>,
    pub(crate) actor_user_id: Option<&'a str>,
    pub(crate) actor_label: &'a str,
    pub(crate) action: &'a str,
    pub(crate) outcome: &'a str,
    pub(crate) entity_type: Option<&'a str>,
    pub(crate) entity_id: Option<&'a str>,
    pub(crate) patient_id: Option<&'a str>,
    pub(crate) detail: Option<&'a str>,
    pub(crate) client_address: Option<&'a str>,
}

impl Content<'_> {
    fn canonical(&self) -> String {
        serde_json::json!([
            self.seq,
            self.at,
            self.site_id,
            self.actor_user_id,
            self.actor_label,
            self.action,
            self.outcome,
            self.entity_type,
            self.entity_id,
            self.patient_id,
            self.detail,
            self.client_address,
        ])
        .to_string()
    }
}

/// Takes the chain's head for `n` new events: returns the place of the first and the hash it
/// follows. The head's hash moves on with [`move_head`] once the events are written.
async fn take_head(conn: &mut AnyConnection, n: usize) -> Result<(i64, String), StoreError> {
    let n = i64::try_from(n).map_err(|_| StoreError::AuditUnavailable {
        reason: "too many events in one write".into(),
    })?;
    let head =
        sqlx::query("update audit_chain set seq = seq + $1 where id = 1 returning id, seq, hash")
            .bind(n)
            .fetch_one(&mut *conn)
            .await?;
    let r = RowReader::new(&head, "audit_chain", "id")?;
    Ok((r.int("seq")? - n + 1, r.text("hash")?))
}

async fn move_head(conn: &mut AnyConnection, hash: &str) -> Result<(), StoreError> {
    sqlx::query("update audit_chain set hash = $1 where id = 1")
        .bind(hash)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// One event's row as it is stored: its content, the hash it follows and its own hash.
pub(crate) struct Chained<'a> {
    pub(crate) content: Content<'a>,
    pub(crate) prev_hash: String,
    pub(crate) hash: String,
}

/// Chains `events` on after the head (`first` is the place of the first, `prev` the hash it
/// follows); returns their rows and the chain's new head hash.
pub(crate) fn chain_events<'a>(
    first: i64,
    mut prev: String,
    events: &[(i64, &'a Actor, &'a AuditEvent)],
) -> (Vec<Chained<'a>>, String) {
    let mut rows = Vec::with_capacity(events.len());
    for (i, (at, actor, event)) in events.iter().enumerate() {
        let content = Content {
            seq: first + i as i64,
            at: *at,
            site_id: event.site_id.as_deref().or(actor.site_id.as_deref()),
            actor_user_id: actor.user_id.as_deref(),
            actor_label: actor.label.as_str(),
            action: event.action,
            outcome: event.outcome.code(),
            entity_type: event.entity_type,
            entity_id: event.entity_id.as_deref(),
            patient_id: event.patient_id.as_deref(),
            detail: event.detail.as_deref(),
            client_address: actor.address.as_deref(),
        };
        let hash = chain_hash(&prev, &content.canonical());
        rows.push(Chained {
            content,
            prev_hash: std::mem::replace(&mut prev, hash.clone()),
            hash,
        });
    }
    (rows, prev)
}

/// Appends events, chained, in as few statements as the parameter limits allow.
async fn insert_many(
    conn: &mut AnyConnection,
    events: &[(i64, &Actor, &AuditEvent)],
) -> Result<(), StoreError> {
    if events.is_empty() {
        return Ok(());
    }
    let (first, prev) = take_head(conn, events.len()).await?;
    let (rows, prev) = chain_events(first, prev, events);
    // Statements of at most 64 rows keep well inside every engine's parameter limit.
    for chunk in rows.chunks(64) {
        let mut sql = format!("insert into audit_events ({INSERT_COLUMNS}) values ");
        for i in 0..chunk.len() {
            if i > 0 {
                sql.push_str(", ");
            }
            sql.push('(');
            for j in 0..INSERT_ARITY {
                if j > 0 {
                    sql.push_str(", ");
                }
                sql.push_str(&format!("${}", i * INSERT_ARITY + j + 1));
            }
            sql.push(')');
        }
        let mut query = sqlx::query(&sql);
        for Chained {
            content: c,
            prev_hash,
            hash,
        } in chunk
        {
            query = query
                .bind(c.seq)
                .bind(c.at)
                .bind(c.site_id)
                .bind(c.actor_user_id)
                .bind(c.actor_label)
                .bind(c.action)
                .bind(c.outcome)
                .bind(c.entity_type)
                .bind(c.entity_id)
                .bind(c.patient_id)
                .bind(c.detail)
                .bind(c.client_address)
                .bind(prev_hash.as_str())
                .bind(hash.as_str());
        }
        query.execute(&mut *conn).await?;
    }
    move_head(conn, &prev).await
}

/// Events one group commit writes at most.
pub(crate) const MAX_BATCH: usize = 256;
/// Events that may wait for the writer before callers wait to hand theirs over.
const QUEUE: usize = 4096;

pub(crate) struct Pending {
    pub(crate) at: i64,
    pub(crate) actor: Actor,
    pub(crate) event: AuditEvent,
    pub(crate) done: oneshot::Sender<Result<(), String>>,
}

/// What the writer is asked to do. Events go by value: boxing them would add an allocation to
/// every audited read for the sake of the one stop message a store ever sends.
#[allow(clippy::large_enum_variant)]
pub(crate) enum Message {
    /// Record an event.
    Write(Pending),
    /// Commit what is queued, hand the connection back and stop (the store is closing).
    Stop(oneshot::Sender<()>),
}

/// The group-commit writer of events that change nothing else: callers hand an event over and
/// wait until the transaction that holds it has committed. Only the database holds the trail;
/// the queue is a few milliseconds of events in flight, and several server processes may each
/// run a writer on the same database.
#[derive(Clone)]
pub(crate) struct AuditWriter {
    queue: mpsc::Sender<Message>,
}

impl AuditWriter {
    /// Starts the writer task on the current Tokio runtime.
    pub(crate) fn start(pool: AnyPool) -> AuditWriter {
        let (queue, rx) = mpsc::channel(QUEUE);
        tokio::spawn(run_writer(pool, rx));
        AuditWriter { queue }
    }

    /// Starts a writer that `run` drives on a thread of its own (the native SQLite writer).
    pub(crate) fn start_thread(
        run: impl FnOnce(mpsc::Receiver<Message>) + Send + 'static,
    ) -> std::io::Result<AuditWriter> {
        let (queue, rx) = mpsc::channel(QUEUE);
        std::thread::Builder::new()
            .name("audit-writer".into())
            .spawn(move || run(rx))?;
        Ok(AuditWriter { queue })
    }

    /// Stops the writer once the events queued before this call are committed, so that the
    /// pool it holds a connection of can close.
    pub(crate) async fn stop(&self) {
        let (done, stopped) = oneshot::channel();
        if self.queue.send(Message::Stop(done)).await.is_ok() {
            let _ = stopped.await;
        }
    }

    /// Records `event` and returns once it is committed.
    async fn write(
        &self,
        actor: &Actor,
        event: AuditEvent,
        now: jiff::Timestamp,
    ) -> Result<(), StoreError> {
        let (done, committed) = oneshot::channel();
        let pending = Pending {
            at: millis(now),
            actor: actor.clone(),
            event,
            done,
        };
        let unavailable = |reason: &str| StoreError::AuditUnavailable {
            reason: reason.to_owned(),
        };
        self.queue
            .send(Message::Write(pending))
            .await
            .map_err(|_| unavailable("the audit writer has stopped"))?;
        match committed.await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(reason)) => Err(unavailable(&reason)),
            Err(_) => Err(unavailable("the audit writer stopped before committing")),
        }
    }
}

/// Puts `first` and whatever else is waiting (up to [`MAX_BATCH`]) into `batch`; returns the
/// stop message when one came, which ends the gathering.
pub(crate) fn gather(
    first: Message,
    rx: &mut mpsc::Receiver<Message>,
    batch: &mut Vec<Pending>,
) -> Option<oneshot::Sender<()>> {
    let mut stop = None;
    match first {
        Message::Write(p) => batch.push(p),
        Message::Stop(done) => stop = Some(done),
    }
    while batch.len() < MAX_BATCH && stop.is_none() {
        match rx.try_recv() {
            Ok(Message::Write(p)) => batch.push(p),
            Ok(Message::Stop(done)) => stop = Some(done),
            Err(_) => break,
        }
    }
    stop
}

async fn run_writer(pool: AnyPool, mut rx: mpsc::Receiver<Message>) {
    let mut batch: Vec<Pending> = Vec::with_capacity(MAX_BATCH);
    // The writer keeps one connection of its own (its prepared inserts stay warm), and takes a
    // fresh one after any failure.
    let mut conn: Option<PoolConnection<Any>> = None;
    while let Some(first) = rx.recv().await {
        let stop = gather(first, &mut rx, &mut batch);
        if !batch.is_empty() {
            write_batch(&pool, &mut conn, &mut batch).await;
        }
        if let Some(done) = stop {
            drop(conn.take());
            let _ = done.send(());
            return;
        }
    }
}

/// Commits `batch` and answers each event's caller.
async fn write_batch(
    pool: &AnyPool,
    conn: &mut Option<PoolConnection<Any>>,
    batch: &mut Vec<Pending>,
) {
    match commit_batch(pool, conn, batch).await {
        Ok(()) => {
            for p in batch.drain(..) {
                let _ = p.done.send(Ok(()));
            }
        }
        // One bad event must not fail the others that shared its transaction: write each
        // on its own, so only the one the database refuses is refused.
        Err(_) if batch.len() > 1 => {
            for p in batch.drain(..) {
                let alone = commit_batch(pool, conn, std::slice::from_ref(&p)).await;
                if let Err(e) = &alone {
                    tracing::error!(error = %e, "audit event refused");
                }
                let _ = p.done.send(alone.map_err(|e| e.to_string()));
            }
        }
        Err(e) => {
            tracing::error!(error = %e, "audit event refused");
            for p in batch.drain(..) {
                let _ = p.done.send(Err(e.to_string()));
            }
        }
    }
}

#[tracing::instrument(skip_all, fields(events = batch.len()))]
async fn commit_batch(
    pool: &AnyPool,
    conn: &mut Option<PoolConnection<Any>>,
    batch: &[Pending],
) -> Result<(), StoreError> {
    let mut held = match conn.take() {
        Some(c) => c,
        None => pool.acquire().await?,
    };
    let rows: Vec<(i64, &Actor, &AuditEvent)> =
        batch.iter().map(|p| (p.at, &p.actor, &p.event)).collect();
    let result = async {
        let mut tx = held.begin().await?;
        insert_many(&mut tx, &rows).await?;
        tx.commit().await?;
        Ok::<(), StoreError>(())
    }
    .await;
    if result.is_ok() {
        *conn = Some(held);
    }
    result
}

fn record_from_row(row: &sqlx::any::AnyRow) -> Result<AuditRecord, StoreError> {
    let id: i64 = row.try_get("id")?;
    let bad = |column: &'static str, problem: String| Corrupt {
        table: "audit_events",
        column,
        id: id.to_string(),
        problem,
    };
    let outcome: String = row.try_get("outcome")?;
    Ok(AuditRecord {
        id,
        at: instant(row.try_get("at")?).map_err(|p| bad("at", p))?,
        site_id: row.try_get("site_id")?,
        actor_user_id: row.try_get("actor_user_id")?,
        actor_label: row.try_get("actor_label")?,
        action: row.try_get("action")?,
        outcome: AuditOutcome::parse(&outcome)
            .ok_or_else(|| bad("outcome", format!("'{outcome}' is not an outcome")))?,
        entity_type: row.try_get("entity_type")?,
        entity_id: row.try_get("entity_id")?,
        patient_id: row.try_get("patient_id")?,
        detail: row.try_get("detail")?,
        client_address: row.try_get("client_address")?,
    })
}

const AUDIT_COLUMNS: &str = "id, at, site_id, actor_user_id, actor_label, action, outcome, entity_type, entity_id, patient_id, detail, client_address";

/// What `audit verify` found wrong: the first bad event and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("audit event {seq} (row {id}): {problem}")]
pub struct AuditBroken {
    /// The event's place in the chain (or the place expected where one is missing).
    pub seq: i64,
    /// Its row id, or "missing".
    pub id: String,
    /// What is wrong.
    pub problem: String,
}

/// How a check of the audit trail ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuditCheck {
    /// Every event was checked and the chain is intact: how many.
    Intact(u64),
    /// The first bad event.
    Broken(AuditBroken),
    /// The time allowed ran out: the first `checked` of the chain's `total` events are intact.
    Unfinished {
        /// Events checked, from the first.
        checked: u64,
        /// Events in the chain.
        total: u64,
    },
}

impl std::fmt::Display for AuditCheck {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AuditCheck::Intact(n) => write!(f, "intact: {n} events checked"),
            AuditCheck::Broken(broken) => write!(f, "{broken}"),
            AuditCheck::Unfinished { checked, total } => {
                write!(f, "stopped after {checked} of {total} events")
            }
        }
    }
}

/// One chained event as a check of the trail reads it.
struct ChainedRow {
    id: String,
    prev_hash: Option<String>,
    hash: String,
    content: OwnedContent,
}

/// Where a check of the chain stands: the place expected next and the hash it must link to.
struct ChainWalk {
    expected: i64,
    prev: String,
}

impl ChainWalk {
    fn checked(&self) -> u64 {
        self.expected.saturating_sub(1).unsigned_abs()
    }

    /// Checks the next events in order, each against the one before; the walk after them, or
    /// the first bad one.
    fn check(mut self, rows: Vec<ChainedRow>) -> Result<ChainWalk, AuditBroken> {
        for row in rows {
            // ok: the query selects only rows with a place; none is null here.
            let seq = row.content.seq.unwrap_or(0);
            if seq != self.expected {
                return Err(AuditBroken {
                    seq: self.expected,
                    id: "missing".into(),
                    problem: format!("event {} is missing (the next is {seq})", self.expected),
                });
            }
            if row.prev_hash.as_deref() != Some(self.prev.as_str()) {
                return Err(AuditBroken {
                    seq,
                    id: row.id,
                    problem: "its previous hash is not the hash of the event before it".into(),
                });
            }
            if chain_hash(&self.prev, &row.content.canonical(seq)) != row.hash {
                return Err(AuditBroken {
                    seq,
                    id: row.id,
                    problem: "its content does not match its hash (altered)".into(),
                });
            }
            self.prev = row.hash;
            self.expected += 1;
        }
        Ok(self)
    }
}

/// Reads the hashed content of an event row (selected with [`CHAIN_COLUMNS`]).
fn content_of(r: &RowReader<'_>) -> Result<OwnedContent, StoreError> {
    Ok(OwnedContent {
        seq: r.opt_int("seq")?,
        at: r.int("at")?,
        site_id: r.opt_text("site_id")?,
        actor_user_id: r.opt_text("actor_user_id")?,
        actor_label: r.text("actor_label")?,
        action: r.text("action")?,
        outcome: r.text("outcome")?,
        entity_type: r.opt_text("entity_type")?,
        entity_id: r.opt_text("entity_id")?,
        patient_id: r.opt_text("patient_id")?,
        detail: r.opt_text("detail")?,
        client_address: r.opt_text("client_address")?,
    })
}

const CHAIN_COLUMNS: &str = "id, seq, at, site_id, actor_user_id, actor_label, action, outcome, entity_type, entity_id, patient_id, detail, client_address, prev_hash, hash";

/// An event's hashed content as read back.
struct OwnedContent {
    seq: Option<i64>,
    at: i64,
    site_id: Option<String>,
    actor_user_id: Option<String>,
    actor_label: String,
    action: String,
    outcome: String,
    entity_type: Option<String>,
    entity_id: Option<String>,
    patient_id: Option<String>,
    detail: Option<String>,
    client_address: Option<String>,
}

impl OwnedContent {
    fn canonical(&self, seq: i64) -> String {
        Content {
            seq,
            at: self.at,
            site_id: self.site_id.as_deref(),
            actor_user_id: self.actor_user_id.as_deref(),
            actor_label: &self.actor_label,
            action: &self.action,
            outcome: &self.outcome,
            entity_type: self.entity_type.as_deref(),
            entity_id: self.entity_id.as_deref(),
            patient_id: self.patient_id.as_deref(),
            detail: self.detail.as_deref(),
            client_address: self.client_address.as_deref(),
        }
        .canonical()
    }
}

impl Store {
    /// Seals the events recorded before the chain existed (up to `audit_chain.legacy_until`,
    /// in the order they were recorded) into the chain, once; a store opening a database whose
    /// events are all chained does nothing.
    pub(crate) async fn seal_legacy_audit(&self) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        // The head first: a second process opening the same database waits here, then finds
        // nothing left to seal.
        sqlx::query("update audit_chain set hash = hash where id = 1")
            .execute(&mut *tx)
            .await?;
        let rows = sqlx::query(&format!(
            "select {CHAIN_COLUMNS} from audit_events
              where hash is null and id <= (select legacy_until from audit_chain where id = 1)
              order by id"
        ))
        .fetch_all(&mut *tx)
        .await?;
        if rows.is_empty() {
            tx.rollback().await?;
            return Ok(());
        }
        let (mut seq, mut prev) = take_head(&mut tx, rows.len()).await?;
        for row in &rows {
            let r = RowReader::new(row, "audit_events", "id")?;
            let id = r.int("id")?;
            let hash = chain_hash(&prev, &content_of(&r)?.canonical(seq));
            sqlx::query(
                "update audit_events set seq = $1, prev_hash = $2, hash = $3 where id = $4",
            )
            .bind(seq)
            .bind(prev.as_str())
            .bind(hash.as_str())
            .bind(id)
            .execute(&mut *tx)
            .await?;
            prev = hash;
            seq += 1;
        }
        move_head(&mut tx, &prev).await?;
        tx.commit().await?;
        tracing::info!(
            events = rows.len(),
            "sealed the audit events recorded before the hash chain"
        );
        Ok(())
    }

    /// Checks the audit trail: consecutive places from 1 (a deleted event leaves a gap),
    /// each event's link to the one before (an inserted or reordered event breaks it), each
    /// event's hash over its content (an edited event no longer matches), every event in the
    /// chain, and the head (a cut-off tail). Returns how many events were checked, the first
    /// bad one, or, when `deadline` passed first, how far the check got.
    ///
    /// Events are read [`crate::VERIFY_CHUNK`] at a time and their hashes computed on the blocking
    /// pool, so a trail of millions of events never holds an executor thread; `progress` is
    /// told (events checked, events in the chain) after each chunk. Each chunk is read by a
    /// statement of its own, so no transaction stays open for the length of the check.
    #[tracing::instrument(skip_all)]
    pub async fn verify_audit(
        &self,
        deadline: Option<std::time::Instant>,
        progress: &(dyn Fn(u64, u64) + Send + Sync),
    ) -> Result<AuditCheck, StoreError> {
        // The head, and what must not exist beside it, from one snapshot held only for these
        // four statements.
        let (head_seq, head_hash, unchained, shared, beyond) = {
            let mut conn = self.pool.acquire().await?;
            let mut tx = crate::chain::snapshot(&mut conn, self.backend()).await?;
            let (head_seq, head_hash) = crate::chain::read_head(&mut tx, "audit_chain").await?;
            let unchained: Option<i64> =
                sqlx::query_scalar("select min(id) from audit_events where seq is null")
                    .fetch_one(&mut *tx)
                    .await?;
            let shared =
                crate::chain::first_shared_place(&mut tx, "audit_events", head_seq).await?;
            let beyond: Option<i64> =
                sqlx::query_scalar("select min(seq) from audit_events where seq > $1")
                    .bind(head_seq)
                    .fetch_one(&mut *tx)
                    .await?;
            tx.rollback().await?;
            (head_seq, head_hash, unchained, shared, beyond)
        };
        let total = head_seq.unsigned_abs();
        let broken = |seq: i64, id: String, problem: String| {
            Ok(AuditCheck::Broken(AuditBroken { seq, id, problem }))
        };
        if let Some(id) = unchained {
            return broken(
                0,
                id.to_string(),
                "it has no place in the chain (written behind the application's back)".into(),
            );
        }
        if let Some(seq) = shared {
            return broken(
                seq,
                "shared".into(),
                "more than one event claims this place (one was written behind the application's back)"
                    .into(),
            );
        }
        let start = ChainWalk {
            expected: 1,
            prev: GENESIS_HASH.to_owned(),
        };
        let decode = |row: &sqlx::any::AnyRow| {
            let r = RowReader::new(row, "audit_events", "id")?;
            Ok(ChainedRow {
                id: r.int("id")?.to_string(),
                prev_hash: r.opt_text("prev_hash")?,
                // ok: a missing hash matches no content, so it is reported as altered.
                hash: r.opt_text("hash")?.unwrap_or_default(),
                content: content_of(&r)?,
            })
        };
        let stop = |walk: &ChainWalk| {
            let checked = walk.checked();
            progress(checked, total);
            deadline.is_some_and(|d| std::time::Instant::now() >= d) && checked < total
        };
        let rows = crate::chain::links_up_to(
            self.pool.clone(),
            format!(
                "select {CHAIN_COLUMNS} from audit_events where seq > $1 and seq <= $2 order by seq limit $3"
            ),
            head_seq,
        );
        let walk = match walk_in_chunks(rows, start, decode, ChainWalk::check, stop).await? {
            Walked::Done(walk) => walk,
            Walked::Broken(broken) => return Ok(AuditCheck::Broken(broken)),
            Walked::Stopped(walk) => {
                let checked = walk.checked();
                return Ok(AuditCheck::Unfinished { checked, total });
            }
        };
        let checked = walk.checked();
        let (expected, prev) = (walk.expected, walk.prev);
        if expected - 1 != head_seq {
            return broken(
                expected,
                "missing".into(),
                format!(
                    "the chain's head says {head_seq} events but only {} were found (the newest are missing)",
                    expected - 1
                ),
            );
        }
        if prev != head_hash {
            return broken(
                head_seq,
                "head".into(),
                "the newest event's hash is not the chain's head (the tail was replaced)".into(),
            );
        }
        if let Some(seq) = beyond {
            // Only possible when the head was set back behind the application's back: events
            // written after the head was read lie beyond it and are not looked at.
            return broken(
                seq,
                "beyond".into(),
                "the event lies beyond the chain's head".into(),
            );
        }
        Ok(AuditCheck::Intact(checked))
    }
}

impl Store {
    /// Records an event on its own (for events that change nothing else, such as a read);
    /// returns once it is committed.
    #[tracing::instrument(skip_all)]
    pub async fn audit(
        &self,
        actor: &Actor,
        event: AuditEvent,
        now: jiff::Timestamp,
    ) -> Result<(), StoreError> {
        self.audit_writer.write(actor, event, now).await
    }

    /// The newest events of a site first, and those that belong to no site (sign-in attempts
    /// for unknown emails, system events), at most `limit`, older than `before` when given (for
    /// paging).
    #[tracing::instrument(skip_all)]
    pub async fn audit_events(
        &self,
        site_id: &SiteId,
        limit: i64,
        before: Option<i64>,
    ) -> Result<Vec<AuditRecord>, StoreError> {
        self.audit_search(site_id, &AuditFilter::default(), limit, before)
            .await
    }

    /// Like [`Store::audit_events`], keeping only the events that match every part of `filter`
    /// that is set. When a person or patient is asked for, events of no site are left out (they
    /// name neither).
    #[tracing::instrument(skip_all)]
    pub async fn audit_search(
        &self,
        site_id: &SiteId,
        filter: &AuditFilter,
        limit: i64,
        before: Option<i64>,
    ) -> Result<Vec<AuditRecord>, StoreError> {
        let mut sql = format!(
            "select {AUDIT_COLUMNS} from audit_events
             where id < $1 and (site_id = $2 or site_id is null)"
        );
        let mut n = 3;
        let mut next = |sql: &mut String, clause: &str| {
            sql.push_str(&clause.replace('?', &format!("${n}")));
            n += 1;
        };
        if filter.from.is_some() {
            next(&mut sql, " and at >= ?");
        }
        if filter.until.is_some() {
            next(&mut sql, " and at < ?");
        }
        if filter.actor.is_some() {
            next(&mut sql, " and actor_user_id = ?");
        }
        if filter.action.is_some() {
            next(&mut sql, " and action = ?");
        }
        if filter.patient.is_some() {
            next(&mut sql, " and patient_id = ?");
        }
        sql.push_str(&format!(" order by id desc limit ${n}"));
        let mut query = sqlx::query(&sql)
            .bind(before.unwrap_or(i64::MAX))
            .bind(site_id.as_str());
        if let Some(from) = filter.from {
            query = query.bind(millis(from));
        }
        if let Some(until) = filter.until {
            query = query.bind(millis(until));
        }
        if let Some(actor) = &filter.actor {
            query = query.bind(actor.as_str().to_owned());
        }
        if let Some(action) = &filter.action {
            query = query.bind(action.clone());
        }
        if let Some(patient) = &filter.patient {
            query = query.bind(patient.as_str().to_owned());
        }
        let rows = query
            .bind(limit.clamp(1, 1000))
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(record_from_row).collect()
    }

    /// Every event about one patient, oldest first.
    #[tracing::instrument(skip_all)]
    pub async fn audit_events_for_patient(
        &self,
        patient_id: &PatientId,
    ) -> Result<Vec<AuditRecord>, StoreError> {
        let sql =
            format!("select {AUDIT_COLUMNS} from audit_events where patient_id = $1 order by id");
        let rows = sqlx::query(&sql)
            .bind(patient_id.as_str())
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(record_from_row).collect()
    }

    /// How many bytes of text the trail holds in its free-text columns (actor labels and
    /// details), for checking that unauthenticated input cannot grow it without bound.
    #[tracing::instrument(skip_all)]
    pub async fn audit_text_bytes(&self) -> Result<i64, StoreError> {
        let total: Option<i64> = sqlx::query_scalar(
            "select cast(sum(length(actor_label) + coalesce(length(detail), 0)) as bigint) from audit_events",
        )
        .fetch_one(&self.pool)
        .await?;
        Ok(total.unwrap_or(0))
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

/// One change to a patient's record as the trail holds it: who, when, which fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangeRecord {
    /// When.
    pub at: jiff::Timestamp,
    /// The staff member's name (or the actor's label when the account is gone).
    pub by: String,
    /// The field codes the event names (`fields=a,b`); `all` for the first save.
    pub fields: Vec<String>,
}

impl Store {
    /// The newest changes of one kind (`action`, such as `intake.update`) to a patient's record,
    /// newest first, at most `limit`: the audit trail is where changes are kept, so this shows
    /// who changed what and when without a second copy.
    #[tracing::instrument(skip_all)]
    pub async fn change_history(
        &self,
        site_id: &SiteId,
        patient_id: &PatientId,
        action: &'static str,
        limit: i64,
    ) -> Result<Vec<ChangeRecord>, StoreError> {
        let rows = sqlx::query(
            "select e.id, e.at, e.actor_label, e.detail, u.display_name
               from audit_events e left join users u on u.id = e.actor_user_id
              where e.patient_id = $1 and e.site_id = $2 and e.action = $3 and e.outcome = 'ok'
              order by e.id desc limit $4",
        )
        .bind(patient_id.as_str())
        .bind(site_id.as_str())
        .bind(action)
        .bind(limit.clamp(1, 500))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                let r = RowReader::new(row, "audit_events", "id")?;
                // ok: an event without detail named no fields; it lists as a change of none.
                let detail = r.opt_text("detail")?.unwrap_or_default();
                let fields = detail
                    .split_whitespace()
                    .find_map(|part| part.strip_prefix("fields="))
                    .map(|list| list.split(',').map(str::to_owned).collect())
                    .unwrap_or_default();
                Ok(ChangeRecord {
                    at: r.instant("at")?,
                    by: match r.opt_text("display_name")? {
                        Some(name) => name,
                        None => r.text("actor_label")?,
                    },
                    fields,
                })
            })
            .collect()
    }
}

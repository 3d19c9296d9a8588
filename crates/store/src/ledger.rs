//! The controlled-substance ledger: locations, lots received, containers (each vial or device)
//! and the append-only ledger of every milligram, hash-chained and checked by
//! [`Store::verify_ledger`].
//!
//! Every entry is one transaction: the container's balance moves in one guarded statement (so a
//! take that would go below zero changes nothing, however many arrive at once), then the chain's
//! head row is taken (so entries get consecutive numbers, one writer at a time on both
//! databases), then the entry is written with the SHA-256 of its content and the previous
//! entry's hash, and the head moves on. Triggers refuse any update or delete of the ledger;
//! a correction is a new entry that names the one it corrects.

use clinical::ledger::{self, EntryKind, Form, LedgerRefusal, StockRule, TextField, Unusable};
use jiff::Timestamp;
use jiff::civil::Date;
use sqlx::AnyConnection;

use crate::audit::{self, Actor, AuditEvent, AuditOutcome};
use crate::auth::{Confirmation, LoginSettings};
use crate::row::{PatientId, RowReader, SessionId, SiteId, UserId};
use crate::{Store, StoreError, millis};

pub use crate::chain::GENESIS_HASH;
use crate::chain::{Walked, chain_hash, walk_in_chunks};

/// Where stock is kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocationRecord {
    /// Identifier.
    pub id: String,
    /// Name, such as "Safe, Room A".
    pub name: String,
    /// `safe` or `cabinet`.
    pub kind: String,
}

/// The supplier's record of a receipt, as 21 CFR 1304.22(c) asks for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Supplier {
    /// Name.
    pub name: String,
    /// Address.
    pub address: String,
    /// DEA registration number.
    pub dea_number: String,
    /// Invoice or packing slip number (Schedule III is ordered on invoices).
    pub invoice: String,
}

/// A receipt of containers of one lot.
#[derive(Debug, Clone, PartialEq)]
pub struct Receipt<'a> {
    /// What each container is.
    pub form: Form,
    /// National Drug Code.
    pub ndc: &'a str,
    /// Lot number.
    pub lot: &'a str,
    /// Expiry date.
    pub expires_on: Date,
    /// Supplier.
    pub supplier: &'a Supplier,
    /// Number of containers (vials or devices).
    pub containers: u32,
    /// Where they are put.
    pub location_id: &'a str,
}

/// A container and what it holds now.
#[derive(Debug, Clone, PartialEq)]
pub struct ContainerRecord {
    /// Identifier.
    pub id: String,
    /// What it is.
    pub form: Form,
    /// The lot's identifier.
    pub lot_id: String,
    /// Lot number.
    pub lot: String,
    /// Its number within the lot, from 1.
    pub number: u32,
    /// Where it is.
    pub location: String,
    /// Full, mg.
    pub full_mg: f64,
    /// Balance, mg.
    pub balance_mg: f64,
    /// Expiry.
    pub expires_on: Date,
    /// When a dose was first drawn from it (none while untouched).
    pub opened_at: Option<Timestamp>,
}

/// A witness's credentials, checked by the store.
#[derive(Debug, Clone, Copy)]
pub struct Witness<'a> {
    /// Their email.
    pub email: &'a str,
    /// Their own password.
    pub password: &'a str,
    /// The sign-in rules, whose failure count and lockout a witness's password shares.
    pub sign_in: &'a LoginSettings,
}

/// An entry that moves or records a container's balance.
#[derive(Debug, Clone, Copy)]
pub struct NewEntry<'a> {
    /// Kind (not a receipt or an inventory: those have their own calls).
    pub kind: EntryKind,
    /// The container.
    pub container_id: &'a str,
    /// Amount, mg (a correction's sign is its direction).
    pub amount_mg: f64,
    /// The session, for an administration.
    pub session_id: Option<&'a SessionId>,
    /// The patient, for an administration.
    pub patient_id: Option<&'a PatientId>,
    /// The witness, for waste and breakage.
    pub witness: Option<Witness<'a>>,
    /// How it was wasted or returned, or to where it was moved.
    pub method: Option<&'a str>,
    /// What happened, in words.
    pub explanation: Option<&'a str>,
    /// The entry a correction corrects.
    pub corrects_seq: Option<i64>,
    /// The location a transfer moves the container to.
    pub to_location_id: Option<&'a str>,
}

impl<'a> NewEntry<'a> {
    /// An entry of `kind` for `container_id` of `amount_mg`, with nothing else.
    pub fn new(kind: EntryKind, container_id: &'a str, amount_mg: f64) -> Self {
        NewEntry {
            kind,
            container_id,
            amount_mg,
            session_id: None,
            patient_id: None,
            witness: None,
            method: None,
            explanation: None,
            corrects_seq: None,
            to_location_id: None,
        }
    }
}

/// A stored entry.
#[derive(Debug, Clone, PartialEq)]
pub struct EntryRecord {
    /// Position in the chain, from 1.
    pub seq: i64,
    /// Identifier.
    pub id: String,
    /// Kind.
    pub kind: EntryKind,
    /// The container.
    pub container_id: Option<String>,
    /// Amount, mg (signed for discrepancies and corrections).
    pub amount_mg: f64,
    /// The container's balance after it, mg.
    pub balance_mg: f64,
    /// Who wrote it.
    pub actor: String,
    /// Who witnessed it.
    pub witness: Option<String>,
    /// When.
    pub at: Timestamp,
    /// Its hash.
    pub hash: String,
}

/// What `ledger verify` found wrong: the first bad entry and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("ledger entry {seq} ({id}): {problem}")]
pub struct LedgerBroken {
    /// The entry's position (or the position expected where one is missing).
    pub seq: i64,
    /// Its identifier, or "missing".
    pub id: String,
    /// What is wrong.
    pub problem: String,
}

/// One ledger entry as a check of the ledger reads it.
struct LedgerRow {
    seq: i64,
    id: String,
    site_id: String,
    kind: String,
    container: Option<String>,
    location: Option<String>,
    amount: f64,
    balance: f64,
    session: Option<String>,
    patient: Option<String>,
    actor: String,
    witness: Option<String>,
    method: Option<String>,
    explanation: Option<String>,
    details: Option<String>,
    corrects_seq: Option<i64>,
    at: i64,
    prev_hash: String,
    hash: String,
}

/// Where a check of the ledger stands: the entry expected next, the hash it must link to and
/// each container's running balance so far.
struct LedgerWalk {
    expected_seq: i64,
    prev: String,
    balances: std::collections::HashMap<String, f64>,
}

impl LedgerWalk {
    fn checked(&self) -> u64 {
        self.expected_seq.saturating_sub(1).unsigned_abs()
    }

    /// Checks the next entries in order (their place, link, hash and the container's running
    /// balance); the walk after them, or the first bad entry.
    fn check(mut self, rows: Vec<LedgerRow>) -> Result<LedgerWalk, LedgerBroken> {
        let broken = |seq: i64, id: &str, problem: String| LedgerBroken {
            seq,
            id: id.to_owned(),
            problem,
        };
        for row in rows {
            let (seq, id) = (row.seq, row.id.as_str());
            if seq != self.expected_seq {
                let expected = self.expected_seq;
                return Err(broken(
                    expected,
                    "missing",
                    format!("entry {expected} is missing (the next is {seq})"),
                ));
            }
            if row.prev_hash != self.prev {
                return Err(broken(
                    seq,
                    id,
                    "its previous hash is not the hash of the entry before it".into(),
                ));
            }
            let content = canonical(
                seq,
                id,
                &row.site_id,
                &row.kind,
                row.container.as_deref(),
                row.location.as_deref(),
                row.amount,
                row.balance,
                row.session.as_deref(),
                row.patient.as_deref(),
                &row.actor,
                row.witness.as_deref(),
                row.method.as_deref(),
                row.explanation.as_deref(),
                row.details.as_deref(),
                row.corrects_seq,
                row.at,
            );
            if chain_hash(&self.prev, &content) != row.hash {
                return Err(broken(
                    seq,
                    id,
                    "its content does not match its hash (altered)".into(),
                ));
            }
            if let (Some(c), Some(kind)) = (&row.container, EntryKind::parse(&row.kind)) {
                // ok: a container's first entry (its receipt) starts from nothing.
                let before = self.balances.get(c).copied().unwrap_or(0.0);
                let running = before + kind.delta(row.amount);
                let balance = row.balance;
                if (running - balance).abs() > 0.002 || running < -0.002 {
                    return Err(broken(
                        seq,
                        id,
                        format!(
                            "the container's running balance is {running:.3} mg but the entry says {balance:.3} mg"
                        ),
                    ));
                }
                self.balances.insert(c.clone(), balance);
            }
            self.prev = row.hash;
            self.expected_seq += 1;
        }
        Ok(self)
    }
}

/// Rounds to the thousandth of a mg the ledger keeps (and never gives a negative zero, which
/// one database keeps and the other does not, and which prints differently in a hash).
fn mg(x: f64) -> f64 {
    unsigned_zero((x * 1000.0).round() / 1000.0)
}

/// `x`, with a negative zero made positive.
fn unsigned_zero(x: f64) -> f64 {
    if x == 0.0 { 0.0 } else { x }
}

/// The content an entry's hash covers, as one canonical JSON array.
#[allow(clippy::too_many_arguments)]
fn canonical(
    seq: i64,
    id: &str,
    site_id: &str,
    kind: &str,
    container_id: Option<&str>,
    location_id: Option<&str>,
    amount_mg: f64,
    balance_mg: f64,
    session_id: Option<&str>,
    patient_id: Option<&str>,
    actor_id: &str,
    witness_id: Option<&str>,
    method: Option<&str>,
    explanation: Option<&str>,
    details: Option<&str>,
    corrects_seq: Option<i64>,
    at_ms: i64,
) -> String {
    serde_json::json!([
        seq,
        id,
        site_id,
        kind,
        container_id,
        location_id,
        format!("{amount_mg:.3}"),
        format!("{balance_mg:.3}"),
        session_id,
        patient_id,
        actor_id,
        witness_id,
        method,
        explanation,
        details,
        corrects_seq,
        at_ms
    ])
    .to_string()
}

/// What one entry writes, before its place in the chain is known.
struct Pending<'a> {
    site_id: &'a str,
    kind: EntryKind,
    container_id: Option<&'a str>,
    location_id: Option<&'a str>,
    amount_mg: f64,
    balance_mg: f64,
    session_id: Option<&'a str>,
    patient_id: Option<&'a str>,
    actor_id: &'a str,
    witness_id: Option<&'a str>,
    method: Option<&'a str>,
    explanation: Option<&'a str>,
    details: Option<String>,
    corrects_seq: Option<i64>,
    at: Timestamp,
}

/// Takes the chain's head row for the rest of the transaction: the first statement of every
/// ledger transaction is this write, so on SQLite the transaction holds the write lock from its
/// start (a read first would meet a writer that committed in between and fail at once), and on
/// PostgreSQL entries take turns on the row.
async fn lock_chain(conn: &mut AnyConnection) -> Result<(), StoreError> {
    sqlx::query("update cs_chain set hash = hash where id = 1")
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Appends one entry at the chain's head (taking the head row first) and returns its number.
async fn append(conn: &mut AnyConnection, p: &Pending<'_>) -> Result<(i64, String), StoreError> {
    let head =
        sqlx::query("update cs_chain set seq = seq + 1 where id = 1 returning id, seq, hash")
            .fetch_one(&mut *conn)
            .await?;
    let r = RowReader::new(&head, "cs_chain", "id")?;
    let seq = r.int("seq")?;
    let prev = r.text("hash")?;
    let id = crate::new_id();
    let at = millis(p.at);
    let (amount, balance) = (mg(p.amount_mg), mg(p.balance_mg));
    let content = canonical(
        seq,
        &id,
        p.site_id,
        p.kind.code(),
        p.container_id,
        p.location_id,
        amount,
        balance,
        p.session_id,
        p.patient_id,
        p.actor_id,
        p.witness_id,
        p.method,
        p.explanation,
        p.details.as_deref(),
        p.corrects_seq,
        at,
    );
    let hash = chain_hash(&prev, &content);
    sqlx::query(
        "insert into cs_ledger (seq, id, site_id, kind, container_id, location_id, amount_mg,
             balance_mg, session_id, patient_id, actor_id, witness_id, method, explanation,
             details, corrects_seq, at, prev_hash, hash)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)",
    )
    .bind(seq)
    .bind(id.as_str())
    .bind(p.site_id)
    .bind(p.kind.code())
    .bind(p.container_id)
    .bind(p.location_id)
    .bind(amount)
    .bind(balance)
    .bind(p.session_id)
    .bind(p.patient_id)
    .bind(p.actor_id)
    .bind(p.witness_id)
    .bind(p.method)
    .bind(p.explanation)
    .bind(p.details.as_deref())
    .bind(p.corrects_seq)
    .bind(at)
    .bind(prev.as_str())
    .bind(hash.as_str())
    .execute(&mut *conn)
    .await?;
    sqlx::query("update cs_chain set hash = $1 where id = 1")
        .bind(hash.as_str())
        .execute(&mut *conn)
        .await?;
    Ok((seq, id))
}

fn form_of(r: &RowReader<'_>) -> Result<Form, StoreError> {
    match r.text("form")?.as_str() {
        "vial" => {
            let strength = r
                .opt_int("mg_per_ml")?
                .ok_or_else(|| r.corrupt("mg_per_ml", "a vial without a strength"))?;
            let ml = r
                .opt_float("ml")?
                .ok_or_else(|| r.corrupt("ml", "a vial without a volume"))?;
            Ok(Form::Vial {
                mg_per_ml: u32::try_from(strength)
                    .map_err(|_| r.corrupt("mg_per_ml", format!("{strength} is not a strength")))?,
                ml,
            })
        }
        "spravato_device" => Ok(Form::SpravatoDevice),
        other => Err(r.corrupt("form", format!("'{other}' is not a form"))),
    }
}

/// The one decoder of a ledger entry as the lists read it (with the actor's and witness's
/// emails joined in).
fn entry_from_row(r: &RowReader<'_>) -> Result<EntryRecord, StoreError> {
    Ok(EntryRecord {
        seq: r.int("seq")?,
        id: r.text("id")?,
        kind: r.parsed("kind", |s| EntryKind::parse(s).ok_or("not an entry kind"))?,
        container_id: r.opt_text("container_id")?,
        amount_mg: r.float("amount_mg")?,
        balance_mg: r.float("balance_mg")?,
        actor: r.text("actor")?,
        witness: r.opt_text("witness")?,
        at: r.instant("at")?,
        hash: r.text("hash")?,
    })
}

const CONTAINER_SELECT: &str = "select c.id, c.number, c.full_mg, c.balance_mg, l.form,
        l.mg_per_ml, l.ml, l.id as lot_id, l.lot, l.expires_on, o.name as location,
        (select min(e.at) from cs_ledger e
          where e.container_id = c.id and e.kind = 'administration') as opened_at
   from cs_containers c join cs_lots l on l.id = c.lot_id join cs_locations o on o.id = c.location_id";

fn container_from_row(row: &sqlx::any::AnyRow) -> Result<ContainerRecord, StoreError> {
    let r = RowReader::new(row, "cs_containers", "id")?;
    let number = r.int("number")?;
    Ok(ContainerRecord {
        id: r.text("id")?,
        form: form_of(&r)?,
        lot_id: r.text("lot_id")?,
        lot: r.text("lot")?,
        number: u32::try_from(number)
            .map_err(|_| r.corrupt("number", format!("{number} is not a number")))?,
        location: r.text("location")?,
        full_mg: r.float("full_mg")?,
        balance_mg: r.float("balance_mg")?,
        expires_on: r.parsed("expires_on", |s| s.parse::<Date>())?,
        opened_at: r.opt_instant("opened_at")?,
    })
}

/// A place to keep stock was not added: the site has one of that name (letters compared
/// without regard to case; on SQLite only the letters A to Z).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a place of that name exists already")]
pub struct PlaceNameTaken;

impl Store {
    /// Adds a place to keep stock, checked by `clinical::ledger::NewPlace`; its identifier, or
    /// the refusal when the site has a place of that name. The name is looked for and written under the ledger's
    /// lock, so two people adding the same place at once get one place and one refusal.
    #[tracing::instrument(skip_all)]
    pub async fn add_cs_location(
        &self,
        actor: &Actor,
        site_id: &SiteId,
        place: &ledger::NewPlace,
        now: Timestamp,
    ) -> Result<Result<String, PlaceNameTaken>, StoreError> {
        let id = crate::new_id();
        let mut tx = self.pool.begin().await?;
        lock_chain(&mut tx).await?;
        let taken: Option<String> = sqlx::query_scalar(
            "select id from cs_locations where site_id = $1 and lower(name) = lower($2)",
        )
        .bind(site_id.as_str())
        .bind(place.name())
        .fetch_optional(&mut *tx)
        .await?;
        if taken.is_some() {
            return Ok(Err(PlaceNameTaken));
        }
        sqlx::query(
            "insert into cs_locations (id, site_id, name, kind, created_at) values ($1, $2, $3, $4, $5)",
        )
        .bind(id.as_str())
        .bind(site_id.as_str())
        .bind(place.name())
        .bind(place.kind().code())
        .bind(millis(now))
        .execute(&mut *tx)
        .await?;
        let event = AuditEvent::new("ledger.location", AuditOutcome::Ok)
            .site(site_id.as_str())
            .entity("cs_location", id.as_str());
        audit::insert(&mut tx, now, actor, &event).await?;
        tx.commit().await?;
        Ok(Ok(id))
    }

    /// Every place to keep stock in the database (every site of the network), with its site's
    /// name: (id, site name, place name), by site and name.
    pub async fn all_cs_locations(&self) -> Result<Vec<(String, String, String)>, StoreError> {
        let rows = sqlx::query(
            "select l.id, s.name as site_name, l.name from cs_locations l
               join sites s on s.id = l.site_id order by s.name, l.name",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                let r = RowReader::new(row, "cs_locations", "id")?;
                Ok((r.text("id")?, r.text("site_name")?, r.text("name")?))
            })
            .collect()
    }

    /// The site's places to keep stock, by name.
    pub async fn cs_locations(&self, site_id: &SiteId) -> Result<Vec<LocationRecord>, StoreError> {
        let rows =
            sqlx::query("select id, name, kind from cs_locations where site_id = $1 order by name")
                .bind(site_id.as_str())
                .fetch_all(&self.pool)
                .await?;
        rows.iter()
            .map(|row| {
                let r = RowReader::new(row, "cs_locations", "id")?;
                Ok(LocationRecord {
                    id: r.text("id")?,
                    name: r.text("name")?,
                    kind: r.text("kind")?,
                })
            })
            .collect()
    }

    /// Receives containers of one lot: the lot, each container full, and one receipt entry per
    /// container. Refused with why when the product or the supplier's record is incomplete.
    #[tracing::instrument(skip_all)]
    pub async fn receive_stock(
        &self,
        actor: &Actor,
        site_id: &SiteId,
        receipt: &Receipt<'_>,
        now: Timestamp,
    ) -> Result<Result<Vec<String>, LedgerRefusal>, StoreError> {
        if let Err(e) = receipt.form.check() {
            return Ok(Err(e));
        }
        let s = receipt.supplier;
        let checked = (|| {
            Ok::<_, LedgerRefusal>((
                TextField::SupplierName.required(&s.name)?,
                TextField::SupplierAddress.required(&s.address)?,
                TextField::Invoice.required(&s.invoice)?,
                ledger::check_ndc(receipt.ndc)?,
                TextField::Lot.required(receipt.lot)?,
                ledger::check_dea_number(&s.dea_number)?,
            ))
        })();
        let (name, address, invoice, ndc, lot, dea) = match checked {
            Ok(c) => c,
            Err(e) => return Ok(Err(e)),
        };
        if !(1..=ledger::MAX_CONTAINERS).contains(&receipt.containers) {
            return Ok(Err(LedgerRefusal::Containers));
        }
        let Some(actor_id) = actor.user_id() else {
            return Err(StoreError::NotFound { entity: "user" });
        };
        let mut tx = self.pool.begin().await?;
        lock_chain(&mut tx).await?;
        let location: Option<String> =
            sqlx::query_scalar("select id from cs_locations where id = $1 and site_id = $2")
                .bind(receipt.location_id)
                .bind(site_id.as_str())
                .fetch_optional(&mut *tx)
                .await?;
        if location.is_none() {
            return Err(StoreError::NotFound {
                entity: "cs_location",
            });
        }
        let lot_id = crate::new_id();
        let (strength, ml, form) = match receipt.form {
            Form::Vial { mg_per_ml, ml } => (Some(i64::from(mg_per_ml)), Some(ml), "vial"),
            Form::SpravatoDevice => (None, None, "spravato_device"),
        };
        // Devices have no strength or volume: their columns are left out rather than bound as
        // null numbers (sqlx's Any driver types a null by its Rust type).
        let (columns, values) = if ml.is_some() {
            ("mg_per_ml, ml, ", "$13, $14, ")
        } else {
            ("", "")
        };
        let sql = format!(
            "insert into cs_lots (id, site_id, form, {columns}ndc, lot, expires_on, supplier_name,
                 supplier_address, supplier_dea, invoice, received_at, received_by)
             values ($1, $2, $3, {values}$4, $5, $6, $7, $8, $9, $10, $11, $12)"
        );
        let mut q = sqlx::query(&sql)
            .bind(lot_id.as_str())
            .bind(site_id.as_str())
            .bind(form)
            .bind(ndc)
            .bind(lot)
            .bind(receipt.expires_on.to_string())
            .bind(name)
            .bind(address)
            .bind(dea.as_str())
            .bind(invoice)
            .bind(millis(now))
            .bind(actor_id);
        if let (Some(strength), Some(ml)) = (strength, ml) {
            q = q.bind(strength).bind(ml);
        }
        q.execute(&mut *tx).await?;
        let full = mg(receipt.form.full_mg());
        let details = serde_json::json!({
            "supplier": name, "address": address, "dea_number": dea,
            "invoice": invoice, "ndc": ndc, "lot": lot,
            "expires_on": receipt.expires_on.to_string(), "form": receipt.form.label(),
        })
        .to_string();
        let mut ids = Vec::new();
        for number in 1..=receipt.containers {
            let id = crate::new_id();
            sqlx::query(
                "insert into cs_containers (id, site_id, lot_id, number, location_id, full_mg,
                     balance_mg, updated_at)
                 values ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind(id.as_str())
            .bind(site_id.as_str())
            .bind(lot_id.as_str())
            .bind(i64::from(number))
            .bind(receipt.location_id)
            .bind(full)
            .bind(full)
            .bind(millis(now))
            .execute(&mut *tx)
            .await?;
            append(
                &mut tx,
                &Pending {
                    site_id: site_id.as_str(),
                    kind: EntryKind::Receipt,
                    container_id: Some(&id),
                    location_id: Some(receipt.location_id),
                    amount_mg: full,
                    balance_mg: full,
                    session_id: None,
                    patient_id: None,
                    actor_id,
                    witness_id: None,
                    method: None,
                    explanation: None,
                    details: Some(details.clone()),
                    corrects_seq: None,
                    at: now,
                },
            )
            .await?;
            ids.push(id);
        }
        let event = AuditEvent::new("ledger.receipt", AuditOutcome::Ok)
            .site(site_id.as_str())
            .entity("cs_lot", lot_id.as_str())
            .detail(format!("containers={}", receipt.containers));
        audit::insert(&mut tx, now, actor, &event).await?;
        tx.commit().await?;
        Ok(Ok(ids))
    }

    /// Writes an entry that moves a container's balance (administration, waste, transfer,
    /// return, breakage, loss, theft, discrepancy, correction) or records it (count). The
    /// witness, where the kind needs one, is checked here with their own password; a loss or
    /// theft opens the DEA notice and Form 106 tasks with their deadlines (`today` is the
    /// clinic's date of discovery).
    #[tracing::instrument(skip_all, fields(kind = entry.kind.code()))]
    pub async fn write_ledger_entry(
        &self,
        actor: &Actor,
        site_id: &SiteId,
        entry: &NewEntry<'_>,
        witnessing_on: bool,
        today: Date,
        now: Timestamp,
    ) -> Result<Result<EntryRecord, LedgerRefusal>, StoreError> {
        let kind = entry.kind;
        if matches!(
            kind,
            EntryKind::Receipt
                | EntryKind::InitialInventory
                | EntryKind::BiennialInventory
                | EntryKind::TransferOut
                | EntryKind::TransferIn
        ) {
            return Err(StoreError::NotFound {
                entity: "ledger entry kind",
            });
        }
        let texts = TextField::Method
            .optional(entry.method)
            .and_then(|method| Ok((method, TextField::Explanation.optional(entry.explanation)?)));
        let (method, explanation) = match texts {
            Ok(t) => t,
            Err(e) => return Ok(Err(e)),
        };
        if let Err(e) = ledger::check_explanation(kind, explanation) {
            return Ok(Err(e));
        }
        let Some(actor_id) = actor.user_id().map(str::to_owned) else {
            return Err(StoreError::NotFound { entity: "user" });
        };
        // The witness: another member of the clinical staff of this site, with their password,
        // which counts toward their lockout when wrong. A witness named is a witness checked,
        // whether or not the kind needs one.
        let me = UserId(actor_id.clone());
        let mut witness_id: Option<UserId> = None;
        if let Some(w) = entry.witness {
            let Some(u) = self
                .user_by_email(w.email.trim())
                .await?
                .filter(|u| u.may_attest(site_id, w.sign_in))
            else {
                return Ok(Err(LedgerRefusal::WitnessNotStaff));
            };
            if u.id == me {
                return Ok(Err(LedgerRefusal::WitnessIsActor));
            }
            let said = self
                .confirm_password(actor, &u, w.password, "ledger-witness", w.sign_in, now)
                .await?;
            match said {
                Confirmation::Right => witness_id = Some(u.id),
                Confirmation::Wrong => return Ok(Err(LedgerRefusal::WitnessPassword)),
                Confirmation::Locked { .. } => return Ok(Err(LedgerRefusal::WitnessLocked)),
            }
        }
        if let Err(e) = ledger::check_witness(
            kind,
            witnessing_on,
            &me,
            witness_id.as_ref(),
            witness_id.is_some(),
        ) {
            return Ok(Err(e));
        }
        let mut tx = self.pool.begin().await?;
        lock_chain(&mut tx).await?;
        let current: Option<(f64, String)> = {
            let row = sqlx::query(
                "select id, balance_mg, location_id from cs_containers where id = $1 and site_id = $2",
            )
            .bind(entry.container_id)
            .bind(site_id.as_str())
            .fetch_optional(&mut *tx)
            .await?;
            match row {
                None => None,
                Some(row) => {
                    let r = RowReader::new(&row, "cs_containers", "id")?;
                    Some((r.float("balance_mg")?, r.text("location_id")?))
                }
            }
        };
        let Some((balance, location)) = current else {
            return Err(StoreError::NotFound {
                entity: "cs_container",
            });
        };
        // What the entry moves: a count moves nothing; the rest by kind and sign.
        let delta = kind.delta(entry.amount_mg);
        if let Err(e) = ledger::apply(kind, balance, entry.amount_mg) {
            return Ok(Err(e));
        }
        // The guarded take: one statement, so two at once can never both pass the check.
        let moved = sqlx::query(
            "update cs_containers set balance_mg = balance_mg + $3, updated_at = $4,
                    location_id = coalesce($5, location_id)
              where id = $1 and site_id = $2 and balance_mg + $3 >= -0.0005
              returning id, balance_mg",
        )
        .bind(entry.container_id)
        .bind(site_id.as_str())
        .bind(mg(delta))
        .bind(millis(now))
        .bind(entry.to_location_id)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(moved) = moved else {
            // Another entry took it first: say what it holds now.
            drop(tx);
            let now_holds: f64 =
                sqlx::query_scalar("select balance_mg from cs_containers where id = $1")
                    .bind(entry.container_id)
                    .fetch_one(&self.pool)
                    .await?;
            return Ok(Err(LedgerRefusal::BelowZero {
                balance_mg: now_holds,
                amount_mg: -delta,
            }));
        };
        let after: f64 = RowReader::new(&moved, "cs_containers", "id")?.float("balance_mg")?;
        // A rounding crumb left by a take of the whole is zero.
        let after = if after.abs() < ledger::MG_EPSILON {
            0.0
        } else {
            after
        };
        let p = Pending {
            site_id: site_id.as_str(),
            kind,
            container_id: Some(entry.container_id),
            // An entry that moves nothing stays where the container is.
            location_id: Some(entry.to_location_id.unwrap_or(&location)),
            amount_mg: if kind.direction() == 0 {
                entry.amount_mg
            } else {
                entry.amount_mg.abs()
            },
            balance_mg: after,
            session_id: entry.session_id.map(SessionId::as_str),
            patient_id: entry.patient_id.map(PatientId::as_str),
            actor_id: &actor_id,
            witness_id: witness_id.as_ref().map(UserId::as_str),
            method,
            explanation,
            details: None,
            corrects_seq: entry.corrects_seq,
            at: now,
        };
        let (seq, id) = append(&mut tx, &p).await?;
        if kind.opens_dea_report() {
            let (notice, form) = ledger::dea_deadlines(today);
            for (task, due) in [("field_division_notice", notice), ("form_106", form)] {
                sqlx::query(
                    "insert into cs_dea_tasks (id, site_id, entry_seq, kind, due_on)
                     values ($1, $2, $3, $4, $5)",
                )
                .bind(crate::new_id())
                .bind(site_id.as_str())
                .bind(seq)
                .bind(task)
                .bind(due.to_string())
                .execute(&mut *tx)
                .await?;
            }
        }
        let mut event = AuditEvent::new("ledger.entry", AuditOutcome::Ok)
            .site(site_id.as_str())
            .entity("cs_ledger", id.as_str())
            .detail(format!("kind={}", kind.code()));
        if let Some(pid) = entry.patient_id {
            event = event.patient(pid.as_str());
        }
        audit::insert(&mut tx, now, actor, &event).await?;
        tx.commit().await?;
        Ok(Ok(EntryRecord {
            seq,
            id,
            kind,
            container_id: Some(entry.container_id.to_owned()),
            amount_mg: mg(p.amount_mg),
            balance_mg: mg(after),
            actor: actor.label().to_owned(),
            witness: entry.witness.map(|w| w.email.trim().to_owned()),
            // ok: to the millisecond as stored; `now` is a real instant, always in range.
            at: Timestamp::from_millisecond(millis(now)).unwrap_or(now),
            hash: String::new(),
        }))
    }

    /// A physical count of a container: a count entry when it matches, else a discrepancy of
    /// the difference, which needs an explanation.
    #[allow(clippy::too_many_arguments)]
    #[tracing::instrument(skip_all)]
    pub async fn count_container(
        &self,
        actor: &Actor,
        site_id: &SiteId,
        container_id: &str,
        counted_mg: f64,
        explanation: Option<&str>,
        today: Date,
        now: Timestamp,
    ) -> Result<Result<EntryRecord, LedgerRefusal>, StoreError> {
        let expected: Option<f64> = sqlx::query_scalar(
            "select balance_mg from cs_containers where id = $1 and site_id = $2",
        )
        .bind(container_id)
        .bind(site_id.as_str())
        .fetch_optional(&self.pool)
        .await?;
        let Some(expected) = expected else {
            return Err(StoreError::NotFound {
                entity: "cs_container",
            });
        };
        let entry = match ledger::count_difference(expected, counted_mg) {
            Err(e) => return Ok(Err(e)),
            Ok(None) => NewEntry {
                explanation,
                ..NewEntry::new(EntryKind::Count, container_id, mg(counted_mg))
            },
            Ok(Some(d)) => NewEntry {
                explanation,
                ..NewEntry::new(EntryKind::Discrepancy, container_id, mg(d))
            },
        };
        self.write_ledger_entry(actor, site_id, &entry, true, today, now)
            .await
    }

    /// An inventory (initial or biennial): one entry per container holding stock, recording its
    /// balance, and one for the site as a whole (so an initial inventory of nothing is
    /// recorded too); the number of containers counted.
    #[tracing::instrument(skip_all)]
    pub async fn take_inventory(
        &self,
        actor: &Actor,
        site_id: &SiteId,
        kind: EntryKind,
        now: Timestamp,
    ) -> Result<usize, StoreError> {
        if !matches!(
            kind,
            EntryKind::InitialInventory | EntryKind::BiennialInventory
        ) {
            return Err(StoreError::NotFound {
                entity: "inventory kind",
            });
        }
        let Some(actor_id) = actor.user_id().map(str::to_owned) else {
            return Err(StoreError::NotFound { entity: "user" });
        };
        let mut tx = self.pool.begin().await?;
        lock_chain(&mut tx).await?;
        let rows = sqlx::query(
            "select id, balance_mg, location_id from cs_containers
              where site_id = $1 and balance_mg > 0 order by id",
        )
        .bind(site_id.as_str())
        .fetch_all(&mut *tx)
        .await?;
        let mut held = Vec::with_capacity(rows.len());
        for row in &rows {
            let r = RowReader::new(row, "cs_containers", "id")?;
            held.push((
                r.text("id")?,
                r.float("balance_mg")?,
                r.text("location_id")?,
            ));
        }
        let total: f64 = held.iter().map(|h| h.1).sum();
        for (id, balance, location) in &held {
            append(
                &mut tx,
                &Pending {
                    site_id: site_id.as_str(),
                    kind,
                    container_id: Some(id),
                    location_id: Some(location),
                    amount_mg: *balance,
                    balance_mg: *balance,
                    session_id: None,
                    patient_id: None,
                    actor_id: &actor_id,
                    witness_id: None,
                    method: None,
                    explanation: None,
                    details: None,
                    corrects_seq: None,
                    at: now,
                },
            )
            .await?;
        }
        append(
            &mut tx,
            &Pending {
                site_id: site_id.as_str(),
                kind,
                container_id: None,
                location_id: None,
                amount_mg: total,
                balance_mg: total,
                session_id: None,
                patient_id: None,
                actor_id: &actor_id,
                witness_id: None,
                method: None,
                explanation: None,
                details: Some(serde_json::json!({ "containers": held.len() }).to_string()),
                corrects_seq: None,
                at: now,
            },
        )
        .await?;
        let event = AuditEvent::new("ledger.inventory", AuditOutcome::Ok)
            .site(site_id.as_str())
            .detail(format!("kind={} containers={}", kind.code(), held.len()));
        audit::insert(&mut tx, now, actor, &event).await?;
        tx.commit().await?;
        Ok(held.len())
    }

    /// The site's stock on hand: its containers that still hold drug, by lot and number.
    /// Emptied containers are left out (their movements stay in the ledger), so what this
    /// reads is bounded by what the clinic holds, not by every vial it ever received.
    #[tracing::instrument(skip_all)]
    pub async fn cs_stock(&self, site_id: &SiteId) -> Result<Vec<ContainerRecord>, StoreError> {
        let rows = sqlx::query(&format!(
            "{CONTAINER_SELECT} where c.site_id = $1 and c.balance_mg > 0
              order by l.lot, c.number"
        ))
        .bind(site_id.as_str())
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(container_from_row).collect()
    }

    /// How many of the site's containers are empty (used up, wasted, broken or lost).
    #[tracing::instrument(skip_all)]
    pub async fn cs_emptied(&self, site_id: &SiteId) -> Result<i64, StoreError> {
        Ok(sqlx::query_scalar(
            "select count(*) from cs_containers where site_id = $1 and balance_mg <= 0",
        )
        .bind(site_id.as_str())
        .fetch_one(&self.pool)
        .await?)
    }

    /// The site's containers among `ids`, empty or not, by lot and number (ids of other sites
    /// and unknown ids are left out).
    #[tracing::instrument(skip_all)]
    pub async fn cs_containers_among(
        &self,
        site_id: &SiteId,
        ids: &[String],
    ) -> Result<Vec<ContainerRecord>, StoreError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "{CONTAINER_SELECT} where c.site_id = $1 and c.id in ({})
              order by l.lot, c.number",
            crate::placeholders(2, ids.len())
        );
        let mut query = sqlx::query(&sql).bind(site_id.as_str());
        for id in ids {
            query = query.bind(id.as_str());
        }
        let rows = query.fetch_all(&self.pool).await?;
        rows.iter().map(container_from_row).collect()
    }

    /// The site's ledger entries from `from` to `to`, in chain order.
    pub async fn ledger_entries(
        &self,
        site_id: &SiteId,
        from: Timestamp,
        to: Timestamp,
    ) -> Result<Vec<EntryRecord>, StoreError> {
        let rows = sqlx::query(
            "select e.seq, e.id, e.kind, e.container_id, e.amount_mg, e.balance_mg, e.at, e.hash,
                    a.email as actor, w.email as witness
               from cs_ledger e join users a on a.id = e.actor_id
               left join users w on w.id = e.witness_id
              where e.site_id = $1 and e.at >= $2 and e.at <= $3 order by e.seq",
        )
        .bind(site_id.as_str())
        .bind(millis(from))
        .bind(millis(to))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| entry_from_row(&RowReader::new(row, "cs_ledger", "id")?))
            .collect()
    }

    /// The DEA tasks still open at the site: (kind, due date, ledger entry number).
    pub async fn open_dea_tasks(
        &self,
        site_id: &SiteId,
    ) -> Result<Vec<(String, Date, i64)>, StoreError> {
        let rows = sqlx::query(
            "select id, kind, due_on, entry_seq from cs_dea_tasks
              where site_id = $1 and done_on is null order by due_on, kind",
        )
        .bind(site_id.as_str())
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                let r = RowReader::new(row, "cs_dea_tasks", "id")?;
                Ok((
                    r.text("kind")?,
                    r.parsed("due_on", |s| s.parse::<Date>())?,
                    r.int("entry_seq")?,
                ))
            })
            .collect()
    }

    /// The site's latest inventory (initial or biennial): its kind and when it was taken.
    #[tracing::instrument(skip_all)]
    pub async fn last_inventory(
        &self,
        site_id: &SiteId,
    ) -> Result<Option<(EntryKind, Timestamp)>, StoreError> {
        // Each inventory writes one line for the site as a whole, without a container.
        let row = sqlx::query(
            "select id, kind, at from cs_ledger
              where site_id = $1 and container_id is null
                and kind in ('initial_inventory', 'biennial_inventory')
              order by seq desc limit 1",
        )
        .bind(site_id.as_str())
        .fetch_optional(&self.pool)
        .await?;
        row.map(|row| {
            let r = RowReader::new(&row, "cs_ledger", "id")?;
            Ok((
                r.parsed("kind", |s| EntryKind::parse(s).ok_or("not an entry kind"))?,
                r.instant("at")?,
            ))
        })
        .transpose()
    }

    /// Checks the whole ledger: every entry's number follows the last, its previous hash is the
    /// last entry's hash, its own hash is that of its content, each container's running balance
    /// is what the entry says and ends where the container says, and the chain's head is the
    /// last entry. The number of entries checked, or the first bad entry. Entries are read
    /// [`crate::VERIFY_CHUNK`] at a time, each chunk by a statement of its own, and checked on
    /// the blocking pool, never on an executor thread.
    #[tracing::instrument(skip_all)]
    pub async fn verify_ledger(&self) -> Result<Result<u64, LedgerBroken>, StoreError> {
        self.verify_ledger_with_progress(&|_, _| {}).await
    }

    /// [`Store::verify_ledger`], telling `progress` (entries checked, entries in the chain)
    /// after each chunk.
    #[tracing::instrument(skip_all)]
    pub async fn verify_ledger_with_progress(
        &self,
        progress: &(dyn Fn(u64, u64) + Send + Sync),
    ) -> Result<Result<u64, LedgerBroken>, StoreError> {
        // The head, every container's balance and any entry beyond the head, from one
        // snapshot held only for these statements: the balances are those the entries up to
        // that head add up to, whatever is written while the entries are checked.
        let (head_seq, head_hash, held, shared, beyond) = {
            let mut conn = self.pool.acquire().await?;
            let mut tx = crate::chain::snapshot(&mut conn, self.backend()).await?;
            let (head_seq, head_hash) = crate::chain::read_head(&mut tx, "cs_chain").await?;
            let rows = sqlx::query("select id, balance_mg from cs_containers order by id")
                .fetch_all(&mut *tx)
                .await?;
            let mut held = Vec::with_capacity(rows.len());
            for row in &rows {
                let r = RowReader::new(row, "cs_containers", "id")?;
                held.push((r.text("id")?, r.float("balance_mg")?));
            }
            let shared = crate::chain::first_shared_place(&mut tx, "cs_ledger", head_seq).await?;
            let beyond =
                sqlx::query("select seq, id from cs_ledger where seq > $1 order by seq limit 1")
                    .bind(head_seq)
                    .fetch_optional(&mut *tx)
                    .await?;
            let beyond = match &beyond {
                Some(row) => {
                    let r = RowReader::new(row, "cs_ledger", "seq")?;
                    Some((r.int("seq")?, r.text("id")?))
                }
                None => None,
            };
            tx.rollback().await?;
            (head_seq, head_hash, held, shared, beyond)
        };
        let broken = |seq: i64, id: &str, problem: String| {
            Ok(Err(LedgerBroken {
                seq,
                id: id.to_owned(),
                problem,
            }))
        };
        if let Some(seq) = shared {
            return broken(
                seq,
                "shared",
                "more than one entry claims this place (one was written behind the application's back)"
                    .into(),
            );
        }
        let start = LedgerWalk {
            expected_seq: 1,
            prev: GENESIS_HASH.to_owned(),
            balances: Default::default(),
        };
        let decode = |row: &sqlx::any::AnyRow| {
            let r = RowReader::new(row, "cs_ledger", "seq")?;
            Ok(LedgerRow {
                seq: r.int("seq")?,
                id: r.text("id")?,
                site_id: r.text("site_id")?,
                kind: r.text("kind")?,
                container: r.opt_text("container_id")?,
                location: r.opt_text("location_id")?,
                amount: unsigned_zero(r.float("amount_mg")?),
                balance: unsigned_zero(r.float("balance_mg")?),
                session: r.opt_text("session_id")?,
                patient: r.opt_text("patient_id")?,
                actor: r.text("actor_id")?,
                witness: r.opt_text("witness_id")?,
                method: r.opt_text("method")?,
                explanation: r.opt_text("explanation")?,
                details: r.opt_text("details")?,
                corrects_seq: r.opt_int("corrects_seq")?,
                at: r.int("at")?,
                prev_hash: r.text("prev_hash")?,
                hash: r.text("hash")?,
            })
        };
        let rows = crate::chain::links_up_to(
            self.pool.clone(),
            "select seq, id, site_id, kind, container_id, location_id, amount_mg, balance_mg,
                    session_id, patient_id, actor_id, witness_id, method, explanation, details,
                    corrects_seq, at, prev_hash, hash
               from cs_ledger where seq > $1 and seq <= $2 order by seq limit $3"
                .to_owned(),
            head_seq,
        );
        // The ledger is checked whole: no deadline stops it.
        let total = head_seq.unsigned_abs();
        let told = |walk: &LedgerWalk| {
            progress(walk.checked(), total);
            false
        };
        let walk = match walk_in_chunks(rows, start, decode, LedgerWalk::check, told).await? {
            Walked::Done(walk) | Walked::Stopped(walk) => walk,
            Walked::Broken(broken) => return Ok(Err(broken)),
        };
        let checked = walk.checked();
        let LedgerWalk {
            expected_seq,
            prev,
            balances,
        } = walk;
        if head_seq != expected_seq - 1 || head_hash != prev {
            return broken(
                expected_seq,
                "missing",
                format!(
                    "the chain's head is entry {head_seq} but the ledger ends at entry {}",
                    expected_seq - 1
                ),
            );
        }
        if let Some((seq, id)) = beyond {
            return broken(
                seq,
                &id,
                "the entry lies beyond the chain's head (added behind the application's back)"
                    .into(),
            );
        }
        for (id, held) in held {
            // ok: a container no entry names (none received into it) adds up to nothing.
            let from_ledger = balances.get(&id).copied().unwrap_or(0.0);
            if (held - from_ledger).abs() > 0.002 {
                return broken(
                    expected_seq - 1,
                    &id,
                    format!(
                        "container {id} holds {held:.3} mg but its entries add up to {from_ledger:.3} mg"
                    ),
                );
            }
        }
        Ok(Ok(checked))
    }
}

/// Checks the containers a session's dose is to be drawn from: each this site's, of the
/// session's kind (vials for racemic ketamine, devices for esketamine), and together holding
/// the dose. `Ok(Err(why))` in words for the dose form.
pub(crate) async fn check_containers(
    conn: &mut AnyConnection,
    site_id: &SiteId,
    ids: &[String],
    devices: bool,
    dose_mg: f64,
    rule: &StockRule,
) -> Result<Result<(), String>, StoreError> {
    let mut held = 0.0;
    for id in ids {
        let row = sqlx::query(&format!(
            "{CONTAINER_SELECT} where c.id = $1 and c.site_id = $2"
        ))
        .bind(id.as_str())
        .bind(site_id.as_str())
        .fetch_optional(&mut *conn)
        .await?;
        let Some(row) = row else {
            return Ok(Err(
                "choose the vials or devices from this clinic's stock".into()
            ));
        };
        let c = container_from_row(&row)?;
        if devices != c.form.is_device() {
            return Ok(Err(format!(
                "{} #{} of lot {} is not what this session gives",
                c.form.label(),
                c.number,
                c.lot
            )));
        }
        if let Err(why) = rule.check(c.expires_on, c.opened_at) {
            return Ok(Err(unusable_words(&c, why)));
        }
        held += c.balance_mg;
    }
    if held + ledger::MG_EPSILON < dose_mg {
        return Ok(Err(format!(
            "the chosen stock holds {held:.1} mg, less than the {dose_mg:.1} mg dose; choose more"
        )));
    }
    Ok(Ok(()))
}

/// Why a container may not be drawn from, in words for the dose form.
pub(crate) fn unusable_words(c: &ContainerRecord, why: Unusable) -> String {
    match why {
        Unusable::Expired { on } => format!(
            "lot {} expired on {on}: draw the dose from a lot in date, and return or waste the expired stock in the ledger",
            c.lot
        ),
        Unusable::BeyondUse { opened_on, from } => format!(
            "{} #{} of lot {} was opened on {opened_on} and may not be used from {from}: draw the dose from another, and waste its remainder in the ledger",
            c.form.label(),
            c.number,
            c.lot
        ),
    }
}

/// Writes a session's administration: the dose taken from its containers in order, one entry
/// each, with the session and the patient. `Ok(Err(why))` when they no longer hold the dose
/// (another session drew from them since), and nothing is taken.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn administer(
    conn: &mut AnyConnection,
    site_id: &SiteId,
    ids: &[String],
    dose_mg: f64,
    session_id: &SessionId,
    patient_id: &PatientId,
    actor: &Actor,
    now: Timestamp,
) -> Result<Result<(), String>, StoreError> {
    let Some(actor_id) = actor.user_id() else {
        return Err(StoreError::NotFound { entity: "user" });
    };
    lock_chain(conn).await?;
    // Under the chain's lock no other entry moves a container, so what is read here holds.
    let mut plan = Vec::new();
    let mut left = mg(dose_mg);
    for id in ids {
        if left <= ledger::MG_EPSILON {
            break;
        }
        let row = sqlx::query(
            "select id, balance_mg, location_id from cs_containers where id = $1 and site_id = $2",
        )
        .bind(id.as_str())
        .bind(site_id.as_str())
        .fetch_optional(&mut *conn)
        .await?;
        let Some(row) = row else { continue };
        let r = RowReader::new(&row, "cs_containers", "id")?;
        let balance = r.float("balance_mg")?;
        let take = mg(balance.min(left));
        if take > 0.0 {
            plan.push((id.as_str(), take, balance, r.text("location_id")?));
            left = mg(left - take);
        }
    }
    if left > ledger::MG_EPSILON {
        return Ok(Err(format!(
            "the chosen vials or devices now hold {:.1} mg less than the dose; verify the dose again with other stock",
            left
        )));
    }
    for (id, take, balance, location) in plan {
        sqlx::query(
            "update cs_containers set balance_mg = balance_mg - $2, updated_at = $3 where id = $1",
        )
        .bind(id)
        .bind(take)
        .bind(millis(now))
        .execute(&mut *conn)
        .await?;
        let after = mg(balance - take);
        append(
            conn,
            &Pending {
                site_id: site_id.as_str(),
                kind: EntryKind::Administration,
                container_id: Some(id),
                location_id: Some(&location),
                amount_mg: take,
                balance_mg: if after.abs() < ledger::MG_EPSILON {
                    0.0
                } else {
                    after
                },
                session_id: Some(session_id.as_str()),
                patient_id: Some(patient_id.as_str()),
                actor_id,
                witness_id: None,
                method: None,
                explanation: None,
                details: None,
                corrects_seq: None,
                at: now,
            },
        )
        .await?;
    }
    Ok(Ok(()))
}

/// A lot with stock, as the dose form offers it and the ledger's stock shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct LotInStock {
    /// The lot's identifier.
    pub id: String,
    /// Its lot number.
    pub lot: String,
    /// What its containers are.
    pub form: Form,
    /// Containers still holding some.
    pub containers: u32,
    /// Of those, the ones drawn from already (holding less than full).
    pub opened: u32,
    /// What they hold together, mg.
    pub held_mg: f64,
    /// Expiry.
    pub expires_on: Date,
}

impl LotInStock {
    /// `containers` by lot, in the order their lots first come, each with what its
    /// containers hold together.
    pub fn group<'a>(containers: impl IntoIterator<Item = &'a ContainerRecord>) -> Vec<Self> {
        let mut out: Vec<LotInStock> = Vec::new();
        for c in containers {
            let opened = u32::from(c.balance_mg + ledger::MG_EPSILON < c.full_mg);
            match out.iter_mut().find(|l| l.id == c.lot_id) {
                Some(l) => {
                    l.containers += 1;
                    l.opened += opened;
                    l.held_mg += c.balance_mg;
                }
                None => out.push(LotInStock {
                    id: c.lot_id.clone(),
                    lot: c.lot.clone(),
                    form: c.form,
                    containers: 1,
                    opened,
                    held_mg: c.balance_mg,
                    expires_on: c.expires_on,
                }),
            }
        }
        out
    }
}

/// The lots of the site's stock ([`Store::cs_stock`]) a session of one kind (devices for
/// esketamine, else vials) may be offered, soonest expiry first, without the opened vials past
/// their days (`rule`); a lot whose only containers are such vials is left out. Expired lots
/// stay in, for the dose form to name.
pub fn usable_lots(stock: &[ContainerRecord], devices: bool, rule: &StockRule) -> Vec<LotInStock> {
    let mut usable: Vec<&ContainerRecord> = stock
        .iter()
        .filter(|c| {
            devices == c.form.is_device()
                && !matches!(
                    rule.check(c.expires_on, c.opened_at),
                    Err(Unusable::BeyondUse { .. })
                )
        })
        .collect();
    usable.sort_by(|a, b| (a.expires_on, &a.lot, a.number).cmp(&(b.expires_on, &b.lot, b.number)));
    LotInStock::group(usable)
}

impl Store {
    /// The site's lots a session of one kind may be offered ([`usable_lots`]).
    pub async fn lots_in_stock(
        &self,
        site_id: &SiteId,
        devices: bool,
        rule: &StockRule,
    ) -> Result<Vec<LotInStock>, StoreError> {
        Ok(usable_lots(&self.cs_stock(site_id).await?, devices, rule))
    }

    /// The containers of a lot a dose is drawn from: an opened one first, then full ones, as
    /// many as the dose needs, none that `rule` keeps from use; `Ok(Err(why))` when the lot
    /// holds too little.
    pub async fn pick_containers(
        &self,
        site_id: &SiteId,
        lot_id: &str,
        dose_mg: f64,
        rule: &StockRule,
    ) -> Result<Result<Vec<String>, String>, StoreError> {
        let rows = sqlx::query(&format!(
            "{CONTAINER_SELECT} where c.site_id = $1 and c.lot_id = $2 and c.balance_mg > 0
              order by c.balance_mg, c.number"
        ))
        .bind(site_id.as_str())
        .bind(lot_id)
        .fetch_all(&self.pool)
        .await?;
        let mut picked = Vec::new();
        let mut held = 0.0;
        for row in &rows {
            if held + ledger::MG_EPSILON >= dose_mg {
                break;
            }
            let c = container_from_row(row)?;
            if rule.check(c.expires_on, c.opened_at).is_err() {
                continue;
            }
            held += c.balance_mg;
            picked.push(c.id);
        }
        if held + ledger::MG_EPSILON < dose_mg {
            return Ok(Err(format!(
                "that lot holds {held:.1} mg, less than the {dose_mg:.1} mg dose; choose another lot"
            )));
        }
        Ok(Ok(picked))
    }
}

/// One line of the dispensing log: an entry with what it concerns.
#[derive(Debug, Clone, PartialEq)]
pub struct LogRow {
    /// The entry.
    pub entry: EntryRecord,
    /// The container's product, lot and number, if it concerns one.
    pub container: Option<(Form, String, u32)>,
    /// Where.
    pub location: Option<String>,
    /// The patient's name and record number (administrations).
    pub patient: Option<(String, String)>,
    /// The session (administrations).
    pub session_id: Option<String>,
    /// How it was wasted, returned or moved.
    pub method: Option<String>,
    /// What happened, in words.
    pub explanation: Option<String>,
    /// What the entry records beyond its amount (a receipt's paperwork, an inventory's count).
    pub details: Option<EntryDetails>,
}

/// What a ledger entry records beyond its amount, as the ledger stores it (JSON in
/// `cs_ledger.details`, part of the hashed content, so its stored form never changes).
#[derive(Debug, Clone, PartialEq, serde::Deserialize)]
#[serde(untagged)]
pub enum EntryDetails {
    /// A receipt: the supplier's paperwork the DEA asks a registrant to keep.
    Receipt {
        /// Supplier's name.
        supplier: String,
        /// Supplier's address.
        address: String,
        /// Supplier's DEA registration number.
        dea_number: String,
        /// Invoice or packing slip number.
        invoice: String,
        /// National Drug Code as typed.
        ndc: String,
        /// Lot number.
        lot: String,
        /// Expiry date, `YYYY-MM-DD`.
        expires_on: String,
        /// The product received, in words.
        form: String,
    },
    /// An inventory's line for the whole site: how many containers it counted.
    Inventory {
        /// Containers counted.
        containers: u64,
    },
}

/// A session's dose against what the ledger says it took.
#[derive(Debug, Clone, PartialEq)]
pub struct ReconciliationRow {
    /// The session.
    pub session_id: String,
    /// When administration started.
    pub started_at: Timestamp,
    /// The patient's name and record number.
    pub patient: (String, String),
    /// The verified dose, mg.
    pub dose_mg: f64,
    /// What the ledger's administration entries of the session add up to, mg.
    pub ledger_mg: f64,
}

impl ReconciliationRow {
    /// The dose not accounted for in the ledger, mg (negative: the ledger took more).
    pub fn gap_mg(&self) -> f64 {
        mg(self.dose_mg - self.ledger_mg)
    }
}

impl Store {
    /// The dispensing log of a period: every ledger entry of the site from `from` to `to` (of
    /// the kinds in `only`, or of every kind when it is empty), with its container, lot, patient
    /// and session, in chain order. Bounded to the first `limit` lines.
    pub async fn dispensing_log(
        &self,
        site_id: &SiteId,
        from: Timestamp,
        to: Timestamp,
        only: &[EntryKind],
        limit: u32,
    ) -> Result<Vec<LogRow>, StoreError> {
        let kinds = if only.is_empty() {
            String::new()
        } else {
            format!(" and e.kind in ({})", crate::placeholders(5, only.len()))
        };
        let sql = format!(
            "select e.seq, e.id, e.kind, e.container_id, e.amount_mg, e.balance_mg, e.at, e.hash,
                    a.email as actor, w.email as witness, e.method, e.explanation, e.details,
                    e.session_id, l.form, l.mg_per_ml, l.ml, l.lot, c.number, o.name as location,
                    p.given_name || ' ' || p.family_name as patient_name, p.mrn
               from cs_ledger e join users a on a.id = e.actor_id
               left join users w on w.id = e.witness_id
               left join cs_containers c on c.id = e.container_id
               left join cs_lots l on l.id = c.lot_id
               left join cs_locations o on o.id = e.location_id
               left join patients p on p.id = e.patient_id
              where e.site_id = $1 and e.at >= $2 and e.at <= $3{kinds} order by e.seq limit $4"
        );
        let mut query = sqlx::query(&sql)
            .bind(site_id.as_str())
            .bind(millis(from))
            .bind(millis(to))
            .bind(i64::from(limit));
        for kind in only {
            query = query.bind(kind.code());
        }
        let rows = query.fetch_all(&self.pool).await?;
        rows.iter()
            .map(|row| {
                let r = RowReader::new(row, "cs_ledger", "id")?;
                let container = match r.opt_text("lot")? {
                    None => None,
                    Some(lot) => {
                        let number = r.int("number")?;
                        Some((
                            form_of(&r)?,
                            lot,
                            u32::try_from(number).map_err(|_| {
                                r.corrupt("number", format!("{number} is not a number"))
                            })?,
                        ))
                    }
                };
                let patient = match (r.opt_text("patient_name")?, r.opt_text("mrn")?) {
                    (Some(n), Some(m)) => Some((n, m)),
                    _ => None,
                };
                Ok(LogRow {
                    entry: entry_from_row(&r)?,
                    container,
                    location: r.opt_text("location")?,
                    patient,
                    session_id: r.opt_text("session_id")?,
                    method: r.opt_text("method")?,
                    explanation: r.opt_text("explanation")?,
                    details: match r.opt_text("details")? {
                        None => None,
                        Some(text) => Some(serde_json::from_str(&text).map_err(|e| {
                            r.corrupt("details", format!("not the details of an entry: {e}"))
                        })?),
                    },
                })
            })
            .collect()
    }

    /// Every session of the site whose administration started from `from` to `to`, with its
    /// verified dose and what the ledger's administration entries of it add up to. Bounded to
    /// the first `limit` sessions.
    pub async fn reconciliation(
        &self,
        site_id: &SiteId,
        from: Timestamp,
        to: Timestamp,
        limit: u32,
    ) -> Result<Vec<ReconciliationRow>, StoreError> {
        let rows = sqlx::query(
            "select s.id, s.started_at, s.dose_mg,
                    p.given_name || ' ' || p.family_name as patient_name, p.mrn,
                    (select count(*) from cs_ledger e
                      where e.session_id = s.id and e.kind = 'administration') as entries,
                    (select sum(e.amount_mg) from cs_ledger e
                      where e.session_id = s.id and e.kind = 'administration') as ledger_mg
               from treatment_sessions s join patients p on p.id = s.patient_id
              where s.site_id = $1 and s.started_at >= $2 and s.started_at <= $3
              order by s.started_at, s.id limit $4",
        )
        .bind(site_id.as_str())
        .bind(millis(from))
        .bind(millis(to))
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                let r = RowReader::new(row, "treatment_sessions", "id")?;
                let ledger_mg = if r.int("entries")? == 0 {
                    0.0
                } else {
                    r.float("ledger_mg")?
                };
                Ok(ReconciliationRow {
                    session_id: r.text("id")?,
                    started_at: r.instant("started_at")?,
                    patient: (r.text("patient_name")?, r.text("mrn")?),
                    dose_mg: r
                        .opt_float("dose_mg")?
                        .ok_or_else(|| r.corrupt("dose_mg", "started without a dose"))?,
                    ledger_mg,
                })
            })
            .collect()
    }
}

impl Store {
    /// Moves a container to another place, of this site or of another site of the network in
    /// the same database: a transfer out of the old place (at this site) and a transfer in to
    /// the new one (at its site), of what it holds, in one transaction.
    #[tracing::instrument(skip_all)]
    pub async fn transfer_container(
        &self,
        actor: &Actor,
        site_id: &SiteId,
        container_id: &str,
        to_location_id: &str,
        now: Timestamp,
    ) -> Result<Result<(), LedgerRefusal>, StoreError> {
        let Some(actor_id) = actor.user_id() else {
            return Err(StoreError::NotFound { entity: "user" });
        };
        let mut tx = self.pool.begin().await?;
        lock_chain(&mut tx).await?;
        let to_site: Option<String> =
            sqlx::query_scalar("select site_id from cs_locations where id = $1")
                .bind(to_location_id)
                .fetch_optional(&mut *tx)
                .await?;
        let Some(to_site) = to_site else {
            return Err(StoreError::NotFound {
                entity: "cs_location",
            });
        };
        let row = sqlx::query(
            "select id, balance_mg, location_id from cs_containers where id = $1 and site_id = $2",
        )
        .bind(container_id)
        .bind(site_id.as_str())
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(StoreError::NotFound {
            entity: "cs_container",
        })?;
        let r = RowReader::new(&row, "cs_containers", "id")?;
        let (balance, from) = (r.float("balance_mg")?, r.text("location_id")?);
        if balance <= 0.0 {
            return Ok(Err(LedgerRefusal::Empty));
        }
        if from == to_location_id {
            return Ok(Ok(()));
        }
        for (kind, site, location, after) in [
            (EntryKind::TransferOut, site_id.as_str(), from.as_str(), 0.0),
            (
                EntryKind::TransferIn,
                to_site.as_str(),
                to_location_id,
                balance,
            ),
        ] {
            append(
                &mut tx,
                &Pending {
                    site_id: site,
                    kind,
                    container_id: Some(container_id),
                    location_id: Some(location),
                    amount_mg: balance,
                    balance_mg: after,
                    session_id: None,
                    patient_id: None,
                    actor_id,
                    witness_id: None,
                    method: None,
                    explanation: None,
                    details: None,
                    corrects_seq: None,
                    at: now,
                },
            )
            .await?;
        }
        sqlx::query(
            "update cs_containers set location_id = $2, site_id = $3, updated_at = $4 where id = $1",
        )
        .bind(container_id)
        .bind(to_location_id)
        .bind(to_site.as_str())
        .bind(millis(now))
            .execute(&mut *tx)
            .await?;
        let event = AuditEvent::new("ledger.transfer", AuditOutcome::Ok)
            .site(site_id.as_str())
            .entity("cs_container", container_id);
        audit::insert(&mut tx, now, actor, &event).await?;
        tx.commit().await?;
        Ok(Ok(()))
    }

    /// Records a DEA task as done today (the notice sent, the form filed).
    #[tracing::instrument(skip_all)]
    pub async fn complete_dea_task(
        &self,
        actor: &Actor,
        site_id: &SiteId,
        entry_seq: i64,
        kind: &str,
        done_on: Date,
        now: Timestamp,
    ) -> Result<bool, StoreError> {
        let mut tx = self.pool.begin().await?;
        let done = sqlx::query(
            "update cs_dea_tasks set done_on = $4, done_by = $5
              where site_id = $1 and entry_seq = $2 and kind = $3 and done_on is null",
        )
        .bind(site_id.as_str())
        .bind(entry_seq)
        .bind(kind)
        .bind(done_on.to_string())
        .bind(actor.user_id())
        .execute(&mut *tx)
        .await?;
        let event = AuditEvent::new("ledger.dea_task", AuditOutcome::Ok)
            .site(site_id.as_str())
            .detail(format!("entry={entry_seq} task={kind}"));
        audit::insert(&mut tx, now, actor, &event).await?;
        tx.commit().await?;
        Ok(done.rows_affected() == 1)
    }
}

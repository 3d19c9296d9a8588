//! Ketaflow's database.
//!
//! One set of portable runtime queries (sqlx's `Any` driver, `$1` placeholders) runs unchanged on
//! the embedded SQLite file and on PostgreSQL; only the migrations differ, one folder per database,
//! both embedded in the binary (see `ARCHITECTURE.md` for why).
//!
//! Where to start:
//! - [`Store::connect`] opens a database, runs migrations and refuses a newer schema.
//! - [`Store::create_patient`] and [`Store::patient`] show the pattern every repository follows:
//!   typed domain values in, typed records out, an audit event written in the same transaction.
//! - [`audit`] is the append-only trail of who touched what.
//!
//! This is the only crate that holds SQL.

mod assessments;
mod audit;
mod auth;
mod backup;
mod body;
mod chain;
mod closures;
mod connect;
mod consent;
mod content;
mod courses;
mod demo;
mod demo_sessions;
mod diagnoses;
mod error;
mod inquiries;
mod intake;
mod ledger;
mod native;
mod patients;
mod row;
mod scheduling;
mod screening;
mod self_screening;
mod sessions;
mod sites;
#[cfg(feature = "testing")]
pub mod testing;
mod users;

pub use assessments::{
    AlertRecord, AssessmentRecord, EnteredBy, FollowUpRecord, LinkState, NewLink, OpenLink,
    baseline,
};
pub use audit::{
    AUDIT_ACTIONS, Actor, AuditBroken, AuditCheck, AuditEvent, AuditFilter, AuditOutcome,
    AuditRecord, ChangeRecord, action_in_words,
};
pub use auth::{
    ApiTokenInfo, Authenticated, Confirmation, LoginFailure, LoginSettings, NewLoginSession,
    TOKEN_CHECK_TTL, TokenCheck,
};
pub use backup::database_is_empty;
pub use body::BodyRecord;
pub use chain::VERIFY_CHUNK;
pub use closures::{ClosedDay, ClosingRefusal};
pub use connect::{Backend, ColumnOutline, DatabaseUrl, SchemaOutline, Store, TableOutline};
pub use consent::{ConsentDocument, ConsentSignature, ConsentStatus};
pub use courses::{
    CourseRecord, CourseRefusal, NewCourse, OrderRecord, PatientRems, SettingContact, SiteRems,
    StatusChange,
};
pub use demo::{DEMO_PASSWORD, DemoAccount, DemoSeed, demo_accounts};
pub use diagnoses::DiagnosisRecord;
pub use error::{Corrupt, StoreError};
pub use inquiries::{InquiryChange, InquiryRecord, MAX_INQUIRY_NOTE_CHARS};
pub use intake::IntakeRecord;
pub use ledger::{
    ContainerRecord, EntryDetails, EntryRecord, GENESIS_HASH, LedgerBroken, LocationRecord, LogRow,
    LotInStock, NewEntry, PlaceNameTaken, Receipt, ReconciliationRow, Supplier, Witness,
    usable_lots,
};
pub use patients::{PatientRecord, PatientSort, Registration};
pub use row::{
    AlertId, ApiTokenId, AppointmentId, AssessmentId, ChairId, CourseId, InquiryId, LinkId,
    PatientId, ScreeningId, SessionAlertId, SessionId, SiteId, UserId,
};
pub use scheduling::{
    AppointmentRecord, AppointmentStatus, BookingRefusal, ChairRecord, CloseRefused,
    NewAppointment, NewChair,
};
pub use screening::{DecisionRecord, MedicationRecord, ScreeningRecord, TrialRecord};
pub use self_screening::{ScreeningLinkState, SelfScreeningRecord};
pub use sessions::{
    Addendum, AdverseRecord, DoseVerification, GivenDose, IdempotencyKey, PatientSession,
    PreAssessment, PumpEvent, RemsFormRow, ScaleRecord, SessionAlert, SessionRecord,
    SessionRefusal, SessionToLock, VitalsOutcome, VitalsRecord, session_status_words,
};
pub use sites::Site;
pub use users::{AccountChange, AccountRefusal, NewUser, PasswordError, PasswordHash, Role, User};

/// An instant as the database keeps it: whole milliseconds since the Unix epoch.
fn millis(t: jiff::Timestamp) -> i64 {
    t.as_millisecond()
}

/// The inverse of [`millis`]; a value outside jiff's range (which only a hand-edited row could
/// hold) is an error for the caller to name with its table, column and row.
fn instant(ms: i64) -> Result<jiff::Timestamp, String> {
    jiff::Timestamp::from_millisecond(ms).map_err(|_| format!("{ms} ms is not an instant"))
}

/// A list of numbered placeholders for `in (...)`, `n` of them from `$first`.
fn placeholders(first: usize, n: usize) -> String {
    (first..first + n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A new identifier: a UUIDv7, so ids sort by creation time.
fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

/// Random bytes from the operating system's generator, hex-encoded.
fn random_hex(bytes: usize) -> String {
    use rand::RngCore;
    let mut buf = vec![0u8; bytes];
    rand::rng().fill_bytes(&mut buf);
    hex::encode(buf)
}

/// SHA-256 of a secret token, hex-encoded; tokens are stored only in this form.
fn token_hash(token: &str) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(token.as_bytes()))
}

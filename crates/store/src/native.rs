//! The native SQLite path: the hottest audited reads (a patient list, the health check) and the
//! group-commit audit writer on rusqlite connections of their own.
//!
//! sqlx's `Any` driver gives SQLite a worker thread per connection: every statement is a message
//! to that thread and every row a message back, each a thread wake-up, and each row is copied
//! into a driver-neutral form before it is decoded. For a short list that hand-off is most of
//! the cost of a request (BENCHMARKS.md has the figures). Here:
//!
//! - A read runs first on the executor thread that asked for it, under a budget
//!   ([`INLINE_BUDGET`], checked by SQLite's progress handler every [`PROGRESS_OPS`] virtual
//!   machine steps) and without waiting for a lock. A read that would take longer, or would
//!   wait, is interrupted and runs again from the start on Tokio's blocking pool, with the
//!   normal busy timeout. Reads change nothing, so running one again is safe, and the executor
//!   is never held longer than the budget.
//! - The audit writer is a thread of its own with its own connection: one wake-up per batch of
//!   events rather than several per statement, and one prepared insert executed per event
//!   instead of a multi-row statement (whose parameters SQLite would look up by name).
//! - A checkpointer thread beside the writer copies committed WAL frames into the database
//!   file after the writer's commits (passive checkpoints, at most one per
//!   [`CHECKPOINT_PAUSE`]), so the checkpoint SQLite runs inside a commit once the WAL reaches
//!   its 1,000 pages finds little left to copy and flush. Without it that checkpoint (copying
//!   every page the WAL holds and two fsyncs) held every waiting event for 7 to 9 ms, ten
//!   times a second under load.
//!
//! The read connections are read-only (`query_only`), so every other write still goes through
//! the one sqlx pool, its transactions and its audit trail. In WAL mode a reader sees every
//! transaction committed before its statement began, so a read after a write sees the write.
//! PostgreSQL and in-memory SQLite databases do not use this path.

use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::sync::{Arc, LazyLock, Mutex};
use std::time::{Duration, Instant};

use rusqlite::{Connection, ErrorCode, OpenFlags, TransactionBehavior};
use tokio::sync::{Semaphore, mpsc};

use crate::StoreError;
use crate::audit::{self, Chained, INSERT_COLUMNS, MAX_BATCH, Message, Pending};
use crate::row::Columns;

/// Reads on the blocking pool at once: the machine's cores are the limit of what more could
/// do, and a few more cover a reader waiting on the disk.
const READERS: usize = 4;

/// Idle read connections kept for the next read; one in use beyond these (on an executor
/// thread or the blocking pool) is closed when it is done.
const IDLE: usize = 8;

/// Prepared statements each connection keeps.
const STATEMENT_CACHE: usize = 32;

/// The longest a read may hold the executor thread before it moves to the blocking pool.
/// Tokio's guidance is that a task should not go more than 10 to 100 microseconds between
/// yields (Alice Ryhl, "Async: What is blocking?", 2020, <https://ryhl.io/blog/async-what-is-blocking/>);
/// this takes the upper end, which a short indexed list fits inside.
pub(crate) const INLINE_BUDGET: Duration = Duration::from_micros(100);

/// Virtual machine steps between two looks at the clock during an inline read (a look costs
/// tens of nanoseconds; a hundred steps take a few microseconds).
const PROGRESS_OPS: i32 = 100;

/// What a native read returns when it fails: SQLite's own error (which says whether the read
/// was interrupted or would have waited), or the store's (a row that does not decode).
#[derive(Debug)]
pub(crate) enum NativeError {
    Sqlite(rusqlite::Error),
    Store(StoreError),
}

impl From<rusqlite::Error> for NativeError {
    fn from(e: rusqlite::Error) -> Self {
        NativeError::Sqlite(e)
    }
}

impl From<StoreError> for NativeError {
    fn from(e: StoreError) -> Self {
        NativeError::Store(e)
    }
}

impl From<NativeError> for StoreError {
    fn from(e: NativeError) -> Self {
        match e {
            NativeError::Sqlite(e) => StoreError::from(e),
            NativeError::Store(e) => e,
        }
    }
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        native_error(&e.to_string())
    }
}

fn native_error(reason: &str) -> StoreError {
    StoreError::Native {
        reason: reason.to_owned(),
    }
}

/// Whether `e` is SQLite stopping an inline read: the budget ran out (the progress handler
/// interrupted it) or it would have had to wait for a lock.
fn must_move(e: &NativeError) -> bool {
    matches!(
        e,
        NativeError::Sqlite(rusqlite::Error::SqliteFailure(f, _))
            if matches!(
                f.code,
                ErrorCode::OperationInterrupted | ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked
            )
    )
}

/// Runs `sql` (whose select list is `columns`, as written in the statement) with `params` and
/// decodes every row with `decode`.
pub(crate) fn select_all<T>(
    conn: &Connection,
    sql: &str,
    params: impl rusqlite::Params,
    columns: &str,
    decode: impl Fn(&Selected<'_>) -> Result<T, StoreError>,
) -> Result<Vec<T>, NativeError> {
    let names: Vec<&str> = columns.split(',').map(str::trim).collect();
    let mut statement = conn.prepare_cached(sql)?;
    if statement.column_count() != names.len() {
        return Err(NativeError::Store(native_error(&format!(
            "the statement selects {} columns, not the {} named",
            statement.column_count(),
            names.len()
        ))));
    }
    let mut rows = statement.query(params)?;
    let mut decoded = Vec::new();
    while let Some(row) = rows.next()? {
        decoded.push(decode(&Selected {
            row,
            names: &names,
            next: std::cell::Cell::new(0),
        })?);
    }
    Ok(decoded)
}

/// A row whose column names are known from the select list, so a column is found by comparing
/// names in Rust (rusqlite's lookup by name asks SQLite for every column's name on every read).
///
/// Decoders read the columns in the order they are selected, so the lookup tries the column
/// after the last one found before it searches the list.
pub(crate) struct Selected<'a> {
    row: &'a rusqlite::Row<'a>,
    names: &'a [&'a str],
    next: std::cell::Cell<usize>,
}

impl Selected<'_> {
    fn get<T: rusqlite::types::FromSql>(&self, column: &str) -> Result<T, String> {
        let index = self.index(column)?;
        self.row.get(index).map_err(|e| e.to_string())
    }

    fn index(&self, column: &str) -> Result<usize, String> {
        let hint = self.next.get();
        let index = if self.names.get(hint) == Some(&column) {
            hint
        } else {
            self.names
                .iter()
                .position(|name| *name == column)
                .ok_or_else(|| format!("no column {column} is selected"))?
        };
        self.next.set(index + 1);
        Ok(index)
    }
}

impl Columns for Selected<'_> {
    fn text(&self, column: &str) -> Result<Option<String>, String> {
        self.get(column)
    }
    fn int(&self, column: &str) -> Result<Option<i64>, String> {
        self.get(column)
    }
    fn float(&self, column: &str) -> Result<Option<f64>, String> {
        self.get(column)
    }
    fn read_text<T>(
        &self,
        column: &str,
        read: impl FnOnce(&str) -> T,
    ) -> Result<Option<T>, String> {
        let value = self
            .row
            .get_ref(self.index(column)?)
            .map_err(|e| e.to_string())?;
        Ok(value.as_str_or_null().map_err(|e| e.to_string())?.map(read))
    }
}

/// A small pool of rusqlite connections to one SQLite file, for reads only.
#[derive(Clone)]
pub(crate) struct NativeReads {
    inner: Arc<Inner>,
}

struct Inner {
    path: PathBuf,
    busy_timeout: Duration,
    idle: Mutex<Vec<Connection>>,
    permits: Semaphore,
}

impl NativeReads {
    /// Readers of the database file at `path` (which the sqlx pool has created and migrated).
    pub(crate) fn new(path: &Path, busy_timeout: Duration) -> NativeReads {
        NativeReads {
            inner: Arc::new(Inner {
                path: path.to_owned(),
                busy_timeout,
                idle: Mutex::new(Vec::with_capacity(IDLE)),
                permits: Semaphore::new(READERS),
            }),
        }
    }

    /// Runs `read` on a reader connection and returns what it returns: on the calling thread
    /// when a connection is idle and the read fits in [`INLINE_BUDGET`], otherwise (from the
    /// start) on the blocking pool, where at most [`READERS`] run at once (the others wait
    /// without blocking the executor).
    pub(crate) async fn read<T, F>(&self, read: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: Fn(&Connection) -> Result<T, NativeError> + Send + 'static,
    {
        // Inline reads need no permit: an executor thread runs one at a time, to its end.
        if let Some(conn) = self.inner.take() {
            let inline = inline(&conn, &read);
            self.inner.put(conn);
            match inline {
                Err(e) if must_move(&e) => {}
                done => return done.map_err(StoreError::from),
            }
        }
        let permit = self
            .inner
            .permits
            .acquire()
            .await
            // ok: the semaphore is never closed; its error carries nothing more to say.
            .map_err(|_| native_error("the reader pool is closed"))?;
        let inner = self.inner.clone();
        let result = tokio::task::spawn_blocking(move || {
            let conn = match inner.take() {
                Some(conn) => conn,
                None => inner.open()?,
            };
            conn.busy_timeout(inner.busy_timeout)?;
            let result = read(&conn).map_err(StoreError::from);
            // A connection that failed for its own sake (not for a row's) is not reused.
            if !matches!(result, Err(StoreError::Native { .. })) {
                inner.put(conn);
            }
            result
        })
        .await
        .map_err(|e| native_error(&format!("the read did not finish: {e}")))?;
        drop(permit);
        result
    }
}

/// Runs `read` on `conn` under the inline budget, never waiting for a lock.
fn inline<T>(
    conn: &Connection,
    read: &impl Fn(&Connection) -> Result<T, NativeError>,
) -> Result<T, NativeError> {
    let deadline = Instant::now() + INLINE_BUDGET;
    conn.busy_timeout(Duration::ZERO)?;
    conn.progress_handler(PROGRESS_OPS, Some(move || Instant::now() >= deadline));
    let result = read(conn);
    conn.progress_handler(0, None::<fn() -> bool>);
    result
}

impl Inner {
    fn take(&self) -> Option<Connection> {
        // ok: a poisoned list only means no idle connection: the read opens a fresh one.
        self.idle.lock().ok().and_then(|mut idle| idle.pop())
    }

    fn put(&self, conn: Connection) {
        // ok: a connection not kept (the list full or poisoned) is closed; nothing is lost.
        if let Ok(mut idle) = self.idle.lock()
            && idle.len() < IDLE
        {
            idle.push(conn);
        }
    }

    fn open(&self) -> Result<Connection, StoreError> {
        let conn = open(&self.path, self.busy_timeout)?;
        conn.pragma_update(None, "query_only", true)?;
        Ok(conn)
    }
}

/// A connection to the file at `path`, which must exist: the sqlx pool made and migrated it.
fn open(path: &Path, busy_timeout: Duration) -> Result<Connection, rusqlite::Error> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.busy_timeout(busy_timeout)?;
    conn.execute_batch("pragma foreign_keys = on; pragma synchronous = normal;")?;
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    Ok(conn)
}

/// How long the writer waits for more events when several are already waiting: a quarter of a
/// millisecond added to a read under load, against a commit's fixed cost (about 0.1 ms on
/// these machines) shared by the events that arrive meanwhile.
const LINGER: Duration = Duration::from_micros(250);

/// The shortest time between two of the checkpointer's passive checkpoints. Each one writes
/// the frames committed since the last and fsyncs the WAL and the database file; a few
/// milliseconds keep the WAL's unchecked tail to a few dozen commits under load, and a quiet
/// clinic causes no checkpoint at all (the thread waits for a commit).
const CHECKPOINT_PAUSE: Duration = Duration::from_millis(5);

/// The one-row insert of a chained event, with SQLite's numbered placeholders.
static INSERT_EVENT: LazyLock<String> = LazyLock::new(|| {
    let marks: Vec<String> = (1..=INSERT_COLUMNS.split(", ").count())
        .map(|i| format!("?{i}"))
        .collect();
    format!(
        "insert into audit_events ({INSERT_COLUMNS}) values ({})",
        marks.join(", ")
    )
});

/// The audit writer of a SQLite file: gathers what is waiting, commits it in one transaction,
/// answers each caller, and stops when the store closes. Runs on a thread of its own
/// ([`audit::AuditWriter::start_thread`]).
pub(crate) fn run_audit_writer(
    path: PathBuf,
    busy_timeout: Duration,
    mut rx: mpsc::Receiver<Message>,
) {
    let mut batch: Vec<Pending> = Vec::with_capacity(MAX_BATCH);
    // One connection, kept while it works (its prepared statements stay warm), opened again
    // after any failure.
    let mut conn: Option<Connection> = None;
    let checkpointer = Checkpointer::start(&path, busy_timeout);
    while let Some(first) = rx.blocking_recv() {
        let mut stop = audit::gather(first, &mut rx, &mut batch);
        // More than one event waiting means requests are arriving faster than one commit
        // each: wait a moment for more, so the commit's fixed cost is shared by more of them.
        // A lone event (a quiet clinic) is committed at once.
        if batch.len() > 1 && stop.is_none() {
            std::thread::sleep(LINGER);
            if let Ok(next) = rx.try_recv() {
                stop = audit::gather(next, &mut rx, &mut batch);
            }
        }
        if !batch.is_empty() {
            let all = commit(&path, busy_timeout, &mut conn, &batch);
            if let Some(c) = &checkpointer {
                c.committed();
            }
            match all {
                Ok(()) => {
                    for p in batch.drain(..) {
                        let _ = p.done.send(Ok(()));
                    }
                }
                // One bad event must not fail the others that shared its transaction.
                Err(e) => {
                    let several = batch.len() > 1;
                    for p in batch.drain(..) {
                        let alone = if several {
                            commit(&path, busy_timeout, &mut conn, std::slice::from_ref(&p))
                        } else {
                            Err(e.clone())
                        };
                        if let Err(e) = &alone {
                            tracing::error!(error = %e, "audit event refused");
                        }
                        let _ = p.done.send(alone);
                    }
                }
            }
        }
        if let Some(done) = stop {
            drop(conn.take());
            if let Some(c) = checkpointer {
                c.stop();
            }
            let _ = done.send(());
            return;
        }
    }
}

/// The writer's checkpointer thread: woken by commits, it runs a passive checkpoint (which
/// copies what it can without waiting for readers or writers) and pauses before the next.
struct Checkpointer {
    wake: SyncSender<()>,
    thread: std::thread::JoinHandle<()>,
}

impl Checkpointer {
    /// Starts the thread; `None` when it cannot be started, which leaves checkpoints to
    /// SQLite's own, inside the writer's commits (slower answers, nothing lost).
    fn start(path: &Path, busy_timeout: Duration) -> Option<Checkpointer> {
        let (wake, woken) = sync_channel(1);
        let path = path.to_owned();
        match std::thread::Builder::new()
            .name("wal-checkpoint".into())
            .spawn(move || run_checkpoints(&path, busy_timeout, &woken))
        {
            Ok(thread) => Some(Checkpointer { wake, thread }),
            Err(e) => {
                tracing::warn!(error = %e, "no checkpoint thread: checkpoints run inside commits");
                None
            }
        }
    }

    /// Says a commit happened; never waits (one wake-up pending is enough).
    fn committed(&self) {
        // ok: full means a wake-up is already pending; a thread that has stopped leaves
        // checkpoints to SQLite's own.
        let _ = self.wake.try_send(());
    }

    /// Stops the thread once its checkpoint in progress is done.
    fn stop(self) {
        drop(self.wake);
        if self.thread.join().is_err() {
            tracing::error!("the checkpoint thread panicked");
        }
    }
}

fn run_checkpoints(path: &Path, busy_timeout: Duration, woken: &Receiver<()>) {
    let mut conn: Option<Connection> = None;
    while woken.recv().is_ok() {
        let held = match kept_or_open(&mut conn, path, busy_timeout) {
            Ok(c) => c,
            Err(e) => {
                tracing::warn!(error = %e, "the checkpoint thread cannot open the database");
                std::thread::sleep(CHECKPOINT_PAUSE);
                continue;
            }
        };
        // Passive: never waits, so it cannot hold up the writer or a reader; a checkpoint
        // that could not copy everything leaves the rest for the next one.
        match held.query_row("pragma wal_checkpoint(passive)", [], |_| Ok(())) {
            Ok(()) => conn = Some(held),
            Err(e) => tracing::warn!(error = %e, "passive checkpoint failed"),
        }
        std::thread::sleep(CHECKPOINT_PAUSE);
    }
}

/// The connection a thread kept from its last success, or a new one to `path`.
fn kept_or_open(
    conn: &mut Option<Connection>,
    path: &Path,
    busy_timeout: Duration,
) -> Result<Connection, rusqlite::Error> {
    match conn.take() {
        Some(c) => Ok(c),
        None => open(path, busy_timeout),
    }
}

/// Commits `batch` in one transaction on the writer's connection (opened when there is none);
/// drops the connection when anything fails.
fn commit(
    path: &Path,
    busy_timeout: Duration,
    conn: &mut Option<Connection>,
    batch: &[Pending],
) -> Result<(), String> {
    let mut held = kept_or_open(conn, path, busy_timeout).map_err(|e| e.to_string())?;
    let result = commit_on(&mut held, batch);
    if result.is_ok() {
        *conn = Some(held);
    }
    result.map_err(|e| e.to_string())
}

fn commit_on(conn: &mut Connection, batch: &[Pending]) -> Result<(), rusqlite::Error> {
    let events: Vec<_> = batch.iter().map(|p| (p.at, &p.actor, &p.event)).collect();
    let n = i64::try_from(events.len())
        .map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))?;
    // Immediate: the write lock is taken at the start, so the chain head read below is the
    // head this transaction moves on, whatever other processes write.
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let (last, head): (i64, String) = tx
        .prepare_cached("update audit_chain set seq = seq + ?1 where id = 1 returning seq, hash")?
        .query_row([n], |row| Ok((row.get(0)?, row.get(1)?)))?;
    let (rows, head) = audit::chain_events(last - n + 1, head, &events);
    {
        let mut insert = tx.prepare_cached(&INSERT_EVENT)?;
        for Chained {
            content: c,
            prev_hash,
            hash,
        } in &rows
        {
            insert.execute(rusqlite::params![
                c.seq,
                c.at,
                c.site_id,
                c.actor_user_id,
                c.actor_label,
                c.action,
                c.outcome,
                c.entity_type,
                c.entity_id,
                c.patient_id,
                c.detail,
                c.client_address,
                prev_hash,
                hash,
            ])?;
        }
    }
    tx.prepare_cached("update audit_chain set hash = ?1 where id = 1")?
        .execute([&head])?;
    tx.commit()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A SQLite file of its own, removed when the test ends.
    struct TempFile(PathBuf);

    impl TempFile {
        fn new(name: &str) -> TempFile {
            let path = std::env::temp_dir()
                .join(format!("ketaflow-native-{name}-{}.db", std::process::id()));
            let conn = Connection::open(&path).expect("create the file");
            conn.execute_batch("pragma journal_mode = wal; create table t (n integer);")
                .expect("make a table");
            TempFile(path)
        }
    }

    impl Drop for TempFile {
        fn drop(&mut self) {
            for suffix in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{}{suffix}", self.0.display()));
            }
        }
    }

    /// Counts to `n` in SQL: a read whose length the test chooses.
    fn count_to(conn: &Connection, n: i64) -> Result<i64, NativeError> {
        Ok(conn
            .prepare_cached(
                "with recursive c(i) as (select 1 union all select i + 1 from c where i < ?1)
                 select count(*) from c",
            )?
            .query_row([n], |row| row.get(0))?)
    }

    /// Counts to `n` through `reads`; returns the count and the thread of every attempt.
    async fn count_recording_threads(
        reads: &NativeReads,
        n: i64,
    ) -> (i64, Vec<std::thread::ThreadId>) {
        let threads = Arc::new(Mutex::new(Vec::new()));
        let seen = threads.clone();
        let count = reads
            .read(move |conn| {
                seen.lock()
                    .expect("not poisoned")
                    .push(std::thread::current().id());
                count_to(conn, n)
            })
            .await
            .expect("read");
        let attempts = threads.lock().expect("not poisoned").clone();
        (count, attempts)
    }

    #[tokio::test]
    async fn a_short_read_stays_on_the_executor_and_a_long_one_moves_to_the_blocking_pool() {
        let file = TempFile::new("budget");
        let reads = NativeReads::new(&file.0, Duration::from_secs(5));

        // The first read opens the connection on the blocking pool; later ones find it idle.
        assert_eq!(
            reads.read(|conn| count_to(conn, 10)).await.expect("read"),
            10
        );
        // A short read runs inline (an attempt can still be moved if the machine is so busy
        // that the thread loses the processor for the whole budget, so a few are allowed).
        let caller = std::thread::current().id();
        let mut inline_once = false;
        for _ in 0..20 {
            let (short, attempts) = count_recording_threads(&reads, 10).await;
            assert_eq!(short, 10);
            if attempts == vec![caller] {
                inline_once = true;
                break;
            }
        }
        assert!(inline_once, "no short read ran on the calling thread");

        // Ten million steps take far longer than the budget: interrupted inline, the read runs
        // again from the start elsewhere and still gives the whole answer.
        let (long, attempts) = count_recording_threads(&reads, 10_000_000).await;
        assert_eq!(long, 10_000_000);
        assert_eq!(
            attempts.len(),
            2,
            "one attempt inline, one on the blocking pool"
        );
        assert_eq!(attempts[0], caller);
        assert_ne!(attempts[1], caller);
    }

    #[tokio::test]
    async fn a_read_connection_refuses_to_write() {
        let file = TempFile::new("query-only");
        let reads = NativeReads::new(&file.0, Duration::from_secs(5));
        // Twice: once on a connection being opened, once inline on the idle one.
        for _ in 0..2 {
            let refused = reads
                .read(|conn| Ok(conn.execute("insert into t (n) values (1)", [])?))
                .await;
            assert!(
                matches!(&refused, Err(StoreError::Native { reason }) if reason.contains("readonly")),
                "{refused:?}"
            );
        }
    }

    #[tokio::test]
    async fn a_statement_that_selects_other_columns_than_named_is_an_error() {
        let file = TempFile::new("columns");
        let reads = NativeReads::new(&file.0, Duration::from_secs(5));
        let wrong = reads
            .read(|conn| {
                select_all(conn, "select 1, 2", [], "a", |row| {
                    row.int("a").map_err(|e| native_error(&e))
                })
            })
            .await;
        assert!(
            matches!(&wrong, Err(StoreError::Native { reason }) if reason.contains("selects 2 columns")),
            "{wrong:?}"
        );
    }

    #[test]
    fn the_checkpointer_copies_committed_pages_into_the_database_file() {
        let file = TempFile::new("checkpointer");
        let writer = Connection::open(&file.0).expect("open");
        // The writer's own checkpoints off: whatever reaches the database file now is the
        // checkpointer's doing.
        writer
            .execute_batch("pragma wal_autocheckpoint = 0;")
            .expect("no automatic checkpoints");
        let size = || std::fs::metadata(&file.0).expect("the file").len();
        let before = size();
        writer
            .execute(
                "insert into t (n) with recursive c(i) as
                   (select 1 union all select i + 1 from c where i < 20000) select i from c",
                [],
            )
            .expect("fill the table");
        assert_eq!(size(), before, "the new pages are still only in the WAL");

        let checkpointer =
            Checkpointer::start(&file.0, Duration::from_secs(1)).expect("start the thread");
        checkpointer.committed();
        let deadline = Instant::now() + Duration::from_secs(30);
        while size() == before && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(5));
        }
        // Joining proves a stop does not hang on the thread's wait for the next commit.
        checkpointer.stop();
        assert!(
            size() > before,
            "the checkpointer copied the table's pages into the file ({} bytes, was {before})",
            size()
        );
        let rows: i64 = writer
            .query_row("select count(*) from t", [], |row| row.get(0))
            .expect("count");
        assert_eq!(rows, 20000);
    }

    #[test]
    fn a_batch_is_written_in_chain_order() {
        let file = TempFile::new("batch");
        let mut conn = open(&file.0, Duration::from_secs(1)).expect("open");
        conn.execute_batch(&format!(
            "create table audit_chain (id integer primary key, seq bigint, hash text);
             insert into audit_chain values (1, 0, 'genesis');
             create table audit_events (id integer primary key, {INSERT_COLUMNS});"
        ))
        .expect("make the audit tables");
        let actor = crate::Actor::system("test");
        let batch: Vec<Pending> = (0..86)
            .map(|i| Pending {
                at: 1_000 + i,
                actor: actor.clone(),
                event: crate::AuditEvent::new("patient.list", crate::AuditOutcome::Ok)
                    .detail(format!("rows={i}")),
                done: tokio::sync::oneshot::channel().0,
            })
            .collect();
        commit_on(&mut conn, &batch).expect("commit");

        let events: Vec<_> = batch.iter().map(|p| (p.at, &p.actor, &p.event)).collect();
        let (expected, head) = audit::chain_events(1, "genesis".to_owned(), &events);
        let mut select = conn
            .prepare("select seq, at, detail, prev_hash, hash from audit_events order by id")
            .expect("prepare");
        let stored: Vec<(i64, i64, String, String, String)> = select
            .query_map([], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
            })
            .expect("query")
            .collect::<Result<_, _>>()
            .expect("rows");
        assert_eq!(stored.len(), expected.len());
        for (row, want) in stored.iter().zip(&expected) {
            assert_eq!(row.0, want.content.seq);
            assert_eq!(row.1, want.content.at);
            assert_eq!(Some(row.2.as_str()), want.content.detail);
            assert_eq!(row.3, want.prev_hash);
            assert_eq!(row.4, want.hash);
        }
        let chain: (i64, String) = conn
            .query_row("select seq, hash from audit_chain", [], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .expect("head");
        assert_eq!(chain, (86, head));
    }

    #[test]
    fn columns_are_found_by_name_in_any_order() {
        let file = TempFile::new("columns");
        let conn = open(&file.0, Duration::from_secs(1)).expect("open");
        let read = select_all(
            &conn,
            "select 1, 'two', 3.5",
            [],
            "one, two, three",
            |row| {
                // Out of order, and one column twice: the lookup does not depend on the order.
                Ok((
                    row.float("three").map_err(|e| native_error(&e))?,
                    row.int("one").map_err(|e| native_error(&e))?,
                    row.text("two").map_err(|e| native_error(&e))?,
                    row.int("one").map_err(|e| native_error(&e))?,
                    row.text("four"),
                ))
            },
        )
        .expect("read");
        assert_eq!(
            read,
            vec![(
                Some(3.5),
                Some(1),
                Some("two".to_owned()),
                Some(1),
                Err("no column four is selected".to_owned())
            )]
        );
    }
}

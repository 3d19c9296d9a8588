//! `ketaflow backup` and `ketaflow restore`.
//!
//! SQLite: the backup is `VACUUM INTO` through the store (one consistent snapshot while the
//! server goes on writing), then opened and its audit chain checked; a restore copies the file
//! into place. PostgreSQL: `pg_dump --format=custom` and `pg_restore`, when PostgreSQL's client
//! tools are installed (a clear message when they are not), the password handed over in
//! `PGPASSWORD` and never on the command line. A restore goes only into an empty database,
//! and ends by checking the restored audit trail and ledger.

use std::path::Path;
use std::process::Command;
use std::time::Instant;

use anyhow::{Context, bail};
use store::{AuditCheck, Backend, DatabaseUrl, Store};

use crate::InputError;
use crate::config::Config;
use crate::serve::open_store;

fn input(message: String) -> anyhow::Error {
    anyhow::Error::new(InputError(message))
}

/// Runs one of PostgreSQL's client tools; a missing tool is said in words.
fn run_tool(tool: &str, args: &[String], password: Option<&str>) -> anyhow::Result<()> {
    let mut cmd = Command::new(tool);
    cmd.args(args);
    if let Some(p) = password {
        cmd.env("PGPASSWORD", p);
    }
    let output = match cmd.output() {
        Ok(o) => o,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(input(format!(
                "{tool} was not found on this machine; install PostgreSQL's client tools in the \
                 server's version (Debian: apt-get install postgresql-client) and run this again"
            )));
        }
        Err(e) => return Err(e).with_context(|| format!("starting {tool}")),
    };
    if !output.status.success() {
        bail!(
            "{tool} failed ({}): {}",
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    Ok(())
}

fn size_of(path: &Path) -> u64 {
    // ok: the size is only reported; a file that cannot be read reports 0.
    std::fs::metadata(path).map(|m| m.len()).unwrap_or(0)
}

/// Writes a backup of the configured database to `out`.
pub(crate) async fn backup(config: &Config, out: &Path) -> anyhow::Result<()> {
    let url = DatabaseUrl::parse(&config.database.url).context("configuration: database.url")?;
    if out.exists() {
        return Err(input(format!(
            "{} already exists; choose a new file name (a backup never overwrites a file)",
            out.display()
        )));
    }
    let started = Instant::now();
    let checked = match url.backend() {
        Backend::Sqlite => {
            let store = open_store(config).await?;
            let made = store.backup_sqlite(out).await;
            store.close().await;
            made.context("writing the backup")?;
            let copy = DatabaseUrl::parse(&format!("sqlite://{}", out.display()))?;
            let copy = Store::connect(&copy)
                .await
                .context("opening the backup to check it")?;
            let verified = copy.verify_audit(None, &|_, _| {}).await;
            copy.close().await;
            match verified? {
                AuditCheck::Intact(n) => Some(n),
                other => bail!("the backup's audit trail does not verify: {other}"),
            }
        }
        Backend::Postgres => {
            let (plain, password) = url.libpq_parts();
            run_tool(
                "pg_dump",
                &[
                    "--format=custom".into(),
                    "--no-owner".into(),
                    "--no-privileges".into(),
                    format!("--file={}", out.display()),
                    format!("--dbname={plain}"),
                ],
                password.as_deref(),
            )?;
            None
        }
    };
    let seconds = started.elapsed().as_secs_f64();
    let bytes = size_of(out);
    match checked {
        Some(n) => println!(
            "Backup written: {} ({bytes} bytes) in {seconds:.2} s; its audit trail of {n} events verified.",
            out.display()
        ),
        None => println!(
            "Backup written: {} ({bytes} bytes, pg_dump custom format) in {seconds:.2} s.",
            out.display()
        ),
    }
    Ok(())
}

/// Restores the backup `from` into the configured database, which must be empty.
pub(crate) async fn restore(config: &Config, from: &Path) -> anyhow::Result<()> {
    let url = DatabaseUrl::parse(&config.database.url).context("configuration: database.url")?;
    if !from.is_file() {
        return Err(input(format!(
            "{} is not a file; give the backup file that ketaflow backup wrote",
            from.display()
        )));
    }
    if !store::database_is_empty(&url).await? {
        return Err(input(format!(
            "the database {url} is not empty; a restore goes only into a new, empty database \
             (a new file name, or a newly created PostgreSQL database)"
        )));
    }
    let sqlite_file = {
        use std::io::Read;
        let mut head = [0_u8; 16];
        let mut file =
            std::fs::File::open(from).with_context(|| format!("reading {}", from.display()))?;
        // ok: a file shorter than the header is not a SQLite file.
        file.read_exact(&mut head).is_ok() && &head == b"SQLite format 3\0"
    };
    match (url.backend(), sqlite_file) {
        (Backend::Postgres, true) => {
            return Err(input(format!(
                "{} is a SQLite backup; restore it into a sqlite:// database",
                from.display()
            )));
        }
        (Backend::Sqlite, false) => {
            return Err(input(format!(
                "{} is not a SQLite backup (a PostgreSQL backup is restored into a postgres:// database)",
                from.display()
            )));
        }
        _ => {}
    }
    let started = Instant::now();
    match url.backend() {
        Backend::Sqlite => {
            let path = url
                .sqlite_path()
                .ok_or_else(|| input(format!("{url} names no file to restore into")))?;
            std::fs::copy(from, &path)
                .with_context(|| format!("copying {} to {}", from.display(), path.display()))?;
        }
        Backend::Postgres => {
            let (plain, password) = url.libpq_parts();
            run_tool(
                "pg_restore",
                &[
                    "--no-owner".into(),
                    "--no-privileges".into(),
                    "--exit-on-error".into(),
                    format!("--dbname={plain}"),
                    from.display().to_string(),
                ],
                password.as_deref(),
            )?;
        }
    }
    let store = match Store::connect(&url).await {
        Ok(s) => s,
        Err(e) => {
            if let Some(path) = url.sqlite_path() {
                // ok: the copy is removed so the next attempt starts from an empty database.
                let _ = std::fs::remove_file(&path);
            }
            return Err(input(format!(
                "{} is not a Ketaflow backup this build can open ({e})",
                from.display()
            )));
        }
    };
    let audit = store.verify_audit(None, &|_, _| {}).await;
    let ledger = store.verify_ledger().await;
    store.close().await;
    let events = match audit? {
        AuditCheck::Intact(n) => n,
        other => bail!("restored, but the audit trail does not verify: {other}"),
    };
    let entries = match ledger? {
        Ok(n) => n,
        Err(broken) => bail!("restored, but the ledger does not verify: {broken}"),
    };
    println!(
        "Restored {} into {url} in {:.2} s: {events} audit events and {entries} ledger entries verified.",
        from.display(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

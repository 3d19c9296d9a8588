//! What the two hash chains (the audit trail and the controlled-substance ledger) share: the
//! hash the first link follows and how a link's hash is made from its predecessor's.

use sha2::{Digest, Sha256};

/// The hash the first link of a chain follows.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// SHA-256, hex-encoded, of the previous link's hash, a newline and this link's canonical
/// content.
pub(crate) fn chain_hash(prev: &str, content: &str) -> String {
    let mut h = Sha256::new();
    h.update(prev.as_bytes());
    h.update(b"\n");
    h.update(content.as_bytes());
    hex::encode(h.finalize())
}

/// Links read and checked together when a chain is verified (a few hundred kilobytes of rows).
pub const VERIFY_CHUNK: usize = 2048;

/// Begins a read-only snapshot on `conn` in which a check reads a chain's head and what must
/// agree with it (rows beyond the head, the ledger's balances): every statement in it sees the
/// same committed state, so a link committed meanwhile never looks like tampering (on SQLite
/// a deferred transaction's reads share one snapshot; PostgreSQL is asked for repeatable
/// read). The links themselves are read afterwards by [`links_up_to`].
pub(crate) async fn snapshot(
    conn: &mut sqlx::pool::PoolConnection<sqlx::Any>,
    backend: crate::Backend,
) -> Result<sqlx::Transaction<'_, sqlx::Any>, crate::StoreError> {
    use sqlx::Connection;
    let mut tx = conn.begin().await?;
    if backend == crate::Backend::Postgres {
        sqlx::query("set transaction isolation level repeatable read, read only")
            .execute(&mut *tx)
            .await?;
    }
    Ok(tx)
}

/// A chain's head in `table` (`audit_chain` or `cs_chain`, named by the store), read in the
/// check's snapshot: the last place taken and its hash. A place below zero is a corrupt row.
pub(crate) async fn read_head(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    table: &'static str,
) -> Result<(i64, String), crate::StoreError> {
    let row = sqlx::query(&format!("select id, seq, hash from {table} where id = 1"))
        .fetch_one(&mut **tx)
        .await?;
    let head = crate::row::RowReader::new(&row, table, "id")?;
    let (seq, hash) = (head.int("seq")?, head.text("hash")?);
    if seq < 0 {
        return Err(head.corrupt("seq", format!("{seq} is not a place in a chain")));
    }
    Ok((seq, hash))
}

/// The first place up to `head` that more than one row of `table` (a chain's table, named by
/// the store) claims. Reading a chain chunk by chunk from the place after the last one read
/// would pass over a second row at a chunk's last place, so a check asks this first, in its
/// snapshot (only possible with the table's unique index or key removed behind the
/// application's back).
pub(crate) async fn first_shared_place(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    table: &'static str,
    head: i64,
) -> Result<Option<i64>, crate::StoreError> {
    Ok(sqlx::query_scalar(&format!(
        "select min(seq) from (select seq from {table} where seq <= $1
                                group by seq having count(*) > 1) shared"
    ))
    .bind(head)
    .fetch_one(&mut **tx)
    .await?)
}

/// The rows of a chain's table at places 1 to `head`, in order, read [`VERIFY_CHUNK`] at a
/// time, each chunk by a statement of its own on `pool`: `sql` selects the rows (its `seq`
/// among them) with `seq > $1 and seq <= $2 order by seq limit $3`. No transaction stays open
/// while the chain is checked (on SQLite one would keep the WAL from being reset for the whole
/// check; on PostgreSQL it would hold back vacuum), and the chunks still agree with a head
/// read before them in a snapshot: both chains are append-only (triggers refuse updates and
/// deletes) and every row up to the head was committed with it.
pub(crate) fn links_up_to(
    pool: sqlx::AnyPool,
    sql: String,
    head: i64,
) -> impl futures_util::Stream<Item = Result<sqlx::any::AnyRow, sqlx::Error>> + Unpin {
    use futures_util::{StreamExt, TryStreamExt};
    use sqlx::Row;
    // The state is the place after which the next chunk starts; none after the last chunk.
    let chunks = futures_util::stream::try_unfold(Some(0_i64), move |after| {
        let (pool, sql) = (pool.clone(), sql.clone());
        async move {
            let Some(after) = after else {
                return Ok::<_, sqlx::Error>(None);
            };
            let rows = sqlx::query(&sql)
                .bind(after)
                .bind(head)
                .bind(VERIFY_CHUNK as i64)
                .fetch_all(&pool)
                .await?;
            let next = match rows.last() {
                Some(last) if rows.len() == VERIFY_CHUNK => Some(last.try_get::<i64, _>("seq")?),
                _ => None,
            };
            Ok(Some((
                futures_util::stream::iter(rows).map(Ok::<_, sqlx::Error>),
                next,
            )))
        }
    });
    Box::pin(chunks.try_flatten())
}

/// How a walk along a chain in chunks ended.
pub(crate) enum Walked<W, B> {
    /// Every row was checked: the walk at the end.
    Done(W),
    /// The first bad link.
    Broken(B),
    /// `stop` asked to stop after a chunk: the walk so far.
    Stopped(W),
}

/// Walks a chain's rows in their order, [`VERIFY_CHUNK`] at a time: each row is decoded as it
/// arrives, and each chunk is checked by `check` (links, hashes and whatever the chain carries)
/// on the blocking pool, so a long chain never holds an executor thread. `stop` is asked after
/// every chunk whether to stop there.
pub(crate) async fn walk_in_chunks<S, R, W, B>(
    mut rows: S,
    mut walk: W,
    decode: impl Fn(&sqlx::any::AnyRow) -> Result<R, crate::StoreError>,
    check: fn(W, Vec<R>) -> Result<W, B>,
    mut stop: impl FnMut(&W) -> bool,
) -> Result<Walked<W, B>, crate::StoreError>
where
    S: futures_util::Stream<Item = Result<sqlx::any::AnyRow, sqlx::Error>> + Unpin,
    R: Send + 'static,
    W: Send + 'static,
    B: Send + 'static,
{
    use futures_util::TryStreamExt;
    let mut chunk = Vec::with_capacity(VERIFY_CHUNK);
    loop {
        let row = rows.try_next().await?;
        if let Some(row) = &row {
            chunk.push(decode(row)?);
        }
        let end = row.is_none();
        if chunk.len() == VERIFY_CHUNK || (end && !chunk.is_empty()) {
            let rows_of_chunk = std::mem::take(&mut chunk);
            walk = match tokio::task::spawn_blocking(move || check(walk, rows_of_chunk))
                .await
                .map_err(|e| crate::StoreError::Task(e.to_string()))?
            {
                Ok(next) => next,
                Err(broken) => return Ok(Walked::Broken(broken)),
            };
            if stop(&walk) {
                return Ok(Walked::Stopped(walk));
            }
        }
        if end {
            return Ok(Walked::Done(walk));
        }
    }
}

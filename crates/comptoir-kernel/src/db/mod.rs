//! Database connection (SQLite in WAL mode by default, PostgreSQL when the URL says so) and
//! the kernel's migrations. Slices add their own migrations; the binary runs them all.

mod migration_jobs;
pub mod migrations;

use std::time::Duration;

use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbBackend, DbErr,
    SqliteTransactionMode, TransactionOptions, TransactionTrait,
};

/// Opens the database named by `url`, creating the SQLite file (and its directory) if needed.
pub async fn connect(url: &str, max_connections: u32) -> anyhow::Result<DatabaseConnection> {
    let mut options = ConnectOptions::new(url.to_owned());
    options
        .max_connections(max_connections)
        .min_connections(1)
        .connect_timeout(Duration::from_secs(10))
        .acquire_timeout(Duration::from_secs(10))
        .sqlx_logging(false);
    if url.starts_with("sqlite:") {
        if let Some(path) = sqlite_path(url)
            && let Some(dir) = path.parent()
        {
            std::fs::create_dir_all(dir)?;
        }
        options.map_sqlx_sqlite_opts(|o| {
            use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
            o.journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .busy_timeout(Duration::from_secs(10))
                .foreign_keys(true)
                .create_if_missing(true)
        });
    }
    let db = Database::connect(options).await.map_err(|e| {
        anyhow::anyhow!(
            "cannot open the database {}: {e}",
            crate::config::redact_url(url)
        )
    })?;
    Ok(db)
}

fn sqlite_path(url: &str) -> Option<std::path::PathBuf> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next()?;
    (!path.is_empty() && path != ":memory:").then(|| std::path::PathBuf::from(path))
}

/// Starts a transaction that will write. On SQLite it is `BEGIN IMMEDIATE`: the write lock is
/// taken (waiting up to the busy timeout) before the first read, so a transaction that reads
/// then writes cannot fail with `SQLITE_BUSY` because another connection committed in
/// between (WAL cannot upgrade a stale read snapshot, and does not wait when it tries).
/// Elsewhere it is a plain `BEGIN`. Use it for every transaction that writes; nested
/// transactions (savepoints) keep `begin()`.
pub async fn begin_write<C: TransactionTrait>(db: &C) -> Result<C::Transaction, DbErr> {
    db.begin_with_options(TransactionOptions {
        sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
        ..TransactionOptions::default()
    })
    .await
}

/// Round-trip time of a trivial query, for health checks.
pub async fn ping(db: &DatabaseConnection) -> anyhow::Result<Duration> {
    let started = std::time::Instant::now();
    db.execute_unprepared("SELECT 1").await?;
    Ok(started.elapsed())
}

/// Which engine this connection talks to.
pub fn backend(db: &DatabaseConnection) -> DbBackend {
    db.get_database_backend()
}

#[cfg(test)]
mod tests {
    use sea_orm::Statement;

    use super::*;

    /// Read-then-write transactions racing on SQLite: with a deferred `BEGIN`, a transaction
    /// whose snapshot went stale fails at its first write (SQLite does not wait there); with
    /// `begin_write` every one of them waits its turn and no increment is lost.
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn read_then_write_transactions_never_fail_busy_on_sqlite() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("race.db").display());
        let db = connect(&url, 8).await.unwrap();
        db.execute_unprepared(
            "CREATE TABLE counter (n INTEGER NOT NULL); INSERT INTO counter VALUES (0);",
        )
        .await
        .unwrap();
        let mut tasks = Vec::new();
        for _ in 0..8 {
            let db = db.clone();
            tasks.push(tokio::spawn(async move {
                for _ in 0..25 {
                    let txn = begin_write(&db).await?;
                    let row = txn
                        .query_one_raw(Statement::from_string(
                            DbBackend::Sqlite,
                            "SELECT n FROM counter",
                        ))
                        .await?
                        .expect("one row");
                    let n: i64 = row.try_get("", "n")?;
                    tokio::task::yield_now().await;
                    txn.execute_raw(Statement::from_sql_and_values(
                        DbBackend::Sqlite,
                        "UPDATE counter SET n = ?",
                        [(n + 1).into()],
                    ))
                    .await?;
                    txn.commit().await?;
                }
                Ok::<_, DbErr>(())
            }));
        }
        for task in tasks {
            task.await.unwrap().expect("no transaction fails");
        }
        let row = db
            .query_one_raw(Statement::from_string(
                DbBackend::Sqlite,
                "SELECT n FROM counter",
            ))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(row.try_get::<i64>("", "n").unwrap(), 200);
    }
}

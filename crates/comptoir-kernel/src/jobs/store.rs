//! The queue's SQL. Claiming is one statement per engine: an `UPDATE ... WHERE id IN
//! (SELECT ... LIMIT n [FOR UPDATE SKIP LOCKED]) RETURNING *`, so no two workers can take
//! the same job.

use chrono::Utc;
use rand::Rng;
use sea_orm::sea_query::{Expr, LockBehavior, LockType, Order, Query};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, Set, Statement,
};
use serde_json::{Value, json};
use uuid::Uuid;

use super::{Job, TaskId};
use crate::entities::jobs::{self, Column as C};
use crate::error::AppResult;
use crate::ids::OrgId;

pub const QUEUED: &str = "queued";
pub const RUNNING: &str = "running";
pub const SUCCEEDED: &str = "succeeded";
pub const FAILED: &str = "failed";
pub const DEAD: &str = "dead";

pub fn now_ms() -> i64 {
    Utc::now().timestamp_millis()
}

/// How to enqueue.
#[derive(Debug, Clone, Default)]
pub struct EnqueueOptions {
    /// Run no earlier than this (epoch ms). Default: now.
    pub run_at_ms: Option<i64>,
    /// Enqueue only if no job with this key exists (whatever its status).
    pub unique_key: Option<String>,
    /// Override the kind's `MAX_ATTEMPTS`.
    pub max_attempts: Option<i32>,
}

/// Adds a job, in the caller's transaction when `db` is one. With a unique key that already
/// exists, returns the existing job's id and adds nothing.
pub async fn enqueue<J: Job>(
    db: &impl ConnectionTrait,
    org: Option<OrgId>,
    job: &J,
    options: EnqueueOptions,
) -> AppResult<TaskId> {
    let payload = serde_json::to_value(job).map_err(crate::AppError::internal)?;
    enqueue_raw(
        db,
        org,
        J::KIND,
        payload,
        options.max_attempts.unwrap_or(J::MAX_ATTEMPTS),
        options,
    )
    .await
}

/// [`enqueue`] for a kind known only by name (replays, periodic jobs).
pub async fn enqueue_raw(
    db: &impl ConnectionTrait,
    org: Option<OrgId>,
    kind: &str,
    payload: Value,
    max_attempts: i32,
    options: EnqueueOptions,
) -> AppResult<TaskId> {
    if let Some(key) = &options.unique_key
        && let Some(existing) = jobs::Entity::find()
            .filter(C::UniqueKey.eq(key.as_str()))
            .one(db)
            .await?
    {
        return Ok(TaskId(existing.id));
    }
    let id = TaskId::new();
    let now = Utc::now();
    let row = jobs::ActiveModel {
        id: Set(id.0),
        org_id: Set(org.map(|o| o.0)),
        kind: Set(kind.to_owned()),
        payload: Set(payload),
        status: Set(QUEUED.into()),
        attempts: Set(0),
        max_attempts: Set(max_attempts.max(1)),
        run_at: Set(options.run_at_ms.unwrap_or_else(now_ms)),
        locked_by: Set(None),
        locked_until: Set(None),
        unique_key: Set(options.unique_key.clone()),
        result: Set(None),
        last_error: Set(None),
        errors: Set(json!([])),
        progress_done: Set(None),
        progress_total: Set(None),
        correlation_id: Set(crate::http::request_id::current_correlation_id()),
        created_at: Set(now),
        updated_at: Set(now),
        finished_at: Set(None),
    };
    match jobs::Entity::insert(row).exec_without_returning(db).await {
        Ok(_) => {}
        // Lost a race on the unique key: the other insert wins.
        Err(e)
            if matches!(
                e.sql_err(),
                Some(sea_orm::SqlErr::UniqueConstraintViolation(_))
            ) =>
        {
            if let Some(key) = &options.unique_key
                && let Some(existing) = jobs::Entity::find()
                    .filter(C::UniqueKey.eq(key.as_str()))
                    .one(db)
                    .await?
            {
                return Ok(TaskId(existing.id));
            }
            return Err(e.into());
        }
        Err(e) => return Err(e.into()),
    }
    if db.get_database_backend() == DbBackend::Postgres {
        // Delivered at commit: idle workers of every process wake up.
        db.execute_unprepared("NOTIFY comptoir_jobs").await?;
    }
    // This process's workers; if the caller's transaction has not committed yet, they find
    // nothing and the poll interval picks the job up.
    super::worker::WAKE.notify_waiters();
    Ok(id)
}

/// Claims up to `limit` runnable jobs for `worker` until `locked_until_ms`. Jobs whose
/// worker died (running, lock expired) are runnable again.
pub async fn claim(
    db: &impl ConnectionTrait,
    worker: &str,
    limit: u64,
    locked_until_ms: i64,
) -> AppResult<Vec<jobs::Model>> {
    let now = now_ms();
    let backend = db.get_database_backend();
    let mut pick = Query::select();
    pick.column(C::Id)
        .from(jobs::Entity)
        .cond_where(
            sea_orm::Condition::any()
                .add(
                    sea_orm::Condition::all()
                        .add(C::Status.is_in([QUEUED, FAILED]))
                        .add(C::RunAt.lte(now)),
                )
                .add(
                    sea_orm::Condition::all()
                        .add(C::Status.eq(RUNNING))
                        .add(C::LockedUntil.lt(now)),
                ),
        )
        .order_by(C::RunAt, Order::Asc)
        .limit(limit);
    if backend == DbBackend::Postgres {
        pick.lock_with_behavior(LockType::Update, LockBehavior::SkipLocked);
    }
    let update = Query::update()
        .table(jobs::Entity)
        .value(C::Status, RUNNING)
        .value(C::LockedBy, worker)
        .value(C::LockedUntil, locked_until_ms)
        .value(
            C::Attempts,
            sea_orm::sea_query::ExprTrait::add(Expr::col(C::Attempts), 1),
        )
        .value(C::UpdatedAt, Utc::now())
        .and_where(C::Id.in_subquery(pick))
        .returning_all()
        .to_owned();
    let stmt: Statement = backend.build(&update);
    Ok(jobs::Entity::find().from_raw_sql(stmt).all(db).await?)
}

/// Pushes the lock of jobs still running further (heartbeat of long batches).
pub async fn extend(
    db: &impl ConnectionTrait,
    worker: &str,
    ids: &[Uuid],
    locked_until_ms: i64,
) -> AppResult<()> {
    jobs::Entity::update_many()
        .col_expr(C::LockedUntil, Expr::value(locked_until_ms))
        .filter(C::Id.is_in(ids.iter().copied()))
        .filter(C::LockedBy.eq(worker))
        .filter(C::Status.eq(RUNNING))
        .exec(db)
        .await?;
    Ok(())
}

/// Marks a job done, if this worker still holds it.
pub async fn succeed(
    db: &impl ConnectionTrait,
    worker: &str,
    id: Uuid,
    result: Value,
) -> AppResult<bool> {
    let res = jobs::Entity::update_many()
        .col_expr(C::Status, Expr::value(SUCCEEDED))
        .col_expr(C::Result, Expr::value(result))
        .col_expr(C::LockedBy, Expr::value(Option::<String>::None))
        .col_expr(C::LockedUntil, Expr::value(Option::<i64>::None))
        .col_expr(C::FinishedAt, Expr::value(Utc::now()))
        .col_expr(C::UpdatedAt, Expr::value(Utc::now()))
        .filter(C::Id.eq(id))
        .filter(C::LockedBy.eq(worker))
        .filter(C::Status.eq(RUNNING))
        .exec(db)
        .await?;
    Ok(res.rows_affected == 1)
}

/// Exponential backoff with ±25 % jitter: base × 2^(attempt−1), capped.
pub fn backoff_ms(attempt: i32, base_ms: u64, max_ms: u64) -> i64 {
    let exp = base_ms
        .saturating_mul(1u64 << (attempt.clamp(1, 30) - 1) as u32)
        .min(max_ms);
    let jitter = rand::rng().random_range(0.75..=1.25);
    ((exp as f64) * jitter) as i64
}

/// Records a failed attempt: retried later, or dead when out of attempts or not retryable.
pub async fn fail(
    db: &impl ConnectionTrait,
    worker: &str,
    job: &jobs::Model,
    error: &str,
    retryable: bool,
    backoff: (u64, u64),
) -> AppResult<&'static str> {
    let mut errors = job.errors.as_array().cloned().unwrap_or_default();
    errors.push(json!({ "attempt": job.attempts, "at": Utc::now(), "error": error }));
    let dead = !retryable || job.attempts >= job.max_attempts;
    let status = if dead { DEAD } else { FAILED };
    let run_at = now_ms() + backoff_ms(job.attempts, backoff.0, backoff.1);
    let mut update = jobs::Entity::update_many()
        .col_expr(C::Status, Expr::value(status))
        .col_expr(C::Errors, Expr::value(Value::Array(errors)))
        .col_expr(C::LastError, Expr::value(error))
        .col_expr(C::LockedBy, Expr::value(Option::<String>::None))
        .col_expr(C::LockedUntil, Expr::value(Option::<i64>::None))
        .col_expr(C::RunAt, Expr::value(run_at))
        .col_expr(C::UpdatedAt, Expr::value(Utc::now()))
        .filter(C::Id.eq(job.id))
        .filter(C::LockedBy.eq(worker));
    if dead {
        update = update.col_expr(C::FinishedAt, Expr::value(Utc::now()));
    }
    update.exec(db).await?;
    Ok(status)
}

/// Gives claimed jobs back without counting the attempt (graceful shutdown).
pub async fn release(db: &impl ConnectionTrait, worker: &str, ids: &[Uuid]) -> AppResult<()> {
    jobs::Entity::update_many()
        .col_expr(C::Status, Expr::value(QUEUED))
        .col_expr(
            C::Attempts,
            sea_orm::sea_query::ExprTrait::sub(Expr::col(C::Attempts), 1),
        )
        .col_expr(C::LockedBy, Expr::value(Option::<String>::None))
        .col_expr(C::LockedUntil, Expr::value(Option::<i64>::None))
        .filter(C::Id.is_in(ids.iter().copied()))
        .filter(C::LockedBy.eq(worker))
        .filter(C::Status.eq(RUNNING))
        .exec(db)
        .await?;
    Ok(())
}

pub async fn set_progress(
    db: &impl ConnectionTrait,
    id: TaskId,
    done: i64,
    total: i64,
) -> AppResult<()> {
    jobs::Entity::update_many()
        .col_expr(C::ProgressDone, Expr::value(done))
        .col_expr(C::ProgressTotal, Expr::value(total))
        .col_expr(C::UpdatedAt, Expr::value(Utc::now()))
        .filter(C::Id.eq(id.0))
        .exec(db)
        .await?;
    Ok(())
}

/// Puts dead letters back in the queue (attempts reset, error history kept). `org` None:
/// every organization (CLI). Returns how many were replayed.
pub async fn replay(
    db: &impl ConnectionTrait,
    org: Option<OrgId>,
    id: Option<TaskId>,
) -> AppResult<u64> {
    let mut update = jobs::Entity::update_many()
        .col_expr(C::Status, Expr::value(QUEUED))
        .col_expr(C::Attempts, Expr::value(0))
        .col_expr(C::RunAt, Expr::value(now_ms()))
        .col_expr(
            C::FinishedAt,
            Expr::value(Option::<chrono::DateTime<Utc>>::None),
        )
        .col_expr(C::UpdatedAt, Expr::value(Utc::now()))
        .filter(C::Status.eq(DEAD));
    if let Some(org) = org {
        update = update.filter(C::OrgId.eq(org.0));
    }
    if let Some(id) = id {
        update = update.filter(C::Id.eq(id.0));
    }
    let n = update.exec(db).await?.rows_affected;
    if n > 0 && db.get_database_backend() == DbBackend::Postgres {
        db.execute_unprepared("NOTIFY comptoir_jobs").await?;
    }
    Ok(n)
}

/// Dead letters, newest first.
pub async fn dead(
    db: &impl ConnectionTrait,
    org: Option<OrgId>,
    limit: u64,
) -> AppResult<Vec<jobs::Model>> {
    let mut q = jobs::Entity::find().filter(C::Status.eq(DEAD));
    if let Some(org) = org {
        q = q.filter(C::OrgId.eq(org.0));
    }
    Ok(q.order_by_desc(C::UpdatedAt).limit(limit).all(db).await?)
}

/// Jobs per (kind, status), and the age of the oldest runnable job — for metrics and health.
pub async fn stats(db: &impl ConnectionTrait) -> AppResult<QueueStats> {
    let rows: Vec<(String, String, i64)> = jobs::Entity::find()
        .select_only()
        .column(C::Kind)
        .column(C::Status)
        .column_as(C::Id.count(), "n")
        .filter(C::Status.ne(SUCCEEDED))
        .group_by(C::Kind)
        .group_by(C::Status)
        .into_tuple()
        .all(db)
        .await?;
    let oldest: Option<i64> = jobs::Entity::find()
        .select_only()
        .column_as(C::RunAt.min(), "oldest")
        .filter(C::Status.is_in([QUEUED, FAILED]))
        .filter(C::RunAt.lte(now_ms()))
        .into_tuple::<Option<i64>>()
        .one(db)
        .await?
        .flatten();
    let succeeded = jobs::Entity::find()
        .filter(C::Status.eq(SUCCEEDED))
        .count(db)
        .await?;
    Ok(QueueStats {
        by_kind_status: rows,
        oldest_runnable_age_ms: oldest.map(|t| (now_ms() - t).max(0)),
        succeeded,
    })
}

/// One organization's jobs per (kind, status), succeeded included.
pub async fn org_counts(
    db: &impl ConnectionTrait,
    org: OrgId,
) -> AppResult<Vec<(String, String, i64)>> {
    Ok(jobs::Entity::find()
        .select_only()
        .column(C::Kind)
        .column(C::Status)
        .column_as(C::Id.count(), "n")
        .filter(C::OrgId.eq(org.0))
        .group_by(C::Kind)
        .group_by(C::Status)
        .order_by_asc(C::Kind)
        .into_tuple()
        .all(db)
        .await?)
}

/// One organization's latest failed attempts (retrying or dead).
pub async fn org_failures(
    db: &impl ConnectionTrait,
    org: OrgId,
    limit: u64,
) -> AppResult<Vec<jobs::Model>> {
    Ok(jobs::Entity::find()
        .filter(C::OrgId.eq(org.0))
        .filter(C::LastError.is_not_null())
        .order_by_desc(C::UpdatedAt)
        .limit(limit)
        .all(db)
        .await?)
}

/// A snapshot of the queue.
#[derive(Debug, Clone, Default)]
pub struct QueueStats {
    /// (kind, status, count) for every status but succeeded.
    pub by_kind_status: Vec<(String, String, i64)>,
    pub oldest_runnable_age_ms: Option<i64>,
    pub succeeded: u64,
}

impl QueueStats {
    /// Jobs waiting to run (queued or awaiting a retry).
    pub fn depth(&self) -> i64 {
        self.by_kind_status
            .iter()
            .filter(|(_, s, _)| s == QUEUED || s == FAILED)
            .map(|(_, _, n)| n)
            .sum()
    }

    pub fn dead(&self) -> i64 {
        self.by_kind_status
            .iter()
            .filter(|(_, s, _)| s == DEAD)
            .map(|(_, _, n)| n)
            .sum()
    }
}

//! Idempotent commands (money and stock): the first request with a key runs; a repeat gets the
//! stored result of the first, also while the first is still running (it waits for it); a repeat
//! with a different request under the same key is refused. Keys are scoped (e.g. per customer),
//! so one caller's key never answers another's request.
//!
//! A run holds a lease: if its process dies, a repeat after the lease takes the key over (the
//! command itself must then be safe to resume, which is the caller's part).

use std::future::Future;
use std::time::Duration;

use serde::de::DeserializeOwned;
use serde::Serialize;
use sqlx::Row;

use crate::db::Database;
use primitives::time::now_millis;

#[derive(Debug, thiserror::Error)]
pub enum IdempotencyError<E> {
    /// The key was used before for another request.
    #[error("this idempotency key was used for a different request")]
    KeyReused,
    /// The first request with this key is still running after the wait.
    #[error("a request with this idempotency key is still running")]
    StillRunning,
    #[error("idempotency record: {0}")]
    Database(#[from] sqlx::Error),
    #[error("stored result: {0}")]
    Stored(serde_json::Error),
    /// The command itself failed; nothing is stored, so the key can be tried again.
    #[error(transparent)]
    Command(E),
}

/// How long a run may take before a repeat takes its key over, and how long a repeat waits for
/// a running first request.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    pub lease: Duration,
    pub wait: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            lease: Duration::from_secs(60),
            wait: Duration::from_secs(30),
        }
    }
}

/// A stable hash of a request, to tell a repeat from a different request under the same key.
pub fn request_hash(request: &impl Serialize) -> String {
    primitives::id::sha256_hex(&serde_json::to_vec(request).expect("requests serialize"))
}

enum Claim {
    Run(String),
    Done(String),
    Running,
}

async fn claim(
    db: &Database,
    scope: &str,
    key: &str,
    hash: &str,
    lease: Duration,
) -> Result<Claim, IdempotencyError<std::convert::Infallible>> {
    let now = now_millis();
    let runner = primitives::id::new_id("run");
    let inserted = sqlx::query(
        "INSERT INTO idempotency_keys \
         (scope, idempotency_key, request_hash, runner, response, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, NULL, $5, $5) ON CONFLICT (scope, idempotency_key) DO NOTHING",
    )
    .bind(scope)
    .bind(key)
    .bind(hash)
    .bind(&runner)
    .bind(now)
    .execute(db.pool())
    .await?;
    if inserted.rows_affected() == 1 {
        return Ok(Claim::Run(runner));
    }
    let row = sqlx::query(
        "SELECT request_hash, runner, response, updated_at FROM idempotency_keys \
         WHERE scope = $1 AND idempotency_key = $2",
    )
    .bind(scope)
    .bind(key)
    .fetch_optional(db.pool())
    .await?;
    // Abandoned between the insert and this read: claim it again.
    let Some(row) = row else {
        return Ok(Claim::Running);
    };
    if row.try_get::<String, _>("request_hash")? != hash {
        return Err(IdempotencyError::KeyReused);
    }
    if let Some(response) = row.try_get::<Option<String>, _>("response")? {
        return Ok(Claim::Done(response));
    }
    let updated_at: i64 = row.try_get("updated_at")?;
    if now - updated_at < lease.as_millis() as i64 {
        return Ok(Claim::Running);
    }
    // The runner's lease ran out (its process died): take the key over, if nobody else did.
    let previous: String = row.try_get("runner")?;
    let taken = sqlx::query(
        "UPDATE idempotency_keys SET runner = $1, updated_at = $2 \
         WHERE scope = $3 AND idempotency_key = $4 AND runner = $5 AND response IS NULL",
    )
    .bind(&runner)
    .bind(now)
    .bind(scope)
    .bind(key)
    .bind(&previous)
    .execute(db.pool())
    .await?;
    Ok(if taken.rows_affected() == 1 {
        Claim::Run(runner)
    } else {
        Claim::Running
    })
}

/// Runs `command` once for (`scope`, `key`, `request`): the first call runs it and stores its
/// result; repeats return that result (waiting up to `limits.wait` while it runs). A failed
/// command stores nothing, so the key may be used again.
pub async fn once<T, E, F, Fut>(
    db: &Database,
    scope: &str,
    key: &str,
    request: &impl Serialize,
    limits: Limits,
    command: F,
) -> Result<T, IdempotencyError<E>>
where
    T: Serialize + DeserializeOwned,
    F: FnOnce() -> Fut,
    Fut: Future<Output = Result<T, E>>,
{
    let hash = request_hash(request);
    let deadline = tokio::time::Instant::now() + limits.wait;
    let mut pause = Duration::from_millis(10);
    let runner = loop {
        match claim(db, scope, key, &hash, limits.lease)
            .await
            .map_err(widen)?
        {
            Claim::Run(runner) => break runner,
            Claim::Done(response) => {
                return serde_json::from_str(&response).map_err(IdempotencyError::Stored)
            }
            Claim::Running if tokio::time::Instant::now() >= deadline => {
                return Err(IdempotencyError::StillRunning)
            }
            // The first request is in another task or process: look again shortly.
            Claim::Running => {
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(Duration::from_millis(250));
            }
        }
    };
    match command().await {
        Ok(result) => {
            let response = serde_json::to_string(&result).map_err(IdempotencyError::Stored)?;
            sqlx::query(
                "UPDATE idempotency_keys SET response = $1, updated_at = $2 \
                 WHERE scope = $3 AND idempotency_key = $4 AND runner = $5",
            )
            .bind(response)
            .bind(now_millis())
            .bind(scope)
            .bind(key)
            .bind(&runner)
            .execute(db.pool())
            .await?;
            Ok(result)
        }
        Err(error) => {
            sqlx::query(
                "DELETE FROM idempotency_keys \
                 WHERE scope = $1 AND idempotency_key = $2 AND runner = $3",
            )
            .bind(scope)
            .bind(key)
            .bind(&runner)
            .execute(db.pool())
            .await?;
            Err(IdempotencyError::Command(error))
        }
    }
}

fn widen<E>(error: IdempotencyError<std::convert::Infallible>) -> IdempotencyError<E> {
    match error {
        IdempotencyError::KeyReused => IdempotencyError::KeyReused,
        IdempotencyError::StillRunning => IdempotencyError::StillRunning,
        IdempotencyError::Database(e) => IdempotencyError::Database(e),
        IdempotencyError::Stored(e) => IdempotencyError::Stored(e),
        IdempotencyError::Command(never) => match never {},
    }
}

//! Password hashing off the async workers. argon2 is built to be slow (tens of milliseconds of
//! CPU each); run on the workers that serve requests, a burst of logins stalls every query.
//! Here each hash runs on tokio's blocking pool, at most `threads` at once: further logins wait
//! their turn while queries keep the rest of the CPU.

use std::sync::Arc;

use tokio::sync::Semaphore;

use crate::domain::password::{self, HashCost};
use crate::domain::Password;

pub struct PasswordHashing {
    cost: HashCost,
    permits: Semaphore,
    /// A hash at `cost` that matches no password: unknown users are checked against it, so a
    /// login for an unknown email costs what one for a known email does.
    dummy_hash: Arc<str>,
}

#[derive(Debug, thiserror::Error)]
pub enum HashingError {
    #[error("password hashing failed: {0}")]
    Argon2(argon2::password_hash::Error),
    #[error("the password hashing task failed: {0}")]
    Task(#[from] tokio::task::JoinError),
}

impl PasswordHashing {
    pub fn new(cost: HashCost, threads: usize) -> Result<Self, HashingError> {
        let unguessable = Password::parse(&crate::domain::tokens::new_refresh_token().0, "")
            .expect("256 random bits meet the password policy");
        let dummy_hash = unguessable.hash(&cost).map_err(HashingError::Argon2)?;
        Ok(Self {
            cost,
            permits: Semaphore::new(threads.max(1)),
            dummy_hash: dummy_hash.into(),
        })
    }

    /// The argon2id PHC string of `password`.
    pub async fn hash(&self, password: Password) -> Result<String, HashingError> {
        let _permit = self.permits.acquire().await.expect("never closed");
        let cost = self.cost.clone();
        tokio::task::spawn_blocking(move || password.hash(&cost))
            .await?
            .map_err(HashingError::Argon2)
    }

    /// Whether `candidate` is the password `stored_hash` was made from; false without a hash
    /// (after the same work).
    pub async fn verify(
        &self,
        candidate: &str,
        stored_hash: Option<&str>,
    ) -> Result<bool, HashingError> {
        let _permit = self.permits.acquire().await.expect("never closed");
        let candidate = candidate.to_string();
        let stored_hash = stored_hash.map(str::to_string);
        let dummy_hash = self.dummy_hash.clone();
        Ok(tokio::task::spawn_blocking(move || {
            password::verify(&candidate, stored_hash.as_deref(), &dummy_hash)
        })
        .await?)
    }
}

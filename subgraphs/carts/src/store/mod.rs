//! Cart storage: Redis in production ([`RedisCarts`], atomic Lua scripts, TTL refreshed on every
//! write), the SQLite database in the embedded mode ([`SqlCarts`], one transaction per change).
//! Both enforce the limits inside the atomic step and pass the same contract tests.

mod redis_store;
mod sql;

use std::time::Duration;

use async_trait::async_trait;

pub use redis_store::RedisCarts;
pub use sql::SqlCarts;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cart store: {0}")]
    Redis(#[from] ::redis::RedisError),
    #[error("cart store: {0}")]
    Database(#[from] sqlx::Error),
    #[error("stored cart is invalid: {0}")]
    Corrupt(String),
}

pub type StoreResult<T> = Result<T, StoreError>;

/// A line: units of a variant (and the product it is a variant of).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredLine {
    pub variant_id: String,
    pub product_id: String,
    pub quantity: i64,
    pub added_at: i64,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredCart {
    pub key: String,
    /// Oldest first.
    pub lines: Vec<StoredLine>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// What to do to one line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LineChange {
    /// Add units (a new line, of a variant of `product_id`, when the variant is not in the cart).
    Add {
        quantity: i64,
        product_id: String,
    },
    /// Set the line's quantity (the line must exist).
    Set(i64),
    Remove,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ChangeOutcome {
    Changed(StoredCart),
    /// No such cart (or it expired).
    NoCart,
    /// `Set` or `Remove` on a variant the cart does not have.
    NoLine,
    /// The line would exceed the per-line maximum; it keeps `current`.
    TooMany {
        current: i64,
    },
    /// A new line would exceed the line limit.
    TooManyLines,
}

#[async_trait]
pub trait CartStore: Send + Sync {
    /// Creates an empty cart at `key` (a guest cart); one that exists is left as it is.
    async fn create(&self, key: &str, ttl: Duration) -> StoreResult<StoredCart>;
    async fn get(&self, key: &str) -> StoreResult<Option<StoredCart>>;
    /// Changes one line atomically, creating the cart first when `create` (a user's first add).
    async fn change(
        &self,
        key: &str,
        variant_id: &str,
        change: LineChange,
        create: bool,
        ttl: Duration,
    ) -> StoreResult<ChangeOutcome>;
    /// Removes every line; `None` when there is no cart.
    async fn clear(&self, key: &str, ttl: Duration) -> StoreResult<Option<StoredCart>>;
    /// Moves the lines of `from` into `into` (created when missing) and deletes `from`, atomically:
    /// quantities add up to the per-line maximum, new lines stop at the line limit. `None` when
    /// `from` does not exist.
    async fn merge(&self, from: &str, into: &str, ttl: Duration)
        -> StoreResult<Option<StoredCart>>;
}

//! The Redis connection router replicas share state through (persisted-query registrations,
//! rate-limit buckets). Commands time out quickly: a slow Redis must not hold requests up, and
//! every caller has a way to carry on without it.

use std::time::Duration;

use redis::aio::ConnectionManager;

const COMMAND_TIMEOUT: Duration = Duration::from_millis(500);

/// A connection to the shared Redis, and the prefix of every key the router writes.
#[derive(Clone)]
pub struct SharedStore {
    pub connection: ConnectionManager,
    pub namespace: String,
}

impl SharedStore {
    /// For `rediss://`, the server's certificate comes from the CA in `ca_file` when given.
    pub async fn connect(
        url: &str,
        namespace: &str,
        ca_file: Option<&std::path::Path>,
    ) -> Result<Self, redis::RedisError> {
        let client = event_bus::redis_client(url, ca_file)?;
        let config = redis::aio::ConnectionManagerConfig::new()
            .set_response_timeout(Some(COMMAND_TIMEOUT))
            .set_connection_timeout(Some(COMMAND_TIMEOUT));
        Ok(Self {
            connection: client.get_connection_manager_with_config(config).await?,
            namespace: namespace.into(),
        })
    }

    pub fn key(&self, kind: &str, id: &str) -> String {
        format!("{}:router:{kind}:{id}", self.namespace)
    }
}

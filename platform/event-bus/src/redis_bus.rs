//! The production bus on Redis Streams: a stream per topic (`<namespace>:events:<topic>`), a
//! consumer group per subscribing service, retries claimed with `XPENDING`/`XCLAIM` once their
//! backoff has passed, and a dead-letter stream per group and topic
//! (`<namespace>:dead:<group>:<topic>`).

use std::collections::HashMap;
use std::path::Path;
use std::time::Duration;

use redis::aio::{ConnectionManager, MultiplexedConnection};
use redis::{AsyncConnectionConfig, Client, ErrorKind, RedisError, TlsCertificates, Value};
use tokio::sync::Mutex;

use super::{backoff, DeadLetter, Delivery, Event, EventBus, EventError};

/// Streams are trimmed (approximately) to this many entries.
const MAX_STREAM_LENGTH: usize = 1_000_000;
const COMMAND_TIMEOUT: Duration = Duration::from_secs(5);

pub struct RedisBus {
    client: Client,
    commands: ConnectionManager,
    /// Blocking reads hold their connection; each consumer gets its own.
    readers: Mutex<HashMap<String, MultiplexedConnection>>,
    namespace: String,
}

/// A client for the Redis at `url`. For `rediss://`, the server's certificate must come from the
/// CA in the PEM file `ca_file` when one is given (a private CA: `TLS_CA_FILE`), else from the
/// system's roots. The bus, carts and the router's shared store all connect this way.
pub fn redis_client(url: &str, ca_file: Option<&Path>) -> Result<Client, RedisError> {
    match ca_file {
        Some(path) if url.starts_with("rediss://") => {
            let pem = std::fs::read(path).map_err(|error| {
                RedisError::from((
                    ErrorKind::InvalidClientConfig,
                    "cannot read the CA file",
                    format!("{}: {error}", path.display()),
                ))
            })?;
            let certificates = TlsCertificates {
                client_tls: None,
                root_cert: Some(pem),
            };
            Client::build_with_tls(url, certificates)
        }
        _ => Client::open(url),
    }
}

impl RedisBus {
    pub async fn connect(
        url: &str,
        namespace: &str,
        ca_file: Option<&Path>,
    ) -> Result<Self, EventError> {
        let client = redis_client(url, ca_file)?;
        let config = redis::aio::ConnectionManagerConfig::new()
            .set_response_timeout(Some(COMMAND_TIMEOUT))
            .set_connection_timeout(Some(COMMAND_TIMEOUT));
        let commands = client.get_connection_manager_with_config(config).await?;
        Ok(Self {
            client,
            commands,
            readers: Mutex::new(HashMap::new()),
            namespace: namespace.into(),
        })
    }

    fn stream(&self, topic: &str) -> String {
        format!("{}:events:{topic}", self.namespace)
    }

    fn dead_stream(&self, topic: &str, group: &str) -> String {
        format!("{}:dead:{group}:{topic}", self.namespace)
    }

    async fn reader(&self, key: &str, wait: Duration) -> Result<MultiplexedConnection, EventError> {
        let mut readers = self.readers.lock().await;
        if let Some(connection) = readers.get(key) {
            return Ok(connection.clone());
        }
        let config = AsyncConnectionConfig::new()
            .set_response_timeout(Some(wait + COMMAND_TIMEOUT))
            .set_connection_timeout(Some(COMMAND_TIMEOUT));
        let connection = self
            .client
            .get_multiplexed_async_connection_with_config(&config)
            .await?;
        readers.insert(key.to_string(), connection.clone());
        Ok(connection)
    }

    /// Entries of `group` pending longer than their backoff, claimed for `consumer`.
    async fn claim_retries(
        &self,
        stream: &str,
        group: &str,
        consumer: &str,
        max: usize,
        retry_base: Duration,
    ) -> Result<Vec<Delivery>, EventError> {
        let mut connection = self.commands.clone();
        let pending: Value = redis::cmd("XPENDING")
            .arg(stream)
            .arg(group)
            .arg("IDLE")
            .arg(retry_base.as_millis() as u64)
            .arg("-")
            .arg("+")
            .arg(max)
            .query_async(&mut connection)
            .await?;
        let mut claimed = Vec::new();
        for item in array(pending) {
            let fields = array(item);
            let (Some(id), Some(idle), Some(count)) = (
                fields.first().and_then(text),
                fields.get(2).and_then(int),
                fields.get(3).and_then(int),
            ) else {
                continue;
            };
            let wait = backoff(retry_base, count as u32);
            if (idle as u128) < wait.as_millis() {
                continue;
            }
            // The idle-time guard makes one claimer win when several race for the entry.
            let entries: Value = redis::cmd("XCLAIM")
                .arg(stream)
                .arg(group)
                .arg(consumer)
                .arg(wait.as_millis() as u64)
                .arg(&id)
                .query_async(&mut connection)
                .await?;
            for (entry, raw) in entries_of(entries) {
                claimed.push(Delivery {
                    entry,
                    raw,
                    attempt: count as u32 + 1,
                });
            }
        }
        Ok(claimed)
    }
}

#[async_trait::async_trait]
impl EventBus for RedisBus {
    async fn publish(&self, event: &Event) -> Result<(), EventError> {
        let body = serde_json::to_string(event).expect("events serialize");
        let mut connection = self.commands.clone();
        let _: Value = redis::cmd("XADD")
            .arg(self.stream(&event.topic))
            .arg("MAXLEN")
            .arg("~")
            .arg(MAX_STREAM_LENGTH)
            .arg("*")
            .arg("event")
            .arg(body)
            .query_async(&mut connection)
            .await?;
        Ok(())
    }

    async fn subscribe(&self, topic: &str, group: &str) -> Result<(), EventError> {
        let mut connection = self.commands.clone();
        let created: Result<Value, redis::RedisError> = redis::cmd("XGROUP")
            .arg("CREATE")
            .arg(self.stream(topic))
            .arg(group)
            .arg("0")
            .arg("MKSTREAM")
            .query_async(&mut connection)
            .await;
        match created {
            Ok(_) => Ok(()),
            Err(e) if e.code() == Some("BUSYGROUP") => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    async fn fetch(
        &self,
        topic: &str,
        group: &str,
        consumer: &str,
        max: usize,
        retry_base: Duration,
        wait: Duration,
    ) -> Result<Vec<Delivery>, EventError> {
        let stream = self.stream(topic);
        let mut deliveries = self
            .claim_retries(&stream, group, consumer, max, retry_base)
            .await?;
        if deliveries.len() >= max {
            return Ok(deliveries);
        }
        let mut command = redis::cmd("XREADGROUP");
        command
            .arg("GROUP")
            .arg(group)
            .arg(consumer)
            .arg("COUNT")
            .arg(max - deliveries.len());
        if deliveries.is_empty() && !wait.is_zero() {
            command.arg("BLOCK").arg(wait.as_millis() as u64);
        }
        command.arg("STREAMS").arg(&stream).arg(">");
        let key = format!("{stream}\n{group}\n{consumer}");
        let mut reader = self.reader(&key, wait).await?;
        let read: Value = match command.query_async(&mut reader).await {
            Ok(read) => read,
            Err(error) => {
                // A broken connection is made again on the next fetch.
                self.readers.lock().await.remove(&key);
                return Err(error.into());
            }
        };
        for stream_reply in array(read) {
            let parts = array(stream_reply);
            if let Some(entries) = parts.into_iter().nth(1) {
                for (entry, raw) in entries_of(entries) {
                    deliveries.push(Delivery {
                        entry,
                        raw,
                        attempt: 1,
                    });
                }
            }
        }
        Ok(deliveries)
    }

    async fn ack(&self, topic: &str, group: &str, entry: &str) -> Result<(), EventError> {
        let mut connection = self.commands.clone();
        let _: Value = redis::cmd("XACK")
            .arg(self.stream(topic))
            .arg(group)
            .arg(entry)
            .query_async(&mut connection)
            .await?;
        Ok(())
    }

    async fn dead_letter(
        &self,
        topic: &str,
        group: &str,
        delivery: &Delivery,
        reason: &str,
    ) -> Result<(), EventError> {
        let mut connection = self.commands.clone();
        let _: Value = redis::pipe()
            .atomic()
            .cmd("XADD")
            .arg(self.dead_stream(topic, group))
            .arg("*")
            .arg("entry")
            .arg(&delivery.entry)
            .arg("event")
            .arg(&delivery.raw)
            .arg("reason")
            .arg(reason)
            .arg("attempts")
            .arg(delivery.attempt)
            .cmd("XACK")
            .arg(self.stream(topic))
            .arg(group)
            .arg(&delivery.entry)
            .query_async(&mut connection)
            .await?;
        Ok(())
    }

    async fn dead_letters(&self, topic: &str, group: &str) -> Result<Vec<DeadLetter>, EventError> {
        let mut connection = self.commands.clone();
        let entries: Value = redis::cmd("XRANGE")
            .arg(self.dead_stream(topic, group))
            .arg("-")
            .arg("+")
            .query_async(&mut connection)
            .await?;
        Ok(array(entries)
            .into_iter()
            .map(|entry| {
                let mut parts = array(entry).into_iter();
                let _id = parts.next();
                let fields = field_map(parts.next().unwrap_or(Value::Nil));
                let get = |name: &str| fields.get(name).cloned().unwrap_or_default();
                DeadLetter {
                    entry: get("entry"),
                    raw: get("event"),
                    reason: get("reason"),
                    attempts: get("attempts").parse().unwrap_or(0),
                }
            })
            .collect())
    }

    async fn backlog(&self, topic: &str, group: &str) -> Result<u64, EventError> {
        let mut connection = self.commands.clone();
        let groups: Value = redis::cmd("XINFO")
            .arg("GROUPS")
            .arg(self.stream(topic))
            .query_async(&mut connection)
            .await?;
        for info in array(groups) {
            let fields = value_map(info);
            if fields.get("name").and_then(text).as_deref() != Some(group) {
                continue;
            }
            let pending = fields.get("pending").and_then(int).unwrap_or(0);
            let lag = fields.get("lag").and_then(int).unwrap_or(0);
            return Ok((pending + lag) as u64);
        }
        Ok(0)
    }

    async fn read(
        &self,
        topic: &str,
        position: Option<&str>,
        since_ms: i64,
        max: usize,
        wait: Duration,
    ) -> Result<Vec<(String, String)>, EventError> {
        let start = match position {
            Some(position) => position.to_string(),
            None => format!("{}-0", since_ms.max(0)),
        };
        self.read_from(topic, &start, max, wait).await
    }
}

impl RedisBus {
    /// `XREAD` from `start` (exclusive), blocking up to `wait`.
    async fn read_from(
        &self,
        topic: &str,
        start: &str,
        max: usize,
        wait: Duration,
    ) -> Result<Vec<(String, String)>, EventError> {
        let stream = self.stream(topic);
        let mut command = redis::cmd("XREAD");
        command.arg("COUNT").arg(max);
        if !wait.is_zero() {
            command.arg("BLOCK").arg(wait.as_millis() as u64);
        }
        command.arg("STREAMS").arg(&stream).arg(start);
        let key = format!("{stream}\nread");
        let mut reader = self.reader(&key, wait).await?;
        let read: Value = match command.query_async(&mut reader).await {
            Ok(read) => read,
            Err(error) => {
                self.readers.lock().await.remove(&key);
                return Err(error.into());
            }
        };
        Ok(array(read)
            .into_iter()
            .filter_map(|reply| array(reply).into_iter().nth(1))
            .flat_map(entries_of)
            .collect())
    }
}

fn array(value: Value) -> Vec<Value> {
    match value {
        Value::Array(items) | Value::Set(items) => items,
        _ => Vec::new(),
    }
}

fn text(value: &Value) -> Option<String> {
    match value {
        Value::BulkString(bytes) => String::from_utf8(bytes.clone()).ok(),
        Value::SimpleString(s) => Some(s.clone()),
        Value::VerbatimString { text, .. } => Some(text.clone()),
        _ => None,
    }
}

fn int(value: &Value) -> Option<i64> {
    match value {
        Value::Int(n) => Some(*n),
        other => text(other).and_then(|s| s.parse().ok()),
    }
}

/// A RESP2 flat `[key, value, ...]` list or a RESP3 map, keyed by text.
fn value_map(value: Value) -> HashMap<String, Value> {
    match value {
        Value::Map(pairs) => pairs
            .into_iter()
            .filter_map(|(k, v)| text(&k).map(|k| (k, v)))
            .collect(),
        other => {
            let items = array(other);
            items
                .chunks(2)
                .filter_map(|pair| match pair {
                    [k, v] => text(k).map(|k| (k, v.clone())),
                    _ => None,
                })
                .collect()
        }
    }
}

fn field_map(value: Value) -> HashMap<String, String> {
    value_map(value)
        .into_iter()
        .filter_map(|(k, v)| text(&v).map(|v| (k, v)))
        .collect()
}

/// `(id, event field)` of each `[id, [field, value, ...]]` entry; deleted entries (nil fields)
/// are skipped.
fn entries_of(value: Value) -> Vec<(String, String)> {
    array(value)
        .into_iter()
        .filter_map(|entry| {
            let mut parts = array(entry).into_iter();
            let id = parts.next().as_ref().and_then(text)?;
            let fields = field_map(parts.next()?);
            Some((id, fields.get("event").cloned().unwrap_or_default()))
        })
        .collect()
}

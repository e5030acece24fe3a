//! Carts in Redis: one hash per cart (`<namespace>:cart:<key>`): a `v:<variant id>` field per
//! line holding `quantity:added_at:product_id`, and `_created`/`_updated` times. Every change is
//! one Lua script, so concurrent changes of one cart cannot lose updates or break a limit, and
//! each refreshes the cart's TTL. Carts written before variants have `p:<product id>` fields
//! (`quantity:added_at`): they read as the product's default variant, and a script rewrites
//! them as such before it changes the cart.

use std::time::Duration;

use ::redis::aio::ConnectionManager;
use ::redis::Script;
use async_trait::async_trait;

use super::*;
use crate::domain::{MAX_LINES, MAX_QUANTITY};

/// Rewrites a cart's lines from before variants (`p:<product>` = `q:added`) as lines of the
/// product's default variant (`v:var_<product>` = `q:added:product`).
const UPGRADE: &str = r#"
local function upgrade(key)
  local fields = redis.call('HGETALL', key)
  for i = 1, #fields, 2 do
    if string.sub(fields[i], 1, 2) == 'p:' then
      local product = string.sub(fields[i], 3)
      redis.call('HDEL', key, fields[i])
      redis.call('HSET', key, 'v:var_' .. product, fields[i + 1] .. ':' .. product)
    end
  end
end
local function parse(stored)
  local q, a, p = string.match(stored, '^(%d+):(%d+):(.+)$')
  return tonumber(q), a, p
end
"#;

const CHANGE: &str = r#"
local key, field, mode, amount = KEYS[1], 'v:' .. ARGV[1], ARGV[2], tonumber(ARGV[3])
local max_quantity, max_lines = tonumber(ARGV[4]), tonumber(ARGV[5])
local now, ttl, create, product = ARGV[6], tonumber(ARGV[7]), ARGV[8], ARGV[9]
if redis.call('EXISTS', key) == 0 then
  if create ~= '1' then return {'no_cart'} end
  redis.call('HSET', key, '_created', now, '_updated', now)
end
upgrade(key)
local stored = redis.call('HGET', key, field)
local current, added = 0, now
if stored then
  current, added, product = parse(stored)
end
if (mode == 'set' or mode == 'remove') and not stored then return {'no_line'} end
local new = 0
if mode == 'add' then new = current + amount elseif mode == 'set' then new = amount end
if new > max_quantity then return {'too_many', tostring(current)} end
if not stored and new > 0 and (redis.call('HLEN', key) - 2) >= max_lines then
  return {'too_many_lines'}
end
if new == 0 then
  redis.call('HDEL', key, field)
else
  redis.call('HSET', key, field, new .. ':' .. added .. ':' .. product)
end
redis.call('HSET', key, '_updated', now)
redis.call('PEXPIRE', key, ttl)
return {'ok'}
"#;

const MERGE: &str = r#"
local from, into = KEYS[1], KEYS[2]
local max_quantity, max_lines = tonumber(ARGV[1]), tonumber(ARGV[2])
local now, ttl = ARGV[3], tonumber(ARGV[4])
if redis.call('EXISTS', from) == 0 then return 0 end
if redis.call('EXISTS', into) == 0 then
  redis.call('HSET', into, '_created', now, '_updated', now)
end
upgrade(from)
upgrade(into)
local guest = redis.call('HGETALL', from)
local lines = {}
for i = 1, #guest, 2 do
  if string.sub(guest[i], 1, 2) == 'v:' then
    local q, a, p = parse(guest[i + 1])
    table.insert(lines, {guest[i], q, a, p})
  end
end
table.sort(lines, function(x, y) return tonumber(x[3]) < tonumber(y[3]) end)
for _, line in ipairs(lines) do
  local stored = redis.call('HGET', into, line[1])
  if stored then
    local q, a, p = parse(stored)
    redis.call('HSET', into, line[1], math.min(q + line[2], max_quantity) .. ':' .. a .. ':' .. p)
  elseif (redis.call('HLEN', into) - 2) < max_lines then
    redis.call('HSET', into, line[1], math.min(line[2], max_quantity) .. ':' .. line[3] .. ':' .. line[4])
  end
end
redis.call('DEL', from)
redis.call('HSET', into, '_updated', now)
redis.call('PEXPIRE', into, ttl)
return 1
"#;

const CLEAR: &str = r#"
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local created = redis.call('HGET', KEYS[1], '_created')
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], '_created', created, '_updated', ARGV[1])
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2]))
return 1
"#;

pub struct RedisCarts {
    connection: ConnectionManager,
    namespace: String,
    change: Script,
    merge: Script,
    clear: Script,
}

impl RedisCarts {
    /// For `rediss://`, the server's certificate comes from the CA in `ca_file` when given.
    pub async fn connect(
        url: &str,
        namespace: &str,
        ca_file: Option<&std::path::Path>,
    ) -> StoreResult<Self> {
        let client = event_bus::redis_client(url, ca_file)?;
        let config = ::redis::aio::ConnectionManagerConfig::new()
            .set_response_timeout(Some(Duration::from_secs(5)))
            .set_connection_timeout(Some(Duration::from_secs(5)));
        Ok(Self {
            connection: client.get_connection_manager_with_config(config).await?,
            namespace: namespace.into(),
            change: Script::new(&format!("{UPGRADE}{CHANGE}")),
            merge: Script::new(&format!("{UPGRADE}{MERGE}")),
            clear: Script::new(CLEAR),
        })
    }

    fn redis_key(&self, key: &str) -> String {
        format!("{}:cart:{key}", self.namespace)
    }
}

fn parse_cart(key: &str, fields: Vec<(String, String)>) -> StoreResult<Option<StoredCart>> {
    if fields.is_empty() {
        return Ok(None);
    }
    let corrupt = |what: &str| StoreError::Corrupt(format!("cart {key}: {what}"));
    let mut cart = StoredCart {
        key: key.into(),
        lines: Vec::new(),
        created_at: 0,
        updated_at: 0,
    };
    let number = |value: &str| value.parse::<i64>().map_err(|_| corrupt(value));
    for (field, value) in fields {
        match field.as_str() {
            "_created" => cart.created_at = number(&value)?,
            "_updated" => cart.updated_at = number(&value)?,
            _ => cart
                .lines
                .push(parse_line(&field, &value).ok_or_else(|| corrupt(&field))?),
        }
    }
    cart.lines
        .sort_by(|a, b| (a.added_at, &a.variant_id).cmp(&(b.added_at, &b.variant_id)));
    Ok(Some(cart))
}

/// A line's field and value; a line from before variants reads as the default variant's.
fn parse_line(field: &str, value: &str) -> Option<StoredLine> {
    let mut parts = value.splitn(3, ':');
    let quantity = parts.next()?.parse().ok()?;
    let added_at = parts.next()?.parse().ok()?;
    let (variant_id, product_id) = match (field.split_once(':')?, parts.next()) {
        (("v", variant), Some(product)) => (variant.to_string(), product.to_string()),
        (("p", product), None) => (
            commerce::variant::default_variant_id(product),
            product.to_string(),
        ),
        _ => return None,
    };
    Some(StoredLine {
        variant_id,
        product_id,
        quantity,
        added_at,
    })
}

#[async_trait]
impl CartStore for RedisCarts {
    async fn create(&self, key: &str, ttl: Duration) -> StoreResult<StoredCart> {
        let now = primitives::time::now_millis();
        let redis_key = self.redis_key(key);
        let mut connection = self.connection.clone();
        let _: () = ::redis::pipe()
            .atomic()
            .cmd("HSETNX")
            .arg(&redis_key)
            .arg("_created")
            .arg(now)
            .ignore()
            .cmd("HSETNX")
            .arg(&redis_key)
            .arg("_updated")
            .arg(now)
            .ignore()
            .cmd("PEXPIRE")
            .arg(&redis_key)
            .arg(ttl.as_millis() as u64)
            .ignore()
            .query_async(&mut connection)
            .await?;
        self.get(key)
            .await?
            .ok_or_else(|| StoreError::Corrupt(format!("cart {key} vanished after creation")))
    }

    async fn get(&self, key: &str) -> StoreResult<Option<StoredCart>> {
        let mut connection = self.connection.clone();
        let fields: Vec<(String, String)> = ::redis::cmd("HGETALL")
            .arg(self.redis_key(key))
            .query_async(&mut connection)
            .await?;
        parse_cart(key, fields)
    }

    async fn change(
        &self,
        key: &str,
        variant_id: &str,
        change: LineChange,
        create: bool,
        ttl: Duration,
    ) -> StoreResult<ChangeOutcome> {
        let (mode, amount, product_id) = match &change {
            LineChange::Add {
                quantity,
                product_id,
            } => ("add", *quantity, product_id.as_str()),
            LineChange::Set(n) => ("set", *n, ""),
            LineChange::Remove => ("remove", 0, ""),
        };
        let mut connection = self.connection.clone();
        let result: Vec<String> = self
            .change
            .key(self.redis_key(key))
            .arg(variant_id)
            .arg(mode)
            .arg(amount)
            .arg(MAX_QUANTITY)
            .arg(MAX_LINES)
            .arg(primitives::time::now_millis())
            .arg(ttl.as_millis() as u64)
            .arg(if create { "1" } else { "0" })
            .arg(product_id)
            .invoke_async(&mut connection)
            .await?;
        Ok(match result.first().map(String::as_str) {
            Some("ok") => match self.get(key).await? {
                Some(cart) => ChangeOutcome::Changed(cart),
                None => ChangeOutcome::NoCart,
            },
            Some("no_cart") => ChangeOutcome::NoCart,
            Some("no_line") => ChangeOutcome::NoLine,
            Some("too_many_lines") => ChangeOutcome::TooManyLines,
            Some("too_many") => ChangeOutcome::TooMany {
                current: result
                    .get(1)
                    .and_then(|c| c.parse().ok())
                    .ok_or_else(|| StoreError::Corrupt("script answer".into()))?,
            },
            other => return Err(StoreError::Corrupt(format!("script answered {other:?}"))),
        })
    }

    async fn clear(&self, key: &str, ttl: Duration) -> StoreResult<Option<StoredCart>> {
        let mut connection = self.connection.clone();
        let cleared: i64 = self
            .clear
            .key(self.redis_key(key))
            .arg(primitives::time::now_millis())
            .arg(ttl.as_millis() as u64)
            .invoke_async(&mut connection)
            .await?;
        if cleared == 0 {
            return Ok(None);
        }
        self.get(key).await
    }

    async fn merge(
        &self,
        from: &str,
        into: &str,
        ttl: Duration,
    ) -> StoreResult<Option<StoredCart>> {
        let mut connection = self.connection.clone();
        let merged: i64 = self
            .merge
            .key(self.redis_key(from))
            .key(self.redis_key(into))
            .arg(MAX_QUANTITY)
            .arg(MAX_LINES)
            .arg(primitives::time::now_millis())
            .arg(ttl.as_millis() as u64)
            .invoke_async(&mut connection)
            .await?;
        if merged == 0 {
            return Ok(None);
        }
        self.get(into).await
    }
}

//! The token bucket every limiter uses: `burst` tokens at most, refilled at `rate` per second;
//! a request takes one. The same arithmetic runs in [`TOKEN_BUCKET_SCRIPT`] inside Redis, so
//! that replicas sharing a bucket take from it atomically, on Redis's clock.

/// A bucket's limits.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Limit {
    pub per_second: f64,
    pub burst: f64,
}

/// A bucket's state: tokens left when last touched, at `at_ms`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Bucket {
    pub tokens: f64,
    pub at_ms: i64,
}

/// Whether a request may go on, and if not, when the next token comes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    Allowed,
    Refused { retry_after_ms: u64 },
}

impl Limit {
    /// Takes a token from `bucket` (a full one when there is none yet) at `now_ms`.
    pub fn take(&self, bucket: Option<Bucket>, now_ms: i64) -> (Bucket, Decision) {
        let Bucket { tokens, at_ms } = bucket.unwrap_or(Bucket {
            tokens: self.burst,
            at_ms: now_ms,
        });
        let elapsed = (now_ms - at_ms).max(0) as f64;
        let tokens = (tokens + elapsed * self.per_second / 1000.0).min(self.burst);
        if tokens >= 1.0 {
            let bucket = Bucket {
                tokens: tokens - 1.0,
                at_ms: now_ms,
            };
            (bucket, Decision::Allowed)
        } else {
            let retry_after_ms = ((1.0 - tokens) * 1000.0 / self.per_second).ceil() as u64;
            let bucket = Bucket {
                tokens,
                at_ms: now_ms,
            };
            (bucket, Decision::Refused { retry_after_ms })
        }
    }

    /// How long an untouched bucket takes to fill up (after which it may be forgotten).
    pub fn refill_ms(&self) -> u64 {
        (self.burst * 1000.0 / self.per_second).ceil() as u64
    }
}

/// [`Limit::take`] in Redis: KEYS[1] the bucket (a hash of `tokens` and `at`), ARGV rate per
/// second and burst; returns `{allowed (1/0), retry_after_ms}`. Redis's own clock (`TIME`)
/// keeps replicas with skewed clocks exact.
pub const TOKEN_BUCKET_SCRIPT: &str = r#"
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(state[1]) or burst
local at = tonumber(state[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - at) * rate / 1000)
local allowed, retry = 0, 0
if tokens >= 1 then
  tokens = tokens - 1
  allowed = 1
else
  retry = math.ceil((1 - tokens) * 1000 / rate)
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil(burst * 1000 / rate) + 1000)
return {allowed, retry}
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bucket_allows_its_burst_then_its_rate() {
        let limit = Limit {
            per_second: 10.0,
            burst: 3.0,
        };
        let mut bucket = None;
        let mut decisions = Vec::new();
        for _ in 0..4 {
            let (next, decision) = limit.take(bucket, 1_000);
            bucket = Some(next);
            decisions.push(decision);
        }
        assert_eq!(decisions[..3], [Decision::Allowed; 3]);
        assert_eq!(
            decisions[3],
            Decision::Refused {
                retry_after_ms: 100
            }
        );
        // 50 ms later half a token has come back: 50 ms more to wait.
        let (next, decision) = limit.take(bucket, 1_050);
        assert_eq!(decision, Decision::Refused { retry_after_ms: 50 });
        let (_, decision) = limit.take(Some(next), 1_100);
        assert_eq!(decision, Decision::Allowed);
        // A long pause refills to the burst, no further.
        let (full, _) = limit.take(None, 0);
        let (after, _) = limit.take(
            Some(Bucket {
                tokens: 0.0,
                ..full
            }),
            60_000,
        );
        assert_eq!(after.tokens, 2.0);
        assert_eq!(limit.refill_ms(), 300);
    }
}

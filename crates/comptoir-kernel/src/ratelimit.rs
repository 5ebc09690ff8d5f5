//! Rate limits: GCRA per (subject, route class), the subject being the API key, the user,
//! the web session or the client IP; limits come from the configuration by plan and class.
//! In-process (`governor`) by default; in Redis with one atomic script when
//! `COMPTOIR_REDIS_URL` is set, so that every process enforces one shared limit.

use std::collections::{BTreeMap, HashMap};
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::middleware::StateInformationMiddleware;
use governor::state::keyed::DefaultKeyedStateStore;
use governor::{Quota, RateLimiter as Governor};
use serde::{Deserialize, Serialize};

/// `per_period` requests every `period_secs`, with bursts of up to `burst`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Limit {
    pub per_period: u32,
    pub period_secs: u64,
    pub burst: u32,
}

impl Limit {
    pub const fn new(per_period: u32, period_secs: u64, burst: u32) -> Self {
        Self {
            per_period,
            period_secs,
            burst,
        }
    }

    /// Milliseconds between two requests at the sustained rate.
    fn emission_ms(&self) -> f64 {
        (self.period_secs as f64 * 1000.0) / self.per_period.max(1) as f64
    }
}

/// `[rate_limits]`: a limit per route class, and per-plan overrides.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RateLimitConfig {
    pub enabled: bool,
    /// Limits by route class: `default` (authenticated API), `auth` (sign-in and refresh,
    /// per IP), `anonymous` (unauthenticated, per IP), `generation` (AI generation).
    pub classes: BTreeMap<String, Limit>,
    /// Per plan (`free`, `pro`, `premium`), limits that replace the class defaults.
    pub plans: BTreeMap<String, BTreeMap<String, Limit>>,
}

impl Default for RateLimitConfig {
    fn default() -> Self {
        // PRODUCT.md A: 100 req / 60 s by default, 500 req/h per IP, 30 generations/min per
        // user, partners 1000/min with bursts of 2000.
        let classes = BTreeMap::from([
            ("default".to_owned(), Limit::new(100, 60, 100)),
            ("auth".to_owned(), Limit::new(20, 60, 10)),
            ("anonymous".to_owned(), Limit::new(500, 3600, 100)),
            ("generation".to_owned(), Limit::new(30, 60, 30)),
        ]);
        let plans = BTreeMap::from([
            (
                "pro".to_owned(),
                BTreeMap::from([("default".to_owned(), Limit::new(300, 60, 300))]),
            ),
            (
                "premium".to_owned(),
                BTreeMap::from([("default".to_owned(), Limit::new(1000, 60, 2000))]),
            ),
        ]);
        Self {
            enabled: true,
            classes,
            plans,
        }
    }
}

impl RateLimitConfig {
    pub fn limit(&self, plan: &str, class: &str) -> Limit {
        self.plans
            .get(plan)
            .and_then(|p| p.get(class))
            .or_else(|| self.classes.get(class))
            .or_else(|| self.classes.get("default"))
            .copied()
            .unwrap_or(Limit::new(100, 60, 100))
    }
}

/// The outcome of one check, with what the `RateLimit-*` headers say.
#[derive(Debug, Clone, PartialEq)]
pub struct Decision {
    pub allowed: bool,
    pub limit: u32,
    pub remaining: u32,
    /// Seconds until a request would be allowed (0 when allowed).
    pub retry_after_secs: u64,
    /// Seconds until the bucket is full again.
    pub reset_secs: u64,
}

type Keyed =
    Governor<String, DefaultKeyedStateStore<String>, DefaultClock, StateInformationMiddleware>;

enum Backend {
    Local(Mutex<HashMap<Limit, Arc<Keyed>>>),
    Redis {
        conn: redis::aio::ConnectionManager,
        prefix: String,
    },
}

/// Checks requests against their limits.
pub struct RateLimiter {
    pub config: RateLimitConfig,
    backend: Backend,
}

/// GCRA in one script, on Redis's own clock so that processes with skewed clocks agree.
/// Returns {allowed, retry_after_ms, remaining, reset_ms}.
const GCRA: &str = r#"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local emission = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local tolerance = emission * burst
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then tat = now end
local new_tat = tat + emission
local allow_at = new_tat - tolerance
if allow_at > now then
  return {0, math.ceil(allow_at - now), 0, math.ceil(tat - now)}
end
redis.call('SET', KEYS[1], tostring(new_tat), 'PX', math.ceil(new_tat - now) + 1000)
local remaining = math.floor((now - allow_at) / emission)
return {1, 0, remaining, math.ceil(new_tat - now)}
"#;

impl RateLimiter {
    pub fn local(config: RateLimitConfig) -> Self {
        Self {
            config,
            backend: Backend::Local(Mutex::new(HashMap::new())),
        }
    }

    pub fn redis(
        config: RateLimitConfig,
        conn: redis::aio::ConnectionManager,
        prefix: String,
    ) -> Self {
        Self {
            config,
            backend: Backend::Redis { conn, prefix },
        }
    }

    /// Checks one request of `subject` in `class` under `plan`. Redis errors let the
    /// request through (and are logged): a limiter outage must not take the API down.
    pub async fn check(&self, plan: &str, class: &str, subject: &str) -> Decision {
        let limit = self.config.limit(plan, class);
        let key = format!("{class}:{subject}");
        match &self.backend {
            Backend::Local(limiters) => {
                let limiter = {
                    let mut map = limiters.lock().unwrap_or_else(|p| p.into_inner());
                    map.entry(limit)
                        .or_insert_with(|| Arc::new(keyed(limit)))
                        .clone()
                };
                local_check(&limiter, &key, limit)
            }
            Backend::Redis { conn, prefix } => {
                let mut conn = conn.clone();
                let result: Result<(i64, i64, i64, i64), _> = redis::Script::new(GCRA)
                    .key(format!("{prefix}rl:{key}"))
                    .arg(limit.emission_ms())
                    .arg(limit.burst.max(1))
                    .invoke_async(&mut conn)
                    .await;
                match result {
                    Ok((allowed, retry_ms, remaining, reset_ms)) => Decision {
                        allowed: allowed == 1,
                        limit: limit.burst,
                        remaining: remaining.max(0) as u32,
                        retry_after_secs: (retry_ms.max(0) as u64).div_ceil(1000),
                        reset_secs: (reset_ms.max(0) as u64).div_ceil(1000),
                    },
                    Err(e) => {
                        tracing::warn!(error = %e, "rate limiter unavailable (Redis); request allowed");
                        Decision {
                            allowed: true,
                            limit: limit.burst,
                            remaining: limit.burst,
                            retry_after_secs: 0,
                            reset_secs: 0,
                        }
                    }
                }
            }
        }
    }
}

fn keyed(limit: Limit) -> Keyed {
    let period = Duration::from_micros(((limit.emission_ms() * 1000.0) as u64).max(1));
    let burst = NonZeroU32::new(limit.burst.max(1)).unwrap_or(NonZeroU32::MIN);
    let quota = Quota::with_period(period)
        .unwrap_or_else(|| Quota::per_second(NonZeroU32::MIN))
        .allow_burst(burst);
    Governor::keyed(quota).with_middleware::<StateInformationMiddleware>()
}

fn local_check(limiter: &Keyed, key: &str, limit: Limit) -> Decision {
    match limiter.check_key(&key.to_owned()) {
        Ok(snapshot) => {
            let remaining = snapshot.remaining_burst_capacity();
            let missing = limit.burst.saturating_sub(remaining) as f64;
            Decision {
                allowed: true,
                limit: limit.burst,
                remaining,
                retry_after_secs: 0,
                reset_secs: (missing * limit.emission_ms() / 1000.0).ceil() as u64,
            }
        }
        Err(not_until) => {
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
            Decision {
                allowed: false,
                limit: limit.burst,
                remaining: 0,
                retry_after_secs: secs.max(1),
                reset_secs: secs.max(1),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn local_limiter_allows_the_burst_then_refuses_with_a_wait() {
        let mut config = RateLimitConfig::default();
        config
            .classes
            .insert("default".into(), Limit::new(6, 60, 3));
        let limiter = RateLimiter::local(config);
        let mut allowed = 0;
        for _ in 0..10 {
            let d = limiter.check("free", "default", "user:1").await;
            if d.allowed {
                allowed += 1;
            } else {
                assert!((1..=10).contains(&d.retry_after_secs), "{d:?}");
                assert_eq!(d.remaining, 0);
            }
        }
        assert_eq!(allowed, 3);
        assert!(
            limiter.check("free", "default", "user:2").await.allowed,
            "subjects are independent"
        );
        assert!(
            limiter.check("free", "auth", "user:1").await.allowed,
            "classes are independent"
        );
    }

    #[test]
    fn plans_override_classes() {
        let c = RateLimitConfig::default();
        assert_eq!(c.limit("premium", "default"), Limit::new(1000, 60, 2000));
        assert_eq!(c.limit("premium", "auth"), c.classes["auth"]);
        assert_eq!(c.limit("free", "unknown-class"), c.classes["default"]);
    }
}

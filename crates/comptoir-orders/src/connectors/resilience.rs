//! Calling an external system: a per-request timeout (the HTTP client's), a few retries
//! with exponential backoff for failures that may pass (transport errors, 429, 5xx), and a
//! circuit breaker per organization and connector: after `FAILURES_TO_OPEN` failed calls
//! in a row, calls fail at once for `OPEN_FOR`, then one trial call decides.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Why a connector call failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectorError {
    pub message: String,
    /// Worth trying again later (the job is retried); false: the request itself is wrong.
    pub transient: bool,
}

impl ConnectorError {
    pub fn transient(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            transient: true,
        }
    }

    pub fn permanent(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            transient: false,
        }
    }

    pub fn from_http(e: reqwest::Error) -> Self {
        if e.is_timeout() {
            Self::transient(format!("timed out: {e}"))
        } else {
            Self::transient(format!("transport error: {e}"))
        }
    }

    pub fn from_status(status: reqwest::StatusCode, body: &str) -> Self {
        let message = format!(
            "HTTP {status}: {}",
            body.chars().take(300).collect::<String>()
        );
        if status.is_server_error() || status == reqwest::StatusCode::TOO_MANY_REQUESTS {
            Self::transient(message)
        } else {
            Self::permanent(message)
        }
    }
}

impl std::fmt::Display for ConnectorError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

pub const FAILURES_TO_OPEN: u32 = 5;
pub const OPEN_FOR: Duration = Duration::from_secs(30);

#[derive(Debug, Default, Clone, Copy)]
struct State {
    failures: u32,
    open_until: Option<Instant>,
}

/// Circuit breakers by key (`<org>:<kind>`), in this process.
#[derive(Debug, Default)]
pub struct Breakers {
    states: Mutex<HashMap<String, State>>,
}

impl Breakers {
    /// Err when the circuit is open (no call should be made).
    pub fn check(&self, key: &str, now: Instant) -> Result<(), ConnectorError> {
        let states = self.states.lock().unwrap_or_else(|p| p.into_inner());
        match states.get(key).and_then(|s| s.open_until) {
            Some(until) if now < until => Err(ConnectorError::transient(format!(
                "circuit open after {FAILURES_TO_OPEN} failures; next try in {} s",
                (until - now).as_secs() + 1
            ))),
            _ => Ok(()),
        }
    }

    pub fn record(&self, key: &str, ok: bool, now: Instant) {
        let mut states = self.states.lock().unwrap_or_else(|p| p.into_inner());
        let s = states.entry(key.to_owned()).or_default();
        if ok {
            *s = State::default();
        } else {
            s.failures += 1;
            if s.failures >= FAILURES_TO_OPEN {
                // Open (again, if this was the half-open trial).
                s.open_until = Some(now + OPEN_FOR);
            }
        }
    }
}

/// The process's breakers.
pub fn breakers() -> &'static Breakers {
    static B: std::sync::OnceLock<Breakers> = std::sync::OnceLock::new();
    B.get_or_init(Breakers::default)
}

/// Runs `call` through the breaker `key`, retrying transient failures up to `attempts`
/// times with backoff `base`, 2×base, 4×base...
pub async fn guarded<T, F, Fut>(
    key: &str,
    attempts: u32,
    base: Duration,
    mut call: F,
) -> Result<T, ConnectorError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, ConnectorError>>,
{
    let b = breakers();
    let mut last = ConnectorError::transient("not tried");
    for attempt in 0..attempts.max(1) {
        b.check(key, Instant::now())?;
        match call().await {
            Ok(v) => {
                b.record(key, true, Instant::now());
                return Ok(v);
            }
            Err(e) => {
                b.record(key, false, Instant::now());
                if !e.transient {
                    return Err(e);
                }
                last = e;
            }
        }
        if attempt + 1 < attempts {
            tokio::time::sleep(base * 2u32.pow(attempt)).await;
        }
    }
    Err(last)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_breaker_opens_after_five_failures_and_closes_after_a_success() {
        let b = Breakers::default();
        let t0 = Instant::now();
        for _ in 0..4 {
            b.record("k", false, t0);
        }
        assert!(b.check("k", t0).is_ok(), "four failures keep it closed");
        b.record("k", false, t0);
        let err = b.check("k", t0).unwrap_err();
        assert!(err.transient && err.message.contains("circuit open"));
        assert!(b.check("other", t0).is_ok(), "breakers are per key");
        // Half-open after the delay: one failure opens it again at once.
        let later = t0 + OPEN_FOR + Duration::from_millis(1);
        assert!(b.check("k", later).is_ok());
        b.record("k", false, later);
        assert!(b.check("k", later).is_err());
        let much_later = later + OPEN_FOR + Duration::from_millis(1);
        b.record("k", true, much_later);
        assert!(b.check("k", much_later).is_ok());
        b.record("k", false, much_later);
        assert!(
            b.check("k", much_later).is_ok(),
            "a success reset the count"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn transient_failures_are_retried_permanent_ones_are_not() {
        let mut calls = 0;
        let r: Result<u32, _> = guarded("retry-test", 3, Duration::from_millis(10), || {
            calls += 1;
            let n = calls;
            async move {
                if n < 3 {
                    Err(ConnectorError::transient("busy"))
                } else {
                    Ok(n)
                }
            }
        })
        .await;
        assert_eq!(r, Ok(3));
        let mut calls = 0;
        let r: Result<u32, _> = guarded("permanent-test", 3, Duration::from_millis(10), || {
            calls += 1;
            async { Err(ConnectorError::permanent("bad request")) }
        })
        .await;
        assert_eq!((r.unwrap_err().transient, calls), (false, 1));
    }
}

//! The state every handler receives: the database, configuration, keys, health checks, and
//! a type-keyed bag where slices put their own services (`state.ext::<Embedder>()`).

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Instant;

use axum::http::Extensions;
use sea_orm::DatabaseConnection;

use crate::auth::tokens::JwtKeys;
use crate::cache::{Cache, Caches};
use crate::config::Config;
use crate::ratelimit::RateLimiter;
use crate::secrets::{MasterKey, SecretCipher};

/// Outcome of one component's health check.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct ComponentHealth {
    pub name: String,
    /// `ok`, `degraded` or `down`.
    pub status: String,
    pub latency_ms: f64,
    pub detail: Option<String>,
}

pub type HealthFuture<'a> = Pin<Box<dyn Future<Output = ComponentHealth> + Send + 'a>>;

/// A component that can say whether it works (the database, a model, the job queue...).
pub trait HealthCheck: Send + Sync {
    /// Whether `/api/v1/health/ready` fails when this component is down.
    fn required_for_readiness(&self) -> bool {
        false
    }
    fn check(&self) -> HealthFuture<'_>;
}

/// Cheap to clone; everything lives behind one `Arc`.
#[derive(Clone)]
pub struct AppState(Arc<Inner>);

pub struct Inner {
    pub db: DatabaseConnection,
    pub config: Config,
    pub jwt: JwtKeys,
    pub cipher: SecretCipher,
    pub health_checks: Vec<Arc<dyn HealthCheck>>,
    pub started_at: Instant,
    pub rate_limiter: Arc<RateLimiter>,
    /// Named caches on the configured backend (moka or Redis).
    pub caches: Caches,
    /// Org plans and key/session → org lookups used by the rate limiter.
    pub plan_cache: Cache,
    extensions: Extensions,
}

impl std::ops::Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

impl AppState {
    pub fn builder(db: DatabaseConnection, config: Config, master: &MasterKey) -> AppStateBuilder {
        let caches = Caches::default();
        AppStateBuilder {
            inner: Inner {
                rate_limiter: Arc::new(RateLimiter::local(config.rate_limits.clone())),
                plan_cache: caches.cache("plans", crate::http::ratelimit::PLAN_TTL, 100_000),
                caches,
                jwt: JwtKeys::new(master, config.auth.access_ttl_secs),
                cipher: master.cipher(),
                db,
                config,
                health_checks: Vec::new(),
                started_at: Instant::now(),
                extensions: Extensions::new(),
            },
        }
    }

    /// A service a slice registered at start-up.
    pub fn ext<T: Clone + Send + Sync + 'static>(&self) -> Option<T> {
        self.0.extensions.get::<T>().cloned()
    }
}

/// Collects what the slices add before the state is frozen.
pub struct AppStateBuilder {
    inner: Inner,
}

impl AppStateBuilder {
    pub fn health_check(mut self, check: Arc<dyn HealthCheck>) -> Self {
        self.inner.health_checks.push(check);
        self
    }

    /// Shares rate limits and caches through Redis.
    pub fn redis(mut self, conn: redis::aio::ConnectionManager) -> Self {
        let prefix = self.inner.config.redis_key_prefix.clone();
        self.inner.rate_limiter = Arc::new(RateLimiter::redis(
            self.inner.config.rate_limits.clone(),
            conn.clone(),
            prefix.clone(),
        ));
        self.inner.caches = Caches::new(Some((conn, prefix)));
        self.inner.plan_cache =
            self.inner
                .caches
                .cache("plans", crate::http::ratelimit::PLAN_TTL, 100_000);
        self
    }

    pub fn extension<T: Clone + Send + Sync + 'static>(mut self, value: T) -> Self {
        self.inner.extensions.insert(value);
        self
    }

    pub fn build(self) -> AppState {
        AppState(Arc::new(self.inner))
    }
}

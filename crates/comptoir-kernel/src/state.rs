//! The state every handler receives: the database, configuration, keys, health checks, and
//! a type-keyed bag where slices put their own services (`state.ext::<Embedder>()`).

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Instant;

use axum::http::Extensions;
use sea_orm::DatabaseConnection;

use crate::auth::tokens::JwtKeys;
use crate::config::Config;
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
        AppStateBuilder {
            inner: Inner {
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

    pub fn extension<T: Clone + Send + Sync + 'static>(mut self, value: T) -> Self {
        self.inner.extensions.insert(value);
        self
    }

    pub fn build(self) -> AppState {
        AppState(Arc::new(self.inner))
    }
}

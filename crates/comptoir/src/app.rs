//! Wiring: configuration → database → migrations → state → router. Each slice adds its
//! migrations, routes and health checks here, and nowhere else.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use comptoir_kernel::AppState;
use comptoir_kernel::config::{Config, ensure_dir};
use comptoir_kernel::health::DatabaseHealth;
use comptoir_kernel::secrets::MasterKey;
use comptoir_web::OpenApiRouter;
use sea_orm::DatabaseConnection;
use sea_orm_migration::{MigrationTrait, MigratorTrait};
use tokio::net::TcpListener;

/// Every slice's migrations, in the order they must run.
pub struct Migrator;

impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        let mut all = comptoir_kernel::db::migrations::migrations();
        all.extend(comptoir_catalog::migrations());
        all
    }
}

/// Every slice's API routes.
pub fn api() -> OpenApiRouter<AppState> {
    comptoir_kernel::router().merge(comptoir_catalog::router())
}

/// Every slice's web pages.
pub fn pages() -> Router<AppState> {
    Router::new().merge(comptoir_catalog::pages())
}

/// Opens the database and brings its schema up to date.
pub async fn open_database(config: &Config) -> anyhow::Result<DatabaseConnection> {
    if config.database_url.is_none() {
        ensure_dir(&config.data_dir)?;
    }
    let db =
        comptoir_kernel::db::connect(&config.database_url(), config.db.max_connections).await?;
    Migrator::up(&db, None)
        .await
        .map_err(|e| anyhow::anyhow!("database migration failed: {e}"))?;
    Ok(db)
}

/// A ready-to-serve application.
pub struct App {
    pub state: AppState,
    pub router: Router,
}

/// Builds the state and the router from a configuration (migrating the database).
pub async fn build(config: Config) -> anyhow::Result<App> {
    let db = open_database(&config).await?;
    let master = MasterKey::load(config.master_key.as_ref(), &config.master_key_path())?;
    let state = AppState::builder(db.clone(), config, &master)
        .health_check(Arc::new(DatabaseHealth(db)))
        .build();
    let router = comptoir_web::app(state.clone(), api(), pages());
    Ok(App { state, router })
}

/// Serves until `shutdown` resolves, then lets in-flight requests finish.
pub async fn serve(
    app: App,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let service = app
        .router
        .into_make_service_with_connect_info::<SocketAddr>();
    axum::serve(listener, service)
        .with_graceful_shutdown(shutdown)
        .await?;
    Ok(())
}

/// Resolves on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
    tracing::info!("shutting down");
}

//! Wiring: configuration → database → migrations → state → router. Each slice adds its
//! migrations, routes and health checks here, and nowhere else.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use comptoir_kernel::AppState;
use comptoir_kernel::config::{Config, ensure_dir};
use comptoir_kernel::health::{DatabaseHealth, QueueHealth};
use comptoir_kernel::jobs::JobRegistry;
use comptoir_kernel::jobs::worker::{Worker, WorkerConfig};
use comptoir_kernel::secrets::MasterKey;
use comptoir_web::OpenApiRouter;
use sea_orm::DatabaseConnection;
use sea_orm_migration::{MigrationTrait, MigratorTrait};
use secrecy::ExposeSecret;
use tokio::net::TcpListener;
use tokio::sync::watch;

/// Every slice's migrations, in the order they must run.
pub struct Migrator;

impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        let mut all = comptoir_kernel::db::migrations::migrations();
        all.extend(comptoir_catalog::migrations());
        all.extend(comptoir_reco::migrations());
        all.extend(comptoir_orders::migrations());
        all.extend(comptoir_retail::migrations());
        all
    }
}

/// Every slice's API routes.
pub fn api() -> OpenApiRouter<AppState> {
    comptoir_kernel::router()
        .merge(comptoir_reco::router())
        .merge(comptoir_catalog::router())
        .merge(comptoir_orders::router())
        .merge(comptoir_retail::router())
}

/// Every slice's background job kinds.
pub fn jobs() -> JobRegistry {
    let mut registry = JobRegistry::new();
    comptoir_catalog::jobs::register(&mut registry);
    comptoir_reco::jobs::register(&mut registry);
    comptoir_orders::jobs::register(&mut registry);
    comptoir_retail::jobs::register(&mut registry);
    registry
}

/// Starts `config.jobs`-tuned workers; they stop when `shutdown` turns true.
pub fn spawn_worker(
    state: &AppState,
    shutdown: watch::Receiver<bool>,
) -> tokio::task::JoinHandle<anyhow::Result<()>> {
    let config = WorkerConfig::from_config(&state.config.jobs);
    let worker = Worker::new(state.clone(), Arc::new(jobs()), config);
    tokio::spawn(worker.run(shutdown))
}

/// Every slice's web pages.
pub fn pages() -> Router<AppState> {
    Router::new()
        .merge(comptoir_catalog::pages())
        .merge(comptoir_reco::pages())
        .merge(comptoir_orders::pages())
        .merge(comptoir_retail::pages())
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

async fn connect_redis(url: &str) -> anyhow::Result<redis::aio::ConnectionManager> {
    let redacted = comptoir_kernel::config::redact_url(url);
    let client = redis::Client::open(url)
        .map_err(|e| anyhow::anyhow!("invalid Redis URL {redacted}: {e}"))?;
    let conn = tokio::time::timeout(
        std::time::Duration::from_secs(10),
        client.get_connection_manager(),
    )
    .await
    .map_err(|_| anyhow::anyhow!("Redis at {redacted} did not answer"))?
    .map_err(|e| anyhow::anyhow!("cannot connect to Redis at {redacted}: {e}"))?;
    tracing::info!(redis = %redacted, "rate limits and caches are shared through Redis");
    Ok(conn)
}

/// A ready-to-serve application.
pub struct App {
    pub state: AppState,
    pub router: Router,
}

/// Builds the state and the router from a configuration (migrating the database).
pub async fn build(config: Config) -> anyhow::Result<App> {
    // Slice settings first: a bad section stops the start before the database is touched.
    let ranking = Arc::new(comptoir_reco::api::ranking_config_from(&config)?);
    let orders = config.orders.clone();
    let embeddings = crate::models::embeddings(&config)?;
    let db = open_database(&config).await?;
    let master = MasterKey::load(config.master_key.as_ref(), &config.master_key_path())?;
    let redis = match &config.redis_url {
        Some(url) => Some(connect_redis(url.expose_secret()).await?),
        None => None,
    };
    let mut builder = AppState::builder(db.clone(), config, &master)
        .health_check(Arc::new(crate::models::EmbeddingsHealth(
            embeddings.clone(),
        )))
        .extension(embeddings);
    if let Some(conn) = redis {
        builder = builder.redis(conn);
    }
    builder = comptoir_reco::runtime(builder);
    let state = builder
        .health_check(Arc::new(DatabaseHealth(db.clone())))
        .health_check(Arc::new(QueueHealth(db)))
        .health_check(Arc::new(comptoir_reco::api::RankingHealth(ranking.clone())))
        .extension(ranking)
        .extension(comptoir_orders::Pipeline::new(&orders))
        .build();
    comptoir_reco::warm(&state);
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

/// Serves the API and, unless disabled, workers in the same process, until a signal.
pub async fn serve_with_workers(app: App, listener: TcpListener) -> anyhow::Result<()> {
    if app.state.config.models.pull_on_start
        && let Some(models) = app.state.ext::<crate::models::Embeddings>()
    {
        models.pull_in_background();
    }
    comptoir_kernel::alerts::spawn(
        app.state.clone(),
        Arc::new(comptoir_kernel::alerts::LogSink),
    );
    let (stop_tx, stop_rx) = watch::channel(false);
    let worker = app
        .state
        .config
        .jobs
        .workers_in_serve
        .then(|| spawn_worker(&app.state, stop_rx));
    let shutdown = async move {
        shutdown_signal().await;
        let _ = stop_tx.send(true);
    };
    serve(app, listener, shutdown).await?;
    if let Some(worker) = worker {
        worker.await??;
    }
    Ok(())
}

/// Runs only workers (`comptoir worker`), until a signal.
pub async fn run_worker(state: AppState) -> anyhow::Result<()> {
    comptoir_kernel::alerts::spawn(state.clone(), Arc::new(comptoir_kernel::alerts::LogSink));
    let (stop_tx, stop_rx) = watch::channel(false);
    let handle = spawn_worker(&state, stop_rx);
    tokio::spawn(async move {
        shutdown_signal().await;
        let _ = stop_tx.send(true);
    });
    handle.await?
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

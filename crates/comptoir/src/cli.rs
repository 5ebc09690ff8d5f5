//! The command line: `serve`, `migrate`, `config show`, `orgs create`, `users add`, `demo`,
//! `catalog import`, `retail import|rebuild`.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use comptoir_kernel::auth::Role;
use comptoir_kernel::config::{Config, Overrides};
use comptoir_kernel::entities::users;
use comptoir_kernel::progress::bar;
use comptoir_kernel::tenancy::service::{self as tenancy, NewMember};
use comptoir_kernel::validate::{Email, NewPassword};
use sea_orm::{EntityTrait, PaginatorTrait};

use crate::app;

#[derive(Debug, Parser)]
#[command(
    name = "comptoir",
    version,
    about = "Self-hosted operations platform for merchants and retail chains"
)]
pub struct Cli {
    #[command(flatten)]
    global: Global,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Args)]
struct Global {
    /// Configuration file (default: ./comptoir.toml when present; env COMPTOIR_CONFIG).
    #[arg(long, global = true)]
    config: Option<PathBuf>,
    /// Data directory (env COMPTOIR_DATA_DIR, default ./data).
    #[arg(long, global = true)]
    data_dir: Option<PathBuf>,
    /// Database URL: sqlite://... or postgres://... (env COMPTOIR_DATABASE_URL).
    #[arg(long, global = true)]
    database_url: Option<String>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the API, the web UI and the background workers.
    Serve {
        /// Address to listen on (env COMPTOIR_LISTEN, default 127.0.0.1:8080).
        #[arg(long)]
        listen: Option<String>,
        /// Create this owner (and an organization) when the database has no user yet.
        /// The password comes from COMPTOIR_PASSWORD or a prompt.
        #[arg(long, value_name = "EMAIL")]
        init_owner: Option<String>,
        /// Name of the organization created with --init-owner.
        #[arg(long, default_value = "My shop", requires = "init_owner")]
        init_org: String,
    },
    /// Run only background workers (no HTTP).
    Worker,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Catalog tools.
    Catalog {
        #[command(subcommand)]
        command: CatalogCommand,
    },
    /// Retail tools: sales import, rollup rebuild.
    Retail {
        #[command(subcommand)]
        command: RetailCommand,
    },
    /// Manage the ML models (stored in COMPTOIR_MODEL_DIR, default <data dir>/models).
    Models {
        #[command(subcommand)]
        command: ModelsCommand,
    },
    /// Inspect and replay background jobs.
    Jobs {
        #[command(subcommand)]
        command: JobsCommand,
    },
    /// Inspect the configuration.
    Config {
        #[command(subcommand)]
        command: ConfigCommand,
    },
    /// Manage organizations.
    Orgs {
        #[command(subcommand)]
        command: OrgsCommand,
    },
    /// Manage users.
    Users {
        #[command(subcommand)]
        command: UsersCommand,
    },
    /// Reviews and recommendations tools.
    Reco {
        #[command(subcommand)]
        command: RecoCommand,
    },
    /// Load a demo catalog (products, categories, locations, stock) and a demo retail chain
    /// (3 regions, 12 stores with targets, two years of daily sales) into an organization.
    Demo {
        /// The organization's slug.
        #[arg(long)]
        org: String,
    },
    /// Print the sentiment of texts: score (P(positive) − P(negative)), label, confidence and
    /// method (the model when present in the models directory, else the lexicons; offline).
    Sentiment {
        /// The texts, one argument each.
        #[arg(required = true)]
        texts: Vec<String>,
        /// One JSON object per line instead of columns.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
enum JobsCommand {
    /// List dead letters (all organizations).
    Dead {
        #[arg(long, default_value_t = 50)]
        limit: u64,
    },
    /// Queue dead letters again: one by id, or all.
    Replay {
        /// The task id.
        id: Option<uuid::Uuid>,
        #[arg(long, conflicts_with = "id")]
        all: bool,
    },
    /// Enqueue `kernel.selftest` jobs to check that workers run (keys `<prefix>-<n>`).
    Selftest {
        #[arg(long, default_value_t = 10)]
        count: u32,
        #[arg(long, default_value = "selftest")]
        prefix: String,
        /// Simulated work per job.
        #[arg(long, default_value_t = 0)]
        sleep_ms: u64,
        /// Make every attempt fail (exercises retries and dead letters).
        #[arg(long)]
        fail: bool,
        #[arg(long)]
        max_attempts: Option<i32>,
    },
    /// Queue depth per kind and status.
    Stats,
}

#[derive(Debug, Subcommand)]
enum RecoCommand {
    /// Recompute every product embedding and rebuild the recommendation index, with a
    /// progress bar.
    Reindex {
        /// Only this organization (slug); default every organization with products.
        #[arg(long)]
        org: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
enum CatalogCommand {
    /// Import products (or stock levels) from a CSV file, with a progress bar; the import
    /// is a background job like the API's, run here by this process if no worker takes it.
    Import {
        file: PathBuf,
        #[arg(long)]
        org: String,
        /// `products` or `stock`.
        #[arg(long, default_value = "products")]
        kind: String,
        /// Update products whose SKU exists instead of rejecting the row.
        #[arg(long)]
        upsert: bool,
        /// Create unknown categories instead of rejecting the row.
        #[arg(long)]
        create_categories: bool,
        /// Header mapping `Their header:our_column,...`.
        #[arg(long)]
        map: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
enum RetailCommand {
    /// Import sales from a CSV or XLSX file, with a progress bar; the import is a
    /// background job like the API's, run here by this process if no worker takes it.
    Import {
        file: PathBuf,
        #[arg(long)]
        org: String,
        /// `accept_valid` or `all_or_nothing`.
        #[arg(long, default_value = "accept_valid")]
        policy: String,
        /// Name of the file's source; its column mapping is saved under it.
        #[arg(long)]
        source: Option<String>,
        /// Header mapping `Their header:our_column,...` (saved for the source).
        #[arg(long)]
        map: Option<String>,
    },
    /// Recompute the organization's rollups from the sale lines.
    Rebuild {
        #[arg(long)]
        org: String,
    },
}

#[derive(Debug, Subcommand)]
enum ModelsCommand {
    /// The models present, with their source.
    List,
    /// Fetch a model (default: every default model; by name also an optional one, e.g.
    /// all-MiniLM-L6-v2 for models.embedding_dir) and verify its checksums.
    Pull { name: Option<String> },
    /// Check the checksums of the default models and of the optional ones pulled (or that
    /// models.embedding_dir loads).
    Verify,
    /// Train the sentiment head on the shipped review corpus (needs the embedding model) and
    /// print its held-out accuracy beside the lexicons'.
    TrainSentiment {
        /// Where to write the head (default: <models dir>/sentiment-head.json, which then
        /// replaces the built-in head; the repository's is
        /// crates/comptoir-ml/models/sentiment-head.json).
        #[arg(long)]
        out: Option<std::path::PathBuf>,
        /// A corpus in the same TSV format instead of the shipped one.
        #[arg(long)]
        corpus: Option<std::path::PathBuf>,
    },
}

#[derive(Debug, Subcommand)]
enum ConfigCommand {
    /// Print the effective configuration, secrets redacted.
    Show,
}

#[derive(Debug, Subcommand)]
enum OrgsCommand {
    /// Create an organization.
    Create {
        name: String,
        /// URL-safe identifier (default: made from the name).
        #[arg(long)]
        slug: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
enum UsersCommand {
    /// Add a user to an organization (creating the user if new). The password comes from
    /// COMPTOIR_PASSWORD or a prompt.
    Add {
        #[arg(long)]
        org: String,
        #[arg(long)]
        email: String,
        /// owner, admin, director, regional_manager, store_manager, analyst or operator.
        #[arg(long)]
        role: String,
        #[arg(long)]
        name: Option<String>,
        /// Region of a regional_manager.
        #[arg(long)]
        region_id: Option<uuid::Uuid>,
        /// Store of a store_manager.
        #[arg(long)]
        store_id: Option<uuid::Uuid>,
    },
}

/// Parses the command line and runs it; errors are printed, never panicked.
pub async fn run() -> ExitCode {
    let cli = Cli::parse();
    match execute(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn load_config(global: &Global, listen: Option<String>) -> anyhow::Result<Config> {
    let overrides = Overrides {
        config_file: global.config.clone(),
        data_dir: global.data_dir.clone(),
        listen,
        database_url: global.database_url.clone(),
    };
    let loaded = Config::load(&overrides)?;
    comptoir_kernel::telemetry::init(&loaded.config.log);
    for warning in &loaded.warnings {
        tracing::warn!("{warning}");
    }
    Ok(loaded.config)
}

async fn execute(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Serve {
            listen,
            init_owner,
            init_org,
        } => {
            let config = load_config(&cli.global, listen)?;
            serve(config, init_owner, &init_org).await
        }
        Command::Worker => {
            let config = load_config(&cli.global, None)?;
            let built = app::build(config).await?;
            app::run_worker(built.state).await
        }
        Command::Jobs { command } => {
            let config = load_config(&cli.global, None)?;
            let db = app::open_database(&config).await?;
            jobs_command(&db, command).await
        }
        Command::Catalog { command } => {
            let config = load_config(&cli.global, None)?;
            let built = app::build(config).await?;
            catalog_command(&built.state, command).await
        }
        Command::Reco {
            command: RecoCommand::Reindex { org },
        } => {
            let config = load_config(&cli.global, None)?;
            let built = app::build(config).await?;
            let org = match org {
                Some(slug) => Some(comptoir_kernel::ids::OrgId(
                    tenancy::find_org_by_slug(&built.state.db, &slug)
                        .await?
                        .ok_or_else(|| anyhow::anyhow!("no organization with slug {slug}"))?
                        .id,
                )),
                None => None,
            };
            comptoir_reco::cli::reindex(&built.state, org).await
        }
        Command::Retail { command } => {
            let config = load_config(&cli.global, None)?;
            let built = app::build(config).await?;
            retail_command(&built.state, command).await
        }
        Command::Models {
            command: ModelsCommand::TrainSentiment { out, corpus },
        } => {
            let config = load_config(&cli.global, None)?;
            train_sentiment(&config, out, corpus).await
        }
        Command::Models { command } => {
            let config = load_config(&cli.global, None)?;
            models_command(&config, command)
        }
        Command::Sentiment { texts, json } => {
            let config = load_config(&cli.global, None)?;
            sentiment_command(&config, &texts, json).await
        }
        Command::Migrate => {
            let config = load_config(&cli.global, None)?;
            app::open_database(&config).await?;
            println!("database is up to date");
            Ok(())
        }
        Command::Config {
            command: ConfigCommand::Show,
        } => {
            let config = load_config(&cli.global, None)?;
            println!("{}", serde_json::to_string_pretty(&config.redacted())?);
            Ok(())
        }
        Command::Orgs {
            command: OrgsCommand::Create { name, slug },
        } => {
            let config = load_config(&cli.global, None)?;
            let db = app::open_database(&config).await?;
            let org = tenancy::create_org(&db, &name, slug.as_deref()).await?;
            println!(
                "created organization {} (slug {}, id {})",
                org.name, org.slug, org.id
            );
            Ok(())
        }
        Command::Demo { org } => {
            let config = load_config(&cli.global, None)?;
            let db = app::open_database(&config).await?;
            let org = tenancy::find_org_by_slug(&db, &org)
                .await?
                .ok_or_else(|| anyhow::anyhow!("no organization with slug {org}"))?;
            let org_id = comptoir_kernel::ids::OrgId(org.id);
            let summary = comptoir_catalog::demo::load(&db, org_id).await?;
            println!(
                "loaded the demo catalog into {}: {} products, {} categories, {} brands, {} product types, {} locations, {} stock levels",
                org.slug,
                summary.products,
                summary.categories,
                summary.brands,
                summary.product_types,
                summary.locations,
                summary.stock_levels
            );
            let started = std::time::Instant::now();
            let chain = comptoir_retail::demo::load_chain(
                &db,
                org_id,
                chrono::Utc::now().date_naive(),
                comptoir_retail::demo::ChainOptions::default(),
            )
            .await?;
            println!(
                "loaded the demo retail chain: {} regions, {} stores, {} monthly targets, {} receipts ({} returns), {} sale lines from {} to {} in {:.1} s",
                chain.regions,
                chain.stores,
                chain.targets,
                chain.receipts,
                chain.returns,
                chain.lines,
                chain.first_day,
                chain.last_day,
                started.elapsed().as_secs_f64()
            );
            Ok(())
        }
        Command::Users {
            command:
                UsersCommand::Add {
                    org,
                    email,
                    role,
                    name,
                    region_id,
                    store_id,
                },
        } => {
            let config = load_config(&cli.global, None)?;
            let db = app::open_database(&config).await?;
            let org = tenancy::find_org_by_slug(&db, &org)
                .await?
                .ok_or_else(|| anyhow::anyhow!("no organization with slug {org}"))?;
            let role = Role::parse(&role).ok_or_else(|| anyhow::anyhow!("unknown role {role}"))?;
            let email = Email::parse("email", &email)?;
            let exists = users_exist_with_email(&db, email.as_str()).await?;
            let password = if exists {
                None
            } else {
                Some(read_password(email.as_str())?)
            };
            let new = NewMember {
                email,
                name,
                password,
                role,
                region_id,
                store_id,
            };
            let member =
                tenancy::add_member(&db, comptoir_kernel::ids::OrgId(org.id), new, None).await?;
            println!("added {} to {} as {}", member.email, org.slug, member.role);
            Ok(())
        }
    }
}

async fn jobs_command(
    db: &sea_orm::DatabaseConnection,
    command: JobsCommand,
) -> anyhow::Result<()> {
    use comptoir_kernel::jobs::{self, EnqueueOptions, TaskId, selftest::SelfTest, store};
    match command {
        JobsCommand::Dead { limit } => {
            let dead = store::dead(db, None, limit).await?;
            if dead.is_empty() {
                println!("no dead letters");
            }
            for job in dead {
                println!(
                    "{}  {}  attempts {}  {}",
                    job.id,
                    job.kind,
                    job.attempts,
                    job.last_error.unwrap_or_default()
                );
            }
        }
        JobsCommand::Replay { id, all } => {
            anyhow::ensure!(id.is_some() || all, "give a task id or --all");
            let n = store::replay(db, None, id.map(TaskId)).await?;
            println!("replayed {n} dead letter(s)");
        }
        JobsCommand::Selftest {
            count,
            prefix,
            sleep_ms,
            fail,
            max_attempts,
        } => {
            // One transaction: the batch appears at once, as an import would enqueue it.
            let txn = comptoir_kernel::db::begin_write(db).await?;
            for n in 0..count {
                let job = SelfTest {
                    key: format!("{prefix}-{n}"),
                    sleep_ms,
                    fail,
                };
                let options = EnqueueOptions {
                    unique_key: Some(format!("selftest:{prefix}-{n}")),
                    max_attempts,
                    ..Default::default()
                };
                jobs::enqueue(&txn, None, &job, options).await?;
            }
            sea_orm::TransactionSession::commit(txn).await?;
            println!("enqueued {count} selftest job(s)");
        }
        JobsCommand::Stats => {
            let stats = store::stats(db).await?;
            println!("succeeded {}", stats.succeeded);
            for (kind, status, n) in &stats.by_kind_status {
                println!("{kind:<30} {status:<10} {n}");
            }
            println!(
                "queue depth {}, dead letters {}",
                stats.depth(),
                stats.dead()
            );
        }
    }
    Ok(())
}

async fn catalog_command(
    state: &comptoir_kernel::AppState,
    command: CatalogCommand,
) -> anyhow::Result<()> {
    use comptoir_catalog::import::get_import;
    use comptoir_catalog::model::ImportKind;
    use comptoir_catalog::views::ImportOptions;
    use comptoir_kernel::auth::{AuthVia, Caller};
    use comptoir_kernel::entities::memberships;
    use sea_orm::{ColumnTrait, QueryFilter, QueryOrder};
    let CatalogCommand::Import {
        file,
        org,
        kind,
        upsert,
        create_categories,
        map,
    } = command;
    let db = &state.db;
    let org = tenancy::find_org_by_slug(db, &org)
        .await?
        .ok_or_else(|| anyhow::anyhow!("no organization with slug {org}"))?;
    let kind = ImportKind::parse(&kind)
        .ok_or_else(|| anyhow::anyhow!("unknown kind {kind}: products or stock"))?;
    // The import is recorded as done by the organization's first owner.
    let owner = memberships::Entity::find()
        .filter(memberships::Column::OrgId.eq(org.id))
        .filter(memberships::Column::Role.eq(Role::Owner.as_str()))
        .order_by_asc(memberships::Column::CreatedAt)
        .one(db)
        .await?
        .ok_or_else(|| anyhow::anyhow!("the organization has no owner to import as"))?;
    let caller = Caller {
        org_id: comptoir_kernel::ids::OrgId(org.id),
        user_id: comptoir_kernel::ids::UserId(owner.user_id),
        role: Role::Owner,
        region_id: None,
        store_id: None,
        via: AuthVia::System,
    };
    let bytes =
        std::fs::read(&file).map_err(|e| anyhow::anyhow!("cannot read {}: {e}", file.display()))?;
    let content = String::from_utf8(bytes)
        .map_err(|_| anyhow::anyhow!("{} is not UTF-8 text", file.display()))?;
    let options = ImportOptions {
        kind: Some(kind),
        upsert: Some(upsert),
        create_categories: Some(create_categories),
        map,
    };
    let (id, task) = comptoir_catalog::jobs::queue_import(db, &caller, options, content).await?;
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let worker = app::spawn_worker(state, stopped);
    let result = loop {
        let import = get_import(db, caller.org_id, id).await?;
        eprint!(
            "\r{}",
            bar(
                u64::try_from(import.processed_rows).unwrap_or(0),
                u64::try_from(import.total_rows).unwrap_or(0),
                "rows"
            )
        );
        if matches!(import.status.as_str(), "completed" | "failed") {
            eprintln!();
            break import;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    };
    let _ = stop.send(true);
    let _ = worker.await;
    if let Some(error) = &result.error {
        anyhow::bail!("import {id} failed: {error}");
    }
    println!(
        "import {id} (task {task}): {} accepted, {} rejected",
        result.accepted_rows, result.rejected_rows
    );
    for row in result.rejected.iter().take(20) {
        println!(
            "  line {}: {} — {}",
            row.line,
            row.column.as_deref().unwrap_or("-"),
            row.reason
        );
    }
    if result.rejected_rows > 0 {
        println!("full report: GET /api/v1/catalog/imports/{id}/report.csv");
    }
    Ok(())
}

fn models_command(config: &Config, command: ModelsCommand) -> anyhow::Result<()> {
    use comptoir_ml::store;
    let dir = &config.model_dir();
    let defaults = [crate::models::embedding_spec(config)?];
    match command {
        ModelsCommand::List => {
            let installed = store::list(dir)?;
            if installed.is_empty() {
                println!("no model in {} (comptoir models pull)", dir.display());
            }
            for m in installed {
                println!("{:<28} {}  from {}", m.name, m.path.display(), m.source);
            }
        }
        ModelsCommand::Pull { name } => {
            // Without a name, the default models; by name, an optional one too.
            let known: Vec<store::ModelSpec> = defaults
                .iter()
                .cloned()
                .chain(store::optional_models())
                .collect();
            let specs: Vec<&store::ModelSpec> = match name.as_deref() {
                None => defaults.iter().collect(),
                Some(n) => known.iter().filter(|s| s.name == n).collect(),
            };
            anyhow::ensure!(
                !specs.is_empty(),
                "unknown model {}; known: {}",
                name.unwrap_or_default(),
                known
                    .iter()
                    .map(|s| s.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            let options = store::PullOptions {
                pip: store::PipClient {
                    show_output: std::io::stderr().is_terminal(),
                    ..store::PipClient::default()
                },
                ..store::PullOptions::default()
            };
            for spec in specs {
                let path = store::pull_with(dir, spec, &options, &mut pull_progress)?;
                println!("{} ready in {}", spec.name, path.display());
            }
        }
        ModelsCommand::TrainSentiment { .. } => unreachable!("handled in run (async)"),
        ModelsCommand::Verify => {
            if let Some(custom) = &config.models.embedding_dir {
                // The user's own model has no checksum: check that it loads.
                let model =
                    comptoir_ml::TextEmbedder::load(custom, Default::default()).map_err(|e| {
                        anyhow::anyhow!("models.embedding_dir {}: {e}", custom.display())
                    })?;
                println!(
                    "{} loads ({}, {} dimensions, {} layers; models.embedding_dir, no checksum)",
                    model.name(),
                    custom.display(),
                    model.dim(),
                    model.layers()
                );
                return Ok(());
            }
            // The default models, and the optional ones that were pulled.
            let pulled: Vec<String> = store::list(dir)?.into_iter().map(|m| m.name).collect();
            let optional = store::optional_models()
                .into_iter()
                .filter(|s| pulled.contains(&s.name));
            for spec in defaults.into_iter().chain(optional) {
                let path =
                    store::verify(dir, &spec).map_err(|e| anyhow::anyhow!("{}: {e}", spec.name))?;
                println!("{} ok ({})", spec.name, path.display());
            }
        }
    }
    Ok(())
}

/// Draws a pull's progress on standard error: the source tried, a bar per file, failures.
fn pull_progress(p: comptoir_ml::store::Progress) {
    use comptoir_ml::store::Progress;
    use std::io::Write;
    const MB: u64 = 1 << 20;
    let mut err = std::io::stderr();
    let _ = match p {
        Progress::AlreadyPresent => writeln!(err, "already present and verified"),
        Progress::Trying { source } => writeln!(err, "fetching from {source}"),
        Progress::Bytes { file, done, total } => match total {
            Some(total) => write!(
                err,
                "\r{}",
                bar(done / MB, total.div_ceil(MB), &format!("MB {file}"))
            ),
            None => write!(err, "\r{file}: {} MB", done / MB),
        },
        Progress::Verified { file } => writeln!(err, "\r{file}: sha256 verified{}", " ".repeat(40)),
        Progress::SourceFailed { source, error } => writeln!(err, "{source} failed: {error}"),
    };
    let _ = err.flush();
}

async fn train_sentiment(
    config: &Config,
    out: Option<std::path::PathBuf>,
    corpus: Option<std::path::PathBuf>,
) -> anyhow::Result<()> {
    let dir = &config.model_dir();
    use comptoir_ml::sentiment::{corpus as reviews, train};
    let examples = match corpus {
        Some(path) => reviews::parse(&std::fs::read_to_string(&path)?)
            .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?,
        None => reviews::reviews(),
    };
    // Cross-validation trains on all folds but one: each needs sentences to learn from.
    let training = examples
        .iter()
        .filter(|e| e.split == reviews::Split::Train)
        .count();
    anyhow::ensure!(
        training >= 2 * train::FOLDS,
        "the corpus has {training} training sentences (split \"train\"); at least {} are needed",
        2 * train::FOLDS
    );
    let embeddings = crate::models::embeddings(config)?;
    let embedder = embeddings.embedder().ok_or_else(|| {
        let why = match embeddings.state() {
            crate::models::ModelState::Missing(e) | crate::models::ModelState::Failed(e) => e,
            other => format!("{other:?}"),
        };
        anyhow::anyhow!(
            "the embedding model is needed ({why}); fetch it with: comptoir models pull"
        )
    })?;
    eprintln!(
        "embedding {} sentences with {}...",
        examples.len(),
        embedder.name()
    );
    let outcome = train::train_from_corpus(&embedder, &examples).await?;
    eprintln!(
        "cross-validated accuracy on the training split: {:.1} %",
        100.0 * outcome.cross_validated
    );
    let out = out.unwrap_or_else(|| dir.join(comptoir_ml::sentiment::HEAD_FILE));
    if let Some(parent) = out.parent() {
        std::fs::create_dir_all(parent)?;
    }
    std::fs::write(&out, outcome.head.to_json() + "\n")?;
    println!(
        "sentiment head ({} hidden units, {} training sentences) written to {}",
        outcome.head.hidden_bias.len(),
        outcome.head.train_examples,
        out.display()
    );
    println!("\nModel, held-out split:\n{}", outcome.model_test);
    println!(
        "Lexicon fallback, held-out split:\n{}",
        outcome.lexicon_test
    );
    Ok(())
}

async fn sentiment_command(config: &Config, texts: &[String], json: bool) -> anyhow::Result<()> {
    let dir = config.model_dir();
    let embeddings = crate::models::embeddings(config)?;
    if embeddings.embedder().is_none() {
        eprintln!(
            "note: no embedding model in {} (comptoir models pull); using the lexicons",
            dir.display()
        );
    }
    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
    for (text, s) in texts.iter().zip(embeddings.sentiment(&refs).await) {
        if json {
            println!("{}", serde_json::json!({ "text": text, "sentiment": s }));
        } else {
            println!(
                "{:+.3}\t{}\t{:.3}\t{}\t{text}",
                s.score,
                s.label.as_str(),
                s.confidence,
                match s.method {
                    comptoir_ml::sentiment::SentimentMethod::Model => "model",
                    comptoir_ml::sentiment::SentimentMethod::Lexicon => "lexicon",
                }
            );
        }
    }
    Ok(())
}

async fn users_exist_with_email(
    db: &sea_orm::DatabaseConnection,
    email: &str,
) -> anyhow::Result<bool> {
    use sea_orm::{ColumnTrait, QueryFilter};
    Ok(users::Entity::find()
        .filter(users::Column::Email.eq(email))
        .count(db)
        .await?
        > 0)
}

/// The password of a new user: `COMPTOIR_PASSWORD`, or a prompt on a terminal.
fn read_password(email: &str) -> anyhow::Result<NewPassword> {
    let raw = match std::env::var("COMPTOIR_PASSWORD") {
        Ok(p) => p,
        Err(_) if std::io::stdin().is_terminal() => {
            let first = rpassword::prompt_password(format!("Password for {email}: "))?;
            let again = rpassword::prompt_password("Again: ")?;
            anyhow::ensure!(first == again, "the passwords differ");
            first
        }
        Err(_) => anyhow::bail!("set COMPTOIR_PASSWORD (no terminal to prompt on)"),
    };
    Ok(NewPassword::parse("password", &raw)?)
}

async fn serve(config: Config, init_owner: Option<String>, init_org: &str) -> anyhow::Result<()> {
    let listen = config.listen.clone();
    let built = app::build(config).await?;
    let no_users = users::Entity::find().count(&built.state.db).await? == 0;
    if no_users {
        match init_owner {
            Some(email) => {
                let email = Email::parse("email", &email)?;
                let password = read_password(email.as_str())?;
                let org = tenancy::create_org(&built.state.db, init_org, None).await?;
                let new = NewMember {
                    email,
                    name: None,
                    password: Some(password),
                    role: Role::Owner,
                    region_id: None,
                    store_id: None,
                };
                tenancy::add_member(
                    &built.state.db,
                    comptoir_kernel::ids::OrgId(org.id),
                    new,
                    None,
                )
                .await?;
                println!(
                    "Created organization {} (slug {}) and its owner.",
                    org.name, org.slug
                );
            }
            None => println!(
                "No user yet. Create the first owner with:\n  \
                 COMPTOIR_PASSWORD='choose-a-password' comptoir serve --init-owner you@example.com --init-org \"My shop\"\n\
                 or: comptoir orgs create \"My shop\" && comptoir users add --org my-shop --email you@example.com --role owner"
            ),
        }
    }
    let listener = tokio::net::TcpListener::bind(&listen)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {listen}: {e}"))?;
    let addr = listener.local_addr()?;
    tracing::info!(%addr, "listening");
    println!("Comptoir is running at http://{addr}/ (API docs at http://{addr}/docs/)");
    app::serve_with_workers(built, listener).await
}

/// The organization's first owner, as the command line acts.
async fn owner_caller(
    db: &sea_orm::DatabaseConnection,
    slug: &str,
) -> anyhow::Result<comptoir_kernel::auth::Caller> {
    use comptoir_kernel::auth::{AuthVia, Caller};
    use comptoir_kernel::entities::memberships;
    use sea_orm::{ColumnTrait, QueryFilter, QueryOrder};
    let org = tenancy::find_org_by_slug(db, slug)
        .await?
        .ok_or_else(|| anyhow::anyhow!("no organization with slug {slug}"))?;
    let owner = memberships::Entity::find()
        .filter(memberships::Column::OrgId.eq(org.id))
        .filter(memberships::Column::Role.eq(Role::Owner.as_str()))
        .order_by_asc(memberships::Column::CreatedAt)
        .one(db)
        .await?
        .ok_or_else(|| anyhow::anyhow!("the organization has no owner to act as"))?;
    Ok(Caller {
        org_id: comptoir_kernel::ids::OrgId(org.id),
        user_id: comptoir_kernel::ids::UserId(owner.user_id),
        role: Role::Owner,
        region_id: None,
        store_id: None,
        via: AuthVia::System,
    })
}

async fn retail_command(
    state: &comptoir_kernel::AppState,
    command: RetailCommand,
) -> anyhow::Result<()> {
    use comptoir_retail::import::{Policy, SalesImportOptions, get_import};
    let db = &state.db;
    let (file, org, policy, source, map) = match command {
        RetailCommand::Rebuild { org } => {
            let caller = owner_caller(db, &org).await?;
            let receipts = comptoir_retail::rollup::rebuild(db, caller.org_id).await?;
            println!("rebuilt the rollups of {org} from {receipts} receipts");
            return Ok(());
        }
        RetailCommand::Import {
            file,
            org,
            policy,
            source,
            map,
        } => (file, org, policy, source, map),
    };
    let caller = owner_caller(db, &org).await?;
    let policy = match policy.as_str() {
        "accept_valid" => Policy::AcceptValid,
        "all_or_nothing" => Policy::AllOrNothing,
        other => anyhow::bail!("unknown policy {other}: accept_valid or all_or_nothing"),
    };
    let content =
        std::fs::read(&file).map_err(|e| anyhow::anyhow!("cannot read {}: {e}", file.display()))?;
    let options = SalesImportOptions {
        policy: Some(policy),
        source,
        map,
    };
    let (id, task) = comptoir_retail::jobs::queue_import(db, &caller, options, content).await?;
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let worker = app::spawn_worker(state, stopped);
    let result = loop {
        let import = get_import(db, &caller, id).await?;
        eprint!(
            "\r{}",
            bar(
                u64::try_from(import.processed_rows).unwrap_or(0),
                u64::try_from(import.total_rows).unwrap_or(0),
                "rows"
            )
        );
        if matches!(import.status.as_str(), "completed" | "failed" | "rejected") {
            eprintln!();
            break import;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    };
    let _ = stop.send(true);
    let _ = worker.await;
    if result.status == "failed" {
        anyhow::bail!(
            "import {id} failed: {}",
            result.error.as_deref().unwrap_or("unknown error")
        );
    }
    println!(
        "import {id} (task {task}): {}, {} rows accepted in {} receipts, {} rejected",
        result.status, result.accepted_rows, result.receipts, result.rejected_rows
    );
    for row in result.rejected.iter().take(20) {
        println!(
            "  line {}: {} — {}",
            row.line,
            row.column.as_deref().unwrap_or("-"),
            row.reason
        );
    }
    if result.rejected_rows > 0 {
        println!("full report: GET /api/v1/retail/imports/{id}/rejected.csv");
    }
    if result.status == "rejected" {
        anyhow::bail!("nothing was imported (all_or_nothing)");
    }
    Ok(())
}

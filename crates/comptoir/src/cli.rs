//! The command line: `serve`, `migrate`, `config show`, `orgs create`, `users add`, `demo`.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use comptoir_kernel::auth::Role;
use comptoir_kernel::config::{Config, Overrides};
use comptoir_kernel::entities::users;
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
    /// Apply pending database migrations and exit.
    Migrate,
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
    /// Load a demo catalog (products, categories, locations, stock) into an organization.
    Demo {
        /// The organization's slug.
        #[arg(long)]
        org: String,
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
            let summary =
                comptoir_catalog::demo::load(&db, comptoir_kernel::ids::OrgId(org.id)).await?;
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
    app::serve(built, listener, app::shutdown_signal()).await
}

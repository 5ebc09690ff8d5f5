//! `TestApp::spawn()`: the real application on 127.0.0.1:0 with a fresh database — a
//! temporary SQLite file, or a fresh PostgreSQL database when `COMPTOIR_TEST_DATABASE_URL`
//! is set (created per test, dropped afterwards).

use std::net::SocketAddr;

use comptoir::app;
use comptoir_kernel::AppState;
use comptoir_kernel::auth::Role;
use comptoir_kernel::config::{Config, Overrides};
use comptoir_kernel::ids::OrgId;
use comptoir_kernel::tenancy::service::{self as tenancy, NewMember};
use comptoir_kernel::validate::{Email, NewPassword};
use reqwest::{Method, RequestBuilder, StatusCode};
use serde_json::{Value, json};
use uuid::Uuid;

pub const PASSWORD: &str = "correct horse battery";

pub struct TestApp {
    pub addr: SocketAddr,
    pub client: reqwest::Client,
    pub state: AppState,
    _dir: tempfile::TempDir,
    pg: Option<PgDatabase>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
}

/// A throw-away PostgreSQL database.
struct PgDatabase {
    admin_url: String,
    name: String,
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        let (admin_url, name) = (self.admin_url.clone(), self.name.clone());
        // Drop runs outside any runtime guarantee: use a private one on its own thread.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .ok()?;
            rt.block_on(async {
                use sea_orm::ConnectionTrait;
                let db = sea_orm::Database::connect(&admin_url).await.ok()?;
                db.execute_unprepared(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
                    .await
                    .ok()?;
                Some(())
            })
        })
        .join();
    }
}

async fn fresh_postgres(admin_url: &str) -> PgDatabase {
    use sea_orm::ConnectionTrait;
    let name = format!("comptoir_test_{}", Uuid::new_v4().simple());
    let db = sea_orm::Database::connect(admin_url)
        .await
        .expect("connect to COMPTOIR_TEST_DATABASE_URL");
    db.execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
        .await
        .expect("create test database");
    PgDatabase {
        admin_url: admin_url.to_owned(),
        name,
    }
}

fn with_database(admin_url: &str, name: &str) -> String {
    let mut url = url::Url::parse(admin_url).expect("COMPTOIR_TEST_DATABASE_URL is a URL");
    url.set_path(&format!("/{name}"));
    url.to_string()
}

impl TestApp {
    pub async fn spawn() -> Self {
        Self::spawn_with(|_| {}).await
    }

    /// Spawns with a configuration tweak.
    pub async fn spawn_with(tweak: impl FnOnce(&mut Config)) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut config = Config::load_from(&Overrides::default(), Vec::new())
            .expect("default config")
            .config;
        config.data_dir = dir.path().to_owned();
        config.db.max_connections = 5;
        // Rate limits have their own tests; elsewhere they would only add noise.
        config.rate_limits.enabled = false;
        config.jobs.workers_in_serve = false;
        config.models.pull_on_start = false;
        let pg = match std::env::var("COMPTOIR_TEST_DATABASE_URL") {
            Ok(admin) if !admin.is_empty() => {
                let pg = fresh_postgres(&admin).await;
                config.database_url = Some(with_database(&admin, &pg.name).into());
                Some(pg)
            }
            _ => None,
        };
        tweak(&mut config);
        let built = app::build(config).await.expect("build app");
        let state = built.state.clone();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(app::serve(built, listener, async move {
            let _ = rx.await;
        }));
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client");
        TestApp {
            addr,
            client,
            state,
            _dir: dir,
            pg,
            shutdown: Some(tx),
        }
    }

    /// Runs an in-process worker until the returned sender is dropped or sends `true`.
    pub fn start_worker(&self) -> tokio::sync::watch::Sender<bool> {
        let (tx, rx) = tokio::sync::watch::channel(false);
        app::spawn_worker(&self.state, rx);
        tx
    }

    pub fn data_dir(&self) -> &std::path::Path {
        self._dir.path()
    }

    /// The database URL the app uses (for child processes).
    pub fn database_url(&self) -> String {
        self.state.config.database_url()
    }

    pub fn is_postgres(&self) -> bool {
        self.pg.is_some()
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    pub fn request(&self, method: Method, path: &str, token: Option<&str>) -> RequestBuilder {
        let rb = self.client.request(method, self.url(path));
        match token {
            Some(t) => rb.bearer_auth(t),
            None => rb,
        }
    }

    /// Sends a JSON request and returns status and JSON body (Null when empty).
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut rb = self.request(method, path, token);
        if let Some(body) = body {
            rb = rb.json(&body);
        }
        let resp = rb.send().await.expect("request");
        let status = resp.status();
        let text = resp.text().await.expect("body");
        let json = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        };
        (status, json)
    }

    pub async fn get(&self, path: &str, token: &str) -> (StatusCode, Value) {
        self.call(Method::GET, path, Some(token), None).await
    }

    pub async fn post(&self, path: &str, token: &str, body: Value) -> (StatusCode, Value) {
        self.call(Method::POST, path, Some(token), Some(body)).await
    }

    pub async fn create_org(&self, name: &str) -> OrgId {
        let slug = format!(
            "{}-{}",
            comptoir_kernel::validate::slugify(name),
            &Uuid::new_v4().simple().to_string()[..6]
        );
        OrgId(
            tenancy::create_org(&self.state.db, name, Some(&slug))
                .await
                .expect("create org")
                .id,
        )
    }

    /// Adds a member directly through the service (as the CLI does) and returns its e-mail.
    pub async fn create_member(&self, org: OrgId, role: Role) -> String {
        let email = format!(
            "{}-{}@example.com",
            role.as_str().replace('_', "-"),
            Uuid::new_v4().simple()
        );
        let new = NewMember {
            email: Email::parse("email", &email).unwrap(),
            name: Some(format!("Test {role}")),
            password: Some(NewPassword::parse("password", PASSWORD).unwrap()),
            role,
            region_id: (role == Role::RegionalManager).then(Uuid::now_v7),
            store_id: (role == Role::StoreManager).then(Uuid::now_v7),
        };
        tenancy::add_member(&self.state.db, org, new, None)
            .await
            .expect("add member");
        email
    }

    /// Logs in through the API and returns the token pair.
    pub async fn login(&self, email: &str, password: &str) -> Value {
        let (status, body) = self
            .call(
                Method::POST,
                "/api/v1/auth/login",
                None,
                Some(json!({"email": email, "password": password})),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "login failed: {body}");
        body
    }

    /// A new member with `role` in `org`, and their access token.
    pub async fn token_for(&self, org: OrgId, role: Role) -> String {
        let email = self.create_member(org, role).await;
        self.login(&email, PASSWORD).await["access_token"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// Creates an API key with the caller's token and returns (id, secret).
    pub async fn api_key(&self, token: &str, body: Value) -> (String, String) {
        let (status, created) = self.post("/api/v1/api-keys", token, body).await;
        assert_eq!(status, StatusCode::CREATED, "{created}");
        (
            created["id"].as_str().unwrap().to_owned(),
            created["key"].as_str().unwrap().to_owned(),
        )
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

/// Waits for a `comptoir serve` child to announce its address on stdout (taken) and
/// returns its base URL.
pub async fn serve_address(child: &mut tokio::process::Child) -> String {
    use tokio::io::AsyncBufReadExt;
    let stdout = child.stdout.take().expect("serve's stdout is piped");
    let mut lines = tokio::io::BufReader::new(stdout).lines();
    tokio::time::timeout(std::time::Duration::from_secs(120), async {
        while let Some(line) = lines.next_line().await.expect("read stdout") {
            if let Some(rest) = line.strip_prefix("Comptoir is running at ") {
                return rest
                    .split(' ')
                    .next()
                    .unwrap_or_default()
                    .trim_end_matches('/')
                    .to_owned();
            }
        }
        panic!("serve exited without announcing its address");
    })
    .await
    .expect("serve started within two minutes")
}

/// Signs in to a `comptoir serve` process at `base` with a login body and returns the
/// answer (the tokens, or the error).
pub async fn login_at(base: &str, body: Value) -> Value {
    reqwest::Client::new()
        .post(format!("{base}/api/v1/auth/login"))
        .json(&body)
        .send()
        .await
        .expect("login request")
        .json()
        .await
        .expect("login answer")
}

/// Pulls `spec` (once, through the real model store and pip) into the test suite's shared
/// model cache, `<workspace>/.cache/models`, and returns the model's directory.
pub fn cached_model(spec: comptoir_ml::store::ModelSpec) -> std::path::PathBuf {
    let models = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../.cache/models");
    comptoir_ml::store::pull(&models, &spec, &mut |p| eprintln!("model store: {p:?}"))
        .unwrap_or_else(|e| panic!("cannot pull {} into {}: {e}", spec.name, models.display()))
}

/// The optional all-MiniLM-L6-v2 model (a real sentence-transformers directory).
pub fn minilm() -> comptoir_ml::store::ModelSpec {
    comptoir_ml::store::optional_models()
        .into_iter()
        .find(|s| s.name == "all-MiniLM-L6-v2")
        .expect("the optional MiniLM spec")
}

/// The CSRF token of the first form in a page.
pub fn csrf(html: &str) -> String {
    const FIELD: &str = "name=\"csrf_token\" value=\"";
    let at = html.find(FIELD).expect("csrf field") + FIELD.len();
    html[at..]
        .split('"')
        .next()
        .expect("closing quote")
        .to_owned()
}

/// A client that keeps cookies and does not follow redirects, like a browser we inspect.
pub fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

impl TestApp {
    /// GETs a page's HTML.
    pub async fn page(&self, client: &reqwest::Client, path: &str) -> String {
        client
            .get(self.url(path))
            .send()
            .await
            .expect("GET")
            .text()
            .await
            .expect("body")
    }

    /// Signs in through the web form (with `next`) and returns the browser-like client and
    /// the sign-in response.
    pub async fn web_sign_in(
        &self,
        email: &str,
        next: &str,
    ) -> (reqwest::Client, reqwest::Response) {
        let b = browser();
        let html = self.page(&b, "/login").await;
        let form = [
            ("csrf_token", csrf(&html)),
            ("email", email.to_owned()),
            ("password", PASSWORD.into()),
            ("next", next.into()),
        ];
        let r = b
            .post(self.url("/login"))
            .form(&form)
            .send()
            .await
            .expect("POST /login");
        (b, r)
    }
}

/// Asserts an error response: status, stable code, and the JSON error shape.
#[track_caller]
pub fn assert_error(status: StatusCode, body: &Value, want_status: u16, want_code: &str) {
    assert_eq!(status.as_u16(), want_status, "body: {body}");
    assert_eq!(body["code"], want_code, "body: {body}");
    assert!(
        body["message"].as_str().is_some_and(|m| !m.is_empty()),
        "body: {body}"
    );
    assert!(body.get("correlation_id").is_some(), "body: {body}");
}

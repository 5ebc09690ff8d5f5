//! The binary itself: `config show`, `orgs create`, `users add`, `serve` — and no secret in
//! what any of them prints or logs.

use std::process::Stdio;
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, BufReader};
use tokio::process::Command;

const MASTER_KEY: &str = "5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e";
const OWNER_PASSWORD: &str = "Sup3r-Secret-Passw0rd";

fn comptoir(data_dir: &std::path::Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_comptoir"));
    cmd.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("COMPTOIR_DATA_DIR", data_dir)
        .env("COMPTOIR_MASTER_KEY", MASTER_KEY)
        .env("COMPTOIR_LOG", "debug")
        .stdin(Stdio::null())
        .kill_on_drop(true);
    cmd
}

#[tokio::test]
async fn config_show_redacts_secrets_and_warns_about_unknown_variables() {
    let dir = tempfile::tempdir().unwrap();
    let out = comptoir(dir.path())
        .env(
            "COMPTOIR_DATABASE_URL",
            "postgres://shop:db-pa55word@127.0.0.1:5432/comptoir",
        )
        .env("COMPTOIR_LISTN", "typo")
        .args(["config", "show"])
        .output()
        .await
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    for secret in ["db-pa55word", MASTER_KEY] {
        assert!(
            !stdout.contains(secret) && !stderr.contains(secret),
            "{secret} leaked:\n{stdout}\n{stderr}"
        );
    }
    let shown: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(
        shown["database_url"],
        "postgres://shop:REDACTED@127.0.0.1:5432/comptoir"
    );
    assert_eq!(shown["master_key"], "[redacted]");
    assert_eq!(shown["listen"], "127.0.0.1:8080");
    assert!(
        stderr.contains("COMPTOIR_LISTN"),
        "unknown variable not reported: {stderr}"
    );
}

#[tokio::test]
async fn cli_bootstraps_and_serve_never_logs_secrets() {
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        let mut cmd = comptoir(dir.path());
        cmd.env("COMPTOIR_PASSWORD", OWNER_PASSWORD).args(args);
        async move { cmd.output().await.unwrap() }
    };
    let out = run(&["orgs", "create", "Le Comptoir de Lyon"]).await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("slug le-comptoir-de-lyon"));
    let out = run(&[
        "users",
        "add",
        "--org",
        "le-comptoir-de-lyon",
        "--email",
        "boss@example.com",
        "--role",
        "owner",
    ])
    .await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = run(&[
        "users",
        "add",
        "--org",
        "nope",
        "--email",
        "x@example.com",
        "--role",
        "owner",
    ])
    .await;
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no organization with slug nope"));
    let out = run(&["demo", "--org", "le-comptoir-de-lyon"]).await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        String::from_utf8_lossy(&out.stdout)
            .contains("loaded the demo catalog into le-comptoir-de-lyon")
    );
    let out = run(&["demo", "--org", "le-comptoir-de-lyon"]).await;
    assert!(String::from_utf8_lossy(&out.stderr).contains("already loaded"));

    let mut child = comptoir(dir.path())
        .args(["serve", "--listen", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let base = crate::helpers::serve_address(&mut child).await;

    let client = reqwest::Client::new();
    let ready = client
        .get(format!("{base}/api/v1/health/ready"))
        .send()
        .await
        .unwrap();
    assert_eq!(ready.status(), StatusCode::OK);
    let bad = client
        .post(format!("{base}/api/v1/auth/login"))
        .json(&json!({"email": "boss@example.com", "password": "Wrong-Guess-123"}))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), StatusCode::UNAUTHORIZED);
    let tokens = crate::helpers::login_at(
        &base,
        json!({"email": "boss@example.com", "password": OWNER_PASSWORD}),
    )
    .await;
    let access = tokens["access_token"]
        .as_str()
        .expect("logged in")
        .to_owned();
    let refresh = tokens["refresh_token"].as_str().unwrap().to_owned();
    let key: Value = client
        .post(format!("{base}/api/v1/api-keys"))
        .bearer_auth(&access)
        .json(&json!({"name": "k"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let key = key["key"].as_str().unwrap().to_owned();
    let me = client
        .get(format!("{base}/api/v1/me"))
        .header("x-api-key", &key)
        .header("x-request-id", "trace-me-1")
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), StatusCode::OK);

    // Stop the server and read everything it logged.
    let pid = child.id().unwrap();
    let _ = std::process::Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status();
    let status = tokio::time::timeout(Duration::from_secs(30), child.wait())
        .await
        .expect("graceful stop")
        .unwrap();
    assert!(status.success(), "serve exited with {status}");
    let mut logs = String::new();
    stderr.read_to_string(&mut logs).await.unwrap();
    assert!(
        logs.contains("trace-me-1"),
        "request ids are logged: {logs}"
    );
    assert!(
        logs.lines()
            .filter(|l| !l.is_empty())
            .all(|l| serde_json::from_str::<Value>(l).is_ok()),
        "JSON logs when not on a terminal"
    );
    for secret in [
        OWNER_PASSWORD,
        "Wrong-Guess-123",
        MASTER_KEY,
        &access,
        &refresh,
        &key,
    ] {
        assert!(
            !logs.contains(secret),
            "a secret leaked into the logs: {secret}"
        );
    }
}

#[tokio::test]
async fn serve_on_an_empty_data_dir_explains_how_to_start() {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = comptoir(dir.path());
    cmd.env_remove("COMPTOIR_MASTER_KEY");
    let mut child = cmd
        .args(["serve", "--listen", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut seen = String::new();
    tokio::time::timeout(Duration::from_secs(60), async {
        while let Some(line) = stdout.next_line().await.unwrap() {
            seen.push_str(&line);
            seen.push('\n');
            if line.starts_with("Comptoir is running") {
                break;
            }
        }
    })
    .await
    .unwrap();
    child.kill().await.unwrap();
    assert!(
        seen.contains("No user yet") && seen.contains("--init-owner"),
        "{seen}"
    );
    assert!(
        dir.path().join("comptoir.db").exists(),
        "the SQLite database is created in the data dir"
    );
    assert!(
        dir.path().join("master.key").exists(),
        "a master key is created on first start"
    );
}

#[tokio::test]
async fn train_sentiment_refuses_a_corpus_too_small_to_cross_validate() {
    let dir = tempfile::tempdir().unwrap();
    let corpus = dir.path().join("tiny.tsv");
    let mut tsv = String::from("id\tlang\tlabel\tdomain\tsplit\ttext\n");
    for (i, label) in ["positive", "neutral", "negative"].iter().enumerate() {
        tsv.push_str(&format!("t{i}\ten\t{label}\tcar\ttrain\tSentence {i}.\n"));
        tsv.push_str(&format!("h{i}\ten\t{label}\tcar\ttest\tHeld out {i}.\n"));
    }
    std::fs::write(&corpus, tsv).unwrap();
    let out = dir.path().join("head.json");
    let run = comptoir(dir.path())
        .env("COMPTOIR_MODEL_DIR", dir.path().join("models"))
        .args(["models", "train-sentiment", "--corpus"])
        .arg(&corpus)
        .arg("--out")
        .arg(&out)
        .output()
        .await
        .unwrap();
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(!run.status.success(), "{stderr}");
    assert!(
        stderr.contains("3 training sentences") && stderr.contains("at least 10"),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(!out.exists(), "no head written");
    // A corpus that does not parse names its line.
    std::fs::write(&corpus, "id\tlang\tlabel\tdomain\tsplit\ttext\nx\tde\n").unwrap();
    let run = comptoir(dir.path())
        .args(["models", "train-sentiment", "--corpus"])
        .arg(&corpus)
        .output()
        .await
        .unwrap();
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(
        !run.status.success() && stderr.contains("line 2"),
        "{stderr}"
    );
}

#[tokio::test]
async fn init_owner_creates_the_first_owner() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = comptoir(dir.path())
        .env("COMPTOIR_PASSWORD", OWNER_PASSWORD)
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--init-owner",
            "first@example.com",
            "--init-org",
            "Ma Boutique",
        ])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let base = crate::helpers::serve_address(&mut child).await;
    let tokens = crate::helpers::login_at(
        &base,
        json!({"email": "first@example.com", "password": OWNER_PASSWORD, "org": "ma-boutique"}),
    )
    .await;
    assert!(tokens["access_token"].is_string(), "{tokens}");
    child.kill().await.unwrap();
}

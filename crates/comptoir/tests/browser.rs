//! Browser smoke test: Debian's Chromium driven through chromedriver (WebDriver): sign in,
//! see the dashboard, sign out. Needs `chromium` and `chromium-driver`; `scripts/test.sh`
//! installs them and runs this test with `--run-ignored`.

#![allow(clippy::unwrap_used)] // tests fail loudly by design

#[path = "api/helpers.rs"]
#[allow(dead_code)]
mod helpers;

use std::process::Stdio;
use std::time::Duration;

use comptoir_kernel::auth::Role;
use fantoccini::{ClientBuilder, Locator};
use helpers::{PASSWORD, TestApp};

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

async fn chromedriver() -> (tokio::process::Child, String) {
    let port = free_port();
    let driver = std::env::var("CHROMEDRIVER").unwrap_or_else(|_| "chromedriver".into());
    let child = tokio::process::Command::new(&driver)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {driver} (install chromium-driver): {e}"));
    let url = format!("http://127.0.0.1:{port}");
    for _ in 0..100 {
        if reqwest::get(format!("{url}/status"))
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            return (child, url);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("chromedriver did not start");
}

#[tokio::test]
#[ignore = "needs chromium and chromedriver; run by scripts/test.sh"]
async fn sign_in_see_dashboard_sign_out() {
    let app = TestApp::spawn().await;
    let org = app.create_org("Maison Dupont").await;
    let email = app.create_member(org, Role::Owner).await;
    let (_driver, driver_url) = chromedriver().await;
    let profile = tempfile::tempdir().unwrap();
    let binary = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    let caps = serde_json::json!({
        "goog:chromeOptions": {
            "binary": binary,
            "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic",
                     "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
                     "--window-size=1280,900", format!("--user-data-dir={}", profile.path().display())]
        }
    });
    let caps = match caps {
        serde_json::Value::Object(map) => map,
        _ => unreachable!(),
    };
    let connector = hyper_util::client::legacy::connect::HttpConnector::new();
    let c = ClientBuilder::new(connector)
        .capabilities(caps)
        .connect(&driver_url)
        .await
        .expect("WebDriver session");

    c.goto(&app.url("/")).await.unwrap();
    assert!(
        c.current_url().await.unwrap().path().starts_with("/login"),
        "signed-out users land on the sign-in page"
    );
    c.find(Locator::Css("input[name=email]"))
        .await
        .unwrap()
        .send_keys(&email)
        .await
        .unwrap();
    c.find(Locator::Css("input[name=password]"))
        .await
        .unwrap()
        .send_keys(PASSWORD)
        .await
        .unwrap();
    c.find(Locator::Css("[data-testid=login-submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();

    let title = c
        .wait()
        .for_element(Locator::Css("[data-testid=dashboard-title]"))
        .await
        .unwrap();
    assert!(title.text().await.unwrap().starts_with("Welcome"));
    let who = c
        .find(Locator::Css("[data-testid=who]"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(who.contains(&email) && who.contains("owner"), "{who}");
    let body = c
        .find(Locator::Css("body"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        body.contains("Maison Dupont") && body.contains("Orders"),
        "{body}"
    );
    let png = c.screenshot().await.unwrap();
    let _ = std::fs::write(
        std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("dashboard.png"),
        png,
    );

    c.find(Locator::Css("[data-testid=logout]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    c.wait()
        .for_element(Locator::Css("[data-testid=login-submit]"))
        .await
        .unwrap();
    assert_eq!(c.current_url().await.unwrap().path(), "/login");
    c.goto(&app.url("/settings/members")).await.unwrap();
    assert!(
        c.current_url().await.unwrap().path().starts_with("/login"),
        "the session is gone after sign-out"
    );
    c.close().await.unwrap();
}

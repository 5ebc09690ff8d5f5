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

/// A WebDriver session in headless Chromium (the driver and profile live as long as it).
async fn browser() -> (tokio::process::Child, tempfile::TempDir, fantoccini::Client) {
    let (driver, driver_url) = chromedriver().await;
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

    (driver, profile, c)
}

async fn sign_in(c: &fantoccini::Client, app: &TestApp, email: &str) {
    c.goto(&app.url("/login")).await.unwrap();
    c.find(Locator::Css("input[name=email]"))
        .await
        .unwrap()
        .send_keys(email)
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
    c.wait()
        .for_element(Locator::Css("[data-testid=dashboard-title]"))
        .await
        .unwrap();
}

#[tokio::test]
#[ignore = "needs chromium and chromedriver; run by scripts/test.sh"]
async fn sign_in_see_dashboard_sign_out() {
    let app = TestApp::spawn().await;
    let org = app.create_org("Maison Dupont").await;
    let email = app.create_member(org, Role::Owner).await;
    let (_driver, _profile, c) = browser().await;

    c.goto(&app.url("/")).await.unwrap();
    assert!(
        c.current_url().await.unwrap().path().starts_with("/login"),
        "signed-out users land on the sign-in page"
    );
    sign_in(&c, &app, &email).await;
    let title = c
        .find(Locator::Css("[data-testid=dashboard-title]"))
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

#[tokio::test]
#[ignore = "needs chromium and chromedriver; run by scripts/test.sh"]
async fn import_a_csv_see_its_report_find_a_product_and_open_it() {
    let app = TestApp::spawn().await;
    let org = app.create_org("Cycles Lumière").await;
    let email = app.create_member(org, Role::Owner).await;
    let _worker = app.start_worker(); // imports run as background jobs
    let (_driver, _profile, c) = browser().await;
    sign_in(&c, &app, &email).await;

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("produits.csv");
    std::fs::write(
        &file,
        "sku,name,description,brand,category,product_type,purchase_price,sale_price,currency,vat_rate,status\n\
         BRW-1,Vélo électrique Urbain,Cadre alu,Lumière,,,,\"1299,00\",EUR,20,active\n\
         BRW-2,Smartphone Pixel 8,,Google,,,,499.50,EUR,20,active\n\
         BRW-3,Produit cassé,,,,,,-5,EUR,20,active\n",
    )
    .unwrap();
    c.goto(&app.url("/catalog/imports")).await.unwrap();
    c.find(Locator::Css("input[type=file][name=file]"))
        .await
        .unwrap()
        .send_keys(file.to_str().unwrap())
        .await
        .unwrap();
    c.find(Locator::Css("[data-testid=import]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();

    // The import page refreshes itself until the job is done.
    let mut summary = String::new();
    for _ in 0..100 {
        if let Ok(el) = c
            .wait()
            .for_element(Locator::Css("[data-testid=summary]"))
            .await
            && let Ok(text) = el.text().await
        {
            summary = text;
            if summary.contains("completed") {
                break;
            }
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(
        summary.contains("2 accepted") && summary.contains("1 rejected"),
        "{summary}"
    );
    let report = c
        .find(Locator::Css("[data-testid=rejected]"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(report.contains('4'), "the report names line 4: {report}");

    c.goto(&app.url("/catalog")).await.unwrap();
    c.find(Locator::Css("input[name=q]"))
        .await
        .unwrap()
        .send_keys("Pixel")
        .await
        .unwrap();
    c.find(Locator::Css("form[role=search] button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let list = c
        .wait()
        .for_element(Locator::Css("[data-testid=products]"))
        .await
        .unwrap();
    let text = list.text().await.unwrap();
    assert!(text.contains("BRW-2") && !text.contains("BRW-1"), "{text}");
    c.find(Locator::LinkText("BRW-2"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let details = c
        .wait()
        .for_element(Locator::Css("[data-testid=details]"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(details.contains("499.5"), "{details}");
    let title = c
        .find(Locator::Css("h1"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(title.contains("Smartphone Pixel 8"), "{title}");
    c.close().await.unwrap();
}

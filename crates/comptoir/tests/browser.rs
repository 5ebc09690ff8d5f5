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
use comptoir_kernel::ids::OrgId;
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
    type_into(c, "input[name=email]", email).await;
    type_into(c, "input[name=password]", PASSWORD).await;
    click_on(c, "[data-testid=login-submit]").await;
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

    click_on(&c, "[data-testid=logout]").await;
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
    click_on(&c, "[data-testid=import]").await;

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
    type_into(&c, "input[name=q]", "Pixel").await;
    click_on(&c, "form[role=search] button[type=submit]").await;
    // The unfiltered list is on the page until the search's page replaces it: wait for
    // the navigation, or the list read could be the old one (or go stale while read).
    wait_for_url(&c, "q=Pixel").await;
    let text = text_of(&c, "products").await;
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

/// Types `text` into the element matched by `css`.
async fn type_into(c: &fantoccini::Client, css: &str, text: &str) {
    c.find(Locator::Css(css))
        .await
        .unwrap()
        .send_keys(text)
        .await
        .unwrap();
}

/// Clicks the element matched by `css`.
async fn click_on(c: &fantoccini::Client, css: &str) {
    c.find(Locator::Css(css))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
}

/// Waits (up to the client's default wait) until the current URL contains `part`.
async fn wait_for_url(c: &fantoccini::Client, part: &str) {
    for _ in 0..100 {
        if c.current_url().await.unwrap().as_str().contains(part) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the page never reached a URL with {part:?}");
}

/// The text of the element with `data-testid`, once it is on the page. Found on a page
/// that a navigation then replaces, the element goes stale: it is looked up again.
async fn text_of(c: &fantoccini::Client, testid: &str) -> String {
    for _ in 0..50 {
        let el = c
            .wait()
            .for_element(Locator::Css(&format!("[data-testid={testid}]")))
            .await
            .unwrap_or_else(|e| panic!("no {testid}: {e}"));
        match el.text().await {
            Ok(text) => return text,
            Err(e) if e.is_stale_element_reference() => {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(e) => panic!("{testid}: {e}"),
        }
    }
    panic!("{testid} kept going stale");
}

/// A small chain through the API: regions North (stores Lille, Amiens) and South
/// (Marseille), a target for Lille, and sales two months ago and last month (inside the
/// dashboard's default twelve months, and the what-if's default baseline). Returns the
/// organization and the worker that ran the import.
async fn retail_chain(app: &TestApp) -> (OrgId, String, tokio::sync::watch::Sender<bool>) {
    use chrono::{Datelike, Months, Utc};
    use reqwest::{Method, StatusCode};
    use serde_json::{Value, json};

    let org = app.create_org("Chaîne Nord-Sud").await;
    let owner = app.token_for(org, Role::Owner).await;
    let post = |path: &'static str, body: Value| {
        let owner = owner.clone();
        async move {
            let (s, v) = app.post(path, &owner, body).await;
            assert_eq!(s, StatusCode::CREATED, "{path}: {v}");
            v["id"].as_str().unwrap().to_owned()
        }
    };
    let food = post(
        "/api/v1/catalog/categories",
        json!({"code": "food", "name": "Food"}),
    )
    .await;
    let drinks = post(
        "/api/v1/catalog/categories",
        json!({"code": "drinks", "name": "Drinks"}),
    )
    .await;
    for (sku, name, category, price, cost) in [
        ("APPLE", "Apple", &food, "1.00", "0.40"),
        ("COLA", "Cola", &drinks, "2.00", "0.50"),
    ] {
        post(
            "/api/v1/catalog/products",
            json!({"sku": sku, "name": name, "category_id": category, "sale_price": price,
                   "purchase_price": cost, "vat_rate": "20", "status": "active"}),
        )
        .await;
    }
    let north = post(
        "/api/v1/retail/regions",
        json!({"code": "NORTH", "name": "North"}),
    )
    .await;
    let south = post(
        "/api/v1/retail/regions",
        json!({"code": "SOUTH", "name": "South"}),
    )
    .await;
    let mut lille = String::new();
    for (region, code, name) in [
        (&north, "N1", "Lille"),
        (&north, "N2", "Amiens"),
        (&south, "S1", "Marseille"),
    ] {
        let id = post(
            "/api/v1/retail/stores",
            json!({"region_id": region, "code": code, "name": name}),
        )
        .await;
        if code == "N1" {
            lille = id;
        }
    }
    let this_month = Utc::now().date_naive().with_day(1).unwrap();
    let (m2, m1) = (this_month - Months::new(2), this_month - Months::new(1));
    let (s, v) = app
        .call(
            Method::PUT,
            &format!("/api/v1/retail/stores/{lille}/targets"),
            Some(&owner),
            Some(json!([{"year": m2.year(), "month": m2.month(), "revenue": "20"}])),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    // Lille: 10 × 1.00 + 2 × 2.00 = 14; Amiens: 5 × 1.20 = 6; Marseille: 3 × 2.00 = 6.
    let (d2, d1) = (m2.format("%Y-%m-05"), m1.format("%Y-%m-10"));
    let csv = format!(
        "receipt,store,sold_at,sku,quantity,unit_price\n\
         L-1,N1,{d2} 10:00,APPLE,10,1.00\n\
         L-1,N1,{d2} 10:00,COLA,2,2.00\n\
         A-1,N2,{d1} 11:00,APPLE,5,1.20\n\
         M-1,S1,{d1} 12:00,COLA,3,2.00\n"
    );
    let worker = app.start_worker();
    let r = app
        .request(Method::POST, "/api/v1/retail/imports", Some(&owner))
        .header(reqwest::header::CONTENT_TYPE, "text/csv")
        .body(csv)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    let queued: Value = r.json().await.unwrap();
    let url = queued["status_url"].as_str().unwrap().to_owned();
    for _ in 0..600 {
        let (_, import) = app.get(&url, &owner).await;
        match import["status"].as_str() {
            Some("completed") => {
                assert_eq!(import["accepted_rows"], 4, "{import}");
                return (org, north, worker);
            }
            Some("failed" | "rejected") => panic!("import: {import}"),
            _ => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
    panic!("the sales import did not finish");
}

#[tokio::test]
#[ignore = "needs chromium and chromedriver; run by scripts/test.sh"]
async fn a_regional_manager_drills_into_a_store_runs_a_what_if_and_exports_csv() {
    use comptoir_kernel::tenancy::service::{self as tenancy, NewMember};
    use comptoir_kernel::validate::{Email, NewPassword};

    let app = TestApp::spawn().await;
    let (org, north, _worker) = retail_chain(&app).await;
    let email = "regional.nord@example.com";
    let member = NewMember {
        email: Email::parse("email", email).unwrap(),
        name: None,
        password: Some(NewPassword::parse("password", PASSWORD).unwrap()),
        role: Role::RegionalManager,
        region_id: Some(north.parse().unwrap()),
        store_id: None,
    };
    tenancy::add_member(&app.state.db, org, member, None)
        .await
        .unwrap();
    let (_driver, _profile, c) = browser().await;
    sign_in(&c, &app, email).await;

    // The dashboard, from the navigation: the region's figures, not the other region's.
    c.find(Locator::LinkText("Retail performance"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    assert_eq!(text_of(&c, "kpi-revenue_excl").await, "20.00");
    assert_eq!(text_of(&c, "kpi-transactions").await, "2");
    let children = text_of(&c, "children").await;
    assert!(
        children.contains("Lille")
            && children.contains("Amiens")
            && !children.contains("Marseille"),
        "{children}"
    );
    assert_eq!(text_of(&c, "kpi-attainment_pct").await, "100.00 %");
    c.set_window_size(1280, 2300).await.unwrap();
    let png = c.screenshot().await.unwrap();
    let _ = std::fs::write(
        std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("retail-dashboard.png"),
        png,
    );
    c.set_window_size(1280, 900).await.unwrap();

    // Drill into a store with one click on its row.
    click_on(&c, "[data-testid=children] a[data-testid=drill]").await;
    let mut crumbs = String::new();
    for _ in 0..50 {
        crumbs = text_of(&c, "crumbs").await;
        if crumbs.contains("Store") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(crumbs.contains("Region North › Store Lille"), "{crumbs}");
    assert_eq!(text_of(&c, "kpi-revenue_excl").await, "14.00");
    assert_eq!(text_of(&c, "kpi-attainment_pct").await, "70.00 %");
    let categories = text_of(&c, "children").await;
    assert!(
        categories.contains("Food") && categories.contains("Drinks"),
        "{categories}"
    );
    let store_page = c.current_url().await.unwrap();

    // A what-if: +10 % price with no elasticity over the default twelve months, whose
    // baseline (the same months last year… shifted: the last twelve months) holds the sales.
    click_on(&c, "[data-testid=tab-whatif]").await;
    let price = c
        .wait()
        .for_element(Locator::Css("input[name=price]"))
        .await
        .unwrap();
    price.send_keys("10").await.unwrap();
    type_into(&c, "input[name=elasticity]", "0").await;
    click_on(&c, "[data-testid=simulate]").await;
    assert_eq!(text_of(&c, "projected-revenue").await, "22.00");
    assert_eq!(text_of(&c, "baseline-revenue").await, "20.00");
    let stores = text_of(&c, "whatif-stores").await;
    assert!(
        stores.contains("Lille") && stores.contains("15.40") && !stores.contains("Marseille"),
        "{stores}"
    );
    c.find(Locator::Css("[data-testid=chart-sensitivity]"))
        .await
        .unwrap();
    let png = c.screenshot().await.unwrap();
    let _ = std::fs::write(
        std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("retail-whatif.png"),
        png,
    );

    // Export the store's figures: the link's CSV, fetched with the browser's session.
    c.goto(store_page.as_str()).await.unwrap();
    let link = c
        .wait()
        .for_element(Locator::Css("[data-testid=csv-figures]"))
        .await
        .unwrap();
    let href = link.prop("href").await.unwrap().unwrap();
    assert!(href.contains("/api/v1/retail/dashboard.csv?"), "{href}");
    let session = c.get_named_cookie("comptoir_session").await.unwrap();
    let csv = reqwest::Client::new()
        .get(&href)
        .header(
            reqwest::header::COOKIE,
            format!("comptoir_session={}", session.value()),
        )
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        csv.contains("revenue_excl,14\n")
            && csv.contains("units,12\n")
            && csv.contains("attainment_pct,70"),
        "{csv}"
    );
    c.close().await.unwrap();
}

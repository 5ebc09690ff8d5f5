//! Demo data (deterministic, realistic) and the stock-level CSV import.

use comptoir_catalog::demo;
use comptoir_kernel::auth::Role;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::catalog::{get_text, post_csv};
use crate::helpers::TestApp;

async fn skus_and_names(app: &TestApp, token: &str) -> Vec<(String, String, String)> {
    let (s, page) = app.get("/api/v1/catalog/products?limit=200", token).await;
    assert_eq!(s, StatusCode::OK);
    let mut out: Vec<_> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["sku"].as_str().unwrap().to_owned(),
                p["name"].as_str().unwrap().to_owned(),
                p["sale_price"].to_string(),
            )
        })
        .collect();
    out.sort();
    out
}

#[tokio::test]
async fn demo_data_is_deterministic_and_realistic() {
    let app = TestApp::spawn().await;
    let (a, b) = (
        app.create_org("Demo A").await,
        app.create_org("Demo B").await,
    );
    let summary = demo::load(&app.state.db, a).await.unwrap();
    demo::load(&app.state.db, b).await.unwrap();
    assert!(
        summary.products >= 40 && summary.locations >= 3 && summary.product_types >= 3,
        "{summary:?}"
    );
    let e = demo::load(&app.state.db, a).await.unwrap_err();
    assert_eq!(e.code.as_str(), "conflict");

    let (ta, tb) = (
        app.token_for(a, Role::Analyst).await,
        app.token_for(b, Role::Analyst).await,
    );
    let products = skus_and_names(&app, &ta).await;
    assert_eq!(
        products,
        skus_and_names(&app, &tb).await,
        "same seed, same catalog"
    );
    assert_eq!(products.len(), summary.products);
    assert!(
        products.iter().any(|(_, n, _)| n.contains("électrique")),
        "French names"
    );
    assert!(
        products.iter().any(|(_, n, _)| n.contains("smartphone")),
        "English names"
    );
    let (_, types) = app.get("/api/v1/catalog/product-types", &ta).await;
    let codes: Vec<&str> = types
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["code"].as_str().unwrap())
        .collect();
    assert!(
        codes.contains(&"vehicle") && codes.contains(&"smartphone"),
        "{codes:?}"
    );
    let (_, stock) = app.get("/api/v1/catalog/stock?limit=1000", &ta).await;
    assert_eq!(stock.as_array().unwrap().len(), summary.stock_levels);
    // The demo stock is in the ledger too.
    let (_, moves) = app
        .get("/api/v1/catalog/stock/movements?limit=1000", &ta)
        .await;
    let on_hand: i64 = stock
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["on_hand"].as_i64().unwrap())
        .sum();
    let ledger: i64 = moves
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["on_hand_delta"].as_i64().unwrap())
        .sum();
    assert_eq!(on_hand, ledger);
    // Every demo product passes the API's own validation (a PUT of itself succeeds).
    let owner = app.token_for(a, Role::Owner).await;
    let (_, page) = app.get("/api/v1/catalog/products?limit=5", &owner).await;
    for p in page["items"].as_array().unwrap() {
        let body = json!({
            "sku": p["sku"], "name": p["name"], "description": p["description"], "brand_id": p["brand_id"],
            "category_id": p["category_id"], "product_type_id": p["product_type_id"], "attributes": p["attributes"],
            "purchase_price": p["purchase_price"], "sale_price": p["sale_price"], "currency": p["currency"],
            "vat_rate": p["vat_rate"], "availability": p["availability"], "images": p["images"], "status": p["status"],
        });
        let (s, b) = app
            .call(
                reqwest::Method::PUT,
                &format!("/api/v1/catalog/products/{}", p["id"].as_str().unwrap()),
                Some(&owner),
                Some(body),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{b}");
    }
}

#[tokio::test]
async fn stock_levels_import_sets_levels_through_the_ledger() {
    let app = TestApp::spawn().await;
    let org = app.create_org("Stocker").await;
    let token = app.token_for(org, Role::Operator).await;
    for (code, kind) in [("WH-LYON", "warehouse"), ("ST-PARIS", "store")] {
        let (s, _) = app
            .post(
                "/api/v1/catalog/locations",
                &token,
                json!({"code": code, "name": code, "kind": kind}),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED);
    }
    let (s, imp) = post_csv(
        &app,
        "/api/v1/catalog/imports",
        &token,
        "sku;nom;prix\nA-1;Article un;\"9,90\"\nA-2;Article deux;12\n".into(),
    )
    .await;
    assert_eq!(
        (s, imp["accepted_rows"].as_i64()),
        (StatusCode::ACCEPTED, Some(2)),
        "{imp}"
    );
    let csv = "sku,location,on_hand,low_stock_threshold\n\
               A-1,WH-LYON,40,5\n\
               A-1,ST-PARIS,3,\n\
               A-2,WH-LYON,7,2\n\
               NOPE,WH-LYON,1,\n\
               A-2,NOWHERE,1,\n\
               A-2,ST-PARIS,-4,\n\
               A-2,ST-PARIS,lots,\n"
        .to_owned();
    let (s, imp) = post_csv(&app, "/api/v1/catalog/imports?kind=stock", &token, csv).await;
    assert_eq!(s, StatusCode::ACCEPTED, "{imp}");
    assert_eq!(
        (imp["accepted_rows"].as_i64(), imp["rejected_rows"].as_i64()),
        (Some(3), Some(4)),
        "{imp}"
    );
    let reasons: Vec<(i64, &str)> = imp["rejected"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["line"].as_i64().unwrap(), r["column"].as_str().unwrap()))
        .collect();
    assert_eq!(
        reasons,
        vec![(5, "sku"), (6, "location"), (7, "on_hand"), (8, "on_hand")]
    );
    let (_, levels) = app.get("/api/v1/catalog/stock", &token).await;
    let mut got: Vec<(i64, Value)> = levels
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["on_hand"].as_i64().unwrap(),
                l["low_stock_threshold"].clone(),
            )
        })
        .collect();
    got.sort_by_key(|g| g.0);
    assert_eq!(got, vec![(3, Value::Null), (7, json!(2)), (40, json!(5))]);
    let (_, moves) = app.get("/api/v1/catalog/stock/movements", &token).await;
    assert!(
        moves
            .as_array()
            .unwrap()
            .iter()
            .all(|m| m["kind"] == "import" && m["reference"] == imp["id"]),
        "{moves}"
    );
    // Importing the same levels again changes nothing and records nothing.
    let (_, again) = post_csv(
        &app,
        "/api/v1/catalog/imports?kind=stock",
        &token,
        "sku,location,on_hand\nA-1,WH-LYON,40\n".into(),
    )
    .await;
    assert_eq!(again["accepted_rows"], 1);
    let (_, moves2) = app.get("/api/v1/catalog/stock/movements", &token).await;
    assert_eq!(
        moves2.as_array().unwrap().len(),
        moves.as_array().unwrap().len()
    );
    // A file whose header is wrong fails as a whole, with the reason.
    let (s, bad) = post_csv(
        &app,
        "/api/v1/catalog/imports",
        &token,
        "reference,colour\nX,red\n".into(),
    )
    .await;
    assert_eq!(
        (s, bad["status"].as_str()),
        (StatusCode::ACCEPTED, Some("failed"))
    );
    assert!(bad["error"].as_str().unwrap().contains("colour"), "{bad}");
    let (s, report) = get_text(
        &app,
        &format!(
            "/api/v1/catalog/imports/{}/report.csv",
            bad["id"].as_str().unwrap()
        ),
        &token,
    )
    .await;
    assert_eq!(
        (s, report.trim()),
        (StatusCode::OK, "line,column,reason,raw")
    );
    // Not CSV at all: refused before anything is stored.
    let r = app
        .request(
            reqwest::Method::POST,
            "/api/v1/catalog/imports",
            Some(&token),
        )
        .header("content-type", "text/plain")
        .body("x")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
}

#[tokio::test]
async fn an_interrupted_import_resumes_after_its_processed_rows() {
    use comptoir_catalog::entities::imports;
    use comptoir_catalog::service;
    use comptoir_catalog::views::ImportOptions;
    use comptoir_kernel::auth::{AuthVia, Caller};
    use comptoir_kernel::ids::UserId;
    use sea_orm::{ActiveModelTrait, EntityTrait, Set};

    let app = TestApp::spawn().await;
    let org = app.create_org("Resume").await;
    let token = app.token_for(org, Role::Operator).await;
    let caller = Caller {
        org_id: org,
        user_id: UserId::new(),
        role: Role::Operator,
        region_id: None,
        store_id: None,
        via: AuthVia::AccessToken,
    };
    let mut csv = String::from("sku,name,sale_price\n");
    for i in 0..1_200 {
        csv.push_str(&format!(
            "R-{i:04},Row {i},{}\n",
            if i == 1_100 { "bad" } else { "1" }
        ));
    }
    let id = service::start_import(&app.state.db, &caller, ImportOptions::default(), csv)
        .await
        .unwrap();
    let (_, pending) = app
        .get(&format!("/api/v1/catalog/imports/{id}"), &token)
        .await;
    assert_eq!(
        (
            pending["status"].as_str(),
            pending["processed_rows"].as_i64()
        ),
        (Some("pending"), Some(0))
    );
    // As if a worker had committed the first chunk (500 rows) and then died.
    let row = imports::Entity::find_by_id(id.0)
        .one(&app.state.db)
        .await
        .unwrap()
        .unwrap();
    let mut active: imports::ActiveModel = row.into();
    active.status = Set("running".into());
    active.processed_rows = Set(500);
    active.accepted_rows = Set(500);
    active.update(&app.state.db).await.unwrap();

    let done = service::run_import(&app.state.db, org, id).await.unwrap();
    assert_eq!(
        (
            done.processed_rows,
            done.accepted_rows,
            done.rejected_rows,
            done.total_rows
        ),
        (1_200, 1_199, 1, 1_200)
    );
    assert_eq!(done.rejected[0].line, 1_102);
    let (_, page) = app
        .get("/api/v1/catalog/products?limit=200&q=R-0499", &token)
        .await;
    assert_eq!(
        page["items"].as_array().unwrap().len(),
        0,
        "rows before the resume point are not redone"
    );
    let (_, page) = app.get("/api/v1/catalog/products?q=R-0500", &token).await;
    assert_eq!(page["items"].as_array().unwrap().len(), 1);
    // Running a completed import again does nothing.
    let again = service::run_import(&app.state.db, org, id).await.unwrap();
    assert_eq!(again.accepted_rows, 1_199);
}

#[tokio::test]
async fn exports_defuse_spreadsheet_formulas_and_imports_restore_them() {
    let app = TestApp::spawn().await;
    let org = app.create_org("Formulas").await;
    let token = app.token_for(org, Role::Operator).await;
    let (s, p) = app
        .post("/api/v1/catalog/products", &token, json!({"sku": "F-1", "name": "=HYPERLINK(\"http://evil.example\")", "description": "@SUM(1)", "sale_price": "3"}))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{p}");
    let (_, csv) = get_text(&app, "/api/v1/catalog/products/export.csv?q=F-1", &token).await;
    let line = csv.lines().nth(1).unwrap();
    assert!(
        line.starts_with("F-1,\"'=HYPERLINK(") && line.contains(",'@SUM(1),"),
        "{line}"
    );
    let (s, imp) = post_csv(&app, "/api/v1/catalog/imports?upsert=true", &token, csv).await;
    assert_eq!(
        (s, imp["accepted_rows"].as_i64()),
        (StatusCode::ACCEPTED, Some(1)),
        "{imp}"
    );
    let (_, again) = app
        .get(
            &format!("/api/v1/catalog/products/{}", p["id"].as_str().unwrap()),
            &token,
        )
        .await;
    assert_eq!(
        (&again["name"], &again["description"]),
        (&p["name"], &p["description"])
    );
}

#[tokio::test]
async fn the_cli_imports_a_csv_with_progress_and_a_report() {
    use sea_orm::EntityTrait;
    let app = TestApp::spawn().await;
    let org = app.create_org("Import CLI").await;
    app.create_member(org, Role::Owner).await;
    let slug = comptoir_kernel::entities::orgs::Entity::find_by_id(org.0)
        .one(&app.state.db)
        .await
        .unwrap()
        .unwrap()
        .slug;
    let file = app.data_dir().join("products.csv");
    std::fs::write(
        &file,
        "sku,name,sale_price\nCLI-1,Vélo cargo,\"2499,00\"\nCLI-2,Casque,59.9\n,No SKU,1\n",
    )
    .unwrap();
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_comptoir"))
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("COMPTOIR_DATA_DIR", app.data_dir())
        .env("COMPTOIR_DATABASE_URL", app.database_url())
        .env("COMPTOIR_LOG", "warn")
        .env("COMPTOIR_JOBS__POLL_INTERVAL_MS", "50")
        .args(["catalog", "import", file.to_str().unwrap(), "--org", &slug])
        .output()
        .await
        .unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("2 accepted, 1 rejected"), "{stdout}");
    assert!(
        stdout.contains("line 4: sku"),
        "the report names the line and column: {stdout}"
    );
    assert!(stderr.contains("3/3 rows"), "a progress bar: {stderr}");
    let token = app.token_for(org, Role::Analyst).await;
    let (_, list) = app.get("/api/v1/catalog/products?q=CLI-", &token).await;
    let skus: Vec<&str> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["sku"].as_str().unwrap())
        .collect();
    assert_eq!(skus.len(), 2, "{list}");
}

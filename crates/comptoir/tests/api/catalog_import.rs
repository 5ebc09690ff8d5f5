//! Must-show 1: a 10,000-row CSV with 500 bad rows (ten kinds of error) accepts exactly
//! the 9,500 good rows and reports exactly the 500 bad ones with line, column and reason;
//! products that were there before are unchanged and nothing else is created. Runs on
//! SQLite, and on PostgreSQL with `COMPTOIR_TEST_DATABASE_URL`.

use std::collections::{BTreeMap, BTreeSet};

use comptoir_catalog::entities::{brands, categories, products};
use comptoir_kernel::auth::Role;
use comptoir_kernel::tenancy::scoped;
use reqwest::StatusCode;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QuerySelect};
use serde_json::{Value, json};

use crate::catalog::{get_text, post_csv};
use crate::helpers::TestApp;

const ROWS: usize = 10_000;

/// The error each bad row carries: expected column and a piece of the reason.
const KINDS: [(&str, &str); 10] = [
    ("sku", "must not be empty"),
    ("sale_price", "not a decimal number"),
    ("sale_price", "must not be negative"),
    ("category", "unknown category"),
    ("product_type", "unknown product type"),
    ("attr.storage_gb", "expected integer"),
    ("sku", ""), // duplicate in the file, or already in the catalog (checked below)
    ("vat_rate", "percentage between 0 and 100"),
    ("status", "is not one of"),
    ("name", "at most 200 characters"),
];

fn quote(field: &str) -> String {
    if field.contains([',', '"', '\n']) {
        format!("\"{}\"", field.replace('"', "\"\""))
    } else {
        field.to_owned()
    }
}

/// The file, and for each bad line (1-based, header = 1) its kind.
fn build_csv() -> (String, BTreeMap<usize, usize>) {
    let mut out = String::from(
        "sku,name,description,brand,category,product_type,purchase_price,sale_price,currency,vat_rate,status,attr.storage_gb,attr.screen_in\n",
    );
    let mut bad = BTreeMap::new();
    for i in 0..ROWS {
        let line = i + 2;
        let mut f: Vec<String> = vec![
            format!("IMP-{i:05}"),
            format!("Produit importé {i} / Imported product {i}"),
            if i % 3 == 0 {
                "Une description, avec virgule".into()
            } else {
                String::new()
            },
            format!("Marque {}", i % 7),
            ["phones", "cars", ""][i % 3].into(),
            if i % 2 == 0 {
                "smartphone".into()
            } else {
                String::new()
            },
            if i % 4 == 0 {
                "7,25".into()
            } else {
                String::new()
            },
            if i % 2 == 0 {
                format!("{},99", 10 + i % 90)
            } else {
                format!("{}.5", 100 + i % 50)
            },
            "EUR".into(),
            if i % 5 == 0 {
                "5,5".into()
            } else {
                "20".into()
            },
            ["active", "draft", "archived"][i % 3].into(),
            if i % 2 == 0 {
                ["64", "128", "256"][i % 3].into()
            } else {
                String::new()
            },
            if i % 2 == 0 {
                "6,1".into()
            } else {
                String::new()
            },
        ];
        if i % 20 == 7 {
            let kind = (i / 20) % 10;
            bad.insert(line, kind);
            f[3] = "Rejected Brand".into(); // a rejected row must not create its brand
            match kind {
                0 => f[0] = String::new(),
                1 => f[7] = "12.3.4".into(),
                2 => f[7] = "-5".into(),
                3 => f[4] = "no-such-category".into(),
                4 => f[5] = "spaceship".into(),
                5 => {
                    f[5] = "smartphone".into();
                    f[11] = "lots".into();
                }
                6 => {
                    // Half repeat the previous (good) row's sku, half an existing product's.
                    f[0] = if (i / 200) % 2 == 0 {
                        format!("IMP-{:05}", i - 1)
                    } else {
                        format!("PRE-{}", i % 3)
                    };
                }
                7 => f[9] = "150".into(),
                8 => f[10] = "published".into(),
                _ => f[1] = "x".repeat(201),
            }
        }
        out.push_str(&f.iter().map(|v| quote(v)).collect::<Vec<_>>().join(","));
        out.push('\n');
    }
    (out, bad)
}

#[tokio::test]
async fn ten_thousand_rows_five_hundred_bad() {
    let app = TestApp::spawn_with(|c| {
        c.http.request_timeout_secs = 900;
    })
    .await;
    let org = app.create_org("Importer").await;
    let token = app.token_for(org, Role::Operator).await;
    for (code, name) in [("phones", "Téléphones"), ("cars", "Voitures")] {
        let (s, _) = app
            .post(
                "/api/v1/catalog/categories",
                &token,
                json!({"code": code, "name": name}),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED);
    }
    let (s, _) = app
        .post(
            "/api/v1/catalog/product-types",
            &token,
            json!({"code": "smartphone", "name": "Smartphone", "attributes": [
                {"name": "storage_gb", "type": "integer", "required": true}, {"name": "screen_in", "type": "decimal"}]}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED);
    let mut before = Vec::new();
    for i in 0..3 {
        let (s, p) = app
            .post("/api/v1/catalog/products", &token, json!({"sku": format!("PRE-{i}"), "name": format!("Déjà là {i}"), "sale_price": "42.42"}))
            .await;
        assert_eq!(s, StatusCode::CREATED, "{p}");
        before.push(p);
    }

    let (csv, bad) = build_csv();
    assert_eq!(bad.len(), 500);
    assert_eq!(
        bad.values().collect::<BTreeSet<_>>().len(),
        10,
        "every kind of error is present"
    );
    let (s, import) = post_csv(&app, "/api/v1/catalog/imports", &token, csv).await;
    assert_eq!(s, StatusCode::ACCEPTED, "{import}");
    assert_eq!(import["status"], "completed", "{import}");
    assert_eq!(import["total_rows"], ROWS);
    assert_eq!(import["processed_rows"], ROWS);
    assert_eq!(import["accepted_rows"], 9_500);
    assert_eq!(import["rejected_rows"], 500);
    let shown: BTreeSet<i64> = import["rejected"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["line"].as_i64().unwrap())
        .collect();
    assert_eq!(shown, bad.keys().map(|l| *l as i64).collect());

    // The report names every bad line once, with its column and reason.
    let id = import["id"].as_str().unwrap();
    let (s, again) = app
        .get(&format!("/api/v1/catalog/imports/{id}"), &token)
        .await;
    assert_eq!((s, &again["rejected_rows"]), (StatusCode::OK, &json!(500)));
    let (s, report) = get_text(
        &app,
        &format!("/api/v1/catalog/imports/{id}/report.csv"),
        &token,
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    let mut reader = csv::Reader::from_reader(report.as_bytes());
    assert_eq!(
        reader.headers().unwrap(),
        vec!["line", "column", "reason", "raw"]
    );
    let mut reported = BTreeMap::new();
    for record in reader.records() {
        let r = record.unwrap();
        let line: usize = r[0].parse().unwrap();
        assert!(
            reported
                .insert(line, (r[1].to_owned(), r[2].to_owned(), r[3].to_owned()))
                .is_none(),
            "line {line} twice"
        );
    }
    assert_eq!(
        reported.keys().collect::<Vec<_>>(),
        bad.keys().collect::<Vec<_>>()
    );
    for (line, kind) in &bad {
        let (column, reason, raw) = &reported[line];
        let (want_column, want_reason) = KINDS[*kind];
        assert_eq!(column, want_column, "line {line}: {reason}");
        if *kind == 6 {
            assert!(
                reason.contains("duplicate sku in the file") || reason.contains("already exists"),
                "line {line}: {reason}"
            );
        } else {
            assert!(
                reason.contains(want_reason),
                "line {line} ({kind}): {reason}"
            );
        }
        assert!(
            raw.contains("Rejected Brand"),
            "line {line}: raw row kept: {raw}"
        );
    }

    // Exactly the good rows are in the catalog, with their values.
    let db = &app.state.db;
    let skus: BTreeSet<String> = scoped::<products::Entity>(org)
        .select_only()
        .column(products::Column::Sku)
        .into_tuple::<String>()
        .all(db)
        .await
        .unwrap()
        .into_iter()
        .collect();
    let mut expected: BTreeSet<String> = (0..ROWS)
        .filter(|i| !bad.contains_key(&(i + 2)))
        .map(|i| format!("IMP-{i:05}"))
        .collect();
    expected.extend((0..3).map(|i| format!("PRE-{i}")));
    assert_eq!(skus.len(), 9_503);
    assert_eq!(skus, expected);
    let (_, p) = app
        .get("/api/v1/catalog/products?q=IMP-00000", &token)
        .await;
    let p = &p["items"][0];
    assert_eq!(
        (
            &p["sale_price"],
            &p["purchase_price"],
            &p["vat_rate"],
            &p["status"],
            &p["attributes"]
        ),
        (
            &json!("10.99"),
            &json!("7.25"),
            &json!("5.5"),
            &json!("active"),
            &json!({"storage_gb": 64, "screen_in": "6.1"})
        )
    );
    assert_eq!(p["description"], "Une description, avec virgule");
    let (_, p) = app
        .get("/api/v1/catalog/products?q=IMP-00001", &token)
        .await;
    assert_eq!(p["items"][0]["sale_price"], "101.5");

    // What was there before is untouched; no category and no rejected brand was created.
    for p in &before {
        let (s, now) = app
            .get(
                &format!("/api/v1/catalog/products/{}", p["id"].as_str().unwrap()),
                &token,
            )
            .await;
        assert_eq!((s, &now), (StatusCode::OK, p));
    }
    assert_eq!(
        scoped::<categories::Entity>(org).count(db).await.unwrap(),
        2
    );
    let brand_names: BTreeSet<String> = scoped::<brands::Entity>(org)
        .all(db)
        .await
        .unwrap()
        .into_iter()
        .map(|b| b.name)
        .collect();
    assert_eq!(brand_names, (0..7).map(|i| format!("Marque {i}")).collect());
    assert_eq!(
        products::Entity::find()
            .filter(products::Column::OrgId.ne(org.0))
            .count(db)
            .await
            .unwrap(),
        0
    );

    // The same file again with upsert: nothing new is rejected for duplicates, everything
    // is an update, and the row count does not change.
    let (csv, _) = build_csv();
    let (s, second) = post_csv(
        &app,
        "/api/v1/catalog/imports?upsert=true&create_categories=true",
        &token,
        csv,
    )
    .await;
    assert_eq!(s, StatusCode::ACCEPTED, "{second}");
    // Kind 6 rows are now valid updates; kind 3 rows create their category.
    assert_eq!(second["rejected_rows"], 400, "{}", second["rejected"][0]);
    let total = scoped::<products::Entity>(org).count(db).await.unwrap();
    assert_eq!(
        total,
        9_503 + 50,
        "kind-3 rows (new category) are new products"
    );
    let _: Value = second;
}

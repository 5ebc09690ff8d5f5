//! Retail consolidation reports: the job renders a PDF and an XLSX whose figures are the
//! dashboard's (read back with lopdf and calamine), role scoping (a regional manager's
//! report covers their region; others' reports are 404), validation, schedules (one report
//! and one delivery per schedule and month however often the sweep runs), and the demo
//! chain (3 regions, 12 stores, 24 months of sales, rollups equal to a rebuild).

use std::collections::BTreeMap;
use std::io::Cursor;

use calamine::{Data, Reader, Xlsx, open_workbook_from_rs};
use comptoir_kernel::auth::Role;
use comptoir_kernel::ids::OrgId;
use comptoir_kernel::jobs::{self, EnqueueOptions, TaskId};
use comptoir_retail::reports::jobs::ScheduleSweep;
use comptoir_retail::reports::pdf::money_text;
use reqwest::{Method, StatusCode, header};
use rust_decimal::Decimal;
use serde_json::{Value, json};

use crate::helpers::{TestApp, assert_error};
use crate::retail::{Chain, dec, scoped_token};

/// The dashboard's figure keys, in the order of the report's Summary sheet.
const FIGURES: [(&str, &str); 14] = [
    ("Revenue excl. VAT", "revenue_excl"),
    ("Revenue incl. VAT", "revenue_incl"),
    ("Cost of goods", "cost"),
    ("Gross margin", "gross_margin"),
    ("Gross margin %", "gross_margin_pct"),
    ("Units", "units"),
    ("Transactions", "transactions"),
    ("Average basket (incl. VAT)", "average_basket"),
    ("Target", "target"),
    ("Target attainment %", "attainment_pct"),
    ("Previous month revenue excl. VAT", "previous_revenue_excl"),
    ("Growth vs previous month %", "growth_vs_previous_pct"),
    ("Last year revenue excl. VAT", "last_year_revenue_excl"),
    ("Growth vs last year %", "growth_vs_last_year_pct"),
];

/// The number a JSON figure (decimal string or integer) reads as; `None` for null.
fn number(v: &Value) -> Option<f64> {
    match v {
        Value::Null => None,
        Value::String(s) => Some(s.parse().unwrap()),
        Value::Number(n) => n.as_f64(),
        other => panic!("not a figure: {other}"),
    }
}

fn cell(c: &Data) -> Option<f64> {
    match c {
        Data::Empty => None,
        Data::Float(f) => Some(*f),
        Data::Int(i) => Some(*i as f64),
        other => panic!("not a numeric cell: {other:?}"),
    }
}

fn cell_text(c: &Data) -> String {
    match c {
        Data::String(s) => s.clone(),
        other => panic!("not a text cell: {other:?}"),
    }
}

/// Asks for a report; returns the 202 body.
async fn ask(app: &TestApp, token: &str, body: Value) -> Value {
    let (s, r) = app.post("/api/v1/retail/reports", token, body).await;
    assert_eq!(s, StatusCode::ACCEPTED, "{r}");
    assert!(r["task_id"].is_string(), "{r}");
    assert!(
        matches!(
            r["status"].as_str(),
            Some("pending" | "running" | "completed")
        ),
        "{r}"
    );
    r
}

/// Polls a report until it is completed (or failed: the test fails).
async fn wait_report(app: &TestApp, token: &str, id: &str) -> Value {
    for _ in 0..1200 {
        let (s, r) = app
            .get(&format!("/api/v1/retail/reports/{id}"), token)
            .await;
        assert_eq!(s, StatusCode::OK, "{r}");
        match r["status"].as_str() {
            Some("completed") => return r,
            Some("failed") => panic!("the report failed: {r}"),
            _ => tokio::time::sleep(std::time::Duration::from_millis(50)).await,
        }
    }
    panic!("report {id} did not complete");
}

/// GETs a file: status, content type, content disposition, bytes.
async fn download(app: &TestApp, token: &str, path: &str) -> (StatusCode, String, String, Vec<u8>) {
    let resp = app
        .request(Method::GET, path, Some(token))
        .send()
        .await
        .unwrap();
    let header_of = |h: header::HeaderName| {
        resp.headers()
            .get(h)
            .map(|v: &header::HeaderValue| v.to_str().unwrap().to_owned())
            .unwrap_or_default()
    };
    let (ct, cd) = (
        header_of(header::CONTENT_TYPE),
        header_of(header::CONTENT_DISPOSITION),
    );
    (resp.status(), ct, cd, resp.bytes().await.unwrap().to_vec())
}

/// The report's PDF text (every page) and its XLSX sheets, checked for their headers.
async fn files(
    app: &TestApp,
    token: &str,
    report: &Value,
) -> (String, BTreeMap<String, Vec<Vec<Data>>>) {
    let (s, ct, cd, pdf) = download(app, token, report["pdf_url"].as_str().unwrap()).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(ct, "application/pdf");
    assert!(
        cd.starts_with("attachment; filename=\"consolidation-"),
        "{cd}"
    );
    assert!(cd.ends_with(".pdf\""), "{cd}");
    assert!(pdf.starts_with(b"%PDF-"), "not a PDF");
    let doc = lopdf::Document::load_mem(&pdf).expect("the PDF parses");
    let pages: Vec<u32> = doc.get_pages().keys().copied().collect();
    assert!(!pages.is_empty());
    let text = doc.extract_text(&pages).expect("text extraction");

    let (s, ct, cd, xlsx) = download(app, token, report["xlsx_url"].as_str().unwrap()).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(
        ct,
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    );
    assert!(cd.ends_with(".xlsx\""), "{cd}");
    let mut wb: Xlsx<_> = open_workbook_from_rs(Cursor::new(xlsx)).expect("the XLSX parses");
    assert_eq!(
        wb.sheet_names(),
        ["Summary", "Regions", "Stores", "Categories"]
    );
    let mut sheets = BTreeMap::new();
    for name in wb.sheet_names() {
        let range = wb.worksheet_range(&name).unwrap();
        sheets.insert(name, range.rows().map(|r| r.to_vec()).collect());
    }
    (text, sheets)
}

/// The Summary sheet's value of a measure.
fn summary_value(sheets: &BTreeMap<String, Vec<Vec<Data>>>, label: &str) -> Option<f64> {
    let row = sheets["Summary"]
        .iter()
        .find(|r| r.first().is_some_and(|c| *c == Data::String(label.into())))
        .unwrap_or_else(|| panic!("no {label} row"));
    cell(row.get(1).unwrap_or(&Data::Empty))
}

/// Every Summary figure equals the dashboard's `figures`.
fn assert_summary_is(sheets: &BTreeMap<String, Vec<Vec<Data>>>, figures: &Value) {
    for (label, key) in FIGURES {
        assert_eq!(
            summary_value(sheets, label),
            number(&figures[key]),
            "{label} ({key}): {figures}"
        );
    }
}

/// The PDF shows `amount` as money (its own line: each cell is one text object).
fn assert_pdf_shows(text: &str, amount: &Value) {
    let want = money_text(dec(amount));
    assert!(
        text.lines().any(|l| l.trim() == want),
        "{want} not in the PDF text:\n{text}"
    );
}

async fn dashboard(app: &TestApp, token: &str, query: &str) -> Value {
    let (s, d) = app
        .get(
            &format!("/api/v1/retail/dashboard?from=2025-03&to=2025-03{query}"),
            token,
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{d}");
    d
}

#[tokio::test]
async fn the_monthly_report_has_the_dashboards_figures_in_pdf_and_xlsx() {
    let app = TestApp::spawn().await;
    let org = app.create_org("Chain").await;
    let c = Chain::create(&app, org).await;
    let asked = ask(&app, &c.owner, json!({"month": "2025-03"})).await;
    let id = asked["id"].as_str().unwrap();
    assert_eq!(asked["status_url"], format!("/api/v1/retail/reports/{id}"));
    let report = wait_report(&app, &c.owner, id).await;
    assert_eq!(
        (report["month"].as_str(), report["label"].as_str()),
        (Some("2025-03"), Some("Whole chain"))
    );
    let d = dashboard(&app, &c.owner, "").await;
    let (text, sheets) = files(&app, &c.owner, &report).await;

    // Summary: every figure of the dashboard, as numbers.
    assert_summary_is(&sheets, &d["figures"]);
    assert_eq!(summary_value(&sheets, "Revenue excl. VAT"), Some(18.0));
    // Regions: one dashboard per region.
    let regions = &sheets["Regions"];
    assert_eq!(text_row(&regions[0])[..2], ["Code", "Region"]);
    assert_eq!(regions.len(), 3, "header + NORTH + SOUTH");
    for (row, (code, region)) in regions[1..]
        .iter()
        .zip([("NORTH", &c.north), ("SOUTH", &c.south)])
    {
        assert_eq!(cell_text(&row[0]), code);
        let rd = dashboard(&app, &c.owner, &format!("&region_id={region}")).await;
        for (i, (_, key)) in FIGURES.iter().enumerate() {
            assert_eq!(
                cell(&row[2 + i]),
                number(&rd["figures"][key]),
                "{code} {key}"
            );
        }
    }
    // Stores: the dashboard's ranking, rank by rank.
    let stores = &sheets["Stores"];
    let ranking = d["stores"].as_array().unwrap();
    assert_eq!(stores.len(), 1 + ranking.len());
    for (i, (row, want)) in stores[1..].iter().zip(ranking).enumerate() {
        assert_eq!(cell(&row[0]), Some(i as f64 + 1.0));
        assert_eq!(cell_text(&row[1]), want["code"].as_str().unwrap());
        for (j, key) in [
            "revenue_excl",
            "revenue_incl",
            "gross_margin",
            "gross_margin_pct",
            "units",
            "transactions",
            "target",
            "attainment_pct",
        ]
        .iter()
        .enumerate()
        {
            assert_eq!(
                cell(&row[4 + j]),
                number(&want[key]),
                "{} {key}",
                want["code"]
            );
        }
    }
    assert_eq!(cell_text(&stores[1][1]), "N1");
    // Categories.
    let categories = &sheets["Categories"];
    let want = d["categories"].as_array().unwrap();
    assert_eq!(categories.len(), 1 + want.len());
    for (row, want) in categories[1..].iter().zip(want) {
        assert_eq!(cell_text(&row[0]), want["code"].as_str().unwrap());
        assert_eq!(cell(&row[2]), number(&want["revenue_excl"]));
        assert_eq!(cell(&row[4]), number(&want["gross_margin"]));
    }

    // The PDF: title, period, scope, the totals and every store.
    assert!(text.contains("Monthly consolidation report"), "{text}");
    assert!(text.contains("March 2025 (2025-03)"), "{text}");
    assert!(text.contains("Scope: Whole chain"), "{text}");
    for key in ["revenue_excl", "revenue_incl", "gross_margin", "target"] {
        assert_pdf_shows(&text, &d["figures"][key]);
    }
    for name in [
        "Lille",
        "Amiens",
        "Marseille",
        "North",
        "South",
        "Food",
        "Drinks",
    ] {
        assert!(
            text.lines().any(|l| l.trim() == name),
            "{name} missing:\n{text}"
        );
    }
    assert!(text.contains("Page 1 of "), "{text}");

    // History.
    let (s, list) = app.get("/api/v1/retail/reports", &c.owner).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(list[0]["id"], id);

    // Bad input: the month is named.
    for bad in [
        json!({"month": "2025-13"}),
        json!({"month": "March"}),
        json!({"month": "2999-01"}),
        json!({"month": 202503}),
    ] {
        let (s, b) = app
            .post("/api/v1/retail/reports", &c.owner, bad.clone())
            .await;
        assert_error(s, &b, 422, "validation_failed");
        assert_eq!(b["details"]["fields"][0]["field"], "month", "{bad}: {b}");
    }
    let (s, b) = app
        .post(
            "/api/v1/retail/reports",
            &c.owner,
            json!({"month": "2025-03", "scope": {"region_id": c.north, "store_id": c.s1}}),
        )
        .await;
    assert_error(s, &b, 422, "validation_failed");
    assert_eq!(b["details"]["fields"][0]["field"], "scope.store_id");
    let (s, b) = app
        .post(
            "/api/v1/retail/reports",
            &c.owner,
            json!({"month": "2025-03", "scope": {"region_id": uuid::Uuid::now_v7()}}),
        )
        .await;
    assert_error(s, &b, 404, "not_found");
    // Operators see no figures.
    let operator = app.token_for(org, Role::Operator).await;
    let (s, b) = app
        .post(
            "/api/v1/retail/reports",
            &operator,
            json!({"month": "2025-03"}),
        )
        .await;
    assert_error(s, &b, 403, "forbidden");
}

fn text_row(row: &[Data]) -> Vec<String> {
    row.iter().map(cell_text).collect()
}

#[tokio::test]
async fn a_regional_managers_report_covers_their_region_and_others_are_404() {
    let app = TestApp::spawn().await;
    let org = app.create_org("Chain").await;
    let c = Chain::create(&app, org).await;
    let rm = scoped_token(&app, org, Role::RegionalManager, Some(&c.north), None).await;
    let sm = scoped_token(&app, org, Role::StoreManager, None, Some(&c.s1)).await;

    let mine = ask(&app, &rm, json!({"month": "2025-03"})).await;
    assert_eq!(mine["scope"]["region_id"], c.north.as_str());
    let mine = wait_report(&app, &rm, mine["id"].as_str().unwrap()).await;
    assert_eq!(mine["label"], "Region North");
    let (text, sheets) = files(&app, &rm, &mine).await;
    let d = dashboard(&app, &rm, "").await;
    assert_summary_is(&sheets, &d["figures"]);
    assert_eq!(
        summary_value(&sheets, "Revenue excl. VAT"),
        Some(12.0),
        "N1 only sold in March"
    );
    let stores: Vec<String> = sheets["Stores"][1..]
        .iter()
        .map(|r| cell_text(&r[1]))
        .collect();
    assert_eq!(stores, ["N1", "N2"]);
    let regions: Vec<String> = sheets["Regions"][1..]
        .iter()
        .map(|r| cell_text(&r[0]))
        .collect();
    assert_eq!(regions, ["NORTH"]);
    assert!(!text.contains("Marseille"), "{text}");
    assert!(!text.contains("SOUTH"), "{text}");

    // The chain's report, asked by the owner.
    let chain = ask(&app, &c.owner, json!({"month": "2025-03"})).await;
    let chain_id = chain["id"].as_str().unwrap().to_owned();
    wait_report(&app, &c.owner, &chain_id).await;
    let south = ask(
        &app,
        &c.owner,
        json!({"month": "2025-03", "scope": {"region_id": c.south}}),
    )
    .await;
    let south_id = south["id"].as_str().unwrap().to_owned();
    wait_report(&app, &c.owner, &south_id).await;

    // The regional manager cannot see or ask for anything outside the north.
    for id in [&chain_id, &south_id] {
        for suffix in ["", "/report.pdf", "/report.xlsx"] {
            let (s, b) = app
                .get(&format!("/api/v1/retail/reports/{id}{suffix}"), &rm)
                .await;
            assert_error(s, &b, 404, "not_found");
        }
    }
    for scope in [json!({"region_id": c.south}), json!({"store_id": c.s1})] {
        let (s, b) = app
            .post(
                "/api/v1/retail/reports",
                &rm,
                json!({"month": "2025-03", "scope": scope}),
            )
            .await;
        assert_error(s, &b, 404, "not_found");
    }
    let (_, list) = app.get("/api/v1/retail/reports", &rm).await;
    let ids: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [mine["id"].as_str().unwrap()]);
    // A store manager sees only reports on their store: not even their region's.
    for id in [
        &south_id,
        &chain_id,
        &mine["id"].as_str().unwrap().to_owned(),
    ] {
        let (s, b) = app.get(&format!("/api/v1/retail/reports/{id}"), &sm).await;
        assert_error(s, &b, 404, "not_found");
    }
    let own = ask(
        &app,
        &sm,
        json!({"month": "2025-03", "scope": {"region_id": c.south}}),
    )
    .await;
    assert_eq!(own["scope"], json!({"region_id": null, "store_id": c.s1}));
    let own = wait_report(&app, &sm, own["id"].as_str().unwrap()).await;
    let (_, sheets) = files(&app, &sm, &own).await;
    assert_summary_is(&sheets, &dashboard(&app, &sm, "").await["figures"]);
    assert_eq!(summary_value(&sheets, "Revenue excl. VAT"), Some(6.0));
    // The owner sees all four.
    let (_, list) = app.get("/api/v1/retail/reports", &c.owner).await;
    assert_eq!(list.as_array().unwrap().len(), 4);

    // Another organization's owner: 404 on every report path.
    let other = app.create_org("Other").await;
    let outsider = app.token_for(other, Role::Owner).await;
    for suffix in ["", "/report.pdf", "/report.xlsx"] {
        let (s, b) = app
            .get(
                &format!("/api/v1/retail/reports/{chain_id}{suffix}"),
                &outsider,
            )
            .await;
        assert_error(s, &b, 404, "not_found");
    }
    let (_, list) = app.get("/api/v1/retail/reports", &outsider).await;
    assert_eq!(list, json!([]));
}

async fn sweep(app: &TestApp, org: OrgId, token: &str, today: &str) -> Value {
    let task: TaskId = jobs::enqueue(
        &app.state.db,
        Some(org),
        &ScheduleSweep {
            today: Some(today.parse().unwrap()),
        },
        EnqueueOptions::default(),
    )
    .await
    .unwrap();
    let done = crate::jobs::wait_for(app, token, task, &["succeeded", "dead"]).await;
    assert_eq!(done["status"], "succeeded", "{done}");
    done["result"].clone()
}

/// The reports of a schedule for a month.
async fn scheduled_reports(app: &TestApp, token: &str, schedule: &str, month: &str) -> Vec<Value> {
    let (_, list) = app.get("/api/v1/retail/reports", token).await;
    list.as_array()
        .unwrap()
        .iter()
        .filter(|r| r["schedule_id"] == schedule && r["month"] == month)
        .cloned()
        .collect()
}

#[tokio::test]
async fn a_due_schedule_produces_one_report_and_one_delivery_however_often_it_runs() {
    let app = TestApp::spawn().await;
    let org = app.create_org("Chain").await;
    let c = Chain::create(&app, org).await;
    let path = "/api/v1/retail/report-schedules";

    // Validation: the day, the addresses, the role.
    for (body, field) in [
        (
            json!({"day_of_month": 0, "recipients": ["a@example.com"]}),
            "day_of_month",
        ),
        (
            json!({"day_of_month": 29, "recipients": ["a@example.com"]}),
            "day_of_month",
        ),
        (json!({"day_of_month": 5, "recipients": []}), "recipients"),
        (
            json!({"day_of_month": 5, "recipients": ["a@example.com", "not an e-mail"]}),
            "recipients[1]",
        ),
        (
            json!({"day_of_month": 5, "recipients": ["a@example.com"], "scope": {"store_id": c.s1, "region_id": c.north}}),
            "scope.store_id",
        ),
    ] {
        let (s, b) = app.post(path, &c.owner, body.clone()).await;
        assert_error(s, &b, 422, "validation_failed");
        assert_eq!(b["details"]["fields"][0]["field"], field, "{body}: {b}");
    }
    let analyst = app.token_for(org, Role::Analyst).await;
    let (s, b) = app
        .post(
            path,
            &analyst,
            json!({"day_of_month": 5, "recipients": ["a@example.com"]}),
        )
        .await;
    assert_error(s, &b, 403, "forbidden");

    let (s, schedule) = app
        .post(
            path,
            &c.owner,
            json!({"day_of_month": 2, "recipients": [" Director@Example.com", "director@example.com", "cfo@example.com"]}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{schedule}");
    assert_eq!(
        schedule["recipients"],
        json!(["director@example.com", "cfo@example.com"])
    );
    assert_eq!(schedule["label"], "Whole chain");
    let id = schedule["id"].as_str().unwrap().to_owned();

    // Not due before its day.
    let r = sweep(&app, org, &c.owner, "2025-04-01").await;
    assert_eq!(r["created"], 0, "{r}");
    assert!(
        scheduled_reports(&app, &c.owner, &id, "2025-03")
            .await
            .is_empty()
    );
    // Due on its day: the previous month's report, once, however many sweeps run.
    let r = sweep(&app, org, &c.owner, "2025-04-02").await;
    assert_eq!(
        (r["created"].as_u64(), r["month"].as_str()),
        (Some(1), Some("2025-03")),
        "{r}"
    );
    let r = sweep(&app, org, &c.owner, "2025-04-02").await;
    assert_eq!(r["created"], 0, "{r}");
    let reports = scheduled_reports(&app, &c.owner, &id, "2025-03").await;
    assert_eq!(reports.len(), 1, "{reports:?}");
    let report = wait_report(&app, &c.owner, reports[0]["id"].as_str().unwrap()).await;
    let (_, sheets) = files(&app, &c.owner, &report).await;
    assert_summary_is(&sheets, &dashboard(&app, &c.owner, "").await["figures"]);

    // One delivery, handed to the (logging) mailer.
    let mut deliveries = Value::Null;
    for _ in 0..400 {
        let (s, got) = app.get(&format!("{path}/{id}"), &c.owner).await;
        assert_eq!(s, StatusCode::OK, "{got}");
        deliveries = got["deliveries"].clone();
        if deliveries[0]["status"] == "sent" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(deliveries.as_array().unwrap().len(), 1, "{deliveries}");
    let d = &deliveries[0];
    assert_eq!(
        (
            d["status"].as_str(),
            d["mailer"].as_str(),
            d["month"].as_str()
        ),
        (Some("sent"), Some("log"), Some("2025-03")),
        "{d}"
    );
    assert_eq!(d["report_id"], report["id"]);
    assert_eq!(
        d["recipients"],
        json!(["director@example.com", "cfo@example.com"])
    );
    assert_eq!(d["subject"], "Whole chain: consolidation report 2025-03");
    // A later sweep in the same month changes nothing; the report job run again neither.
    let r = sweep(&app, org, &c.owner, "2025-04-20").await;
    assert_eq!(r["created"], 0, "{r}");
    let replay = jobs::enqueue(
        &app.state.db,
        Some(org),
        &comptoir_retail::reports::jobs::ReportJob {
            report_id: report["id"].as_str().unwrap().parse().unwrap(),
        },
        EnqueueOptions::default(),
    )
    .await
    .unwrap();
    crate::jobs::wait_for(&app, &c.owner, replay, &["succeeded"]).await;
    let (_, got) = app.get(&format!("{path}/{id}"), &c.owner).await;
    assert_eq!(got["deliveries"].as_array().unwrap().len(), 1, "{got}");
    assert_eq!(
        scheduled_reports(&app, &c.owner, &id, "2025-03")
            .await
            .len(),
        1
    );

    // Scoping: a regional manager of the north sees neither the chain's schedule nor may
    // schedule the south; their own schedule covers their region.
    let rm = scoped_token(&app, org, Role::RegionalManager, Some(&c.north), None).await;
    let (s, b) = app.get(&format!("{path}/{id}"), &rm).await;
    assert_error(s, &b, 404, "not_found");
    let (s, b) = app
        .call(Method::DELETE, &format!("{path}/{id}"), Some(&rm), None)
        .await;
    assert_error(s, &b, 404, "not_found");
    let (s, b) = app
        .post(path, &rm, json!({"day_of_month": 3, "recipients": ["rm@example.com"], "scope": {"region_id": c.south}}))
        .await;
    assert_error(s, &b, 404, "not_found");
    let (s, own) = app
        .post(
            path,
            &rm,
            json!({"day_of_month": 3, "recipients": ["rm@example.com"]}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{own}");
    assert_eq!(own["scope"]["region_id"], c.north.as_str());
    let (_, list) = app.get(path, &rm).await;
    assert_eq!(list.as_array().unwrap().len(), 1);
    let (_, list) = app.get(path, &c.owner).await;
    assert_eq!(list.as_array().unwrap().len(), 2);

    // Deleting a schedule keeps its reports.
    let (s, _) = app
        .call(
            Method::DELETE,
            &format!("{path}/{id}"),
            Some(&c.owner),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (s, b) = app.get(&format!("{path}/{id}"), &c.owner).await;
    assert_error(s, &b, 404, "not_found");
    let (s, _) = app
        .get(
            &format!("/api/v1/retail/reports/{}", report["id"].as_str().unwrap()),
            &c.owner,
        )
        .await;
    assert_eq!(s, StatusCode::OK);
}

/// Org B's report and schedule, for the isolation test.
pub struct ReportFixtures {
    pub report: String,
    pub schedule: String,
    owner: String,
}

impl ReportFixtures {
    pub async fn create(app: &TestApp, chain: &Chain) -> ReportFixtures {
        let report = ask(app, &chain.owner, json!({"month": "2025-03"})).await;
        let (s, schedule) = app
            .post(
                "/api/v1/retail/report-schedules",
                &chain.owner,
                json!({"day_of_month": 1, "recipients": ["b@example.com"]}),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{schedule}");
        ReportFixtures {
            report: report["id"].as_str().unwrap().to_owned(),
            schedule: schedule["id"].as_str().unwrap().to_owned(),
            owner: chain.owner.clone(),
        }
    }

    pub fn isolation_fixtures(&self) -> BTreeMap<&'static str, (String, Value)> {
        BTreeMap::from([
            (
                "/api/v1/retail/reports/{id}",
                (self.report.clone(), json!({})),
            ),
            (
                "/api/v1/retail/reports/{id}/report.pdf",
                (self.report.clone(), json!({})),
            ),
            (
                "/api/v1/retail/reports/{id}/report.xlsx",
                (self.report.clone(), json!({})),
            ),
            (
                "/api/v1/retail/report-schedules/{id}",
                (self.schedule.clone(), json!({})),
            ),
        ])
    }

    /// The schedule survived org A's DELETE.
    pub async fn assert_untouched(&self, app: &TestApp) {
        let (s, b) = app
            .get(
                &format!("/api/v1/retail/report-schedules/{}", self.schedule),
                &self.owner,
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{b}");
    }
}

#[tokio::test]
async fn the_demo_chain_has_three_regions_twelve_stores_and_two_years_that_rebuild_identically() {
    let app = TestApp::spawn().await;
    let org = app.create_org("Demo").await;
    comptoir_catalog::demo::load(&app.state.db, org)
        .await
        .unwrap();
    let today: chrono::NaiveDate = "2026-07-15".parse().unwrap();
    let started = std::time::Instant::now();
    let summary = comptoir_retail::demo::load_chain(
        &app.state.db,
        org,
        today,
        comptoir_retail::demo::ChainOptions::default(),
    )
    .await
    .unwrap();
    eprintln!("demo chain: {summary:?} in {:?}", started.elapsed());
    assert_eq!((summary.regions, summary.stores), (3, 12));
    assert_eq!(summary.first_day.to_string(), "2024-07-01");
    assert_eq!(summary.last_day.to_string(), "2026-07-14");
    assert!(
        summary.returns > 0 && summary.returns * 20 < summary.receipts,
        "{summary:?}"
    );
    assert!(summary.receipts > 12 * 730 * 12, "{summary:?}");
    let e = comptoir_retail::demo::load_chain(
        &app.state.db,
        org,
        today,
        comptoir_retail::demo::ChainOptions::default(),
    )
    .await
    .unwrap_err();
    assert!(e.message.contains("already loaded"), "{}", e.message);

    let owner = app.token_for(org, Role::Director).await;
    let (_, regions) = app.get("/api/v1/retail/regions", &owner).await;
    assert_eq!(regions.as_array().unwrap().len(), 3);
    let (_, stores) = app.get("/api/v1/retail/stores", &owner).await;
    assert_eq!(stores.as_array().unwrap().len(), 12);
    let two_years = "/api/v1/retail/dashboard?from=2024-07&to=2026-06";
    let (s, d) = app.get(two_years, &owner).await;
    assert_eq!(s, StatusCode::OK, "{d}");
    let series = d["series"].as_array().unwrap();
    assert_eq!(series.len(), 24);
    for p in series {
        assert!(dec(&p["revenue_excl"]) > Decimal::ZERO, "{p}");
        assert!(dec(&p["target"]) > Decimal::ZERO, "{p}");
    }
    // Seasonality: December sells more than the February after it.
    let month = |m: &str| dec(&series.iter().find(|p| p["month"] == m).unwrap()["revenue_excl"]);
    assert!(month("2024-12") > month("2025-02") * Decimal::new(14, 1));
    assert_eq!(d["children"].as_array().unwrap().len(), 3);
    assert_eq!(d["stores"].as_array().unwrap().len(), 12);
    for s in d["stores"].as_array().unwrap() {
        let attainment = dec(&s["attainment_pct"]);
        assert!(
            attainment > Decimal::from(85) && attainment < Decimal::from(115),
            "{s}"
        );
    }
    assert!(dec(&d["figures"]["gross_margin_pct"]) > Decimal::from(15));
    // The rollups the write path maintained equal a rebuild from the lines.
    let before = crate::retail::rollup_snapshot(&app, org).await;
    let receipts = comptoir_retail::rollup::rebuild(&app.state.db, org)
        .await
        .unwrap();
    assert_eq!(receipts, summary.receipts);
    assert_eq!(crate::retail::rollup_snapshot(&app, org).await, before);
    let (_, after) = app.get(two_years, &owner).await;
    assert_eq!(after, d);
}

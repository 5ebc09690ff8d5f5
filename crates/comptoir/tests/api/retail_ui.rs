//! The retail web pages over plain HTTP, on the [`Chain`] fixture: the dashboard shows the
//! scope's figures, drills down one click at a time, its CSV links return the numbers on
//! screen; a regional manager sees their region only and gets a 404 page for another's
//! store; the what-if page projects and shows bad input next to its field; scenarios are
//! saved from it, listed, shown and compared.

use comptoir_kernel::auth::Role;
use comptoir_kernel::ids::OrgId;
use reqwest::StatusCode;
use rust_decimal::Decimal;
use uuid::Uuid;

use crate::helpers::TestApp;
use crate::retail::Chain;

/// A member with a role (and region or store), signed in through the web form.
async fn web_member(
    app: &TestApp,
    org: OrgId,
    role: Role,
    region: Option<&str>,
    store: Option<&str>,
) -> reqwest::Client {
    let (email, _) = crate::retail::scoped_member(app, org, role, region, store).await;
    let (b, r) = app.web_sign_in(&email, "/retail").await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    b
}

async fn get(app: &TestApp, b: &reqwest::Client, path: &str) -> (StatusCode, String) {
    let r = b.get(app.url(path)).send().await.unwrap();
    (r.status(), r.text().await.unwrap())
}

/// An attribute value as the page wrote it, unescaped.
fn unescape(s: &str) -> String {
    s.replace("&#x2f;", "/")
        .replace("&amp;", "&")
        .replace("&quot;", "\"")
}

/// The `data-value` of the element with `data-testid`.
#[track_caller]
fn value(html: &str, testid: &str) -> String {
    let key = format!("data-testid=\"{testid}\" data-value=\"");
    let at = html
        .find(&key)
        .unwrap_or_else(|| panic!("no {testid} in {html}"))
        + key.len();
    html[at..].split('"').next().unwrap().to_owned()
}

/// The `data-value` of the element with `data-testid`, as a number.
#[track_caller]
fn num(html: &str, testid: &str) -> Decimal {
    let v = value(html, testid);
    v.parse()
        .unwrap_or_else(|_| panic!("{testid}: {v:?} is not a number"))
}

fn d(s: &str) -> Decimal {
    s.parse().unwrap()
}

/// The text shown by the element with `data-testid` (up to the next tag).
#[track_caller]
fn shown(html: &str, testid: &str) -> String {
    let key = format!("data-testid=\"{testid}\"");
    let at = html
        .find(&key)
        .unwrap_or_else(|| panic!("no {testid} in {html}"));
    let rest = &html[at..];
    let start = rest.find('>').unwrap() + 1;
    rest[start..].split('<').next().unwrap().to_owned()
}

/// The href of the element with `data-testid`.
#[track_caller]
fn href_of(html: &str, testid: &str) -> String {
    let key = format!("data-testid=\"{testid}\"");
    let end = html
        .find(&key)
        .unwrap_or_else(|| panic!("no {testid} in {html}"));
    let tag_start = html[..end].rfind("<a ").unwrap();
    let tag = &html[tag_start..end];
    let at = tag.find("href=\"").unwrap() + 6;
    unescape(tag[at..].split('"').next().unwrap())
}

/// The drill-down link of the row labelled `label`.
#[track_caller]
fn drill(html: &str, label: &str) -> String {
    let key = format!("data-testid=\"drill\">{label}</a>");
    let end = html
        .find(&key)
        .unwrap_or_else(|| panic!("no drill-down to {label} in {html}"));
    let tag_start = html[..end].rfind("<a href=\"").unwrap() + 9;
    unescape(html[tag_start..end].split('"').next().unwrap())
}

/// The section of the page from `data-testid="{testid}"` to the end of its table.
fn table<'a>(html: &'a str, testid: &str) -> &'a str {
    let at = html
        .find(&format!("data-testid=\"{testid}\""))
        .unwrap_or_else(|| panic!("no table {testid}"));
    let end = html[at..].find("</table>").unwrap();
    &html[at..at + end]
}

/// `metric → value` of a figures CSV.
fn csv_figures(csv: &str) -> std::collections::HashMap<String, String> {
    csv.lines()
        .skip(1)
        .filter_map(|l| l.split_once(','))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

#[tokio::test]
async fn the_dashboard_page_shows_the_scope_drills_down_and_exports_what_it_shows() {
    let app = TestApp::spawn().await;
    let org = app.create_org("Chain").await;
    let _chain = Chain::create(&app, org).await;
    let director = web_member(&app, org, Role::Director, None, None).await;

    // Signed out: the sign-in page.
    let r = crate::helpers::browser()
        .get(app.url("/retail"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    // The navigation leads here.
    let (_, home) = get(&app, &director, "/").await;
    assert!(
        home.contains("&#x2f;retail\" >Retail performance</a>"),
        "{home}"
    );

    let (s, html) = get(&app, &director, "/retail?from=2025-03&to=2025-04").await;
    assert_eq!(s, StatusCode::OK, "{html}");
    let expect = [
        ("kpi-revenue_excl", "24", "24.00"),
        ("kpi-gross_margin", "16", "16.00"),
        ("kpi-gross_margin_pct", "66.67", "66.67 % of revenue"),
        ("kpi-units", "19", "19"),
        ("kpi-transactions", "4", "4"),
        ("kpi-average_basket", "6.62", "6.62"),
        ("kpi-attainment_pct", "60", "60.00 %"),
        ("kpi-target", "40", "target 40.00"),
        ("kpi-growth_vs_previous_pct", "500", "+500.00 %"),
        ("kpi-growth_vs_last_year_pct", "200", "+200.00 %"),
    ];
    for (id, raw, text) in expect {
        assert_eq!(num(&html, id), raw.parse::<Decimal>().unwrap(), "{id}");
        assert_eq!(shown(&html, id), text, "{id}");
    }
    // The charts are inline SVG: two months of revenue bars under a target line, margin
    // by category, three stores ranked.
    assert_eq!(html.matches("<svg").count(), 3, "{html}");
    let revenue_chart = &html[html.find("data-testid=\"chart-revenue\"").unwrap()..];
    let revenue_chart = &revenue_chart[..revenue_chart.find("</svg>").unwrap()];
    assert_eq!(revenue_chart.matches("<rect class=\"bar\"").count(), 2);
    assert!(revenue_chart.contains("data-value=\"18\"") && revenue_chart.contains("<polyline"));
    assert!(
        html.contains("data-testid=\"chart-stores\"")
            && html.contains("data-testid=\"chart-categories\"")
    );

    // The CSV links return the numbers on screen.
    let csv_href = href_of(&html, "csv-figures");
    assert!(
        csv_href.starts_with("/api/v1/retail/dashboard.csv?from=2025-03&to=2025-04"),
        "{csv_href}"
    );
    let (s, csv) = get(&app, &director, &csv_href).await;
    assert_eq!(s, StatusCode::OK, "{csv}");
    let figures = csv_figures(&csv);
    for (id, raw, _) in expect {
        let metric = id.trim_start_matches("kpi-");
        assert_eq!(
            figures[metric].parse::<Decimal>().unwrap(),
            raw.parse::<Decimal>().unwrap(),
            "{metric}: {csv}"
        );
    }
    let (_, stores_csv) = get(&app, &director, &href_of(&html, "csv-stores")).await;
    let ranking = table(&html, "stores");
    for line in stores_csv.lines().skip(1) {
        let cells: Vec<&str> = line.split(',').collect();
        // id, code, label, revenue_excl, …: each row is on screen with the same revenue.
        assert!(
            ranking.contains(&format!("data-id=\"{}\"", cells[0]))
                && ranking.contains(&format!("data-value=\"{}\"", cells[3])),
            "{line} not in {ranking}"
        );
    }
    assert_eq!(stores_csv.lines().count(), 4, "{stores_csv}");

    // Drill down, one click per level: region → store → category → product.
    assert!(table(&html, "children").contains(">North</a>"));
    let (s, html) = get(&app, &director, &drill(&html, "North")).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(num(&html, "kpi-revenue_excl"), d("18"));
    assert!(
        html.contains("<strong aria-current=\"page\">Region North</strong>"),
        "{html}"
    );
    let children = table(&html, "children");
    assert!(children.contains(">Lille</a>") && children.contains(">Amiens</a>"));
    assert!(!children.contains("Marseille"));
    let (_, html) = get(&app, &director, &drill(&html, "Lille")).await;
    assert_eq!(num(&html, "kpi-revenue_excl"), d("12"));
    assert_eq!(num(&html, "kpi-growth_vs_last_year_pct"), d("50"));
    assert!(
        html.contains("Region North</a> › <strong aria-current=\"page\">Store Lille</strong>"),
        "{html}"
    );
    let (_, html) = get(&app, &director, &drill(&html, "Drinks")).await;
    assert_eq!(num(&html, "kpi-revenue_excl"), d("2"));
    assert_eq!(
        value(&html, "kpi-attainment_pct"),
        "",
        "no target below the store level"
    );
    let (s, html) = get(&app, &director, &drill(&html, "Cola")).await;
    assert_eq!(s, StatusCode::OK, "{html}");
    assert_eq!(num(&html, "kpi-units"), d("1"));
    assert!(
        html.contains("<strong aria-current=\"page\">Product Cola</strong>"),
        "{html}"
    );
    // The product's CSV is the product's figures.
    let (_, csv) = get(&app, &director, &href_of(&html, "csv-figures")).await;
    assert_eq!(d(&csv_figures(&csv)["revenue_excl"]), d("2"), "{csv}");

    // Bad input is shown on the form, never a 500.
    let (s, html) = get(&app, &director, "/retail?from=2025-13&to=2025-04").await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{html}");
    assert!(shown(&html, "error-from").contains("YYYY-MM"), "{html}");
    assert!(!html.contains("kpi-revenue_excl"));
    let (s, html) = get(&app, &director, "/retail?from=2025-05&to=2025-04").await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(shown(&html, "error-from").contains("after"), "{html}");
    let (s, html) = get(&app, &director, "/retail?store_id=not-an-id").await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(html.contains("not an id"), "{html}");
    let (s, _) = get(
        &app,
        &director,
        &format!("/retail?store_id={}", Uuid::now_v7()),
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_regional_manager_sees_their_region_and_another_regions_store_is_a_404_page() {
    let app = TestApp::spawn().await;
    let org = app.create_org("Chain").await;
    let c = Chain::create(&app, org).await;
    let rm = web_member(&app, org, Role::RegionalManager, Some(&c.north), None).await;

    let (s, html) = get(&app, &rm, "/retail?from=2025-03&to=2025-04").await;
    assert_eq!(s, StatusCode::OK, "{html}");
    assert_eq!(num(&html, "kpi-revenue_excl"), d("18"));
    assert_eq!(num(&html, "kpi-attainment_pct"), d("45"));
    assert!(
        !html.contains("Marseille") && !html.contains("South"),
        "{html}"
    );
    // They land on their region: its stores are one click away.
    assert!(
        html.contains("<strong aria-current=\"page\">Region North</strong>")
            && !html.contains("Whole chain"),
        "{html}"
    );
    assert!(table(&html, "children").contains(">Lille</a>"));
    let ranking = table(&html, "stores");
    assert!(ranking.find(">Lille</a>").unwrap() < ranking.find(">Amiens</a>").unwrap());
    let (_, csv) = get(&app, &rm, &href_of(&html, "csv-figures")).await;
    assert_eq!(d(&csv_figures(&csv)["revenue_excl"]), d("18"), "{csv}");
    // Drill into one of their stores.
    let (_, html) = get(&app, &rm, &drill(&html, "Amiens")).await;
    assert_eq!(num(&html, "kpi-revenue_excl"), d("6"));
    assert_eq!(num(&html, "kpi-attainment_pct"), d("30"));

    // Another region's store or the other region: a 404 page, never their figures.
    for path in [
        format!("/retail?store_id={}", c.s1),
        format!("/retail?from=2025-03&to=2025-04&store_id={}", c.s1),
        format!("/retail?region_id={}", c.south),
        format!("/retail?region_id={}&store_id={}", c.north, c.s1),
        format!(
            "/retail/whatif?run=1&from=2026-03&months=2&scope=store:{}",
            c.s1
        ),
        format!(
            "/retail/whatif?run=1&from=2026-03&months=2&scope=region:{}",
            c.south
        ),
        format!(
            "/retail/whatif.csv?run=1&from=2026-03&months=2&scope=store:{}",
            c.s1
        ),
    ] {
        let (s, html) = get(&app, &rm, &path).await;
        assert_eq!(s, StatusCode::NOT_FOUND, "{path}: {html}");
        assert!(
            html.contains("error-message") && !html.contains("Marseille"),
            "{path}"
        );
    }
    let (s, _) = get(
        &app,
        &rm,
        &format!("/api/v1/retail/dashboard.csv?store_id={}", c.s1),
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND);

    // A store manager lands on their store; a neighbour's is a 404 page too.
    let sm = web_member(&app, org, Role::StoreManager, None, Some(&c.n1)).await;
    let (s, html) = get(&app, &sm, "/retail?from=2025-03&to=2025-04").await;
    assert_eq!(s, StatusCode::OK, "{html}");
    assert_eq!(num(&html, "kpi-revenue_excl"), d("12"));
    assert!(
        html.contains("<strong aria-current=\"page\">Store Lille</strong>"),
        "{html}"
    );
    assert!(!html.contains("Amiens"), "{html}");
    let (s, _) = get(&app, &sm, &format!("/retail?store_id={}", c.n2)).await;
    assert_eq!(s, StatusCode::NOT_FOUND);

    // An operator sees no retail figures.
    let op = web_member(&app, org, Role::Operator, None, None).await;
    let (s, _) = get(&app, &op, "/retail").await;
    assert_eq!(s, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn the_what_if_page_projects_and_shows_bad_input_on_its_fields() {
    let app = TestApp::spawn().await;
    let org = app.create_org("Chain").await;
    let c = Chain::create(&app, org).await;
    let director = web_member(&app, org, Role::Director, None, None).await;
    let (s, html) = get(&app, &director, "/retail/whatif").await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        html.contains("data-testid=\"whatif-form\"")
            && !html.contains("data-testid=\"projection\"")
    );
    assert!(html.contains(&format!("value=\"store:{}\"", c.s1)));

    // All levers at zero: the projection is last year's same months.
    let base = "/retail/whatif?run=1&from=2026-03&months=2";
    let (s, html) = get(&app, &director, base).await;
    assert_eq!(s, StatusCode::OK, "{html}");
    assert_eq!(num(&html, "baseline-revenue"), d("24"));
    assert_eq!(num(&html, "projected-revenue"), d("24"));
    assert_eq!(num(&html, "projected-margin"), d("16"));
    // +10 % price at elasticity 0 (typed with a decimal comma): +10 % revenue.
    let (s, html) = get(&app, &director, &format!("{base}&price=10&elasticity=0,0")).await;
    assert_eq!(s, StatusCode::OK, "{html}");
    assert_eq!(num(&html, "projected-revenue"), d("26.40"));
    assert_eq!(shown(&html, "projected-revenue"), "26.40");
    let stores = table(&html, "whatif-stores");
    assert_eq!(
        stores.matches("data-testid=\"store-row\"").count(),
        3,
        "{stores}"
    );
    assert!(table(&html, "whatif-regions").contains("North"));
    assert!(html.contains("data-testid=\"chart-sensitivity\"") && html.contains("price +1 pt"));
    // The CSV links repeat the form and return the numbers on screen.
    let (s, csv) = get(&app, &director, &href_of(&html, "csv-outcomes")).await;
    assert_eq!(s, StatusCode::OK, "{csv}");
    let rows: Vec<Vec<&str>> = csv
        .lines()
        .skip(1)
        .map(|l| l.split(',').collect())
        .collect();
    assert_eq!(rows.len(), 1 + 2 + 3, "total, 2 regions, 3 stores: {csv}");
    assert_eq!(
        (rows[0][0], d(rows[0][4]), d(rows[0][5])),
        ("total", d("24"), d("26.4"))
    );
    for r in &rows[1..] {
        assert!(
            html.contains(&format!("data-id=\"{}\"", r[1]))
                && html.contains(&format!("data-value=\"{}\"", r[5])),
            "{r:?} is on screen"
        );
    }
    let (_, csv) = get(&app, &director, &href_of(&html, "csv-sensitivity")).await;
    assert!(csv.starts_with("lever,margin_change\nprice,"), "{csv}");
    assert_eq!(csv.lines().count(), 4, "{csv}");
    let (s, _) = get(
        &app,
        &director,
        "/retail/whatif.csv?run=1&from=2026-03&months=2&part=pie",
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    let (s, html) = get(
        &app,
        &director,
        "/retail/whatif.csv?run=1&from=2026-03&months=99",
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("months"), "{html}");

    // On one store only: the others keep their baseline.
    let (_, html) = get(
        &app,
        &director,
        &format!("{base}&price=10&elasticity=0&scope=store:{}", c.s1),
    )
    .await;
    assert_eq!(num(&html, "projected-revenue"), d("24.60"));

    // On the forecast baseline: the page shows what the API's what-if computes.
    let (s, html) = get(&app, &director, &format!("{base}&baseline=forecast")).await;
    assert_eq!(s, StatusCode::OK, "{html}");
    assert_eq!(shown(&html, "projection-baseline"), "on the forecast");
    assert!(
        html.contains("<option value=\"forecast\" selected>"),
        "{html}"
    );
    let (s, api) = app
        .post(
            "/api/v1/retail/whatif",
            &c.owner,
            serde_json::json!({"from": "2026-03", "months": 2, "baseline": "forecast"}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{api}");
    assert_eq!(
        num(&html, "baseline-revenue"),
        d(api["total"]["baseline_revenue"].as_str().unwrap())
    );
    assert_eq!(
        num(&html, "projected-revenue"),
        num(&html, "baseline-revenue")
    );
    assert!(href_of(&html, "csv-outcomes").contains("baseline=forecast"));

    // Bad input: a 400 with the reason next to the field, the form kept as typed.
    for (query, field, reason) in [
        ("&price=ten", "price", "not a number"),
        ("&price=-500", "price", "from -99.99 to 1000"),
        ("&elasticity=5000", "elasticity", "from -100 to 100"),
        ("&baseline=psychic", "baseline", "last year or forecast"),
        ("&months=99", "months", "1 to 36"),
        ("&months=two", "months", "whole number"),
        ("&scope=warp", "scope", "from the list"),
    ] {
        let path = format!("{base}{query}").replace("&months=2&months", "&months");
        let (s, html) = get(&app, &director, &path).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{path}: {html}");
        assert!(
            shown(&html, &format!("error-{field}")).contains(reason),
            "{path}: {html}"
        );
        assert!(!html.contains("data-testid=\"projection\""));
    }
    let (s, html) = get(
        &app,
        &director,
        "/retail/whatif?run=1&from=soon&months=2&price=ten",
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(
        html.contains("value=\"ten\""),
        "the form keeps what was typed"
    );
    assert!(shown(&html, "error-price").contains("not a number"));
    assert!(shown(&html, "error-from").contains("YYYY-MM"), "{html}");
}

#[tokio::test]
async fn scenarios_are_saved_from_the_what_if_shown_and_compared() {
    let app = TestApp::spawn().await;
    let org = app.create_org("Chain").await;
    let c = Chain::create(&app, org).await;
    let director = web_member(&app, org, Role::Director, None, None).await;
    let (s, html) = get(&app, &director, "/retail/scenarios").await;
    assert_eq!(s, StatusCode::OK);
    assert!(html.contains("data-testid=\"no-scenarios\""), "{html}");

    // The what-if page offers to save what it projects, with the form's own fields.
    let run = "/retail/whatif?run=1&from=2026-03&months=2&price=10&elasticity=0";
    let (_, html) = get(&app, &director, run).await;
    assert!(html.contains("data-testid=\"save-form\""), "{html}");
    let token = crate::helpers::csrf(&html);
    let fields = |name: &str| {
        vec![
            ("csrf_token", token.clone()),
            ("from", "2026-03".to_owned()),
            ("months", "2".to_owned()),
            ("price", "10".to_owned()),
            ("elasticity", "0".to_owned()),
            ("name", name.to_owned()),
            ("description", "Ten percent up".to_owned()),
        ]
    };
    // Without the CSRF token nothing is saved.
    let r = director
        .post(app.url("/retail/scenarios"))
        .form(&fields("Price up")[1..])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    // A blank name: the page again, the error on the name, the projection still there.
    let r = director
        .post(app.url("/retail/scenarios"))
        .form(&fields(" "))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let html = r.text().await.unwrap();
    assert!(shown(&html, "error-name").contains("1 to 200"), "{html}");
    assert_eq!(num(&html, "projected-revenue"), d("26.40"));
    let (_, list) = get(&app, &director, "/retail/scenarios").await;
    assert!(list.contains("no-scenarios"), "nothing was saved: {list}");

    let r = director
        .post(app.url("/retail/scenarios"))
        .form(&fields("Price up"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let page = r.headers()["location"].to_str().unwrap().to_owned();
    assert!(page.ends_with("?saved=1"), "{page}");
    let id = page
        .trim_start_matches("/retail/scenarios/")
        .trim_end_matches("?saved=1")
        .to_owned();
    let (s, html) = get(&app, &director, &page).await;
    assert_eq!(s, StatusCode::OK, "{html}");
    assert_eq!(shown(&html, "scenario-name"), "Price up");
    assert!(html.contains("data-testid=\"saved\""));
    assert!(html.contains("Price +10 % on everything"), "{html}");
    assert!(html.contains("Price elasticity 0 on everything"), "{html}");
    assert_eq!(num(&html, "projected-revenue"), d("26.40"));
    // The API sees the same scenario.
    let (s, api) = app
        .get(&format!("/api/v1/retail/scenarios/{id}"), &c.owner)
        .await;
    assert_eq!(s, StatusCode::OK, "{api}");
    assert_eq!(
        (api["name"].as_str(), api["months"].as_u64()),
        (Some("Price up"), Some(2))
    );

    // A second scenario, and a new version of the first, through the API.
    let (s, other) = app
        .post(
            "/api/v1/retail/scenarios",
            &c.owner,
            serde_json::json!({"name": "North volume", "from": "2026-03", "months": 2,
                "levers": [{"kind": "volume", "pct": 50, "scope": {"region_id": c.north}}]}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{other}");
    let other = other["id"].as_str().unwrap().to_owned();
    let (s, b) = app
        .call(
            reqwest::Method::PUT,
            &format!("/api/v1/retail/scenarios/{id}"),
            Some(&c.owner),
            Some(
                serde_json::json!({"name": "Price up more", "from": "2026-03", "months": 2,
                "levers": [{"kind": "price", "pct": 20}, {"kind": "elasticity", "value": 0}]}),
            ),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    let (_, list) = get(&app, &director, "/retail/scenarios").await;
    assert_eq!(list.matches("data-testid=\"scenario-row\"").count(), 2);
    assert!(list.contains("Price up more") && list.contains("North volume"));
    let (_, v1) = get(
        &app,
        &director,
        &format!("/retail/scenarios/{id}?version=1"),
    )
    .await;
    assert!(
        shown(&v1, "scenario-version").starts_with("Version 1 of 2"),
        "{v1}"
    );
    assert_eq!(num(&v1, "projected-revenue"), d("26.40"));
    let (s, _) = get(
        &app,
        &director,
        &format!("/retail/scenarios/{id}?version=x"),
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);

    // Side by side: the figures are the API's comparison.
    let (s, html) = get(
        &app,
        &director,
        &format!("/retail/scenarios/compare?s={id}&s={other}&s={id}:1"),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{html}");
    let (_, api) = app
        .post(
            "/api/v1/retail/scenarios/compare",
            &c.owner,
            serde_json::json!({"scenarios": [{"id": id}, {"id": other}, {"id": id, "version": 1}]}),
        )
        .await;
    let shown_values: Vec<Decimal> = html
        .split("data-testid=\"projected-revenue\" data-value=\"")
        .skip(1)
        .map(|rest| d(rest.split('"').next().unwrap()))
        .collect();
    let api_values: Vec<Decimal> = api["scenarios"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| d(x["total"]["projected_revenue"].as_str().unwrap()))
        .collect();
    assert_eq!(shown_values, api_values);
    assert_eq!(shown_values[0], d("28.80"), "+20 % on 24");
    assert_eq!(
        table(&html, "compare-stores")
            .matches("data-testid=\"store-row\"")
            .count(),
        3
    );
    let (s, html) = get(
        &app,
        &director,
        &format!("/retail/scenarios/compare?s={id}"),
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(html.contains("Choose 2 to 4 scenarios"), "{html}");

    // An analyst reads and compares but is not offered to save, and cannot.
    let analyst = web_member(&app, org, Role::Analyst, None, None).await;
    let (_, html) = get(&app, &analyst, run).await;
    assert!(!html.contains("save-form"));
    let token = crate::helpers::csrf(&html);
    let r = analyst
        .post(app.url("/retail/scenarios"))
        .form(&[
            ("csrf_token", token.as_str()),
            ("from", "2026-03"),
            ("months", "2"),
            ("name", "Mine"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let (s, _) = get(&app, &analyst, &format!("/retail/scenarios/{other}")).await;
    assert_eq!(s, StatusCode::OK);

    // A South manager's scenario is not the North manager's to see.
    let south = web_member(&app, org, Role::RegionalManager, Some(&c.south), None).await;
    let (_, html) = get(&app, &south, "/retail/whatif?run=1&from=2026-03&months=1").await;
    let token = crate::helpers::csrf(&html);
    let r = south
        .post(app.url("/retail/scenarios"))
        .form(&[
            ("csrf_token", token.as_str()),
            ("from", "2026-03"),
            ("months", "1"),
            ("volume", "5"),
            ("name", "South push"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let south_page = r.headers()["location"]
        .to_str()
        .unwrap()
        .replace("?saved=1", "");
    let north = web_member(&app, org, Role::RegionalManager, Some(&c.north), None).await;
    let (s, _) = get(&app, &north, &south_page).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (_, list) = get(&app, &north, "/retail/scenarios").await;
    assert!(!list.contains("South push"));
}

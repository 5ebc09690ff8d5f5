//! The catalog's web pages over plain HTTP: navigation, list with search, product page,
//! edit form with validation messages and CSRF, import report.

use comptoir_kernel::auth::Role;
use reqwest::StatusCode;

use crate::catalog::CatalogFixture;
use crate::helpers::{PASSWORD, TestApp, csrf};

#[tokio::test]
async fn web_pages_list_show_edit_with_validation_messages() {
    let app = TestApp::spawn().await;
    let org = app.create_org("Boutique").await;
    let email = app.create_member(org, Role::Owner).await;
    let token = app.login(&email, PASSWORD).await["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let fx = CatalogFixture::create(&app, &token).await;
    let (b, r) = app.web_sign_in(&email, "/").await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);

    let html = app.page(&b, "/").await;
    assert!(
        html.contains("&#x2f;catalog\" >Catalog &amp; stock</a>"),
        "catalog is ready in the navigation: {html}"
    );
    let html = app.page(&b, "/catalog?q=fairphone&status=").await;
    assert!(html.contains("FP5-128"), "{html}");
    let html = app.page(&b, "/catalog?q=nothing-like-this").await;
    assert!(!html.contains("FP5-128"));
    let r = b
        .get(app.url(&format!("/catalog/products/{}", fx.product)))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let html = r.text().await.unwrap();
    assert!(
        html.contains("Fairphone 5 128 Go")
            && html.contains("Stock by location")
            && html.contains("storage_gb")
    );

    let html = app
        .page(&b, &format!("/catalog/products/{}/edit", fx.product))
        .await;
    let token_field = csrf(&html);
    let form = |price: &str| {
        vec![
            ("csrf_token", token_field.clone()),
            ("sku", "FP5-128".into()),
            ("name", "Fairphone 5".into()),
            ("sale_price", price.into()),
            ("product_type_id", fx.product_type.clone()),
            ("attributes", "storage_gb=256\nscreen_in=6,46".into()),
            ("status", "active".into()),
            ("currency", "EUR".into()),
            ("vat_rate", "20".into()),
        ]
    };
    let r = b
        .post(app.url(&format!("/catalog/products/{}", fx.product)))
        .form(&form("abc"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.unwrap();
    assert!(
        html.contains("sale_price") && html.contains("not a decimal number"),
        "{html}"
    );
    let r = b
        .post(app.url(&format!("/catalog/products/{}", fx.product)))
        .form(&form("649,90"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (_, p) = app
        .get(&format!("/api/v1/catalog/products/{}", fx.product), &token)
        .await;
    assert_eq!(
        (
            p["sale_price"].as_str(),
            p["attributes"]["storage_gb"].as_i64()
        ),
        (Some("649.9"), Some(256))
    );
    // Without the CSRF token nothing changes.
    let mut no_csrf = form("1");
    no_csrf.remove(0);
    let r = b
        .post(app.url(&format!("/catalog/products/{}", fx.product)))
        .form(&no_csrf)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);

    let html = app
        .page(&b, &format!("/catalog/imports/{}", fx.import))
        .await;
    assert!(
        html.contains("missing") || html.contains("must not be empty"),
        "{html}"
    );
    assert!(html.contains("<strong>1</strong> rejected"), "{html}");
}

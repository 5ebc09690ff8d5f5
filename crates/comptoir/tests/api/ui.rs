//! The web UI over plain HTTP (the browser test drives the same flow in Chromium).

use comptoir_kernel::auth::Role;
use reqwest::{StatusCode, header};

use crate::helpers::{PASSWORD, TestApp, browser, csrf};

#[tokio::test]
async fn sign_in_dashboard_keys_and_sign_out() {
    let app = TestApp::spawn().await;
    let org = app.create_org("Épicerie Fine").await;
    let email = app.create_member(org, Role::Owner).await;
    let b = browser();

    let r = b.get(app.url("/settings/members")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        r.headers()[header::LOCATION],
        "/login?next=%2Fsettings%2Fmembers"
    );

    let html = app.page(&b, "/login?next=/settings/members").await;
    let token = csrf(&html);
    // Without the CSRF token the form is refused.
    let r = b
        .post(app.url("/login"))
        .form(&[("email", email.as_str()), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let html = app.page(&b, "/login").await;
    let token2 = csrf(&html);
    assert_ne!(token, token2);
    let r = b
        .post(app.url("/login"))
        .form(&[
            ("csrf_token", token2.as_str()),
            ("email", email.as_str()),
            ("password", "wrong password"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert!(r.text().await.unwrap().contains("wrong e-mail or password"));

    let html = app.page(&b, "/login").await;
    let form = [
        ("csrf_token", csrf(&html)),
        ("email", email.clone()),
        ("password", PASSWORD.into()),
        ("next", "/settings/members".into()),
    ];
    let r = b.post(app.url("/login")).form(&form).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()[header::LOCATION], "/settings/members");
    let cookie = r
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|c| c.starts_with("comptoir_session="))
        .unwrap();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );

    let r = b.get(app.url("/")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(
        r.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("default-src 'self'")
    );
    let html = r.text().await.unwrap();
    assert!(
        html.contains("Épicerie Fine") && html.contains("Catalog &amp; stock"),
        "{html}"
    );
    let session_csrf = csrf(&html);

    // A form post with the wrong CSRF token changes nothing.
    let r = b
        .post(app.url("/settings/api-keys"))
        .form(&[("csrf_token", "forged"), ("name", "x")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    // Creating a key shows it once.
    let r = b
        .post(app.url("/settings/api-keys"))
        .form(&[
            ("csrf_token", session_csrf.as_str()),
            ("name", "<b>pos</b>"),
            ("access", "read"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let html = r.text().await.unwrap();
    let at = html.find("cpt_").expect("new key shown");
    let key = html[at..].split('<').next().unwrap().to_owned();
    assert!(
        html.contains("&lt;b&gt;pos&lt;&#x2f;b&gt;") || html.contains("&lt;b&gt;pos&lt;/b&gt;"),
        "names are escaped"
    );
    let (s, me) = app.get("/api/v1/me", &key).await;
    assert_eq!(
        (s, me["authenticated_by"].as_str()),
        (StatusCode::OK, Some("api_key"))
    );
    let html = app.page(&b, "/settings/api-keys").await;
    assert!(!html.contains(&key), "the key is never shown again");

    // The session cookie also works for the API (reads), and writes need X-CSRF-Token.
    let r = b.get(app.url("/api/v1/me")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let r = b
        .post(app.url("/api/v1/api-keys"))
        .json(&serde_json::json!({"name": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = b
        .post(app.url("/api/v1/api-keys"))
        .header("x-csrf-token", &session_csrf)
        .json(&serde_json::json!({"name": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);

    let r = b
        .post(app.url("/logout"))
        .form(&[("csrf_token", session_csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let r = b.get(app.url("/")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "signed out");
}

#[tokio::test]
async fn members_page_manages_members_and_unknown_pages_are_404() {
    let app = TestApp::spawn().await;
    let org = app.create_org("Org").await;
    let email = app.create_member(org, Role::Admin).await;
    let (b, _) = app.web_sign_in(&email, "/").await;
    let html = app.page(&b, "/settings/members").await;
    let token = csrf(&html);
    let add = [
        ("csrf_token", token.as_str()),
        ("email", "new@example.com"),
        ("password", "a long password"),
        ("role", "analyst"),
    ];
    let r = b
        .post(app.url("/settings/members"))
        .form(&add)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let html = app.page(&b, "/settings/members?done=added").await;
    assert!(html.contains("new@example.com") && html.contains("Member added."));
    assert!(
        !html.contains("<option value=\"owner\""),
        "an admin is not offered the owner role"
    );
    let bad = [
        ("csrf_token", token.as_str()),
        ("email", "not an email"),
        ("role", "analyst"),
    ];
    let r = b
        .post(app.url("/settings/members"))
        .form(&bad)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains("not a valid e-mail"));

    let r = b.get(app.url("/no/such/page")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    assert!(
        r.headers()[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
}

use comptoir_kernel::auth::Role;
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::{PASSWORD, TestApp, assert_error};

#[tokio::test]
async fn login_me_refresh_logout() {
    let app = TestApp::spawn().await;
    let org = app.create_org("Boutique Élise").await;
    let email = app.create_member(org, Role::Owner).await;

    let tokens = app.login(&email.to_uppercase(), PASSWORD).await;
    assert_eq!(tokens["token_type"], "Bearer");
    assert_eq!(tokens["expires_in"], 900);
    let access = tokens["access_token"].as_str().unwrap();
    let (s, me) = app.get("/api/v1/me", access).await;
    assert_eq!(s, StatusCode::OK, "{me}");
    assert_eq!(me["user"]["email"], email.as_str());
    assert_eq!(me["org"]["name"], "Boutique Élise");
    assert_eq!(me["org"]["id"], org.to_string());
    assert_eq!(me["role"], "owner");
    assert_eq!(me["authenticated_by"], "access_token");

    // A refresh token works exactly once.
    let refresh = tokens["refresh_token"].as_str().unwrap();
    let (s, pair) = app
        .call(
            Method::POST,
            "/api/v1/auth/refresh",
            None,
            Some(json!({"refresh_token": refresh})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{pair}");
    let (s, _) = app
        .get("/api/v1/me", pair["access_token"].as_str().unwrap())
        .await;
    assert_eq!(s, StatusCode::OK);
    let (s, b) = app
        .call(
            Method::POST,
            "/api/v1/auth/refresh",
            None,
            Some(json!({"refresh_token": refresh})),
        )
        .await;
    assert_error(s, &b, 401, "invalid_token");

    // Logout revokes the new refresh token.
    let second = pair["refresh_token"].as_str().unwrap();
    let (s, _) = app
        .call(
            Method::POST,
            "/api/v1/auth/logout",
            None,
            Some(json!({"refresh_token": second})),
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (s, b) = app
        .call(
            Method::POST,
            "/api/v1/auth/refresh",
            None,
            Some(json!({"refresh_token": second})),
        )
        .await;
    assert_error(s, &b, 401, "invalid_token");
}

#[tokio::test]
async fn wrong_credentials_and_bad_tokens_get_401() {
    let app = TestApp::spawn().await;
    let org = app.create_org("Org").await;
    let email = app.create_member(org, Role::Owner).await;
    for (e, p) in [
        (email.as_str(), "wrong password!"),
        ("nobody@example.com", PASSWORD),
    ] {
        let (s, b) = app
            .call(
                Method::POST,
                "/api/v1/auth/login",
                None,
                Some(json!({"email": e, "password": p})),
            )
            .await;
        assert_error(s, &b, 401, "invalid_credentials");
    }
    let (s, b) = app.call(Method::GET, "/api/v1/me", None, None).await;
    assert_error(s, &b, 401, "unauthenticated");
    let (s, b) = app.get("/api/v1/me", "not-a-jwt").await;
    assert_error(s, &b, 401, "invalid_token");

    // An expired token, signed with the app's own key.
    let user = {
        let tokens = app.login(&email, PASSWORD).await;
        let (_, me) = app
            .get("/api/v1/me", tokens["access_token"].as_str().unwrap())
            .await;
        me["user"]["id"].as_str().unwrap().parse().unwrap()
    };
    let old = app
        .state
        .jwt
        .issue_at(user, org, chrono::Utc::now() - chrono::Duration::hours(1))
        .unwrap();
    let (s, b) = app.get("/api/v1/me", &old).await;
    assert_error(s, &b, 401, "token_expired");

    // A token of a removed member stops working at once.
    let owner_token = app.login(&email, PASSWORD).await["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let other = app.token_for(org, Role::Operator).await;
    let (_, me) = app.get("/api/v1/me", &other).await;
    let (_, members) = app.get("/api/v1/members", &owner_token).await;
    let membership = members
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["user_id"] == me["user"]["id"])
        .unwrap()["id"]
        .clone();
    let (s, _) = app
        .call(
            Method::DELETE,
            &format!("/api/v1/members/{}", membership.as_str().unwrap()),
            Some(&owner_token),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (s, b) = app.get("/api/v1/me", &other).await;
    assert_error(s, &b, 401, "invalid_token");
}

#[tokio::test]
async fn sign_ins_are_audited() {
    let app = TestApp::spawn().await;
    let org = app.create_org("Org").await;
    let email = app.create_member(org, Role::Admin).await;
    let _ = app
        .call(
            Method::POST,
            "/api/v1/auth/login",
            None,
            Some(json!({"email": email, "password": "not the password"})),
        )
        .await;
    let token = app.login(&email, PASSWORD).await["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let (s, log) = app.get("/api/v1/audit", &token).await;
    assert_eq!(s, StatusCode::OK, "{log}");
    let actions: Vec<&str> = log
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert!(actions.contains(&"auth.login"), "{actions:?}");
    assert!(actions.contains(&"member.added"), "{actions:?}");
    let analyst = app.token_for(org, Role::Analyst).await;
    let (s, b) = app.get("/api/v1/audit", &analyst).await;
    assert_error(s, &b, 403, "forbidden");
}

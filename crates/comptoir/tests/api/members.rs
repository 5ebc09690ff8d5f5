use comptoir_kernel::auth::Role;
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::{TestApp, assert_error};

#[tokio::test]
async fn owners_manage_members_and_roles_apply_at_once() {
    let app = TestApp::spawn().await;
    let org = app.create_org("Org").await;
    let owner = app.token_for(org, Role::Owner).await;

    let (s, added) = app
        .post("/api/v1/members", &owner, json!({"email": "Ann@Example.com", "name": "Ann", "password": "a long password", "role": "admin"}))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{added}");
    assert_eq!(added["email"], "ann@example.com");
    let ann = app.login("ann@example.com", "a long password").await["access_token"]
        .as_str()
        .unwrap()
        .to_owned();

    // Admins can manage members but not make owners.
    let (s, b) = app
        .post(
            "/api/v1/members",
            &ann,
            json!({"email": "x@example.com", "password": "a long password", "role": "owner"}),
        )
        .await;
    assert_error(s, &b, 403, "forbidden");
    let (s, _) = app
        .post(
            "/api/v1/members",
            &ann,
            json!({"email": "bob@example.com", "password": "a long password", "role": "analyst"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED);
    let (s, b) = app
        .post(
            "/api/v1/members",
            &ann,
            json!({"email": "bob@example.com", "role": "analyst"}),
        )
        .await;
    assert_error(s, &b, 409, "already_exists");

    // Demoting Ann takes effect on her existing token.
    let path = format!("/api/v1/members/{}", added["id"].as_str().unwrap());
    let (s, changed) = app
        .call(
            Method::PATCH,
            &path,
            Some(&owner),
            Some(json!({"role": "analyst"})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{changed}");
    assert_eq!(changed["role"], "analyst");
    let (s, b) = app
        .post(
            "/api/v1/members",
            &ann,
            json!({"email": "c@example.com", "password": "a long password", "role": "analyst"}),
        )
        .await;
    assert_error(s, &b, 403, "forbidden");
    let (s, b) = app.call(Method::DELETE, &path, Some(&ann), None).await;
    assert_error(s, &b, 403, "forbidden");

    let (_, log) = app.get("/api/v1/audit", &owner).await;
    assert!(
        log.as_array()
            .unwrap()
            .iter()
            .any(|e| e["action"] == "member.role_changed" && e["details"]["to"] == "analyst"),
        "{log}"
    );
}

#[tokio::test]
async fn scope_fields_and_last_owner_are_enforced() {
    let app = TestApp::spawn().await;
    let org = app.create_org("Org").await;
    let owner = app.token_for(org, Role::Owner).await;
    let (s, b) = app.post("/api/v1/members", &owner, json!({"email": "r@example.com", "password": "a long password", "role": "regional_manager"})).await;
    assert_error(s, &b, 422, "validation_failed");
    assert_eq!(b["details"]["fields"][0]["field"], "region_id");
    let region = uuid::Uuid::now_v7();
    let (s, r) = app
        .post("/api/v1/members", &owner, json!({"email": "r@example.com", "password": "a long password", "role": "regional_manager", "region_id": region}))
        .await;
    assert_eq!(s, StatusCode::CREATED);
    assert_eq!(r["region_id"], region.to_string());
    let (s, b) = app
        .post(
            "/api/v1/members",
            &owner,
            json!({"email": "new@example.com", "role": "analyst"}),
        )
        .await;
    assert_error(s, &b, 422, "validation_failed");
    assert_eq!(b["details"]["fields"][0]["field"], "password");

    let (_, me) = app.get("/api/v1/me", &owner).await;
    let (_, list) = app.get("/api/v1/members", &owner).await;
    let mine = list
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["user_id"] == me["user"]["id"])
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (s, b) = app
        .call(
            Method::PATCH,
            &format!("/api/v1/members/{mine}"),
            Some(&owner),
            Some(json!({"role": "admin"})),
        )
        .await;
    assert_error(s, &b, 409, "conflict");
    let (s, b) = app
        .call(
            Method::DELETE,
            &format!("/api/v1/members/{mine}"),
            Some(&owner),
            None,
        )
        .await;
    assert_error(s, &b, 409, "conflict");
}

#[tokio::test]
async fn read_only_and_operational_roles_get_403_on_management() {
    let app = TestApp::spawn().await;
    let org = app.create_org("Org").await;
    for role in [
        Role::Analyst,
        Role::Operator,
        Role::Director,
        Role::StoreManager,
        Role::RegionalManager,
    ] {
        let token = app.token_for(org, role).await;
        let (s, list) = app.get("/api/v1/members", &token).await;
        assert_eq!(s, StatusCode::OK, "{role}: members are readable");
        let some_id = list[0]["id"].as_str().unwrap().to_owned();
        let (s, b) = app
            .post(
                "/api/v1/members",
                &token,
                json!({"email": "z@example.com", "password": "a long password", "role": "analyst"}),
            )
            .await;
        assert_error(s, &b, 403, "forbidden");
        let (s, b) = app
            .call(
                Method::PATCH,
                &format!("/api/v1/members/{some_id}"),
                Some(&token),
                Some(json!({"role": "analyst"})),
            )
            .await;
        assert_error(s, &b, 403, "forbidden");
        let (s, b) = app
            .call(
                Method::DELETE,
                &format!("/api/v1/members/{some_id}"),
                Some(&token),
                None,
            )
            .await;
        assert_error(s, &b, 403, "forbidden");
        let (s, b) = app.get("/api/v1/audit", &token).await;
        assert_error(s, &b, 403, "forbidden");
    }
}

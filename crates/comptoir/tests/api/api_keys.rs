use comptoir_kernel::auth::Role;
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::{TestApp, assert_error};

#[tokio::test]
async fn keys_are_shown_once_work_and_can_be_revoked() {
    let app = TestApp::spawn().await;
    let org = app.create_org("Org").await;
    let owner = app.token_for(org, Role::Owner).await;
    let (id, key) = app.api_key(&owner, json!({"name": "Shopify sync"})).await;
    assert!(key.starts_with("cpt_") && key.len() > 40, "{key}");

    // Listings never show the secret again, only its prefix.
    let (s, list) = app.get("/api/v1/api-keys", &owner).await;
    assert_eq!(s, StatusCode::OK);
    assert!(!list.to_string().contains(&key));
    let listed = list
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["id"] == id.as_str())
        .unwrap();
    assert_eq!(listed["prefix"], &key[..12]);
    assert_eq!(listed["scopes"], json!(["read", "write"]));
    assert!(listed["last_used_at"].is_null());

    // The key authenticates by bearer and by X-Api-Key, and its use is recorded.
    let (s, me) = app.get("/api/v1/me", &key).await;
    assert_eq!(s, StatusCode::OK, "{me}");
    assert_eq!(me["authenticated_by"], "api_key");
    let r = app
        .client
        .get(app.url("/api/v1/me"))
        .header("x-api-key", &key)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let (_, got) = app.get(&format!("/api/v1/api-keys/{id}"), &owner).await;
    assert!(got["last_used_at"].is_string(), "{got}");

    // Revoked: 401 at once.
    let (s, revoked) = app
        .call(
            Method::DELETE,
            &format!("/api/v1/api-keys/{id}"),
            Some(&owner),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    assert!(revoked["revoked_at"].is_string());
    let (s, b) = app.get("/api/v1/me", &key).await;
    assert_error(s, &b, 401, "invalid_token");

    let (_, log) = app.get("/api/v1/audit", &owner).await;
    let actions: Vec<&str> = log
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert!(
        actions.contains(&"api_key.created") && actions.contains(&"api_key.revoked"),
        "{actions:?}"
    );
}

#[tokio::test]
async fn scopes_and_roles_limit_keys() {
    let app = TestApp::spawn().await;
    let org = app.create_org("Org").await;
    let owner = app.token_for(org, Role::Owner).await;

    let (_, read_only) = app
        .api_key(&owner, json!({"name": "reporting", "scopes": ["read"]}))
        .await;
    let (s, _) = app.get("/api/v1/members", &read_only).await;
    assert_eq!(s, StatusCode::OK);
    let (s, b) = app
        .post("/api/v1/api-keys", &read_only, json!({"name": "x"}))
        .await;
    assert_error(s, &b, 403, "insufficient_scope");

    // An analyst key acts as an analyst even when an owner made it.
    let (_, analyst_key) = app
        .api_key(&owner, json!({"name": "bi", "role": "analyst"}))
        .await;
    let (_, me) = app.get("/api/v1/me", &analyst_key).await;
    assert_eq!(me["role"], "analyst");
    let (s, b) = app.get("/api/v1/audit", &analyst_key).await;
    assert_error(s, &b, 403, "forbidden");

    let analyst = app.token_for(org, Role::Analyst).await;
    let (s, b) = app
        .post(
            "/api/v1/api-keys",
            &analyst,
            json!({"name": "x", "scopes": ["write"]}),
        )
        .await;
    assert_error(s, &b, 422, "validation_failed");
    assert_eq!(b["details"]["fields"][0]["field"], "scopes");
    let operator = app.token_for(org, Role::Operator).await;
    let (s, b) = app
        .post(
            "/api/v1/api-keys",
            &operator,
            json!({"name": "x", "role": "admin"}),
        )
        .await;
    assert_error(s, &b, 403, "forbidden");
    let (s, b) = app
        .post(
            "/api/v1/api-keys",
            &owner,
            json!({"name": "x", "expires_in_days": 0}),
        )
        .await;
    assert_error(s, &b, 422, "validation_failed");

    // Members see their own keys only; owners see all.
    let (_, own) = app.api_key(&operator, json!({"name": "mine"})).await;
    let (_, list) = app.get("/api/v1/api-keys", &operator).await;
    assert_eq!(list.as_array().unwrap().len(), 1);
    let (_, all) = app.get("/api/v1/api-keys", &owner).await;
    assert_eq!(all.as_array().unwrap().len(), 3);
    let (s, _) = app.get("/api/v1/me", &own).await;
    assert_eq!(s, StatusCode::OK);
}

#[tokio::test]
async fn expired_keys_get_401() {
    let app = TestApp::spawn().await;
    let org = app.create_org("Org").await;
    let owner = app.token_for(org, Role::Owner).await;
    let (id, key) = app
        .api_key(&owner, json!({"name": "short", "expires_in_days": 1}))
        .await;
    use sea_orm::{ActiveModelTrait, EntityTrait, Set};
    let row =
        comptoir_kernel::entities::api_keys::Entity::find_by_id(id.parse::<uuid::Uuid>().unwrap())
            .one(&app.state.db)
            .await
            .unwrap()
            .unwrap();
    let mut active: comptoir_kernel::entities::api_keys::ActiveModel = row.into();
    active.expires_at = Set(Some(chrono::Utc::now() - chrono::Duration::minutes(1)));
    active.update(&app.state.db).await.unwrap();
    let (s, b) = app.get("/api/v1/me", &key).await;
    assert_error(s, &b, 401, "token_expired");
}

//! Bad input on every endpoint of the OpenAPI document: malformed JSON, invalid UTF-8,
//! wrong content type, 10 MB bodies, wrong types, unknown fields, SQL/HTML injection
//! strings, garbage path and query parameters. Each must get a 4xx with a stable code —
//! never a 5xx — and the data must survive.

use comptoir_kernel::auth::Role;
use reqwest::{Method, StatusCode, header};
use serde_json::{Map, Value, json};

use crate::helpers::{PASSWORD, TestApp};

const CODES: &[&str] = &[
    "validation_failed",
    "inconsistent_weights",
    "malformed_json",
    "invalid_parameter",
    "bad_request",
    "unsupported_media_type",
    "payload_too_large",
    "unauthenticated",
    "invalid_credentials",
    "invalid_token",
    "token_expired",
    "forbidden",
    "insufficient_scope",
    "csrf_failed",
    "not_found",
    "route_not_found",
    "method_not_allowed",
    "already_exists",
    "rate_limited",
    "conflict",
    "invalid_transition",
];
const INJECTIONS: &[&str] = &[
    "' OR '1'='1' --",
    "\"; DROP TABLE users; --",
    "<script>alert(1)</script>",
    "\u{0}\u{1b}[31m",
    "../../etc/passwd",
];

fn resolve<'a>(spec: &'a Value, schema: &'a Value) -> &'a Value {
    match schema.get("$ref").and_then(Value::as_str) {
        Some(r) => spec
            .pointer(r.trim_start_matches('#'))
            .unwrap_or(&Value::Null),
        None => schema,
    }
}

/// Bodies that are JSON but wrong for the schema.
fn wrong_bodies(spec: &Value, op: &Value) -> Vec<Value> {
    let mut bodies = vec![
        json!(42),
        json!([]),
        json!(null),
        json!({"definitely_unknown_field": 1}),
    ];
    let schema = resolve(
        spec,
        &op["requestBody"]["content"]["application/json"]["schema"],
    );
    if let Some(props) = schema["properties"].as_object() {
        for injection in INJECTIONS {
            bodies.push(Value::Object(
                props
                    .keys()
                    .map(|k| (k.clone(), json!(injection)))
                    .collect::<Map<_, _>>(),
            ));
        }
        // Every property with the wrong type.
        bodies.push(Value::Object(
            props
                .keys()
                .map(|k| (k.clone(), json!({"nested": [true]})))
                .collect(),
        ));
        bodies.push(Value::Object(
            props.keys().map(|k| (k.clone(), json!(-1.5e300))).collect(),
        ));
    }
    bodies
}

#[track_caller]
fn assert_clean_4xx(what: &str, status: StatusCode, ct: Option<String>, text: &str) {
    assert!(status.is_client_error(), "{what}: got {status}: {text}");
    assert!(
        ct.as_deref()
            .is_some_and(|c| c.starts_with("application/json")),
        "{what}: content type {ct:?}"
    );
    let body: Value =
        serde_json::from_str(text).unwrap_or_else(|_| panic!("{what}: not JSON: {text}"));
    let code = body["code"].as_str().unwrap_or_default();
    assert!(
        CODES.contains(&code),
        "{what}: unexpected code {code}: {text}"
    );
}

#[tokio::test]
async fn every_endpoint_answers_bad_input_with_a_clean_4xx() {
    let app = TestApp::spawn().await;
    let org = app.create_org("Org").await;
    let email = app.create_member(org, Role::Owner).await;
    let token = app.login(&email, PASSWORD).await["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let (_, spec) = app.call(Method::GET, "/api/openapi.json", None, None).await;
    let some_id = uuid::Uuid::now_v7().to_string();
    let huge = format!("{{\"name\": \"{}\"}}", "a".repeat(10 * 1024 * 1024));
    let mut requests = 0;

    for (template, item) in spec["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let method: Method = method.to_uppercase().parse().unwrap();
            let path = template.replace("{id}", &some_id);
            let send = |path: String, ct: &'static str, body: Vec<u8>| {
                let rb = app.request(method.clone(), &path, Some(&token));
                let rb = if body.is_empty() {
                    rb
                } else {
                    rb.header(header::CONTENT_TYPE, ct).body(body)
                };
                async move {
                    let r = rb.send().await.unwrap();
                    let ct = r
                        .headers()
                        .get(header::CONTENT_TYPE)
                        .map(|v| v.to_str().unwrap().to_owned());
                    (r.status(), ct, r.text().await.unwrap())
                }
            };
            if template.contains('{') {
                for bad in [
                    "not-a-uuid",
                    "%27%20OR%201%3D1--",
                    "%3Cscript%3E",
                    "..%2F..%2Fetc",
                ] {
                    let (s, ct, text) = send(template.replace("{id}", bad), "", vec![]).await;
                    assert_clean_4xx(&format!("{method} {template} with id {bad}"), s, ct, &text);
                    requests += 1;
                }
            }
            if let Some(params) = op["parameters"].as_array() {
                for p in params.iter().filter(|p| p["in"] == "query") {
                    let name = p["name"].as_str().unwrap();
                    let (s, ct, text) =
                        send(format!("{path}?{name}=%27%3B--&{name}=x"), "", vec![]).await;
                    if !s.is_success() {
                        assert_clean_4xx(&format!("{method} {template}?{name}"), s, ct, &text);
                    }
                    requests += 1;
                }
            }
            if op.get("requestBody").is_none() {
                continue;
            }
            let cases: Vec<(&str, &'static str, Vec<u8>)> = vec![
                (
                    "malformed JSON",
                    "application/json",
                    b"{\"email\": ".to_vec(),
                ),
                (
                    "invalid UTF-8",
                    "application/json",
                    b"{\"email\": \"\xff\xfe\"}".to_vec(),
                ),
                ("wrong content type", "text/plain", b"{}".to_vec()),
                (
                    "form content type",
                    "application/x-www-form-urlencoded",
                    b"a=b".to_vec(),
                ),
                ("10 MB body", "application/json", huge.clone().into_bytes()),
            ];
            for (what, ct_in, body) in cases {
                let (s, ct, text) = send(path.clone(), ct_in, body).await;
                assert_clean_4xx(&format!("{method} {template}: {what}"), s, ct, &text);
                requests += 1;
            }
            for body in wrong_bodies(&spec, op) {
                let (s, ct, text) = send(
                    path.clone(),
                    "application/json",
                    serde_json::to_vec(&body).unwrap(),
                )
                .await;
                // Injection strings may be *valid* for a free-text field; then success is
                // fine, as long as nothing breaks. Anything else must be a clean 4xx.
                if !s.is_success() {
                    assert_clean_4xx(&format!("{method} {template}: {body}"), s, ct, &text);
                }
                requests += 1;
            }
        }
    }
    assert!(requests > 100, "only {requests} requests sent");

    // Nothing was lost: the owner still signs in and is still the owner.
    let token = app.login(&email, PASSWORD).await["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let (s, me) = app.get("/api/v1/me", &token).await;
    assert_eq!((s, me["role"].as_str()), (StatusCode::OK, Some("owner")));
    let (_, members) = app.get("/api/v1/members", &token).await;
    assert!(
        members
            .as_array()
            .unwrap()
            .iter()
            .all(|m| !m["email"].as_str().unwrap().contains("script")),
        "{members}"
    );
}

#[tokio::test]
async fn unknown_routes_and_methods_are_json_errors() {
    let app = TestApp::spawn().await;
    let (s, b) = app.call(Method::GET, "/api/v1/nope", None, None).await;
    crate::helpers::assert_error(s, &b, 404, "route_not_found");
    let (s, b) = app
        .call(Method::PUT, "/api/v1/health/live", None, None)
        .await;
    crate::helpers::assert_error(s, &b, 405, "method_not_allowed");
}

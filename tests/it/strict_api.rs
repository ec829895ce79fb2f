//! The API reads every JSON body strictly, and the smaller hardening points of issue 17:
//! malformed bodies, duplicate keys, long lists, Bearer parsing, SCEP read limits.

use crate::common::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

/// Posts `body` as raw JSON text (what `Page::send` cannot: it only sends valid JSON).
async fn post_text(d: &TestDaemon, page: &Page, path: &str, body: &str) -> (StatusCode, Value) {
    let r = page
        .client
        .post(d.url(path))
        .header("X-CSRF-Token", &page.csrf)
        .header("Content-Type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    let status = r.status();
    (status, r.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn a_malformed_key_request_is_refused_not_taken_for_an_empty_one() {
    let d = TestDaemon::start().await;
    let page = d.setup_admin().await;
    let (s, e) = post_text(&d, &page, "/api/v1/tokens/keys", r#"{"for_token":123}"#).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{e}");
    assert_eq!(e["field"], "for_token", "{e}");
    assert!(e["message"].as_str().unwrap().contains("expected a string"), "{e}");
    let (s, e) = post_text(&d, &page, "/api/v1/tokens/keys", "not json").await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{e}");
    assert!(e["message"].as_str().unwrap().contains("not what this endpoint expects"), "{e}");
    let (s, e) = post_text(&d, &page, "/api/v1/tokens/keys", r#"{"for_tokn":"x"}"#).await;
    assert_eq!((s, e["field"].as_str()), (StatusCode::BAD_REQUEST, Some("for_tokn")), "{e}");
    let (_, keys) = page.get("/api/v1/tokens/keys").await;
    assert_eq!(keys["total"], 0, "no key was made for a refused body");
    // No body at all still means "a key for a new token".
    let r = page.client.post(d.url("/api/v1/tokens/keys")).header("X-CSRF-Token", &page.csrf);
    assert_eq!(r.send().await.unwrap().status(), StatusCode::CREATED);
}

#[tokio::test]
async fn profile_json_with_a_duplicate_key_or_a_huge_list_is_refused() {
    let d = TestDaemon::start().await;
    let page = d.setup_admin().await;
    let dup = r#"{"name":"A","name":"B","platforms":["ios"]}"#;
    let (s, e) = post_text(&d, &page, "/api/v1/profiles/validate", dup).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{e}");
    assert_eq!(e["field"], "name", "{e}");
    assert!(e["message"].as_str().unwrap().contains("given twice"), "{e}");
    let huge = json!({"name": "A", "platforms": vec!["ios"; 20_000]});
    let (s, e) = page.post("/api/v1/profiles", huge).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{e}");
    assert_eq!(e["field"], "platforms", "{e}");
    let (_, list) = page.get("/api/v1/profiles").await;
    assert_eq!(list["total"], 0);
}

#[tokio::test]
async fn a_bearer_token_with_extra_spaces_is_refused() {
    let d = TestDaemon::start().await;
    let page = d.setup_admin().await;
    let (_, created) = page.post("/api/v1/admin/api-tokens", json!({"name": "script"})).await;
    let token = created["token"].as_str().unwrap().to_string();
    let script = d.client();
    let send = |header: String| {
        let req = script.get(d.url("/api/v1/status")).header("Authorization", header);
        async move { req.send().await.unwrap().status() }
    };
    assert_eq!(send(format!("Bearer {token}")).await, StatusCode::OK);
    for bad in
        [format!("Bearer  {token}  "), format!("Bearer  {token}"), format!("Bearer {token} ")]
    {
        assert_eq!(send(bad.clone()).await, StatusCode::UNAUTHORIZED, "{bad:?}");
    }
}

#[tokio::test]
async fn scep_get_ca_caps_and_get_ca_cert_are_limited_per_client() {
    let dir = tempfile::tempdir().unwrap();
    let mut opts = options(dir.path(), adebox::daemon::Mode::Production);
    opts.scep_per_client_per_minute = 3;
    let d = TestDaemon::start_with(dir, opts).await;
    let client = d.client();
    let mut statuses = Vec::new();
    for op in ["GetCACaps", "GetCACert", "GetCACaps", "GetCACert"] {
        let r = client.get(d.url(&format!("/scep?operation={op}"))).send().await.unwrap();
        statuses.push((r.status(), r.headers().contains_key("retry-after")));
    }
    assert_eq!(statuses[..3], [(StatusCode::OK, false); 3]);
    assert_eq!(statuses[3], (StatusCode::TOO_MANY_REQUESTS, true));
}

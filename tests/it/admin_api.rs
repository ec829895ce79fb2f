use crate::common::*;
use reqwest::{Method, StatusCode};
use serde_json::json;

#[tokio::test]
async fn first_run_setup_needs_the_code_and_happens_once() {
    let d = TestDaemon::start().await;
    let anon = Page { client: d.client(), base: d.base.clone(), csrf: String::new() };
    let (s, body) = anon.get("/api/v1/admin/setup").await;
    assert_eq!((s, body["setup_required"].as_bool()), (StatusCode::OK, Some(true)));

    let (s, body) = anon
        .post(
            "/api/v1/admin/setup",
            json!({"setup_code": "AAAA-BBBB-CCCC-DDDD", "username": "alice", "password": PASSWORD}),
        )
        .await;
    assert_eq!((s, body["error"].as_str()), (StatusCode::UNAUTHORIZED, Some("bad_setup_code")));

    let code = d.running().setup_code.as_ref().unwrap().expose().clone();
    let (s, body) = anon
        .post(
            "/api/v1/admin/setup",
            json!({"setup_code": code, "username": "alice", "password": "short"}),
        )
        .await;
    assert_eq!((s, body["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("password")));

    let page = d.setup_admin().await;
    let (s, body) = page.get("/api/v1/admin/session").await;
    assert_eq!((s, body["user"].as_str()), (StatusCode::OK, Some("alice")));
    let (_, body) = anon.get("/api/v1/admin/setup").await;
    assert_eq!(body["setup_required"].as_bool(), Some(false));
    let (s, body) = anon
        .post(
            "/api/v1/admin/setup",
            json!({"setup_code": code, "username": "eve", "password": PASSWORD}),
        )
        .await;
    assert_eq!((s, body["error"].as_str()), (StatusCode::CONFLICT, Some("setup_done")));
}

#[tokio::test]
async fn the_session_cookie_is_secure_httponly_and_strict() {
    let d = TestDaemon::start().await;
    d.setup_admin().await;
    let resp = d
        .client()
        .post(d.url("/api/v1/admin/login"))
        .json(&json!({"username": "alice", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    let cookie = resp.headers().get("set-cookie").unwrap().to_str().unwrap().to_string();
    for part in ["adebox_session=", "Secure", "HttpOnly", "SameSite=Strict", "Max-Age="] {
        assert!(cookie.contains(part), "{cookie}");
    }
}

#[tokio::test]
async fn login_locks_out_an_address_after_repeated_failures() {
    let d = TestDaemon::start().await;
    d.setup_admin().await;
    for _ in 0..4 {
        let (s, body, _) = d.login("alice", "wrong password!").await;
        assert_eq!(
            (s, body["error"].as_str()),
            (StatusCode::UNAUTHORIZED, Some("bad_credentials"))
        );
    }
    let (s, body, _) = d.login("alice", "wrong password!").await;
    assert_eq!((s, body["error"].as_str()), (StatusCode::TOO_MANY_REQUESTS, Some("locked_out")));
    assert!(body["retry_after_s"].as_i64().unwrap() > 0);
    let (s, _, _) = d.login("alice", PASSWORD).await;
    assert_eq!(
        s,
        StatusCode::TOO_MANY_REQUESTS,
        "the right password is refused during the lockout"
    );
}

#[tokio::test]
async fn changes_without_the_csrf_token_are_refused() {
    let d = TestDaemon::start().await;
    let page = d.setup_admin().await;
    let no_csrf =
        Page { csrf: String::new(), client: page.client.clone(), base: page.base.clone() };
    let (s, body) = no_csrf.post("/api/v1/admin/api-tokens", json!({"name": "x"})).await;
    assert_eq!((s, body["error"].as_str()), (StatusCode::FORBIDDEN, Some("csrf")));
    let wrong = Page { csrf: "wrong".into(), client: page.client.clone(), base: page.base.clone() };
    let (s, _) = wrong.post("/api/v1/admin/api-tokens", json!({"name": "x"})).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    // A cross-site request is refused even with the token.
    let resp = page
        .client
        .post(d.url("/api/v1/admin/api-tokens"))
        .header("X-CSRF-Token", &page.csrf)
        .header("Sec-Fetch-Site", "cross-site")
        .json(&json!({"name": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    // Reads need no token; with the token the change goes through.
    assert_eq!(no_csrf.get("/api/v1/admin/api-tokens").await.0, StatusCode::OK);
    assert_eq!(
        page.post("/api/v1/admin/api-tokens", json!({"name": "x"})).await.0,
        StatusCode::CREATED
    );
}

#[tokio::test]
async fn api_tokens_work_for_scripts_until_revoked() {
    let d = TestDaemon::start().await;
    let page = d.setup_admin().await;
    let (s, created) =
        page.post("/api/v1/admin/api-tokens", json!({"name": "nightly export"})).await;
    assert_eq!(s, StatusCode::CREATED);
    let token = created["token"].as_str().unwrap().to_string();
    let id = created["id"].as_str().unwrap().to_string();
    let script = d.client();
    let (s, status) =
        with_token(&script, Method::GET, &d.url("/api/v1/status"), &token, None).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(status["counts"]["api_tokens"], 1);
    // Scripts need no CSRF token.
    let (s, _) = with_token(
        &script,
        Method::POST,
        &d.url("/api/v1/admin/api-tokens"),
        &token,
        Some(json!({"name": "second"})),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED);
    // The list never shows a secret.
    let (_, list) = page.get("/api/v1/admin/api-tokens").await;
    assert!(!list.to_string().contains(&token));
    assert_eq!(list["total"], 2);

    let (s, _) = page.send(Method::DELETE, &format!("/api/v1/admin/api-tokens/{id}"), None).await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (s, body) = with_token(&script, Method::GET, &d.url("/api/v1/status"), &token, None).await;
    assert_eq!((s, body["error"].as_str()), (StatusCode::UNAUTHORIZED, Some("unauthenticated")));
}

#[tokio::test]
async fn the_api_refuses_callers_without_a_session() {
    let d = TestDaemon::start().await;
    d.setup_admin().await;
    let anon = d.client();
    for path in [
        "/api/v1/status",
        "/api/v1/audit",
        "/api/v1/admin/users",
        "/api/v1/admin/api-tokens",
        "/api/v1/settings/tls",
    ] {
        let resp = anon.get(d.url(path)).send().await.unwrap();
        assert_eq!(resp.status(), StatusCode::UNAUTHORIZED, "{path}");
        let body: serde_json::Value = resp.json().await.unwrap();
        assert_eq!(body["error"], "unauthenticated", "{path}");
    }
    let resp = anon
        .get(d.url("/api/v1/status"))
        .header("Cookie", "adebox_session=forged")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn logout_ends_the_session() {
    let d = TestDaemon::start().await;
    let page = d.setup_admin().await;
    assert_eq!(page.post("/api/v1/admin/logout", json!({})).await.0, StatusCode::NO_CONTENT);
    assert_eq!(page.get("/api/v1/status").await.0, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn admins_and_passwords_through_the_api() {
    let d = TestDaemon::start().await;
    let page = d.setup_admin().await;
    let (s, _) = page
        .post(
            "/api/v1/admin/users",
            json!({"username": "bob", "password": "bob password 12", "role": "owner"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED);
    let (s, body) = page
        .post(
            "/api/v1/admin/users",
            json!({"username": "bob", "password": "bob password 12", "role": "owner"}),
        )
        .await;
    assert_eq!((s, body["error"].as_str()), (StatusCode::CONFLICT, Some("conflict")));
    let (s, body) = page.send(Method::DELETE, "/api/v1/admin/users/alice", None).await;
    assert_eq!(s, StatusCode::CONFLICT, "{body}");
    let (s, body) = page
        .post(
            "/api/v1/admin/password",
            json!({"current_password": "nope nope nope", "new_password": "a brand new password"}),
        )
        .await;
    assert_eq!(
        (s, body["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("current_password"))
    );
    let (s, _) = page
        .post(
            "/api/v1/admin/password",
            json!({"current_password": PASSWORD, "new_password": "a brand new password"}),
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    assert_eq!(d.login("alice", "a brand new password").await.0, StatusCode::OK);
    let (s, _) = page.send(Method::DELETE, "/api/v1/admin/users/bob", None).await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    assert_eq!(d.login("bob", "bob password 12").await.0, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn every_admin_action_is_audited_without_secrets() {
    let d = TestDaemon::start().await;
    let page = d.setup_admin().await;
    d.login("alice", "not the password").await;
    let (_, created) = page.post("/api/v1/admin/api-tokens", json!({"name": "exporter"})).await;
    let token = created["token"].as_str().unwrap().to_string();
    page.post("/api/v1/admin/logout", json!({})).await;
    let (_, _, page) = d.login("alice", PASSWORD).await;

    let (s, audit) = page.get("/api/v1/audit?limit=100").await;
    assert_eq!(s, StatusCode::OK);
    let actions: Vec<&str> =
        audit["items"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    for expected in ["admin.setup", "admin.login", "admin.api_token_create", "admin.logout"] {
        assert!(actions.contains(&expected), "{expected} missing from {actions:?}");
    }
    let failed =
        audit["items"].as_array().unwrap().iter().find(|e| e["outcome"] == "failure").unwrap();
    assert_eq!(failed["action"], "admin.login");
    assert_eq!(failed["remote_addr"], "127.0.0.1");
    let dump = audit.to_string();
    for secret in [PASSWORD, "not the password", token.as_str()] {
        assert!(!dump.contains(secret), "the audit log shows a secret");
    }
    let (_, filtered) = page.get("/api/v1/audit?outcome=failure").await;
    assert_eq!(filtered["total"], 1);
    let (s, body) = page.get("/api/v1/audit?outcome=maybe").await;
    assert_eq!((s, body["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("outcome")));
}

#[tokio::test]
async fn bodies_over_the_limit_are_refused_with_413() {
    let d = TestDaemon::start().await;
    let page = d.setup_admin().await;
    let big = "x".repeat(300 * 1024);
    let (s, body) = page.post("/api/v1/admin/api-tokens", json!({"name": big})).await;
    assert_eq!(s, StatusCode::PAYLOAD_TOO_LARGE, "{body}");
    let (s, body) = page.send(Method::POST, "/api/v1/admin/api-tokens", None).await;
    assert!(s.is_client_error(), "{body}");
}

#[tokio::test]
async fn the_openapi_document_describes_the_api() {
    let d = TestDaemon::start().await;
    let doc: serde_json::Value =
        d.client().get(d.url("/api/v1/openapi.json")).send().await.unwrap().json().await.unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    for path in
        ["/api/v1/status", "/api/v1/admin/login", "/api/v1/audit", "/api/v1/settings/tls/custom"]
    {
        assert!(doc["paths"].get(path).is_some(), "{path} missing");
    }
}

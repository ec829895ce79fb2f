//! Scopes over HTTPS: admins limited to one of two server tokens (an Operator, a Help desk, an
//! Auditor) against the real daemon and the simulated Apple side. Lists omit the other
//! token's devices, tokens, sync states and assignments; actions on them answer 403
//! `out_of_scope` naming the device or token; organisation-wide data is refused; API tokens
//! are never wider than their creator's scope; unscoped admins still see everything.

use crate::assignments_api::serials_of;
use crate::common::*;
use crate::tokens_api::sync_until;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

struct Fleet {
    a: String,
    b: String,
    serial_a: String,
    serial_b: String,
}

/// Two tokens with three and two devices, synced.
async fn two_tokens(d: &TestDaemon, owner: &Page) -> Fleet {
    let mut ids = Vec::new();
    let mut serials = Vec::new();
    for (name, count) in [("Campus A", 3), ("Campus B", 2)] {
        let (token, uuid) = add_token(d, owner, name).await;
        let id = token["id"].as_str().unwrap().to_string();
        let (s, added) = owner
            .post("/api/v1/sandbox/devices", json!({"server_uuid": uuid, "count": count}))
            .await;
        assert_eq!(s, StatusCode::OK, "{added}");
        sync_until(d, owner, &id, count).await;
        serials.push(serials_of(&added)[0].clone());
        ids.push(id);
    }
    Fleet {
        a: ids[0].clone(),
        b: ids[1].clone(),
        serial_a: serials[0].clone(),
        serial_b: serials[1].clone(),
    }
}

/// Adds an admin with `role`, scoped to `tokens` by the Owner, and signs them in.
async fn scoped(d: &TestDaemon, owner: &Page, name: &str, role: &str, tokens: &[&str]) -> Page {
    let (s, body) = owner
        .post("/api/v1/admin/users", json!({"username": name, "password": PASSWORD, "role": role}))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{body}");
    let path = format!("/api/v1/admin/users/{name}/scope");
    let (s, body) = owner.send(Method::PUT, &path, Some(json!({"tokens": tokens}))).await;
    assert_eq!(s, StatusCode::OK, "{body}");
    assert_eq!(body["scope"], json!(tokens));
    let (s, body, page) = d.login(name, PASSWORD).await;
    assert_eq!(s, StatusCode::OK, "{body}");
    assert_eq!(body["scope"], json!(tokens));
    page
}

fn out_of_scope(s: StatusCode, body: &Value, names: &[&str]) {
    assert_eq!(s, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(body["error"], "out_of_scope", "{body}");
    let message = body["message"].as_str().unwrap();
    for n in names {
        assert!(message.contains(n), "the refusal names {n}: {body}");
    }
}

fn tokens_of(list: &Value, field: &str) -> Vec<String> {
    list["items"].as_array().unwrap().iter().map(|i| i[field].as_str().unwrap().into()).collect()
}

#[tokio::test]
async fn scoped_admins_see_and_act_on_their_tokens_only() {
    let d = TestDaemon::with_simulator().await;
    let owner = d.sandbox_admin().await;
    let f = two_tokens(&d, &owner).await;
    let olga = scoped(&d, &owner, "olga", "operator", &[&f.a]).await;
    let hank = scoped(&d, &owner, "hank", "help_desk", &[&f.a]).await;

    // The unscoped Owner sees both tokens.
    let (_, all) = owner.get("/api/v1/devices").await;
    assert_eq!(all["total"], 5);
    let (_, all) = owner.get("/api/v1/tokens").await;
    assert_eq!(all["total"], 2);

    for page in [&olga, &hank] {
        // Lists omit the other token.
        let (s, list) = page.get("/api/v1/devices?limit=500").await;
        assert_eq!((s, list["total"].as_u64()), (StatusCode::OK, Some(3)), "{list}");
        assert!(tokens_of(&list, "token").iter().all(|t| *t == f.a), "{list}");
        let (_, list) = page.get(&format!("/api/v1/devices?token={}", f.b)).await;
        assert_eq!(list["total"], 0, "{list}");
        let (_, counts) = page.get("/api/v1/devices/counts").await;
        assert_eq!(counts["by_token"], json!({ f.a.clone(): 3 }), "{counts}");
        let (_, list) = page.get("/api/v1/tokens").await;
        assert_eq!(tokens_of(&list, "id"), [f.a.as_str()], "{list}");
        let (_, list) = page.get("/api/v1/sync").await;
        assert_eq!(tokens_of(&list, "token_id"), [f.a.as_str()], "{list}");
        let (_, status) = page.get("/api/v1/status").await;
        assert_eq!(
            (status["counts"]["devices"].as_u64(), status["counts"]["tokens"].as_u64()),
            (Some(3), Some(1))
        );
        assert_eq!(status["counts"]["audit_entries"], 0, "organisation-wide counts stay 0");

        // The export too.
        let csv = page.client.get(d.url("/api/v1/devices/export.csv")).send().await.unwrap();
        assert_eq!(csv.status(), StatusCode::OK);
        let csv = csv.text().await.unwrap();
        assert!(csv.contains(&f.serial_a) && !csv.contains(&f.serial_b), "{csv}");
        assert_eq!(csv.lines().count(), 4, "a header and three devices: {csv}");

        // One object of the other token: 403 naming it.
        let (s, body) = page.get(&format!("/api/v1/devices/{}", f.serial_b)).await;
        out_of_scope(s, &body, &[&f.serial_b, &f.b]);
        let (s, body) = page.get(&format!("/api/v1/devices/{}/mdm", f.serial_b)).await;
        out_of_scope(s, &body, &[&f.serial_b]);
        let (s, body) = page.get(&format!("/api/v1/tokens/{}", f.b)).await;
        out_of_scope(s, &body, &[&f.b]);
        let (s, _) = page.get(&format!("/api/v1/devices/{}", f.serial_a)).await;
        assert_eq!(s, StatusCode::OK);
        let (s, _) = page.get(&format!("/api/v1/tokens/{}", f.a)).await;
        assert_eq!(s, StatusCode::OK);

        // Device actions (Help desk and Operator both hold refresh).
        let (s, body) =
            page.post(&format!("/api/v1/devices/{}/mdm/refresh", f.serial_b), json!({})).await;
        out_of_scope(s, &body, &[&f.serial_b, &f.b]);
        let (s, body) =
            page.post(&format!("/api/v1/devices/{}/mdm/refresh", f.serial_a), json!({})).await;
        assert_ne!(s, StatusCode::FORBIDDEN, "in scope, refused only by MDM state: {body}");
        for action in ["setup/retry", "setup/release-anyway"] {
            let path = format!("/api/v1/devices/{}/mdm/{action}", f.serial_b);
            let (s, body) = page.post(&path, json!({})).await;
            out_of_scope(s, &body, &[&f.serial_b, &f.b]);
        }

        // Organisation-wide data.
        for path in [
            "/api/v1/enrollment/settings",
            "/api/v1/push",
            "/api/v1/settings/sync",
            "/api/v1/signin/users",
        ] {
            let (s, body) = page.get(path).await;
            out_of_scope(s, &body, &["organisation-wide"]);
        }
        let (_, me) = page.get("/api/v1/me").await;
        assert_eq!(me["scope"], json!([f.a.clone()]), "{me}");
    }

    // Operator actions.
    let (s, body) = olga.post(&format!("/api/v1/sync/{}", f.b), json!({})).await;
    out_of_scope(s, &body, &[&f.b]);
    let (s, body) = olga.post(&format!("/api/v1/sync/{}", f.a), json!({})).await;
    assert_eq!(s, StatusCode::ACCEPTED, "{body}");
    let (s, body) = olga.post("/api/v1/tokens/keys", json!({})).await;
    out_of_scope(s, &body, &["new server token"]);
    let (s, body) = olga.post("/api/v1/tokens/keys", json!({"for_token": f.b})).await;
    out_of_scope(s, &body, &[&f.b]);
    let (s, body) = olga.send(Method::DELETE, &format!("/api/v1/tokens/{}", f.b), None).await;
    out_of_scope(s, &body, &[&f.b]);
    let (s, p) =
        olga.post("/api/v1/profiles", json!({"name": "Scoped", "platforms": ["iOS"]})).await;
    assert_eq!(s, StatusCode::CREATED, "a scoped Operator makes profiles: {p}");
    let pid = p["id"].as_str().unwrap();
    let assign =
        |serials: Vec<&str>| json!({"profile_id": pid, "serials": serials, "dry_run": true});
    let (s, body) = olga.post("/api/v1/assignments", assign(vec![&f.serial_a, &f.serial_b])).await;
    out_of_scope(s, &body, &[&f.serial_b, &f.b]);
    let (s, body) = olga.post("/api/v1/assignments", assign(vec![&f.serial_a])).await;
    assert_eq!(s, StatusCode::OK, "{body}");
    let default_b = json!({"token_id": f.b, "profile_id": pid});
    let (s, body) = olga.send(Method::PUT, "/api/v1/profiles/defaults", Some(default_b)).await;
    out_of_scope(s, &body, &[&f.b]);

    // Owners only set scopes, to tokens that exist, and the last unscoped Owner stays.
    let (s, body) = olga
        .send(Method::PUT, "/api/v1/admin/users/olga/scope", Some(json!({"tokens": null})))
        .await;
    assert_eq!(
        (s, body["missing_permission"].as_str()),
        (StatusCode::FORBIDDEN, Some("admins_manage"))
    );
    let (s, body) = owner
        .send(Method::PUT, "/api/v1/admin/users/olga/scope", Some(json!({"tokens": ["nope"]})))
        .await;
    assert_eq!(
        (s, body["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("tokens")),
        "{body}"
    );
    let (s, body) = owner
        .send(Method::PUT, "/api/v1/admin/users/admin/scope", Some(json!({"tokens": [f.a]})))
        .await;
    assert_eq!(s, StatusCode::CONFLICT, "{body}");
}

#[tokio::test]
async fn api_tokens_are_never_wider_than_their_creators_scope() {
    let d = TestDaemon::with_simulator().await;
    let owner = d.sandbox_admin().await;
    let f = two_tokens(&d, &owner).await;
    let olga = scoped(&d, &owner, "olga", "operator", &[&f.a]).await;

    let (s, body) =
        olga.post("/api/v1/admin/api-tokens", json!({"name": "wide", "scope": [f.a, f.b]})).await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{body}");
    assert!(body["message"].as_str().unwrap().contains("scope cannot be wider"), "{body}");
    let (s, body) =
        olga.post("/api/v1/admin/api-tokens", json!({"name": "other", "scope": [f.b]})).await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{body}");
    let (s, body) = olga.post("/api/v1/admin/api-tokens", json!({"name": "mine"})).await;
    assert_eq!(s, StatusCode::CREATED, "{body}");
    assert_eq!(body["scope"], json!([f.a.clone()]), "the creator's scope when left out");
    let token = body["token"].as_str().unwrap().to_string();

    let client = d.client();
    let get = |path: &str| {
        let url = d.url(path);
        let (client, token) = (client.clone(), token.clone());
        async move { with_token(&client, Method::GET, &url, &token, None).await }
    };
    let (s, list) = get("/api/v1/devices").await;
    assert_eq!((s, list["total"].as_u64()), (StatusCode::OK, Some(3)), "{list}");
    let (s, body) = get(&format!("/api/v1/devices/{}", f.serial_b)).await;
    out_of_scope(s, &body, &[&f.serial_b]);
    let (_, me) = get("/api/v1/me").await;
    assert_eq!(me["scope"], json!([f.a.clone()]), "{me}");

    // The token follows its admin: moved to B, it sees B's devices only.
    let (s, _) = owner
        .send(Method::PUT, "/api/v1/admin/users/olga/scope", Some(json!({"tokens": [f.b]})))
        .await;
    assert_eq!(s, StatusCode::OK);
    let (_, list) = get("/api/v1/devices").await;
    assert_eq!(list["total"], 0, "A-only token under a B-only admin sees nothing: {list}");

    // Unscoped again: the token is still limited to A, its own scope.
    let (s, _) = owner
        .send(Method::PUT, "/api/v1/admin/users/olga/scope", Some(json!({"tokens": null})))
        .await;
    assert_eq!(s, StatusCode::OK);
    let (_, list) = get("/api/v1/devices").await;
    assert_eq!(list["total"], 3, "{list}");
    // The Owner's own unscoped token still sees everything.
    let (_, body) = owner.post("/api/v1/admin/api-tokens", json!({"name": "all"})).await;
    assert_eq!(body["scope"], Value::Null);
    let all = body["token"].as_str().unwrap();
    let (_, list) = with_token(&client, Method::GET, &d.url("/api/v1/devices"), all, None).await;
    assert_eq!(list["total"], 5);
}

#[tokio::test]
async fn a_scoped_auditor_gets_no_audit_log_and_no_admins() {
    let d = TestDaemon::with_simulator().await;
    let owner = d.sandbox_admin().await;
    let f = two_tokens(&d, &owner).await;
    let ada = scoped(&d, &owner, "ada", "auditor", &[&f.b]).await;
    for path in ["/api/v1/audit", "/api/v1/audit/export", "/api/v1/admin/users"] {
        let (s, body) = ada.get(path).await;
        out_of_scope(s, &body, &["organisation-wide"]);
    }
    let (_, me) = ada.get("/api/v1/me").await;
    assert_eq!(me["permissions"], json!(["read"]), "{me}");
    let (_, list) = ada.get("/api/v1/devices").await;
    assert_eq!(list["total"], 2);
    // The Owner's audit log has the scope change.
    let (_, audit) = owner.get("/api/v1/audit?action=admin.scope_change").await;
    assert!(audit.to_string().contains("server tokens"), "{audit}");
}

//! The role matrix: every API route × every role, the expected answer read from the route
//! table (`http::api::permissions::ROUTES`) and the role table (`admin::Permission::roles`).
//! Routes come from the OpenAPI document, so a route added without a row in the table fails
//! here; a row whose route is gone fails too.

use crate::common::{PASSWORD, Page, TestDaemon, with_token};
use adebox::admin::Role;
use adebox::http::api::permissions::{self, Access, PREFIX, ROUTES};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::collections::BTreeSet;

/// Every (method, path) of the OpenAPI document, paths as registered (`/api/v1/…/{id}`).
fn documented_routes() -> BTreeSet<(String, String)> {
    let doc: Value = serde_json::from_str(&adebox::http::api::openapi_json()).unwrap();
    let mut out = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            if ["get", "put", "post", "delete", "patch", "head", "options"]
                .contains(&method.as_str())
            {
                out.insert((method.to_uppercase(), path.clone()));
            }
        }
    }
    out
}

/// A concrete URL for a route pattern: placeholders become values that name nothing.
fn concrete(path: &str) -> String {
    let mut out = String::new();
    let mut rest = path;
    while let Some(start) = rest.find('{') {
        out.push_str(&rest[..start]);
        let end = rest[start..].find('}').unwrap() + start;
        out.push_str(match &rest[start + 1..end] {
            "serial" => "C02NOSUCHDEV",
            "udid" => "00008101-000A1B2C3D4E5F60",
            "uuid" => "9B1DEB4D-3B7D-4BAD-9BDD-2B0D7B3DCB6D",
            _ => "no-such-thing",
        });
        rest = &rest[end + 1..];
    }
    out.push_str(rest);
    out
}

#[test]
fn every_documented_route_is_in_the_table_and_every_row_is_a_route() {
    let documented = documented_routes();
    let listed: BTreeSet<(String, String)> =
        ROUTES.iter().map(|r| (r.method.to_string(), format!("{PREFIX}{}", r.path))).collect();
    let missing: Vec<_> = documented.difference(&listed).collect();
    assert!(
        missing.is_empty(),
        "routes without a row in src/http/api/permissions.rs (add one naming its permission): {missing:?}"
    );
    // The OpenAPI document itself is served by a plain route.
    let undocumented: Vec<_> = listed
        .difference(&documented)
        .filter(|(m, p)| !(m == "GET" && p == "/api/v1/openapi.json"))
        .collect();
    assert!(undocumented.is_empty(), "rows for routes that do not exist: {undocumented:?}");
}

/// What a caller got, checked against what the table says for their role.
fn check(role: Option<Role>, method: &str, path: &str, status: StatusCode, body: &Value) {
    let access = permissions::lookup(method, path).expect("listed");
    let what = format!("{method} {path} as {role:?}: {status} {body}");
    let Some(role) = role else {
        if access == Access::Public {
            assert!(
                status != StatusCode::UNAUTHORIZED && status != StatusCode::FORBIDDEN,
                "{what}"
            );
        } else {
            assert_eq!(status, StatusCode::UNAUTHORIZED, "{what}");
        }
        return;
    };
    match access {
        Access::Needs(p) if !role.holds(p) => {
            assert_eq!(status, StatusCode::FORBIDDEN, "{what}");
            assert_eq!(body["error"], "forbidden", "{what}");
            assert_eq!(body["missing_permission"], p.code(), "{what}");
            assert_eq!(body["role"], role.code(), "{what}");
            assert!(body["message"].as_str().unwrap().contains(p.code()), "{what}");
        }
        _ => {
            assert_ne!(status, StatusCode::UNAUTHORIZED, "{what}");
            assert!(body.get("missing_permission").is_none(), "{what}");
        }
    }
}

fn body_for(method: &str) -> Option<Value> {
    (method != "GET" && method != "DELETE").then(|| json!({}))
}

#[tokio::test]
async fn role_matrix_every_route_for_every_role() {
    let d = TestDaemon::start().await;
    let alice = d.setup_admin().await;
    let client = d.client();
    // One token per role, made by the Owner (whose role covers them all).
    let mut tokens = Vec::new();
    for role in Role::ALL {
        let (s, body) = alice
            .post("/api/v1/admin/api-tokens", json!({"name": role.code(), "role": role.code()}))
            .await;
        assert_eq!(s, StatusCode::CREATED, "{body}");
        assert_eq!(body["role"], role.code());
        tokens.push((role, body["token"].as_str().unwrap().to_string()));
    }
    // And a signed-in session per role below Owner, through the page's path (CSRF).
    let mut sessions: Vec<(Role, Page)> = Vec::new();
    for role in [Role::Operator, Role::HelpDesk, Role::Auditor] {
        let name = format!("user-{}", role.code());
        let (s, body) = alice
            .post(
                "/api/v1/admin/users",
                json!({"username": name, "password": PASSWORD, "role": role.code()}),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{body}");
        let (s, body, page) = d.login(&name, PASSWORD).await;
        assert_eq!(s, StatusCode::OK, "{body}");
        assert_eq!(body["role"], role.code());
        sessions.push((role, page));
    }

    // Refusals first, so an allowed call that changes something cannot hide one.
    let mut order: Vec<_> = ROUTES.iter().collect();
    order.sort_by_key(|r| matches!(r.path, "/admin/logout"));
    for route in order {
        let path = format!("{PREFIX}{}", route.path);
        let url = d.url(&concrete(&path));
        let method = Method::from_bytes(route.method.as_bytes()).unwrap();
        let (status, body) = {
            let mut req = client.request(method.clone(), &url);
            if let Some(b) = body_for(route.method) {
                req = req.json(&b);
            }
            let resp = req.send().await.unwrap();
            let s = resp.status();
            let t = resp.text().await.unwrap();
            (s, serde_json::from_str(&t).unwrap_or(Value::String(t)))
        };
        check(None, route.method, &path, status, &body);
        for (role, token) in &tokens {
            let (status, body) =
                with_token(&client, method.clone(), &url, token, body_for(route.method)).await;
            check(Some(*role), route.method, &path, status, &body);
        }
        for (role, page) in &sessions {
            if route.path == "/admin/logout" || route.path == "/admin/password" {
                continue; // would end or change the session the loop goes on using
            }
            let (status, body) =
                page.send(method.clone(), &concrete(&path), body_for(route.method)).await;
            check(Some(*role), route.method, &path, status, &body);
        }
    }
}

#[tokio::test]
async fn me_says_the_role_and_its_permissions() {
    let d = TestDaemon::start().await;
    let alice = d.setup_admin().await;
    let (s, me) = alice.get("/api/v1/me").await;
    assert_eq!(s, StatusCode::OK, "{me}");
    assert_eq!((me["user"].as_str(), me["role"].as_str()), (Some("alice"), Some("owner")));
    let (_, body) =
        alice.post("/api/v1/admin/api-tokens", json!({"name": "desk", "role": "help_desk"})).await;
    let token = body["token"].as_str().unwrap();
    let (s, me) = with_token(&d.client(), Method::GET, &d.url("/api/v1/me"), token, None).await;
    assert_eq!(s, StatusCode::OK, "{me}");
    assert_eq!(me["kind"], "api_token");
    assert_eq!(me["role"], "help_desk");
    assert_eq!(me["permissions"], json!(["read", "device_support"]));
}

#[tokio::test]
async fn an_operator_cannot_mint_a_wider_token_or_manage_admins() {
    let d = TestDaemon::start().await;
    let alice = d.setup_admin().await;
    let (s, _) = alice
        .post(
            "/api/v1/admin/users",
            json!({"username": "olga", "password": PASSWORD, "role": "operator"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED);
    let (_, _, olga) = d.login("olga", PASSWORD).await;
    let (s, body) =
        olga.post("/api/v1/admin/api-tokens", json!({"name": "wide", "role": "owner"})).await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{body}");
    assert!(body["message"].as_str().unwrap().contains("cannot be wider"), "{body}");
    let (s, body) = olga.post("/api/v1/admin/api-tokens", json!({"name": "mine"})).await;
    assert_eq!((s, body["role"].as_str()), (StatusCode::CREATED, Some("operator")), "{body}");
    // Alice's token is not olga's to revoke; olga only lists her own.
    let (_, theirs) = alice.post("/api/v1/admin/api-tokens", json!({"name": "alice's"})).await;
    let id = theirs["id"].as_str().unwrap();
    let (s, body) =
        olga.send(Method::DELETE, &format!("/api/v1/admin/api-tokens/{id}"), None).await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{body}");
    let (_, list) = olga.get("/api/v1/admin/api-tokens").await;
    let names: Vec<_> = list["items"].as_array().unwrap().iter().map(|t| &t["name"]).collect();
    assert_eq!(names, [&json!("mine")]);
    // Role changes are the Owner's, and olga's session follows at once.
    let (s, body) = olga
        .send(Method::PUT, "/api/v1/admin/users/olga/role", Some(json!({"role": "owner"})))
        .await;
    assert_eq!(
        (s, body["missing_permission"].as_str()),
        (StatusCode::FORBIDDEN, Some("admins_manage"))
    );
    let (s, body) = alice
        .send(Method::PUT, "/api/v1/admin/users/olga/role", Some(json!({"role": "auditor"})))
        .await;
    assert_eq!((s, body["role"].as_str()), (StatusCode::OK, Some("auditor")), "{body}");
    let (s, _) = olga.get("/api/v1/audit").await;
    assert_eq!(s, StatusCode::OK, "an Auditor reads the audit log");
    let (s, body) = olga.post("/api/v1/sync/no-such-thing", json!({})).await;
    assert_eq!((s, body["missing_permission"].as_str()), (StatusCode::FORBIDDEN, Some("sync")));
}

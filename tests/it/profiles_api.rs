//! Enrollment profiles through the API: the skip-key catalog, validation on the field,
//! revisions, defaults and delete preconditions.

use crate::common::*;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

fn valid() -> Value {
    json!({"name": "Staff iPhones", "platforms": ["iOS", "iPadOS"], "supervised": true,
        "locked_enrollment": true, "hidden_screens": ["Passcode", "Siri"], "region": "us"})
}

#[tokio::test]
async fn profiles_are_validated_on_the_field_and_edited_as_revisions() {
    let d = TestDaemon::with_simulator().await;
    let page = d.sandbox_admin().await;

    let (s, keys) = page.get("/api/v1/profiles/skip-keys").await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(keys["total"], 53);
    let passcode = keys["items"].as_array().unwrap().iter().find(|k| k["key"] == "Passcode");
    assert_eq!(passcode.unwrap()["platforms"]["iOS"]["introduced"], "7.0");

    // Every field at fault at once; the first also as field/message.
    let (s, e) = page
        .post(
            "/api/v1/profiles",
            json!({"name": "n".repeat(126), "platforms": ["iOS"], "locked_enrollment": true,
                "shared_ipad_settings": {"max_cached_users": 40}, "hidden_screens": ["Passcod"]}),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    assert_eq!(e["error"], "validation");
    assert_eq!(e["field"], "name");
    let fields: Vec<&str> =
        e["fields"].as_array().unwrap().iter().map(|f| f["field"].as_str().unwrap()).collect();
    assert_eq!(
        fields,
        ["name", "locked_enrollment", "shared_ipad_settings.max_cached_users", "hidden_screens"]
    );

    // Apple's own keys cannot be slipped in past the form.
    let mut bypass = valid();
    bypass["is_mdm_removable"] = json!(false);
    bypass["anchor_certs"] = json!(["AAAA"]);
    let (s, e) = page.post("/api/v1/profiles", bypass).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    assert_eq!(e["fields"].as_array().unwrap().len(), 2);
    let (_, list) = page.get("/api/v1/profiles").await;
    assert_eq!(list["total"], 0, "nothing half-applied");

    // Validate-as-you-type answers warnings for deprecated screens.
    let mut with_deprecated = valid();
    with_deprecated["platforms"] = json!(["iOS"]);
    with_deprecated["hidden_screens"] = json!(["DisplayTone"]);
    let (s, v) = page.post("/api/v1/profiles/validate", with_deprecated).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["ok"], true);
    assert_eq!(v["warnings"][0]["field"], "hidden_screens");

    let (s, p) = page.post("/api/v1/profiles", valid()).await;
    assert_eq!(s, StatusCode::CREATED, "{p}");
    let id = p["id"].as_str().unwrap().to_string();
    assert_eq!(p["revision"], 1);
    assert_eq!(p["region"], "US");
    assert_eq!(p["await_device_configured"], true);
    assert_eq!(p["apple_json"]["is_mdm_removable"], false);
    assert!(p["apple_json"]["url"].as_str().unwrap().ends_with("/enroll/machineinfo"));
    assert_eq!(p["apple_json"]["anchor_certs"].as_array().unwrap().len(), 1);

    // An edit sent back with the server's fields is a new revision.
    let mut edited = p.clone();
    edited["department"] = json!("IT");
    let (s, p2) = page.send(Method::PUT, &format!("/api/v1/profiles/{id}"), Some(edited)).await;
    assert_eq!(s, StatusCode::OK, "{p2}");
    assert_eq!(p2["revision"], 2);
    assert_eq!(p2["apple_json"]["department"], "IT");
    let (s, bad) =
        page.send(Method::PUT, &format!("/api/v1/profiles/{id}"), Some(json!({"name": ""}))).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
    let (_, still) = page.get(&format!("/api/v1/profiles/{id}")).await;
    assert_eq!(still["revision"], 2);
    assert_eq!(still["name"], "Staff iPhones");

    let (s, impact) = page.get(&format!("/api/v1/profiles/{id}/edit-impact")).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(impact, json!({"devices_to_reassign": 0, "enrolled": 0}));

    // A default blocks deletion until it is cleared.
    let (token, _) = add_token(&d, &page, "Profiles campus").await;
    let token_id = token["id"].as_str().unwrap();
    let (s, defs) = page
        .send(
            Method::PUT,
            "/api/v1/profiles/defaults",
            Some(json!({"token_id": token_id, "family": "iPhone", "profile_id": id})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{defs}");
    assert_eq!(defs["items"][0]["family"], "iPhone");
    let (s, bad) = page
        .send(
            Method::PUT,
            "/api/v1/profiles/defaults",
            Some(json!({"token_id": token_id, "family": "Toaster", "profile_id": id})),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
    assert_eq!(bad["field"], "family");
    let (s, e) = page.send(Method::DELETE, &format!("/api/v1/profiles/{id}"), None).await;
    assert_eq!(s, StatusCode::CONFLICT, "{e}");
    assert_eq!(e["error"], "profile_in_use");
    assert_eq!(e["blockers"][0]["kind"], "default_profile");
    let (s, _) = page
        .send(
            Method::PUT,
            "/api/v1/profiles/defaults",
            Some(json!({"token_id": token_id, "family": "iPhone", "profile_id": null})),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    let (s, _) = page.send(Method::DELETE, &format!("/api/v1/profiles/{id}"), None).await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (s, _) = page.get(&format!("/api/v1/profiles/{id}")).await;
    assert_eq!(s, StatusCode::NOT_FOUND);

    let (_, audit) = page.get("/api/v1/audit?action=profile.create").await;
    assert_eq!(audit["total"], 1, "{audit}");
}

#[tokio::test]
async fn a_malformed_token_or_profile_id_in_a_profile_or_assignment_request_is_a_400() {
    let d = TestDaemon::start().await;
    let page = d.setup_admin().await;
    let (s, p) = page.post("/api/v1/profiles", valid()).await;
    assert_eq!(s, StatusCode::CREATED, "{p}");
    let pid = p["id"].as_str().unwrap();
    let bad = "oCaG.2Svw";
    let named = |s: StatusCode, err: &Value, what: &str| {
        assert_eq!(s, StatusCode::BAD_REQUEST, "{what}: {err}");
        assert!(err["message"].as_str().unwrap().contains("token id"), "{what}: {err}");
    };
    // Before token ids were parsed: a 404, a report of every serial as `other_token`, an
    // empty list.
    let (s, err) = page
        .send(
            Method::PUT,
            "/api/v1/profiles/defaults",
            Some(json!({"token_id": bad, "profile_id": pid})),
        )
        .await;
    named(s, &err, "default");
    let (s, err) = page
        .post(
            "/api/v1/assignments",
            json!({"profile_id": pid, "serials": ["C02XK1ABCD12"], "token_id": bad}),
        )
        .await;
    named(s, &err, "assign");
    let (s, err) = crate::assignments_api::csv(
        &page,
        &format!("profile_id={pid}&dry_run=true&token_id={bad}"),
        "C02XK1ABCD12\n".into(),
    )
    .await;
    named(s, &err, "csv");
    let (s, err) = page.get(&format!("/api/v1/assignments?token={bad}")).await;
    named(s, &err, "list");
    // The device list's token filter answered an empty list.
    let (s, err) = page.get(&format!("/api/v1/devices?token={bad}")).await;
    named(s, &err, "devices");
    // A well-formed id naming no token keeps its earlier answers.
    let (s, err) = page
        .send(
            Method::PUT,
            "/api/v1/profiles/defaults",
            Some(json!({"token_id": "oCaG2Svw", "profile_id": pid})),
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND, "{err}");
    for query in ["token=oCaG2Svw", "token="] {
        let (s, list) = page.get(&format!("/api/v1/assignments?{query}")).await;
        assert_eq!((s, &list["total"]), (StatusCode::OK, &json!(0)), "{query}: {list}");
    }

    // Profile ids: before, a 404 for paths and a 422 "does not exist" for bodies.
    let bad = "k3Vx.9QaB";
    let named = |s: StatusCode, err: &Value, what: &str| {
        assert_eq!(s, StatusCode::BAD_REQUEST, "{what}: {err}");
        assert!(err["message"].as_str().unwrap().contains("profile id"), "{what}: {err}");
    };
    for (method, path, body) in [
        (Method::GET, format!("/api/v1/profiles/{bad}"), None),
        (Method::PUT, format!("/api/v1/profiles/{bad}"), Some(valid())),
        (Method::GET, format!("/api/v1/profiles/{bad}/edit-impact"), None),
        (Method::DELETE, format!("/api/v1/profiles/{bad}"), None),
    ] {
        let (s, err) = page.send(method.clone(), &path, body).await;
        named(s, &err, &format!("{method} {path}"));
    }
    let (s, err) = page
        .send(
            Method::PUT,
            "/api/v1/profiles/defaults",
            Some(json!({"token_id": "oCaG2Svw", "profile_id": bad})),
        )
        .await;
    named(s, &err, "default");
    let (s, err) = page
        .post("/api/v1/assignments", json!({"profile_id": bad, "serials": ["C02XK1ABCD12"]}))
        .await;
    named(s, &err, "assign");
    let (s, err) = crate::assignments_api::csv(
        &page,
        &format!("profile_id={bad}&dry_run=true"),
        "C02XK1ABCD12\n".into(),
    )
    .await;
    named(s, &err, "csv");
    // Well-formed ids naming no profile keep their answers.
    let (s, err) = page.get("/api/v1/profiles/k3Vx9QaB").await;
    assert_eq!(s, StatusCode::NOT_FOUND, "{err}");
    let (s, err) = page
        .post("/api/v1/assignments", json!({"profile_id": "k3Vx9QaB", "serials": ["C02XK1ABCD12"]}))
        .await;
    assert_eq!(
        (s, &err["field"]),
        (StatusCode::UNPROCESSABLE_ENTITY, &json!("profile_id")),
        "{err}"
    );
}

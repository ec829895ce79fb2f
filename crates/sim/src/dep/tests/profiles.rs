//! Profile define / get / assign / remove over HTTPS (dep-api.md §3.3, §4, §7 item 7).

use super::{Sim, start};
use crate::dep::Behaviour;
use crate::dep::faults::Faults;
use reqwest::Method;
use serde_json::{Value, json};

fn profile() -> Value {
    json!({ "profile_name": "Sales", "url": "https://mdm.example.org/enroll", "is_supervised": true, "await_device_configured": true, "support_email_address": "it@example.org" })
}

async fn define(s: &Sim, body: &Value) -> String {
    let r = s.call(Method::POST, "/profile", Some(body)).await;
    assert_eq!(r.status, 200, "{}", r.text);
    r.json()["profile_uuid"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn define_returns_a_new_32_hex_uuid_and_per_device_results() {
    let s = start(2).await;
    let serial = s.truth_serials()[0].clone();
    let mut body = profile();
    body["devices"] = json!([serial, "NOTMINE0001"]);
    let r = s.call(Method::POST, "/profile", Some(&body)).await.json();
    let uuid = r["profile_uuid"].as_str().unwrap();
    assert!(
        uuid.len() == 32 && uuid.bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_lowercase())
    );
    assert_eq!(r["devices"], json!({ serial.clone(): "SUCCESS", "NOTMINE0001": "NOT_ACCESSIBLE" }));
    assert_ne!(define(&s, &profile()).await, uuid, "each define makes a new profile");
    s.sim.stop().await;
}

#[tokio::test]
async fn define_answers_apples_validation_codes() {
    let s = start(0).await;
    let cases = [
        (json!({ "url": "https://a.example" }), "CONFIG_NAME_REQUIRED"),
        (
            json!({ "profile_name": "n".repeat(126), "url": "https://a.example" }),
            "CONFIG_NAME_INVALID",
        ),
        (json!({ "profile_name": "p" }), "CONFIG_URL_REQUIRED"),
        (json!({ "profile_name": "p", "url": "nope" }), "CONFIG_URL_INVALID"),
        (
            json!({ "profile_name": "p", "url": "https://a.example", "is_mdm_removable": false }),
            "FLAGS_INVALID",
        ),
        (
            json!({ "profile_name": "p", "url": "https://a.example", "department": "" }),
            "DEPARTMENT_INVALID",
        ),
        (
            json!({ "profile_name": "p", "url": "https://a.example", "language": "english" }),
            "LOCALE_INVALID",
        ),
        (
            json!({ "profile_name": "p", "url": "https://a.example", "org_magic": "m".repeat(300) }),
            "MAGIC_INVALID",
        ),
        (
            json!({ "profile_name": "p", "url": "https://a.example", "support_email_address": "x" }),
            "SUPPORT_EMAIL_INVALID",
        ),
        (
            json!({ "profile_name": "p", "url": "https://a.example", "support_phone_number": "1".repeat(60) }),
            "SUPPORT_PHONE_INVALID",
        ),
    ];
    for (body, code) in cases {
        let r = s.call(Method::POST, "/profile", Some(&body)).await;
        assert_eq!((r.status, r.text.as_str()), (400, code), "{body}");
    }
    s.sim.stop().await;
}

#[tokio::test]
async fn get_returns_the_profile_with_its_uuid_and_not_found_otherwise() {
    let s = start(0).await;
    let uuid = define(&s, &profile()).await;
    let r = s.call(Method::GET, &format!("/profile?profile_uuid={uuid}"), None).await.json();
    assert_eq!(r["profile_uuid"], uuid.as_str());
    assert_eq!(r["is_supervised"], true);
    assert_eq!(r["profile_name"], "Sales");
    let v1 = s.call_v(Method::GET, &format!("/profile?profile_uuid={uuid}"), 1, None).await.json();
    assert!(
        v1.get("await_device_configured").is_none() && v1.get("support_email_address").is_none()
    );
    let r =
        s.call(Method::GET, "/profile?profile_uuid=00000000000000000000000000000000", None).await;
    assert_eq!((r.status, r.text.as_str()), (400, "NOT_FOUND"));
    let r = s.call(Method::GET, "/profile", None).await;
    assert_eq!((r.status, r.text.as_str()), (400, "PROFILE_UUID_REQUIRED"));
    s.sim.set_behaviour(Behaviour {
        profile_not_found_status: 404,
        unprefixed_profile_names: true,
        ..Behaviour::default()
    });
    let r =
        s.call(Method::GET, "/profile?profile_uuid=00000000000000000000000000000000", None).await;
    assert_eq!((r.status, r.text.as_str()), (404, "NOT_FOUND"));
    let r = s.call(Method::GET, &format!("/profile?profile_uuid={uuid}"), None).await.json();
    assert_eq!(r["supervised"], true);
    assert!(r.get("is_supervised").is_none());
    s.sim.stop().await;
}

#[tokio::test]
async fn assign_works_with_post_and_put_and_updates_the_device() {
    let s = start(3).await;
    let serials = s.truth_serials();
    let (_, cursor) = s.fetch_all(100).await;
    let uuid = define(&s, &profile()).await;
    for (method, serial) in [(Method::POST, &serials[0]), (Method::PUT, &serials[1])] {
        let r = s
            .call(
                method,
                "/profile/devices",
                Some(&json!({ "profile_uuid": uuid, "devices": [serial, "NOTMINE0001"] })),
            )
            .await
            .json();
        assert_eq!(r["profile_uuid"], uuid.as_str());
        assert_eq!(
            r["devices"],
            json!({ serial.clone(): "SUCCESS", "NOTMINE0001": "NOT_ACCESSIBLE" })
        );
        assert!(r.get("retry_after_seconds").is_none());
    }
    let d =
        s.call(Method::POST, "/devices", Some(&json!({ "devices": [serials[0]] }))).await.json();
    let d = &d["devices"][&serials[0]];
    assert_eq!(
        (d["profile_uuid"].as_str(), d["profile_status"].as_str()),
        (Some(uuid.as_str()), Some("assigned"))
    );
    assert!(d["profile_assign_time"].is_string());
    // Each assignment is a `modified` sync record carrying the new profile fields.
    let page =
        s.call(Method::POST, "/devices/sync", Some(&json!({ "cursor": cursor }))).await.json();
    let mods: Vec<&Value> = page["devices"].as_array().unwrap().iter().collect();
    assert_eq!(mods.len(), 2);
    assert!(mods.iter().all(|m| m["op_type"] == "modified" && m["profile_status"] == "assigned"));
    s.sim.stop().await;
}

#[tokio::test]
async fn assign_refuses_missing_fields_unknown_profiles_and_over_1000_serials() {
    let s = start(1).await;
    let uuid = define(&s, &profile()).await;
    let r =
        s.call(Method::POST, "/profile/devices", Some(&json!({ "devices": ["A1234567"] }))).await;
    assert_eq!((r.status, r.text.as_str()), (400, "PROFILE_UUID_REQUIRED"));
    let r = s
        .call(
            Method::POST,
            "/profile/devices",
            Some(&json!({ "profile_uuid": uuid, "devices": [] })),
        )
        .await;
    assert_eq!((r.status, r.text.as_str()), (400, "DEVICE_ID_REQUIRED"));
    let r = s
        .call(
            Method::POST,
            "/profile/devices",
            Some(&json!({ "profile_uuid": "FFFF", "devices": ["A1234567"] })),
        )
        .await;
    assert_eq!((r.status, r.text.as_str()), (404, "PROFILE_NOT_FOUND"));
    let many: Vec<String> = (0..1001).map(|i| format!("SERIAL{i:05}")).collect();
    let r = s
        .call(
            Method::POST,
            "/profile/devices",
            Some(&json!({ "profile_uuid": uuid, "devices": many })),
        )
        .await;
    assert_eq!(r.status, 400);
    let r = s
        .call(
            Method::POST,
            "/profile/devices",
            Some(&json!({ "profile_uuid": uuid, "devices": &many[..1000] })),
        )
        .await;
    assert_eq!(r.status, 200, "exactly 1000 is fine");
    s.sim.stop().await;
}

#[tokio::test]
async fn throttling_needs_protocol_9_and_retry_after_needs_10() {
    let s = start(2).await;
    let serials = s.truth_serials();
    let uuid = define(&s, &profile()).await;
    s.sim.set_faults(Faults::parse("throttle=1,throttle-retry=60").unwrap());
    let body = json!({ "profile_uuid": uuid, "devices": serials });
    let v8 = s.call_v(Method::POST, "/profile/devices", 8, Some(&body)).await.json();
    assert!(v8["devices"].as_object().unwrap().values().all(|v| v == "SUCCESS"));
    let v9 = s.call_v(Method::POST, "/profile/devices", 9, Some(&body)).await.json();
    assert!(v9["devices"].as_object().unwrap().values().all(|v| v == "THROTTLED"));
    assert!(v9.get("retry_after_seconds").is_none());
    let v10 = s.call_v(Method::POST, "/profile/devices", 10, Some(&body)).await.json();
    assert!(v10["devices"].as_object().unwrap().values().all(|v| v == "THROTTLED"));
    assert_eq!(v10["retry_after_seconds"], 60);
    s.sim.set_faults(Faults::parse("assign-fail=1").unwrap());
    let failed = s.call(Method::POST, "/profile/devices", Some(&body)).await.json();
    assert!(failed["devices"].as_object().unwrap().values().all(|v| v == "FAILED"));
    s.sim.stop().await;
}

#[tokio::test]
async fn remove_clears_the_assignment_and_logs_modified() {
    let s = start(2).await;
    let serials = s.truth_serials();
    let uuid = define(&s, &profile()).await;
    s.call(
        Method::PUT,
        "/profile/devices",
        Some(&json!({ "profile_uuid": uuid, "devices": [serials[0]] })),
    )
    .await;
    let (_, cursor) = s.fetch_all(100).await;
    let r = s
        .call(
            Method::DELETE,
            "/profile/devices",
            Some(&json!({ "devices": [serials[0], "NOTMINE0001"] })),
        )
        .await
        .json();
    assert_eq!(
        r,
        json!({ "devices": { serials[0].clone(): "SUCCESS", "NOTMINE0001": "NOT_ACCESSIBLE" } })
    );
    let page =
        s.call(Method::POST, "/devices/sync", Some(&json!({ "cursor": cursor }))).await.json();
    assert_eq!(page["devices"][0]["op_type"], "modified");
    assert_eq!(page["devices"][0]["profile_status"], "removed");
    let r = s.call(Method::DELETE, "/profile/devices", Some(&json!({ "devices": [] }))).await;
    assert_eq!((r.status, r.text.as_str()), (400, "DEVICE_ID_REQUIRED"));
    s.sim.stop().await;
}

#[tokio::test]
async fn profiles_belong_to_the_server_that_defined_them() {
    let s = start(1).await;
    let uuid = define(&s, &profile()).await;
    let now = s.sim.now();
    let other = s.sim.with_world(|w| {
        let id = w.add_server("Other", None, now);
        w.server(id).unwrap().token.to_credentials()
    });
    let h = s.auth_header(&other, "n-other", None);
    let session = s.raw_session(Some(&h), Some(super::UA)).await.json()["auth_session_token"]
        .as_str()
        .unwrap()
        .to_string();
    let r = s
        .call_with(Method::GET, &format!("/profile?profile_uuid={uuid}"), &session, 10, None)
        .await;
    assert_eq!((r.status, r.text.as_str()), (400, "NOT_FOUND"));
    s.sim.stop().await;
}

#[tokio::test]
async fn account_driven_enrollment_profile_round_trips() {
    let s = start(0).await;
    let path = "/account-driven-enrollment/profile";
    let r = s.call(Method::GET, path, None).await;
    assert_eq!((r.status, r.text.as_str()), (404, "NOT_FOUND"));
    let r = s
        .call(
            Method::POST,
            path,
            Some(&json!({ "mdm_service_discovery_url": "http://insecure.example" })),
        )
        .await;
    assert_eq!((r.status, r.text.as_str()), (400, "MDM_SERVICE_DISCOVERY_URL_NOT_VALID"));
    let r = s.call(Method::POST, path, Some(&json!({}))).await;
    assert_eq!((r.status, r.text.as_str()), (400, "MDM_SERVICE_DISCOVERY_URL_REQUIRED"));
    let r = s
        .call(
            Method::POST,
            path,
            Some(&json!({ "mdm_service_discovery_url": "https://mdm.example.com/discovery" })),
        )
        .await;
    assert_eq!((r.status, r.text.as_str()), (200, ""));
    let r = s.call(Method::GET, path, None).await.json();
    assert_eq!(r["mdm_service_discovery_url"], "https://mdm.example.com/discovery");
    assert!(r["last_updated_timestamp"].is_string());
    assert_eq!(s.call(Method::DELETE, path, None).await.status, 200);
    assert_eq!(s.call(Method::GET, path, None).await.status, 404);
    let beta = s.call(Method::GET, "/os-beta-enrollment/tokens", None).await.json();
    assert_eq!(beta["betaEnrollmentTokens"].as_array().unwrap().len(), 3);
    s.sim.stop().await;
}

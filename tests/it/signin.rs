//! The user sign-in page (`/enroll/web`, user affinity) end to end with the local directory:
//! Setup Assistant's GET with `x-apple-aspen-deviceinfo`, the form, wrong passwords, the group
//! rule, the per-device lockout, and the signed profile at the end; refusals are pages.

use crate::common::*;
use crate::enroll::{fleet_with_profile_at, signed};
use adebox::sim::apple_pki::StandInApplePki;
use reqwest::StatusCode;
use serde_json::{Value, json};

/// What a GET or POST of the page answered.
pub(crate) struct Answer {
    pub status: StatusCode,
    pub content_type: String,
    pub body: Vec<u8>,
}

impl Answer {
    pub(crate) fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// A hidden input's value in the form.
    fn hidden(&self, name: &str) -> String {
        let text = self.text();
        let marker = format!("name=\"{name}\" value=\"");
        let start =
            text.find(&marker).unwrap_or_else(|| panic!("no {name} in {text}")) + marker.len();
        text[start..].split('"').next().unwrap().to_string()
    }
}

async fn answer(resp: reqwest::Response) -> Answer {
    let status = resp.status();
    let content_type = resp
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    Answer { status, content_type, body: resp.bytes().await.unwrap().to_vec() }
}

/// Setup Assistant opening the page with `machine_info` (a signed MachineInfo) in the header.
pub(crate) async fn open(d: &TestDaemon, machine_info: Option<&[u8]>) -> Answer {
    use base64ct::{Base64, Encoding};
    let mut req = d.client().get(d.url("/enroll/web"));
    if let Some(mi) = machine_info {
        req = req.header("x-apple-aspen-deviceinfo", Base64::encode_string(mi));
    }
    answer(req.send().await.unwrap()).await
}

/// The user sending the form of `page` with `username` and `password`.
pub(crate) async fn sign_in(
    d: &TestDaemon,
    page: &Answer,
    username: &str,
    password: &str,
) -> Answer {
    let form = [
        ("attempt", page.hidden("attempt")),
        ("csrf", page.hidden("csrf")),
        ("username", username.to_string()),
        ("password", password.to_string()),
    ];
    post_form(d, &form).await
}

/// Posts `fields` as the browser posts a form (`application/x-www-form-urlencoded`).
pub(crate) async fn post_form(d: &TestDaemon, fields: &[(&str, String)]) -> Answer {
    use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
    let body: Vec<String> = fields
        .iter()
        .map(|(k, v)| format!("{k}={}", utf8_percent_encode(v, NON_ALPHANUMERIC)))
        .collect();
    let req = d
        .client()
        .post(d.url("/enroll/web"))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(body.join("&"));
    answer(req.send().await.unwrap()).await
}

/// The body of a new local account `name` (password `<name> password 1`).
pub(crate) fn user(name: &str, groups: &[&str]) -> (&'static str, Value) {
    let body = json!({"username": name, "display_name": format!("{name} Example"),
                      "email": format!("{name}@example.org"), "groups": groups,
                      "password": format!("{name} password 1")});
    ("/api/v1/signin/users", body)
}

pub(crate) fn affinity_profile() -> Value {
    json!({"name": "Staff devices", "platforms": ["iOS", "iPadOS", "macOS", "tvOS", "visionOS"], "user_affinity": "with_affinity",
           "department": "Example School IT", "support_email_address": "it@example.org",
           "sign_in": {"source": "local", "allowed_groups": ["staff"]}})
}

#[tokio::test]
async fn a_user_signs_in_during_setup_assistant_and_the_device_gets_its_profile() {
    let now = adebox::clock::Clock::system().now();
    let pki = std::sync::Arc::new(StandInApplePki::generate(now).unwrap());
    let clock = adebox::clock::Clock::system();
    // Without an account, a profile with user affinity is refused with the fix.
    let users = [user("alice", &["Staff"]), user("bob", &[])];
    let (d, page, _, serials) =
        fleet_with_profile_at(&pki, 3, clock, affinity_profile(), &users).await;
    let (s, v) = page.get("/api/v1/signin/users").await;
    assert_eq!((s, v["total"].as_u64()), (StatusCode::OK, Some(2)), "{v}");
    assert!(!v.to_string().contains("argon2") && !v.to_string().contains("password"), "{v}");

    // Opened in a browser, without the header: a page that says what it is, not a bare 400.
    let bare = open(&d, None).await;
    assert_eq!(bare.status, StatusCode::BAD_REQUEST);
    assert!(bare.content_type.starts_with("text/html") && bare.text().contains("Setup Assistant"));
    // A MachineInfo that does not verify never reaches the form.
    let stranger = StandInApplePki::generate(now).unwrap();
    let refused = open(&d, Some(&signed(&stranger, &serials[0], "00008101-0099"))).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.text());
    assert!(!refused.text().contains("password") && refused.text().contains("identified"));

    // Device 1: a wrong password shows the form again; the right one answers the profile.
    let form = open(&d, Some(&signed(&pki, &serials[0], "00008101-0011"))).await;
    assert_eq!(form.status, StatusCode::OK, "{}", form.text());
    assert!(form.text().contains("Example School IT") && form.text().contains("it@example.org"));
    let wrong = sign_in(&d, &form, "alice", "not her password").await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert!(wrong.text().contains("not right") && wrong.text().contains("name=\"password\""));
    let forged = post_form(
        &d,
        &[
            ("attempt", form.hidden("attempt")),
            ("csrf", "forged".into()),
            ("username", "alice".into()),
            ("password", "alice password 1".into()),
        ],
    )
    .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN, "{}", forged.text());
    let ok = sign_in(&d, &wrong, "alice", "alice password 1").await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.text());
    assert_eq!(ok.content_type, "application/x-apple-aspen-config");
    let v = adebox::crypto::cms::verify_signed(&ok.body).unwrap();
    assert!(String::from_utf8_lossy(&v.content).contains("com.apple.mdm"));
    let again = sign_in(&d, &form, "alice", "alice password 1").await;
    assert_eq!(again.status, StatusCode::GONE, "an attempt serves one profile only");

    // Device 2: bob is not in the allowed group; then guesses lock the device (and only it).
    let form2 = open(&d, Some(&signed(&pki, &serials[1], "00008101-0012"))).await;
    let not_allowed = sign_in(&d, &form2, "bob", "bob password 1").await;
    assert_eq!(not_allowed.status, StatusCode::FORBIDDEN);
    assert!(not_allowed.text().contains("group"), "{}", not_allowed.text());
    for _ in 0..5 {
        let w = sign_in(&d, &form2, "carol", "guess guess guess").await;
        assert_eq!(w.status, StatusCode::UNAUTHORIZED, "{}", w.text());
    }
    let locked = sign_in(&d, &form2, "alice", "alice password 1").await;
    assert_eq!(locked.status, StatusCode::TOO_MANY_REQUESTS, "{}", locked.text());
    assert!(locked.text().contains("Too many wrong passwords"));

    // Device 3, from the same address: not locked.
    let form3 = open(&d, Some(&signed(&pki, &serials[2], "00008101-0013"))).await;
    let ok3 = sign_in(&d, &form3, "alice", "alice password 1").await;
    assert_eq!(ok3.status, StatusCode::OK, "{}", ok3.text());

    // The device shows its user: on its page (API), its timeline and in the CSV export.
    let (_, device) = page.get(&format!("/api/v1/devices/{}", serials[0])).await;
    assert_eq!(device["user"]["username"], "alice", "{device}");
    assert_eq!(device["user"]["email"], "alice@example.org", "{device}");
    assert!(device["timeline"].to_string().contains("user_signed_in"), "{device}");
    let (_, other) = page.get(&format!("/api/v1/devices/{}", serials[1])).await;
    assert!(other["user"].is_null(), "{other}");
    let export = page.client.get(d.url("/api/v1/devices/export.csv")).send().await.unwrap();
    let csv = export.text().await.unwrap();
    assert!(csv.lines().next().unwrap().ends_with(",user,user_name,user_email"), "{csv}");
    assert!(csv.contains("alice,alice Example,alice@example.org"), "{csv}");

    // The audit log says who enrolled what, and never a password.
    let (_, audit) = page.get("/api/v1/audit?limit=200").await;
    let text = audit.to_string();
    assert!(text.contains(&format!("user alice enrolled device {}", serials[0])), "{text}");
    assert!(text.contains("signin.enroll") && !text.contains("password 1"), "{text}");
    assert!(!text.contains("guess guess"), "{text}");
}

#[tokio::test]
async fn a_profile_with_user_affinity_needs_a_directory_with_accounts() {
    let d = TestDaemon::with_simulator().await;
    let page = d.sandbox_admin().await;
    let (s, v) = page.post("/api/v1/profiles", affinity_profile()).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert_eq!(v["field"], "sign_in.source", "{v}");
    assert!(v["message"].as_str().unwrap().contains("Sign-in settings"), "{v}");
    let (name, body) = user("alice", &[]);
    assert_eq!(page.post(name, body).await.0, StatusCode::CREATED);
    let (s, v) = page.post("/api/v1/profiles", affinity_profile()).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    assert_eq!(v["sign_in"]["allowed_groups"], json!(["staff"]), "{v}");
}

#[tokio::test]
async fn the_profile_url_refuses_a_device_that_skipped_the_sign_in() {
    let now = adebox::clock::Clock::system().now();
    let pki = std::sync::Arc::new(StandInApplePki::generate(now).unwrap());
    let clock = adebox::clock::Clock::system();
    let users = [user("alice", &["staff"])];
    let (d, page, _, serials) =
        fleet_with_profile_at(&pki, 2, clock, affinity_profile(), &users).await;

    // Posting the MachineInfo straight to the profile URL does not get around the sign-in.
    let (s, _, body) = crate::enroll::post(&d, signed(&pki, &serials[0], "00008101-0021")).await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{}", String::from_utf8_lossy(&body));
    let v: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(v["code"], "adebox.enrollment.sign_in_required", "{v}");
    let web_url = d.url("/enroll/web");
    assert!(v["description"].as_str().unwrap().contains(&web_url), "{v}");
    assert!(v["message"].as_str().unwrap().contains("Sign in"), "{v}");
    let (_, r) = page.get("/api/v1/enrollment/refusals?limit=10").await;
    let refusal = r["items"].as_array().unwrap().iter().find(|e| e["reason"] == "sign_in_required");
    assert!(refusal.is_some_and(|e| e.to_string().contains(&web_url)), "{r}");
    let (_, device) = page.get(&format!("/api/v1/devices/{}", serials[0])).await;
    let refused = device["timeline"].as_array().unwrap().iter().find(|e| {
        e["kind"] == "enrollment_refused" && e["message"].as_str().unwrap().contains(&web_url)
    });
    assert!(refused.is_some(), "{device}");

    // The same device through the sign-in page gets its profile.
    let form = open(&d, Some(&signed(&pki, &serials[0], "00008101-0021"))).await;
    let ok = sign_in(&d, &form, "alice", "alice password 1").await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.text());
    assert_eq!(ok.content_type, "application/x-apple-aspen-config");

    // A device on a profile without user affinity still gets its profile at the profile URL.
    let (s, plain) = page
        .post(
            "/api/v1/profiles",
            json!({"name": "Plain", "platforms": ["iOS", "iPadOS", "macOS", "tvOS", "visionOS"]}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{plain}");
    let plain = plain["id"].as_str().unwrap().to_string();
    let assign = json!({"profile_id": plain, "serials": [serials[1]]});
    let (s, report) = page.post("/api/v1/assignments", assign).await;
    assert_eq!(s, StatusCode::ACCEPTED, "{report}");
    crate::assignments_api::wait_for(
        &page,
        &format!("/api/v1/devices/{}", serials[1]),
        "assigned at Apple",
        |v| v["assignment"]["profile_id"] == plain.as_str() && v["profile_name"] == "Plain",
    )
    .await;
    let (s, ct, body) = crate::enroll::post(&d, signed(&pki, &serials[1], "00008101-0022")).await;
    assert_eq!(s, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
    assert_eq!(ct, "application/x-apple-aspen-config");
}

//! User affinity in the admin page and on the device's sign-in page, at desktop and phone
//! width: the Sign-in page adds a local account (inline validation first) and deletes it with
//! a typed confirmation; `/enroll/web` as Setup Assistant shows it is plain and readable
//! (labelled fields, no sideways scrolling) and answers a wrong password on the page; the
//! devices list shows each device's user and filters by it; the profile form's sign-in
//! fields are saved, shown again when editing, and the server's refusal of an unusable source
//! lands on its field.

use super::harness::Browser;
use super::profiles::click_centered;
use super::{assert_clean, choose, log_in, wait_js};
use crate::common::TestDaemon;
use crate::enroll::{fleet_with_profile_at, signed};
use crate::signin::{affinity_profile, user};
use crate::signin_fleet::{as_user, fleet};
use adebox::sim::apple_pki::StandInApplePki;
use adebox::sim::fleet::{FleetDevice, Progress};
use serde_json::json;
use std::sync::Arc;

const NO_SIDEWAYS: &str =
    "document.documentElement.scrollWidth <= document.documentElement.clientWidth";

async fn no_sideways_scroll(b: &Browser, what: &str) {
    let fits = b.client.execute(&format!("return {NO_SIDEWAYS}"), vec![]).await.unwrap();
    assert_eq!(fits, json!(true), "{what} scrolls sideways");
}

#[tokio::test]
async fn the_signin_page_adds_and_deletes_a_local_account() {
    let Some(b) = super::harness::start().await else { return };
    let d = TestDaemon::with_simulator().await;
    // Signed in once for the API checks: a new sandbox_admin() would sign the browser out.
    let api = d.sandbox_admin().await;
    log_in(&b, &d, "admin").await;

    for (width, height) in [(1440, 900), (390, 844)] {
        b.client.set_window_size(width, height).await.unwrap();
        b.goto(&d.url("/admin/signin")).await;
        b.wait_text("#page-title", "Sign-in").await;
        b.wait_text("#local-accounts", "No local account yet").await;
        b.wait_text("#signin-profiles-empty", "No profile uses user affinity").await;
        b.wait("#ldap-directory").await;
        b.wait("#signin-oidc").await;

        // Local rules answer before anything is sent, next to their fields.
        b.fill("#local-user-username", "ana lopez").await;
        b.fill("#local-user-email", "not-an-address").await;
        b.click("#local-user-submit").await;
        b.wait_text("#local-user-username-error", "Use only letters").await;
        b.wait_text("#local-user-display-name-error", "full name").await;
        b.wait_text("#local-user-email-error", "e-mail address").await;
        let (_, users) = api.get("/api/v1/signin/users").await;
        assert_eq!(users["total"], 0, "nothing was sent: {users}");

        b.fill("#local-user-username", "ana.lopez").await;
        b.fill("#local-user-display-name", "Ana López").await;
        b.fill("#local-user-email", "ana@example.org").await;
        b.fill("#local-user-groups", "staff, teachers\nstaff").await;
        b.fill("#local-user-password", "ana password 12").await;
        b.fill("#local-user-password-confirm", "ana password 12").await;
        b.click("#local-user-submit").await;
        b.wait("#local-user-list [data-key=\"ana.lopez\"]").await;
        b.wait_text("#local-user-list", "staff, teachers").await;
        b.wait_text("#local-user-list", "Ana López").await;
        no_sideways_scroll(&b, &format!("the Sign-in page at {width} px")).await;
        assert_clean(&b, &format!("adding an account at {width} px")).await;
        let (_, users) = api.get("/api/v1/signin/users").await;
        assert_eq!(users["items"][0]["groups"], json!(["staff", "teachers"]), "{users}");

        b.click("[data-delete-local-user=\"ana.lopez\"]").await;
        b.fill("#local-user-delete-dialog-typed", "ana.lopez").await;
        b.click("#local-user-delete-dialog-confirm").await;
        b.wait_text("#local-accounts", "No local account yet").await;
        let (_, users) = api.get("/api/v1/signin/users").await;
        assert_eq!(users["total"], 0, "{users}");
        assert_clean(&b, &format!("deleting an account at {width} px")).await;
    }
    b.close().await;
}

#[tokio::test]
async fn the_enroll_web_page_is_plain_and_readable() {
    let Some(b) = super::harness::start().await else { return };
    let clock = adebox::clock::Clock::system();
    let pki = Arc::new(StandInApplePki::generate(clock.now()).unwrap());
    let users = [user("alice", &["staff"])];
    let (d, _page, _, serials) =
        fleet_with_profile_at(&pki, 2, clock, affinity_profile(), &users).await;

    for (i, (width, height)) in [(1280, 800), (390, 844)].into_iter().enumerate() {
        b.client.set_window_size(width, height).await.unwrap();
        // Setup Assistant's first load carries the signed MachineInfo in a header, which a
        // browser cannot add to a navigation: the page is fetched so, then shown in the
        // browser at the page's own address (same origin, same Content-Security-Policy).
        use base64ct::{Base64, Encoding};
        let info = Base64::encode_string(&signed(&pki, &serials[i], &format!("00008101-00{i}9")));
        let resp = d
            .client()
            .get(d.url("/enroll/web"))
            .header("x-apple-aspen-deviceinfo", info)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), reqwest::StatusCode::OK);
        let html = resp.text().await.unwrap();
        b.goto(&d.url("/enroll/web")).await;
        b.wait_text("body", "Setup Assistant").await;
        no_sideways_scroll(&b, &format!("the refusal page at {width} px")).await;
        b.client
            .execute(
                "document.open(); document.write(arguments[0]); document.close();",
                vec![json!(html)],
            )
            .await
            .unwrap();
        b.wait("form input[name=password]").await;
        let labelled = "[...document.querySelectorAll('input:not([type=hidden])')].every((i) => \
                        i.labels && i.labels.length === 1 && i.labels[0].textContent.trim() !== '')";
        wait_js(&b, labelled, vec![], "every field labelled").await;
        wait_js(&b, NO_SIDEWAYS, vec![], "no sideways scrolling").await;
        let styled = "getComputedStyle(document.querySelector('button')).width === \
                      getComputedStyle(document.querySelector('#password')).width";
        wait_js(&b, styled, vec![], "the page's style sheet applied").await;
        b.wait_text("body", "Example School IT").await;

        // A wrong password is answered on the page, the form kept and still readable.
        b.fill("#username", "alice").await;
        b.fill("#password", "not her password").await;
        b.click("button[type=submit]").await;
        b.wait_text("#error", "not right").await;
        wait_js(&b, NO_SIDEWAYS, vec![], "no sideways scrolling after a wrong password").await;
        let kept = b.client.execute("return document.querySelector('#username').value", vec![]);
        assert_eq!(kept.await.unwrap(), json!("alice"), "the username is kept");
    }
    b.close().await;
}

#[tokio::test]
async fn the_devices_list_shows_each_devices_user_and_filters_by_it() {
    let Some(b) = super::harness::start().await else { return };
    let clock = adebox::clock::Clock::system();
    let now = clock.now();
    let pki = Arc::new(StandInApplePki::generate(now - time::Duration::days(1)).unwrap());
    let users = [user("alice", &["staff"]), user("bob", &["staff"])];
    let (d, _page, _, serials) =
        fleet_with_profile_at(&pki, 3, clock, affinity_profile(), &users).await;
    let devices: Vec<FleetDevice> =
        serials.iter().enumerate().map(|(i, s)| FleetDevice::for_serial(s, i)).collect();
    let alice = fleet(&d, &pki).signing_in(as_user("alice", "alice password 1"));
    let report = alice.run(&devices[..2], 2, &Progress::default(), now).await;
    assert_eq!(report.enrolled, 2, "{report:?}");
    let bob = fleet(&d, &pki).signing_in(as_user("bob", "bob password 1"));
    assert_eq!(bob.run(&devices[2..], 1, &Progress::default(), now).await.enrolled, 1);
    log_in(&b, &d, "admin").await;

    for (width, height) in [(1440, 900), (390, 844)] {
        b.client.set_window_size(width, height).await.unwrap();
        b.goto(&d.url("/admin/devices")).await;
        b.wait("#devices [data-user=\"bob\"]").await;
        let count = "document.querySelectorAll('#devices [data-user=\"alice\"]').length";
        assert_eq!(wait_js(&b, count, vec![], "alice's devices").await, json!(2));
        b.wait_text("#devices", "alice Example").await;
        no_sideways_scroll(&b, &format!("the devices list at {width} px")).await;

        b.goto(&d.url("/admin/devices?user=bob")).await;
        b.wait(&format!("#devices [data-serial=\"{}\"]", serials[2])).await;
        let rows = "document.querySelectorAll('#devices [data-serial]').length";
        assert_eq!(wait_js(&b, rows, vec![], "bob's device only").await, json!(1));
        let value = "document.querySelector('#devices-filter-user')?.value";
        assert_eq!(wait_js(&b, value, vec![], "the filter shown").await, json!("bob"));

        b.click(&format!("#devices [data-serial=\"{}\"]", serials[2])).await;
        b.wait_text("#device-user", "bob Example").await;
        b.wait_text("#device-user", "bob@example.org").await;
        b.wait_text("#device-user", "local account").await;
        b.wait_text("#device-timeline", "signed in during Setup Assistant").await;
        assert_clean(&b, &format!("the devices' users at {width} px")).await;
    }
    b.close().await;
}

#[tokio::test]
async fn the_profile_forms_sign_in_fields_round_trip() {
    let Some(b) = super::harness::start().await else { return };
    let d = TestDaemon::with_simulator().await;
    let page = d.sandbox_admin().await;
    log_in(&b, &d, "admin").await;

    b.goto(&d.url("/admin/profiles/new")).await;
    b.wait("#profile-form").await;
    let hidden = "document.querySelector('#sign-in-fields').hidden";
    assert_eq!(
        wait_js(&b, &format!("{hidden} === true"), vec![], "no sign-in fields").await,
        json!(true)
    );
    b.fill("#profile-form [name=name]", "Staff iPads and Macs").await;
    click_centered(&b, "#profile-form input[name=user_affinity][value=with_affinity]").await;
    wait_js(&b, &format!("!{hidden}"), vec![], "the sign-in fields").await;
    b.wait("#affinity-signin-link").await;
    click_centered(&b, "#profile-form input[name=\"platforms[]\"][value=macOS]").await;
    wait_js(&b, "!document.querySelector('#sign-in-mac').hidden", vec![], "the Mac switches").await;

    // No local account yet: the server refuses the source, on its field.
    b.click("#profile-save").await;
    b.wait_text("[data-field=\"sign_in.source\"] .field-error", "directory").await;
    let (name, body) = user("alice", &["staff"]);
    assert_eq!(page.post(name, body).await.0, reqwest::StatusCode::CREATED);

    // A lock without pre-filling is a local rule; then everything is saved.
    click_centered(&b, "#profile-form input[name=\"sign_in.lock_macos_account\"]").await;
    b.wait_text("[data-field=\"sign_in.lock_macos_account\"] .field-error", "pre-filled").await;
    click_centered(&b, "#profile-form input[name=\"sign_in.prefill_macos_account\"]").await;
    b.fill("#profile-form [name=\"sign_in.allowed_groups\"]", "staff, Teachers\nstaff").await;
    choose(
        &b,
        "#profile-form select[name=\"sign_in.source\"]",
        "Local accounts (kept on this appliance)",
    )
    .await;
    b.click("#profile-save").await;
    b.wait("#profile-detail #profile-summary").await;
    assert_clean(&b, "saving a profile with user affinity").await;

    let (_, list) = page.get("/api/v1/profiles").await;
    let p = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "Staff iPads and Macs")
        .unwrap()
        .clone();
    assert_eq!(p["user_affinity"], "with_affinity", "{p}");
    assert_eq!(
        p["sign_in"],
        json!({"source": "local", "allowed_groups": ["staff", "Teachers"],
               "prefill_macos_account": true, "lock_macos_account": true}),
        "{p}"
    );

    // Editing shows what was saved; the Sign-in page lists the profile with its source.
    b.goto(&d.url(&format!("/admin/profiles/{}/edit", p["id"].as_str().unwrap()))).await;
    b.wait("#profile-form").await;
    let groups = "document.querySelector('[name=\"sign_in.allowed_groups\"]').value";
    assert_eq!(wait_js(&b, groups, vec![], "the groups").await, json!("staff\nTeachers"));
    let checked = "document.querySelector('[name=\"sign_in.prefill_macos_account\"]').checked \
                   && document.querySelector('[name=\"sign_in.lock_macos_account\"]').checked";
    assert_eq!(wait_js(&b, checked, vec![], "the Mac switches on").await, json!(true));
    b.goto(&d.url("/admin/signin")).await;
    b.wait(&format!("#signin-profile-list [data-profile=\"{}\"]", p["id"].as_str().unwrap())).await;
    b.wait_text("#signin-profile-list", "Members of staff, Teachers").await;
    assert_clean(&b, "the Sign-in page's profiles").await;
    b.close().await;
}

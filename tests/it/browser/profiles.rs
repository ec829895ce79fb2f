//! Enrollment profiles through the page: a profile with hidden Setup Assistant screens made in
//! the form, assigned to a token's devices by CSV upload after a dry run, and the devices'
//! assignment state seen changing on their pages.

use super::harness::Browser;
use super::{assert_clean, choose, log_in, wait_js};
use crate::common::{TestDaemon, add_token, wait_for_devices};
use serde_json::json;
use std::time::{Duration, Instant};

const DEVICES: usize = 6;

/// Clicks an element after scrolling it to the middle of the window (the form's sticky bar
/// covers the bottom edge, where WebDriver would scroll it).
pub(super) async fn click_centered(b: &Browser, css: &str) {
    b.wait(css).await;
    b.client
        .execute(
            "document.querySelector(arguments[0]).scrollIntoView({ block: 'center' });",
            vec![json!(css)],
        )
        .await
        .unwrap();
    b.click(css).await;
}

/// Creates a profile through the form (a name, a department, `hidden` screens set to Hide)
/// and waits for its page, which lists the hidden screens.
async fn create_in_form(b: &Browser, name: &str, hidden: &[&str]) {
    b.click("#nav-profiles").await;
    b.click("#profiles-new").await;
    b.wait("#profile-form").await;
    b.fill("#profile-form [name=name]", name).await;
    b.fill("#profile-form [name=department]", "Science").await;
    for key in hidden {
        click_centered(b, &format!("#skip-{key}-hide")).await;
    }
    b.wait_text("#skip-count", &format!("{} of", hidden.len())).await;
    b.click("#profile-save").await;
    b.wait("#profile-detail #profile-summary").await;
    for key in hidden {
        b.wait(&format!("#profile-hidden-screens [data-key={key}]")).await;
    }
    assert_clean(b, "creating the profile").await;
}

#[tokio::test]
async fn profile_with_hidden_screens_is_made_in_the_form_and_edited() {
    let Some(b) = super::harness::start().await else { return };
    let d = TestDaemon::with_simulator().await;
    d.sandbox_admin().await;
    log_in(&b, &d, "admin").await;

    // A local rule stops the form before anything is sent, next to its field.
    b.click("#nav-profiles").await;
    b.click("#profiles-new").await;
    b.fill("#profile-form [name=device_name_template]", "{{MODEL}}-{{SERIAL}}-{{UDID}}").await;
    b.click("#profile-save").await;
    b.wait_text("#profile-check", "problems to fix").await;
    b.wait_text("#name-template-length", "too long").await;
    assert_eq!(b.path().await, "/admin/profiles/new", "nothing was saved");

    create_in_form(&b, "Front desk", &["Passcode", "Siri"]).await;
    let json = b.text("#profile-apple-json").await;
    assert!(
        json.contains("\"Passcode\"") && json.contains("\"Siri\""),
        "the Apple JSON hides them: {json}"
    );

    // An edit says what it changes before it is saved, and makes a new revision.
    b.click("#profile-edit-link").await;
    b.wait("#profile-form").await;
    click_centered(&b, "#skip-Siri-show").await;
    b.click("#profile-save").await;
    b.wait_text("#profile-edit-impact", "nothing is re-assigned").await;
    b.click("#profile-edit-dialog-confirm").await;
    b.wait("#profile-detail").await;
    wait_js(
        &b,
        "document.querySelector('[data-field=revision]')?.textContent.startsWith('2')",
        vec![],
        "revision 2",
    )
    .await;
    b.wait("#profile-hidden-screens [data-key=Passcode]").await;
    let siri = b
        .client
        .execute(
            "return document.querySelector('#profile-hidden-screens [data-key=Siri]') === null",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(siri, json!(true), "Siri shows again after the edit");
    assert_clean(&b, "editing the profile").await;
    b.close().await;
}

#[tokio::test]
async fn profile_with_hidden_screens_is_assigned_by_csv_after_a_dry_run() {
    let Some(b) = super::harness::start().await else { return };
    let d = TestDaemon::with_simulator().await;
    let page = d.sandbox_admin().await;
    let (token, uuid) = add_token(&d, &page, "Profiles test server").await;
    let token_id = token["id"].as_str().unwrap().to_string();
    let (s, body) =
        page.post("/api/v1/sandbox/devices", json!({"server_uuid": uuid, "count": DEVICES})).await;
    assert!(s.is_success(), "{body}");
    let (s, body) = page.post(&format!("/api/v1/sync/{token_id}"), json!({})).await;
    assert!(s.is_success(), "{body}");
    wait_for_devices(&page, &token_id, DEVICES as u64).await;
    let (_, list) = page.get(&format!("/api/v1/devices?token={token_id}&limit=500")).await;
    let serials: Vec<String> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["serial"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(serials.len(), DEVICES);
    // The form's profile is for iOS and iPadOS: the platform guard leaves the others out.
    let fitting: Vec<String> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| ["iPhone", "iPad", "iPod"].contains(&d["family"].as_str().unwrap_or("")))
        .map(|d| d["serial"].as_str().unwrap().to_string())
        .collect();
    let (fit, other) = (fitting.len(), DEVICES - fitting.len());
    assert!(fit > 0, "the simulated fleet has iPhones or iPads: {list}");

    log_in(&b, &d, "admin").await;
    create_in_form(&b, "Classroom iPads", &["Passcode", "Siri"]).await;

    // Bulk by CSV: a header, the serials, a junk row; the dry run first, then Apply.
    let csv =
        format!("serial number,asset tag\n{}\nnot a serial!,x\n", serials.join(",tag\n") + ",tag");
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("devices.csv");
    std::fs::write(&file, csv).unwrap();
    b.goto(&d.url("/admin/devices?bulk=1")).await;
    b.wait("#bulk-file").await;
    choose(&b, "#bulk-profile", "Classroom iPads").await;
    b.wait("#bulk-file").await.send_keys(file.to_str().unwrap()).await.unwrap();
    b.wait_text("#bulk-file-info", "devices.csv").await;
    b.click("#bulk-check").await;
    b.wait(&format!("#bulk-result-summary [data-outcome=will_assign][data-count=\"{fit}\"]")).await;
    if other > 0 {
        b.wait(&format!(
            "#bulk-result-summary [data-outcome=wrong_platform][data-count=\"{other}\"]"
        ))
        .await;
    }
    b.wait("#bulk-result-summary [data-outcome=invalid]").await;
    b.wait("#bulk-result[data-dry-run=true]").await;
    // Nothing was sent by the dry run.
    let (_, device) = page.get(&format!("/api/v1/devices/{}", serials[0])).await;
    assert_ne!(device["assignment"]["state"], "assigned", "a dry run changed nothing: {device}");
    b.click("#bulk-apply").await;
    b.wait(&format!("#bulk-result-summary [data-outcome=queued][data-count=\"{fit}\"]")).await;
    assert_clean(&b, "assigning by CSV").await;

    // Each device's page shows the assignment; the worker gets there on its own.
    for serial in &fitting {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            b.goto(&d.url(&format!("/admin/devices/{serial}"))).await;
            let state = wait_js(
                &b,
                "document.querySelector('#device-assignment-state')?.dataset.state",
                vec![],
                "the assignment state",
            )
            .await;
            if state == "assigned" {
                break;
            }
            assert!(Instant::now() < deadline, "{serial} never reached assigned (still {state})");
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
        b.wait_text("[data-field=profile_id]", "Classroom iPads").await;
        b.wait_text("[data-field=last_result]", "SUCCESS").await;
    }
    // The profile counts its devices.
    b.goto(&d.url("/admin/profiles")).await;
    wait_js(
        &b,
        "document.querySelector('#profile-list [data-devices]')?.dataset.devices === arguments[0]",
        vec![json!(fit.to_string())],
        "the device count on the list",
    )
    .await;
    assert_clean(&b, "checking the devices").await;
    b.close().await;
}

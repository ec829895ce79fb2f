//! The admin page in headless Chromium against the real daemon: the foundation flow on a
//! fresh production-mode appliance, and a server token's whole life in the sandbox, added,
//! renewed and deleted through the page the way an admin would. Every test fails on a
//! Content-Security-Policy violation or an uncaught error the page recorded
//! (`window.__adeboxErrors`, filled by web/assets/js/errors.js).
//!
//! The tests skip with a notice when chromium / chromedriver are not installed.

mod admin_page;
mod alerts;
mod apple_services;
mod audit;
mod backups;
mod business_actions;
mod business_bulk;
mod business;
mod business_devices;
mod business_devices_applecare;
mod device_mdm;
mod enrollment;
mod harness;
mod integrations;
mod profiles;
mod push;
mod return_to_service;
mod roles;
mod sandbox_enroll;
mod scope;
mod setup_steps;
mod sign_in;
mod signin_directories;
mod signin_ui;
mod tls_acme;

use crate::common::{PASSWORD, TestDaemon};
use harness::Browser;
use serde_json::{Value, json};
use std::time::{Duration, Instant};

/// Fails the test when the page recorded a CSP violation or an uncaught error.
async fn assert_clean(b: &Browser, step: &str) {
    let errors = b.console_errors().await;
    assert!(errors.is_empty(), "the page reported errors after {step}: {errors:?}");
}

/// Runs `script` (a JavaScript expression) until it is truthy; returns its value.
async fn wait_js(b: &Browser, script: &str, args: Vec<Value>, what: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let v = b.client.execute(&format!("return ({script});"), args.clone()).await.unwrap();
        let truthy = match &v {
            Value::Null => false,
            Value::Bool(x) => *x,
            Value::String(s) => !s.is_empty(),
            Value::Number(n) => n.as_f64() != Some(0.0),
            _ => true,
        };
        if truthy {
            return v;
        }
        if Instant::now() > deadline {
            b.screenshot(&std::env::temp_dir().join("adebox-browser-failure.png")).await;
            panic!("timed out waiting for {what} (`{script}`)");
        }
        tokio::time::sleep(Duration::from_millis(150)).await;
    }
}

async fn log_in(b: &Browser, d: &TestDaemon, user: &str) {
    b.goto(&d.url("/admin/login")).await;
    b.fill("#login-username", user).await;
    b.fill("#login-password", PASSWORD).await;
    b.click("#login-submit").await;
    b.wait_text("#page-title", "Dashboard").await;
}

async fn log_out(b: &Browser) {
    open_menu(b).await;
    b.click("#logout").await;
    b.wait("#login-form").await;
}

/// At phone width the navigation (with "Log out") folds behind the Menu button: opens it.
async fn open_menu(b: &Browser) {
    b.client
        .execute(
            "const m = document.querySelector('#nav-menu');
             if (m && m.offsetParent !== null && m.getAttribute('aria-expanded') !== 'true') m.click();",
            vec![],
        )
        .await
        .unwrap();
}

/// Picks the option whose text is `label` in a `<select>`, as a person would.
async fn choose(b: &Browser, select: &str, label: &str) {
    let found = b
        .client
        .execute(
            "const s = document.querySelector(arguments[0]);
             const o = [...s.options].find((o) => o.text === arguments[1]);
             if (!o) return false;
             s.value = o.value;
             s.dispatchEvent(new Event('change', { bubbles: true }));
             return true;",
            vec![json!(select), json!(label)],
        )
        .await
        .unwrap();
    assert_eq!(found, json!(true), "`{select}` has no option `{label}`");
}

#[tokio::test]
async fn first_run_setup_login_every_section_and_logout() {
    let Some(b) = harness::start().await else { return };
    let d = TestDaemon::start().await;
    let code =
        d.running().setup_code.as_ref().expect("a fresh daemon has a setup code").expose().clone();

    // First run: any admin URL leads to the setup form.
    b.goto(&d.url("/admin/")).await;
    b.wait("#setup-form").await;
    b.fill("#setup-code", &code).await;
    b.fill("#setup-username", "alice").await;
    b.fill("#setup-password", PASSWORD).await;
    b.fill("#setup-password-confirm", PASSWORD).await;
    b.click("#setup-submit").await;
    b.wait_text("#page-title", "Dashboard").await;
    b.wait_text("#current-user", "alice").await;
    assert_clean(&b, "setup").await;

    log_out(&b).await;
    log_in(&b, &d, "alice").await;

    for (nav, title) in [
        ("tokens", "Tokens"),
        ("devices", "Devices"),
        ("profiles", "Profiles"),
        ("enrollment", "Enrollment"),
        ("settings", "Settings"),
        ("audit", "Audit log"),
        ("dashboard", "Dashboard"),
    ] {
        b.click(&format!("#nav-{nav}")).await;
        b.wait_text("#page-title", title).await;
        let current = b.wait(&format!("#nav-{nav}")).await.attr("aria-current").await.unwrap();
        assert_eq!(current.as_deref(), Some("page"), "{nav} is marked as the current section");
        assert_clean(&b, &format!("opening {title}")).await;
    }
    // A production appliance has no Sandbox section.
    assert!(b.client.find(fantoccini::Locator::Css("#nav-sandbox")).await.is_err());

    log_out(&b).await;
    assert_clean(&b, "logout").await;
    b.close().await;
}

#[tokio::test]
async fn sandbox_token_is_added_renewed_and_deleted_through_the_page() {
    let Some(b) = harness::start().await else { return };
    let d = TestDaemon::with_simulator().await;
    d.sandbox_admin().await;
    log_in(&b, &d, "admin").await;
    assert!(b.wait("#sandbox-marker").await.is_displayed().await.unwrap());
    let server = "Browser test server";

    // Step 1: the key. The flow survives a reload (the key is pending at the appliance).
    b.click("#nav-tokens").await;
    b.wait("#tokens-empty").await;
    b.click("#add-key-make").await;
    b.wait("#add-key-download").await;
    let key =
        wait_js(&b, "document.querySelector('#add-token').dataset.key", vec![], "the key").await;
    b.client.refresh().await.unwrap();
    b.wait("#add-key-download").await;
    let after =
        wait_js(&b, "document.querySelector('#add-token').dataset.key", vec![], "the key").await;
    assert_eq!(key, after, "the add flow comes back to its key after a reload");

    // Step 2: the simulated ABM makes the server and hands back its .p7m.
    b.fill("#rehearse-server-name", server).await;
    b.click("#rehearse-create").await;
    b.wait("#rehearse-download").await;

    // Meanwhile, in another tab (as the admin would in ABM): devices for the new server.
    let main = b.client.window().await.unwrap();
    let tab = b.client.new_window(true).await.unwrap();
    b.client.switch_to_window(tab.handle).await.unwrap();
    b.goto(&d.url("/admin/sandbox")).await;
    b.wait("#sandbox-add-form").await;
    choose(&b, "#sandbox-add-server", server).await;
    b.fill("#sandbox-add-count", "3").await;
    b.click("#sandbox-add-submit").await;
    b.wait_text("#sandbox-add-result", "Added 3 devices").await;
    assert_clean(&b, "adding devices at the simulated Apple").await;
    b.client.close_window().await.unwrap();
    b.client.switch_to_window(main).await.unwrap();

    // Step 3: upload; the first sync brings the three devices in.
    b.click("#rehearse-use").await;
    b.fill("#add-token-apple-id", "it@example.org").await;
    b.click("#add-token-submit").await;
    let id = wait_js(
        &b,
        "[...document.querySelectorAll('#token-list-table tr[data-token]')].find((r) => r.textContent.includes(arguments[0]))?.dataset.token",
        vec![json!(server)],
        "the new token in the list",
    )
    .await;
    let id = id.as_str().unwrap().to_string();
    wait_js(
        &b,
        "document.querySelector(`[data-devices=\"${arguments[0]}\"]`)?.textContent.startsWith('3')",
        vec![json!(id)],
        "three devices on the new token",
    )
    .await;
    assert_clean(&b, "adding the token").await;

    // Renew with a token the simulated ABM issues again.
    b.click(&format!("[data-token-link=\"{id}\"]")).await;
    b.wait_text("#page-title", server).await;
    b.click("#rehearse-renew").await;
    b.click("#rehearse-renew-use").await;
    b.click("#renew-submit").await;
    wait_js(
        &b,
        "!document.querySelector('[data-field=renewed_at]').textContent.includes('not yet')",
        vec![],
        "the renewal date",
    )
    .await;
    assert_clean(&b, "renewing the token").await;

    // Delete: typed confirmation; refused while devices are assigned, with the blockers.
    b.click("#token-delete-button").await;
    b.fill("#token-delete-dialog-typed", server).await;
    b.click("#token-delete-dialog-confirm").await;
    b.wait("#token-delete-blockers [data-blocker=devices]").await;

    // Release them at the simulated Apple, sync, and delete.
    b.click("#nav-sandbox").await;
    b.wait("#sandbox-release-form").await;
    choose(&b, "#sandbox-fill-token-release", server).await;
    b.click("#sandbox-fill-release").await;
    wait_js(
        &b,
        "document.querySelector('#sandbox-release-serials').value.split('\\n').length === 3",
        vec![],
        "three serials",
    )
    .await;
    b.click("#sandbox-release-submit").await;
    b.wait_text("#sandbox-release-result", "Now press").await;

    b.goto(&d.url(&format!("/admin/tokens/{id}"))).await;
    b.click(&format!("#sync-now-{id}")).await;
    wait_js(
        &b,
        "document.querySelector('[data-field=devices]')?.textContent.startsWith('0')",
        vec![],
        "no devices left after the sync",
    )
    .await;
    b.click("#token-delete-button").await;
    b.fill("#token-delete-dialog-typed", server).await;
    b.click("#token-delete-dialog-confirm").await;
    b.wait("#tokens-empty").await;
    assert_eq!(b.path().await, "/admin/tokens");
    assert_clean(&b, "deleting the token").await;
    b.close().await;
}

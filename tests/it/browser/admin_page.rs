//! The admin page as a new admin meets it, at desktop (1440 px) and phone (390 px) width,
//! against a sandbox daemon whose simulated devices enrolled: the funnel is the same on the
//! Dashboard and the Enrollment page and counts released devices; devices, profiles and audit
//! entries show names, never ids; the device page's MDM panel labels its inputs, refuses an
//! empty name before sending anything and does not offer Release for a released device; the
//! first-steps checklist follows real state; on a phone the navigation folds behind a menu
//! button and no page scrolls sideways.

use super::{assert_clean, log_in, wait_js};
use crate::common::TestDaemon;
use adebox::sim::apple_pki::StandInApplePki;
use adebox::sim::fleet::{Fleet, FleetDevice, FleetTarget, Progress};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::sync::Arc;

const DEVICES: u64 = 6;
const ENROLLED: usize = 2;

/// The funnel of the figure `id` as the page shows it: step → count.
async fn funnel_on_page(b: &super::harness::Browser, id: &str) -> BTreeMap<String, u64> {
    let rows = wait_js(
        b,
        "(() => { const rows = [...document.querySelectorAll(`#${arguments[0]} .funnel-row`)];
                 return rows.length ? rows.map((r) => [r.dataset.key, Number(r.dataset.value)]) : null; })()",
        vec![json!(id)],
        &format!("the funnel #{id}"),
    )
    .await;
    rows.as_array()
        .unwrap()
        .iter()
        .map(|r| (r[0].as_str().unwrap().to_string(), r[1].as_u64().unwrap()))
        .collect()
}

/// Visible text showing an id: 32 hex digits, a dashed UUID, or one of `ids` (token and
/// profile ids the page should show by name). Empty when the page shows none.
async fn ids_shown(b: &super::harness::Browser, ids: &[String]) -> Vec<String> {
    let found = b
        .client
        .execute(
            "const text = document.querySelector('#main').innerText;
             const hits = text.match(/\\b[0-9a-fA-F]{32}\\b|\\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\\b/g) || [];
             return [...hits, ...arguments[0].filter((id) => text.includes(id))];",
            vec![json!(ids)],
        )
        .await
        .unwrap();
    found.as_array().unwrap().iter().map(|v| v.as_str().unwrap().to_string()).collect()
}

/// How far the page is wider than the window, and the widest elements when it is.
async fn sideways(b: &super::harness::Browser) -> Value {
    b.client
        .execute(
            "const over = document.documentElement.scrollWidth - window.innerWidth;
             if (over <= 1) return null;
             const wide = [...document.querySelectorAll('body *')]
               .filter((e) => e.getBoundingClientRect().right > window.innerWidth + 1)
               .slice(0, 8).map((e) => `${e.tagName}#${e.id}.${e.className}`);
             const wrap = document.querySelector('.table-wrap');
             const box = wrap ? `${getComputedStyle(wrap).overflowX} ${wrap.getBoundingClientRect().width}` : '';
             return { over, width: window.innerWidth, wrap: box, wide };",
            vec![],
        )
        .await
        .unwrap()
}

/// Opens a section by its navigation link (through the menu on a phone).
async fn open(b: &super::harness::Browser, phone: bool, section: &str, title: &str) {
    if phone {
        let nav = format!("#nav-{section}");
        let hidden = b
            .client
            .execute(
                "return document.querySelector(arguments[0]).offsetParent === null",
                vec![json!(nav)],
            )
            .await
            .unwrap();
        assert_eq!(hidden, json!(true), "on a phone the navigation is folded away");
        b.click("#nav-menu").await;
    }
    b.click(&format!("#nav-{section}")).await;
    b.wait_text("#page-title", title).await;
    if phone {
        wait_js(
            b,
            "document.querySelector('#nav-menu').getAttribute('aria-expanded') === 'false'",
            vec![],
            "the menu closing",
        )
        .await;
    }
}

/// A daemon with one token, its default profile and [`DEVICES`] devices of which
/// [`ENROLLED`] enrolled and were released: (daemon, token id, profile id, serials).
async fn enrolled_sandbox(pki: &Arc<StandInApplePki>) -> (TestDaemon, String, String, Vec<String>) {
    let now = adebox::clock::Clock::system().now();
    let (d, page, token_id, serials) =
        crate::enroll::fleet_with_default_profile(pki, DEVICES).await;
    let target = FleetTarget {
        profile_url: d.url("/enroll/machineinfo"),
        ca_pem: String::from_utf8(d.ca_pem()).unwrap(),
        resolve_to: None,
    };
    let fleet = Fleet::new(target, pki.clone()).unwrap().woken_by(d.apns().feed());
    let devices: Vec<FleetDevice> = serials
        .iter()
        .take(ENROLLED)
        .enumerate()
        .map(|(i, s)| FleetDevice::for_serial(s, i))
        .collect();
    let report = fleet.run(&devices, ENROLLED, &Progress::default(), now).await;
    assert_eq!(report.released as usize, ENROLLED, "{report:?}");
    let (_, profiles) = page.get("/api/v1/profiles").await;
    let profile_id = profiles["items"][0]["id"].as_str().unwrap().to_string();
    (d, token_id, profile_id, serials)
}

#[tokio::test]
async fn names_numbers_the_mdm_panel_and_phone_width() {
    let Some(b) = super::harness::start().await else { return };
    let now = adebox::clock::Clock::system().now();
    let pki = Arc::new(StandInApplePki::generate(now - time::Duration::days(1)).unwrap());
    let (d, token_id, profile_id, serials) = enrolled_sandbox(&pki).await;
    let serial = serials[0].clone();
    let ids = vec![token_id, profile_id];
    log_in(&b, &d, "admin").await;

    for (width, phone) in [(1440, false), (390, true)] {
        b.client.set_window_size(width, 900).await.unwrap();
        let at = format!("at {width} px");

        // One funnel: the Dashboard and the Enrollment page agree, and count what happened.
        open(&b, phone, "dashboard", "Dashboard").await;
        let dashboard = funnel_on_page(&b, "chart-funnel").await;
        assert_eq!(dashboard["in_apple"], DEVICES, "{at}: {dashboard:?}");
        assert_eq!(dashboard["released"], ENROLLED as u64, "{at}: {dashboard:?}");
        assert_eq!(dashboard["enrolled"], ENROLLED as u64, "{at}: {dashboard:?}");
        assert_eq!(dashboard["contacted"], ENROLLED as u64, "{at}: {dashboard:?}");
        let values: Vec<u64> = dashboard.values().copied().collect();
        assert_eq!(values.len(), 7, "{dashboard:?}");
        let lost = b.text("#chart-funnel").await;
        assert!(!lost.contains("−-") && !lost.contains("/ 0"), "{at}: {lost}");
        // The checklist: everything is done but the push certificate is there too, so it hides.
        wait_js(
            &b,
            "document.querySelector('#dash-setup-slot') !== null",
            vec![],
            "the setup slot",
        )
        .await;
        let setup = b
            .client
            .execute("return document.querySelector('#dash-setup') === null", vec![])
            .await
            .unwrap();
        assert_eq!(
            setup,
            json!(true),
            "{at}: every first step is done, so the checklist is hidden"
        );
        assert!(ids_shown(&b, &ids).await.is_empty(), "{at}: ids on the dashboard");
        assert_eq!(sideways(&b).await, Value::Null, "{at}: the dashboard scrolls sideways");

        open(&b, phone, "enrollment", "Enrollment").await;
        let enrollment = funnel_on_page(&b, "enroll-device-funnel").await;
        assert_eq!(dashboard, enrollment, "{at}: the two pages disagree");
        let words = b.text("#main").await;
        assert!(!words.contains("not counted here yet"), "{at}: stale wording");
        assert_eq!(sideways(&b).await, Value::Null, "{at}: the enrollment page scrolls sideways");

        // Names, not ids: the device list, its profile filter, the audit log.
        open(&b, phone, "devices", "Devices").await;
        b.wait(&format!("#devices-table a[data-serial='{serial}']")).await;
        b.wait("#devices-table a[data-profile-id]").await;
        let options = b
            .client
            .execute(
                "return [...document.querySelector('#devices-filter-profile_id').options].map((o) => o.text)",
                vec![],
            )
            .await
            .unwrap();
        assert_eq!(options, json!(["Any profile", "Default"]), "{at}: the profile filter");
        assert!(ids_shown(&b, &ids).await.is_empty(), "{at}: ids in the device list");
        assert_eq!(sideways(&b).await, Value::Null, "{at}: the devices page scrolls sideways");

        open(&b, phone, "audit", "Audit log").await;
        b.wait_text("#audit-table", "Set a default profile").await;
        let shown = ids_shown(&b, &ids).await;
        assert!(shown.is_empty(), "{at}: ids in the audit log: {shown:?}");
        assert_eq!(sideways(&b).await, Value::Null, "{at}: the audit log scrolls sideways");

        for (section, title) in [
            ("tokens", "Tokens"),
            ("profiles", "Profiles"),
            ("settings", "Settings"),
            ("sandbox", "Sandbox"),
        ] {
            open(&b, phone, section, title).await;
            tokio::time::sleep(std::time::Duration::from_millis(600)).await;
            assert_eq!(sideways(&b).await, Value::Null, "{at}: {section} scrolls sideways");
            assert!(ids_shown(&b, &ids).await.is_empty(), "{at}: ids on {section}");
        }

        // The device page's MDM panel: labelled, a released device cannot be released again,
        // an empty name is refused before anything is sent.
        b.goto(&d.url(&format!("/admin/devices/{serial}"))).await;
        b.wait_text("#device-mdm-state", "Enrolled").await;
        let released = b
            .client
            .execute(
                "const r = document.querySelector('#device-mdm-release');
                 const label = document.querySelector('label[for=device-mdm-name]');
                 return [r.disabled, r.getAttribute('aria-describedby') !== null, label?.textContent ?? ''];",
                vec![],
            )
            .await
            .unwrap();
        assert_eq!(released[0], json!(true), "{at}: Release now on a released device");
        assert_eq!(released[2], json!("New device name"), "{at}: {released}");
        let before = b.text("#device-mdm-commands").await;
        b.fill("#device-mdm-name", "   ").await;
        b.click("#device-mdm-rename").await;
        b.wait_text("#device-mdm-name-error", "Give the device a name").await;
        assert_eq!(b.text("#device-mdm-commands").await, before, "{at}: nothing was sent");
        b.wait_text("#device-mdm-commands thead", "Command").await;
        assert_eq!(sideways(&b).await, Value::Null, "{at}: the device page scrolls sideways");
        assert_clean(&b, &format!("the pages {at}")).await;
    }
}

#[tokio::test]
async fn a_fresh_appliance_shows_its_first_steps_with_links() {
    let Some(b) = super::harness::start().await else { return };
    let d = TestDaemon::with_simulator().await;
    let _page = d.sandbox_admin().await;
    log_in(&b, &d, "admin").await;
    for (width, phone) in [(1440, false), (390, true)] {
        b.client.set_window_size(width, 900).await.unwrap();
        open(&b, phone, "dashboard", "Dashboard").await;
        b.wait("#dash-setup-list li[data-step='token'][data-done='false']").await;
        let steps = b
            .client
            .execute(
                "return [...document.querySelectorAll('#dash-setup-list li')].map((li) => li.dataset.step)",
                vec![],
            )
            .await
            .unwrap();
        assert_eq!(
            steps,
            json!(["push", "token", "profile", "default", "enrollment_url", "enrolled"]),
            "at {width} px"
        );
        assert_eq!(
            sideways(&b).await,
            Value::Null,
            "at {width} px: the dashboard scrolls sideways"
        );
        b.click("#dash-setup-list li[data-step='token'] a").await;
        b.wait_text("#page-title", "Tokens").await;
    }
    assert_clean(&b, "the first steps").await;
}

//! Alerts in the browser, at desktop and phone width: removing the SMTP settings asks first,
//! then erases the server and its password (audited); a server token's banner opens the
//! token's Renew panel, the fix.

use super::harness::{self, Browser};
use super::{assert_clean, log_in, wait_js};
use crate::common::{TestDaemon, add_token};
use adebox::sim::dep::faults::Faults;
use reqwest::StatusCode;
use serde_json::json;

/// Fails when the page scrolls sideways at the current width.
pub(super) async fn fits(b: &Browser, width: u32) {
    let over = b
        .client
        .execute("return document.documentElement.scrollWidth - window.innerWidth", vec![])
        .await
        .unwrap();
    if over.as_f64().unwrap() > 1.0 {
        let wide = b
            .client
            .execute(
                "return [...document.querySelectorAll('body *')]\
                 .filter((e) => e.getBoundingClientRect().right > window.innerWidth + 1)\
                 .slice(0, 5).map((e) => e.tagName + '#' + e.id + '.' + e.className).join(' ')",
                vec![],
            )
            .await
            .unwrap();
        panic!("at {width} px the page scrolls sideways by {over}: {wide}");
    }
}

#[tokio::test]
async fn removing_the_smtp_settings_asks_first_and_a_token_banner_opens_its_renew_panel() {
    let Some(b) = harness::start().await else { return };
    let d = TestDaemon::with_simulator().await;
    let page = d.sandbox_admin().await;
    let (token, _) = add_token(&d, &page, "Banner campus").await;
    let id = token["id"].as_str().unwrap().to_string();
    // Apple refuses the token: its banner asks for a renewal.
    d.sim().set_faults(Faults { revoked: true, ..Faults::default() });
    let token_id = adebox::ids::TokenId::parse(&id).unwrap();
    let _ = d.running().services.sync.run_now(&token_id, adebox::sync::RunKind::Full).await;
    log_in(&b, &d, "admin").await;

    for (width, height) in [(1440, 900), (390, 844)] {
        b.client.set_window_size(width, height).await.unwrap();
        let smtp = json!({"smtp": {
            "host": "smtp.example.org", "port": 587, "security": "starttls",
            "username": "alerts", "password": "pw-to-erase-1", "from": "adebox@example.org",
        }});
        let (s, v) = page.send(reqwest::Method::PUT, "/api/v1/alerts/settings", Some(smtp)).await;
        assert_eq!(s, StatusCode::OK, "{v}");

        b.goto(&d.url("/admin/integrations")).await;
        b.wait("#smtp-remove:not([hidden])").await;
        b.click("#smtp-remove").await;
        b.click("#smtp-remove-dialog-cancel").await;
        let (_, v) = page.get("/api/v1/alerts/settings").await;
        assert_eq!(v["smtp"]["password_set"], true, "cancelled: nothing removed: {v}");
        b.click("#smtp-remove").await;
        b.click("#smtp-remove-dialog-confirm").await;
        wait_js(
            &b,
            "document.querySelector('#smtp-remove').hidden && document.querySelector('#smtp-host').value === ''",
            vec![],
            "the SMTP form emptied after removing",
        )
        .await;
        let (_, v) = page.get("/api/v1/alerts/settings").await;
        assert!(v["smtp"].is_null(), "removed: {v}");
        fits(&b, width).await;
        assert_clean(&b, "removing the SMTP settings").await;

        b.goto(&d.url("/admin/dashboard")).await;
        let link = "#banners [data-code='token_broken'] a.banner-link";
        let href = b.wait(link).await.attr("href").await.unwrap().unwrap_or_default();
        assert_eq!(href, format!("/admin/tokens/{id}#renew"));
        b.click(link).await;
        b.wait("#renew-form").await;
        let at = wait_js(&b, "location.pathname + location.hash", vec![], "the token page").await;
        assert_eq!(at, json!(format!("/admin/tokens/{id}#renew")));
        fits(&b, width).await;
        assert_clean(&b, "following a token banner").await;
    }
    let (_, audit) = page.get("/api/v1/audit?limit=100").await;
    let removals = audit.to_string().matches("alerts.smtp_remove").count();
    assert_eq!(removals, 2, "each removal audited: {audit}");
    assert!(!audit.to_string().contains("pw-to-erase-1"), "no password in the audit log");
    b.close().await;
}

//! An Owner limits an admin to one of two server tokens on Settings → Administrators, choosing
//! it by name; that admin's page then lists only that token and shows no organisation-wide
//! section (docs/roles.md, Scope). At desktop and phone width.

use super::{assert_clean, log_in, log_out, wait_js};
use crate::common::{PASSWORD, TestDaemon, add_token};
use serde_json::json;

#[tokio::test]
async fn an_owner_scopes_an_admin_by_token_name() {
    let Some(b) = super::harness::start().await else { return };
    let d = TestDaemon::with_simulator().await;
    let owner = d.sandbox_admin().await;
    let (a, _) = add_token(&d, &owner, "North campus").await;
    add_token(&d, &owner, "South campus").await;
    let (s, body) = owner
        .post(
            "/api/v1/admin/users",
            json!({"username": "olga", "password": PASSWORD, "role": "operator"}),
        )
        .await;
    assert_eq!(s, reqwest::StatusCode::CREATED, "{body}");

    b.client.set_window_size(1440, 900).await.unwrap();
    log_in(&b, &d, "admin").await;
    b.goto(&d.url("/admin/settings#admins")).await;
    let editor = "details[data-scope-user=\"olga\"]";
    b.wait_text(&format!("{editor} summary"), "All server tokens").await;
    b.click(&format!("{editor} summary")).await;
    b.wait(&format!("{editor} input[data-scope-token=\"North campus\"]")).await;
    b.click(&format!("{editor} input[value=\"some\"]")).await;
    b.click(&format!("{editor} input[data-scope-token=\"North campus\"]")).await;
    b.click(&format!("{editor} button[type=submit]")).await;
    b.wait_text(&format!("{editor} summary"), "North campus").await;
    let (_, users) = owner.get("/api/v1/admin/users").await;
    let olga = users["items"].as_array().unwrap().iter().find(|u| u["username"] == "olga").unwrap();
    assert_eq!(olga["scope"], json!([a["id"]]), "{users}");
    assert_clean(&b, "scope set").await;
    log_out(&b).await;

    for (width, height) in [(1440, 900), (390, 844)] {
        b.client.set_window_size(width, height).await.unwrap();
        log_in(&b, &d, "olga").await;
        let hidden =
            "!document.querySelector('#nav-audit') && !document.querySelector('#nav-enrollment')";
        wait_js(&b, hidden, vec![], "no organisation-wide sections").await;
        let dashboard = "document.querySelector('#chart-expiry') \
                         && !document.body.textContent.includes('could not be loaded')";
        wait_js(&b, dashboard, vec![], "a dashboard that asks nothing organisation-wide").await;
        b.goto(&d.url("/admin/tokens")).await;
        b.wait_text("#page-content", "North campus").await;
        let south = "!document.querySelector('#page-content').textContent.includes('South campus')";
        wait_js(&b, south, vec![], "the other token is not listed").await;
        b.goto(&d.url("/admin/settings")).await;
        b.wait("#password-form").await;
        wait_js(&b, "!document.querySelector('#tls')", vec![], "no appliance settings").await;
        assert_clean(&b, &format!("scoped Operator at {width} px")).await;
        log_out(&b).await;
    }
    b.close().await;
}

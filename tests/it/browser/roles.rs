//! The page shows only what the role allows: a Help desk admin finds no API token
//! management and no way to add admins on Settings, where an Owner finds both; their
//! permissions come with the session (docs/roles.md).

use super::{assert_clean, log_in, log_out, wait_js};
use crate::common::{PASSWORD, TestDaemon};
use serde_json::json;

#[tokio::test]
async fn a_help_desk_admin_does_not_see_token_management_or_admin_management() {
    let Some(b) = super::harness::start().await else { return };
    let d = TestDaemon::start().await;
    let alice = d.setup_admin().await;
    let (s, body) = alice
        .post(
            "/api/v1/admin/users",
            json!({"username": "desk", "password": PASSWORD, "role": "help_desk"}),
        )
        .await;
    assert_eq!(s, reqwest::StatusCode::CREATED, "{body}");

    log_in(&b, &d, "desk").await;
    b.goto(&d.url("/admin/settings")).await;
    b.wait("#password-form").await;
    b.wait("#sync-settings").await;
    let hidden = "!document.querySelector('#api-tokens') && !document.querySelector('#admin-new-form') \
                  && !document.querySelector('a[href=\"#api-tokens\"]')";
    wait_js(&b, hidden, vec![], "no token or admin management for Help desk").await;
    assert_clean(&b, "Help desk on Settings").await;
    log_out(&b).await;

    log_in(&b, &d, "alice").await;
    b.goto(&d.url("/admin/settings")).await;
    b.wait("#api-token-form").await;
    b.wait("#admin-new-form").await;
    b.wait("#admin-new-role").await;
    assert_clean(&b, "Owner on Settings").await;
    b.close().await;
}

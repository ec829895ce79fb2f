//! The device page's Apple Business panel, at desktop (1440 px) and phone (390 px) width:
//! AppleCare coverage read through the API, an action sent only once its confirmation is
//! typed, its progress followed until Apple has finished, each serial's outcome shown; an
//! Operator is not offered the release (Owners only).

use super::{assert_clean, log_in, log_out, wait_js};
use crate::common::*;
use serde_json::json;

#[tokio::test]
async fn the_device_page_shows_applecare_and_follows_an_action_to_its_end() {
    let Some(b) = super::harness::start().await else { return };
    let d = TestDaemon::with_simulator().await;
    let page = d.sandbox_admin().await;
    let (token, uuid) = add_token(&d, &page, "Main campus").await;
    let tid = token["id"].as_str().unwrap().to_string();
    let (s, added) =
        page.post("/api/v1/sandbox/devices", json!({"server_uuid": uuid, "count": 2})).await;
    assert_eq!(s, reqwest::StatusCode::OK, "{added}");
    crate::tokens_api::sync_until(&d, &page, &tid, 2).await;
    crate::business_actions::set_up_account(&d, &page).await;
    let serials: Vec<String> =
        added["serials"].as_array().unwrap().iter().map(|s| s.as_str().unwrap().into()).collect();

    let (s, body) = page
        .post(
            "/api/v1/admin/users",
            json!({"username": "op", "password": PASSWORD, "role": "operator"}),
        )
        .await;
    assert_eq!(s, reqwest::StatusCode::CREATED, "{body}");
    log_in(&b, &d, "op").await;
    b.goto(&d.url(&format!("/admin/devices/{}", serials[0]))).await;
    b.wait("#device-business-action").await;
    let release = "[...document.querySelectorAll('#device-business-action option')].some((o) => o.value === 'release')";
    assert_eq!(
        wait_js(&b, &format!("!{release}"), vec![], "no release for an Operator").await,
        json!(true)
    );
    log_out(&b).await;

    log_in(&b, &d, "admin").await;
    for ((width, height), serial) in [(1440, 900), (390, 844)].into_iter().zip(&serials) {
        b.client.set_window_size(width, height).await.unwrap();
        b.goto(&d.url(&format!("/admin/devices/{serial}"))).await;
        let care = "['active','inactive','none'].includes(document.querySelector('#device-applecare')?.dataset.state)";
        wait_js(&b, care, vec![], "the AppleCare coverage").await;
        super::choose(&b, "#device-business-action", "Unassign from its MDM server").await;
        let disabled = "document.querySelector('#device-business-submit').disabled";
        b.fill("#device-business-confirm", "NOT-IT").await;
        assert_eq!(wait_js(&b, disabled, vec![], "the send button").await, json!(true));
        b.fill("#device-business-confirm", serial).await;
        wait_js(&b, &format!("{disabled} === false"), vec![], "the send button enabled").await;
        b.click("#device-business-submit").await;
        let done =
            "document.querySelector('#device-business-progress')?.dataset.state === 'finished'";
        wait_js(&b, done, vec![], "the action finished at Apple").await;
        b.wait_text("#device-business-results", "Done").await;
        super::business::fits(&b, &format!("the device page at {width} px")).await;
        assert_clean(&b, &format!("an action from the device page at {width} px")).await;
    }
    for serial in &serials {
        let (_, list) = page.get(&format!("/api/v1/business/actions?serial={serial}")).await;
        assert_eq!(list["items"][0]["action"], "unassign", "{list}");
        assert_eq!(list["items"][0]["results"][0]["outcome"], "done", "{list}");
    }
}

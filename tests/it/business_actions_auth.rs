//! Apple Business refusing the appliance's client assertion, through the daemon: an
//! assertion Apple sees expired (the appliance's clock is behind: adebox signs a fresh one,
//! valid ten minutes, for every token request), one issued in the future (the clock is
//! ahead), one for an audience Apple no longer accepts
//! (the simulator's moved-audience fault), and a revoked account. Each is a 502 whose
//! message says what happened and what to do; no action is stored. Also: where a serial is,
//! for a server the admin mapped, is named as our token is named, and actions reach it.

use crate::business::new_account;
use crate::business_actions::{finished, set_up_account};
use crate::business_world::post_csv;
use crate::common::*;
use crate::tokens_api::sync_until;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

async fn where_is(page: &Page, serial: &str) -> (StatusCode, Value) {
    page.get(&format!("/api/v1/business/where/{serial}")).await
}

/// The refusal the API gives for `serial`, asserting it is Apple's refusal of the account.
async fn refused(page: &Page, serial: &str) -> String {
    let (s, e) = where_is(page, serial).await;
    assert_eq!(
        (s, e["error"].as_str()),
        (StatusCode::BAD_GATEWAY, Some("business_account_refused")),
        "{e}"
    );
    e["message"].as_str().unwrap().to_string()
}

/// A daemon whose clock is `off` from Apple's, with the account set up and one device of
/// the organisation: its serial and the where-is refusal's message.
async fn clock_off(off: time::Duration) -> (TestDaemon, Page, String, String) {
    let at = adebox::clock::Clock::system().now() + off;
    let d = TestDaemon::with_simulator_trusting_at(
        adebox::daemon::DeviceTrust::Apple,
        adebox::clock::Clock::manual(at),
    )
    .await;
    let page = d.sandbox_admin().await;
    let serial = d.sim().add_devices(None, 1).unwrap().remove(0);
    set_up_account(&d, &page).await;
    let message = refused(&page, &serial).await;
    (d, page, serial, message)
}

/// An action refused for the account, its message holding `words`; nothing stored.
async fn action_refused(page: &Page, (s, e): (StatusCode, Value), words: &str) {
    assert_eq!(
        (s, e["error"].as_str()),
        (StatusCode::BAD_GATEWAY, Some("business_refused")),
        "{e}"
    );
    assert!(e["message"].as_str().unwrap().contains(words), "{e}");
    let (_, list) = page.get("/api/v1/business/actions").await;
    assert_eq!(list["total"], 0, "nothing stored: {list}");
}

#[tokio::test]
async fn an_expired_assertion_names_the_appliance_clock() {
    // The appliance's clock an hour behind Apple's: each assertion it signs has expired.
    let (_d, page, serial, message) = clock_off(-time::Duration::hours(1)).await;
    assert!(message.contains("expired"), "{message}");
    assert!(message.contains("clock is behind") && message.contains("NTP"), "{message}");
    // An action is refused the same way, before anything is stored or sent.
    let body = json!({"request_id": "auth-1", "action": "cancel_migration",
        "serials": [serial], "confirm": serial});
    let answer = page.post("/api/v1/business/actions", body).await;
    action_refused(&page, answer, "clock is behind").await;
}

#[tokio::test]
async fn an_assertion_issued_in_the_future_names_the_appliance_clock_ahead() {
    // The appliance's clock half an hour ahead of Apple's (the daemon's own certificate,
    // backdated an hour, still serves): Apple sees each assertion issued in the future.
    let (d, page, serial, message) = clock_off(time::Duration::minutes(30)).await;
    assert!(message.contains("iat is in the future"), "Apple's words: {message}");
    assert!(message.contains("clock is ahead") && message.contains("NTP"), "{message}");
    assert!(!message.contains("behind"), "{message}");
    // The bulk tool's route is refused the same way: nothing stored, nothing sent.
    let q =
        [("request_id", "ahead-1"), ("action", "cancel_migration"), ("confirm", serial.as_str())];
    let path = "/business/actions/csv";
    let answer = post_csv(&d, &page, None, path, &q, format!("{serial}\n")).await;
    action_refused(&page, answer, "clock is ahead").await;
}

#[tokio::test]
async fn a_wrong_audience_and_a_revoked_account_are_told_with_the_fix() {
    let d = TestDaemon::with_simulator().await;
    let page = d.sandbox_admin().await;
    let loose = d.sim().add_devices(None, 1).unwrap();

    // Apple moved its audience: the assertion adebox signs is refused, said so.
    d.sim().business().set_audience_moved(true);
    set_up_account(&d, &page).await;
    let message = refused(&page, &loose[0]).await;
    assert!(message.contains("aud must be"), "Apple's words: {message}");
    assert!(message.contains("audience") && message.contains("update adebox"), "{message}");

    // Back to the documented audience: it works; then the account is revoked at Apple.
    d.sim().business().set_audience_moved(false);
    let (_, a) = where_is(&page, &loose[0]).await;
    assert_eq!(a["answer"], "unassigned", "{a}");
    let (_, account) = page.get("/api/v1/business/account").await;
    d.sim().business().revoke_account(account["client_id"].as_str().unwrap()).unwrap();
    // Saved again (as an admin re-uploading would): the client asks Apple for a new token.
    let again = json!({"client_id": account["client_id"], "key_id": account["key_id"],
        "private_key_pem": new_account(&d)["private_key_pem"]});
    let (s, _) = page.send(Method::PUT, "/api/v1/business/account", Some(again)).await;
    assert_eq!(s, StatusCode::OK);
    let message = refused(&page, &loose[0]).await;
    assert!(message.contains("revoked"), "{message}");
    assert!(message.contains("create a new API account"), "{message}");
}

#[tokio::test]
async fn a_server_the_admin_mapped_is_named_as_our_token_and_takes_actions() {
    let d = TestDaemon::with_simulator().await;
    let page = d.sandbox_admin().await;
    let (token, _) = add_token(&d, &page, "Main campus").await;
    let tid = token["id"].as_str().unwrap().to_string();
    // Apple's server for it has another id (and name): the admin maps it once.
    let (apple_uuid, _) = d.sim().add_server_with_credentials("MDM-7 (Apple's name)");
    let at_apple = d.sim().add_devices(Some(&apple_uuid), 1).unwrap();
    let loose = d.sim().add_devices(None, 1).unwrap();
    sync_until(&d, &page, &tid, 0).await;
    set_up_account(&d, &page).await;
    let (_, servers) = page.get("/api/v1/business/servers").await;
    let id = servers["servers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["server_name"] == "MDM-7 (Apple's name)")
        .unwrap()["mdm_server_id"]
        .clone();
    // Unmapped, "Main campus" has an MDM server of its own (matched by uuid): forget it by
    // mapping the token to Apple's other server.
    let path = format!("/api/v1/business/servers/{tid}");
    let (s, e) = page.send(Method::PUT, &path, Some(json!({"mdm_server_id": id.clone()}))).await;
    assert_eq!(s, StatusCode::NO_CONTENT, "{e}");

    let (_, a) = where_is(&page, &at_apple[0]).await;
    assert_eq!(
        (a["answer"].as_str(), a["server_name"].as_str(), a["token"].as_str()),
        (Some("ours"), Some("Main campus"), Some(tid.as_str())),
        "{a}"
    );
    assert!(a["message"].as_str().unwrap().contains("“Main campus”"), "{a}");
    assert!(!a.to_string().contains("Apple's name"), "{a}");

    // An assign to the token goes to the server it is mapped to.
    let body = json!({"request_id": "map-1", "action": "assign", "serials": [loose[0]],
        "token": tid, "confirm": loose[0]});
    let (s, v) = page.post("/api/v1/business/actions", body).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["server_name"], "Main campus");
    finished(&page, "map-1").await;
    let (_, a) = where_is(&page, &loose[0]).await;
    assert_eq!((a["answer"].as_str(), a["mdm_server_id"].clone()), (Some("ours"), id), "{a}");
}

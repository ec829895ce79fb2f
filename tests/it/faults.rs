//! The DEP simulator's fault profiles against the whole daemon, asserted through the API the
//! page uses: sync converges through 5xx, 429, resets, slow answers and duplicates; a revoked
//! token and unsigned Terms and Conditions show as banners naming the token, and clear once
//! Apple accepts it again. (Unit-level fault tests live in src/sync/tests.rs and
//! src/depclient/tests/faults.rs; assignment under faults in assignments_api.rs.)

use crate::common::*;
use adebox::sim::dep::Faults;
use adebox::sim::dep::faults::Slow;
use adebox::sync::RunKind;
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::time::Duration;

async fn token_with_devices(d: &TestDaemon, page: &Page, count: u64) -> String {
    let (token, uuid) = add_token(d, page, "Faulty campus").await;
    let (s, _) =
        page.post("/api/v1/sandbox/devices", json!({"server_uuid": uuid, "count": count})).await;
    assert_eq!(s, StatusCode::OK);
    token["id"].as_str().unwrap().to_string()
}

async fn total(page: &Page, token: &str) -> u64 {
    let (_, list) = page.get(&format!("/api/v1/devices?token={token}&limit=1")).await;
    list["total"].as_u64().unwrap_or(0)
}

fn banner_codes(status: &Value) -> Vec<String> {
    status["banners"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|b| b["code"].as_str().map(str::to_string))
        .collect()
}

#[tokio::test]
async fn sync_converges_through_errors_throttling_resets_and_slow_answers() {
    let d = TestDaemon::with_simulator().await;
    let page = d.sandbox_admin().await;
    let token = token_with_devices(&d, &page, 400).await;
    d.sim().set_faults(Faults {
        server_error_rate: 0.2,
        too_many_requests_rate: 0.1,
        retry_after_secs: 0,
        reset_rate: 0.05,
        duplicate_rate: 0.2,
        slow: Some(Slow { delay: Duration::from_millis(20), rate: 0.2 }),
        ..Faults::default()
    });
    for _ in 0..15 {
        let _ = d
            .running()
            .services
            .sync
            .run_now(&adebox::ids::TokenId::parse(&token).unwrap(), RunKind::Full)
            .await;
        if total(&page, &token).await == 400 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    d.sim().set_faults(Faults::default());
    assert_eq!(total(&page, &token).await, 400, "every device arrived once despite the faults");
    let (s, status) = page.get(&format!("/api/v1/sync/{token}")).await;
    assert_eq!(s, StatusCode::OK, "{status}");
    let (_, st) = page.get("/api/v1/status").await;
    assert!(!banner_codes(&st).contains(&"token_broken".to_string()), "{st}");
}

#[tokio::test]
async fn a_revoked_token_and_unsigned_terms_show_as_banners_until_apple_accepts_again() {
    let d = TestDaemon::with_simulator().await;
    let page = d.sandbox_admin().await;
    let token = token_with_devices(&d, &page, 20).await;
    for (faults, what) in [
        (Faults { revoked: true, ..Faults::default() }, "revoked"),
        (Faults { terms_not_signed: true, ..Faults::default() }, "terms"),
    ] {
        d.sim().set_faults(faults);
        let _ = d
            .running()
            .services
            .sync
            .run_now(&adebox::ids::TokenId::parse(&token).unwrap(), RunKind::Full)
            .await;
        let (_, st) = page.get("/api/v1/status").await;
        let banner = st["banners"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|b| b["code"] == "token_broken")
            .unwrap_or_else(|| panic!("{what}: no token banner in {st}"));
        let message = banner["message"].as_str().unwrap();
        assert!(message.contains("Faulty campus"), "{what}: {message}");
        assert!(banner["link"].as_str().unwrap().contains(&token), "{what}: {banner}");
        let (_, sync) = page.get(&format!("/api/v1/sync/{token}")).await;
        assert!(!sync.to_string().contains("CS_"), "no secret in the sync status");
        // Apple accepts the token again: the next run clears the banner.
        d.sim().set_faults(Faults::default());
        let _ = d
            .running()
            .services
            .sync
            .run_now(&adebox::ids::TokenId::parse(&token).unwrap(), RunKind::Full)
            .await;
        let (_, st) = page.get("/api/v1/status").await;
        assert!(!banner_codes(&st).contains(&"token_broken".to_string()), "{what}: {st}");
    }
    assert_eq!(total(&page, &token).await, 20);
}

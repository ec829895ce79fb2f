//! Each fault, error body styles and reproducibility (dep-api.md §7 items 6, 8, 9).

use super::{UA, start, start_with};
use crate::clock::Clock;
use crate::dep::faults::Faults;
use crate::dep::state::ErrorStyle;
use crate::dep::{Behaviour, SimDepConfig};
use reqwest::Method;
use serde_json::json;
use std::time::Instant;

#[tokio::test]
async fn the_5xx_fault_answers_server_errors() {
    let s = start(1).await;
    let session = s.new_session().await;
    s.sim.set_faults(Faults::parse("5xx=1").unwrap());
    for _ in 0..5 {
        let r = s.call_with(Method::GET, "/account", &session, 10, None).await;
        assert!([500, 502, 503].contains(&r.status), "{}", r.status);
        assert_eq!(r.text, "Try again");
    }
    s.sim.stop().await;
}

#[tokio::test]
async fn the_429_fault_sends_retry_after() {
    let s = start(1).await;
    let session = s.new_session().await;
    s.sim.set_faults(Faults::parse("429=1,retry-after=7").unwrap());
    let r = s.call_with(Method::POST, "/server/devices", &session, 10, Some(&json!({}))).await;
    assert_eq!(r.status, 429);
    assert_eq!(r.header("retry-after"), Some("7"));
    s.sim.stop().await;
}

#[tokio::test]
async fn the_slow_fault_delays_responses() {
    let s = start(1).await;
    let session = s.new_session().await;
    s.sim.set_faults(Faults::parse("slow=300ms").unwrap());
    let t = Instant::now();
    assert_eq!(s.call_with(Method::GET, "/account", &session, 10, None).await.status, 200);
    assert!(t.elapsed().as_millis() >= 300, "{:?}", t.elapsed());
    s.sim.stop().await;
}

#[tokio::test]
async fn the_reset_fault_cuts_the_response_short() {
    let s = start(50).await;
    let session = s.new_session().await;
    s.sim.set_faults(Faults::parse("reset=1").unwrap());
    let sent = s
        .http
        .post(s.url("/server/devices"))
        .header("User-Agent", UA)
        .header("X-ADM-Auth-Session", &session)
        .header("X-Server-Protocol-Version", "10")
        .body(json!({ "limit": 50 }).to_string())
        .send()
        .await;
    let outcome = match sent {
        Err(e) => Err(e),
        Ok(r) => r.bytes().await.map(|_| ()),
    };
    assert!(outcome.is_err(), "a reset must surface as a transport error");
    s.sim.set_faults(Faults::default());
    // The simulator itself keeps serving.
    assert_eq!(
        s.call_with(Method::GET, "/account", &s.new_session().await, 10, None).await.status,
        200
    );
    s.sim.stop().await;
}

#[tokio::test]
async fn the_echo_cursor_fault_repeats_the_cursor_with_more_to_follow() {
    let s = start(3).await;
    let (_, cursor) = s.fetch_all(100).await;
    s.sim.set_faults(Faults::parse("echo-cursor").unwrap());
    let r = s.call(Method::POST, "/devices/sync", Some(&json!({ "cursor": cursor }))).await.json();
    assert_eq!(r["cursor"], cursor.as_str());
    assert_eq!(r["more_to_follow"], true);
    // A first fetch has no cursor to echo.
    let first = s.call(Method::POST, "/server/devices", Some(&json!({}))).await.json();
    assert_eq!(first["devices"].as_array().unwrap().len(), 3);
    s.sim.stop().await;
}

#[tokio::test]
async fn the_dup_fault_repeats_sync_records() {
    let s = start(0).await;
    let (_, cursor) = s.fetch_all(100).await;
    let now = s.sim.now();
    s.sim.with_world(|w| w.add_devices(Some(s.server), 3, &[], now).unwrap());
    s.sim.set_faults(Faults::parse("dup=1").unwrap());
    let r = s.call(Method::POST, "/devices/sync", Some(&json!({ "cursor": cursor }))).await.json();
    assert_eq!(r["devices"].as_array().unwrap().len(), 6);
    s.sim.stop().await;
}

#[tokio::test]
async fn error_bodies_follow_the_chosen_style_with_apples_content_type() {
    let s = start(0).await;
    for (style, body) in [
        (ErrorStyle::Bare, "CURSOR_REQUIRED"),
        (ErrorStyle::BareNewline, "CURSOR_REQUIRED\n"),
        (ErrorStyle::JsonQuoted, "\"CURSOR_REQUIRED\""),
    ] {
        s.sim.set_behaviour(Behaviour { error_style: style, ..Behaviour::default() });
        let r = s.call(Method::POST, "/devices/sync", Some(&json!({}))).await;
        assert_eq!((r.status, r.text.as_str()), (400, body));
        assert_eq!(r.header("content-type"), Some("application/json;charset=UTF8"));
        assert_eq!(
            crate::apple::dep::DepErrorCode::parse(&r.text),
            Some(crate::apple::dep::DepErrorCode::CursorRequired)
        );
    }
    s.sim.stop().await;
}

#[tokio::test]
async fn the_same_seed_reproduces_devices_and_fault_decisions() {
    let mut runs = Vec::new();
    for _ in 0..2 {
        let config = SimDepConfig {
            clock: Clock::manual(super::T0),
            seed: 42,
            faults: Faults::parse("5xx=0.5").unwrap(),
            ..SimDepConfig::default()
        };
        let s = start_with(config, 20).await;
        let serials = s.truth_serials();
        s.sim.set_faults(Faults::default());
        let session = s.new_session().await;
        s.sim.set_faults(Faults::parse("5xx=0.5").unwrap());
        let mut statuses = Vec::new();
        for _ in 0..12 {
            statuses.push(s.call_with(Method::GET, "/account", &session, 10, None).await.status);
        }
        runs.push((serials, statuses));
        s.sim.stop().await;
    }
    assert_eq!(runs[0], runs[1]);
    assert!(runs[0].1.contains(&200) && runs[0].1.iter().any(|s| *s >= 500), "{:?}", runs[0].1);
}

#[tokio::test]
async fn every_response_is_sized_not_chunked() {
    let s = start(1000).await;
    let session = s.new_session().await;
    let client = reqwest::Client::builder()
        .tls_certs_only([reqwest::Certificate::from_pem(s.sim.ca_pem().as_bytes()).unwrap()])
        .http1_only()
        .build()
        .unwrap();
    let r = client
        .post(s.url("/server/devices"))
        .header("User-Agent", UA)
        .header("X-ADM-Auth-Session", &session)
        .header("X-Server-Protocol-Version", "10")
        .body(json!({ "limit": 1000 }).to_string())
        .send()
        .await
        .unwrap();
    assert!(r.headers().get("transfer-encoding").is_none());
    let len: usize = r.headers()["content-length"].to_str().unwrap().parse().unwrap();
    assert_eq!(r.bytes().await.unwrap().len(), len);
    s.sim.stop().await;
}

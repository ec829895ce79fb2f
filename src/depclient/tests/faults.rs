//! Transport-level faults: 5xx, 429 with Retry-After, slow answers, connection resets, cursor
//! echo, error-body styles, and the retry helper against them.

use super::{env, env_with};
use crate::depclient::{DepError, RetryPolicy, retry};
use crate::sim::dep::state::ErrorStyle;
use crate::sim::dep::{Behaviour, SimDepConfig};
use std::time::Duration;

#[tokio::test]
async fn server_errors_are_retryable() {
    let e = env(0).await;
    e.faults("5xx=1");
    let err = e.client.account().await.unwrap_err();
    assert!(matches!(err, DepError::Retryable { status: 500..=503, retry_after: None }), "{err:?}");
    assert!(err.is_retryable());
    e.stop().await;
}

#[tokio::test]
async fn too_many_requests_carries_retry_after() {
    let e = env(0).await;
    e.client.account().await.unwrap();
    e.faults("429=1, retry-after=7");
    let err = e.client.account().await.unwrap_err();
    assert!(matches!(err, DepError::Retryable { status: 429, .. }), "{err:?}");
    assert_eq!(err.retry_after(), Some(Duration::from_secs(7)));
    assert!(err.admin_message().contains("7 s"));
    e.stop().await;
}

#[tokio::test]
async fn slow_answers_time_out() {
    let e = env_with(SimDepConfig::default(), 0, Duration::from_millis(300)).await;
    e.faults("slow=2s");
    let err = e.client.account().await.unwrap_err();
    assert!(matches!(err, DepError::Timeout), "{err:?}");
    assert!(err.is_retryable());
    e.stop().await;
}

#[tokio::test]
async fn a_reset_connection_is_a_retryable_transport_error() {
    let e = env(50).await;
    e.client.account().await.unwrap();
    e.faults("reset=1");
    let err = e.client.fetch_devices(None, 50).await.unwrap_err();
    assert!(matches!(err, DepError::Transport(_) | DepError::Timeout), "{err:?}");
    assert!(err.is_retryable());
    e.stop().await;
}

#[tokio::test]
async fn an_echoed_cursor_is_returned_as_is_for_the_caller_to_detect() {
    let e = env(3).await;
    let page = e.client.fetch_devices(None, 100).await.unwrap();
    e.faults("echo-cursor");
    let echoed = e.client.sync_devices(&page.cursor, 100).await.unwrap();
    assert_eq!(echoed.cursor, page.cursor);
    assert!(echoed.more_to_follow && echoed.devices.is_empty());
    e.stop().await;
}

#[tokio::test]
async fn every_error_body_style_classifies_the_same() {
    let e = env(0).await;
    for style in [ErrorStyle::Bare, ErrorStyle::BareNewline, ErrorStyle::JsonQuoted] {
        e.sim.set_behaviour(Behaviour { error_style: style, ..Behaviour::default() });
        let err = e.client.sync_devices("", 100).await.unwrap_err();
        assert!(matches!(err, DepError::CursorRequired), "{style:?}: {err:?}");
        let err = e.client.get_profile(&pu("")).await.unwrap_err();
        assert!(matches!(err, DepError::ProfileUuidRequired), "{style:?}: {err:?}");
    }
    e.stop().await;
}

#[tokio::test]
async fn retry_recovers_once_the_service_is_back_and_gives_up_within_bounds() {
    let e = env(0).await;
    let policy = RetryPolicy {
        max_attempts: 3,
        max_total: Duration::from_secs(30),
        base_delay: Duration::from_millis(5),
        max_delay: Duration::from_millis(10),
    };
    e.faults("5xx=1");
    let before = e.sim.requests();
    let err = retry(&policy, &e.clock, || e.client.account()).await.unwrap_err();
    assert!(err.is_retryable());
    assert_eq!(e.sim.requests() - before, 3, "bounded attempts");

    let attempts = std::sync::atomic::AtomicU32::new(0);
    let account = retry(&policy, &e.clock, || {
        if attempts.fetch_add(1, std::sync::atomic::Ordering::SeqCst) == 1 {
            e.faults("none");
        }
        e.client.account()
    })
    .await
    .unwrap();
    assert_eq!(account.server_name, "Test MDM");
    e.stop().await;
}

/// A profile uuid as Apple or a test spells it, sent as it is (empty ones included, to see
/// Apple's answer).
fn pu(s: &str) -> crate::ids::ProfileUuid {
    crate::ids::ProfileUuid::from_stored(s.to_string())
}

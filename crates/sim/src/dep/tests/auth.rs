//! `/session`, sessions, User-Agent, revoked tokens and the scripted 403s (dep-api.md §2, §7
//! items 1–3).

use super::{UA, start};
use crate::dep::faults::Faults;
use reqwest::Method;
use time::Duration;

#[tokio::test]
async fn accepts_a_signed_session_request_with_or_without_realm() {
    let s = start(0).await;
    for realm in [None, Some("ADM")] {
        let h = s.auth_header(&s.creds, &format!("nonce-{realm:?}"), realm);
        let r = s.raw_session(Some(&h), Some(UA)).await;
        assert_eq!(r.status, 200, "realm {realm:?}: {}", r.text);
        assert_eq!(r.header("content-type"), Some("application/json;charset=UTF8"));
        assert!(!r.json()["auth_session_token"].as_str().unwrap().is_empty());
    }
    s.sim.stop().await;
}

#[tokio::test]
async fn rejects_a_reused_nonce() {
    let s = start(0).await;
    let h = s.auth_header(&s.creds, "same-nonce", None);
    assert_eq!(s.raw_session(Some(&h), Some(UA)).await.status, 200);
    assert_eq!(s.raw_session(Some(&h), Some(UA)).await.status, 401);
    s.sim.stop().await;
}

#[tokio::test]
async fn rejects_a_bad_signature_and_an_unknown_consumer_key() {
    let s = start(0).await;
    let mut wrong = s.creds.clone();
    wrong.access_secret = crate::crypto::Secret::new("AS_wrong".into());
    let r = s.raw_session(Some(&s.auth_header(&wrong, "n1", None)), Some(UA)).await;
    assert_eq!(r.status, 401);
    let mut stranger = s.creds.clone();
    stranger.consumer_key = "CK_nobody".into();
    let r = s.raw_session(Some(&s.auth_header(&stranger, "n2", None)), Some(UA)).await;
    assert_eq!(r.status, 401);
    s.sim.stop().await;
}

#[tokio::test]
async fn refuses_other_signature_methods_and_missing_parameters_with_400() {
    let s = start(0).await;
    let h = s.auth_header(&s.creds, "n1", None).replace("HMAC-SHA1", "PLAINTEXT");
    assert_eq!(s.raw_session(Some(&h), Some(UA)).await.status, 400);
    let h = s.auth_header(&s.creds, "n2", None);
    let without_nonce: String =
        h.split(", ").filter(|p| !p.starts_with("oauth_nonce")).collect::<Vec<_>>().join(", ");
    assert_eq!(s.raw_session(Some(&without_nonce), Some(UA)).await.status, 400);
    assert_eq!(s.raw_session(None, Some(UA)).await.status, 400);
    assert_eq!(s.raw_session(Some("Basic abc"), Some(UA)).await.status, 400);
    s.sim.stop().await;
}

#[tokio::test]
async fn requires_a_user_agent_and_refuses_denied_ones() {
    let s = start(0).await;
    let h = s.auth_header(&s.creds, "n1", None);
    let r = s.raw_session(Some(&h), None).await;
    assert_eq!((r.status, r.text.as_str()), (400, "USER_AGENT_MISSING"));
    let r = s.raw_session(Some(&h), Some("python-requests/2.31.0")).await;
    assert_eq!((r.status, r.text.as_str()), (400, "USER_AGENT_INVALID"));
    // API calls are filtered too.
    let session = s.new_session().await;
    let r = super::send(s.http.get(s.url("/account")).header("X-ADM-Auth-Session", &session)).await;
    assert_eq!((r.status, r.text.as_str()), (400, "USER_AGENT_MISSING"));
    s.sim.stop().await;
}

#[tokio::test]
async fn api_calls_need_a_live_session() {
    let s = start(0).await;
    let r = s.call_with(Method::GET, "/account", "no-such-session", 10, None).await;
    assert_eq!(r.status, 401);
    let session = s.new_session().await;
    assert_eq!(s.call_with(Method::GET, "/account", &session, 10, None).await.status, 200);
    // Default TTL is 30 minutes on the simulator clock.
    s.sim.advance(Duration::minutes(31));
    assert_eq!(s.call_with(Method::GET, "/account", &session, 10, None).await.status, 401);
    // micromdm's depsim answers 403 FORBIDDEN instead; switchable.
    s.sim.set_behaviour(crate::dep::Behaviour {
        unknown_session_forbidden: true,
        ..Default::default()
    });
    let r = s.call_with(Method::GET, "/account", &session, 10, None).await;
    assert_eq!((r.status, r.text.as_str()), (403, "FORBIDDEN"));
    s.sim.stop().await;
}

#[tokio::test]
async fn rotates_the_session_header_when_asked() {
    let s = start(0).await;
    s.sim.set_sessions(Duration::minutes(30), Some(2));
    let session = s.new_session().await;
    let first = s.call_with(Method::GET, "/account", &session, 10, None).await;
    assert_eq!(first.header("x-adm-auth-session"), None);
    let second = s.call_with(Method::GET, "/account", &session, 10, None).await;
    let rotated = second.header("x-adm-auth-session").expect("second use rotates").to_string();
    assert_ne!(rotated, session);
    assert_eq!(s.call_with(Method::GET, "/account", &rotated, 10, None).await.status, 200);
    s.sim.stop().await;
}

#[tokio::test]
async fn a_renewed_token_rejects_the_old_credentials() {
    let s = start(0).await;
    let old_session = s.new_session().await;
    let now = s.sim.now();
    let new = s.sim.with_world(|w| w.renew_token(s.server, now).unwrap().to_credentials());
    let r = s.raw_session(Some(&s.auth_header(&s.creds, "n-old", None)), Some(UA)).await;
    assert_eq!((r.status, r.text.as_str()), (401, "token_rejected"));
    // A session opened with the old token no longer works either.
    let r = s.call_with(Method::GET, "/account", &old_session, 10, None).await;
    assert_eq!((r.status, r.text.as_str()), (403, "signature_invalid"));
    let r = s.raw_session(Some(&s.auth_header(&new, "n-new", None)), Some(UA)).await;
    assert_eq!(r.status, 200, "{}", r.text);
    s.sim.stop().await;
}

#[tokio::test]
async fn the_revoked_fault_rejects_sessions_and_calls() {
    let s = start(0).await;
    let session = s.new_session().await;
    s.sim.set_faults(Faults::parse("revoked").unwrap());
    let r = s.raw_session(Some(&s.auth_header(&s.creds, "n1", None)), Some(UA)).await;
    assert_eq!((r.status, r.text.as_str()), (401, "token_rejected"));
    let r = s.call_with(Method::GET, "/account", &session, 10, None).await;
    assert_eq!((r.status, r.text.as_str()), (403, "signature_invalid"));
    s.sim.set_faults(Faults::default());
    assert_eq!(s.call_with(Method::GET, "/account", &session, 10, None).await.status, 200);
    s.sim.stop().await;
}

#[tokio::test]
async fn terms_not_signed_and_access_denied_answer_403() {
    let s = start(0).await;
    let session = s.new_session().await;
    for (spec, code) in [("tc-not-signed", "T_C_NOT_SIGNED"), ("access-denied", "ACCESS_DENIED")] {
        s.sim.set_faults(Faults::parse(spec).unwrap());
        let r = s.raw_session(Some(&s.auth_header(&s.creds, spec, None)), Some(UA)).await;
        assert_eq!((r.status, r.text.as_str()), (403, code));
        let r = s.call_with(Method::GET, "/account", &session, 10, None).await;
        assert_eq!((r.status, r.text.as_str()), (403, code));
    }
    s.sim.stop().await;
}

#[tokio::test]
async fn an_expired_token_is_refused() {
    let s = start(0).await;
    s.sim.advance(Duration::days(366));
    let r = s.raw_session(Some(&s.auth_header(&s.creds, "n1", None)), Some(UA)).await;
    assert_eq!(r.status, 401);
    s.sim.stop().await;
}

#[tokio::test]
async fn account_lists_the_server_and_v3_fields() {
    let s = start(0).await;
    let v10 = s.call(Method::GET, "/account", None).await.json();
    assert_eq!(v10["server_uuid"], s.uuid.as_str());
    assert_eq!(v10["server_name"], "Test MDM");
    assert!(
        v10["urls"]
            .as_array()
            .unwrap()
            .iter()
            .any(|u| u["uri"] == "/server/devices" && u["limit"]["maximum"] == 1000)
    );
    let v2 = s.call_v(Method::GET, "/account", 2, None).await.json();
    assert!(v2.get("urls").is_none() && v2.get("org_id").is_none());
    s.sim.stop().await;
}

#[tokio::test]
async fn unknown_paths_answer_not_found() {
    let s = start(0).await;
    let r = s.call(Method::GET, "/no/such/endpoint", None).await;
    assert_eq!((r.status, r.text.as_str()), (404, "NOT_FOUND"));
    s.sim.stop().await;
}

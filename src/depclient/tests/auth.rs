//! Sign-in, session reuse and renewal, rotation, and the authentication errors.

use super::{env, env_with};
use crate::apple::dep::DepErrorCode;
use crate::crypto::Secret;
use crate::depclient::DepError;
use crate::sim::dep::{Behaviour, SimDepConfig};
use std::sync::Arc;
use time::Duration;

#[tokio::test]
async fn signs_in_once_and_reuses_the_session() {
    let e = env(3).await;
    let account = e.client.account().await.unwrap();
    assert_eq!(account.server_name, "Test MDM");
    assert!(!account.server_uuid.is_empty());
    assert!(account.admin().is_some());
    assert!(account.org_name.is_some(), "protocol 10 answers carry the v3 org fields");
    e.client.account().await.unwrap();
    e.client.account().await.unwrap();
    assert_eq!(e.sim.requests(), 4, "one /session, three calls");
    e.stop().await;
}

#[tokio::test]
async fn signs_in_with_and_without_realm() {
    let e = env(0).await;
    let no_realm = e.client_for(e.credentials()).without_realm();
    no_realm.account().await.unwrap();
    e.client.account().await.unwrap();
    e.stop().await;
}

#[tokio::test]
async fn an_expired_session_is_renewed_transparently() {
    let e = env(0).await;
    e.client.account().await.unwrap();
    e.advance(Duration::minutes(31)); // the simulator's session TTL is 30 minutes
    e.client.account().await.unwrap();
    assert_eq!(e.sim.requests(), 5, "session, call, 401, session, retried call");
    e.stop().await;
}

#[tokio::test]
async fn concurrent_callers_share_one_renewal() {
    let e = env(0).await;
    let client = Arc::new(e.client);
    client.account().await.unwrap();
    e.sim.advance(Duration::minutes(31));
    let before = e.sim.requests();
    let calls: Vec<_> = (0..6)
        .map(|_| {
            let c = client.clone();
            tokio::spawn(async move { c.account().await })
        })
        .collect();
    for call in calls {
        call.await.unwrap().unwrap();
    }
    // Six refused calls, one sign-in, six retries. Without single-flight every caller would
    // sign in (and most would then be refused again).
    let used = e.sim.requests() - before;
    assert!((7..=13).contains(&used), "{used} requests: more than one sign-in?");
    e.sim.stop().await;
}

#[tokio::test]
async fn adopts_a_rotated_session_header() {
    let config = SimDepConfig { rotate_session_every: Some(1), ..SimDepConfig::default() };
    let e = env_with(config, 0, crate::outbound::REQUEST_TIMEOUT).await;
    e.sim.set_sessions(Duration::minutes(10), Some(1));
    e.client.account().await.unwrap(); // session S0 (t0); answer rotates to S1 (t0)
    e.advance(Duration::minutes(6));
    e.client.account().await.unwrap(); // uses S1; answer rotates to S2 (t0+6)
    e.advance(Duration::minutes(6));
    e.client.account().await.unwrap(); // S0 and S1 have expired; S2 still lives
    assert_eq!(e.sim.requests(), 4, "no 401 and no second sign-in: the rotated token was used");
    e.stop().await;
}

#[tokio::test]
async fn an_expired_token_is_refused_without_asking_apple() {
    let e = env(0).await;
    e.advance(Duration::days(366));
    let err = e.client.account().await.unwrap_err();
    assert!(matches!(err, DepError::TokenExpired { .. }), "{err:?}");
    assert!(err.admin_message().contains("expired on"));
    assert_eq!(e.sim.requests(), 0);
    e.stop().await;
}

#[tokio::test]
async fn wrong_credentials_fail_authentication() {
    let e = env(0).await;
    let mut wrong = e.credentials();
    wrong.access_secret = Secret::new("AS_wrong".into());
    let err = e.client_for(wrong).account().await.unwrap_err();
    assert!(matches!(err, DepError::AuthenticationFailed { status: 401 }), "{err:?}");
    let mut stranger = e.credentials();
    stranger.consumer_key = "CK_nobody".into();
    let err = e.client_for(stranger).account().await.unwrap_err();
    assert!(matches!(err, DepError::AuthenticationFailed { status: 401 }), "{err:?}");
    let msg = err.to_string();
    assert!(!msg.contains("AS_") && !msg.contains("AT_"), "no secret in {msg}");
    e.stop().await;
}

#[tokio::test]
async fn a_revoked_token_is_rejected_at_sign_in_and_on_calls() {
    let e = env(0).await;
    let signed_in = e.client_for(e.credentials());
    signed_in.account().await.unwrap();
    e.faults("revoked");
    let err = e.client.account().await.unwrap_err();
    assert!(
        matches!(err, DepError::TokenRejected { code: DepErrorCode::TokenRejected }),
        "{err:?}"
    );
    let err = signed_in.account().await.unwrap_err();
    assert!(
        matches!(err, DepError::TokenRejected { code: DepErrorCode::SignatureInvalid }),
        "{err:?}"
    );
    assert!(err.admin_message().contains("renew the token"));
    e.stop().await;
}

#[tokio::test]
async fn a_superseded_token_is_rejected() {
    let e = env(0).await;
    e.client.account().await.unwrap();
    let now = e.sim.now();
    let renewed =
        e.sim.with_world(|w| w.renew_token(e.server, now).expect("server").to_credentials());
    let err = e.client.account().await.unwrap_err();
    assert!(matches!(err, DepError::TokenRejected { .. }), "{err:?}");
    e.client_for(renewed).account().await.unwrap();
    e.stop().await;
}

#[tokio::test]
async fn terms_not_signed_and_access_denied_are_typed() {
    let e = env(0).await;
    let signed_in = e.client_for(e.credentials());
    signed_in.account().await.unwrap();
    e.faults("tc-not-signed");
    assert!(matches!(e.client.account().await, Err(DepError::TermsNotSigned)));
    assert!(matches!(signed_in.account().await, Err(DepError::TermsNotSigned)));
    e.faults("access-denied");
    assert!(matches!(signed_in.account().await, Err(DepError::AccessDenied)));
    e.faults("none");
    signed_in.account().await.unwrap();
    e.stop().await;
}

#[tokio::test]
async fn a_refused_user_agent_is_typed() {
    let e = env(0).await;
    let behaviour = Behaviour { user_agent_deny: vec!["adebox/".into()], ..Behaviour::default() };
    e.sim.set_behaviour(behaviour);
    let err = e.client.account().await.unwrap_err();
    assert!(
        matches!(err, DepError::UserAgentRejected { code: DepErrorCode::UserAgentInvalid }),
        "{err:?}"
    );
    e.stop().await;
}

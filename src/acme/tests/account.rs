//! Accounts in-process (RFC 8555 §7.3): the account object, contact updates, deactivation,
//! the orders list, keyChange; problem documents' extra members; and the outcomes reported
//! to the enrollment funnel.

use super::super::*;
use super::{CLIENT_ID, Device, World, issue, props, refused_attestation, world};
use crate::crypto::jws::signer::{AccountKey, sign_with_header};
use serde_json::{Value, json};
use std::sync::Mutex;

fn body(r: Reply) -> Value {
    match r.body {
        Body::Json(v) => v,
        Body::PemChain(_) => panic!("expected JSON"),
    }
}

fn order_payload(id: &str) -> Option<Value> {
    Some(json!({"identifiers": [{"type": "permanent-identifier", "value": id}]}))
}

fn account_id(d: &Device) -> String {
    d.kid.as_deref().unwrap().rsplit('/').next().unwrap().to_string()
}

#[tokio::test]
async fn the_account_url_answers_the_account_with_its_orders_url() {
    let w = world().await;
    let mut d = Device::new();
    let r = d
        .post(
            &w.acme,
            Endpoint::NewAccount,
            Some(json!({"contact": ["mailto:it@example.org"], "termsOfServiceAgreed": true})),
        )
        .await
        .unwrap();
    assert_eq!(r.status, 201);
    d.kid = r.location.clone();
    let created = body(r);
    let id = account_id(&d);
    let orders = w.acme.url_of(&Endpoint::Orders { account: id.clone(), cursor: None });
    assert!(orders.ends_with(&format!("/acme/acct/{id}/orders")), "{orders}");
    assert_eq!(
        created,
        json!({"status": "valid", "contact": ["mailto:it@example.org"], "orders": orders})
    );
    // POST-as-GET reads it back.
    let r = d.post(&w.acme, Endpoint::Account(id.clone()), None).await.unwrap();
    assert_eq!((r.status, body(r)), (200, created.clone()));
    // The same key at new-account gets the same account, in full.
    let kid = d.kid.take();
    let r = d.post(&w.acme, Endpoint::NewAccount, Some(json!({}))).await.unwrap();
    assert_eq!((r.status, &r.location), (200, &kid));
    assert_eq!(body(r), created);
    d.kid = kid;
    // Another account's URL is not this key's to read.
    let mut other = Device::new();
    other.register(&w.acme).await;
    let err = other.post(&w.acme, Endpoint::Account(id), None).await.unwrap_err();
    assert_eq!(err.problem_type(), "unauthorized");
}

#[tokio::test]
async fn contact_updates_are_stored_and_returned() {
    let w = world().await;
    let mut d = Device::new();
    d.register(&w.acme).await;
    let id = account_id(&d);
    let update = |c: Value| Some(json!({"contact": c}));
    let r = d
        .post(&w.acme, Endpoint::Account(id.clone()), update(json!(["mailto:a@example.org"])))
        .await
        .unwrap();
    assert_eq!(body(r)["contact"], json!(["mailto:a@example.org"]));
    let read = body(d.post(&w.acme, Endpoint::Account(id.clone()), None).await.unwrap());
    assert_eq!(read["contact"], json!(["mailto:a@example.org"]));
    assert_eq!(read["status"], "valid");
    // A refused update changes nothing.
    let err =
        d.post(&w.acme, Endpoint::Account(id.clone()), update(json!(["tel:1"]))).await.unwrap_err();
    assert_eq!(err.problem_type(), "unsupportedContact");
    let read = body(d.post(&w.acme, Endpoint::Account(id.clone()), None).await.unwrap());
    assert_eq!(read["contact"], json!(["mailto:a@example.org"]));
    // An empty list removes them; other members are ignored.
    let r = d
        .post(&w.acme, Endpoint::Account(id.clone()), Some(json!({"contact": [], "orders": "x"})))
        .await
        .unwrap();
    assert!(body(r).get("contact").is_none());
    let err = d
        .post(&w.acme, Endpoint::Account(id), Some(json!({"status": "revoked"})))
        .await
        .unwrap_err();
    assert_eq!(err.problem_type(), "malformed");
    assert!(err.to_string().contains("deactivated"), "{err}");
}

#[tokio::test]
async fn a_deactivated_accounts_key_is_refused_everywhere() {
    let w = world().await;
    let mut d = Device::new();
    let (order_id, authz_id, _) = d.order(&w.acme).await;
    let id = account_id(&d);
    let r = d
        .post(&w.acme, Endpoint::Account(id.clone()), Some(json!({"status": "deactivated"})))
        .await
        .unwrap();
    assert_eq!(body(r)["status"], "deactivated");

    for ep in [
        Endpoint::Account(id.clone()),
        Endpoint::Order(order_id.clone()),
        Endpoint::Authz(authz_id.clone()),
        Endpoint::Orders { account: id.clone(), cursor: None },
    ] {
        let err = d.post(&w.acme, ep.clone(), None).await.unwrap_err();
        assert!(matches!(err, AcmeError::Unauthorized(_)), "{ep:?}: {err}");
        assert_eq!(err.problem_type(), "unauthorized", "{ep:?}");
        assert!(err.to_string().contains("deactivated"), "{err}");
    }
    let err = d.post(&w.acme, Endpoint::NewOrder, order_payload(CLIENT_ID)).await.unwrap_err();
    assert_eq!(err.problem_type(), "unauthorized");
    // Not even new-account with the bare key: the key stays the deactivated account's.
    d.kid = None;
    let err = d.post(&w.acme, Endpoint::NewAccount, Some(json!({}))).await.unwrap_err();
    assert_eq!(err.problem_type(), "unauthorized");

    // Its pending work was cancelled, and the ClientIdentifier it held (never used for a
    // certificate) is free for the device's next account.
    let mut next = Device::new();
    next.register(&w.acme).await;
    let r = next.post(&w.acme, Endpoint::NewOrder, order_payload(CLIENT_ID)).await.unwrap();
    assert_eq!(r.status, 201);
    let pending = &w.acme.inner.pending;
    let (order, authz) = (pending.order(&order_id).unwrap(), pending.authz(&authz_id).unwrap());
    assert_eq!(order.status, records::Status::Invalid);
    assert!(order.error.unwrap().detail.contains("deactivated"));
    assert_eq!(authz.status, records::Status::Deactivated);
}

#[tokio::test]
async fn the_orders_list_pages_with_link_next_and_leaves_out_invalid_orders() {
    let w = world().await;
    let mut d = Device::new();
    d.register(&w.acme).await;
    let id = account_id(&d);
    let mut made = std::collections::BTreeSet::new();
    for _ in 0..account::ORDERS_PER_PAGE + 2 {
        let r = d.post(&w.acme, Endpoint::NewOrder, order_payload(CLIENT_ID)).await.unwrap();
        made.insert(r.location.unwrap());
    }
    // One more, refused at its challenge: invalid orders are not listed.
    let att = d.att_obj(&w.pki, props("stale"), w.now);
    let (_, invalid_id, _) = refused_attestation(&w, &mut d, att).await;

    let mut seen = std::collections::BTreeSet::new();
    let mut ep = Endpoint::Orders { account: id.clone(), cursor: None };
    let mut pages = 0;
    loop {
        let r = d.post(&w.acme, ep, None).await.unwrap();
        pages += 1;
        let next = r.link_next.clone();
        let v = body(r);
        let urls = v["orders"].as_array().unwrap();
        assert!(urls.len() <= account::ORDERS_PER_PAGE);
        seen.extend(urls.iter().map(|u| u.as_str().unwrap().to_string()));
        let Some(next) = next else { break };
        // The next page is its own URL, signed as such (RFC 8555 §7.1.2.1).
        let cursor = next.split_once("?cursor=").unwrap().1.to_string();
        ep = Endpoint::Orders { account: id.clone(), cursor: Some(cursor) };
        assert_eq!(w.acme.url_of(&ep), next);
    }
    assert_eq!(pages, 2);
    assert_eq!(seen, made);
    assert!(!seen.iter().any(|u| u.ends_with(&invalid_id)));

    // Only its own account reads it, with POST-as-GET, and a cursor is an id.
    let mut other = Device::new();
    other.register(&w.acme).await;
    let mine = Endpoint::Orders { account: id.clone(), cursor: None };
    let err = other.post(&w.acme, mine.clone(), None).await.unwrap_err();
    assert_eq!(err.problem_type(), "unauthorized");
    let err = d.post(&w.acme, mine, Some(json!({}))).await.unwrap_err();
    assert_eq!(err.problem_type(), "malformed");
    let bad = Endpoint::Orders { account: id, cursor: Some("../x".into()) };
    assert_eq!(d.post(&w.acme, bad, None).await.unwrap_err().problem_type(), "malformed");
}

#[tokio::test]
async fn upkeep_removes_expired_orders_from_the_list_then_the_account() {
    let w = world().await;
    let mut d = Device::new();
    d.order(&w.acme).await;
    let id = account_id(&d);
    let later = w.now + Duration::days(3);
    w.acme.inner.clock.set(later);
    w.acme.cleanup(later, upkeep::MAX_PER_RUN).await.unwrap();
    assert!(!w.acme.inner.pending.has_orders(&id));
    assert_eq!(w.acme.inner.pending.count(), 0);
    // With no order left and no certificate, the account went in the same pass.
    let err = d.post(&w.acme, Endpoint::Orders { account: id, cursor: None }, None).await;
    assert_eq!(err.unwrap_err().problem_type(), "accountDoesNotExist");
}

/// A keyChange body: the inner JWS signed by `new` for `url`, naming `account` and `old_jwk`;
/// `tweak` edits the inner header first.
fn key_change_inner(
    new: &AccountKey,
    url: &str,
    account: &str,
    old_jwk: Value,
    tweak: impl FnOnce(&mut Value),
) -> Value {
    let mut header = json!({"alg": new.alg().name(), "jwk": new.jwk().to_json(), "url": url});
    tweak(&mut header);
    sign_with_header(new, &header, Some(&json!({"account": account, "oldKey": old_jwk})))
}

#[tokio::test]
async fn key_change_rolls_the_account_over_to_the_new_key() {
    let w = world().await;
    let mut d = Device::new();
    d.register(&w.acme).await;
    let kid = d.kid.clone().unwrap();
    let url = w.acme.url_of(&Endpoint::KeyChange);
    let new = AccountKey::p384();
    let old_jwk = d.key.jwk().to_json();

    // Refusals first: each check of RFC 8555 §7.3.5.
    let refused = |inner: Value| {
        let d = &d;
        let w = &w;
        async move { d.post(&w.acme, Endpoint::KeyChange, Some(inner)).await.unwrap_err() }
    };
    let with_nonce =
        key_change_inner(&new, &url, &kid, old_jwk.clone(), |h| h["nonce"] = json!("n"));
    let other_url = key_change_inner(&new, &format!("{url}x"), &kid, old_jwk.clone(), |_| {});
    let other_account = key_change_inner(&new, &url, &format!("{kid}x"), old_jwk.clone(), |_| {});
    let wrong_old = key_change_inner(&new, &url, &kid, AccountKey::p256().jwk().to_json(), |_| {});
    let not_the_signer = key_change_inner(&new, &url, &kid, old_jwk.clone(), |h| {
        h["jwk"] = AccountKey::p384().jwk().to_json()
    });
    let with_kid = key_change_inner(&new, &url, &kid, old_jwk.clone(), |h| {
        h.as_object_mut().unwrap().remove("jwk");
        h["kid"] = json!(kid.clone());
    });
    for (what, inner, words) in [
        ("nonce", with_nonce, "nonce"),
        ("url", other_url, "url"),
        ("account", other_account, "account"),
        ("oldKey", wrong_old, "oldKey"),
        ("signature", not_the_signer, "signed"),
        ("kid", with_kid, "jwk"),
    ] {
        let err = refused(inner).await;
        assert_eq!(err.problem_type(), "malformed", "{what}: {err}");
        assert!(err.to_string().contains(words), "{what}: {err}");
    }
    let hs256 = key_change_inner(&new, &url, &kid, old_jwk.clone(), |h| h["alg"] = json!("HS256"));
    let err = refused(hs256).await;
    assert_eq!(err.problem_type(), "badSignatureAlgorithm");
    // Signed by the new key outside (a jwk on the outer JWS) is refused too.
    let outer_jwk = new.sign(&url, &w.acme.new_nonce(), None, Some(&json!({})));
    let err = w.acme.handle(Endpoint::KeyChange, outer_jwk.to_string().into_bytes(), None).await;
    assert_eq!(err.unwrap_err().problem_type(), "malformed");

    // A key another account holds: 409 naming that account.
    let mut holder = Device::new();
    holder.register(&w.acme).await;
    let taken = key_change_inner(&holder.key, &url, &kid, old_jwk.clone(), |_| {});
    let err = refused(taken).await;
    let AcmeError::Conflict { location, .. } = &err else { panic!("not a conflict: {err}") };
    assert_eq!(Some(location.as_str()), holder.kid.as_deref());

    // The real thing.
    let ok = key_change_inner(&new, &url, &kid, old_jwk, |_| {});
    let r = d.post(&w.acme, Endpoint::KeyChange, Some(ok)).await.unwrap();
    assert_eq!((r.status, r.location.as_deref()), (200, Some(kid.as_str())));
    assert_eq!(body(r)["status"], "valid");
    // The old key no longer signs for the account (its ES256 does not fit the new P-384
    // key); the new one does, and finds the account by its jwk.
    let err = d.post(&w.acme, Endpoint::Account(account_id(&d)), None).await.unwrap_err();
    assert_eq!(err.problem_type(), "badSignatureAlgorithm", "{err}");
    let rolled = Device { key: new, kid: Some(kid.clone()), se_key: d.se_key };
    rolled.post(&w.acme, Endpoint::Account(account_id(&rolled)), None).await.unwrap();
    let by_jwk = Device { kid: None, ..rolled };
    let r = by_jwk.post(&w.acme, Endpoint::NewAccount, Some(json!({}))).await.unwrap();
    assert_eq!((r.status, r.location), (200, Some(kid)));
    // The old key is free: it makes a new account.
    let old = Device { key: d.key, kid: None, se_key: new_key() };
    let r = old.post(&w.acme, Endpoint::NewAccount, Some(json!({}))).await.unwrap();
    assert_eq!(r.status, 201);
}

fn new_key() -> rcgen::KeyPair {
    crate::sim::apple_pki::new_device_key().unwrap()
}

#[tokio::test]
async fn only_return_existing_for_an_unknown_key_reads_well() {
    let w = world().await;
    let d = Device::new();
    let err = d
        .post(&w.acme, Endpoint::NewAccount, Some(json!({"onlyReturnExisting": true})))
        .await
        .unwrap_err();
    assert_eq!(err.problem_type(), "accountDoesNotExist");
    assert_eq!(
        err.to_string(),
        "no account has this key; send new-account without \"onlyReturnExisting\" to create one"
    );
}

#[tokio::test]
async fn an_unsupported_signature_algorithm_is_bad_signature_algorithm() {
    let w = world().await;
    let d = Device::new();
    let header = json!({"alg": "ES512", "nonce": w.acme.new_nonce(),
        "url": w.acme.url_of(&Endpoint::NewAccount), "jwk": d.key.jwk().to_json()});
    let jws = sign_with_header(&d.key, &header, Some(&json!({})));
    let err =
        w.acme.handle(Endpoint::NewAccount, jws.to_string().into_bytes(), None).await.unwrap_err();
    // The list of accepted algorithms the answer carries is `http::error::acme`'s (tested there).
    assert_eq!(err.problem_type(), "badSignatureAlgorithm", "{err}");
}

#[tokio::test]
async fn the_directory_names_key_change() {
    let w = world().await;
    let dir = w.acme.directory();
    assert_eq!(dir["keyChange"], w.acme.url_of(&Endpoint::KeyChange));
    assert!(dir["keyChange"].as_str().unwrap().ends_with("/acme/key-change"));
}

/// A world whose outcomes are collected.
async fn watched() -> (World, Arc<Mutex<Vec<DeviceOutcome>>>) {
    let w = world().await;
    let seen = Arc::new(Mutex::new(Vec::new()));
    let sink = seen.clone();
    assert!(w.acme.report_outcomes_to(Arc::new(move |_, o| {
        sink.lock().unwrap().push(o.clone());
        Ok(())
    })));
    assert!(!w.acme.report_outcomes_to(Arc::new(|_, _| Ok(()))), "one sink only");
    (w, seen)
}

#[tokio::test]
async fn a_refused_attestation_and_an_issue_are_reported_for_the_device() {
    let (w, seen) = watched().await;
    let mut d = Device::new();
    let att = d.att_obj(&w.pki, props("stale"), w.now);
    let (problem, _, _) = refused_attestation(&w, &mut d, att).await;
    let refused = DeviceOutcome {
        at: w.now,
        serial: Some(super::tests::ids().0),
        udid: Some(super::tests::ids().1),
        kind: OutcomeKind::AttestationRefused { detail: problem.detail },
    };
    assert_eq!(seen.lock().unwrap().as_slice(), std::slice::from_ref(&refused));

    issue(&w, &mut d).await;
    let issued = DeviceOutcome { kind: OutcomeKind::CertificateIssued, ..refused.clone() };
    assert_eq!(seen.lock().unwrap().as_slice(), [refused, issued]);
}

#[tokio::test]
async fn a_failing_sink_leaves_the_challenge_pending() {
    let w = world().await;
    w.acme.report_outcomes_to(Arc::new(|_, _| Err(crate::store::StoreError::TaskFailed)));
    let mut d = Device::new();
    let (_, authz_id, _) = d.order(&w.acme).await;
    let att = d.att_obj(&w.pki, props("stale"), w.now);
    let err = d
        .post(&w.acme, Endpoint::Challenge(authz_id.clone()), Some(json!({"attObj": att})))
        .await
        .unwrap_err();
    assert!(matches!(err, AcmeError::Store(_)), "{err}");
    // Nothing of the refusal was committed without its record.
    let a = super::status_of(&w.acme, &d, Endpoint::Authz(authz_id)).await;
    assert_eq!(a["challenges"][0]["status"], "pending");
}

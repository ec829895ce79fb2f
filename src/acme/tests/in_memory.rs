//! Orders and authorizations held in memory ([`super::super::pending`]): a restart forgets
//! them and the device recovers by ordering again with its stored account and identifier;
//! requests that only read them, or answer a challenge, commit nothing; a store from before
//! loses the tables that held them.

use super::*;

/// The ACME service as the daemon makes it again after a restart, on the same store.
fn restarted(w: &World) -> AcmeService {
    let config = Config::for_sandbox(w._dir.path().into(), "127.0.0.1:8443".parse().unwrap());
    AcmeService::new(
        w.acme.inner.store.clone(),
        w.acme.inner.clock.clone(),
        Urls::new(&config),
        w.pki.attestation_anchors(),
        w.ca.clone(),
        AcmeOptions::default(),
    )
}

fn finalize_payload(d: &Device) -> Option<Value> {
    Some(json!({"csr": d.csr(&d.se_key)}))
}

#[tokio::test]
async fn after_a_restart_the_device_orders_again_with_its_account_and_gets_its_certificate() {
    let w = world().await;
    let mut d = Device::new();
    let (order_id, authz_id, token) = d.order(&w.acme).await;
    let att = d.att_obj(&w.pki, props(&token), w.now);
    d.post(&w.acme, Endpoint::Challenge(authz_id), Some(json!({"attObj": att}))).await.unwrap();

    // The daemon restarts between the challenge and the finalize: the order is gone, and
    // the answer says what to do.
    let acme = restarted(&w);
    let err = d.post(&acme, Endpoint::Finalize(order_id.clone()), finalize_payload(&d)).await;
    let err = err.unwrap_err();
    assert!(matches!(err, AcmeError::NotFound(_)), "{err}");
    assert!(err.to_string().contains("start a new order"), "{err}");
    let err = d.post(&acme, Endpoint::Order(order_id), None).await.unwrap_err();
    assert!(matches!(err, AcmeError::NotFound(_)), "{err}");

    // Its account and its identifier's binding to it were stored: the same key orders again
    // for the same identifier, and the whole flow succeeds.
    let (order_id, authz_id, token) = d.order(&acme).await;
    let att = d.att_obj(&w.pki, props(&token), w.now);
    d.post(&acme, Endpoint::Challenge(authz_id), Some(json!({"attObj": att}))).await.unwrap();
    let r = d.post(&acme, Endpoint::Finalize(order_id), finalize_payload(&d)).await.unwrap();
    let Body::Json(order) = r.body else { panic!("not JSON") };
    assert_eq!(order["status"], "valid", "{order}");
    assert_eq!(acme.certificates_of(&ids().0).await.unwrap().len(), 1);
}

#[tokio::test]
async fn reads_and_an_accepted_challenge_commit_nothing_and_finalize_commits_once() {
    let w = world().await;
    let mut d = Device::new();
    let (order_id, authz_id, token) = d.order(&w.acme).await;
    let commits = || w.acme.inner.store.write_stats().commits;
    let before = commits();

    d.post(&w.acme, Endpoint::Order(order_id.clone()), None).await.unwrap();
    d.post(&w.acme, Endpoint::Authz(authz_id.clone()), None).await.unwrap();
    let att = d.att_obj(&w.pki, props(&token), w.now);
    let r = d.post(&w.acme, Endpoint::Challenge(authz_id), Some(json!({"attObj": att}))).await;
    let Body::Json(challenge) = r.unwrap().body else { panic!("not JSON") };
    assert_eq!(challenge["status"], "valid");
    let r = d.post(&w.acme, Endpoint::Order(order_id.clone()), None).await.unwrap();
    let Body::Json(order) = r.body else { panic!("not JSON") };
    assert_eq!(order["status"], "ready", "the challenge's change is seen at once");
    assert_eq!(commits(), before, "no durable commit for reads and the challenge");

    let r = d.post(&w.acme, Endpoint::Finalize(order_id.clone()), finalize_payload(&d)).await;
    let Body::Json(order) = r.unwrap().body else { panic!("not JSON") };
    assert_eq!(order["status"], "valid");
    assert_eq!(commits(), before + 1, "the certificate is stored in one commit");
    // The order's new state was applied after that commit.
    let held = w.acme.inner.pending.order(&order_id).unwrap();
    assert_eq!(held.status, records::Status::Valid);
}

/// Schemas up to 5 stored orders, their per-account list and authorizations; opening such a
/// file deletes those tables and keeps the accounts.
#[test]
fn a_schema_5_store_loses_its_stored_orders_and_keeps_its_accounts() {
    let dir = tempfile::tempdir().unwrap();
    let tables = [crate::audit::TABLES, super::super::TABLES];
    {
        let s = Store::open(dir.path(), &tables).unwrap();
        s.write_blocking(|wtx| {
            for t in crate::store::SCHEMA_5_ACME_ORDERS {
                wtx.open_table(t)?.insert(b"an-old-id".as_slice(), b"{}".as_slice())?;
            }
            wtx.open_table(records::ACCOUNTS)?.insert(b"acct".as_slice(), b"{}".as_slice())?;
            crate::store::set_schema_version_in(wtx, 5)
        })
        .unwrap();
    }
    let s = Store::open(dir.path(), &tables).unwrap();
    let (names, account) = s
        .read_blocking(|rtx| {
            let names: Vec<String> =
                rtx.list_tables()?.map(|t| redb::TableHandle::name(&t).to_string()).collect();
            let account = rtx.open_table(records::ACCOUNTS)?.get(b"acct".as_slice())?.is_some();
            Ok::<_, crate::store::StoreError>((names, account))
        })
        .unwrap();
    for gone in ["acme.orders", "acme.orders_by_account", "acme.authzs"] {
        assert!(!names.iter().any(|n| n == gone), "{gone} in {names:?}");
    }
    assert!(names.iter().any(|n| n == "acme.expected"), "{names:?}");
    assert!(account, "the stored account is kept");
}

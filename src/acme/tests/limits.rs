//! What a stranger can make the ACME server store: the per-address limits, the cap on
//! unfinished state, and upkeep of unused accounts (issue 17 item 3).

use super::*;

fn options(per_client_per_minute: u32, max_unfinished: u64) -> AcmeOptions {
    AcmeOptions { per_client_per_minute, max_unfinished, ..AcmeOptions::default() }
}

async fn new_account_from(acme: &AcmeService, d: &Device, ip: &str) -> Result<Reply, AcmeError> {
    let nonce = acme.new_nonce();
    let url = acme.url_of(&Endpoint::NewAccount);
    let jws = d.key.sign(&url, &nonce, None, Some(&json!({})));
    acme.handle(Endpoint::NewAccount, jws.to_string().into_bytes(), Some(ip.parse().unwrap())).await
}

#[tokio::test]
async fn new_accounts_are_limited_per_address() {
    let w = world_with(options(3, MAX_UNFINISHED)).await;
    for _ in 0..3 {
        new_account_from(&w.acme, &Device::new(), "192.0.2.1").await.unwrap();
    }
    let err = new_account_from(&w.acme, &Device::new(), "192.0.2.1").await.unwrap_err();
    assert_eq!(err.problem_type(), "rateLimited");
    assert_eq!(err.retry_after_secs(), Some(60));
    new_account_from(&w.acme, &Device::new(), "192.0.2.2").await.unwrap();
    w.acme.inner.clock.set(w.now + Duration::minutes(1));
    new_account_from(&w.acme, &Device::new(), "192.0.2.1").await.unwrap();
}

#[tokio::test]
async fn the_cap_on_unfinished_accounts_holds_against_many_addresses() {
    let w = world_with(options(PER_CLIENT_PER_MINUTE, 2)).await;
    new_account_from(&w.acme, &Device::new(), "192.0.2.1").await.unwrap();
    new_account_from(&w.acme, &Device::new(), "192.0.2.2").await.unwrap();
    let err = new_account_from(&w.acme, &Device::new(), "192.0.2.3").await.unwrap_err();
    assert!(matches!(err, AcmeError::Full { .. }), "{err:?}");
    assert_eq!(err.problem_type(), "rateLimited");
    assert!(err.to_string().contains("as many ACME accounts without a certificate"), "{err}");
    assert_eq!(err.retry_after_secs(), Some(3600));
}

#[tokio::test]
async fn an_account_with_a_certificate_does_not_count_against_the_cap() {
    let w = world_with(options(PER_CLIENT_PER_MINUTE, 2)).await;
    let mut enrolled = Device::new();
    issue(&w, &mut enrolled).await;
    new_account_from(&w.acme, &Device::new(), "192.0.2.1").await.unwrap();
    // Two accounts, one certificate: one unfinished, under the cap of two.
    new_account_from(&w.acme, &Device::new(), "192.0.2.2").await.unwrap();
    assert!(new_account_from(&w.acme, &Device::new(), "192.0.2.3").await.is_err());
}

#[tokio::test]
async fn the_cap_on_stored_orders_refuses_a_new_order() {
    let w = world_with(options(PER_CLIENT_PER_MINUTE, 1)).await;
    let mut d = Device::new();
    d.order(&w.acme).await;
    let (serial, udid) = ids();
    w.acme
        .expect_device("cid-second", &serial, &udid, w.now + Duration::minutes(30))
        .await
        .unwrap();
    let second = json!({"identifiers": [{"type": "permanent-identifier", "value": "cid-second"}]});
    let err = d.post(&w.acme, Endpoint::NewOrder, Some(second)).await.unwrap_err();
    assert!(matches!(err, AcmeError::Full { .. }), "{err:?}");
    assert!(err.to_string().contains("ACME orders"), "{err}");
}

#[tokio::test]
async fn upkeep_deletes_unused_accounts_after_a_day_and_keeps_enrolled_ones() {
    let w = world().await;
    let mut enrolled = Device::new();
    issue(&w, &mut enrolled).await;
    let mut idle = Device::new();
    idle.register(&w.acme).await;
    let mut deactivated = Device::new();
    deactivated.register(&w.acme).await;
    let url = deactivated.kid.clone().unwrap();
    let id = url.rsplit('/').next().unwrap().to_string();
    let r =
        deactivated.post(&w.acme, Endpoint::Account(id), Some(json!({"status": "deactivated"})));
    r.await.unwrap();

    // Within the day nothing goes.
    let soon = w.now + Duration::hours(23);
    assert_eq!(w.acme.cleanup(soon, upkeep::MAX_PER_RUN).await.unwrap().accounts, 0);

    let later = w.now + Duration::days(2);
    w.acme.inner.clock.set(later);
    let done = w.acme.cleanup(later, upkeep::MAX_PER_RUN).await.unwrap();
    assert_eq!(done.accounts, 2, "{done:?}");
    let err = idle.post(&w.acme, Endpoint::Account(String::new()), None);
    assert_eq!(err.await.unwrap_err().problem_type(), "accountDoesNotExist");
    // The enrolled device's account stays (it holds a certificate).
    let kid = enrolled.kid.clone().unwrap();
    let mine = Endpoint::Account(kid.rsplit('/').next().unwrap().to_string());
    assert_eq!(enrolled.post(&w.acme, mine, None).await.unwrap().status, 200);
    // The idle key may make a new account; the deactivated key stays refused (§7.3.6).
    new_account_from(&w.acme, &idle, "192.0.2.1").await.unwrap();
    let err = new_account_from(&w.acme, &deactivated, "192.0.2.1").await.unwrap_err();
    assert_eq!(err.problem_type(), "unauthorized");
    assert!(err.to_string().contains("deactivated"), "{err}");
}

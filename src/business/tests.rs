//! The Apple Business account and client against the real simulator ([`crate::sim::business`])
//! over HTTPS: saving the credential (refusals, sealing), auth, paging every org device, where
//! a serial is, 429 back-off, a revoked account.

use super::*;
use crate::ids::Serial;
use crate::outbound::{self, OutboundConfig};
use crate::sim::business::BusinessFaults;
use crate::sim::dep::{RunningSimDep, SimDep, SimDepConfig};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use time::macros::datetime;

const T0: OffsetDateTime = datetime!(2026-03-01 12:00 UTC);

struct Env {
    sim: RunningSimDep,
    account: BusinessAccount,
    http: reqwest::Client,
    theirs: String,
    _dir: tempfile::TempDir,
}

async fn env(devices: usize) -> Env {
    let clock = Clock::manual(T0);
    let sim = SimDep::start(SimDepConfig { clock: clock.clone(), ..SimDepConfig::default() })
        .await
        .unwrap();
    let now = sim.now();
    let theirs = sim.with_world(|w| {
        let ours = w.add_server("Ours", None, now);
        let theirs = w.add_server("Theirs", None, now);
        w.add_devices(Some(ours), devices, &[], now).unwrap();
        w.add_devices(Some(theirs), 5, &[], now).unwrap();
        w.add_devices(None, 5, &[], now).unwrap();
        w.server(theirs).unwrap().uuid.clone()
    });
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path(), &[crate::audit::TABLES, TABLES]).unwrap();
    let account = BusinessAccount::new(store, clock);
    let new = sim.business().create_account("adebox").unwrap();
    account
        .save(
            Actor::System,
            AccountInput {
                client_id: new.client_id,
                key_id: new.key_id,
                private_key_pem: Secret::new(new.private_key_pem),
            },
        )
        .await
        .unwrap();
    let http = outbound::client(&OutboundConfig::trusting_only([sim.ca_pem().to_owned()])).unwrap();
    Env { sim, account, http, theirs, _dir: dir }
}

impl Env {
    fn endpoints(&self) -> Endpoints {
        Endpoints {
            token_url: format!("{}/auth/oauth2/token", self.sim.base_url()),
            api_base: self.sim.base_url().to_string(),
        }
    }

    async fn client(&self) -> BusinessClient {
        self.account.client(self.http.clone(), self.endpoints()).await.unwrap()
    }
}

#[tokio::test]
async fn bad_credentials_are_refused_in_plain_words_and_the_key_is_never_shown() {
    let e = env(1).await;
    let p384 =
        rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P384_SHA384).unwrap().serialize_pem();
    let input = |client_id: &str, pem: &str| AccountInput {
        client_id: client_id.into(),
        key_id: "k".into(),
        private_key_pem: Secret::new(pem.into()),
    };
    let before = e.account.view().await.unwrap().unwrap();
    let err = e.account.save(Actor::System, input("BUSINESSAPI.abc", &p384)).await.unwrap_err();
    assert!(err.to_string().contains("not an EC P-256 key"), "{err}");
    let err = e.account.save(Actor::System, input("my client", &p384)).await.unwrap_err();
    assert!(err.to_string().contains("BUSINESSAPI.<uuid>"), "{err}");
    assert_eq!(e.account.view().await.unwrap().unwrap(), before, "a refusal loses nothing");
    let shown = serde_json::to_string(&before).unwrap();
    assert!(!shown.contains("PRIVATE KEY"), "{shown}");
    assert!(e.account.remove(Actor::System).await.unwrap());
    assert!(matches!(e.account.credential().await, Err(BusinessError::NotSet)));
}

#[tokio::test]
async fn pages_every_org_device_and_tells_where_a_serial_is() {
    let e = env(1200).await;
    let c = e.client().await;
    let mut next = None;
    let mut seen = 0;
    let mut pages = 0;
    loop {
        let page = c.org_devices(next.as_deref(), 1000).await.unwrap();
        seen += page.devices.len();
        pages += 1;
        match page.next {
            Some(n) => next = Some(n),
            None => break,
        }
    }
    assert_eq!((seen, pages), (1210, 2));
    let truth = e.sim.truth();
    let at_theirs = &truth.servers[1].devices[0].serial_number;
    let serial = |s: &str| Serial::parse(s).unwrap();
    assert_eq!(
        c.assigned_server(&serial(at_theirs)).await.unwrap().as_deref(),
        Some(e.theirs.as_str())
    );
    assert_eq!(c.assigned_server(&serial(&truth.unassigned[0])).await.unwrap(), None);
    match c.assigned_server(&serial("NOTINORG0001")).await {
        Err(ClientError::Api { status: 404, .. }) => {}
        other => panic!("{:?}", other.map_err(|e| e.to_string())),
    }
    let servers = c.mdm_servers().await.unwrap();
    assert!(
        servers.iter().any(|(id, a)| id == &e.theirs && a.server_name.as_deref() == Some("Theirs"))
    );
}

#[tokio::test]
async fn rate_limits_are_waited_out() {
    let e = env(30).await;
    let c = e.client().await;
    e.sim.business().set_faults(BusinessFaults { rate_limit_every: 2, retry_after: Some(1) });
    let mut next = None;
    let mut seen = 0;
    loop {
        let page = c.org_devices(next.as_deref(), 10).await.unwrap();
        seen += page.devices.len();
        match page.next {
            Some(n) => next = Some(n),
            None => break,
        }
    }
    assert_eq!(seen, 40);
    assert!(c.rate_limited() >= 2, "{}", c.rate_limited());
    // Without Retry-After the client backs off on its own.
    e.sim.business().set_faults(BusinessFaults { rate_limit_every: 2, retry_after: None });
    c.org_devices(None, 10).await.unwrap();
    c.org_devices(None, 10).await.unwrap();
}

#[tokio::test]
async fn tokens_are_refreshed_and_a_revoked_account_is_refused() {
    let e = env(1).await;
    let c = e.client().await;
    c.org_devices(None, 10).await.unwrap();
    e.sim.advance(time::Duration::minutes(61));
    c.org_devices(None, 10).await.expect("a new token after the hour");
    let client_id = e.account.view().await.unwrap().unwrap().client_id;
    e.sim.business().revoke_account(&client_id).unwrap();
    match c.org_devices(None, 10).await {
        Err(ClientError::Refused { error, detail }) => {
            assert_eq!(error, "invalid_client");
            assert!(detail.contains("revoked"), "{detail}");
        }
        other => panic!("{:?}", other.map(|p| p.devices.len()).map_err(|e| e.to_string())),
    }
}

#[tokio::test]
async fn work_counting_its_waits_sees_only_its_own_429s() {
    let e = env(1).await;
    let c = e.client().await;
    // Every request answered 429 (no wait asked): each call tries six times, then gives up.
    e.sim.business().set_faults(BusinessFaults { rate_limit_every: 1, retry_after: Some(0) });
    let (run, other) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
    let (a, b, d) = tokio::join!(
        client::counting_waits(run.clone(), c.org_devices(None, 10)),
        client::counting_waits(other.clone(), c.org_devices(None, 10)),
        c.org_devices(None, 10),
    );
    assert!(a.is_err() && b.is_err() && d.is_err());
    let (run, other) = (run.load(Ordering::Relaxed), other.load(Ordering::Relaxed));
    assert_eq!((run, other), (6, 6), "each counts only its own");
    assert_eq!(c.rate_limited(), 18, "the client counts them all");
}

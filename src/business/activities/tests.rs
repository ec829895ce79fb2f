//! Actions at Apple Business against the real simulator ([`crate::sim::business`]) over
//! HTTPS: every activity type and its effect on the organisation the DEP API also serves,
//! partial failure told per serial, serials not owned refused before the call, a repeated
//! request never posted twice, a lost answer left `unknown`, 429s waited out.

use super::*;
use crate::business::{AccountInput, BusinessAccount, Endpoints};
use crate::crypto::Secret;
use crate::outbound::{self, OutboundConfig};
use crate::sim::business::BusinessFaults;
use crate::sim::dep::{RunningSimDep, SimDep, SimDepConfig};
use std::sync::atomic::Ordering;
use time::macros::datetime;

const T0: OffsetDateTime = datetime!(2026-03-01 12:00 UTC);

struct Env {
    sim: RunningSimDep,
    clock: Clock,
    acts: Activities,
    client: BusinessClient,
    ours: ServerTarget,
    /// Our devices, another server's, unassigned ones.
    at_ours: Vec<String>,
    at_theirs: Vec<String>,
    loose: Vec<String>,
    store: Store,
    _dir: tempfile::TempDir,
}

async fn env() -> Env {
    let clock = Clock::manual(T0);
    let sim = SimDep::start(SimDepConfig { clock: clock.clone(), ..SimDepConfig::default() })
        .await
        .unwrap();
    let now = sim.now();
    let (ours, at_ours, at_theirs, loose) = sim.with_world(|w| {
        let ours = w.add_server("Ours", None, now);
        let theirs = w.add_server("Theirs", None, now);
        let a = w.add_devices(Some(ours), 3, &[], now).unwrap();
        let b = w.add_devices(Some(theirs), 4, &[], now).unwrap();
        let c = w.add_devices(None, 3, &[], now).unwrap();
        (w.server(ours).unwrap().uuid.clone(), a, b, c)
    });
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(
        dir.path(),
        &[crate::audit::TABLES, crate::devices::TABLES, crate::business::TABLES, TABLES],
    )
    .unwrap();
    let kept = store.clone();
    let account = BusinessAccount::new(store.clone(), clock.clone());
    let new = sim.business().create_account("adebox").unwrap();
    account
        .save(
            crate::audit::Actor::System,
            AccountInput {
                client_id: new.client_id,
                key_id: new.key_id,
                private_key_pem: Secret::new(new.private_key_pem),
            },
        )
        .await
        .unwrap();
    let http = outbound::client(&OutboundConfig::trusting_only([sim.ca_pem().to_owned()])).unwrap();
    let endpoints = Endpoints {
        token_url: format!("{}/auth/oauth2/token", sim.base_url()),
        api_base: sim.base_url().to_string(),
    };
    let client = account.client(http, endpoints).await.unwrap();
    let polling = Polling { first: Duration::seconds(1), max: Duration::seconds(8), fast_polls: 4 };
    let acts =
        Activities::new(store.clone(), clock.clone(), crate::devices::Devices::new(store), polling);
    let ours = ServerTarget { id: ours, name: "Ours".into(), token: None };
    Env { sim, clock, acts, client, ours, at_ours, at_theirs, loose, store: kept, _dir: dir }
}

fn serials(s: &[String]) -> Vec<Serial> {
    s.iter().map(|s| Serial::parse(s).unwrap()).collect()
}

impl Env {
    fn ask(&self, id: &str, action: Action, s: &[String]) -> NewActivity {
        NewActivity {
            request_id: id.into(),
            action,
            serials: serials(s),
            server: action.needs_server().then(|| self.ours.clone()),
            deadline: action.needs_deadline().then(|| self.clock.now() + Duration::days(30)),
            actor: "alice".into(),
        }
    }

    /// The inventory lists `s` as one of our tokens' devices, as the sync after a migration
    /// to our server does (a change or cancellation of a migration names only such devices).
    fn adopt(&self, s: &[String]) {
        let page: Vec<crate::apple::dep::Device> = s
            .iter()
            .map(|serial| crate::apple::dep::Device {
                serial_number: serial.clone(),
                ..Default::default()
            })
            .collect();
        let token = crate::ids::TokenId::parse("ours").unwrap();
        let now = self.clock.now();
        let (stats, _) = self
            .store
            .write_blocking(|wtx| {
                crate::devices::apply_page_in(
                    wtx,
                    &token,
                    &page,
                    &crate::devices::PageMode::Sync,
                    now,
                )
            })
            .unwrap();
        assert_eq!(stats.seen, s.len() as u64);
    }

    /// Submits and polls until Apple finished it.
    async fn run(&self, n: NewActivity) -> Record {
        let id = n.request_id.clone();
        let r = self.acts.submit(&self.client, n).await.unwrap();
        assert_eq!(r.state, State::InProgress, "{:?}", r.error);
        for _ in 0..10 {
            self.clock.advance(Duration::seconds(3));
            self.acts.poll_due(&self.client).await.unwrap();
            let r = self.acts.get(&id).await.unwrap().unwrap();
            if r.state == State::Finished && r.next_poll_at.is_none() {
                return r;
            }
        }
        panic!("{id} never finished");
    }

    /// The uuid of the server a serial is at, per the world the DEP API serves.
    fn server_of(&self, serial: &str) -> Option<String> {
        self.sim.with_world(|w| {
            let (_, at) = w.org_device(serial)?;
            Some(w.server(at?).unwrap().uuid.clone())
        })
    }

    fn deadline_of(&self, serial: &str) -> bool {
        self.sim.with_world(|w| {
            w.org_device(serial).is_some_and(|(d, _)| d.mdm_migration_deadline.get().is_some())
        })
    }
}

#[tokio::test]
async fn each_action_reaches_the_organisation_the_dep_api_serves() {
    let e = env().await;
    let r = e.run(e.ask("a1", Action::Assign, &e.loose[..1])).await;
    assert!(r.results.iter().all(|o| o.outcome == Outcome::Done), "{:?}", r.results);
    assert_eq!(e.server_of(&e.loose[0]), Some(e.ours.id.clone()));
    assert!(r.log.as_deref().unwrap().contains(&e.loose[0]), "the log is kept as sent");

    e.run(e.ask("a2", Action::Unassign, &e.loose[..1])).await;
    assert_eq!(e.server_of(&e.loose[0]), None);

    let r = e.run(e.ask("a3", Action::Migrate, &e.at_theirs[..2])).await;
    assert_eq!(r.summary(), "schedule a migration 2 devices: 2 done");
    assert_eq!(e.server_of(&e.at_theirs[0]), Some(e.ours.id.clone()));
    assert!(e.deadline_of(&e.at_theirs[0]), "the DEP record carries the deadline");

    e.adopt(&e.at_theirs[..2]);
    e.run(e.ask("a4", Action::ChangeDeadline, &e.at_theirs[..1])).await;
    assert!(e.deadline_of(&e.at_theirs[0]));
    e.run(e.ask("a5", Action::CancelMigration, &e.at_theirs[1..2])).await;
    assert!(!e.deadline_of(&e.at_theirs[1]));
    assert_ne!(e.server_of(&e.at_theirs[1]), Some(e.ours.id.clone()), "back at its origin");

    let r = e.run(e.ask("a6", Action::Release, &e.at_ours[..1])).await;
    assert_eq!(r.results[0].outcome, Outcome::Done);
    assert!(e.sim.with_world(|w| w.org_device(&e.at_ours[0]).is_none()), "released");
    let recent = e.acts.recent(10).await.unwrap();
    assert_eq!(
        recent.iter().map(|r| r.request_id.as_str()).collect::<Vec<_>>(),
        ["a6", "a5", "a4", "a3", "a2", "a1"]
    );
}

#[tokio::test]
async fn a_partial_failure_is_told_per_serial_with_what_to_do() {
    let e = env().await;
    // One is already at our server (Apple's log calls that an error), one is loose.
    let both = vec![e.at_ours[0].clone(), e.loose[0].clone()];
    let r = e.run(e.ask("p1", Action::Assign, &both)).await;
    assert_eq!(r.apple_sub_status.as_deref(), Some("COMPLETED_WITH_ERROR"));
    let refused: Vec<_> = r.refused().collect();
    assert_eq!(refused.len(), 1, "{:?}", r.results);
    assert_eq!(refused[0].serial, e.at_ours[0]);
    assert!(refused[0].message.contains("already assigned"), "Apple's words: {refused:?}");
    assert!(refused[0].advice.as_deref().unwrap().contains("Nothing to do"), "{refused:?}");
    assert!(r.summary().contains("1 done, 1 refused"), "{}", r.summary());

    // A migration of a device nothing manages is refused in the log, not by the POST.
    let r = e.run(e.ask("p2", Action::Migrate, &e.loose[1..2])).await;
    let advice = r.results[0].advice.as_deref().unwrap();
    assert!(advice.contains("assign it to the server instead"), "{advice}");
}

#[tokio::test]
async fn serials_the_organisation_does_not_own_are_refused_before_any_call() {
    let e = env().await;
    let mut s = e.at_theirs[..1].to_vec();
    s.push("NOTOURS00001".into());
    match e.acts.submit(&e.client, e.ask("n1", Action::Assign, &s)).await {
        Err(ActivityError::NotOwned(v)) => assert_eq!(v, ["NOTOURS00001"]),
        other => panic!("{:?}", other.map(|r| r.state)),
    }
    assert!(e.acts.get("n1").await.unwrap().is_none(), "nothing stored, nothing sent");
    let mut far = e.ask("n2", Action::Migrate, &e.at_theirs[..1]);
    far.deadline = Some(e.clock.now() + Duration::days(91));
    let err = e.acts.submit(&e.client, far).await.unwrap_err();
    assert!(err.to_string().contains("1 to 90 days"), "{err}");
    let mut none = e.ask("n3", Action::Assign, &e.loose[..1]);
    none.server = None;
    assert!(matches!(
        e.acts.submit(&e.client, none).await,
        Err(ActivityError::Invalid { field: "token", .. })
    ));
}

#[tokio::test]
async fn a_repeated_request_is_never_posted_twice() {
    let e = env().await;
    let first = e.run(e.ask("r1", Action::Assign, &e.loose[..2])).await;
    let calls = e.sim.business().requests.load(Ordering::Relaxed);
    // The same request again (the page retried after a lost answer): what is stored.
    let again = e.acts.submit(&e.client, e.ask("r1", Action::Assign, &e.loose[..2])).await.unwrap();
    assert_eq!(again.apple_id, first.apple_id);
    assert_eq!(again.results, first.results, "still all done: nothing applied twice");
    assert_eq!(e.sim.business().requests.load(Ordering::Relaxed), calls, "no call to Apple");
    // The same id for something else is refused.
    let other = e.acts.submit(&e.client, e.ask("r1", Action::Release, &e.loose[..2])).await;
    assert!(matches!(other, Err(ActivityError::RequestIdReused(_))));
}

#[tokio::test]
async fn an_answer_lost_while_sending_leaves_the_action_unknown_and_unsent() {
    let e = env().await;
    // As if adebox stopped between storing the action and Apple's answer.
    let stuck = Record {
        request_id: "u1".into(),
        action: Action::Release,
        serials: vec![Serial::parse(&e.at_ours[0]).unwrap()],
        server: None,
        deadline: None,
        actor: "alice".into(),
        created_at: e.clock.now(),
        state: State::Sending,
        apple_id: None,
        apple_status: None,
        apple_sub_status: None,
        finished_at: None,
        polls: 0,
        next_poll_at: None,
        log_url: None,
        log: None,
        results: Vec::new(),
        error: None,
    };
    e.acts.store.write(move |tx| put_in(tx, &stuck)).await.unwrap();
    assert_eq!(e.acts.recover().await.unwrap(), 1);
    let again = e.acts.submit(&e.client, e.ask("u1", Action::Release, &e.at_ours[..1])).await;
    let r = again.unwrap();
    assert_eq!(r.state, State::Unknown);
    assert!(r.summary().contains("may or may not have been applied"), "{}", r.summary());
    assert!(e.sim.with_world(|w| w.org_device(&e.at_ours[0]).is_some()), "not released");
}

#[tokio::test]
async fn rate_limits_are_waited_out_while_submitting_and_polling() {
    let e = env().await;
    e.sim.business().set_faults(BusinessFaults { rate_limit_every: 2, retry_after: Some(1) });
    let r = e.run(e.ask("t1", Action::Assign, &e.loose[..1])).await;
    assert_eq!(r.results[0].outcome, Outcome::Done);
    assert!(e.client.rate_limited() >= 1, "{}", e.client.rate_limited());
}

#[test]
fn polls_back_off_to_the_maximum() {
    let p = Polling { first: Duration::seconds(10), max: Duration::minutes(10), fast_polls: 12 };
    let waits: Vec<i64> = (0..8).map(|n| p.delay(n).whole_seconds()).collect();
    assert_eq!(waits, [10, 20, 40, 80, 160, 320, 600, 600]);
    assert_eq!(p.delay(40), Duration::minutes(10));
}

/// An action stored before its serials became `Serial`s (one in lower case, as it was held)
/// reads back and is written again byte for byte.
#[test]
fn a_stored_action_keeps_its_bytes() {
    let stored = r#"{"request_id":"r-1","action":"release","serials":["C02XK1ABCD12","f9fabc123456"],"server":null,"deadline":null,"actor":"admin","created_at":"2026-03-01T12:00:00Z","state":"finished","apple_id":"a1","apple_status":"COMPLETED","apple_sub_status":null,"finished_at":"2026-03-01T12:05:00Z","polls":2,"next_poll_at":null,"log_url":null,"log":"serialNumber,status,message\n","results":[{"serial":"f9fabc123456","outcome":"refused","status":"FAILED","message":"no","advice":"check it"}],"error":null}"#;
    let r: Record = serde_json::from_str(stored).expect("an old action reads");
    assert_eq!(r.serials[1].as_str(), "f9fabc123456");
    assert_eq!(serde_json::to_string(&r).unwrap(), stored);
}

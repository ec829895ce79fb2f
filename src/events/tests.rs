//! The outbox without HTTP: what publishing writes (and does not), and its bounds.

use super::*;
use crate::clock::Clock;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

const IDLE: &[u8] = b"<plist version=\"1.0\"><dict><key>UDID</key><string>U1</string>\
<key>Status</key><string>Idle</string></dict></plist>";

fn service() -> (tempfile::TempDir, Store, Events) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path(), &[TABLES]).unwrap();
    let events = Events::new(store.clone(), Clock::system(), SelfAddresses::default(), None);
    (dir, store, events)
}

fn file_hash(store: &Store) -> Vec<u8> {
    Sha256::digest(std::fs::read(store.path()).unwrap()).to_vec()
}

fn new(topics: &[&str]) -> NewSubscription {
    NewSubscription {
        name: "tools".into(),
        url: "https://tools.example.org/hook".into(),
        topics: topics.iter().map(|t| t.to_string()).collect(),
        secret: None,
        allow_http: false,
        max_outbox: Some(10),
    }
}

#[tokio::test]
async fn an_idle_poll_nobody_subscribed_to_writes_nothing() {
    let (_dir, store, events) = service();
    let before = file_hash(&store);
    events.publish_mdm(MdmChannel::Connect, IDLE, BTreeMap::new()).await.unwrap();
    assert_eq!(file_hash(&store), before, "no subscription: the store file is untouched");

    // A subscription to other topics changes nothing either.
    events.create(new(&["mdm.Authenticate"])).await.unwrap();
    let before = file_hash(&store);
    events.publish_mdm(MdmChannel::Connect, IDLE, BTreeMap::new()).await.unwrap();
    assert_eq!(file_hash(&store), before);

    let (sub, _) = events.create(new(&["mdm.Connect"])).await.unwrap();
    events.publish_mdm(MdmChannel::Connect, IDLE, BTreeMap::new()).await.unwrap();
    assert_ne!(file_hash(&store), before);
    assert_eq!(events.get(&sub.id).await.unwrap().queued, 1);
}

#[tokio::test]
async fn the_secret_is_sealed_at_rest() {
    let (_dir, store, events) = service();
    let mut wanted = new(&["mdm.Connect"]);
    wanted.secret = Some("a site secret of some length".into());
    let (_, secret) = events.create(wanted).await.unwrap();
    assert_eq!(secret.expose(), "a site secret of some length");
    let bytes = std::fs::read(store.path()).unwrap();
    let found = bytes.windows(secret.expose().len()).any(|w| w == secret.expose().as_bytes());
    assert!(!found, "the secret is in the store file in clear");
}

#[tokio::test]
async fn a_full_outbox_drops_the_oldest_events_and_counts_them() {
    let (_dir, _store, events) = service();
    let (sub, _) = events.create(new(&["adebox.Alert"])).await.unwrap();
    for _ in 0..13 {
        events.send_test(&sub.id).await.unwrap();
    }
    let view = events.get(&sub.id).await.unwrap();
    assert_eq!((view.queued, view.dropped), (10, 3));
    let log = events.deliveries(&sub.id, 50).await.unwrap();
    assert_eq!(log.iter().filter(|l| l.outcome == Outcome::Dropped).count(), 3);
    // Deleting the subscription takes its outbox and log with it.
    events.delete(&sub.id).await.unwrap();
    assert!(matches!(events.deliveries(&sub.id, 5).await, Err(EventsError::NotFound(_))));
}

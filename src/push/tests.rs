//! The push certificate's life (request, upload, renewal, expiry) and the push worker against
//! the real APNs simulator over HTTP/2 with client-certificate authentication.

use super::*;
use crate::audit::Actor;
use crate::sim::apns::{Faults, RunningSimApns, SimApns, SimApnsConfig};
use std::time::Duration as StdDuration;
use time::Duration;

struct Kit {
    push: Push,
    clock: Clock,
    store: Store,
    _dir: tempfile::TempDir,
}

fn kit() -> Kit {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path(), &[crate::audit::TABLES, super::TABLES]).unwrap();
    let clock = Clock::manual(crate::clock::Clock::system().now());
    Kit { push: Push::new(store.clone(), clock.clone()), clock, store, _dir: dir }
}

async fn sim() -> RunningSimApns {
    SimApns::start(SimApnsConfig::default()).await.unwrap()
}

/// The admin's round trip: request → (stand-in) portal → upload.
async fn install(k: &Kit, sim: &RunningSimApns, topic: Option<&str>) -> PushStatus {
    k.push.create_request(Actor::System, Some("it@example.org".into())).await.unwrap();
    let csr = k.push.request_csr_pem().await.unwrap();
    let cert = sim.issue_push_certificate(csr.as_bytes(), topic).unwrap();
    k.push.upload(Actor::System, cert.into_bytes()).await.unwrap()
}

#[tokio::test]
async fn an_uploaded_certificate_gives_enrollment_its_topic() {
    let (k, sim) = (kit(), sim().await);
    assert!(matches!(k.push.topic_for_enrollment().await, Err(PushError::NoCertificate)));
    let s = k.push.status().await.unwrap();
    assert_eq!(s.state, PushState::Missing);
    assert_eq!(s.banner().unwrap().1, "push_certificate_missing");
    assert!(matches!(k.push.request_csr_pem().await, Err(PushError::NoRequest)));

    let s = install(&k, &sim, None).await;
    assert_eq!(s.state, PushState::Ok);
    assert_eq!(s.topic.as_deref(), Some(sim.topic()));
    assert!(s.pending_request.is_none(), "the request is used up");
    assert!(s.banner().is_none());
    assert_eq!(k.push.topic_for_enrollment().await.unwrap(), sim.topic());
    let json = serde_json::to_string(&s).unwrap();
    assert!(!json.contains("PRIVATE KEY"), "{json}");

    let audit = crate::audit::AuditLog::new(k.store.clone());
    let page = audit.list(Default::default(), 10, 0).await.unwrap();
    let actions: Vec<&str> = page.0.iter().map(|e| e.action.as_str()).collect();
    assert!(
        actions.contains(&"push.certificate_upload") && actions.contains(&"push.request_create"),
        "{actions:?}"
    );
    assert!(page.0.iter().all(|e| !e.detail.clone().unwrap_or_default().contains("PRIVATE")));
    sim.stop().await;
}

#[tokio::test]
async fn refuses_a_certificate_for_another_key() {
    let (k, sim) = (kit(), sim().await);
    let other = crate::crypto::push_cert::generate_request("x", "US", "a@b.c").unwrap();
    let foreign = sim.issue_push_certificate(other.csr_pem.as_bytes(), None).unwrap();
    k.push.create_request(Actor::System, None).await.unwrap();
    let e = k.push.upload(Actor::System, foreign.into_bytes()).await.unwrap_err();
    assert!(matches!(e, PushError::KeyMismatch), "{e}");
    assert!(e.to_string().contains("not issued for adebox's current request"), "{e}");
    assert_eq!(k.push.status().await.unwrap().state, PushState::Missing);
    sim.stop().await;
}

#[tokio::test]
async fn a_renewal_keeps_the_topic_and_a_new_topic_is_refused() {
    let (k, sim) = (kit(), sim().await);
    let start = k.clock.now();
    let first = install(&k, &sim, None).await;
    k.clock.advance(Duration::days(340));
    let s = k.push.status().await.unwrap();
    assert_eq!(s.state, PushState::Expiring);
    assert_eq!(s.banner().unwrap().1, "push_certificate_expiring");
    // The stand-in portal issues by the real clock: renew "a day later" in this test's time.
    k.clock.set(start + Duration::days(1));

    // A certificate made with "Create" instead of "Renew": another topic.
    k.push.create_request(Actor::System, None).await.unwrap();
    let csr = k.push.request_csr_pem().await.unwrap();
    let other_topic = "com.apple.mgmt.External.00000000-0000-4000-8000-000000000000";
    let created = sim.issue_push_certificate(csr.as_bytes(), Some(other_topic)).unwrap();
    let e = k.push.upload(Actor::System, created.into_bytes()).await.unwrap_err();
    assert!(matches!(&e, PushError::TopicChanged { .. }), "{e}");
    assert!(e.to_string().contains("re-enrolled") && e.to_string().contains("Renew"), "{e}");
    assert_eq!(k.push.topic_for_enrollment().await.unwrap(), sim.topic());

    // The real renewal: same topic, the pending request's key.
    let renewed = sim.issue_push_certificate(csr.as_bytes(), None).unwrap();
    let s = k.push.upload(Actor::System, renewed.into_bytes()).await.unwrap();
    assert_eq!(s.topic, first.topic);
    assert_eq!(s.state, PushState::Ok);
    assert!(s.renewed_at.is_some() && s.serial != first.serial);
    assert_eq!(s.installed_at, first.installed_at);
    sim.stop().await;
}

#[tokio::test]
async fn an_expired_certificate_stops_enrollment() {
    let (k, sim) = (kit(), sim().await);
    install(&k, &sim, None).await;
    k.clock.advance(Duration::days(366));
    let e = k.push.topic_for_enrollment().await.unwrap_err();
    assert!(matches!(e, PushError::Expired(_)), "{e}");
    let s = k.push.status().await.unwrap();
    assert_eq!(s.state, PushState::Expired);
    assert_eq!(s.banner().unwrap().0, "error");
    sim.stop().await;
}

#[tokio::test]
async fn a_vendor_signed_request_needs_a_pending_request_and_the_vendor_pair() {
    let k = kit();
    let now = k.clock.now();
    let vendor = crate::crypto::token_keypair::generate("vendor", now).unwrap();
    let e = k
        .push
        .vendor_signed_request(vendor.cert_pem.clone(), vendor.key_pem.clone())
        .await
        .unwrap_err();
    assert!(matches!(e, PushError::NoRequest), "{e}");
    k.push.create_request(Actor::System, None).await.unwrap();
    let signed = k.push.vendor_signed_request(vendor.cert_pem, vendor.key_pem).await.unwrap();
    use base64ct::Encoding;
    let xml = base64ct::Base64::decode_vec(&signed).unwrap();
    assert!(String::from_utf8(xml).unwrap().contains("PushCertSignature"));
}

fn target(token: &[u8], topic: &str) -> PushTarget {
    PushTarget {
        udid: crate::ids::Udid::parse(&format!("UDID-{}", hex::encode(&token[..8]))).unwrap(),
        token: token.to_vec(),
        push_magic: "magic-123".into(),
        topic: topic.into(),
    }
}

fn options(sim: &RunningSimApns) -> ApnsOptions {
    let mut o = ApnsOptions::new(
        sim.base_url(),
        crate::outbound::OutboundConfig::trusting_only([sim.ca_pem().to_string()]),
    );
    o.retry.base_delay = StdDuration::from_millis(5);
    o.retry.max_delay = StdDuration::from_millis(20);
    o
}

#[tokio::test]
async fn a_push_reaches_the_simulator_with_apples_headers() {
    let (k, sim) = (kit(), sim().await);
    install(&k, &sim, None).await;
    let (pusher, run) = k.push.pusher(options(&sim), None);
    tokio::spawn(run);
    let token = [0xAB; 32];
    pusher.notify(target(&token, sim.topic()));
    let d = sim.wait_for_push(&hex::encode(token), StdDuration::from_secs(10)).await.unwrap();
    assert_eq!(d.push_magic, "magic-123");
    assert_eq!(d.topic, sim.topic());
    assert_eq!(d.push_type.as_deref(), Some("mdm"));
    assert_eq!(d.priority.as_deref(), Some("10"));
    assert!(d.expiration.unwrap() > k.clock.now().unix_timestamp());
    for _ in 0..100 {
        if k.push.device(&target(&token, "").udid).await.unwrap().is_some() {
            break;
        }
        tokio::time::sleep(StdDuration::from_millis(20)).await;
    }
    let r = k.push.device(&target(&token, "").udid).await.unwrap().unwrap();
    assert!(r.last_sent_at.is_some() && r.unreachable.is_none());
    sim.stop().await;
}

#[tokio::test]
async fn transient_failures_are_retried_until_the_push_goes_through() {
    let (k, sim) = (kit(), sim().await);
    install(&k, &sim, None).await;
    sim.set_faults(Faults::parse("fail-first=3").unwrap());
    let (pusher, run) = k.push.pusher(options(&sim), None);
    tokio::spawn(run);
    let token = [0x11; 32];
    pusher.notify(target(&token, sim.topic()));
    let d = sim.wait_for_push(&hex::encode(token), StdDuration::from_secs(10)).await;
    assert!(d.is_some(), "delivered after retries");
    assert_eq!(sim.requests(), 4, "three 503s, then 200");
    sim.stop().await;
}

#[tokio::test]
async fn a_permanent_refusal_marks_the_device_and_is_not_retried() {
    let refused = permanent_refusal(|sim, token| sim.unregister(token)).await;
    assert_eq!(refused.reason, "Unregistered");
    assert!(refused.message.contains("no longer accepts"), "{}", refused.message);
}

#[tokio::test]
async fn a_bad_device_token_marks_the_device_and_is_not_retried() {
    let refused = permanent_refusal(|sim, token| sim.mark_bad(token)).await;
    assert_eq!(refused.reason, "BadDeviceToken");
    assert!(!refused.message.is_empty());
}

/// Pushes to a token the simulator refuses for good (as `refuse` sets up); the mark the
/// device gets, once checked that the push was not retried and the timeline was asked.
async fn permanent_refusal(refuse: impl Fn(&RunningSimApns, &str)) -> records::Unreachable {
    let (k, sim) = (kit(), sim().await);
    install(&k, &sim, None).await;
    let token = [0x22; 32];
    refuse(&sim, &hex::encode(token));
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::<crate::ids::Udid>::new()));
    let s2 = seen.clone();
    let lookup: worker::SerialOf = std::sync::Arc::new(move |_wtx, udid: &crate::ids::Udid| {
        s2.lock().unwrap().push(udid.clone());
        Ok(None)
    });
    let (pusher, run) = k.push.pusher(options(&sim), Some(lookup));
    tokio::spawn(run);
    let t = target(&token, sim.topic());
    pusher.notify(t.clone());
    let mut record = None;
    for _ in 0..200 {
        record = k.push.device(&t.udid).await.unwrap();
        if record.is_some() {
            break;
        }
        tokio::time::sleep(StdDuration::from_millis(20)).await;
    }
    let mark = record.unwrap().unreachable.expect("marked unreachable");
    assert_eq!(sim.requests(), 1, "not retried");
    assert_eq!(*seen.lock().unwrap(), vec![t.udid.clone()], "the timeline hook was asked");
    sim.stop().await;
    mark
}

#[tokio::test]
async fn no_push_is_sent_without_a_certificate() {
    let (k, sim) = (kit(), sim().await);
    let (pusher, run) = k.push.pusher(options(&sim), None);
    tokio::spawn(run);
    pusher.notify(target(&[0x33; 32], "com.apple.mgmt.x"));
    tokio::time::sleep(StdDuration::from_millis(200)).await;
    assert_eq!(sim.requests(), 0);
    sim.stop().await;
}

/// Waits (5 s at most) until the push certificate's refusal is `want`.
async fn refusal_becomes(k: &Kit, want: Option<&str>) -> PushStatus {
    for _ in 0..250 {
        let s = k.push.status().await.unwrap();
        if s.refused.as_ref().map(|r| r.reason.as_str()) == want {
            return s;
        }
        tokio::time::sleep(StdDuration::from_millis(20)).await;
    }
    panic!("the refusal never became {want:?}: {:?}", k.push.status().await.unwrap().refused);
}

#[tokio::test]
async fn a_refused_certificate_is_recorded_until_a_push_is_accepted_again() {
    let (k, sim) = (kit(), sim().await);
    install(&k, &sim, None).await;
    sim.set_faults(Faults::parse("bad-certificate").unwrap());
    let (pusher, run) = k.push.pusher(options(&sim), None);
    tokio::spawn(run);
    pusher.notify(target(&[0x21; 32], sim.topic()));
    let s = refusal_becomes(&k, Some("BadCertificate")).await;
    assert_eq!(s.refused.as_ref().unwrap().status, 403);
    let (level, code, message, _) = s.banner().expect("a banner");
    assert_eq!((level.as_str(), code.as_str()), ("error", "push_certificate_refused"));
    assert!(message.contains("BadCertificate"), "{message}");
    assert_eq!(sim.requests(), 1, "a refused certificate is not retried");

    sim.set_faults(Faults::default());
    pusher.notify(target(&[0x22; 32], sim.topic()));
    let s = refusal_becomes(&k, None).await;
    assert!(s.banner().is_none(), "accepted again: no banner");
    sim.stop().await;
}

/// Schema 3 kept push records under the UDID as the enrollment held it; opening such a store
/// moves them under `Udid::key` in the migration's one transaction, keeping the newer of two
/// rows of one device, and reads find them whatever case the UDID is asked in.
#[tokio::test]
async fn a_schema_3_store_keys_its_push_records_by_the_upper_cased_udid() {
    let dir = tempfile::tempdir().unwrap();
    let tables: &[&[crate::store::Table]] = &[crate::audit::TABLES, super::TABLES];
    let at = |s: &str| {
        time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).unwrap()
    };
    let (old, newer) = (at("2026-01-02T03:04:05Z"), at("2026-01-02T03:04:05.5Z"));
    {
        let store = Store::open(dir.path(), tables).unwrap();
        let rows = [
            ("00008101-00aa", old, None),
            ("00008101-00AA", newer, Some("Unregistered")),
            ("udid-lower-only", old, Some("BadDeviceToken")),
        ];
        store
            .write_blocking(move |wtx| {
                let mut t = wtx.open_table(records::DEVICES)?;
                for (key, sent, reason) in rows {
                    let unreachable = reason.map(|r| Unreachable {
                        reason: r.into(),
                        message: "gone".into(),
                        at: sent,
                    });
                    let r = DeviceRecord { last_sent_at: Some(sent), unreachable };
                    crate::store::put(&mut t, key.as_bytes(), &r)?;
                }
                drop(t);
                crate::store::set_schema_version_in(wtx, 3)
            })
            .unwrap();
    }
    let store = Store::open(dir.path(), tables).unwrap();
    let push = Push::new(store.clone(), Clock::manual(old));
    let udid = |s: &str| crate::ids::Udid::parse(s).unwrap();
    let both = push.device(&udid("00008101-00Aa")).await.unwrap().unwrap();
    assert_eq!(both.last_sent_at, Some(newer), "the newer of the two rows is kept");
    assert_eq!(both.unreachable.unwrap().reason, "Unregistered");
    let lower = push.device(&udid("UDID-LOWER-ONLY")).await.unwrap().unwrap();
    assert_eq!(lower.unreachable.unwrap().reason, "BadDeviceToken");
    let keys = store
        .read_blocking(|rtx| {
            let t = rtx.open_table(records::DEVICES)?;
            let mut keys = Vec::new();
            for row in redb::ReadableTable::iter(&t)? {
                keys.push(String::from_utf8(row?.0.value().to_vec()).unwrap());
            }
            Ok::<_, crate::store::StoreError>(keys)
        })
        .unwrap();
    assert_eq!(keys, ["00008101-00AA", "UDID-LOWER-ONLY"], "one row per device, upper-cased");
}

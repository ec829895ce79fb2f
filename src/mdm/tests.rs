//! The MDM service in-process: identities recorded as ACME records them, a real store, a
//! manual clock, one device in the inventory.

use super::*;
use crate::acme::{AcmeOptions, AcmeService, IssuedTo};
use crate::apple::dep::Device;
use crate::apple::mdm::parse_command;
use crate::config::Config;
use crate::crypto::ca::Authority;
use crate::devices::{Devices, Lifecycle, PageMode, apply_page_in};
use crate::ids::{Serial, Udid};
use plist::{Dictionary, Value};
use std::sync::Mutex;
use time::OffsetDateTime;
use time::macros::datetime;

const T0: OffsetDateTime = datetime!(2026-11-24 12:00 UTC);
const SERIAL: &str = "F5JM992LF193";
const UDID: &str = "00008110-AAAABBBBCCCCDDDD";
const CERT: &str = "aa11";
const OTHER_SERIAL: &str = "OTHER0000001";
const OTHER_UDID: &str = "00008110-EEEE000011112222";
const OTHER_CERT: &str = "bb22";

fn sn(s: &str) -> Serial {
    Serial::parse(s).unwrap()
}

fn ud(u: &str) -> Udid {
    Udid::parse(u).unwrap()
}

struct World {
    _dir: tempfile::TempDir,
    mdm: Mdm,
    devices: Devices,
    clock: Clock,
    pushed: Arc<Mutex<Vec<PushTarget>>>,
}

fn world() -> World {
    let dir = tempfile::tempdir().unwrap();
    let tables = [
        crate::audit::TABLES,
        crate::devices::TABLES,
        crate::push::TABLES,
        crate::acme::TABLES,
        crate::signin::TABLES,
        crate::lifecycle::TABLES,
        crate::setup::TABLES,
        super::TABLES,
    ];
    let store = Store::open(dir.path(), &tables).unwrap();
    let clock = Clock::manual(T0);
    let ca = Arc::new(Authority::generate("test CA", T0, Duration::days(3650)).unwrap());
    let config = Config::for_sandbox(dir.path().into(), "127.0.0.1:8443".parse().unwrap());
    let pki_anchors = crate::crypto::chain::TrustAnchors::from_pem(ca.cert_pem()).unwrap();
    let acme = AcmeService::new(
        store.clone(),
        clock.clone(),
        crate::urls::Urls::new(&config),
        pki_anchors,
        ca,
        AcmeOptions::default(),
    );
    store
        .write_blocking(|wtx| {
            let mut t = wtx.open_table(crate::acme::records::CERT_BY_HASH)?;
            for (hash, serial, udid, days) in [
                (CERT, SERIAL, UDID, 365),
                (OTHER_CERT, OTHER_SERIAL, OTHER_UDID, 365),
                ("old", SERIAL, UDID, -1),
                ("revoked", SERIAL, UDID, 365),
            ] {
                let revoked = (hash == "revoked").then(|| crate::acme::Revocation {
                    at: T0,
                    reason: 1,
                    by: "account".into(),
                });
                let to = IssuedTo {
                    cert_id: hash.into(),
                    serial: sn(serial),
                    udid: ud(udid),
                    not_after: T0 + Duration::days(days),
                    revoked,
                };
                crate::store::put(&mut t, hash.as_bytes(), &to)?;
            }
            let dev = Device { serial_number: SERIAL.into(), ..Default::default() };
            let _ = apply_page_in(
                wtx,
                &crate::ids::TokenId::parse("tok").unwrap(),
                &[dev],
                &PageMode::Fetch { run_id: "r".into(), new_only: false },
                T0,
            )?;
            Ok::<_, StoreError>(())
        })
        .unwrap();
    let devices = Devices::new(store.clone());
    let pushed = Arc::new(Mutex::new(Vec::new()));
    let sink = pushed.clone();
    let setup = crate::setup::Setup::new(store.clone(), clock.clone());
    let mdm = Mdm::new(
        store,
        clock.clone(),
        devices.clone(),
        super::Plans { profiles: None, setup: Some(setup), ..Default::default() },
        acme,
        MdmOptions { release_timeout: Duration::minutes(5) },
        Arc::new(move |t| sink.lock().unwrap().push(t)),
    );
    World { _dir: dir, mdm, devices, clock, pushed }
}

fn id(hash: &str) -> DeviceIdentity {
    DeviceIdentity { cert_sha256: hash.into() }
}

fn authenticate(udid: &str) -> Vec<u8> {
    plist(&[
        ("MessageType", "Authenticate".into()),
        ("UDID", udid.into()),
        ("Topic", "com.apple.mgmt.External.t".into()),
        ("OSVersion", "18.1".into()),
    ])
}

fn token_update(udid: &str, awaiting: bool) -> Vec<u8> {
    plist(&[
        ("MessageType", "TokenUpdate".into()),
        ("UDID", udid.into()),
        ("Topic", "com.apple.mgmt.External.t".into()),
        ("Token", Value::Data(vec![7; 32])),
        ("PushMagic", "MAGIC".into()),
        ("AwaitingConfiguration", awaiting.into()),
    ])
}

fn report(status: &str, uuid: Option<&str>) -> Vec<u8> {
    let mut pairs = vec![("UDID", Value::from(UDID)), ("Status", status.into())];
    if let Some(u) = uuid {
        pairs.push(("CommandUUID", u.into()));
    }
    plist(&pairs)
}

/// Polls with `status` for `uuid`; returns (uuid, RequestType) of the next command.
async fn poll(w: &World, status: &str, uuid: Option<&str>) -> Option<(String, String)> {
    let next = w.mdm.connect(&id(CERT), &report(status, uuid)).await.unwrap()?;
    let (u, rt, _) = parse_command(&next).unwrap();
    Some((u, rt))
}

async fn lifecycle(w: &World) -> Lifecycle {
    w.devices.get(&sn(SERIAL)).await.unwrap().unwrap().summary.lifecycle
}

async fn enrolled_awaiting(w: &World) {
    w.mdm.check_in(&id(CERT), &authenticate(UDID)).await.unwrap();
    w.mdm.check_in(&id(CERT), &token_update(UDID, true)).await.unwrap();
}

#[tokio::test]
async fn awaiting_device_is_released_on_acknowledged_device_configured() {
    let w = world();
    enrolled_awaiting(&w).await;
    assert_eq!(w.pushed.lock().unwrap().len(), 1, "the release is pushed");
    assert_eq!(w.pushed.lock().unwrap()[0].push_magic, "MAGIC");
    let state = w.mdm.state(&sn(SERIAL)).await.unwrap().unwrap();
    assert_eq!(state.state, MdmPhase::AwaitingConfiguration);
    assert!(state.push_token_present);
    let (u, rt) = poll(&w, "Idle", None).await.unwrap();
    assert_eq!(rt, "DeviceConfigured");
    assert_ne!(lifecycle(&w).await, Lifecycle::Enrolled);
    assert_eq!(poll(&w, "Acknowledged", Some(&u)).await, None);
    assert_eq!(lifecycle(&w).await, Lifecycle::Enrolled);
    let state = w.mdm.state(&sn(SERIAL)).await.unwrap().unwrap();
    assert_eq!(state.state, MdmPhase::Enrolled);
    assert_eq!(state.commands[0].state, CommandStatus::Acknowledged);
}

#[tokio::test]
async fn repeated_token_update_does_not_queue_a_second_release() {
    let w = world();
    enrolled_awaiting(&w).await;
    w.mdm.check_in(&id(CERT), &token_update(UDID, true)).await.unwrap();
    assert_eq!(w.mdm.pending(&sn(SERIAL)).await.unwrap(), 1);
}

#[tokio::test]
async fn device_not_awaiting_configuration_is_enrolled_at_once() {
    let w = world();
    w.mdm.check_in(&id(CERT), &authenticate(UDID)).await.unwrap();
    w.mdm.check_in(&id(CERT), &token_update(UDID, false)).await.unwrap();
    assert_eq!(lifecycle(&w).await, Lifecycle::Enrolled);
    assert_eq!(w.mdm.pending(&sn(SERIAL)).await.unwrap(), 0);
}

#[tokio::test]
async fn commands_go_by_priority_then_first_in_first_out() {
    let w = world();
    w.mdm.check_in(&id(CERT), &authenticate(UDID)).await.unwrap();
    w.mdm.check_in(&id(CERT), &token_update(UDID, false)).await.unwrap();
    w.mdm.refresh(&sn(SERIAL), "admin").await.unwrap();
    w.mdm.rename(&sn(SERIAL), "admin", "Lab 1").await.unwrap();
    w.mdm.erase(&sn(SERIAL), "admin", SERIAL).await.unwrap();
    let (u1, rt) = poll(&w, "Idle", None).await.unwrap();
    assert_eq!(rt, "EraseDevice", "the urgent erase first");
    let (u2, rt) = poll(&w, "NotNow", Some(&u1)).await.unwrap();
    assert_eq!(rt, "DeviceInformation");
    let (u3, rt) = poll(&w, "Acknowledged", Some(&u2)).await.unwrap();
    assert_eq!(rt, "EraseDevice", "NotNow'd commands come back on the next report");
    assert_eq!(u3, u1);
    let (_, rt) = poll(&w, "NotNow", Some(&u1)).await.unwrap();
    assert_eq!(rt, "Settings");
}

#[tokio::test]
async fn not_now_answer_skips_deferred_commands_and_keeps_them() {
    let w = world();
    w.mdm.check_in(&id(CERT), &authenticate(UDID)).await.unwrap();
    w.mdm.check_in(&id(CERT), &token_update(UDID, false)).await.unwrap();
    let uuid = w.mdm.refresh(&sn(SERIAL), "admin").await.unwrap();
    let (u, _) = poll(&w, "Idle", None).await.unwrap();
    assert_eq!(u, uuid);
    assert_eq!(poll(&w, "NotNow", Some(&u)).await, None, "nothing else to offer");
    assert_eq!(w.mdm.pending(&sn(SERIAL)).await.unwrap(), 1, "the command is kept");
    let (again, _) = poll(&w, "Idle", None).await.unwrap();
    assert_eq!(again, uuid);
    let state = w.mdm.state(&sn(SERIAL)).await.unwrap().unwrap();
    assert_eq!(state.commands[0].not_now_count, 1);
}

#[tokio::test]
async fn results_are_kept_with_the_command() {
    let w = world();
    w.mdm.check_in(&id(CERT), &authenticate(UDID)).await.unwrap();
    w.mdm.check_in(&id(CERT), &token_update(UDID, false)).await.unwrap();
    let uuid = w.mdm.refresh(&sn(SERIAL), "admin").await.unwrap();
    poll(&w, "Idle", None).await.unwrap();
    let mut q = Dictionary::new();
    q.insert("OSVersion".into(), "18.1".into());
    let body = plist(&[
        ("UDID", UDID.into()),
        ("Status", "Acknowledged".into()),
        ("CommandUUID", uuid.as_str().into()),
        ("QueryResponses", Value::Dictionary(q)),
    ]);
    assert_eq!(w.mdm.connect(&id(CERT), &body).await.unwrap(), None);
    let state = w.mdm.state(&sn(SERIAL)).await.unwrap().unwrap();
    assert_eq!(state.commands[0].result.as_ref().unwrap()["QueryResponses"]["OSVersion"], "18.1");
}

#[tokio::test]
async fn a_new_authenticate_clears_the_queue_into_history() {
    let w = world();
    w.mdm.check_in(&id(CERT), &authenticate(UDID)).await.unwrap();
    w.mdm.check_in(&id(CERT), &token_update(UDID, false)).await.unwrap();
    w.mdm.refresh(&sn(SERIAL), "admin").await.unwrap();
    w.mdm.check_in(&id(CERT), &authenticate(UDID)).await.unwrap();
    assert_eq!(w.mdm.pending(&sn(SERIAL)).await.unwrap(), 0);
    let state = w.mdm.state(&sn(SERIAL)).await.unwrap().unwrap();
    assert_eq!(state.commands[0].state, CommandStatus::Canceled);
    assert_eq!(poll(&w, "Idle", None).await, None);
}

#[tokio::test]
async fn the_queue_is_bounded_with_a_clear_error() {
    let w = world();
    w.mdm.check_in(&id(CERT), &authenticate(UDID)).await.unwrap();
    for _ in 0..MAX_PENDING {
        w.mdm.refresh(&sn(SERIAL), "admin").await.unwrap();
    }
    let err = w.mdm.refresh(&sn(SERIAL), "admin").await.unwrap_err();
    assert!(matches!(err, MdmError::QueueFull { .. }), "{err}");
    assert!(err.to_string().contains("commands waiting"));
    assert_eq!(w.mdm.pending(&sn(SERIAL)).await.unwrap(), MAX_PENDING);
}

#[tokio::test]
async fn history_is_pruned_to_its_limit() {
    let w = world();
    w.mdm.check_in(&id(CERT), &authenticate(UDID)).await.unwrap();
    for _ in 0..(MAX_HISTORY + 5) {
        let u = w.mdm.refresh(&sn(SERIAL), "admin").await.unwrap();
        poll(&w, "Idle", None).await.unwrap();
        poll(&w, "Acknowledged", Some(&u)).await;
    }
    let state = w.mdm.state(&sn(SERIAL)).await.unwrap().unwrap();
    assert_eq!(state.commands.len(), MAX_HISTORY);
}

#[tokio::test]
async fn release_waits_for_the_name_until_the_timeout_then_warns() {
    let w = world();
    w.mdm.check_in(&id(CERT), &authenticate(UDID)).await.unwrap();
    // A release flow with a name (the profile's template is exercised end to end in tests/it).
    w.mdm
        .inner
        .store
        .write(|wtx| {
            let mut e = records::load_enrollment(wtx, &ud(UDID))?.unwrap();
            let name = crate::apple::mdm::Command::DeviceName { name: "Lab".into() };
            queue::enqueue_in(wtx, &mut e, name, queue::NORMAL, "release", false, T0)?;
            queue::enqueue_in(
                wtx,
                &mut e,
                crate::apple::mdm::Command::DeviceConfigured,
                queue::NORMAL,
                "release",
                true,
                T0,
            )?;
            e.release_deadline = Some(T0 + Duration::minutes(5));
            records::save_enrollment(wtx, &e)?;
            Ok::<_, MdmError>(())
        })
        .await
        .unwrap();
    let (name, rt) = poll(&w, "Idle", None).await.unwrap();
    assert_eq!(rt, "Settings");
    assert_eq!(poll(&w, "NotNow", Some(&name)).await, None, "DeviceConfigured waits for the name");
    w.clock.advance(Duration::minutes(6));
    let (_, rt) = poll(&w, "NotNow", Some(&name)).await.unwrap();
    assert_eq!(rt, "DeviceConfigured", "released anyway after the timeout");
    let timeline = w.devices.get(&sn(SERIAL)).await.unwrap().unwrap().timeline;
    assert!(
        timeline.iter().any(|e| e.kind == crate::devices::TimelineKind::MdmReleaseTimeout),
        "{timeline:?}"
    );
}

#[tokio::test]
async fn check_out_marks_the_device_and_refuses_later_polls() {
    let w = world();
    enrolled_awaiting(&w).await;
    let out = plist(&[("MessageType", "CheckOut".into()), ("UDID", UDID.into())]);
    w.mdm.check_in(&id(CERT), &out).await.unwrap();
    assert_eq!(lifecycle(&w).await, Lifecycle::CheckedOut);
    let err = w.mdm.connect(&id(CERT), &report("Idle", None)).await.unwrap_err();
    assert!(matches!(err, MdmError::CheckedOut));
    let err = w.mdm.check_in(&id(CERT), &token_update(UDID, true)).await.unwrap_err();
    assert!(matches!(err, MdmError::CheckedOut), "a replayed TokenUpdate is refused");
    // A replayed CheckOut is harmless.
    w.mdm.check_in(&id(CERT), &out).await.unwrap();
}

#[tokio::test]
async fn identities_must_be_ours_current_and_for_that_device() {
    let w = world();
    let err = w.mdm.check_in(&id("ffff"), &authenticate(UDID)).await.unwrap_err();
    assert!(matches!(err, MdmError::UnknownIdentity));
    let err = w.mdm.check_in(&id(OTHER_CERT), &authenticate(UDID)).await.unwrap_err();
    assert!(matches!(err, MdmError::WrongDevice));
    let err = w.mdm.check_in(&id("old"), &authenticate(UDID)).await.unwrap_err();
    assert!(matches!(err, MdmError::IdentityExpired));
    let err = w.mdm.check_in(&id("revoked"), &authenticate(UDID)).await.unwrap_err();
    assert!(matches!(err, MdmError::IdentityRevoked));
    let err = w.mdm.connect(&id(CERT), &report("Idle", None)).await.unwrap_err();
    assert!(matches!(err, MdmError::NotEnrolled));
}

#[tokio::test]
async fn bad_bodies_are_refused_and_lose_nothing_from_the_queue() {
    let w = world();
    w.mdm.check_in(&id(CERT), &authenticate(UDID)).await.unwrap();
    w.mdm.refresh(&sn(SERIAL), "admin").await.unwrap();
    let unknown = plist(&[("MessageType", "DeclarativeManagement".into()), ("UDID", UDID.into())]);
    for bad in [b"junk".to_vec(), unknown, vec![b'x'; 70_000], report("Sometimes", Some("x"))] {
        assert!(matches!(w.mdm.check_in(&id(CERT), &bad).await, Err(MdmError::Wire(_))));
        assert!(matches!(w.mdm.connect(&id(CERT), &bad).await, Err(MdmError::Wire(_))));
    }
    assert_eq!(w.mdm.pending(&sn(SERIAL)).await.unwrap(), 1);
}

#[tokio::test]
async fn admin_actions_refuse_unknown_devices_and_bad_input() {
    let w = world();
    assert!(matches!(w.mdm.refresh(&sn("NOPE"), "admin").await, Err(MdmError::UnknownDevice(_))));
    w.mdm.check_in(&id(CERT), &authenticate(UDID)).await.unwrap();
    assert!(matches!(w.mdm.rename(&sn(SERIAL), "admin", " ").await, Err(MdmError::Invalid { .. })));
    let err = w.mdm.erase(&sn(SERIAL), "admin", "yes").await.unwrap_err();
    assert!(err.to_string().contains(SERIAL), "{err}");
    assert_eq!(w.mdm.pending(&sn(SERIAL)).await.unwrap(), 0);
}

#[tokio::test]
async fn acknowledged_erase_leaves_the_enrolled_state() {
    let w = world();
    w.mdm.check_in(&id(CERT), &authenticate(UDID)).await.unwrap();
    w.mdm.check_in(&id(CERT), &token_update(UDID, false)).await.unwrap();
    w.mdm.erase(&sn(SERIAL), "admin", SERIAL).await.unwrap();
    let (u, _) = poll(&w, "Idle", None).await.unwrap();
    assert_eq!(poll(&w, "Acknowledged", Some(&u)).await, None);
    assert_ne!(lifecycle(&w).await, Lifecycle::Enrolled);
    // It enrolls again from the start.
    enrolled_awaiting(&w).await;
    assert_eq!(
        w.mdm.state(&sn(SERIAL)).await.unwrap().unwrap().state,
        MdmPhase::AwaitingConfiguration
    );
}

#[tokio::test]
async fn idle_polls_write_the_last_check_in_once_a_minute_and_never_hide_a_command() {
    let w = world();
    w.mdm.check_in(&id(CERT), &authenticate(UDID)).await.unwrap();
    w.mdm.check_in(&id(CERT), &token_update(UDID, false)).await.unwrap();
    let seen = || async { w.mdm.state(&sn(SERIAL)).await.unwrap().unwrap().last_check_in };
    assert_eq!(seen().await, T0);
    w.clock.advance(Duration::seconds(30));
    assert_eq!(poll(&w, "Idle", None).await, None);
    assert_eq!(seen().await, T0, "a poll within the minute only reads");
    // A command queued meanwhile goes out on the very next idle poll.
    w.mdm.refresh(&sn(SERIAL), "admin").await.unwrap();
    let (mut uuid, rt) = poll(&w, "Idle", None).await.unwrap();
    assert_eq!(rt, "DeviceInformation");
    assert_eq!(seen().await, T0 + Duration::seconds(30), "sending a command writes");
    while let Some((next, _)) = poll(&w, "Acknowledged", Some(&uuid)).await {
        uuid = next;
    }
    w.clock.advance(Duration::seconds(90));
    assert_eq!(poll(&w, "Idle", None).await, None);
    assert_eq!(seen().await, T0 + Duration::seconds(120), "a minute later an idle poll writes");
    // A checked-out device still gets its error, not a quiet empty answer.
    w.mdm
        .check_in(
            &id(CERT),
            &plist(&[
                ("MessageType", "CheckOut".into()),
                ("UDID", UDID.into()),
                ("Topic", "com.apple.mgmt.External.t".into()),
            ]),
        )
        .await
        .unwrap();
    assert!(w.mdm.connect(&id(CERT), &report("Idle", None)).await.is_err());
}

/// An XML plist of `pairs`, as a device would send it.
fn plist(pairs: &[(&str, plist::Value)]) -> Vec<u8> {
    let d: plist::Dictionary = pairs.iter().map(|(k, v)| (k.to_string(), v.clone())).collect();
    let mut out = Vec::new();
    plist::Value::Dictionary(d).to_writer_xml(&mut out).unwrap();
    out
}

#[test]
fn an_enrollment_stored_with_a_lower_case_udid_keeps_its_bytes_and_its_key() {
    let stored = concat!(
        r#"{"v":1,"udid":"663b07bb783e9ade1dae4fbb92ea12afc0ce5b69","serial":"F5JM992LF193","#,
        r#""cert_sha256":"aa11","topic":"t","push_token":null,"push_magic":null,"#,
        r#""unlock_token":null,"product":null,"os_version":null,"#,
        r#""authenticated_at":"2026-11-24T12:00:00Z","token_updated_at":null,"#,
        r#""last_seen":"2026-11-24T12:00:00Z","awaiting_configuration":false,"#,
        r#""release_deadline":null,"released_at":null,"checked_out_at":null,"next_seq":0}"#
    );
    let e: records::EnrollmentRec =
        crate::store::decode("mdm.enrollments", stored.as_bytes()).unwrap();
    assert_eq!(String::from_utf8(crate::store::encode(&e)).unwrap(), stored);
    // Keyed upper case, as before: the device sending its UDID in either case finds it.
    assert_eq!(records::udid_key(&e.udid), "663B07BB783E9ADE1DAE4FBB92EA12AFC0CE5B69");
    assert_eq!(e.udid, ud("663B07BB783E9ADE1DAE4FBB92EA12AFC0CE5B69"));
}

/// A command's stored state keeps its bytes and reads as the status the page is told.
#[test]
fn a_stored_command_state_keeps_its_bytes() {
    use super::records::CommandState;
    for (stored, status) in [
        ("\"queued\"", CommandStatus::Queued),
        ("\"not_now\"", CommandStatus::NotNow),
        ("\"acknowledged\"", CommandStatus::Acknowledged),
        ("\"error\"", CommandStatus::Error),
        ("\"command_format_error\"", CommandStatus::CommandFormatError),
        ("\"canceled\"", CommandStatus::Canceled),
    ] {
        let s: CommandState = crate::store::decode("mdm.commands", stored.as_bytes()).unwrap();
        assert_eq!(crate::store::encode(&s), stored.as_bytes());
        assert_eq!(CommandStatus::from(s), status);
        assert_eq!(serde_json::to_string(&status).unwrap(), stored, "the same words outside");
    }
}

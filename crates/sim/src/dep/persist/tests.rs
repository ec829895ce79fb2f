//! The saved simulated Apple side: what a restart must find again, and the refusals of a file
//! that cannot be used.

use super::*;
use crate::dep::profiles::AssignFaults;
use crate::dep::world::ServerId;
use time::macros::datetime;

const T0: OffsetDateTime = datetime!(2026-11-01 12:00 UTC);
const DAY: i64 = 86_400;

/// A world with two servers, devices, a defined and assigned profile, a renewed token, a
/// scheduled migration and a sync cursor handed out.
fn busy_world() -> (World, ServerId, String) {
    let mut w = World::new(7, Quirks::default());
    let other = w.add_server("Other MDM", None, T0);
    let ours = w.add_server("adebox", Some("Rehearsal Org"), T0);
    let at_other = w.add_devices(Some(other), 3, &[], T0).unwrap();
    let ours_devices = w.add_devices(Some(ours), 5, &[], T0).unwrap();
    w.add_devices(None, 2, &[], T0).unwrap();
    w.renew_token(ours, T0).unwrap();
    let profile = ProfileDefinition { profile_name: Some("Staff".into()), ..Default::default() };
    w.define_profile(ours, profile, &ours_devices[..2], AssignFaults::default(), T0);
    let page = w.fetch_page(ours, None, 100, T0).unwrap();
    w.schedule_migration(&at_other[..1], ours, T0.unix_timestamp() + 10 * DAY, T0).unwrap();
    (w, ours, page.cursor)
}

fn saved(w: &World) -> (tempfile::TempDir, StateFile) {
    let dir = tempfile::tempdir().unwrap();
    let file = StateFile::new(dir.path().join("simulated-apple.json"));
    file.save(w).unwrap();
    (dir, file)
}

#[test]
fn a_saved_world_comes_back_as_it_was() {
    let (w, ours, cursor) = busy_world();
    let (_dir, file) = saved(&w);
    let mut back = file.load(Quirks::default()).unwrap().expect("the saved world");

    assert_eq!(
        serde_json::to_value(back.truth()).unwrap(),
        serde_json::to_value(w.truth()).unwrap()
    );
    assert_eq!(back.migrations(), w.migrations());
    let (a, b) = (&w.server(ours).unwrap().token, &back.server(ours).unwrap().token);
    assert_eq!(
        (&a.consumer_key, &a.consumer_secret, &a.access_token, &a.access_secret, a.expiry),
        (&b.consumer_key, &b.consumer_secret, &b.access_token, &b.access_secret, b.expiry),
        "the renewed token is still in force"
    );
    assert_eq!(w.server(ours).unwrap().retired_tokens, back.server(ours).unwrap().retired_tokens);
    let uuid = w.truth().servers[1].devices.iter().find_map(|d| d.profile_uuid.clone()).unwrap();
    assert_eq!(back.profile(ours, &uuid).unwrap().profile_name.as_deref(), Some("Staff"));
    // The cursor handed out before the restart still syncs, and sees the migrated device.
    let page = back.sync_page(ours, Some(&cursor), 100, T0, &mut || false).unwrap();
    assert_eq!(page.items.len(), 1, "the device migrated in after the fetch");
}

#[test]
fn identifiers_drawn_after_a_restart_never_repeat_earlier_ones() {
    let (mut w, ours, _) = busy_world();
    let (_dir, file) = saved(&w);
    let mut back = file.load(Quirks::default()).unwrap().unwrap();
    let define = |w: &mut World| {
        let p = ProfileDefinition { profile_name: Some("Next".into()), ..Default::default() };
        w.define_profile(ours, p, &[], AssignFaults::default(), T0).0
    };
    let first_run = define(&mut w);
    let restarted = define(&mut back);
    assert_eq!(restarted, first_run, "the generator continues where it was saved");
    // A fresh world with the same seed would hand out the earlier run's first profile uuid.
    let earlier: Vec<String> = w.servers[ours as usize].profiles.keys().cloned().collect();
    let again = define(&mut back);
    assert!(!earlier.contains(&again), "{again} was handed out before");
}

#[test]
fn no_file_is_a_fresh_start_and_a_damaged_one_is_refused_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("simulated-apple.json");
    let file = StateFile::new(&path);
    assert!(file.load(Quirks::default()).unwrap().is_none());

    for damaged in [&b"{\"format\": 1, \"rng\": "[..], b"not json", b"{\"format\": 1}"] {
        std::fs::write(&path, damaged).unwrap();
        let e = file.load(Quirks::default()).unwrap_err();
        assert!(matches!(e, StateError::Corrupt { .. }), "{e:?}");
        let text = e.to_string();
        assert!(text.contains(&path.display().to_string()) && text.contains("delete it"), "{text}");
        assert_eq!(std::fs::read(&path).unwrap(), damaged, "the file is left as it was");
    }
}

#[test]
fn a_file_of_a_newer_format_is_refused_not_reset() {
    let (w, _, _) = busy_world();
    let (_dir, file) = saved(&w);
    let mut json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(file.path()).unwrap()).unwrap();
    json["format"] = (FORMAT + 1).into();
    json["something_new"] = true.into();
    std::fs::write(file.path(), serde_json::to_vec(&json).unwrap()).unwrap();
    let e = file.load(Quirks::default()).unwrap_err();
    assert!(matches!(e, StateError::Newer { found, .. } if found == FORMAT + 1), "{e:?}");
    assert!(e.to_string().contains("newer adebox"), "{e}");
}

#[test]
fn a_migration_naming_a_missing_server_is_refused() {
    let (w, _, _) = busy_world();
    let (_dir, file) = saved(&w);
    let mut json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(file.path()).unwrap()).unwrap();
    json["migrations"][0]["to"] = 9.into();
    std::fs::write(file.path(), serde_json::to_vec(&json).unwrap()).unwrap();
    let e = file.load(Quirks::default()).unwrap_err().to_string();
    assert!(e.contains("names a server that is not there"), "{e}");
}

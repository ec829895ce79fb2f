//! The enrolled users' indexes: the `user` filter finds devices by any name of their user
//! through the index, a device enrolled again for someone else leaves the old names, and the
//! schema 2 → 3 migration fills the indexes for users stored before them.

use super::*;
use crate::store::Store;

const T0: OffsetDateTime = time::macros::datetime!(2026-12-01 09:00 UTC);

fn record(
    serial: &str,
    username: &str,
    display_name: &str,
    email: Option<&str>,
) -> EnrolledUserRecord {
    EnrolledUserRecord {
        v: 1,
        serial: Serial::parse(serial).unwrap(),
        username: username.into(),
        display_name: display_name.into(),
        email: email.map(str::to_string),
        source: "local".into(),
        prefill_macos_account: false,
        lock_macos_account: false,
        signed_in_at: T0,
    }
}

fn open(dir: &std::path::Path) -> Store {
    Store::open(dir, &[super::super::TABLES]).unwrap()
}

fn matching(store: &Store, prefix: &str) -> Vec<String> {
    let prefix = prefix.to_string();
    store
        .read_blocking(move |rtx| serials_matching_in(rtx, &prefix))
        .unwrap()
        .into_iter()
        .map(Serial::into_string)
        .collect()
}

fn put(store: &Store, udid: &str, r: EnrolledUserRecord) {
    let udid = Udid::parse(udid).unwrap();
    store.write_blocking(move |wtx| put_in(wtx, &udid, &r)).unwrap();
}

#[test]
fn the_user_filter_reads_the_index_by_any_name_of_the_user() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    put(&store, "U-1", record("C02AAAAAAA01", "alice", "Alice Liddell", Some("alice@example.org")));
    put(&store, "U-2", record("C02AAAAAAA02", "alice", "Alice Liddell", Some("alice@example.org")));
    put(&store, "U-3", record("C02AAAAAAA03", "bob", "Bob Builder", None));

    assert_eq!(matching(&store, "ALI"), ["C02AAAAAAA01", "C02AAAAAAA02"]);
    assert_eq!(matching(&store, "liddell"), ["C02AAAAAAA01", "C02AAAAAAA02"]);
    assert_eq!(matching(&store, "bob build"), ["C02AAAAAAA03"]);
    assert_eq!(matching(&store, "builder"), ["C02AAAAAAA03"]);
    assert!(matching(&store, "carol").is_empty());
    assert!(matching(&store, "lice").is_empty(), "names are matched from their start");

    // Enrolled again for bob: alice's names no longer find that device.
    put(&store, "U-2", record("C02AAAAAAA02", "bob", "Bob Builder", None));
    assert_eq!(matching(&store, "alice"), ["C02AAAAAAA01"]);
    assert_eq!(matching(&store, "bob"), ["C02AAAAAAA02", "C02AAAAAAA03"]);
    let serial = Serial::parse("C02AAAAAAA02").unwrap();
    let user = store.read_blocking(move |rtx| of_serial_in(rtx, &serial)).unwrap().unwrap();
    assert_eq!(user.username, "bob");
}

#[test]
fn opening_a_schema_2_store_indexes_the_users_it_kept() {
    let dir = tempfile::tempdir().unwrap();
    {
        let store = open(dir.path());
        let r = record("C02BBBBBBB01", "carol", "Carol Danvers", Some("carol@example.org"));
        // As schema 2 wrote it: the record alone, no index.
        store
            .write_blocking(move |wtx| {
                let mut t = wtx.open_table(ENROLLED_USERS)?;
                store::put(&mut t, b"U-9", &r)?;
                crate::store::set_schema_version_in(wtx, 2)
            })
            .unwrap();
        assert!(matching(&store, "carol").is_empty());
    }
    let store = open(dir.path());
    assert_eq!(matching(&store, "carol"), ["C02BBBBBBB01"]);
    assert_eq!(matching(&store, "danv"), ["C02BBBBBBB01"]);
    assert_eq!(matching(&store, "carol@"), ["C02BBBBBBB01"]);
    let serial = Serial::parse("C02BBBBBBB01").unwrap();
    let user = store.read_blocking(move |rtx| of_serial_in(rtx, &serial)).unwrap();
    assert_eq!(user.map(|u| u.username), Some("carol".to_string()));
}

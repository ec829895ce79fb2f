use super::*;
use crate::apple::dep::{Device, OpType, ProfileStatus};
use crate::ids::{ProfileUuid, Serial, TokenId};
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

const T0: OffsetDateTime = datetime!(2026-11-24 10:00 UTC);

fn store() -> (Store, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    (Store::open(dir.path(), &[crate::audit::TABLES, TABLES]).unwrap(), dir)
}

fn dev(serial: &str) -> Device {
    Device {
        serial_number: serial.into(),
        model: Some("iPad (10th generation)".into()),
        device_family: Some("iPad".into()),
        os: Some("iPadOS".into()),
        ..Default::default()
    }
}

fn ev(serial: &str, op: OpType, at: OffsetDateTime) -> Device {
    Device { op_type: Some(op), op_date: Some(at), ..dev(serial) }
}

fn tid(token: &str) -> TokenId {
    TokenId::parse(token).unwrap()
}

fn apply(store: &Store, token: &str, devices: Vec<Device>, mode: PageMode) -> PageStats {
    let token = tid(token);
    store.write_blocking(move |wtx| apply_page_in(wtx, &token, &devices, &mode, T0)).unwrap().0
}

fn fetch(run: &str) -> PageMode {
    PageMode::Fetch { run_id: run.into(), new_only: false }
}

fn sn(s: &str) -> Serial {
    Serial::parse(s).unwrap()
}

async fn one(store: &Store, serial: &str) -> DeviceDetail {
    Devices::new(store.clone()).get(&sn(serial)).await.unwrap().unwrap()
}

#[tokio::test]
async fn fetched_devices_are_added_then_unchanged() {
    let (s, _d) = store();
    let st = apply(&s, "tA", vec![dev("S1"), dev("S2")], fetch("r1"));
    assert_eq!((st.added, st.seen), (2, 2));
    let st = apply(&s, "tA", vec![dev("S1")], fetch("r2"));
    assert_eq!((st.added, st.unchanged), (0, 1));
    let d = one(&s, "S1").await;
    assert_eq!(d.summary.lifecycle, Lifecycle::NotContacted);
    assert_eq!(d.timeline.len(), 1, "only the synthesized arrival");
}

#[tokio::test]
async fn a_dep_serial_is_kept_in_the_one_form_every_other_edge_uses() {
    let (s, _d) = store();
    let st = apply(&s, "tA", vec![dev(" c02xk1abcd12 "), dev("C02 XK1"), dev("")], fetch("r1"));
    assert_eq!((st.added, st.ignored), (1, 2), "{st:?}");
    let d = one(&s, "C02XK1ABCD12").await;
    assert_eq!(
        (d.summary.serial.as_str(), d.apple.serial_number.as_str()),
        ("C02XK1ABCD12", "C02XK1ABCD12")
    );
    // What assignment and the enrollment gate look up (an admin's list, a MachineInfo).
    let facts = Devices::new(s.clone()).facts(vec![sn("c02xk1abcd12")]).await.unwrap();
    assert_eq!(facts.len(), 1);
}

#[tokio::test]
async fn modified_for_an_unknown_serial_counts_as_added() {
    let (s, _d) = store();
    let st = apply(&s, "tA", vec![ev("S9", OpType::Modified, T0)], PageMode::Sync);
    assert_eq!(st.added, 1);
}

#[tokio::test]
async fn the_latest_op_date_wins_within_and_across_pages() {
    let (s, _d) = store();
    let mut older = ev("S1", OpType::Modified, T0 + Duration::minutes(1));
    older.profile_status = Some(ProfileStatus::Assigned);
    let mut newer = ev("S1", OpType::Modified, T0 + Duration::minutes(5));
    newer.profile_status = Some(ProfileStatus::Pushed);
    // Out of order within a page: the newer still wins.
    let st = apply(&s, "tA", vec![newer.clone(), older.clone()], PageMode::Sync);
    assert_eq!((st.added, st.ignored), (1, 1));
    assert_eq!(one(&s, "S1").await.summary.lifecycle, Lifecycle::ProfilePushed);
    // A later page replaying the older event changes nothing.
    let st = apply(&s, "tA", vec![older], PageMode::Sync);
    assert_eq!(st.ignored, 1);
    assert_eq!(one(&s, "S1").await.summary.lifecycle, Lifecycle::ProfilePushed);
}

#[tokio::test]
async fn deleted_marks_removed_and_keeps_the_device() {
    let (s, _d) = store();
    apply(&s, "tA", vec![dev("S1"), dev("S2")], fetch("r1"));
    let mut del = Device {
        serial_number: "S2".into(),
        op_type: Some(OpType::Deleted),
        op_date: Some(T0),
        ..Default::default()
    };
    del.released_by_replacement = Some(true);
    let st = apply(&s, "tA", vec![del], PageMode::Sync);
    assert_eq!(st.removed, 1);
    let d = one(&s, "S2").await;
    assert_eq!(d.summary.lifecycle, Lifecycle::Removed);
    assert_eq!(d.summary.removed.unwrap().reason, RemovalCause::ReleasedByReplacement);
    assert_eq!(d.timeline[0].kind, TimelineKind::Removed);
    assert_eq!(d.summary.model.as_deref(), Some("iPad (10th generation)"), "kept with its details");
    // A deleted for a serial we never had is ignored.
    let ghost = Device {
        serial_number: "S404".into(),
        op_type: Some(OpType::Deleted),
        ..Default::default()
    };
    assert_eq!(apply(&s, "tA", vec![ghost], PageMode::Sync).ignored, 1);
}

#[tokio::test]
async fn a_device_moved_to_another_token_is_moved_not_duplicated() {
    let (s, _d) = store();
    apply(&s, "tA", vec![dev("S1")], fetch("r1"));
    // Apple sends the new server `modified` (quirk) and the old one `deleted`, in either order.
    let st = apply(
        &s,
        "tB",
        vec![ev("S1", OpType::Modified, T0 + Duration::minutes(1))],
        PageMode::Sync,
    );
    assert_eq!(st.moved, 1);
    let del = Device {
        serial_number: "S1".into(),
        op_type: Some(OpType::Deleted),
        op_date: Some(T0 + Duration::minutes(2)),
        ..Default::default()
    };
    let st = apply(&s, "tA", vec![del], PageMode::Sync);
    assert_eq!(st.removed, 0, "the old server's deleted is half of the move");
    let d = one(&s, "S1").await;
    assert_eq!(d.summary.token, "tB");
    assert_eq!(d.summary.lifecycle, Lifecycle::NotContacted);
    assert!(d.timeline.iter().any(|e| e.kind == TimelineKind::Moved));
    let devices = Devices::new(s.clone());
    let counts = devices.counts().await.unwrap();
    assert_eq!(counts.by_token.get(&tid("tB")), Some(&1));
    assert_eq!(counts.by_token.get(&tid("tA")), None);
    let n = s.write_blocking(|wtx| count_for_token_in(wtx, &tid("tA"))).unwrap();
    assert_eq!(n, 0);
}

#[tokio::test]
async fn a_full_fetch_marks_missing_devices_removed_and_brings_back_returning_ones() {
    let (s, _d) = store();
    apply(&s, "tA", vec![dev("S1"), dev("S2"), dev("S3")], fetch("r1"));
    apply(&s, "tA", vec![dev("S1")], fetch("r2"));
    apply(&s, "tA", vec![dev("S3")], fetch("r2"));
    let (removed, _changes) =
        s.write_blocking(|wtx| sweep_missing_in(wtx, &tid("tA"), "r2", T0)).unwrap();
    assert_eq!(removed, 1);
    assert_eq!(
        one(&s, "S2").await.summary.removed.unwrap().reason,
        RemovalCause::MissingFromFullSync
    );
    let st = apply(&s, "tA", vec![dev("S2")], fetch("r3"));
    assert_eq!(st.modified, 1);
    let d = one(&s, "S2").await;
    assert!(d.summary.removed.is_none());
    assert_eq!(d.timeline[0].kind, TimelineKind::Restored);
}

#[tokio::test]
async fn a_new_only_fetch_imports_unknown_serials_and_touches_nothing_else() {
    let (s, _d) = store();
    apply(&s, "tA", vec![dev("S1")], fetch("r1"));
    let mut changed = dev("S1");
    changed.color = Some("BLUE".into());
    let st = apply(
        &s,
        "tA",
        vec![changed, dev("S2")],
        PageMode::Fetch { run_id: "r2".into(), new_only: true },
    );
    assert_eq!((st.added, st.unchanged, st.modified), (1, 1, 0));
    assert_eq!(one(&s, "S1").await.summary.color, None);
}

#[tokio::test]
async fn timelines_are_bounded() {
    let (s, _d) = store();
    apply(&s, "tA", vec![dev("S1")], fetch("r1"));
    for i in 0..(TIMELINE_LIMIT + 20) {
        let mut d = ev("S1", OpType::Modified, T0 + Duration::seconds(i as i64 + 1));
        d.color = Some(format!("C{i}"));
        apply(&s, "tA", vec![d], PageMode::Sync);
    }
    let d = one(&s, "S1").await;
    assert_eq!(d.timeline.len() as u64, TIMELINE_LIMIT + 1);
}

#[tokio::test]
async fn retention_deletes_long_removed_devices_only() {
    let (s, _d) = store();
    apply(&s, "tA", vec![dev("S1"), dev("S2")], fetch("r1"));
    let del =
        Device { serial_number: "S1".into(), op_type: Some(OpType::Deleted), ..Default::default() };
    apply(&s, "tA", vec![del], PageMode::Sync);
    let devices = Devices::new(s.clone());
    assert_eq!(devices.purge_removed(T0 + Duration::days(44), 45).await.unwrap(), 0);
    assert_eq!(devices.purge_removed(T0 + Duration::days(46), 45).await.unwrap(), 1);
    assert!(devices.get(&sn("S1")).await.unwrap().is_none());
    assert!(devices.get(&sn("S2")).await.unwrap().is_some());
}

#[tokio::test]
async fn the_list_filters_sorts_and_pages() {
    let (s, _d) = store();
    let mut page = Vec::new();
    for i in 0..30 {
        let mut d = dev(&format!("F{i:03}"));
        if i % 3 == 0 {
            d.device_family = Some("iPhone".into());
            d.os = Some("iOS".into());
            d.model = Some("iPhone 14".into());
        }
        if i % 5 == 0 {
            d.profile_status = Some(ProfileStatus::Assigned);
            d.profile_uuid = Some("ABCDEF0123456789ABCDEF0123456789".into());
        }
        page.push(d);
    }
    apply(&s, "tA", page, fetch("r1"));
    apply(&s, "tB", vec![dev("G001")], fetch("r1"));
    let devices = Devices::new(s.clone());
    let all = DeviceFilter::default();
    let (items, total) = devices.list(all.clone(), SortKey::Serial, false, 10, 25).await.unwrap();
    assert_eq!((total, items.len()), (31, 6));
    assert_eq!(items[0].serial, "F025");
    let (items, _) = devices.list(all.clone(), SortKey::Serial, true, 1, 0).await.unwrap();
    assert_eq!(items[0].serial, "G001");
    let f = DeviceFilter { family: Some("iphone".into()), ..Default::default() };
    assert_eq!(devices.list(f, SortKey::Serial, false, 100, 0).await.unwrap().1, 10);
    let f = DeviceFilter { lifecycle: Some(Lifecycle::ProfileAssigned), ..Default::default() };
    assert_eq!(devices.list(f, SortKey::Serial, false, 100, 0).await.unwrap().1, 6);
    let f = DeviceFilter { serial_prefix: Some("f00".into()), ..Default::default() };
    assert_eq!(devices.list(f, SortKey::Serial, false, 100, 0).await.unwrap().1, 10);
    let f = DeviceFilter { serial: Some(Serial::parse("f007").unwrap()), ..Default::default() };
    assert_eq!(devices.list(f, SortKey::Serial, false, 100, 0).await.unwrap().1, 1);
    let f = DeviceFilter { token: Some(tid("tB")), ..Default::default() };
    assert_eq!(devices.list(f, SortKey::Serial, false, 100, 0).await.unwrap().1, 1);
    let f = DeviceFilter { model: Some("iphone 1".into()), ..Default::default() };
    let (items, n) = devices.list(f, SortKey::Model, false, 100, 0).await.unwrap();
    assert_eq!(n, 10);
    assert!(items.iter().all(|d| d.family.as_deref() == Some("iPhone")));
}

#[tokio::test]
async fn a_caller_giving_up_never_leaves_the_index_half_built() {
    let (s, _d) = store();
    let page: Vec<Device> = (0..2000).map(|i| dev(&format!("W{i:05}"))).collect();
    apply(&s, "tA", page, fetch("r1"));
    let devices = Devices::new(s.clone());
    // Callers that stop waiting at every moment of the build…
    for us in [0u64, 10, 50, 100, 500, 1000, 5000] {
        let _ = tokio::time::timeout(std::time::Duration::from_micros(us), devices.counts()).await;
    }
    // …and the next one still gets its answer.
    let counts = tokio::time::timeout(std::time::Duration::from_secs(10), devices.counts())
        .await
        .expect("the index builds")
        .unwrap();
    assert_eq!(counts.by_token.get(&tid("tA")), Some(&2000));
}

#[tokio::test]
async fn kept_counts_match_the_list_after_adds_moves_profile_changes_and_removals() {
    let (s, _d) = store();
    let devices = Devices::new(s.clone());
    devices.warm().await.unwrap();
    let write = |token: &str, page: Vec<Device>, mode: PageMode| {
        let token = tid(token);
        let (_, changes) =
            s.write_blocking(move |wtx| apply_page_in(wtx, &token, &page, &mode, T0)).unwrap();
        devices.apply_changes(changes);
    };
    write("tA", (0..20).map(|i| dev(&format!("K{i:03}"))).collect(), fetch("r1"));
    write("tB", (20..30).map(|i| dev(&format!("K{i:03}"))).collect(), fetch("r2"));
    // Five assigned, two of them then unassigned; three moved to tB; four deleted at Apple.
    for (i, change) in (0..5)
        .map(|i| (i, ProfileChange::Assigned { profile_uuid: ProfileUuid::parse("A1").unwrap() }))
        .chain((0..2).map(|i| (i, ProfileChange::Removed)))
    {
        let serial = sn(&format!("K{i:03}"));
        let changes = s
            .write_blocking(move |wtx| {
                record_profile_change_in(wtx, &serial, &change, "test".into(), T0)
            })
            .unwrap();
        devices.apply_changes(changes);
    }
    let at = T0 + Duration::minutes(1);
    write(
        "tB",
        (10..13).map(|i| ev(&format!("K{i:03}"), OpType::Modified, at)).collect(),
        PageMode::Sync,
    );
    write(
        "tA",
        (14..18).map(|i| ev(&format!("K{i:03}"), OpType::Deleted, at)).collect(),
        PageMode::Sync,
    );

    let counts = devices.counts().await.unwrap();
    for state in Lifecycle::ALL {
        let f = DeviceFilter { lifecycle: Some(*state), ..Default::default() };
        let listed = devices.list(f, SortKey::Serial, false, 1, 0).await.unwrap().1;
        assert_eq!(counts.by_lifecycle.get(state).copied().unwrap_or(0), listed, "{state:?}");
    }
    assert_eq!(counts.by_lifecycle.get(&Lifecycle::ProfileAssigned), Some(&3));
    assert_eq!(counts.by_lifecycle.get(&Lifecycle::Removed), Some(&4));
    assert_eq!(counts.by_token.get(&tid("tA")), Some(&13), "20 - 3 moved - 4 removed");
    assert_eq!(counts.by_token.get(&tid("tB")), Some(&13));
    // A fresh index built from the store agrees with the one kept by changes.
    let fresh = Devices::new(s.clone()).counts().await.unwrap();
    assert_eq!(fresh.by_lifecycle, counts.by_lifecycle);
    assert_eq!(fresh.by_token, counts.by_token);
}

#[test]
fn every_stored_enrollment_state_and_timeline_kind_keeps_its_word() {
    // The words written before these were types: a store from then reads, and writes back
    // the same bytes.
    let states = ["enrolling", "enrolled", "checked_out", "erased"];
    for (state, word) in EnrollmentState::ALL.iter().zip(states) {
        let json = format!("\"{word}\"");
        assert_eq!(serde_json::to_string(state).unwrap(), json);
        assert_eq!(serde_json::from_str::<EnrollmentState>(&json).unwrap(), *state);
    }
    let kinds = [
        "added",
        "modified",
        "moved",
        "restored",
        "removed",
        "profile_assigned",
        "profile_removed",
        "profile_not_assigned",
        "mdm_authenticated",
        "mdm_awaiting_configuration",
        "mdm_enrolled",
        "mdm_released",
        "mdm_release_timeout",
        "mdm_renamed",
        "mdm_erased",
        "mdm_checked_out",
        "mdm_command_queued",
        "mdm_command_failed",
        "mdm_setup_step",
        "push_unreachable",
        "enrollment_contacted",
        "enrollment_refused",
        "enrollment_audited",
        "enrollment_os_update_required",
        "enrollment_profile_served",
        "enrollment_certificate_issued",
        "user_signed_in",
    ];
    assert_eq!(TimelineKind::ALL.len(), kinds.len());
    for (kind, word) in TimelineKind::ALL.iter().zip(kinds) {
        let json = format!("\"{word}\"");
        assert_eq!(serde_json::to_string(kind).unwrap(), json);
        assert_eq!(serde_json::from_str::<TimelineKind>(&json).unwrap(), *kind);
    }
}

#[test]
fn a_record_stored_with_plain_strings_reads_and_writes_back_byte_for_byte() {
    let stored = concat!(
        r#"{"serial":"C02XK1ABCD12","token":"t1","apple":{"serial_number":"C02XK1ABCD12"},"#,
        r#""op_date":null,"first_seen":"2026-11-24T10:00:00Z","#,
        r#""updated_at":"2026-11-24T10:00:00Z","seen_in_run":null,"removed":null,"#,
        r#""enrollment":"erased","next_event":3}"#
    );
    let r: records::DeviceRecord =
        crate::store::decode("devices.by_serial", stored.as_bytes()).unwrap();
    assert_eq!((r.serial.as_str(), r.enrollment), ("C02XK1ABCD12", Some(EnrollmentState::Erased)));
    assert_eq!(String::from_utf8(crate::store::encode(&r)).unwrap(), stored);
    let event = r#"{"at":"2026-11-24T10:00:00Z","kind":"mdm_released","message":"released"}"#;
    let e: records::TimelineEvent =
        crate::store::decode("devices.timeline", event.as_bytes()).unwrap();
    assert_eq!(e.kind, TimelineKind::MdmReleased);
    assert_eq!(String::from_utf8(crate::store::encode(&e)).unwrap(), event);
    // A removed device: its removal keeps its bytes, and reads as the cause the API names.
    let stored = stored.replace(
        r#""removed":null"#,
        r#""removed":{"at":"2026-11-25T08:30:00Z","reason":"missing_from_full_sync"}"#,
    );
    let r: records::DeviceRecord =
        crate::store::decode("devices.by_serial", stored.as_bytes()).unwrap();
    assert_eq!(String::from_utf8(crate::store::encode(&r)).unwrap(), stored);
    let summary = DeviceSummary::of(&r);
    assert_eq!(summary.removed.map(|r| r.reason), Some(RemovalCause::MissingFromFullSync));
}

#[tokio::test]
async fn a_migration_deadline_is_told_on_the_timeline_in_apples_words_only() {
    let (s, _d) = store();
    let deadline = T0 + Duration::days(14);
    let arriving = Device { mdm_migration_deadline: Some(deadline), ..dev("S1") };
    apply(&s, "tA", vec![arriving, dev("S2")], fetch("r1"));
    let d = one(&s, "S1").await;
    let words = &d.timeline[0].message;
    assert!(words.starts_with("Apple Business set a migration deadline: 2026-12-08"), "{words}");
    assert!(!words.contains("migrating"), "a deadline is not proof of a migration");
    assert!(one(&s, "S2").await.timeline.iter().all(|e| !e.message.contains("deadline")));
    // Set on a device already here (a `modified`), then cancelled.
    let set = Device { mdm_migration_deadline: Some(deadline), ..ev("S2", OpType::Modified, T0) };
    apply(&s, "tA", vec![set], PageMode::Sync);
    assert!(one(&s, "S2").await.timeline[0].message.contains("migration deadline: 2026-12-08"));
    let cancelled = ev("S2", OpType::Modified, T0 + Duration::hours(1));
    apply(&s, "tA", vec![cancelled], PageMode::Sync);
    assert_eq!(
        one(&s, "S2").await.timeline[0].message,
        "Apple Business no longer shows a migration deadline."
    );
}

/// The readers that need one token's devices (the profile scan, the token delete guard, the
/// sweep after a full fetch) find them by the records' own token: the same devices the list
/// shows for that token, after adds, moves, removals and a purge.
#[tokio::test]
async fn each_token_reader_sees_the_devices_the_list_shows_for_that_token() {
    let (s, _d) = store();
    let devices = Devices::new(s.clone());
    apply(&s, "tA", (0..12).map(|i| dev(&format!("M{i:03}"))).collect(), fetch("r1"));
    apply(&s, "tB", (12..16).map(|i| dev(&format!("M{i:03}"))).collect(), fetch("r2"));
    let at = T0 + Duration::minutes(1);
    // Three move to tB, two are deleted at Apple, one of them purged later.
    apply(
        &s,
        "tB",
        (0..3).map(|i| ev(&format!("M{i:03}"), OpType::Modified, at)).collect(),
        PageMode::Sync,
    );
    apply(
        &s,
        "tA",
        (3..5).map(|i| ev(&format!("M{i:03}"), OpType::Deleted, at)).collect(),
        PageMode::Sync,
    );
    let listed = |token: &'static str| {
        let devices = devices.clone();
        async move {
            let f = DeviceFilter {
                token: Some(tid(token)),
                include_removed: true,
                ..Default::default()
            };
            let (items, _) = devices.list(f, SortKey::Serial, false, 100, 0).await.unwrap();
            items
                .into_iter()
                .map(|d| (d.serial.to_string(), d.lifecycle == Lifecycle::Removed))
                .collect::<Vec<_>>()
        }
    };
    for token in ["tA", "tB"] {
        let facts = devices.token_facts(&tid(token)).await.unwrap();
        let facts: Vec<_> = facts.iter().map(|f| (f.serial.to_string(), f.removed)).collect();
        assert_eq!(facts, listed(token).await, "{token}");
        let active = facts.iter().filter(|(_, removed)| !removed).count() as u64;
        let guard = s.write_blocking(move |wtx| count_for_token_in(wtx, &tid(token))).unwrap();
        assert_eq!(guard, active, "{token}");
    }
    assert_eq!(devices.token_facts(&tid("tA")).await.unwrap().len(), 9, "12 - 3 moved");
    assert_eq!(devices.token_facts(&tid("tB")).await.unwrap().len(), 7);
    // Both tokens in one scan: the same devices, grouped by token in the order asked.
    let both = devices.tokens_facts(vec![tid("tB"), tid("tA")]).await.unwrap();
    let mut each = devices.token_facts(&tid("tB")).await.unwrap();
    each.extend(devices.token_facts(&tid("tA")).await.unwrap());
    assert_eq!(both, each);

    // A new full fetch of tA lists M005..M009: M010 and M011 are missing; tB is not touched.
    apply(&s, "tA", (5..10).map(|i| dev(&format!("M{i:03}"))).collect(), fetch("r3"));
    let (n, changes) = s.write_blocking(|wtx| sweep_missing_in(wtx, &tid("tA"), "r3", at)).unwrap();
    let swept: Vec<_> = changes.upserted.iter().map(|r| r.serial.to_string()).collect();
    assert_eq!((n, swept), (2, vec!["M010".to_string(), "M011".to_string()]));
    let tb = devices.token_facts(&tid("tB")).await.unwrap();
    assert!(tb.iter().all(|f| !f.removed), "another token's devices are not swept");

    // Retention deletes the removed ones; the readers no longer see them.
    devices.purge_removed(at + Duration::days(2), 1).await.unwrap();
    let left = devices.token_facts(&tid("tA")).await.unwrap();
    let left: Vec<_> = left.iter().map(|f| f.serial.to_string()).collect();
    assert_eq!(left, (5..10).map(|i| format!("M{i:03}")).collect::<Vec<_>>());
}

/// Schema 3 kept `devices.by_token`; opening such a file drops it and loses no device.
#[tokio::test]
async fn a_schema_3_store_loses_its_token_index_and_keeps_its_devices() {
    let dir = tempfile::tempdir().unwrap();
    let old = crate::store::SCHEMA_4_TOKEN_INDEX;
    {
        let s = Store::open(dir.path(), &[crate::audit::TABLES, TABLES]).unwrap();
        apply(&s, "tA", vec![dev("S1"), dev("S2")], fetch("r1"));
        s.write_blocking(move |wtx| {
            wtx.open_table(old)?.insert(b"tA\0S1".as_slice(), b"".as_slice())?;
            crate::store::set_schema_version_in(wtx, 3)
        })
        .unwrap();
    }
    let s = Store::open(dir.path(), &[crate::audit::TABLES, TABLES]).unwrap();
    let names = s
        .read_blocking(|rtx| {
            let names: Vec<String> =
                rtx.list_tables()?.map(|t| redb::TableHandle::name(&t).to_string()).collect();
            Ok::<_, StoreError>(names)
        })
        .unwrap();
    assert!(names.iter().any(|n| n == "devices.by_serial"), "{names:?}");
    assert!(!names.iter().any(|n| n == "devices.by_token"), "{names:?}");
    let facts = Devices::new(s.clone()).token_facts(&tid("tA")).await.unwrap();
    assert_eq!(facts.len(), 2);
}

/// A deadline Apple sends already past, and one on a device leaving this server: each is
/// recorded and said so; a device that left keeps it without effect.
#[tokio::test]
async fn a_past_deadline_and_one_on_a_device_leaving_are_recorded_as_such() {
    let (s, _d) = store();
    let past = Device { mdm_migration_deadline: Some(T0 - Duration::hours(2)), ..dev("P1") };
    apply(&s, "tA", vec![past, dev("P2")], fetch("r1"));
    let words = &one(&s, "P1").await.timeline[0].message;
    assert!(words.contains("(already past: the device moves without offering a delay)"), "{words}");
    // P1 leaves (a cancelled migration): its deadline no longer applies here.
    let at = T0 + Duration::minutes(1);
    apply(&s, "tA", vec![ev("P1", OpType::Deleted, at)], PageMode::Sync);
    let t = one(&s, "P1").await.timeline;
    let gone = "Its migration deadline no longer applies: the device is no longer assigned";
    assert!(t.iter().any(|e| e.message.starts_with(gone)), "{t:?}");
    // P2 leaves carrying a deadline of its own: a move away, recorded without effect.
    let away = Device {
        mdm_migration_deadline: Some(T0 + Duration::days(7)),
        ..ev("P2", OpType::Deleted, at)
    };
    apply(&s, "tA", vec![away], PageMode::Sync);
    let p2 = one(&s, "P2").await;
    assert!(p2.summary.removed.is_some());
    let t = p2.timeline;
    assert!(
        t.iter().any(|e| e.message.contains("It is for a move away from this server")),
        "{t:?}"
    );
    assert!(t.iter().all(|e| !e.message.contains("Its migration deadline no longer")), "{t:?}");
}

use super::*;
use crate::keys::{Key, KeyName};
use time::macros::datetime;

const T0: OffsetDateTime = datetime!(2026-11-01 10:00 UTC);

fn scratch() -> (tempfile::TempDir, store::Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = store::Store::open(dir.path(), &[TABLES]).unwrap();
    (dir, store)
}

/// A store whose chain has started, with `n` entries a minute apart.
fn chained(n: i64) -> (tempfile::TempDir, store::Store, AuditLog) {
    let (dir, store) = scratch();
    let started = start(&store, dir.path(), T0).unwrap();
    assert_eq!(started.upgraded, None);
    for i in 0..n {
        record_blocking(&store, T0 + Duration::minutes(i), &format!("t{}", i + 1));
    }
    let log = AuditLog::new(store.clone());
    (dir, store, log)
}

fn record_blocking(store: &store::Store, at: OffsetDateTime, target: &str) -> u64 {
    let e =
        NewEntry::new(at, Actor::Admin("alice".into()), Action::ProfileUpdate, Outcome::Success)
            .target(target);
    store.write_blocking(move |wtx| record_in(wtx, e)).unwrap()
}

/// Changes the stored tables directly, as someone with the store file would.
fn tamper(
    store: &store::Store,
    f: impl FnOnce(&mut store::WriteTable<'_>, &mut store::WriteTable<'_>),
) {
    store
        .write_blocking(|wtx| -> Result<(), StoreError> {
            let mut entries = wtx.open_table(ENTRIES)?;
            let mut macs = wtx.open_table(chain::MACS)?;
            f(&mut entries, &mut macs);
            Ok(())
        })
        .unwrap();
}

fn k(seq: u64) -> [u8; 8] {
    seq.to_be_bytes()
}

fn raw(t: &store::WriteTable<'_>, seq: u64) -> Vec<u8> {
    t.get(k(seq).as_slice()).unwrap().unwrap().value().to_vec()
}

async fn broken(log: &AuditLog) -> Break {
    match log.verify().await.unwrap().verdict {
        Verdict::Broken(b) => b,
        other => panic!("expected a broken chain, got {other:?}"),
    }
}

#[tokio::test]
async fn lists_newest_first_with_filters_and_totals() {
    let (_dir, store) = scratch();
    for i in 0..30 {
        let outcome = if i % 3 == 0 { Outcome::Failure } else { Outcome::Success };
        let actor = if i % 2 == 0 { Actor::Admin("alice".into()) } else { Actor::System };
        record(
            &store,
            NewEntry::new(T0 + Duration::minutes(i), actor, Action::AdminLogin, outcome)
                .target(format!("t{i}")),
        )
        .await
        .unwrap();
    }
    let (items, total) = list(&store, Filter::default(), 5, 0).await.unwrap();
    assert_eq!(total, 30);
    assert_eq!(items[0].target.as_deref(), Some("t29"));
    let (items, total) = list(&store, Filter::default(), 5, 28).await.unwrap();
    assert_eq!((items.len(), total), (2, 30));

    let f = Filter {
        actor: Some("alice".into()),
        outcome: Some(Outcome::Failure),
        ..Default::default()
    };
    let (items, total) = list(&store, f, 100, 0).await.unwrap();
    assert_eq!(total, 5); // i = 0, 6, 12, 18, 24
    assert!(items.iter().all(|e| e.actor == "alice" && e.outcome == Outcome::Failure));

    let f = Filter { action: Some("admin".into()), ..Default::default() };
    assert_eq!(list(&store, f, 1, 0).await.unwrap().1, 30);
}

#[test]
fn every_action_has_a_distinct_dotted_code() {
    let mut codes: Vec<_> = Action::ALL.iter().map(|a| a.code()).collect();
    assert!(codes.iter().all(|c| c.contains('.')));
    codes.sort();
    codes.dedup();
    assert_eq!(codes.len(), Action::ALL.len());
}

#[tokio::test]
async fn a_new_chain_verifies_with_its_head() {
    let (_dir, _store, log) = chained(5);
    let v = log.verify().await.unwrap();
    assert_eq!(v.verdict, Verdict::Verifies { entries: 5, first: Some(1), last: Some(5) });
    assert_eq!(v.origin.as_ref().unwrap().kind, OriginKind::New);
    assert!(v.report().starts_with("chain verifies: 5 entries from #1 to #5"), "{}", v.report());
    let head = log.head().await.unwrap().unwrap();
    assert_eq!((head.seq, Some(head.mac.clone())), (5, v.head.clone()));
    assert!(v.report().contains(&head.mac));
}

#[tokio::test]
async fn an_edited_entry_breaks_the_chain_at_its_sequence() {
    let (_dir, store, log) = chained(6);
    tamper(&store, |entries, _| {
        let edited = String::from_utf8(raw(entries, 4)).unwrap().replace("alice", "mallory");
        entries.insert(k(4).as_slice(), edited.as_bytes()).unwrap();
    });
    let b = broken(&log).await;
    assert_eq!((b.seq, b.problem.clone(), b.verified), (4, Problem::Edited, 3));
    assert!(b.to_string().contains("#4 was edited"), "{b}");
}

#[tokio::test]
async fn an_edited_mac_is_an_edit_too() {
    let (_dir, store, log) = chained(3);
    tamper(&store, |_, macs| {
        macs.insert(k(2).as_slice(), [0u8; 32].as_slice()).unwrap();
    });
    assert_eq!(broken(&log).await.seq, 2);
}

#[tokio::test]
async fn deleted_entries_are_named_as_missing() {
    let (_dir, store, log) = chained(8);
    tamper(&store, |entries, macs| {
        for seq in [3, 4] {
            entries.remove(k(seq).as_slice()).unwrap();
            macs.remove(k(seq).as_slice()).unwrap();
        }
    });
    let b = broken(&log).await;
    assert_eq!((b.seq, b.problem.clone()), (3, Problem::Missing { last: 4 }));
    assert!(b.to_string().contains("entries #3–#4 are missing"), "{b}");

    // The newest entry deleted with its MAC left behind is seen too.
    let (_dir, store, log) = chained(4);
    tamper(&store, |entries, _| {
        entries.remove(k(4).as_slice()).unwrap();
    });
    assert_eq!(broken(&log).await.problem, Problem::Missing { last: 4 });
}

#[tokio::test]
async fn swapped_entries_are_named_as_reordered() {
    let (_dir, store, log) = chained(6);
    tamper(&store, |entries, macs| {
        let (e2, e5) = (raw(entries, 2), raw(entries, 5));
        let (m2, m5) = (raw(macs, 2), raw(macs, 5));
        entries.insert(k(2).as_slice(), e5.as_slice()).unwrap();
        entries.insert(k(5).as_slice(), e2.as_slice()).unwrap();
        macs.insert(k(2).as_slice(), m5.as_slice()).unwrap();
        macs.insert(k(5).as_slice(), m2.as_slice()).unwrap();
    });
    let b = broken(&log).await;
    assert_eq!((b.seq, b.problem.clone()), (2, Problem::Reordered { holds: 5 }));
}

#[tokio::test]
async fn an_inserted_entry_without_a_mac_is_found() {
    let (_dir, store, log) = chained(3);
    tamper(&store, |entries, _| {
        let forged = String::from_utf8(raw(entries, 3)).unwrap().replace("\"id\":3", "\"id\":4");
        entries.insert(k(4).as_slice(), forged.as_bytes()).unwrap();
    });
    assert_eq!(broken(&log).await.problem, Problem::Unsealed);
    assert_eq!(broken(&log).await.seq, 4);
}

#[tokio::test]
async fn a_key_that_is_not_the_chains_is_told_apart_from_tampering() {
    let (_dir, store, _log) = chained(2);
    let other = Key::new([9u8; 32]);
    let v = verify_store(&store, &other).await.unwrap();
    assert!(matches!(v.verdict, Verdict::Broken(Break { problem: Problem::WrongKey, .. })));
    assert!(v.report().contains("restore the key folder"), "{}", v.report());
}

#[tokio::test]
async fn an_older_stores_entries_are_chained_once_at_upgrade() {
    let (dir, store) = scratch();
    for i in 0..4 {
        record_blocking(&store, T0 + Duration::minutes(i), "before");
    }
    let log = AuditLog::new(store.clone());
    assert!(matches!(log.verify().await.unwrap().verdict, Verdict::NotStarted { entries: 4 }));
    assert!(
        store
            .read_blocking(|rtx| Ok::<_, StoreError>(rtx.open_table(chain::MACS)?.len()?))
            .unwrap()
            == 0
    );

    let started = start(&store, dir.path(), T0 + Duration::days(1)).unwrap();
    assert_eq!(started.upgraded, Some(Span { first: 1, last: 4 }));
    let v = log.verify().await.unwrap();
    // The four old entries and the entry that says they were chained at upgrade.
    assert_eq!(v.verdict, Verdict::Verifies { entries: 5, first: Some(1), last: Some(5) });
    assert!(v.report().contains("entries #1–#4 were written before the audit chain existed"));
    let (newest, _) = log.list(Filter::default(), 1, 0).await.unwrap();
    assert_eq!(newest[0].action, "audit.chain_start");
    assert!(newest[0].detail.as_deref().unwrap().contains("#1–#4"));

    // A second start finds the chain and changes nothing.
    let again = start(&store, dir.path(), T0 + Duration::days(2)).unwrap();
    assert_eq!((again.chain, again.upgraded, again.key_matches), (started.chain, None, true));
    assert_eq!(log.count().await.unwrap(), 5);
    // Entries after the upgrade are chained as they are written.
    record_blocking(&store, T0 + Duration::days(2), "after");
    assert!(log.verify().await.unwrap().verifies());
    // The upgrade cannot be replayed: the edited old entry is still found.
    tamper(&store, |entries, _| {
        let e = String::from_utf8(raw(entries, 2)).unwrap().replace("before", "edited");
        entries.insert(k(2).as_slice(), e.as_bytes()).unwrap();
    });
    assert_eq!(broken(&log).await.seq, 2);
    assert_eq!(
        std::fs::metadata(KeyName::Audit.path(dir.path())).map(|m| m.len()).unwrap(),
        32,
        "the key lives in the data directory's key folder"
    );
}

#[tokio::test]
async fn pruning_keeps_a_checkpoint_that_verification_starts_from() {
    let (_dir, store, log) = chained(10);
    let now = T0 + Duration::days(800);
    // Entries t1..t4 are older than the cutoff (T0 + 4 minutes).
    let cutoff = T0 + Duration::minutes(4);
    let pruned = log.prune(now, now - cutoff).await.unwrap();
    assert_eq!(pruned, Pruned::Span(Span { first: 1, last: 4 }));
    let v = log.verify().await.unwrap();
    // #5..#10 and the entry that records the pruning (#11).
    assert_eq!(v.verdict, Verdict::Verifies { entries: 7, first: Some(5), last: Some(11) });
    let origin = v.origin.clone().unwrap();
    assert_eq!((origin.kind, origin.seq), (OriginKind::Checkpoint, 4));
    assert!(v.report().contains("starts at the checkpoint of #4"), "{}", v.report());
    let (newest, _) = log.list(Filter::default(), 1, 0).await.unwrap();
    assert_eq!(newest[0].action, "audit.prune");

    // The checkpoint is MACed: moving it to hide the first entries after it is seen.
    store
        .write_blocking(|wtx| -> Result<(), StoreError> {
            let mut chain = wtx.open_table(chain::CHAIN)?;
            let bytes = chain.get(b"origin".as_slice())?.unwrap().value().to_vec();
            let moved = String::from_utf8_lossy(&bytes).replace("\"seq\":4", "\"seq\":6");
            let mut edited = bytes[..32].to_vec();
            edited.extend_from_slice(&moved.as_bytes()[moved.len() - (bytes.len() - 32)..]);
            chain.insert(b"origin".as_slice(), edited.as_slice())?;
            Ok(())
        })
        .unwrap();
    assert_eq!(broken(&log).await.problem, Problem::StartEdited);
}

#[tokio::test]
async fn pruning_everything_goes_on_numbering_after_the_checkpoint() {
    let (_dir, store, log) = chained(3);
    let now = T0 + Duration::days(800);
    assert_eq!(
        log.prune(now, Duration::days(1)).await.unwrap(),
        Pruned::Span(Span { first: 1, last: 3 })
    );
    // Only the pruning's own entry is left, numbered after the checkpoint.
    let v = log.verify().await.unwrap();
    assert_eq!(v.verdict, Verdict::Verifies { entries: 1, first: Some(4), last: Some(4) });
    // Pruning that entry too leaves none; the next entry still follows the checkpoint.
    let later = now + Duration::days(800);
    assert_eq!(
        log.prune(later, Duration::days(1)).await.unwrap(),
        Pruned::Span(Span { first: 4, last: 4 })
    );
    tamper(&store, |entries, macs| {
        entries.remove(k(5).as_slice()).unwrap();
        macs.remove(k(5).as_slice()).unwrap();
    });
    assert_eq!(record_blocking(&store, later, "next"), 5);
    assert!(log.verify().await.unwrap().verifies());
}

#[tokio::test]
async fn a_span_that_does_not_verify_is_not_pruned() {
    let (_dir, store, log) = chained(6);
    tamper(&store, |entries, _| {
        let e = String::from_utf8(raw(entries, 2)).unwrap().replace("t2", "tx");
        entries.insert(k(2).as_slice(), e.as_bytes()).unwrap();
    });
    let now = T0 + Duration::days(800);
    let held = log.prune(now, now - (T0 + Duration::minutes(4))).await.unwrap();
    assert!(
        matches!(held, Pruned::Held(Break { seq: 2, problem: Problem::Edited, .. })),
        "{held:?}"
    );
    assert_eq!(log.count().await.unwrap(), 6, "the evidence stays");
}

#[tokio::test]
async fn an_export_page_carries_each_entry_with_its_mac() {
    let (_dir, _store, log) = chained(5);
    let page = log.export_page(2, 2).await.unwrap();
    assert_eq!(page.iter().map(|s| s.entry.id).collect::<Vec<_>>(), vec![3, 4]);
    assert!(page.iter().all(|s| s.mac.as_ref().is_some_and(|m| m.len() == 64)));
    let head = log.head().await.unwrap().unwrap();
    assert_eq!(log.export_page(4, 10).await.unwrap()[0].mac.as_deref(), Some(head.mac.as_str()));
    assert!(log.export_page(5, 10).await.unwrap().is_empty());
}

#[test]
fn a_process_without_the_key_leaves_entries_unsealed_and_loud() {
    // The key registry is per chain id: a chain whose key was never loaded here.
    let (dir, store) = scratch();
    start(&store, dir.path(), T0).unwrap();
    store
        .write_blocking(|wtx| -> Result<(), StoreError> {
            let mut chain = wtx.open_table(chain::CHAIN)?;
            let bytes = chain.get(b"origin".as_slice())?.unwrap().value().to_vec();
            let text = String::from_utf8_lossy(&bytes[32..]).into_owned();
            let o: Origin = serde_json::from_str(&text).unwrap();
            let other = text.replace(&o.chain, &"0".repeat(o.chain.len()));
            let mut v = bytes[..32].to_vec();
            v.extend_from_slice(other.as_bytes());
            chain.insert(b"origin".as_slice(), v.as_slice())?;
            Ok(())
        })
        .unwrap();
    let seq = record_blocking(&store, T0, "unsealed");
    let macs = store
        .read_blocking(|rtx| Ok::<_, StoreError>(rtx.open_table(chain::MACS)?.len()?))
        .unwrap();
    assert_eq!((seq, macs), (1, 0));
}

/// An entry written before the log answered with its own [`Entry`] reads back, and the bytes
/// the chain MACs are re-written as they were.
#[test]
fn a_stored_entry_keeps_its_bytes() {
    let stored = br#"{"id":7,"at":"2026-12-07T12:00:00Z","actor":"admin:alice","action":"token.delete","target":"School (T1)","outcome":"failure","remote_addr":"192.0.2.7","detail":null}"#;
    let r: EntryRecord = store::decode("audit.entries", stored).unwrap();
    assert_eq!(store::encode(&r), stored.to_vec());
    let e = decode_entry(stored).unwrap();
    assert_eq!((e.id, e.actor.as_str(), e.outcome), (7, "admin:alice", Outcome::Failure));
    assert_eq!((e.target.as_deref(), e.detail), (Some("School (T1)"), None));
}

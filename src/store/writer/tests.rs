//! Group commit: changes share commits, each stays all-or-nothing, replays start afresh.

use super::super::{Store, StoreError, Table, get, put, table};
use redb::ReadableTableMetadata;
use std::time::Duration;

const T: Table = table("test.grouped");

fn store() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path(), &[&[T]]).unwrap();
    (dir, store)
}

/// A write that holds the writer for a moment, so that the writes after it queue up and
/// share the next group.
async fn hold_the_writer(store: &Store) {
    store
        .write(|_| {
            std::thread::sleep(Duration::from_millis(100));
            Ok::<_, StoreError>(())
        })
        .await
        .unwrap();
}

fn stored(store: &Store, key: &str) -> Option<u64> {
    store.read_blocking(|rtx| get::<u64, _>(&rtx.open_table(T)?, key.as_bytes())).unwrap()
}

fn put_key(
    key: String,
    value: u64,
) -> impl FnOnce(&redb::WriteTransaction) -> Result<(), StoreError> + Clone {
    move |wtx| put(&mut wtx.open_table(T)?, key.as_bytes(), &value)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_writes_share_durable_commits_and_all_land() {
    let (_dir, store) = store();
    let before = store.write_stats();
    let writes = (0..200u64).map(|i| store.write(put_key(format!("k{i}"), i)));
    let results = futures_util::future::join_all(writes).await;
    assert!(results.iter().all(Result::is_ok));
    let stats = store.write_stats();
    assert_eq!(stats.units - before.units, 200);
    assert!(stats.commits - before.commits < 20, "200 waiting writes took {stats:?}");
    let n = store.read_blocking(|rtx| Ok::<_, StoreError>(rtx.open_table(T)?.len()?)).unwrap();
    assert_eq!(n, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_change_leaves_nothing_and_its_group_mates_are_saved() {
    let (_dir, store) = store();
    let held = hold_the_writer(&store);
    let writes = (0..40u64).map(|i| {
        let key = format!("k{i}");
        store.write(move |wtx| {
            put(&mut wtx.open_table(T)?, key.as_bytes(), &i)?;
            if i % 5 == 0 { Err(StoreError::Superseded) } else { Ok(()) }
        })
    });
    let (_, results) = tokio::join!(held, futures_util::future::join_all(writes));
    for (i, result) in results.iter().enumerate() {
        let key = format!("k{i}");
        if i % 5 == 0 {
            assert!(matches!(result, Err(StoreError::Superseded)), "{i}: {result:?}");
            assert_eq!(stored(&store, &key), None, "{key}: a failed change left its write");
        } else {
            assert!(result.is_ok(), "{i}: {result:?}");
            assert_eq!(stored(&store, &key), Some(i as u64));
        }
    }
    assert!(
        store.write_stats().replays >= 1,
        "the failures shared a group: {:?}",
        store.write_stats()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replayed_change_starts_from_what_it_captured() {
    let (_dir, store) = store();
    let held = hold_the_writer(&store);
    let mut seen = Vec::new();
    let counting = store.write(move |wtx| {
        // Each run pushes once: a run that was thrown away must not show in the next.
        seen.push(1u64);
        put(&mut wtx.open_table(T)?, b"runs", &(seen.len() as u64))
    });
    let failing = store.write(|wtx| {
        put(&mut wtx.open_table(T)?, b"failed", &1u64)?;
        Err::<(), _>(StoreError::Superseded)
    });
    let (_, counted, failed) = tokio::join!(held, counting, failing);
    counted.unwrap();
    assert!(failed.is_err());
    assert_eq!(stored(&store, "runs"), Some(1));
    assert_eq!(stored(&store, "failed"), None);
    assert!(store.write_stats().replays >= 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panicking_change_fails_alone_and_the_writer_goes_on() {
    let (_dir, store) = store();
    let held = hold_the_writer(&store);
    let panicking = store.write(|wtx| -> Result<(), StoreError> {
        put(&mut wtx.open_table(T)?, b"panicked", &1u64)?;
        panic!("a defect in a change");
    });
    let fine = store.write(put_key("fine".into(), 7));
    let (_, panicked, fine) = tokio::join!(held, panicking, fine);
    assert!(matches!(panicked, Err(StoreError::TaskFailed)));
    fine.unwrap();
    store.write(put_key("after".into(), 8)).await.unwrap();
    assert_eq!(stored(&store, "panicked"), None);
    assert_eq!((stored(&store, "fine"), stored(&store, "after")), (Some(7), Some(8)));
}

#[tokio::test]
async fn the_last_handle_closes_the_file() {
    let (dir, store) = store();
    store.write(put_key("a".into(), 1)).await.unwrap();
    let other = store.clone();
    assert_eq!(store.handles(), 2);
    drop(other);
    drop(store);
    // The writer thread has let go of the database: the file opens again at once.
    let again = Store::open(dir.path(), &[&[T]]).unwrap();
    assert_eq!(stored(&again, "a"), Some(1));
}

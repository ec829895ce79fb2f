use super::*;
use redb::{ReadableTableMetadata, TableHandle};

const T: Table = table("test.things");
const TABLES: &[&[Table]] = &[&[T]];

#[derive(serde::Serialize, serde::Deserialize, PartialEq, Debug)]
struct Thing {
    name: String,
}

fn put_thing(store: &Store, key: &str, name: &str) {
    store
        .write_blocking(|wtx| {
            let mut t = wtx.open_table(T)?;
            put(&mut t, key.as_bytes(), &Thing { name: name.into() })
        })
        .unwrap();
}

#[test]
fn a_new_store_gets_the_current_schema_and_reopens() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path(), TABLES).unwrap();
    put_thing(&store, "a", "first");
    drop(store);
    let store = Store::open(dir.path(), TABLES).unwrap();
    let got: Option<Thing> = store
        .read_blocking(|rtx| {
            let t = rtx.open_table(T)?;
            get(&t, b"a")
        })
        .unwrap();
    assert_eq!(got, Some(Thing { name: "first".into() }));
}

#[test]
fn a_failed_change_is_rolled_back_entirely() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path(), TABLES).unwrap();
    let r: Result<(), StoreError> = store.write_blocking(|wtx| {
        let mut t = wtx.open_table(T)?;
        put(&mut t, b"x", &Thing { name: "half".into() })?;
        Err(StoreError::TaskFailed)
    });
    assert!(r.is_err());
    let n = store.read_blocking(|rtx| Ok::<_, StoreError>(rtx.open_table(T)?.len()?)).unwrap();
    assert_eq!(n, 0);
}

#[test]
fn refuses_a_store_from_a_newer_version_without_touching_it() {
    let dir = tempfile::tempdir().unwrap();
    drop(Store::open(dir.path(), TABLES).unwrap());
    let path = dir.path().join(FILE_NAME);
    {
        let db = builder().open(&path).unwrap();
        migrate::force_schema_version(&db, migrate::SCHEMA_VERSION + 1);
    }
    let before = std::fs::read(&path).unwrap();
    let err = Store::open(dir.path(), TABLES).unwrap_err();
    assert!(matches!(err, StoreError::NewerSchema { .. }), "{err}");
    assert!(err.to_string().contains("newer adebox"));
    assert!(std::fs::read(&path).unwrap() == before, "the file changed");
}

#[test]
fn refuses_a_damaged_file_without_touching_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(FILE_NAME);
    let garbage: Vec<u8> = (0..20_000u32).map(|i| (i * 7 % 251) as u8).collect();
    std::fs::write(&path, &garbage).unwrap();
    let err = Store::open(dir.path(), TABLES).unwrap_err();
    assert!(matches!(err, StoreError::Corrupt { .. }), "{err:?}");
    assert!(err.to_string().contains("damaged"));
    assert!(std::fs::read(&path).unwrap() == garbage, "the file changed");
}

#[test]
fn backup_copies_a_consistent_snapshot_while_the_store_is_open() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path(), TABLES).unwrap();
    for i in 0..100 {
        put_thing(&store, &format!("k{i:03}"), "v");
    }
    let out = tempfile::tempdir().unwrap();
    let dest = out.path().join("backup.redb");
    // The daemon keeps the store open: the backup opens it read-only beside it.
    let files = vec![("tls/ca.key".to_string(), b"key bytes".to_vec())];
    let copied = backup(dir.path(), &dest, &files).unwrap();
    assert!(copied >= 100);
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(std::fs::metadata(&dest).unwrap().permissions().mode() & 0o777, 0o600);

    let restored_dir = tempfile::tempdir().unwrap();
    let back = restore(restored_dir.path(), &dest).unwrap();
    assert_eq!(back.files, files, "the carried files come back");
    let restored = Store::open(restored_dir.path(), TABLES).unwrap();
    let n = restored.read_blocking(|rtx| Ok::<_, StoreError>(rtx.open_table(T)?.len()?)).unwrap();
    assert_eq!(n, 100);
}

#[test]
fn restore_replaces_the_store_and_keeps_the_old_one() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path(), TABLES).unwrap();
    put_thing(&store, "a", "from backup");
    let dest = dir.path().join("b.redb");
    store.backup_to(&dest).unwrap();
    put_thing(&store, "a", "later change");
    // Refused while the store is open (the daemon runs).
    assert!(matches!(restore(dir.path(), &dest), Err(StoreError::InUse { .. })));
    drop(store);
    let restored = restore(dir.path(), &dest).unwrap();
    assert!(restored.kept.exists());
    assert!(restored.files.is_empty());
    let store = Store::open(dir.path(), TABLES).unwrap();
    let got: Option<Thing> = store.read_blocking(|rtx| get(&rtx.open_table(T)?, b"a")).unwrap();
    assert_eq!(got.unwrap().name, "from backup");
}

#[test]
fn a_change_refused_after_a_failed_write_says_why_in_words() {
    // Each of redb's wrappers of the "previous I/O error" refusal.
    let errors: Vec<StoreError> = vec![
        redb::StorageError::PreviousIo.into(),
        redb::TableError::Storage(redb::StorageError::PreviousIo).into(),
        redb::CommitError::Storage(redb::StorageError::PreviousIo).into(),
        redb::TransactionError::Storage(redb::StorageError::PreviousIo).into(),
        redb::Error::PreviousIo.into(),
    ];
    for e in errors {
        assert!(matches!(e, StoreError::EarlierWriteFailed), "{e:?}");
        let words = e.to_string();
        for needed in ["not saved", "disk", "full", "data_dir", "Free space", "by itself"] {
            assert!(words.contains(needed), "{needed:?} missing from {words}");
        }
    }
    let other: StoreError = redb::StorageError::Corrupted("x".into()).into();
    assert!(matches!(other, StoreError::Redb(_)), "{other:?}");
}

#[test]
fn every_table_exists_once_the_store_is_open() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path(), TABLES).unwrap();
    let n = store.read_blocking(|rtx| Ok::<_, StoreError>(rtx.open_table(T)?.len()?)).unwrap();
    assert_eq!(n, 0);
}

/// A file an older adebox made: its schema is current but it lacks tables it never wrote.
/// Opening it creates those, keeps every record, and re-initialises nothing.
#[test]
fn an_older_store_gains_the_missing_tables_and_keeps_everything() {
    const KEPT: Table = table("test.kept");
    const NEW: Table = table("test.new");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(FILE_NAME);
    {
        let db = builder().create(&path).unwrap();
        let wtx = db.begin_write().unwrap();
        {
            let mut meta = wtx.open_table(table("store.meta")).unwrap();
            meta.insert(b"schema_version".as_slice(), 1u32.to_be_bytes().as_slice()).unwrap();
            meta.insert(b"created_by".as_slice(), b"0.1.0".as_slice()).unwrap();
            let mut kept = wtx.open_table(KEPT).unwrap();
            put(&mut kept, b"a", &Thing { name: "old".into() }).unwrap();
        }
        wtx.commit().unwrap();
    }
    let store = Store::open(dir.path(), &[&[KEPT, NEW]]).unwrap();
    let (kept, new, created_by) = store
        .read_blocking(|rtx| {
            let kept: Option<Thing> = get(&rtx.open_table(KEPT)?, b"a")?;
            let new = rtx.open_table(NEW)?.len()?;
            let meta = rtx.open_table(table("store.meta"))?;
            let created_by = meta.get(b"created_by".as_slice())?.map(|v| v.value().to_vec());
            Ok::<_, StoreError>((kept, new, created_by))
        })
        .unwrap();
    assert_eq!(kept, Some(Thing { name: "old".into() }), "a record was lost");
    assert_eq!(new, 0);
    assert_eq!(created_by.as_deref(), Some(b"0.1.0".as_slice()), "the file was re-initialised");
    drop(store);
    // Opened again (and by a build whose list lacks a table), nothing changes either.
    let store = Store::open(dir.path(), &[&[KEPT]]).unwrap();
    let names = store
        .read_blocking(|rtx| {
            Ok::<_, StoreError>(
                rtx.list_tables()?.map(|t| t.name().to_string()).collect::<Vec<_>>(),
            )
        })
        .unwrap();
    for name in ["store.meta", "test.kept", "test.new"] {
        assert!(names.iter().any(|n| n == name), "{name} missing from {names:?}");
    }
}

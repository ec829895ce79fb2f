use super::*;
use redb::{ReadableTableMetadata, TableHandle};

const T: Table = table("test.things");
const TABLES: &[&[Table]] = &[&[T]];

#[derive(serde::Serialize, serde::Deserialize, PartialEq, Debug)]
struct Thing {
    name: String,
}

fn passphrase() -> crate::crypto::Secret<String> {
    crate::crypto::Secret::new("correct horse battery staple".into())
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
    let copied = backup(dir.path(), &dest, &files, &passphrase()).unwrap();
    assert!(copied >= 100);
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(std::fs::metadata(&dest).unwrap().permissions().mode() & 0o777, 0o600);

    let restored_dir = tempfile::tempdir().unwrap();
    let back = restore(restored_dir.path(), &dest, Some(&passphrase())).unwrap();
    assert_eq!(back.files, files, "the carried files come back");
    assert!(back.protected);
    // The data key is not among the files here: give the restored store the one it needs.
    let key = crate::keys::load(dir.path(), crate::keys::KeyName::Data).unwrap().unwrap();
    crate::keys::store(restored_dir.path(), crate::keys::KeyName::Data, &key).unwrap();
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
    assert!(matches!(restore(dir.path(), &dest, None), Err(StoreError::InUse { .. })));
    drop(store);
    let restored = restore(dir.path(), &dest, None).unwrap();
    assert!(restored.kept.exists());
    assert!(restored.files.is_empty() && !restored.protected);
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

#[test]
fn a_wrong_passphrase_is_named_and_changes_nothing_and_the_files_travel_sealed() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path(), TABLES).unwrap();
    put_thing(&store, "a", "in the backup");
    let dest = dir.path().join("b.redb");
    let files = vec![("keys/data.key".to_string(), b"THE-KEY-BYTES-0123456789abcdefgh".to_vec())];
    backup(dir.path(), &dest, &files, &passphrase()).unwrap();
    let raw = std::fs::read(&dest).unwrap();
    assert!(!raw.windows(13).any(|w| w == b"THE-KEY-BYTES"), "a carried file is in clear");
    put_thing(&store, "a", "after the backup");
    drop(store);
    assert!(is_protected(&dest).unwrap());

    let live = std::fs::read(dir.path().join(FILE_NAME)).unwrap();
    let wrong = crate::crypto::Secret::new("correct horse battery stapler".into());
    let err = restore(dir.path(), &dest, Some(&wrong)).unwrap_err();
    assert!(matches!(err, StoreError::WrongPassphrase { .. }), "{err:?}");
    assert!(err.to_string().contains("wrong passphrase") && err.to_string().contains("Nothing"));
    let err = restore(dir.path(), &dest, None).unwrap_err().to_string();
    assert!(err.contains("protected by a passphrase"), "{err}");
    assert_eq!(std::fs::read(dir.path().join(FILE_NAME)).unwrap(), live, "the store changed");
    assert!(!dir.path().join(format!("{FILE_NAME}.before-restore")).exists());

    let back = restore(dir.path(), &dest, Some(&passphrase())).unwrap();
    assert_eq!(back.files, files);
    let store = Store::open(dir.path(), TABLES).unwrap();
    let got: Option<Thing> = store.read_blocking(|rtx| get(&rtx.open_table(T)?, b"a")).unwrap();
    assert_eq!(got.unwrap().name, "in the backup");
    let names = store
        .read_blocking(|rtx| {
            Ok::<_, StoreError>(
                rtx.list_tables()?.map(|t| t.name().to_string()).collect::<Vec<_>>(),
            )
        })
        .unwrap();
    assert!(!names.iter().any(|n| n.starts_with("backup.")), "{names:?}");
}

#[test]
fn a_short_passphrase_is_refused_before_anything_is_written() {
    let dir = tempfile::tempdir().unwrap();
    drop(Store::open(dir.path(), TABLES).unwrap());
    let dest = dir.path().join("b.redb");
    let short = crate::crypto::Secret::new("too short".into());
    let err = backup(dir.path(), &dest, &Vec::new(), &short).unwrap_err().to_string();
    assert!(err.contains("at least 12 characters"), "{err}");
    assert!(!dest.exists());
}

#[test]
fn a_store_is_refused_beside_a_missing_or_foreign_data_key() {
    use crate::keys::{KeyName, load_or_create};
    let dir = tempfile::tempdir().unwrap();
    drop(Store::open(dir.path(), TABLES).unwrap());
    let key = KeyName::Data.path(dir.path());
    let original = std::fs::read(&key).unwrap();
    std::fs::remove_file(&key).unwrap();
    let err = Store::open(dir.path(), TABLES).unwrap_err();
    assert!(matches!(err, StoreError::DataKeyMissing { .. }), "{err:?}");
    assert!(err.to_string().contains("adebox admin restore"), "{err}");
    assert!(!key.exists(), "no new key is made for a store that has sealed with another");

    load_or_create(dir.path(), KeyName::Data).unwrap();
    let err = Store::open(dir.path(), TABLES).unwrap_err();
    assert!(matches!(err, StoreError::DataKeyMismatch { .. }), "{err:?}");

    crate::files::write_atomic(&key, &original, 0o600).unwrap();
    Store::open(dir.path(), TABLES).unwrap();
}

/// A schema 1 file kept its secrets in clear: opening it seals them all in the migration's
/// one transaction, bound to their rows, and opening it again changes nothing.
#[test]
fn the_migration_seals_the_secrets_schema_1_kept_in_clear() {
    const TOKENS: Table = table("tokens.by_id");
    const ENROLLMENTS: Table = table("mdm.enrollments");
    let dir = tempfile::tempdir().unwrap();
    {
        let db = builder().create(dir.path().join(FILE_NAME)).unwrap();
        let wtx = db.begin_write().unwrap();
        {
            let mut meta = wtx.open_table(table("store.meta")).unwrap();
            meta.insert(b"schema_version".as_slice(), 1u32.to_be_bytes().as_slice()).unwrap();
            let record = serde_json::json!({
                "id": "tok1",
                "credentials": {"consumer_key": "CK_public", "consumer_secret": "CS_clear",
                    "access_token": "AT_clear", "access_secret": "AS_clear"},
                "key_pem": "-----BEGIN PRIVATE KEY-----clear",
                "cert_pem": "-----BEGIN CERTIFICATE-----",
            });
            put(&mut wtx.open_table(TOKENS).unwrap(), b"tok1", &record).unwrap();
            let device = serde_json::json!({"udid": "U1", "unlock_token": "UT_clear"});
            put(&mut wtx.open_table(ENROLLMENTS).unwrap(), b"U1", &device).unwrap();
            let none = serde_json::json!({"udid": "U2", "unlock_token": null});
            put(&mut wtx.open_table(ENROLLMENTS).unwrap(), b"U2", &none).unwrap();
        }
        wtx.commit().unwrap();
    }
    let store = Store::open(dir.path(), &[&[TOKENS, ENROLLMENTS]]).unwrap();
    let read = |store: &Store| {
        store
            .read_blocking(|rtx| {
                let t: Option<serde_json::Value> = get(&rtx.open_table(TOKENS)?, b"tok1")?;
                let u: Option<serde_json::Value> = get(&rtx.open_table(ENROLLMENTS)?, b"U1")?;
                let n: Option<serde_json::Value> = get(&rtx.open_table(ENROLLMENTS)?, b"U2")?;
                Ok::<_, StoreError>((t.unwrap(), u.unwrap(), n.unwrap()))
            })
            .unwrap()
    };
    let (token, device, none) = read(&store);
    let text = format!("{token}{device}");
    for clear in ["CS_clear", "AT_clear", "AS_clear", "PRIVATE KEY", "UT_clear"] {
        assert!(!text.contains(clear), "{clear} still in clear: {text}");
    }
    assert!(text.contains("CK_public") && text.contains("CERTIFICATE"), "{text}");
    assert!(none["unlock_token"].is_null());
    let sealed: Sealed =
        serde_json::from_value(token["credentials"]["access_secret"].clone()).unwrap();
    let field = SecretField::new("tokens.by_id", "credentials.access_secret");
    assert_eq!(store.sealer().open(field, b"tok1", &sealed).unwrap().expose(), "AS_clear");
    assert!(store.sealer().open(field, b"tok2", &sealed).is_err(), "bound to its row");
    let version = store
        .read_blocking(|rtx| {
            let meta = rtx.open_table(table("store.meta"))?;
            Ok::<_, StoreError>(meta.get(b"schema_version".as_slice())?.map(|v| v.value().to_vec()))
        })
        .unwrap();
    assert_eq!(version.unwrap(), migrate::SCHEMA_VERSION.to_be_bytes());
    drop(store);

    // Idempotent: run again from schema 1 over sealed values, nothing changes.
    migrate::force_schema_version_of(dir.path(), 1);
    let store = Store::open(dir.path(), &[&[TOKENS, ENROLLMENTS]]).unwrap();
    let (again, _, _) = read(&store);
    assert_eq!(again, token, "sealed values are sealed once");
}

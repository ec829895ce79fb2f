//! Schema version and migrations.
//!
//! `store.meta` holds `schema_version` (u32 big-endian) plus the product versions that created
//! and last opened the file. Opening a file with a newer schema fails before anything is
//! written; an older one is migrated step by step inside one write transaction, so a crash
//! mid-migration leaves the old schema intact. The same transaction first creates the tables
//! the file lacks, so a migration step may open any table of the current build.
//!
//! `store.meta` also keeps a value sealed with the data key (`data_key_check`), written with
//! the first commit that may seal anything: a store opened beside a missing or foreign data
//! key is refused with what to do, before any secret fails to open.
//!
//! Schema history: 1, secrets in clear; 2, secrets sealed with the data key
//! ([`seal_schema_1_secrets`], `seal.rs`); 3, the enrolled users indexed by name and by
//! serial ([`index_schema_2_enrolled_users`]); 4, push records keyed by the upper-cased UDID
//! ([`rekey_schema_3_push_devices`]); 5, without `devices.by_token`, the index of each
//! token's devices, which cost a first sync a second B-tree insert per device
//! ([`drop_schema_4_token_index`]); 6, without the ACME orders and authorizations, which
//! the ACME server holds in memory since ([`drop_schema_5_acme_orders`]).

use super::seal::{self, Sealed, Sealer};
use super::{StoreError, Table, table};
use redb::{
    Database, ReadableDatabase, ReadableTable, TableDefinition, TableHandle, WriteTransaction,
};
use std::path::Path;

const META: Table = table("store.meta");
const KEY_CHECK: &[u8] = b"data_key_check";

/// The schema this build writes. Bump it together with a new entry in [`MIGRATIONS`].
pub const SCHEMA_VERSION: u32 = 6;

/// `MIGRATIONS[i]` turns schema `i + 1` into `i + 2`.
type Migration = fn(&WriteTransaction, &Sealer) -> Result<(), StoreError>;
const MIGRATIONS: &[Migration] = &[
    seal_schema_1_secrets,
    index_schema_2_enrolled_users,
    rekey_schema_3_push_devices,
    drop_schema_4_token_index,
    drop_schema_5_acme_orders,
];

/// The secret fields schema 1 kept in clear, by table (dotted paths in the JSON records).
/// Frozen: a migration describes the file as it was, not today's record types. Each table's
/// module names the same (table, field) pairs with its `SecretField` constants, so values
/// sealed here open there (the tokens, push and MDM tests go through both).
pub(super) const SCHEMA_1_SECRETS: &[(&str, &[&str])] = &[
    (
        "tokens.by_id",
        &[
            "credentials.consumer_secret",
            "credentials.access_token",
            "credentials.access_secret",
            "key_pem",
        ],
    ),
    ("tokens.pending_keys", &["key_pem"]),
    ("push.request", &["key_pem"]),
    ("push.certificate", &["key_pem"]),
    ("mdm.enrollments", &["unlock_token"]),
];

/// Schema 1 → 2: seals every secret schema 1 kept in clear, bound to its table, field and row.
/// Idempotent (sealed values are left as they are) and, like every step, inside the one
/// transaction of the migration: a crash leaves schema 1 whole, and the next start seals again.
fn seal_schema_1_secrets(wtx: &WriteTransaction, sealer: &Sealer) -> Result<(), StoreError> {
    let present: Vec<String> = wtx.list_tables()?.map(|t| t.name().to_string()).collect();
    for &(name, paths) in SCHEMA_1_SECRETS {
        if !present.iter().any(|p| p == name) {
            continue;
        }
        let def: TableDefinition<&[u8], &[u8]> = TableDefinition::new(name);
        let mut t = wtx.open_table(def)?;
        let mut changed = Vec::new();
        for row in t.iter()? {
            let (k, v) = row?;
            let mut record: serde_json::Value = super::decode(name, v.value())?;
            if seal::seal_json_fields(sealer, name, paths, k.value(), &mut record) {
                changed.push((k.value().to_vec(), super::encode(&record)));
            }
        }
        for (k, v) in changed {
            t.insert(k.as_slice(), v.as_slice())?;
        }
    }
    Ok(())
}

/// Schema 2 → 3: fills `signin.user_index` (each name of the user, lowercased, `\0`, the
/// serial → empty) and `signin.user_by_serial` (serial → UDID) from `signin.enrolled_users`,
/// which schema 2 kept without indexes. Frozen: the key shapes are those `signin::enrolled`
/// writes (its tests compare the two). Idempotent: inserting an existing key changes nothing.
fn index_schema_2_enrolled_users(wtx: &WriteTransaction, _: &Sealer) -> Result<(), StoreError> {
    let users = table("signin.enrolled_users");
    let present: Vec<String> = wtx.list_tables()?.map(|t| t.name().to_string()).collect();
    if !present.iter().any(|p| p == users.name()) {
        return Ok(());
    }
    let mut rows = Vec::new();
    for row in wtx.open_table(users)?.iter()? {
        let (k, v) = row?;
        let record: serde_json::Value = super::decode("signin.enrolled_users", v.value())?;
        rows.push((k.value().to_vec(), record));
    }
    let mut index = wtx.open_table(table("signin.user_index"))?;
    let mut by_serial = wtx.open_table(table("signin.user_by_serial"))?;
    for (udid, r) in rows {
        let text = |key: &str| r[key].as_str().unwrap_or_default().to_string();
        let (serial, email) = (text("serial"), r["email"].as_str().map(str::to_string));
        for term in schema_3_user_terms(&text("username"), &text("display_name"), email.as_deref())
        {
            let key = [term.as_bytes(), b"\0", serial.as_bytes()].concat();
            index.insert(key.as_slice(), b"".as_slice())?;
        }
        by_serial.insert(serial.as_bytes(), udid.as_slice())?;
    }
    Ok(())
}

/// Schema 3 → 4: `push.devices` keyed by the UDID upper-cased (`Udid::key`), as the device's
/// other records are, so one device has one push record whatever case its UDID came in.
/// Schema 3 keyed it by the UDID as the enrollment held it. Two rows of one device (two cases)
/// keep the one sent to last. Frozen: JSON values with an RFC 3339 `last_sent_at`.
/// Idempotent: upper-case keys are left as they are.
fn rekey_schema_3_push_devices(wtx: &WriteTransaction, _: &Sealer) -> Result<(), StoreError> {
    let devices = table("push.devices");
    if !wtx.list_tables()?.any(|t| t.name() == devices.name()) {
        return Ok(());
    }
    let mut t = wtx.open_table(devices)?;
    let mut moved = Vec::new();
    for row in t.iter()? {
        let (k, v) = row?;
        let key = k.value();
        if key.to_ascii_uppercase() != key {
            moved.push((key.to_vec(), v.value().to_vec()));
        }
    }
    let sent = |bytes: &[u8]| -> Result<Option<time::OffsetDateTime>, StoreError> {
        let r: serde_json::Value = super::decode("push.devices", bytes)?;
        let at = r["last_sent_at"].as_str().unwrap_or_default();
        Ok(time::OffsetDateTime::parse(at, &time::format_description::well_known::Rfc3339).ok())
    };
    for (old, value) in moved {
        t.remove(old.as_slice())?;
        let new = old.to_ascii_uppercase();
        let keep = match t.get(new.as_slice())? {
            Some(held) => sent(&value)? > sent(held.value())?,
            None => true,
        };
        if keep {
            t.insert(new.as_slice(), value.as_slice())?;
        }
    }
    Ok(())
}

/// The index schemas 1–4 kept of each token's devices.
pub(crate) const SCHEMA_4_TOKEN_INDEX: Table = table("devices.by_token");

/// Schema 4 → 5: deletes `devices.by_token` (`token \0 serial` → empty); schema 5 finds a
/// token's devices by the `token` of their records. Idempotent: a file without it is left as is.
fn drop_schema_4_token_index(wtx: &WriteTransaction, _: &Sealer) -> Result<(), StoreError> {
    wtx.delete_table(SCHEMA_4_TOKEN_INDEX)?;
    Ok(())
}

/// The ACME tables schemas 1–5 kept of orders, their list per account and authorizations.
pub(crate) const SCHEMA_5_ACME_ORDERS: [Table; 3] =
    [table("acme.orders"), table("acme.orders_by_account"), table("acme.authzs")];

/// Schema 5 → 6: deletes the stored ACME orders and authorizations. They last minutes and a
/// device recovers from losing them by ordering again, so the ACME server keeps them in
/// memory and every enrollment writes less. Idempotent like [`drop_schema_4_token_index`].
fn drop_schema_5_acme_orders(wtx: &WriteTransaction, _: &Sealer) -> Result<(), StoreError> {
    for t in SCHEMA_5_ACME_ORDERS {
        wtx.delete_table(t)?;
    }
    Ok(())
}

/// The names schema 3 indexes a user by: username, e-mail, display name whole and word by
/// word, trimmed, lowercased, without NULs, sorted, each once.
pub(crate) fn schema_3_user_terms(
    username: &str,
    display_name: &str,
    email: Option<&str>,
) -> Vec<String> {
    let mut terms: Vec<String> = [username, display_name]
        .into_iter()
        .chain(email)
        .chain(display_name.split_whitespace())
        .map(|t| t.trim().to_lowercase().replace('\0', ""))
        .filter(|t| !t.is_empty())
        .collect();
    terms.sort();
    terms.dedup();
    terms
}

/// The data key for the store `db` of `data_dir`: created when the store has never sealed
/// anything, otherwise loaded and checked against the store's `data_key_check`.
pub(super) fn data_key(data_dir: &Path, db: &Database, path: &Path) -> Result<Sealer, StoreError> {
    use crate::keys::{self, KeyName};
    let check: Option<Sealed> = match read_meta(db, KEY_CHECK)? {
        Some(bytes) => Some(super::decode("store.meta", &bytes)?),
        None => None,
    };
    let Some(check) = check else {
        return Ok(Sealer::new(&keys::load_or_create(data_dir, KeyName::Data)?));
    };
    let key_path = KeyName::Data.path(data_dir);
    let key = keys::load(data_dir, KeyName::Data)?
        .ok_or_else(|| StoreError::DataKeyMissing { path: key_path.clone() })?;
    let sealer = Sealer::new(&key);
    if !seal::key_fits(&sealer, &check) {
        return Err(StoreError::DataKeyMismatch { key: key_path, store: path.to_path_buf() });
    }
    Ok(sealer)
}

const _: () = assert!(MIGRATIONS.len() as u32 + 1 == SCHEMA_VERSION);

/// Fails when the file's schema is newer than this build's (or invalid); reads only.
pub(super) fn refuse_newer(db: &impl ReadableDatabase, path: &Path) -> Result<(), StoreError> {
    match read_schema_version(db)? {
        Some(found) if found > SCHEMA_VERSION => Err(StoreError::NewerSchema {
            path: path.to_path_buf(),
            found,
            supported: SCHEMA_VERSION,
        }),
        Some(0) => Err(StoreError::Corrupt {
            path: path.to_path_buf(),
            detail: "schema version 0 is not valid".into(),
        }),
        _ => Ok(()),
    }
}

pub(super) fn bring_up_to_date(
    db: &Database,
    path: &Path,
    tables: &[&[Table]],
    sealer: &Sealer,
) -> Result<(), StoreError> {
    refuse_newer(db, path)?;
    let found = read_schema_version(db)?;
    let mut wtx = db.begin_write()?;
    wtx.set_quick_repair(true);
    // Opening a table for writing creates it when missing and leaves an existing one as is.
    for &table in tables.iter().copied().flatten() {
        wtx.open_table(table)?;
    }
    {
        let mut meta = wtx.open_table(META)?;
        match found {
            None => {
                meta.insert(b"created_by".as_slice(), crate::version().as_bytes())?;
            }
            Some(v) => {
                for step in &MIGRATIONS[(v - 1) as usize..] {
                    step(&wtx, sealer)?;
                }
            }
        }
        if meta.get(KEY_CHECK)?.is_none() {
            meta.insert(KEY_CHECK, super::encode(&seal::key_check(sealer)).as_slice())?;
        }
        meta.insert(b"schema_version".as_slice(), SCHEMA_VERSION.to_be_bytes().as_slice())?;
        meta.insert(b"last_opened_by".as_slice(), crate::version().as_bytes())?;
    }
    wtx.commit()?;
    Ok(())
}

/// The stored schema version; `None` for a brand-new (empty) file.
pub(super) fn read_schema_version(db: &impl ReadableDatabase) -> Result<Option<u32>, StoreError> {
    let Some(v) = read_meta(db, b"schema_version")? else { return Ok(None) };
    let bytes: [u8; 4] = v.as_slice().try_into().map_err(|_| StoreError::Decode {
        table: "store.meta".into(),
        detail: "schema_version is not 4 bytes".into(),
    })?;
    Ok(Some(u32::from_be_bytes(bytes)))
}

/// One value of `store.meta`; `None` when absent (or the file has no `store.meta` yet).
fn read_meta(db: &impl ReadableDatabase, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
    let rtx = db.begin_read()?;
    let meta = match rtx.open_table(META) {
        Ok(t) => t,
        // The one table read before tables are created: this check runs read-only (before
        // the writable open, and on a file offered as a backup), so it cannot create `META`,
        // and a file no adebox has committed to yet lacks it.
        Err(redb::TableError::TableDoesNotExist(_)) => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    Ok(meta.get(key)?.map(|v| v.value().to_vec()))
}

/// Marks the store as schema `v` in `wtx` (for migration tests of the modules whose records
/// a migration changes).
#[cfg(test)]
pub(crate) fn set_schema_version_in(wtx: &WriteTransaction, v: u32) -> Result<(), StoreError> {
    wtx.open_table(META)?.insert(b"schema_version".as_slice(), v.to_be_bytes().as_slice())?;
    Ok(())
}

/// Marks the store of `data_dir` (closed) as schema `v`.
#[cfg(test)]
pub(super) fn force_schema_version_of(data_dir: &Path, v: u32) {
    let db = super::builder().open(data_dir.join(super::FILE_NAME)).unwrap();
    force_schema_version(&db, v);
}

#[cfg(test)]
pub(super) fn force_schema_version(db: &Database, v: u32) {
    let wtx = db.begin_write().unwrap();
    {
        let mut meta = wtx.open_table(META).unwrap();
        meta.insert(b"schema_version".as_slice(), v.to_be_bytes().as_slice()).unwrap();
    }
    wtx.commit().unwrap();
}

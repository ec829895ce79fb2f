//! Schema version and migrations.
//!
//! `store.meta` holds `schema_version` (u32 big-endian) plus the product versions that created
//! and last opened the file. Opening a file with a newer schema fails before anything is
//! written; an older one is migrated step by step inside one write transaction, so a crash
//! mid-migration leaves the old schema intact. The same transaction first creates the tables
//! the file lacks, so a migration step may open any table of the current build.

use super::{StoreError, Table, table};
use redb::{Database, ReadableDatabase, WriteTransaction};
use std::path::Path;

const META: Table = table("store.meta");

/// The schema this build writes. Bump it together with a new entry in [`MIGRATIONS`].
pub const SCHEMA_VERSION: u32 = 1;

/// `MIGRATIONS[i]` turns schema `i + 1` into `i + 2`. Empty while there is one schema.
type Migration = fn(&WriteTransaction) -> Result<(), StoreError>;
const MIGRATIONS: &[Migration] = &[];

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
                    step(&wtx)?;
                }
            }
        }
        meta.insert(b"schema_version".as_slice(), SCHEMA_VERSION.to_be_bytes().as_slice())?;
        meta.insert(b"last_opened_by".as_slice(), crate::version().as_bytes())?;
    }
    wtx.commit()?;
    Ok(())
}

/// The stored schema version; `None` for a brand-new (empty) file.
pub(super) fn read_schema_version(db: &impl ReadableDatabase) -> Result<Option<u32>, StoreError> {
    let rtx = db.begin_read()?;
    let meta = match rtx.open_table(META) {
        Ok(t) => t,
        // The one table read before tables are created: this check runs read-only (before
        // the writable open, and on a file offered as a backup), so it cannot create `META`,
        // and a file no adebox has committed to yet lacks it.
        Err(redb::TableError::TableDoesNotExist(_)) => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    let Some(v) = meta.get(b"schema_version".as_slice())? else { return Ok(None) };
    let bytes: [u8; 4] = v.value().try_into().map_err(|_| StoreError::Decode {
        table: "store.meta".into(),
        detail: "schema_version is not 4 bytes".into(),
    })?;
    Ok(Some(u32::from_be_bytes(bytes)))
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

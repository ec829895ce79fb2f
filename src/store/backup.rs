//! Consistent backups and restores of the store.
//!
//! A backup is a fresh redb file holding every table of one read snapshot, so it is
//! consistent even while the daemon keeps writing: `adebox admin backup FILE` opens the
//! store read-only beside the running daemon (redb single-writer mode) and copies. The copy
//! goes to a temporary file in the destination folder, is synced, then renamed into place,
//! so an interrupted backup never leaves a half-written FILE. Backups hold secrets (token
//! keys), so they are created 0600.
//!
//! A backup can carry files from beside the store (the CLI adds the TLS folder, since
//! enrolled devices trust the appliance CA and losing its key is losing the fleet, and the
//! profile-signing folder `enroll/`) in the table `backup.files`; a restore hands them back and drops the table from the restored store.

use super::{FILE_NAME, StoreError, builder, classify_open_error, migrate};
use redb::{ReadTransaction, ReadableDatabase, ReadableTable, TableDefinition, TableHandle};
use std::path::Path;

/// Files carried by a backup: `(name relative to the data directory, contents)`.
pub type BackupFiles = Vec<(String, Vec<u8>)>;

const FILES: TableDefinition<&[u8], &[u8]> = TableDefinition::new("backup.files");

/// Backs up the store of `data_dir` to `dest` without stopping a running daemon, with
/// `files` alongside; returns the number of records copied.
pub fn backup(data_dir: &Path, dest: &Path, files: &BackupFiles) -> Result<u64, StoreError> {
    let path = data_dir.join(FILE_NAME);
    if !path.exists() {
        return Err(StoreError::Open {
            path,
            detail: "no store here; check `data_dir` in the configuration".into(),
        });
    }
    match builder().open_read_only(&path) {
        Ok(db) => {
            let rtx = db.begin_read()?;
            copy_snapshot(&rtx, dest, files)
        }
        // A file left by a crash needs recovery, which a read-only handle cannot do: open it
        // for writing (this fails cleanly if a daemon holds it) and copy from there.
        Err(_) => {
            let db = builder().open(&path).map_err(|e| classify_open_error(&path, e))?;
            let rtx = db.begin_read()?;
            copy_snapshot(&rtx, dest, files)
        }
    }
}

/// What a restore did.
#[derive(Debug)]
pub struct Restored {
    /// The replaced store, kept beside the new one.
    pub kept: std::path::PathBuf,
    /// The files the backup carried, for the caller to put back.
    pub files: BackupFiles,
}

/// Replaces the store of `data_dir` (the daemon must be stopped) with the backup `src`, after
/// checking the backup opens and is not from a newer version. The replaced file is kept
/// beside it as `adebox.redb.before-restore`.
pub fn restore(data_dir: &Path, src: &Path) -> Result<Restored, StoreError> {
    let check = builder().open_read_only(src).map_err(|e| classify_open_error(src, e))?;
    if let Some(found) = migrate::read_schema_version(&check)?
        && found > migrate::SCHEMA_VERSION
    {
        return Err(StoreError::NewerSchema {
            path: src.to_path_buf(),
            found,
            supported: migrate::SCHEMA_VERSION,
        });
    }
    drop(check);
    let live = data_dir.join(FILE_NAME);
    if live.exists() {
        // Fails with InUse while the daemon runs, before anything is touched.
        let db = builder().open(&live).map_err(|e| classify_open_error(&live, e))?;
        drop(db);
    }
    let staged = data_dir.join(format!("{FILE_NAME}.restoring"));
    std::fs::copy(src, &staged).map_err(|e| io_error(&staged, e))?;
    set_owner_only(&staged)?;
    let files = take_files(&staged)?;
    std::fs::File::open(&staged).and_then(|f| f.sync_all()).map_err(|e| io_error(&staged, e))?;
    let kept = data_dir.join(format!("{FILE_NAME}.before-restore"));
    if live.exists() {
        std::fs::rename(&live, &kept).map_err(|e| io_error(&kept, e))?;
    }
    std::fs::rename(&staged, &live).map_err(|e| io_error(&live, e))?;
    Ok(Restored { kept, files })
}

/// Reads the carried files out of a staged store and drops their table from it.
fn take_files(staged: &Path) -> Result<BackupFiles, StoreError> {
    let db = builder().open(staged).map_err(|e| classify_open_error(staged, e))?;
    let mut files = Vec::new();
    let wtx = db.begin_write()?;
    let exists = wtx.list_tables()?.any(|t| t.name() == "backup.files");
    if exists {
        {
            let t = wtx.open_table(FILES)?;
            for row in t.iter()? {
                let (k, v) = row?;
                files.push((String::from_utf8_lossy(k.value()).to_string(), v.value().to_vec()));
            }
        }
        wtx.delete_table(FILES)?;
    }
    wtx.commit()?;
    Ok(files)
}

pub(super) fn copy_snapshot(
    rtx: &ReadTransaction,
    dest: &Path,
    files: &BackupFiles,
) -> Result<u64, StoreError> {
    let dir = dest.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let file_name = dest.file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_default();
    let tmp = dir.join(format!(".{file_name}.partial"));
    let _ = std::fs::remove_file(&tmp);
    let copied = (|| {
        let out = redb::Database::create(&tmp).map_err(|e| classify_open_error(&tmp, e))?;
        set_owner_only(&tmp)?;
        let mut records = 0u64;
        let wtx = out.begin_write()?;
        for handle in rtx.list_tables()? {
            let def: TableDefinition<&[u8], &[u8]> = TableDefinition::new(handle.name());
            let source = rtx.open_table(def)?;
            let mut target = wtx.open_table(def)?;
            for entry in source.iter()? {
                let (k, v) = entry?;
                target.insert(k.value(), v.value())?;
                records += 1;
            }
        }
        if !files.is_empty() {
            let mut t = wtx.open_table(FILES)?;
            for (name, bytes) in files {
                t.insert(name.as_bytes(), bytes.as_slice())?;
            }
        }
        wtx.commit()?;
        drop(out);
        std::fs::File::open(&tmp).and_then(|f| f.sync_all()).map_err(|e| io_error(&tmp, e))?;
        Ok::<u64, StoreError>(records)
    })();
    match copied {
        Ok(records) => {
            std::fs::rename(&tmp, dest).map_err(|e| io_error(dest, e))?;
            Ok(records)
        }
        Err(e) => {
            let _ = std::fs::remove_file(&tmp);
            Err(e)
        }
    }
}

fn set_owner_only(path: &Path) -> Result<(), StoreError> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
        .map_err(|e| io_error(path, e))
}

fn io_error(path: &Path, e: std::io::Error) -> StoreError {
    StoreError::Open { path: path.to_path_buf(), detail: e.to_string() }
}

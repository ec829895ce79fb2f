//! Consistent backups and restores of the store.
//!
//! A backup is a fresh redb file holding every table of one read snapshot, so it is
//! consistent even while the daemon keeps writing: `adebox admin backup FILE` opens the
//! store read-only beside the running daemon (redb single-writer mode) and copies. The copy
//! goes to a temporary file in the destination folder, is synced, then renamed into place,
//! so an interrupted backup never leaves a half-written FILE. Backups are created 0600.
//!
//! A backup carries files from beside the store (the CLI adds the key folder, without which
//! the store's sealed secrets are lost; the TLS folder, since enrolled devices trust the
//! appliance CA and losing its key is losing the fleet; the profile-signing folder `enroll/`)
//! in the table `backup.files`, each sealed under the backup passphrase
//! ([`super::backup_passphrase`], whose parameters and check value are in `backup.envelope`).
//! A restore checks the passphrase and opens every file before it changes anything, hands the
//! files back and drops both tables from the restored store. Backups made before the
//! passphrase (no `backup.envelope`) carry their files in clear and no key folder; they still
//! restore ([`Restored::protected`] is false).

use super::backup_passphrase::{BackupKey, Kdf};
use super::{FILE_NAME, StoreError, builder, classify_open_error, migrate};
use crate::crypto::Secret;
use redb::{ReadTransaction, ReadableDatabase, ReadableTable, TableDefinition, TableHandle};
use std::path::Path;

/// Files carried by a backup: `(name relative to the data directory, contents)`.
pub type BackupFiles = Vec<(String, Vec<u8>)>;

const FILES: TableDefinition<&[u8], &[u8]> = TableDefinition::new("backup.files");
const ENVELOPE: TableDefinition<&[u8], &[u8]> = TableDefinition::new("backup.envelope");

/// What seals a backup's carried files: the key and what the backup stores to derive it.
pub(super) struct Envelope {
    kdf: Kdf,
    key: BackupKey,
}

/// Backs up the store of `data_dir` to `dest` without stopping a running daemon, with
/// `files` alongside, sealed under `passphrase`; returns the number of records copied.
pub fn backup(
    data_dir: &Path,
    dest: &Path,
    files: &BackupFiles,
    passphrase: &Secret<String>,
) -> Result<u64, StoreError> {
    let (kdf, key) = BackupKey::new(passphrase)?;
    let envelope = Some(Envelope { kdf, key });
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
            copy_snapshot(&rtx, dest, files, envelope.as_ref())
        }
        // A file left by a crash needs recovery, which a read-only handle cannot do: open it
        // for writing (this fails cleanly if a daemon holds it) and copy from there.
        Err(_) => {
            let db = builder().open(&path).map_err(|e| classify_open_error(&path, e))?;
            let rtx = db.begin_read()?;
            copy_snapshot(&rtx, dest, files, envelope.as_ref())
        }
    }
}

/// [`backup`] from a snapshot of a store this process holds open (the daemon's scheduled
/// backups), which a second open of the file could not take.
pub(super) fn sealed_snapshot(
    rtx: &ReadTransaction,
    dest: &Path,
    files: &BackupFiles,
    passphrase: &Secret<String>,
) -> Result<u64, StoreError> {
    let (kdf, key) = BackupKey::new(passphrase)?;
    copy_snapshot(rtx, dest, files, Some(&Envelope { kdf, key }))
}

/// Whether the backup `src` seals its files under a passphrase (made by this adebox or a
/// later one), so a restore needs it.
pub fn is_protected(src: &Path) -> Result<bool, StoreError> {
    let db = builder().open_read_only(src).map_err(|e| classify_open_error(src, e))?;
    let rtx = db.begin_read()?;
    Ok(rtx.list_tables()?.any(|t| t.name() == "backup.envelope"))
}

/// What a restore did.
#[derive(Debug)]
pub struct Restored {
    /// The replaced store, kept beside the new one.
    pub kept: std::path::PathBuf,
    /// The files the backup carried (opened), for the caller to put back.
    pub files: BackupFiles,
    /// Whether the backup sealed them under a passphrase; `false` for a backup made before
    /// backups did (it carries no key folder).
    pub protected: bool,
}

/// Replaces the store of `data_dir` (the daemon must be stopped) with the backup `src`, after
/// checking the backup opens, is not from a newer version and, when it is protected, that
/// `passphrase` opens every file it carries: a wrong passphrase changes nothing. The
/// replaced file is kept beside it as `adebox.redb.before-restore`.
pub fn restore(
    data_dir: &Path,
    src: &Path,
    passphrase: Option<&Secret<String>>,
) -> Result<Restored, StoreError> {
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
    let (files, protected) = open_files(&check.begin_read()?, src, passphrase)?;
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
    drop_backup_tables(&staged)?;
    std::fs::File::open(&staged).and_then(|f| f.sync_all()).map_err(|e| io_error(&staged, e))?;
    let kept = data_dir.join(format!("{FILE_NAME}.before-restore"));
    if live.exists() {
        std::fs::rename(&live, &kept).map_err(|e| io_error(&kept, e))?;
    }
    std::fs::rename(&staged, &live).map_err(|e| io_error(&live, e))?;
    Ok(Restored { kept, files, protected })
}

/// The files the backup `src` carries, opened with `passphrase` when they are sealed; and
/// whether they were. Reads only.
fn open_files(
    rtx: &ReadTransaction,
    src: &Path,
    passphrase: Option<&Secret<String>>,
) -> Result<(BackupFiles, bool), StoreError> {
    let tables: Vec<String> = rtx.list_tables()?.map(|t| t.name().to_string()).collect();
    let mut files = Vec::new();
    if tables.iter().any(|t| t == "backup.files") {
        for row in rtx.open_table(FILES)?.iter()? {
            let (k, v) = row?;
            files.push((String::from_utf8_lossy(k.value()).to_string(), v.value().to_vec()));
        }
    }
    if !tables.iter().any(|t| t == "backup.envelope") {
        return Ok((files, false));
    }
    let damaged = |detail: String| StoreError::Corrupt { path: src.to_path_buf(), detail };
    let envelope = rtx.open_table(ENVELOPE)?;
    let (Some(kdf), Some(check)) =
        (envelope.get(b"kdf".as_slice())?, envelope.get(b"check".as_slice())?)
    else {
        return Err(damaged("its passphrase envelope is incomplete".into()));
    };
    let kdf: Kdf = super::decode("backup.envelope", kdf.value())?;
    let Some(passphrase) = passphrase else {
        return Err(StoreError::Passphrase(format!(
            "the backup {} is protected by a passphrase: give it to restore the keys it carries",
            src.display()
        )));
    };
    let key = BackupKey::derive(passphrase, &kdf)?;
    if !key.fits(check.value()) {
        return Err(StoreError::WrongPassphrase { path: src.to_path_buf() });
    }
    for (name, bytes) in &mut files {
        *bytes = key
            .open_file(name, bytes)
            .ok_or_else(|| damaged(format!("its carried file {name} was altered")))?;
    }
    Ok((files, true))
}

/// Drops the tables only a backup has (its carried files and their envelope) from a staged
/// restore: their contents went to the files beside the store.
fn drop_backup_tables(staged: &Path) -> Result<(), StoreError> {
    let db = builder().open(staged).map_err(|e| classify_open_error(staged, e))?;
    let wtx = db.begin_write()?;
    let present: Vec<String> = wtx.list_tables()?.map(|t| t.name().to_string()).collect();
    for table in [FILES, ENVELOPE] {
        if present.iter().any(|p| p == table.name()) {
            wtx.delete_table(table)?;
        }
    }
    wtx.commit()?;
    Ok(())
}

pub(super) fn copy_snapshot(
    rtx: &ReadTransaction,
    dest: &Path,
    files: &BackupFiles,
    envelope: Option<&Envelope>,
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
        if let Some(Envelope { kdf, key }) = envelope {
            let mut t = wtx.open_table(ENVELOPE)?;
            t.insert(b"kdf".as_slice(), super::encode(kdf).as_slice())?;
            t.insert(b"check".as_slice(), key.check().as_slice())?;
        }
        if !files.is_empty() {
            let mut t = wtx.open_table(FILES)?;
            for (name, bytes) in files {
                match envelope {
                    Some(e) => {
                        t.insert(name.as_bytes(), e.key.seal_file(name, bytes).as_slice())?
                    }
                    None => t.insert(name.as_bytes(), bytes.as_slice())?,
                };
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

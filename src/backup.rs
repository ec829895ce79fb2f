//! Backup and restore of a whole appliance: the store, and the files beside it a site cannot
//! lose. The store's secrets are sealed with the data key (the key folder, `keys/`, which
//! also holds the audit key); enrolled devices trust the appliance CA (the TLS folder) and
//! profiles are signed with the profile-signing and SCEP RA keys (`enroll/`). A backup
//! carries all three folders inside the store copy, sealed under the backup passphrase
//! ([`crate::store::backup`]), and a restore puts them back.
//!
//! Owns the tables `backup.last` ([`scheduled`]: the last scheduled backup's outcome) and
//! `backup.schedule` ([`schedule`]: the schedule saved on the admin page);
//! `adebox admin backup|restore` call it, and the daemon's daily backup ([`scheduled`],
//! `[backup]` in the configuration file or the page's schedule) writes the same file. A
//! backup is sealed under a passphrase or encrypted to an age recipient ([`age`]). Comes after
//! `tls` and `enroll`, whose files it gathers.

pub mod age;
pub mod schedule;
pub mod scheduled;

pub use scheduled::TABLES;

use crate::crypto::Secret;
use crate::keys::{self, KeyName};
use crate::store::StoreError;
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Tls(#[from] crate::tls::TlsError),
    #[error(transparent)]
    Signing(#[from] crate::enroll::SigningError),
    #[error(transparent)]
    Keys(#[from] keys::KeyError),
    #[error(
        "the backup's key file {name} holds {found} bytes where a key has {} (the backup is \
         damaged; restore another one). Nothing of the key folder was changed",
        keys::KEY_LEN
    )]
    DamagedKey { name: String, found: usize },
    #[error(
        "cannot write backups to {path}: {detail}. Fix: create the directory and give it to the adebox user, or change backup.directory"
    )]
    Directory { path: PathBuf, detail: String },
    #[error("cannot read the backup passphrase from {path} (backup.passphrase_file): {detail}")]
    Passphrase { path: PathBuf, detail: String },
    #[error("the backup schedule's {field} {problem}. Fix: {fix}")]
    Schedule { field: &'static str, problem: String, fix: String },
    #[error("the backup recipient: {0}")]
    Recipient(String),
    #[error("the age identity or backup {path}: {detail}")]
    Identity { path: PathBuf, detail: String },
}

crate::store::redb_errors_into!(BackupError);

/// Writes a consistent copy of the store of `data_dir`, with the key, TLS and enrollment
/// signing folders sealed under `passphrase`, to `dest` (works while the daemon runs);
/// returns the number of records copied.
pub fn write(
    data_dir: &Path,
    dest: &Path,
    passphrase: &Secret<String>,
) -> Result<u64, BackupError> {
    let files = carried_files(data_dir)?;
    Ok(crate::store::backup(data_dir, dest, &files, passphrase)?)
}

/// [`write`] from the store the daemon holds open (its scheduled backups).
pub fn write_from(
    store: &crate::store::Store,
    data_dir: &Path,
    dest: &Path,
    passphrase: &Secret<String>,
) -> Result<u64, BackupError> {
    let files = carried_files(data_dir)?;
    Ok(store.backup_sealed_to(dest, &files, passphrase)?)
}

/// What seals a backup: a passphrase, or an age recipient whose identity stays off the
/// appliance.
#[derive(Clone)]
pub enum Sealing {
    Passphrase(Secret<String>),
    Recipient(age::Recipient),
}

/// [`write`] or, for a recipient, [`age::write`] around it.
pub fn write_sealed(data_dir: &Path, dest: &Path, sealing: &Sealing) -> Result<u64, BackupError> {
    match sealing {
        Sealing::Passphrase(p) => write(data_dir, dest, p),
        Sealing::Recipient(r) => age::write(dest, r, |inner, key| write(data_dir, inner, key)),
    }
}

/// [`write_from`] or, for a recipient, [`age::write`] around it.
pub fn write_sealed_from(
    store: &crate::store::Store,
    data_dir: &Path,
    dest: &Path,
    sealing: &Sealing,
) -> Result<u64, BackupError> {
    match sealing {
        Sealing::Passphrase(p) => write_from(store, data_dir, dest, p),
        Sealing::Recipient(r) => {
            age::write(dest, r, |inner, key| write_from(store, data_dir, inner, key))
        }
    }
}

/// [`restore`] of a backup encrypted to an age recipient ([`age::is_age`]), opened with the
/// identities of `identity_file`; a wrong identity changes nothing.
pub fn restore_with_identity(
    data_dir: &Path,
    src: &Path,
    identity_file: &Path,
) -> Result<Restored, BackupError> {
    let ids = age::read_identities(identity_file)?;
    age::open(src, data_dir, &ids, |inner, key| restore(data_dir, inner, Some(key)))
}

/// The key, TLS and enrollment signing folders' files a backup carries.
fn carried_files(data_dir: &Path) -> Result<crate::store::BackupFiles, BackupError> {
    let names = KeyName::ALL.map(KeyName::file_name);
    let mut files = crate::files::read_folder(data_dir, keys::FOLDER, &names)
        .map_err(|(path, e)| keys::KeyError::Io { path, detail: e.to_string() })?;
    files.extend(crate::tls::backup_files(data_dir)?);
    files.extend(crate::enroll::backup_files(data_dir)?);
    Ok(files)
}

/// What a restore put back.
#[derive(Debug)]
pub struct Restored {
    /// The replaced store, kept beside the new one.
    pub kept: PathBuf,
    /// Files of the TLS folder (the appliance CA among them).
    pub tls_files: usize,
    /// Files of the enrollment profile-signing certificate and SCEP RA.
    pub signing_files: usize,
    /// The keys put back (the data key, the audit key); a key replaced by a different one is
    /// kept beside it as `<name>.before-restore`, since the store kept as [`Restored::kept`]
    /// needs it.
    pub keys: Vec<KeyName>,
    /// Whether the backup was sealed under a passphrase: `false` for one made before backups
    /// carried the key folder (its store kept secrets in clear; the next start seals them
    /// with this appliance's data key).
    pub protected: bool,
}

/// Replaces the store of `data_dir` (the daemon must be stopped) with the backup `src` and
/// puts back the folders it carries, owned by the data directory's owner. `passphrase`
/// opens a protected backup; a wrong one changes nothing.
pub fn restore(
    data_dir: &Path,
    src: &Path,
    passphrase: Option<&Secret<String>>,
) -> Result<Restored, BackupError> {
    let restored = crate::store::restore(data_dir, src, passphrase)?;
    give_to_data_dir_owner(data_dir, &data_dir.join(crate::store::FILE_NAME));
    let keys = restore_keys(data_dir, &restored.files)?;
    let tls_files = crate::tls::restore_files(data_dir, &restored.files)?;
    let signing_files = crate::enroll::restore_files(data_dir, &restored.files)?;
    for (name, _) in &restored.files {
        give_to_data_dir_owner(data_dir, &data_dir.join(name));
    }
    for folder in [keys::FOLDER, "tls", "enroll"] {
        give_to_data_dir_owner(data_dir, &data_dir.join(folder));
    }
    Ok(Restored {
        kept: restored.kept,
        tls_files,
        signing_files,
        keys,
        protected: restored.protected,
    })
}

/// Puts back the keys the backup carried (all checked before any is written), keeping a
/// replaced, different key as `<name>.before-restore`.
fn restore_keys(data_dir: &Path, files: &[(String, Vec<u8>)]) -> Result<Vec<KeyName>, BackupError> {
    let mut found = Vec::new();
    for name in KeyName::ALL {
        let carried = format!("{}/{}", keys::FOLDER, name.file_name());
        let Some((_, bytes)) = files.iter().find(|(n, _)| *n == carried) else { continue };
        let key: [u8; keys::KEY_LEN] = bytes
            .as_slice()
            .try_into()
            .map_err(|_| BackupError::DamagedKey { name: carried.clone(), found: bytes.len() })?;
        found.push((name, Secret::new(key)));
    }
    for (name, key) in &found {
        let path = name.path(data_dir);
        let io =
            |e: std::io::Error| keys::KeyError::Io { path: path.clone(), detail: e.to_string() };
        if let Some(old) = keys::load(data_dir, *name)?
            && old.expose() != key.expose()
        {
            let kept = path.with_file_name(format!("{}.before-restore", name.file_name()));
            crate::files::write_atomic(&kept, old.expose(), 0o600).map_err(io)?;
            give_to_data_dir_owner(data_dir, &kept);
        }
        keys::store(data_dir, *name, key)?;
    }
    Ok(found.into_iter().map(|(name, _)| name).collect())
}

/// A command run as root must not leave root-owned files the daemon's user cannot open.
pub fn give_to_data_dir_owner(data_dir: &Path, file: &Path) {
    use std::os::unix::fs::MetadataExt;
    if !nix::unistd::getuid().is_root() {
        return;
    }
    if let Ok(meta) = std::fs::metadata(data_dir) {
        let _ = nix::unistd::chown(
            file,
            Some(nix::unistd::Uid::from_raw(meta.uid())),
            Some(nix::unistd::Gid::from_raw(meta.gid())),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn restored_keys_replace_the_old_ones_which_are_kept_and_a_damaged_one_changes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let old = keys::load_or_create(dir.path(), KeyName::Data).unwrap();
        let carried = vec![
            ("keys/data.key".to_string(), vec![7u8; keys::KEY_LEN]),
            ("keys/audit.key".to_string(), vec![9u8; keys::KEY_LEN]),
        ];
        assert_eq!(restore_keys(dir.path(), &carried).unwrap(), KeyName::ALL.to_vec());
        let load = |name| keys::load(dir.path(), name).unwrap().unwrap();
        assert_eq!(load(KeyName::Data).expose(), &[7u8; keys::KEY_LEN]);
        assert_eq!(load(KeyName::Audit).expose(), &[9u8; keys::KEY_LEN]);
        let kept = dir.path().join("keys/data.key.before-restore");
        assert_eq!(std::fs::read(&kept).unwrap(), old.expose(), "the old data key is kept");
        assert!(!dir.path().join("keys/audit.key.before-restore").exists(), "there was none");

        let damaged = vec![
            ("keys/audit.key".to_string(), vec![1u8; keys::KEY_LEN]),
            ("keys/data.key".to_string(), vec![1u8; 5]),
        ];
        let err = restore_keys(dir.path(), &damaged).unwrap_err().to_string();
        assert!(err.contains("5 bytes") && err.contains("Nothing"), "{err}");
        assert_eq!(load(KeyName::Audit).expose(), &[9u8; keys::KEY_LEN], "checked before writing");
    }
}

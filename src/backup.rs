//! Backup and restore of a whole appliance: the store, and the files beside it a site cannot
//! lose. Enrolled devices trust the appliance CA (the TLS folder) and profiles are signed
//! with the profile-signing and SCEP RA keys (`enroll/`), so a backup carries both folders
//! inside the store copy ([`crate::store::backup`]) and a restore puts them back.
//!
//! Owns no table and no task; `adebox admin backup|restore` call it, the daemon does not.
//! Comes after `tls` and `enroll`, whose files it gathers.

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
}

/// Writes a consistent copy of the store of `data_dir`, with the TLS and enrollment signing
/// folders, to `dest` (works while the daemon runs); returns the number of records copied.
pub fn write(data_dir: &Path, dest: &Path) -> Result<u64, BackupError> {
    let mut files = crate::tls::backup_files(data_dir)?;
    files.extend(crate::enroll::backup_files(data_dir)?);
    Ok(crate::store::backup(data_dir, dest, &files)?)
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
}

/// Replaces the store of `data_dir` (the daemon must be stopped) with the backup `src` and
/// puts back the folders it carries, owned by the data directory's owner.
pub fn restore(data_dir: &Path, src: &Path) -> Result<Restored, BackupError> {
    let restored = crate::store::restore(data_dir, src)?;
    give_to_data_dir_owner(data_dir, &data_dir.join(crate::store::FILE_NAME));
    let tls_files = crate::tls::restore_files(data_dir, &restored.files)?;
    let signing_files = crate::enroll::restore_files(data_dir, &restored.files)?;
    for (name, _) in &restored.files {
        give_to_data_dir_owner(data_dir, &data_dir.join(name));
    }
    for folder in ["tls", "enroll"] {
        give_to_data_dir_owner(data_dir, &data_dir.join(folder));
    }
    Ok(Restored { kept: restored.kept, tls_files, signing_files })
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

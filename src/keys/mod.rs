//! Keys kept beside the store and never inside it: the data key that seals secret values in
//! the store, and the audit key that chains the audit log. Someone who copies the store file
//! alone learns neither; the keys live in `<data_dir>/keys/` (the folder 0700, each key 0600,
//! owned by the daemon's user), created on first use and written atomically so a crash never
//! leaves half a key.
//!
//! Infrastructure: knows files only; what each key protects is its user's business
//! (`store` seals with [`KeyName::Data`], `audit` chains with [`KeyName::Audit`]).

use crate::crypto::Secret;
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// The folder of `data_dir` that holds the keys.
pub const FOLDER: &str = "keys";

/// Length of every key: 256 bits, for an AEAD or a MAC.
pub const KEY_LEN: usize = 32;

/// The keys adebox keeps beside its store.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyName {
    /// Seals secret values stored in the store (server token secrets, the push key, …).
    Data,
    /// Keys the MAC that chains audit entries, so an edited store file is detected.
    Audit,
}

impl KeyName {
    pub const ALL: [KeyName; 2] = [KeyName::Data, KeyName::Audit];

    /// The file name inside [`FOLDER`].
    pub fn file_name(self) -> &'static str {
        match self {
            KeyName::Data => "data.key",
            KeyName::Audit => "audit.key",
        }
    }

    pub fn path(self, data_dir: &Path) -> PathBuf {
        data_dir.join(FOLDER).join(self.file_name())
    }
}

/// A 256-bit key, wiped from memory when dropped.
pub type Key = Secret<[u8; KEY_LEN]>;

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error(
        "cannot use the key file {path}: {detail} (check the data directory's owner and permissions)"
    )]
    Io { path: PathBuf, detail: String },
    #[error(
        "the key file {path} is damaged: it holds {found} bytes where a key has {KEY_LEN} (restore it from the backup that carries it; a new key cannot read what the old one sealed)"
    )]
    Damaged { path: PathBuf, found: usize },
    #[error(
        "the key file {path} can be read by other users (mode {mode:o}); run `chmod 600 {path}` and restart"
    )]
    Exposed { path: PathBuf, mode: u32 },
}

/// Loads the key `name` of `data_dir`, creating it (random, 0600) when the file does not exist.
pub fn load_or_create(data_dir: &Path, name: KeyName) -> Result<Key, KeyError> {
    match load(data_dir, name)? {
        Some(key) => Ok(key),
        None => {
            let key = Secret::new(crate::crypto::random_bytes::<KEY_LEN>());
            store(data_dir, name, &key)?;
            Ok(key)
        }
    }
}

/// Loads the key `name` of `data_dir`; `None` when the file does not exist. A key that other
/// users can read is refused rather than used: it would no longer protect anything.
pub fn load(data_dir: &Path, name: KeyName) -> Result<Option<Key>, KeyError> {
    let path = name.path(data_dir);
    let io = |e: std::io::Error| KeyError::Io { path: path.clone(), detail: e.to_string() };
    let bytes = match std::fs::read(&path) {
        Ok(b) => zeroize::Zeroizing::new(b),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io(e)),
    };
    let mode = std::fs::metadata(&path).map_err(io)?.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        return Err(KeyError::Exposed { path, mode });
    }
    let key: [u8; KEY_LEN] = bytes
        .as_slice()
        .try_into()
        .map_err(|_| KeyError::Damaged { path: path.clone(), found: bytes.len() })?;
    Ok(Some(Secret::new(key)))
}

/// Writes `key` as the key `name` of `data_dir` (atomically, 0600), replacing any there: used
/// on first start and by a restore that brings the keys of the backed-up appliance.
pub fn store(data_dir: &Path, name: KeyName, key: &Key) -> Result<(), KeyError> {
    let dir = data_dir.join(FOLDER);
    let path = name.path(data_dir);
    let io = |e: std::io::Error| KeyError::Io { path: path.clone(), detail: e.to_string() };
    std::fs::DirBuilder::new().recursive(true).mode(0o700).create(&dir).map_err(io)?;
    crate::files::write_atomic(&path, key.expose(), 0o600).map_err(io)
}

#[cfg(test)]
mod tests;

//! Backups encrypted to an age recipient (<https://age-encryption.org>): the admin keeps the
//! identity (private key) off the appliance, and the appliance holds only the public
//! recipient, so nothing on the appliance can open its own backups.
//!
//! The file is an age file whose plaintext is one line `adebox-backup-key: <key>` followed by
//! an ordinary passphrase-sealed backup ([`super::write`]) under that random, single-use
//! key. So a restore is the passphrase restore after one decryption, every carried file is
//! sealed twice, and the store's records inside are encrypted too (a passphrase backup keeps
//! them readable). The clear copy exists only inside the backup directory (written 0600,
//! removed at once) or the data directory (which holds the same data anyway).

use super::BackupError;
use crate::crypto::Secret;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::str::FromStr;

/// The first bytes of every age file (its version line).
const MAGIC: &[u8] = b"age-encryption.org/v1\n";
const KEY_LINE: &str = "adebox-backup-key: ";

/// An age X25519 recipient (`age1…`), checked when it is given.
#[derive(Clone)]
pub struct Recipient(age::x25519::Recipient);

impl Recipient {
    /// Parses `text` (surrounding blanks ignored); the error names the fix.
    pub fn parse(text: &str) -> Result<Recipient, BackupError> {
        let text = text.trim();
        age::x25519::Recipient::from_str(text).map(Recipient).map_err(|_| {
            let shown: String = text.chars().take(24).collect();
            BackupError::Recipient(format!(
                "`{shown}` is not an age recipient. Fix: give the public key `age-keygen` printed \
                 (one line beginning with `age1`), never the identity (`AGE-SECRET-KEY-…`), \
                 which stays off the appliance"
            ))
        })
    }
}

impl std::fmt::Display for Recipient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl std::fmt::Debug for Recipient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Recipient({})", self.0)
    }
}

/// Whether the file at `path` is an age file (a backup encrypted to a recipient).
pub fn is_age(path: &Path) -> bool {
    let mut head = [0u8; MAGIC.len()];
    std::fs::File::open(path).and_then(|mut f| f.read_exact(&mut head)).is_ok() && head == MAGIC
}

fn io(path: &Path) -> impl Fn(std::io::Error) -> BackupError + '_ {
    move |e| BackupError::Directory { path: path.to_path_buf(), detail: e.to_string() }
}

/// A file removed when dropped (the clear intermediate copies).
struct Scratch(PathBuf);

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// The scratch name beside `dest` for its clear content (`.<name>.inner.partial`: the
/// scheduled backups' clean-up removes one a crash left).
fn inner_beside(dest: &Path) -> PathBuf {
    let name = dest.file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_default();
    dest.with_file_name(format!(".{name}.inner.partial"))
}

/// Writes the backup `seal_to` produces, encrypted to `recipient`, to `dest` (through a
/// temporary file, synced then renamed); `seal_to(path, key)` writes a passphrase-sealed
/// backup under `key` to `path`. Returns what `seal_to` returned.
pub fn write<T>(
    dest: &Path,
    recipient: &Recipient,
    seal_to: impl FnOnce(&Path, &Secret<String>) -> Result<T, BackupError>,
) -> Result<T, BackupError> {
    let key = Secret::new(hex::encode(crate::crypto::random_bytes::<32>()));
    let inner = Scratch(inner_beside(dest));
    let done = seal_to(&inner.0, &key)?;
    let partial = Scratch(dest.with_file_name(format!(
        ".{}.partial",
        dest.file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_default()
    )));
    {
        use std::os::unix::fs::OpenOptionsExt;
        let out = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&partial.0)
            .map_err(io(&partial.0))?;
        let encryptor =
            age::Encryptor::with_recipients(std::iter::once(&recipient.0 as &dyn age::Recipient))
                .map_err(|e| BackupError::Recipient(e.to_string()))?;
        let mut w = encryptor.wrap_output(std::io::BufWriter::new(out)).map_err(io(dest))?;
        w.write_all(format!("{KEY_LINE}{}\n", key.expose()).as_bytes()).map_err(io(dest))?;
        let mut clear = std::fs::File::open(&inner.0).map_err(io(&inner.0))?;
        std::io::copy(&mut clear, &mut w).map_err(io(dest))?;
        let out = w.finish().map_err(io(dest))?;
        let file = out.into_inner().map_err(|e| io(dest)(e.into_error()))?;
        file.sync_all().map_err(io(dest))?;
    }
    std::fs::rename(&partial.0, dest).map_err(io(dest))?;
    Ok(done)
}

/// The identities of an age identity file (`age-keygen -o FILE`), refused when other users
/// may read it.
pub fn read_identities(path: &Path) -> Result<Vec<Box<dyn age::Identity>>, BackupError> {
    let fail = |detail: String| BackupError::Identity { path: path.to_path_buf(), detail };
    crate::files::refuse_if_others_read(path).map_err(fail)?;
    let file = age::IdentityFile::from_file(path.display().to_string())
        .map_err(|e| fail(format!("{e}; give the file `age-keygen -o FILE` wrote")))?;
    let ids = file.into_identities().map_err(|e| fail(e.to_string()))?;
    if ids.is_empty() {
        return Err(fail("it holds no identity (`AGE-SECRET-KEY-1…` line)".into()));
    }
    Ok(ids)
}

/// Decrypts the age backup `src` with `identities` into a passphrase-sealed backup in
/// `scratch_dir` and hands its path and key to `open` (the file is removed afterwards).
/// A wrong identity changes nothing.
pub fn open<T>(
    src: &Path,
    scratch_dir: &Path,
    identities: &[Box<dyn age::Identity>],
    open: impl FnOnce(&Path, &Secret<String>) -> Result<T, BackupError>,
) -> Result<T, BackupError> {
    let fail = |detail: String| BackupError::Identity { path: src.to_path_buf(), detail };
    let file = std::fs::File::open(src).map_err(io(src))?;
    let decryptor = age::Decryptor::new_buffered(BufReader::new(file))
        .map_err(|e| fail(format!("is not a readable age backup: {e}")))?;
    let reader = decryptor
        .decrypt(identities.iter().map(|i| i.as_ref() as &dyn age::Identity))
        .map_err(|e| {
            fail(format!(
                "cannot be opened with the identity given ({e}): give the identity whose public \
             key (`age1…`) the backups were encrypted to; nothing was changed"
            ))
        })?;
    let mut reader = BufReader::new(reader);
    let mut line = String::new();
    reader.by_ref().take(256).read_line(&mut line).map_err(|e| fail(e.to_string()))?;
    let key = line
        .strip_prefix(KEY_LINE)
        .map(|k| Secret::new(k.trim_end().to_string()))
        .ok_or_else(|| fail("decrypts, but is no adebox backup".into()))?;
    let inner = Scratch(scratch_dir.join(".adebox-restore.inner.partial"));
    {
        use std::os::unix::fs::OpenOptionsExt;
        let mut out = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&inner.0)
            .map_err(io(&inner.0))?;
        std::io::copy(&mut reader, &mut out)
            .map_err(|e| fail(format!("is damaged or truncated: {e}")))?;
    }
    open(&inner.0, &key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_malformed_recipient_is_refused_naming_the_fix() {
        for bad in ["", "age1notakey", "AGE-SECRET-KEY-1QQQQ", "ssh-ed25519 AAAA"] {
            let err = Recipient::parse(bad).unwrap_err().to_string();
            assert!(err.contains("age1") && err.contains("Fix:"), "{bad}: {err}");
        }
        let id = age::x25519::Identity::generate();
        let good = id.to_public().to_string();
        assert_eq!(Recipient::parse(&format!(" {good}\n")).unwrap().to_string(), good);
    }

    #[test]
    fn the_content_round_trips_only_with_the_right_identity_and_no_clear_copy_stays() {
        let dir = tempfile::tempdir().unwrap();
        let id = age::x25519::Identity::generate();
        let recipient = Recipient::parse(&id.to_public().to_string()).unwrap();
        let dest = dir.path().join("adebox-x.backup");
        let payload = b"redb bytes".repeat(1000);
        let mut used = None;
        write(&dest, &recipient, |path, key| {
            used = Some(key.expose().clone());
            std::fs::write(path, &payload).map_err(io(path))
        })
        .unwrap();
        assert!(is_age(&dest));
        let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().flatten().collect();
        assert_eq!(names.len(), 1, "only the backup remains");
        let raw = std::fs::read(&dest).unwrap();
        let key = used.unwrap();
        assert!(!raw.windows(key.len()).any(|w| w == key.as_bytes()), "the key is encrypted");
        let ids: Vec<Box<dyn age::Identity>> = vec![Box::new(id)];
        let got = open(&dest, dir.path(), &ids, |path, k| {
            assert_eq!(k.expose(), &key);
            Ok(std::fs::read(path).unwrap())
        })
        .unwrap();
        assert_eq!(got, payload);
        let other: Vec<Box<dyn age::Identity>> = vec![Box::new(age::x25519::Identity::generate())];
        let err = open(&dest, dir.path(), &other, |_, _| Ok(())).map(|_| ()).unwrap_err();
        assert!(err.to_string().contains("nothing was changed"), "{err}");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1, "no clear copy stays");
    }
}

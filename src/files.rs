//! Writing key and certificate files: atomically (temporary file, sync, rename) and with the
//! right mode from the first byte, so a crash never leaves a half-written or world-readable key.
//! Also carrying a key folder beside the store through a backup and back ([`read_folder`],
//! [`write_folder`]), shared by `keys`, `tls` and `enroll::signing`. A leaf of the
//! infrastructure ring: it knows files and nothing of what they hold.

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

pub fn write_atomic(path: &Path, bytes: &[u8], mode: u32) -> std::io::Result<()> {
    let tmp = path.with_extension("partial");
    let _ = std::fs::remove_file(&tmp);
    {
        let mut f =
            std::fs::OpenOptions::new().write(true).create_new(true).mode(mode).open(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
    }
    std::fs::rename(&tmp, path)?;
    if let Some(dir) = path.parent() {
        std::fs::File::open(dir).and_then(|d| d.sync_all())?;
    }
    Ok(())
}

/// Refuses a secret file (a passphrase, an age identity) that users other than its owner and
/// group can read, with the words the admin needs: the mode and the `chmod` that fixes it.
pub fn refuse_if_others_read(path: &Path) -> Result<(), String> {
    use std::os::unix::fs::PermissionsExt;
    let meta = std::fs::metadata(path).map_err(|e| e.to_string())?;
    let mode = meta.permissions().mode() & 0o777;
    if mode & 0o007 != 0 {
        return Err(format!(
            "other users can read it (mode {mode:o}); run `chmod 600 {}`",
            path.display()
        ));
    }
    Ok(())
}

pub fn read_text(path: &Path) -> std::io::Result<Option<String>> {
    match std::fs::read_to_string(path) {
        Ok(t) => Ok(Some(t)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

/// Files carried by a backup, as `("<folder>/<name>", contents)` (see `store::BackupFiles`).
pub type Carried = Vec<(String, Vec<u8>)>;

/// Reads those of `names` that exist in `<data_dir>/<folder>/`, for a backup to carry.
pub fn read_folder(
    data_dir: &Path,
    folder: &str,
    names: &[&str],
) -> Result<Carried, (PathBuf, std::io::Error)> {
    let dir = data_dir.join(folder);
    let mut out = Vec::new();
    for name in names {
        let p = dir.join(name);
        match std::fs::read(&p) {
            Ok(bytes) => out.push((format!("{folder}/{name}"), bytes)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err((p, e)),
        }
    }
    Ok(out)
}

/// Puts back the carried files named `<folder>/<name>` into `<data_dir>/<folder>/` (the folder
/// 0700, keys 0600, certificates 0644); returns how many. Other names, and names that would
/// leave the folder or hide in it, are ignored: a backup file is input like any other.
pub fn write_folder(
    data_dir: &Path,
    folder: &str,
    files: &[(String, Vec<u8>)],
) -> Result<usize, (PathBuf, std::io::Error)> {
    use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
    let dir = data_dir.join(folder);
    let prefix = format!("{folder}/");
    let mut n = 0;
    for (name, bytes) in files {
        let Some(file) = name.strip_prefix(&prefix) else { continue };
        if file.contains('/') || file.starts_with('.') || file.is_empty() {
            continue;
        }
        if n == 0 {
            if !dir.exists() {
                std::fs::DirBuilder::new()
                    .mode(0o700)
                    .recursive(true)
                    .create(&dir)
                    .map_err(|e| (dir.clone(), e))?;
            }
            std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700))
                .map_err(|e| (dir.clone(), e))?;
        }
        let mode = if file.ends_with(".key") { 0o600 } else { 0o644 };
        let p = dir.join(file);
        write_atomic(&p, bytes, mode).map_err(|e| (p, e))?;
        n += 1;
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn carries_a_folder_through_a_backup_with_its_modes_and_nothing_else() {
        let from = tempfile::tempdir().unwrap();
        std::fs::create_dir(from.path().join("keys")).unwrap();
        write_atomic(&from.path().join("keys/a.key"), b"secret", 0o600).unwrap();
        write_atomic(&from.path().join("keys/a.pem"), b"cert", 0o644).unwrap();
        let mut files =
            read_folder(from.path(), "keys", &["a.pem", "a.key", "absent.pem"]).unwrap();
        assert_eq!(files.len(), 2, "missing files are skipped");
        for hostile in ["keys/../escape.key", "keys/.hidden", "keys/", "other/a.pem"] {
            files.push((hostile.to_string(), b"x".to_vec()));
        }

        let to = tempfile::tempdir().unwrap();
        assert_eq!(write_folder(to.path(), "keys", &files).unwrap(), 2);
        let mode = |p: &str| std::fs::metadata(to.path().join(p)).unwrap().permissions().mode();
        assert_eq!(std::fs::read(to.path().join("keys/a.key")).unwrap(), b"secret");
        assert_eq!(mode("keys/a.key") & 0o777, 0o600);
        assert_eq!(mode("keys/a.pem") & 0o777, 0o644);
        assert_eq!(mode("keys") & 0o777, 0o700);
        assert!(!to.path().join("escape.key").exists() && !to.path().join("other").exists());
        assert_eq!(write_folder(to.path(), "none", &files).unwrap(), 0);
        assert!(!to.path().join("none").exists(), "no folder is made for nothing");
    }
}

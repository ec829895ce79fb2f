//! Backups encrypted to an age recipient (`backup.recipient`): the daemon's scheduled backup
//! is an age file holding nothing readable, and `adebox admin restore FILE --identity ID`
//! brings back the same inventory, admins, API tokens and CA after the data directory is
//! wiped; a wrong identity or a missing one changes nothing and says what to give.

use crate::binary::adebox;
use crate::scheduled_backup::Filled;
use adebox::backup::scheduled::Scheduled;
use adebox::config::{BackupConfig, BackupSeal, Retention};
use age::secrecy::ExposeSecret;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

fn identity_file(dir: &Path, name: &str) -> (std::path::PathBuf, String) {
    let id = age::x25519::Identity::generate();
    let file = dir.join(name);
    let text = format!("# created by the test\n{}\n", id.to_string().expose_secret());
    std::fs::write(&file, text).unwrap();
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
    (file, id.to_public().to_string())
}

fn restore(config: &Path, backup: &Path, identity: Option<&Path>) -> std::process::Output {
    let mut cmd = adebox();
    cmd.args(["admin", "restore"]).arg(backup).arg("--config").arg(config);
    if let Some(id) = identity {
        cmd.arg("--identity").arg(id);
    }
    cmd.output().unwrap()
}

#[tokio::test]
async fn a_backup_to_an_age_recipient_restores_with_the_identity_after_a_wipe() {
    let filled = Filled::new("Age campus", 4).await;
    let (d, api_token, serial) = (&filled.d, filled.api_token.clone(), filled.serial.clone());

    let outside = tempfile::tempdir().unwrap();
    let (identity, recipient) = identity_file(outside.path(), "backup.key");
    let backups = outside.path().join("backups");
    let config = BackupConfig {
        directory: backups.clone(),
        seal: BackupSeal::Recipient(recipient),
        at: (3, 0),
        retention: Retention::Count(3),
    };
    let clock = adebox::clock::Clock::manual(adebox::clock::Clock::system().now());
    let schedule = Scheduled::new(d.running().services.store.clone(), clock, d.data_dir(), config);
    let last = schedule.run_now().await;
    assert!(last.ok, "{last:?}");
    let file = backups.join(last.file.unwrap());
    let raw = std::fs::read(&file).unwrap();
    assert!(raw.starts_with(b"age-encryption.org/v1\n"), "an age file");
    for clear in [api_token.as_str(), serial.as_str(), "devices"] {
        assert!(!raw.windows(clear.len()).any(|w| w == clear.as_bytes()), "{clear} readable");
    }
    let left: Vec<_> =
        std::fs::read_dir(&backups).unwrap().flatten().map(|e| e.file_name()).collect();
    assert_eq!(left.len(), 1, "no clear copy is left beside the backup: {left:?}");
    drop(schedule);

    let (dir, expected) = filled.stop_and_wipe().await;
    let cfg = outside.path().join("adebox.toml");
    std::fs::write(
        &cfg,
        format!("data_dir = \"{}\"\n[public]\nhosts = [\"localhost\"]\n", dir.path().display()),
    )
    .unwrap();

    let out = restore(&cfg, &file, None);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains("--identity"), "names the fix: {err}");
    let (wrong, _) = identity_file(outside.path(), "other.key");
    let out = restore(&cfg, &file, Some(&wrong));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains("nothing was changed"), "{err}");
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0, "a wrong identity wrote nothing");
    std::fs::set_permissions(&identity, std::fs::Permissions::from_mode(0o644)).unwrap();
    let out = restore(&cfg, &file, Some(&identity));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains("chmod 600"), "{err}");
    std::fs::set_permissions(&identity, std::fs::Permissions::from_mode(0o600)).unwrap();
    let out = restore(&cfg, &file, Some(&identity));
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(said.contains("restored the key folder (data.key"), "{said}");
    let scratch: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().contains("partial"))
        .collect();
    assert!(scratch.is_empty(), "the decrypted copy is removed");

    expected.assert_restored(dir).await;
}

#[test]
fn a_malformed_recipient_is_refused_by_the_command_naming_the_fix() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("adebox.toml");
    std::fs::write(
        &cfg,
        format!(
            "data_dir = \"{}\"\n[backup]\ndirectory = \"/b\"\nrecipient = \"age1typo\"\n",
            dir.path().display()
        ),
    )
    .unwrap();
    let out = adebox().args(["check-config", "--config"]).arg(&cfg).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains("backup.recipient"), "{err}");
    assert!(err.contains("age1"), "{err}");
    std::fs::write(&cfg, format!("data_dir = \"{}\"\n", dir.path().display())).unwrap();
    let out = adebox()
        .args(["admin", "backup"])
        .arg(dir.path().join("b.backup"))
        .args(["--recipient", "AGE-SECRET-KEY-1NOTPUBLIC", "--config"])
        .arg(&cfg)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains("never the identity"), "{err}");
    assert!(!dir.path().join("b.backup").exists());
}

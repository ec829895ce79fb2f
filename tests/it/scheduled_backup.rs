//! Scheduled backups (`[backup]`): the daily backup of a running sandbox daemon restores,
//! after its data directory is wiped, to the same inventory, admins, API tokens and CA;
//! retention prunes; a failed backup (a passphrase file others can read) is on the status API
//! with a banner, and the dashboard's figures name the directory.

use crate::common::*;
use adebox::backup::scheduled::Scheduled;
use adebox::config::{BackupConfig, BackupSeal, Retention};
use adebox::daemon::Mode;
use reqwest::{Method, StatusCode};
use serde_json::json;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

const PASSPHRASE: &str = "a long backup passphrase";

fn passphrase_file(dir: &Path, mode: u32) -> std::path::PathBuf {
    let file = dir.join("backup.pass");
    std::fs::write(&file, format!("{PASSPHRASE}\n")).unwrap();
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(mode)).unwrap();
    file
}

#[tokio::test]
async fn a_scheduled_backup_restores_the_whole_appliance_after_a_wipe() {
    let filled = Filled::new("Backup campus", 5).await;
    let (d, api_token) = (&filled.d, filled.api_token.clone());
    let (_, admins_before) = filled.page.get("/api/v1/admin/users").await;

    let outside = tempfile::tempdir().unwrap();
    let backups = outside.path().join("backups");
    let config = BackupConfig {
        directory: backups.clone(),
        seal: BackupSeal::PassphraseFile(passphrase_file(outside.path(), 0o600)),
        at: (3, 0),
        retention: Retention::Count(2),
    };
    let start = adebox::clock::Clock::system().now();
    let clock = adebox::clock::Clock::manual(start);
    let schedule =
        Scheduled::new(d.running().services.store.clone(), clock.clone(), d.data_dir(), config);
    let mut written = Vec::new();
    for _ in 0..3 {
        let last = schedule.run_now().await;
        assert!(last.ok, "{last:?}");
        assert!(last.bytes > 0);
        written.push(last.file.unwrap());
        clock.advance(time::Duration::days(1));
    }
    let files = adebox::backup::scheduled::list(&backups);
    let names: Vec<&str> = files.iter().map(|(n, _, _)| n.as_str()).collect();
    assert_eq!(names, [written[1].as_str(), written[2].as_str()], "the oldest was pruned");
    let mode = std::fs::metadata(&backups).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o700, "the directory is the daemon's alone");
    let newest = backups.join(&written[2]);
    let raw = std::fs::read(&newest).unwrap();
    assert!(!raw.windows(PASSPHRASE.len()).any(|w| w == PASSPHRASE.as_bytes()));
    assert!(!raw.windows(api_token.len()).any(|w| w == api_token.as_bytes()), "sealed");

    // Wipe the data directory entirely, restore the one file, start again.
    drop(schedule);
    let (dir, expected) = filled.stop_and_wipe().await;
    let pass = adebox::crypto::Secret::new(PASSPHRASE.to_string());
    let restored = adebox::backup::restore(dir.path(), &newest, Some(&pass)).unwrap();
    assert!(restored.protected && restored.tls_files > 0 && restored.signing_files > 0);
    let (_, page) = expected.assert_restored(dir).await;
    let (_, admins_after) = page.get("/api/v1/admin/users").await;
    let who = |v: &serde_json::Value| -> Vec<(String, String)> {
        let list = v.as_array().or_else(|| v["items"].as_array()).expect("a list of admins");
        list.iter().map(|a| (a["username"].to_string(), a["role"].to_string())).collect()
    };
    assert_eq!(who(&admins_after), who(&admins_before), "the same admins and roles");
}

#[tokio::test]
async fn a_failed_backup_is_on_the_status_with_a_banner_and_loses_nothing() {
    let outside = tempfile::tempdir().unwrap();
    let backups = outside.path().join("backups");
    let dir = tempfile::tempdir().unwrap();
    let mut opts = options(dir.path(), Mode::Production);
    opts.config.backup = Some(BackupConfig {
        directory: backups.clone(),
        seal: BackupSeal::PassphraseFile(passphrase_file(outside.path(), 0o644)),
        at: (3, 0),
        retention: Retention::Count(3),
    });
    let d = TestDaemon::start_with(dir, opts).await;
    let page = d.setup_admin().await;
    let (_, status) = page.get("/api/v1/status").await;
    assert_eq!(status["backup"]["directory"], backups.display().to_string());
    assert!(status["backup"]["next_at"].is_string(), "{status}");
    assert_eq!(status["backup"]["last"], serde_json::Value::Null, "none yet");

    let schedule = d.running().services.backups.clone().expect("the daemon runs the schedule");
    let last = schedule.run_now().await;
    assert!(!last.ok);
    assert!(last.message.contains("chmod 600"), "says the fix: {}", last.message);
    assert!(adebox::backup::scheduled::list(&backups).is_empty(), "no file counted as a backup");
    let (_, status) = page.get("/api/v1/status").await;
    assert_eq!(status["backup"]["last"]["ok"], false, "{status}");
    let banners = status["banners"].as_array().unwrap();
    assert!(banners.iter().any(|b| b["code"] == "backup_failed"), "{status}");
    assert!(!status.to_string().contains(PASSPHRASE), "the passphrase is never shown");

    // Fixed: the next run writes the backup and the banner goes.
    std::fs::set_permissions(
        outside.path().join("backup.pass"),
        std::fs::Permissions::from_mode(0o600),
    )
    .unwrap();
    assert!(schedule.run_now().await.ok);
    let (_, status) = page.get("/api/v1/status").await;
    assert_eq!(status["backup"]["last"]["ok"], true, "{status}");
    assert!(!status["banners"].as_array().unwrap().iter().any(|b| b["code"] == "backup_failed"));
    assert_eq!(adebox::backup::scheduled::list(&backups).len(), 1);
}

#[tokio::test]
async fn a_failed_backup_alerts_by_mail_and_webhook_until_the_next_one_succeeds() {
    let Some(smtp) = crate::alerts::Smtp::start() else { return };
    let schemas = crate::webhooks::Schemas::load();
    let outside = tempfile::tempdir().unwrap();
    // The backup directory cannot be made: a file stands where it should be.
    let backups = outside.path().join("backups");
    std::fs::write(&backups, b"not a directory").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut opts = options(dir.path(), Mode::Production);
    opts.config.backup = Some(BackupConfig {
        directory: backups.clone(),
        seal: BackupSeal::PassphraseFile(passphrase_file(outside.path(), 0o600)),
        at: (3, 0),
        retention: Retention::Count(3),
    });
    let d = TestDaemon::start_with(dir, opts).await;
    let page = d.setup_admin().await;
    let receiver = crate::webhooks::Receiver::start().await;
    let topics = ["adebox.BackupFailed"];
    let (_, secret) = crate::webhooks::subscribe(&page, &receiver.url, &topics, json!({})).await;
    let to = json!({"backup_failed": ["ops@example.org"]});
    let settings = smtp.settings("smtp-secret-4711", to);
    let (s, v) = page.send(Method::PUT, "/api/v1/alerts/settings", Some(settings)).await;
    assert_eq!(s, StatusCode::OK, "{v}");

    let schedule = d.running().services.backups.clone().expect("the daemon runs the schedule");
    let last = schedule.run_now().await;
    assert!(!last.ok, "{last:?}");
    let mail = smtp.wait_for(1).await;
    assert!(mail[0].contains("The daily backup failed"), "{}", mail[0]);
    assert!(mail[0].contains("/admin/settings#backups"), "the fix: {}", mail[0]);
    receiver.wait_for(1).await;
    let event = receiver.received()[0].json();
    assert_eq!(event["topic"], "adebox.BackupFailed", "{event}");
    assert_eq!(event["adebox_event"]["kind"], "backup_failed", "{event}");
    assert!(receiver.received()[0].signed_with(&secret));
    schemas.check(&event);
    drop(schedule);

    // Recorded in the store: the failure is still the last backup after a restart.
    let d = d
        .restart_with(|opts| {
            opts.config.backup = Some(BackupConfig {
                directory: backups.clone(),
                seal: BackupSeal::PassphraseFile(outside.path().join("backup.pass")),
                at: (3, 0),
                retention: Retention::Count(3),
            });
        })
        .await;
    let (_, _, page) = d.login("alice", PASSWORD).await;
    let (_, status) = page.get("/api/v1/status").await;
    assert_eq!(status["backup"]["last"]["ok"], false, "kept across the restart: {status}");
    tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    assert_eq!(smtp.messages().len(), 1, "not announced again after the restart");

    // Fixed: the next backup succeeds and the alert is resolved, once.
    std::fs::remove_file(&backups).unwrap();
    let schedule = d.running().services.backups.clone().unwrap();
    assert!(schedule.run_now().await.ok);
    let mail = smtp.wait_for(2).await;
    assert!(mail[1].contains("Subject: [adebox] Resolved: "), "{}", mail[1]);
    receiver.wait_for(2).await;
    let event = receiver.received()[1].json();
    assert_eq!(event["adebox_event"]["kind"], "backup_failed_resolved", "{event}");
    schemas.check(&event);
}

/// A sandbox daemon with a server token, its devices and an API token: what a backup must
/// bring back (also used by the age backup tests).
pub(crate) struct Filled {
    pub d: TestDaemon,
    pub page: Page,
    pub api_token: String,
    /// One device's serial, to look for in a backup's bytes.
    pub serial: String,
    expected: Expected,
}

/// What a restore of a [`Filled`] appliance must show.
pub(crate) struct Expected {
    devices: serde_json::Value,
    ca: Vec<u8>,
    count: u64,
    api_token: String,
}

impl Filled {
    pub async fn new(server: &str, count: u64) -> Filled {
        let d = TestDaemon::with_simulator().await;
        let page = d.sandbox_admin().await;
        let (token, uuid) = add_token(&d, &page, server).await;
        let tid = token["id"].as_str().unwrap().to_string();
        let (s, _) = page
            .post("/api/v1/sandbox/devices", json!({"server_uuid": uuid, "count": count}))
            .await;
        assert_eq!(s, StatusCode::OK);
        wait_for_devices(&page, &tid, count).await;
        let (_, created) = page.post("/api/v1/admin/api-tokens", json!({"name": "nightly"})).await;
        let api_token = created["token"].as_str().unwrap().to_string();
        let (_, devices) = page.get("/api/v1/devices?limit=100").await;
        let serial = devices["items"][0]["serial"].as_str().unwrap().to_string();
        let expected = Expected { devices, ca: d.ca_pem(), count, api_token: api_token.clone() };
        Filled { d, page, api_token, serial, expected }
    }

    /// Stops the daemon and empties its data directory, as a lost disk would.
    pub async fn stop_and_wipe(self) -> (tempfile::TempDir, Expected) {
        let dir = self.d.stop().await;
        for entry in std::fs::read_dir(dir.path()).unwrap() {
            let p = entry.unwrap().path();
            if p.is_dir() {
                std::fs::remove_dir_all(&p).unwrap();
            } else {
                std::fs::remove_file(&p).unwrap();
            }
        }
        (dir, self.expected)
    }
}

impl Expected {
    /// Starts the restored `dir` and checks the same CA, admin, inventory and API token.
    pub async fn assert_restored(&self, dir: tempfile::TempDir) -> (TestDaemon, Page) {
        let d = TestDaemon::start_in(dir, Mode::Production).await;
        assert_eq!(d.ca_pem(), self.ca, "the same CA: enrolled devices still trust it");
        let (s, _, page) = d.login("admin", PASSWORD).await;
        assert_eq!(s, StatusCode::OK, "the admin signs in with the same password");
        let (_, after) = page.get("/api/v1/devices?limit=100").await;
        assert_eq!(after["total"], self.devices["total"]);
        assert_eq!(after["items"], self.devices["items"], "the same inventory");
        let (s, status) =
            with_token(&d.client(), Method::GET, &d.url("/api/v1/status"), &self.api_token, None)
                .await;
        assert_eq!(s, StatusCode::OK, "the API token still works: {status}");
        assert_eq!(status["counts"]["devices"], self.count);
        (d, page)
    }
}

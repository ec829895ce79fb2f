//! The backup schedule edited through `/api/v1/settings/backup`: a schedule saved there wins
//! over `[backup]` of the configuration file and survives a restart with its passphrase
//! sealed (never in an answer, the audit log or the store file in clear); "Back up now"
//! writes to the page's directory; removing it brings the file's back; bad fields are
//! refused by name with the fix, and only the Owner may change it.

use crate::common::*;
use adebox::config::{BackupConfig, BackupSeal, Retention};
use adebox::daemon::Mode;
use reqwest::{Method, StatusCode};
use serde_json::json;
use std::os::unix::fs::PermissionsExt;

const PASSPHRASE: &str = "the page's backup passphrase";

#[tokio::test]
async fn a_schedule_saved_on_the_page_wins_over_the_file_and_keeps_its_passphrase_sealed() {
    let outside = tempfile::tempdir().unwrap();
    let file_dir = outside.path().join("from-file");
    let page_dir = outside.path().join("from-page");
    let pass_file = outside.path().join("backup.pass");
    std::fs::write(&pass_file, "the file's backup passphrase\n").unwrap();
    std::fs::set_permissions(&pass_file, std::fs::Permissions::from_mode(0o600)).unwrap();
    let file_config = BackupConfig {
        directory: file_dir.clone(),
        seal: BackupSeal::PassphraseFile(pass_file.clone()),
        at: (3, 0),
        retention: Retention::Count(3),
    };
    let dir = tempfile::tempdir().unwrap();
    let mut opts = options(dir.path(), Mode::Production);
    opts.config.backup = Some(file_config.clone());
    let d = TestDaemon::start_with(dir, opts).await;
    let page = d.setup_admin().await;

    let (s, v) = page.get("/api/v1/settings/backup").await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!((v["source"].as_str(), v["seal"].as_str()), (Some("file"), Some("passphrase_file")));
    assert_eq!(v["directory"], file_dir.display().to_string());
    assert_eq!((v["time"].as_str(), v["keep"].as_u64()), (Some("03:00"), Some(3)));

    // Refused by field, with the fix; nothing saved.
    for (body, field) in [
        (json!({"directory": "relative", "time": "01:00", "passphrase": PASSPHRASE}), "directory"),
        (json!({"directory": "/b", "time": "1:00", "passphrase": PASSPHRASE}), "time"),
        (
            json!({"directory": "/b", "time": "01:00", "keep": 2, "keep_days": 2, "passphrase": PASSPHRASE}),
            "keep_days",
        ),
        (json!({"directory": "/b", "time": "01:00", "passphrase": "short"}), "passphrase"),
        (json!({"directory": "/b", "time": "01:00"}), "passphrase"),
        (json!({"directory": "/b", "time": "01:00", "recipient": "age1typo"}), "recipient"),
    ] {
        let (s, e) = page.send(Method::PUT, "/api/v1/settings/backup", Some(body.clone())).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {e}");
        assert_eq!(e["field"], field, "{body}: {e}");
        assert!(e["message"].as_str().unwrap().contains("Fix:"), "{e}");
    }
    let (_, v) = page.get("/api/v1/settings/backup").await;
    assert_eq!(v["source"], "file", "nothing was saved");

    let body = json!({"directory": page_dir.display().to_string(), "time": "01:30", "keep_days": 10, "passphrase": PASSPHRASE});
    let (s, v) = page.send(Method::PUT, "/api/v1/settings/backup", Some(body)).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!((v["source"].as_str(), v["seal"].as_str()), (Some("page"), Some("passphrase")));
    assert_eq!((v["time"].as_str(), v["keep_days"].as_u64()), (Some("01:30"), Some(10)));
    assert!(v["next_at"].as_str().unwrap().contains("T01:30:00"), "{v}");
    assert!(!v.to_string().contains(PASSPHRASE), "never sent back: {v}");
    let (_, status) = page.get("/api/v1/status").await;
    assert_eq!(status["backup"]["directory"], page_dir.display().to_string(), "{status}");

    // Only the Owner changes it.
    let (s, _) = page
        .post(
            "/api/v1/admin/users",
            json!({"username": "olga", "password": PASSWORD, "role": "operator"}),
        )
        .await;
    assert!(s.is_success(), "{s}");
    let (_, _, operator) = d.login("olga", PASSWORD).await;
    let (s, _) = operator.get("/api/v1/settings/backup").await;
    assert_eq!(s, StatusCode::OK, "an operator reads it");
    for (method, path) in [
        (Method::PUT, "/api/v1/settings/backup"),
        (Method::POST, "/api/v1/settings/backup/run"),
        (Method::DELETE, "/api/v1/settings/backup"),
    ] {
        let body = (method == Method::PUT)
            .then(|| json!({"directory": "/x", "time": "01:00", "passphrase": PASSPHRASE}));
        let (s, e) = operator.send(method.clone(), path, body).await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{method} {path}: {e}");
    }

    // Restarted: the page's schedule is still in effect and its sealed passphrase opens.
    let d = d.restart_with(|o| o.config.backup = Some(file_config.clone())).await;
    let (_, _, page) = d.login("alice", PASSWORD).await;
    let (s, last) = page.post("/api/v1/settings/backup/run", json!({})).await;
    assert_eq!(s, StatusCode::OK, "{last}");
    assert_eq!(last["ok"], true, "{last}");
    let written = adebox::backup::scheduled::list(&page_dir);
    assert_eq!(written.len(), 1, "written to the page's directory");
    assert!(adebox::backup::scheduled::list(&file_dir).is_empty(), "not to the file's");
    let raw = std::fs::read(d.data_dir().join("adebox.redb")).unwrap();
    assert!(!raw.windows(PASSPHRASE.len()).any(|w| w == PASSPHRASE.as_bytes()), "sealed at rest");
    let pass = adebox::crypto::Secret::new(PASSPHRASE.to_string());
    let probe = tempfile::tempdir().unwrap();
    adebox::backup::restore(probe.path(), &page_dir.join(&written[0].0), Some(&pass))
        .expect("the backup opens with the page's passphrase");

    // Switched to an age recipient, then removed: the file's schedule is back.
    let recipient = age::x25519::Identity::generate().to_public().to_string();
    let body = json!({"directory": page_dir.display().to_string(), "time": "02:00", "recipient": recipient});
    let (s, v) = page.send(Method::PUT, "/api/v1/settings/backup", Some(body)).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(
        (v["seal"].as_str(), v["recipient"].as_str()),
        (Some("recipient"), Some(recipient.as_str()))
    );
    let (s, v) = page.send(Method::DELETE, "/api/v1/settings/backup", None).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["source"], "file", "{v}");
    let (s, _) = page.send(Method::DELETE, "/api/v1/settings/backup", None).await;
    assert_eq!(s, StatusCode::NOT_FOUND, "nothing left to remove");

    let (_, audit) = page.get("/api/v1/audit?limit=100").await;
    let text = audit.to_string();
    for code in ["backup.schedule_set", "backup.run", "backup.schedule_remove"] {
        assert!(text.contains(code), "{code} audited: {text}");
    }
    assert!(text.contains("daily at 01:30 UTC, keeping 10 days"), "{text}");
    assert!(!text.contains(PASSPHRASE), "no passphrase in the audit log");
}

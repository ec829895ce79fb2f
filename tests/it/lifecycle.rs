use crate::common::*;
use adebox::crypto::Secret;
use reqwest::StatusCode;

#[tokio::test]
async fn a_restart_keeps_the_ca_the_certificate_and_the_admin() {
    let d = TestDaemon::start().await;
    let page = d.setup_admin().await;
    let (_, before) = page.get("/api/v1/settings/tls").await;
    let d = d.restart().await;
    assert!(d.running().setup_code.is_none(), "no setup code once an admin exists");
    let (s, _, page) = d.login("alice", PASSWORD).await;
    assert_eq!(s, StatusCode::OK);
    let (_, after) = page.get("/api/v1/settings/tls").await;
    assert_eq!(before["ca"]["fingerprint_sha256"], after["ca"]["fingerprint_sha256"]);
    assert_eq!(before["server"]["fingerprint_sha256"], after["server"]["fingerprint_sha256"]);
}

#[tokio::test]
async fn sessions_survive_a_restart() {
    let d = TestDaemon::start().await;
    let page = d.setup_admin().await;
    let d = d.restart().await;
    // Same cookie jar, new daemon process state: the session is in the store.
    let page = Page { base: d.base.clone(), ..page };
    assert_eq!(page.get("/api/v1/status").await.0, StatusCode::OK);
}

#[tokio::test]
async fn backup_while_running_and_password_reset_through_the_control_socket() {
    let d = TestDaemon::start().await;
    d.setup_admin().await;
    let out = tempfile::tempdir().unwrap();
    let file = out.path().join("adebox-backup.redb");
    let mut files = adebox::tls::backup_files(&d.data_dir()).unwrap();
    assert!(files.iter().any(|(n, _)| n == "tls/ca.key"), "the CA key travels with the backup");
    files.extend(adebox::enroll::backup_files(&d.data_dir()).unwrap());
    assert!(
        files.iter().any(|(n, _)| n == "enroll/profile-signing.key"),
        "the profile-signing key travels with the backup"
    );
    let passphrase = Secret::new("the backup passphrase".to_string());
    let records = adebox::backup::write(&d.data_dir(), &file, &passphrase).unwrap();
    assert!(records > 0);

    let req = adebox::control::Request::SetPassword {
        username: "alice".into(),
        password: Secret::new("reset by the cli 1".into()),
        role: None,
    };
    let resp = adebox::control::call(&d.data_dir(), &req).await.unwrap();
    assert!(resp.ok, "{}", resp.message);
    assert_eq!(d.login("alice", PASSWORD).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(d.login("alice", "reset by the cli 1").await.0, StatusCode::OK);

    let req = adebox::control::Request::SetPassword {
        username: "alice".into(),
        password: Secret::new("short".into()),
        role: None,
    };
    let resp = adebox::control::call(&d.data_dir(), &req).await.unwrap();
    assert!(!resp.ok && resp.message.contains("12"), "{}", resp.message);

    // Restored on another box: the same admin, and the same CA (devices keep trusting it).
    let restored = tempfile::tempdir().unwrap();
    let back = adebox::backup::restore(restored.path(), &file, Some(&passphrase)).unwrap();
    assert!(back.tls_files > 0 && back.keys.contains(&adebox::keys::KeyName::Data));
    // The profile signer (enroll/), the SCEP CA and RA (scep/), certificate and key each.
    assert_eq!(back.signing_files, 6);
    let r = TestDaemon::start_in(restored, adebox::daemon::Mode::Production).await;
    assert_eq!(r.login("alice", PASSWORD).await.0, StatusCode::OK);
    assert_eq!(r.ca_pem(), d.ca_pem());
    // Same profile-signing certificate: the restored daemon kept it rather than issuing anew.
    let signer = |dir: std::path::PathBuf| std::fs::read(dir.join("enroll/profile-signing.pem"));
    assert_eq!(signer(r.data_dir()).unwrap(), signer(d.data_dir()).unwrap());
    for file in ["scep/ra.pem", "scep/ca.pem"] {
        let read = |dir: std::path::PathBuf| std::fs::read(dir.join(file));
        assert_eq!(read(r.data_dir()).unwrap(), read(d.data_dir()).unwrap(), "the same {file}");
    }
}

/// A store an older adebox made holds only the tables it ever wrote to. The daemon opens it,
/// creates the others, and every page reading them answers; the admin it held still logs in.
#[tokio::test]
async fn a_store_from_an_older_version_gains_the_tables_it_lacks() {
    use adebox::admin::{Admin, AdminOptions, HashCost};
    let dir = tempfile::tempdir().unwrap();
    {
        let tables = [adebox::audit::TABLES, adebox::admin::TABLES];
        let older = adebox::store::Store::open(dir.path(), &tables).unwrap();
        let options = AdminOptions { hash_cost: HashCost::TESTING, ..Default::default() };
        let admin = Admin::new(older, adebox::clock::Clock::system(), options);
        admin.set_password_cli("alice", Secret::new(PASSWORD.to_string()), None).await.unwrap();
    }
    let d = TestDaemon::start_in(dir, adebox::daemon::Mode::Production).await;
    let (s, _, page) = d.login("alice", PASSWORD).await;
    assert_eq!(s, StatusCode::OK);
    for path in [
        "/api/v1/devices",
        "/api/v1/devices/counts",
        "/api/v1/tokens",
        "/api/v1/tokens/keys",
        "/api/v1/sync",
        "/api/v1/settings/sync",
        "/api/v1/profiles",
        "/api/v1/profiles/defaults",
        "/api/v1/assignments",
        "/api/v1/admin/users",
        "/api/v1/admin/api-tokens",
        "/api/v1/enrollment/funnel",
        "/api/v1/enrollment/refusals",
        "/api/v1/enrollment/settings",
        "/api/v1/push",
        "/api/v1/audit",
    ] {
        let (s, body) = page.get(path).await;
        assert_eq!(s, StatusCode::OK, "{path}: {body}");
    }
    // Records that are not there: "not found", not a store error.
    for path in [
        "/api/v1/devices/C02TEST0001",
        "/api/v1/devices/C02TEST0001/certificates",
        "/api/v1/devices/C02TEST0001/mdm",
        "/api/v1/push/devices/00008030-000000000000001E",
    ] {
        let (s, body) = page.get(path).await;
        assert!(!s.is_server_error(), "{path}: {s} {body}");
    }
}

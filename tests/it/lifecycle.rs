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
    let records = adebox::store::backup(&d.data_dir(), &file).unwrap();
    assert!(records > 0);

    let req = adebox::control::Request::SetPassword {
        username: "alice".into(),
        password: Secret::new("reset by the cli 1".into()),
    };
    let resp = adebox::control::call(&d.data_dir(), &req).await.unwrap();
    assert!(resp.ok, "{}", resp.message);
    assert_eq!(d.login("alice", PASSWORD).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(d.login("alice", "reset by the cli 1").await.0, StatusCode::OK);

    let req = adebox::control::Request::SetPassword {
        username: "alice".into(),
        password: Secret::new("short".into()),
    };
    let resp = adebox::control::call(&d.data_dir(), &req).await.unwrap();
    assert!(!resp.ok && resp.message.contains("12"), "{}", resp.message);

    // The backup opens as a store of its own, with the admin in it.
    let restored = tempfile::tempdir().unwrap();
    std::fs::copy(&file, restored.path().join(adebox::store::FILE_NAME)).unwrap();
    let r = TestDaemon::start_in(restored, adebox::daemon::Mode::Production).await;
    assert_eq!(r.login("alice", PASSWORD).await.0, StatusCode::OK);
}

use super::*;
use time::macros::datetime;

fn config(dir: &Path) -> Config {
    Config::for_sandbox(dir.to_path_buf(), "127.0.0.1:8443".parse().unwrap())
}

#[test]
fn first_start_creates_ca_and_server_certificate_with_private_keys() {
    let dir = tempfile::tempdir().unwrap();
    let now = datetime!(2026-11-24 12:00 UTC);
    let m = TlsManager::open(&config(dir.path()), now).unwrap();
    let info = m.info();
    assert_eq!(info.mode, TlsMode::SelfManaged);
    assert_eq!(info.server.sans, vec!["localhost".to_string(), "127.0.0.1".to_string()]);
    assert!(info.server.not_after - info.server.not_before <= Duration::days(825));
    assert_eq!(info.renews_at, Some(info.server.not_after - Duration::days(30)));
    use std::os::unix::fs::PermissionsExt;
    for (f, mode) in [("ca.key", 0o600), ("server.key", 0o600), ("ca.pem", 0o644)] {
        let m = std::fs::metadata(dir.path().join("tls").join(f)).unwrap().permissions().mode();
        assert_eq!(m & 0o777, mode, "{f}");
    }
    let tls_dir = std::fs::metadata(dir.path().join("tls")).unwrap().permissions().mode();
    assert_eq!(tls_dir & 0o777, 0o700);
    assert!(m.server_config().is_ok());
}

#[test]
fn a_restart_keeps_the_ca_and_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let now = datetime!(2026-11-24 12:00 UTC);
    let first = TlsManager::open(&config(dir.path()), now).unwrap().info();
    let again = TlsManager::open(&config(dir.path()), now + Duration::days(1)).unwrap().info();
    assert_eq!(first.ca.fingerprint_sha256, again.ca.fingerprint_sha256);
    assert_eq!(first.server.fingerprint_sha256, again.server.fingerprint_sha256);
}

#[test]
fn renews_thirty_days_before_expiry_under_the_same_ca() {
    let dir = tempfile::tempdir().unwrap();
    let now = datetime!(2026-11-24 12:00 UTC);
    let m = TlsManager::open(&config(dir.path()), now).unwrap();
    let first = m.info();
    assert!(m.renew_if_due(now + Duration::days(300)).unwrap().is_none());
    let renewed = m.renew_if_due(first.server.not_after - Duration::days(29)).unwrap().unwrap();
    assert_ne!(renewed.fingerprint_sha256, first.server.fingerprint_sha256);
    assert_eq!(m.info().server.fingerprint_sha256, renewed.fingerprint_sha256);
    assert_eq!(m.info().ca.fingerprint_sha256, first.ca.fingerprint_sha256);
}

#[test]
fn changed_host_names_get_a_new_certificate_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let now = datetime!(2026-11-24 12:00 UTC);
    TlsManager::open(&config(dir.path()), now).unwrap();
    let mut c = config(dir.path());
    c.public_hosts = vec!["ade.example.org".into()];
    let info = TlsManager::open(&c, now).unwrap().info();
    assert_eq!(info.server.sans, vec!["ade.example.org".to_string()]);
}

fn other_pair(names: &[&str], now: OffsetDateTime, days: i64) -> (String, String) {
    let ca = Authority::generate("Site CA", now - Duration::days(1), Duration::days(3650)).unwrap();
    let names: Vec<String> = names.iter().map(|s| s.to_string()).collect();
    let issued = ca.issue_server(&names, now, Duration::days(days)).unwrap();
    (format!("{}{}", issued.cert_pem, ca.cert_pem()), issued.key_pem.expose().clone())
}

#[test]
fn an_uploaded_certificate_is_validated_used_and_removable() {
    let dir = tempfile::tempdir().unwrap();
    let now = datetime!(2026-11-24 12:00 UTC);
    let m = TlsManager::open(&config(dir.path()), now).unwrap();
    let (cert, key) = other_pair(&["localhost", "127.0.0.1"], now, 90);
    let (_, other_key) = other_pair(&["localhost", "127.0.0.1"], now, 90);
    let err = m.install_custom(&cert, &other_key, now).unwrap_err();
    assert!(matches!(&err, TlsError::Custom(p) if p.field == "key_pem"), "{err}");
    let err = m.install_custom("hello", &key, now).unwrap_err();
    assert!(matches!(&err, TlsError::Custom(p) if p.field == "cert_pem"), "{err}");
    let err = m.install_custom(&cert, "not a key", now).unwrap_err();
    assert!(matches!(&err, TlsError::Custom(p) if p.field == "key_pem"), "{err}");
    let err = m.install_custom(&cert, &key, now + Duration::days(100)).unwrap_err();
    assert!(err.to_string().contains("expired"), "{err}");
    let (wrong_names, wrong_key) = other_pair(&["elsewhere.example"], now, 90);
    let err = m.install_custom(&wrong_names, &wrong_key, now).unwrap_err();
    assert!(err.to_string().contains("does not name localhost"), "{err}");

    let info = m.install_custom(&cert, &key, now).unwrap();
    assert_eq!(info.mode, TlsMode::CustomUpload);
    assert_eq!(info.renews_at, None);
    // Survives a restart, and renewal leaves it alone.
    let again = TlsManager::open(&config(dir.path()), now).unwrap();
    assert_eq!(again.info().mode, TlsMode::CustomUpload);
    assert!(again.renew_if_due(now + Duration::days(80)).unwrap().is_none());
    let back = again.remove_custom(now).unwrap();
    assert_eq!(back.mode, TlsMode::SelfManaged);
}

#[test]
fn a_bad_certificate_in_the_config_stops_the_start_naming_the_keys() {
    let dir = tempfile::tempdir().unwrap();
    let now = datetime!(2026-11-24 12:00 UTC);
    let (cert, key) = other_pair(&["localhost", "127.0.0.1"], now, 30);
    let cert_path = dir.path().join("site.pem");
    let key_path = dir.path().join("site.key");
    std::fs::write(&cert_path, &cert).unwrap();
    std::fs::write(&key_path, &key).unwrap();
    let mut c = config(dir.path());
    c.tls_cert_file = Some(cert_path);
    c.tls_key_file = Some(key_path);
    let m = TlsManager::open(&c, now).unwrap();
    assert_eq!(m.info().mode, TlsMode::CustomConfig);
    assert!(matches!(m.install_custom(&cert, &key, now), Err(TlsError::ConfigManaged)));
    let err = TlsManager::open(&c, now + Duration::days(31)).unwrap_err().to_string();
    assert!(err.contains("expired") && err.contains("tls.cert_file"), "{err}");
}

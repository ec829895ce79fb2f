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

/// A manager serving the certificate of `tls.cert_file` (`preconfirmed`: `tls.confirm_reassign`).
fn configured(dir: &Path, now: OffsetDateTime, preconfirmed: bool) -> TlsManager {
    let (cert, key) = other_pair(&["localhost", "127.0.0.1"], now, 30);
    let (cert_path, key_path) = (dir.join("site.pem"), dir.join("site.key"));
    std::fs::write(&cert_path, &cert).unwrap();
    std::fs::write(&key_path, &key).unwrap();
    let mut c = config(dir);
    c.tls_cert_file = Some(cert_path);
    c.tls_key_file = Some(key_path);
    c.tls_confirm_reassign = preconfirmed;
    TlsManager::open(&c, now).unwrap()
}

#[test]
fn a_configured_certificate_is_held_while_apple_pins_the_ca_until_confirmed() {
    let dir = tempfile::tempdir().unwrap();
    let now = datetime!(2026-11-24 12:00 UTC);
    let m = configured(dir.path(), now, false);
    // Never armed (tools, tests of this module): served as given.
    assert_eq!(m.info().mode, TlsMode::CustomConfig);
    m.arm_hold(true, now).unwrap();
    let held = m.info();
    assert_eq!((held.mode, held.held), (TlsMode::SelfManaged, Some(TlsMode::CustomConfig)));
    assert_eq!(m.anchor_certs(), vec![m.ca().cert_der().to_vec()], "the CA stays pinned");
    // A reload keeps it held.
    assert_eq!(m.reload(None, now).unwrap().info.mode, TlsMode::SelfManaged);
    assert_eq!(m.confirm_held(now).unwrap(), Some(TlsMode::CustomConfig));
    let served = m.info();
    assert_eq!((served.mode, served.held), (TlsMode::CustomConfig, None));
    assert!(m.anchor_certs().is_empty());
    assert_eq!(m.confirm_held(now).unwrap(), None, "nothing waits any more");
    assert_eq!(m.reload(None, now).unwrap().info.mode, TlsMode::CustomConfig);
}

#[test]
fn a_configured_certificate_is_not_held_when_confirmed_in_the_file_or_apple_pins_nothing() {
    let now = datetime!(2026-11-24 12:00 UTC);
    for (preconfirmed, apple_pins_ca) in [(true, true), (false, false)] {
        let dir = tempfile::tempdir().unwrap();
        let m = configured(dir.path(), now, preconfirmed);
        m.arm_hold(apple_pins_ca, now).unwrap();
        assert_eq!((m.info().mode, m.held()), (TlsMode::CustomConfig, None));
    }
}

#[test]
fn a_reload_with_other_hosts_issues_the_self_managed_certificate_for_them() {
    let dir = tempfile::tempdir().unwrap();
    let now = datetime!(2026-11-24 12:00 UTC);
    let m = TlsManager::open(&config(dir.path()), now).unwrap();
    let before = m.info().server.fingerprint_sha256;
    let same = m.reload(Some(vec!["127.0.0.1".into(), "LOCALHOST".into()]), now).unwrap();
    assert_eq!(same.info.server.fingerprint_sha256, before, "the same names, in another order");
    let hosts = vec!["ade.example.org".to_string(), "localhost".to_string()];
    let reloaded = m.reload(Some(hosts.clone()), now).unwrap();
    assert_eq!(reloaded.info.server.sans, hosts);
    assert_eq!(reloaded.info.public_hosts, hosts);
    assert!(!reloaded.order_needed, "no [tls.acme]");
}

use super::*;
use std::os::unix::fs::PermissionsExt;

#[test]
fn a_key_is_created_once_with_private_modes_and_read_back_the_same() {
    let dir = tempfile::tempdir().unwrap();
    let first = load_or_create(dir.path(), KeyName::Data).unwrap();
    let again = load_or_create(dir.path(), KeyName::Data).unwrap();
    assert_eq!(first.expose(), again.expose());
    let other = load_or_create(dir.path(), KeyName::Audit).unwrap();
    assert_ne!(first.expose(), other.expose(), "each key is drawn on its own");
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&dir.path().join(FOLDER)), 0o700);
    assert_eq!(mode(&KeyName::Data.path(dir.path())), 0o600);
    assert_eq!(std::fs::read(KeyName::Data.path(dir.path())).unwrap(), first.expose());
}

#[test]
fn a_missing_key_loads_as_none_and_a_stored_one_replaces_it() {
    let dir = tempfile::tempdir().unwrap();
    assert!(load(dir.path(), KeyName::Audit).unwrap().is_none());
    let key = Secret::new([7u8; KEY_LEN]);
    store(dir.path(), KeyName::Audit, &key).unwrap();
    assert_eq!(load(dir.path(), KeyName::Audit).unwrap().unwrap().expose(), &[7u8; KEY_LEN]);
}

#[test]
fn a_short_or_world_readable_key_is_refused_with_the_fix() {
    let dir = tempfile::tempdir().unwrap();
    load_or_create(dir.path(), KeyName::Data).unwrap();
    let path = KeyName::Data.path(dir.path());
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    let err = load(dir.path(), KeyName::Data).unwrap_err().to_string();
    assert!(err.contains("chmod 600"), "{err}");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    std::fs::write(&path, b"short").unwrap();
    let err = load_or_create(dir.path(), KeyName::Data).unwrap_err().to_string();
    assert!(err.contains("5 bytes") && err.contains("restore it"), "{err}");
    assert_eq!(std::fs::read(&path).unwrap(), b"short", "a damaged key is never overwritten");
}

//! The checker on Apple's real folder, as copied into the fixtures, with the project overlay
//! (each test skipped with a notice when the fixtures are absent).

use crate::tests::{command, dict};
use crate::*;
use plist::Value;

/// The fixtures folder (`$ADEBOX_FIXTURES`, or `../shared/fixtures` beside the repository,
/// the rule adebox's tests follow); `None` with a notice when absent.
pub(crate) fn fixtures() -> Option<std::path::PathBuf> {
    let dir =
        std::env::var_os("ADEBOX_FIXTURES").map(std::path::PathBuf::from).unwrap_or_else(|| {
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/fixtures")
        });
    if dir.is_dir() {
        return Some(dir);
    }
    eprintln!(
        "notice: fixtures folder {} not found (set ADEBOX_FIXTURES); skipping",
        dir.display()
    );
    None
}

/// Apple's folder as copied into the fixtures, with the project overlay.
fn real() -> Option<Schemas> {
    Some(Schemas::from_fixtures(&fixtures()?).unwrap_or_else(|e| panic!("{e}")))
}

#[test]
fn every_apple_file_loads_with_the_overlay() {
    let Some(s) = real() else { return };
    assert!(s.count(Kind::Command) >= 60, "{}", s.count(Kind::Command));
    assert!(s.count(Kind::CheckIn) >= 9);
    for name in ["TopLevel", "CommonPayloadKeys", "com.apple.mdm", "com.apple.security.acme"] {
        assert!(s.get(Kind::Payload, name).is_some(), "{name}");
    }
    assert!(s.get(Kind::Envelope, COMMAND_ENVELOPE).is_some());
    assert!(s.get(Kind::Envelope, REPORT_ENVELOPE).is_some());
}

#[test]
fn the_real_schemas_find_platform_and_type_mistakes() {
    let Some(s) = real() else { return };
    // EraseDevice's PreserveDataPlan exists on iOS only.
    let erase =
        command(dict(&[("RequestType", "EraseDevice".into()), ("PreserveDataPlan", true.into())]));
    s.check_command(&erase, &Context::device(Os::Ios)).unwrap();
    let v = s.check_command(&erase, &Context::device(Os::MacOs)).unwrap_err();
    assert!(matches!(v.at("Command.PreserveDataPlan"), Some(Problem::NotSupported(_))), "{v}");
    // An iOS Authenticate has no DeviceName; a TokenUpdate needs its Token as data.
    let auth = Value::Dictionary(dict(&[
        ("MessageType", "Authenticate".into()),
        ("Topic", "com.apple.mgmt.External.x".into()),
        ("UDID", "u".into()),
        ("DeviceName", "d".into()),
    ]));
    let v = s.check_check_in(&auth, &Context::device(Os::Ios)).unwrap_err();
    assert!(matches!(v.at("DeviceName"), Some(Problem::NotSupported(_))), "{v}");
    let update = Value::Dictionary(dict(&[
        ("MessageType", "TokenUpdate".into()),
        ("Topic", "com.apple.mgmt.External.x".into()),
        ("UDID", "u".into()),
        ("PushMagic", "m".into()),
        ("Token", "not data".into()),
    ]));
    let v = s.check_check_in(&update, &Context::device(Os::Ios)).unwrap_err();
    assert!(matches!(v.at("Token"), Some(Problem::WrongType { expected: Type::Data, .. })), "{v}");
}

#[test]
fn without_the_overlay_a_macs_authenticate_with_challenge_is_refused() {
    let Some(dir) = fixtures() else { return };
    let apple = Schemas::load(&dir.join("device-management"), std::path::Path::new("/nonexistent"))
        .unwrap();
    let auth = Value::Dictionary(dict(&[
        ("MessageType", "Authenticate".into()),
        ("Topic", "com.apple.mgmt.External.x".into()),
        ("UDID", "u".into()),
        ("DeviceName", "d".into()),
        ("Model", "m".into()),
        ("ModelName", "n".into()),
        ("Challenge", Value::Data(b"apple".to_vec())),
    ]));
    let mac = Context::device(Os::MacOs);
    let v = apple.check_check_in(&auth, &mac).unwrap_err();
    assert_eq!(v.at("Challenge"), Some(&Problem::Unknown), "{v}");
    real().unwrap().check_check_in(&auth, &mac).unwrap();
}

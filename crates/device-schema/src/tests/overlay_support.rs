//! The overlay's `payload.supportedOS`: a message Apple's published file marks `n/a` on an OS
//! (`SetBootstrapToken` and `GetBootstrapToken` on iOS and visionOS, which Apple's 26
//! documentation adds) is checked there once the overlay says so, cited; an OS Apple's file
//! already dates is refused in the tests' rule and left to Apple in a site's checkout.

use crate::catalog::Clash;
use crate::tests::real::fixtures;
use crate::*;
use plist::{Dictionary, Value};

fn check_in(message_type: &str) -> Value {
    let mut d = Dictionary::new();
    d.insert("MessageType".into(), message_type.into());
    d.insert("UDID".into(), "0000FE00-B007".into());
    d.insert("AwaitingConfiguration".into(), true.into());
    if message_type == "SetBootstrapToken" {
        d.insert("BootstrapToken".into(), Value::Data(vec![7; 32]));
    }
    Value::Dictionary(d)
}

#[test]
fn bootstrap_token_check_ins_pass_on_ios_and_visionos_26_and_not_before() {
    let Some(dir) = fixtures() else { return };
    let s = Schemas::from_fixtures(&dir).unwrap_or_else(|e| panic!("{e}"));
    let apple = Schemas::load(&dir.join("device-management"), std::path::Path::new("/none"));
    let apple = apple.unwrap();
    for mt in ["SetBootstrapToken", "GetBootstrapToken"] {
        let m = check_in(mt);
        for (os, version) in [(Os::Ios, "26.0"), (Os::Ios, "27.1"), (Os::VisionOs, "26.0")] {
            let at = Context::device(os).at(version);
            s.check_check_in(&m, &at).unwrap_or_else(|v| panic!("{mt} at {os} {version}: {v}"));
            // Apple's published file alone still says n/a: the overlay is what lets it pass.
            let v = apple.check_check_in(&m, &at).unwrap_err();
            assert!(matches!(v.at(""), Some(Problem::NotSupported(_))), "{v}");
        }
        s.check_check_in(&m, &Context::device(Os::MacOs).at("15.0")).unwrap();
        let v = s.check_check_in(&m, &Context::device(Os::Ios).at("18.0")).unwrap_err();
        assert_eq!(v.at(""), Some(&Problem::NotSupported(format!("{mt} introduced in iOS 26.0"))));
        let v = s.check_check_in(&m, &Context::device(Os::TvOs).at("26.0")).unwrap_err();
        assert!(matches!(v.at(""), Some(Problem::NotSupported(_))), "{v}");
        let user = Context { enrollment: Enrollment::User, ..Context::device(Os::Ios).at("26.0") };
        assert!(s.check_check_in(&m, &user).is_err(), "not in a user enrollment");
    }
}

const APPLE: &str = r#"
title: Ping
payload:
  requesttype: Ping
  supportedOS:
    iOS:
      introduced: n/a
    macOS:
      introduced: '10.15'
payloadkeys:
- key: MessageType
  type: <string>
  presence: required
"#;

fn overlay(os: &str, source: bool) -> spec::Schema {
    let cite = if source { "  source: ../shared/spec/apple-2026.md §3.1\n" } else { "" };
    let text = format!(
        "title: Ping overlay\npayload:\n  requesttype: Ping\n{cite}  supportedOS:\n    {os}:\n      introduced: '26.0'\n"
    );
    parse(Kind::CheckIn, "overlay.yaml", &text).unwrap()
}

#[test]
fn the_overlay_adds_an_os_only_where_apple_says_n_a_and_only_cited() {
    let base = || {
        let mut s = Schemas::default();
        s.add(parse(Kind::CheckIn, "ping.yaml", APPLE).unwrap()).unwrap();
        s
    };
    let mut ping = Dictionary::new();
    ping.insert("MessageType".into(), "Ping".into());
    let ping = Value::Dictionary(ping);
    let ios26 = Context::device(Os::Ios).at("26.0");

    let mut s = base();
    s.merge(overlay("iOS", true)).unwrap();
    s.check_check_in(&ping, &ios26).unwrap();
    assert!(s.check_check_in(&ping, &Context::device(Os::Ios).at("25.0")).is_err());

    let err = base().merge(overlay("iOS", false)).unwrap_err();
    assert!(matches!(&err, LoadError::Uncited { key, .. } if key == "payload.supportedOS"));

    // macOS is dated by Apple's file: refused in the tests, Apple's kept in a checkout.
    let err = base().merge(overlay("macOS", true)).unwrap_err();
    assert!(err.to_string().contains("remove macOS from the overlay"), "{err}");
    let mut s = base();
    s.merge_with(overlay("macOS", true), Clash::AppleWins).unwrap();
    s.check_check_in(&ping, &Context::device(Os::MacOs).at("11.0")).unwrap();
}

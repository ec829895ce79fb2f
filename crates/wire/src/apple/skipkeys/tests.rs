use super::*;
use yaml_rust2::{Yaml, YamlLoader};

const OS: [(&str, Platform); 4] = [
    ("iOS", Platform::Ios),
    ("macOS", Platform::MacOs),
    ("tvOS", Platform::TvOs),
    ("visionOS", Platform::VisionOs),
];

fn text(y: &Yaml) -> Option<String> {
    match y {
        Yaml::String(s) | Yaml::Real(s) => Some(s.clone()),
        Yaml::Integer(i) => Some(i.to_string()),
        _ => None,
    }
}

/// Apple's description as the catalog keeps it: markdown quote marks dropped, whitespace
/// collapsed.
fn collapse(content: &str) -> String {
    let lines: Vec<&str> = content
        .lines()
        .map(|l| l.strip_prefix("> ").or_else(|| l.strip_prefix('>')).unwrap_or(l))
        .collect();
    lines.join(" ").split_whitespace().collect::<Vec<_>>().join(" ")
}

#[test]
fn catalog_matches_apples_skipkeys_yaml() {
    let Some(bytes) = crate::fixtures::read("skipkeys/skipkeys.yaml") else { return };
    let docs = YamlLoader::load_from_str(&String::from_utf8(bytes).unwrap()).unwrap();
    let doc = &docs[0];
    let payload = &doc["payload"]["supportedOS"];
    let keys = doc["payloadkeys"].as_vec().unwrap();
    assert_eq!(keys.len(), all().len(), "Apple's list and the catalog differ in size");
    for (y, k) in keys.iter().zip(all()) {
        let name = y["key"].as_str().unwrap();
        assert_eq!(k.key, name, "order or name differs");
        assert_eq!(k.title, y["title"].as_str().unwrap(), "{name} title");
        assert_eq!(k.description, collapse(y["content"].as_str().unwrap_or("")), "{name}");
        let mut skippable = true;
        for (os, platform) in OS {
            let entry = &y["supportedOS"][os];
            let introduced =
                text(&entry["introduced"]).or_else(|| text(&payload[os]["introduced"])).unwrap();
            let expected = (introduced != "n/a")
                .then(|| (introduced.clone(), text(&entry["deprecated"]), text(&entry["removed"])));
            let got = k.on(platform).map(|a| {
                (
                    a.introduced.to_string(),
                    a.deprecated.map(str::to_string),
                    a.removed.map(str::to_string),
                )
            });
            assert_eq!(got, expected, "{name} on {os}");
            if expected.is_some() {
                let a = entry["always-skippable"]
                    .as_bool()
                    .or(payload[os]["always-skippable"].as_bool())
                    .unwrap_or(true);
                skippable &= a;
            }
        }
        assert_eq!(k.always_skippable, skippable, "{name} always-skippable");
    }
}

#[test]
fn catalog_has_apples_53_keys_and_intunes_28_screens() {
    assert_eq!(all().len(), 53);
    assert_eq!(all().iter().filter(|k| k.intune_name.is_some()).count(), 28);
    assert_eq!(find("Safety").unwrap().intune_name, Some("Emergency SOS"));
    assert_eq!(find("Welcome").unwrap().intune_name, Some("Get Started"));
    assert!(find("Keyboard").unwrap().intune_name.is_none());
}

#[test]
fn inherits_payload_support_where_a_key_lists_no_platform() {
    let apple_id = find("AppleID").unwrap();
    assert_eq!(apple_id.on(Platform::Ios).unwrap().introduced, "7.0");
    assert_eq!(apple_id.on(Platform::TvOs).unwrap().introduced, "10.2");
    assert_eq!(apple_id.on(Platform::VisionOs).unwrap().introduced, "26.0");
    // Listed without a version: the payload's.
    assert_eq!(find("TapToSetup").unwrap().on(Platform::TvOs).unwrap().introduced, "10.2");
    assert!(find("Passcode").unwrap().on(Platform::TvOs).is_none());
}

#[test]
fn ipados_follows_ios() {
    let zoom = find("Zoom").unwrap();
    assert_eq!(zoom.on(Platform::IpadOs), zoom.on(Platform::Ios));
}

#[test]
fn check_accepts_a_key_available_on_a_chosen_platform() {
    assert!(check("Passcode", &[Platform::Ios]).is_empty());
    assert!(check("FileVault", &[Platform::Ios, Platform::MacOs]).is_empty());
}

#[test]
fn check_refuses_unknown_keys_and_suggests_the_right_case() {
    assert_eq!(check("Bogus", &[Platform::Ios]), vec![Issue::Unknown { close: None }]);
    let issues = check("imessageandfacetime", &[Platform::Ios]);
    assert_eq!(issues, vec![Issue::Unknown { close: Some("iMessageAndFaceTime") }]);
    assert!(issues[0].message("imessageandfacetime").contains("did you mean"));
}

#[test]
fn check_refuses_keys_on_none_of_the_platforms() {
    let issues = check("FileVault", &[Platform::Ios, Platform::IpadOs]);
    assert_eq!(issues, vec![Issue::NotOnPlatforms]);
    assert!(issues[0].is_error());
}

#[test]
fn check_warns_about_deprecated_and_refuses_removed_keys() {
    let issues = check("Zoom", &[Platform::Ios, Platform::IpadOs]);
    assert_eq!(issues, vec![Issue::Deprecated { platform: Platform::Ios, version: "17.0" }]);
    assert!(!issues[0].is_error());
    let issues = check("WebContentFiltering", &[Platform::Ios]);
    assert_eq!(issues, vec![Issue::Removed { platform: Platform::Ios, version: "26.1" }]);
    assert!(issues[0].is_error());
    // Removed on macOS only: fine on iOS-only profiles where it does not exist… it does not
    // exist on iOS at all, so it is refused for that reason instead.
    assert_eq!(check("Wallpaper", &[Platform::Ios]), vec![Issue::NotOnPlatforms]);
}

#[test]
fn versions_compare_numerically() {
    assert_eq!(compare_versions("9.3.2", "10.0"), Ordering::Less);
    assert_eq!(compare_versions("17.0", "17"), Ordering::Equal);
    assert_eq!(compare_versions("26.1", "26.0.9"), Ordering::Greater);
}

#[test]
fn platforms_parse_in_any_case() {
    assert_eq!(Platform::parse("ipados"), Some(Platform::IpadOs));
    assert_eq!(Platform::parse("watchOS"), None);
    for p in Platform::ALL {
        assert_eq!(Platform::parse(p.name()), Some(*p));
    }
}

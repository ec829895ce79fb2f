use super::*;

#[test]
fn serial_is_trimmed_unquoted_and_upper_cased() {
    let s = Serial::parse("  \"c02xk1abcd12\" \r").unwrap();
    assert_eq!(s.as_str(), "C02XK1ABCD12");
    assert_eq!(s, Serial::parse("C02XK1ABCD12").unwrap());
    assert_eq!(s.to_string(), "C02XK1ABCD12");
    assert_eq!(s, "c02xk1abcd12");
}

#[test]
fn serial_refuses_what_no_serial_holds() {
    assert_eq!(Serial::parse("  "), Err(IdError::Empty { what: "serial number" }));
    assert!(matches!(Serial::parse("C02 XK1"), Err(IdError::BadCharacter { found: ' ', .. })));
    assert!(matches!(
        Serial::parse("C02\u{202e}XK1"),
        Err(IdError::BadCharacter { found: '\u{202e}', .. })
    ));
    let long = "A".repeat(SERIAL_MAX + 1);
    assert!(matches!(Serial::parse(&long), Err(IdError::TooLong { len: 33, max: 32, .. })));
    let msg = Serial::parse("C02-XK1").unwrap_err().to_string();
    assert!(msg.contains("letters and digits only") && msg.contains("remove it"), "{msg}");
}

#[test]
fn udid_keeps_the_device_case_and_matches_any_case() {
    for form in [
        "663b07bb783e9ade1dae4fbb92ea12afc0ce5b69",
        "00008030-001A2C3E0A12802E",
        "66ADE930-5FDF-5EC4-8429-15640684C489",
    ] {
        let u = Udid::parse(&format!(" {form}\n")).unwrap();
        assert_eq!(u.as_str(), form);
        assert_eq!(u, Udid::parse(&form.to_ascii_uppercase()).unwrap());
        assert_eq!(u, Udid::parse(&form.to_ascii_lowercase()).unwrap());
        assert_eq!(u.key(), form.to_ascii_uppercase());
    }
    use std::hash::BuildHasher;
    let state = std::collections::hash_map::RandomState::new();
    let (a, b) = (Udid::parse("ab-12").unwrap(), Udid::parse("AB-12").unwrap());
    assert_eq!(state.hash_one(&a), state.hash_one(&b));
    assert_eq!(a.cmp(&b), Ordering::Equal);
}

#[test]
fn udid_refuses_long_or_strange_text() {
    assert!(matches!(Udid::parse(&"A".repeat(3000)), Err(IdError::TooLong { len: 3000, .. })));
    assert!(matches!(
        Udid::parse("\u{202e}00008030-001A2C3E0A12802E"),
        Err(IdError::BadCharacter { found: '\u{202e}', .. })
    ));
    assert!(matches!(Udid::parse("a/b"), Err(IdError::BadCharacter { found: '/', .. })));
    assert_eq!(Udid::parse(""), Err(IdError::Empty { what: "UDID" }));
}

#[test]
fn serde_is_the_plain_string_and_reads_any_stored_value() {
    let s = Serial::parse("C1").unwrap();
    assert_eq!(serde_json::to_string(&s).unwrap(), "\"C1\"");
    let u = Udid::parse("663b07bb783e9ade1dae4fbb92ea12afc0ce5b69").unwrap();
    assert_eq!(serde_json::to_string(&u).unwrap(), "\"663b07bb783e9ade1dae4fbb92ea12afc0ce5b69\"");
    // Stored by an older adebox that normalised less: read back exactly, never refused.
    let old: Serial = serde_json::from_str("\" c1 \"").unwrap();
    assert_eq!(old.as_str(), " c1 ");
    let odd: Udid = serde_json::from_str("\"not a udid!\"").unwrap();
    assert_eq!(serde_json::to_string(&odd).unwrap(), "\"not a udid!\"");
}

#[test]
fn generated_token_ids_parse_back_unchanged() {
    for _ in 0..50 {
        let id = TokenId::generate();
        assert_eq!(id.as_str().len(), 8);
        assert_eq!(TokenId::parse(id.as_str()).unwrap(), id);
    }
}

#[test]
fn token_id_parse_refuses_what_cannot_be_an_id() {
    assert!(matches!(TokenId::parse("  "), Err(IdError::Empty { what: "token id" })));
    assert!(matches!(TokenId::parse("oCaG/2Svw"), Err(IdError::BadCharacter { found: '/', .. })));
    assert!(matches!(TokenId::parse(&"a".repeat(65)), Err(IdError::TooLong { .. })));
    assert_eq!(TokenId::parse(" oCaG2S-_ ").unwrap().as_str(), "oCaG2S-_");
    // Case-sensitive: base64url ids differing in case are different tokens.
    assert_ne!(TokenId::parse("abc").unwrap(), TokenId::parse("ABC").unwrap());
}

#[test]
fn token_id_serialises_as_the_plain_stored_string() {
    let id: TokenId = serde_json::from_str("\"any stored/text\"").unwrap();
    assert_eq!(id.as_str(), "any stored/text");
    assert_eq!(serde_json::to_string(&id).unwrap(), "\"any stored/text\"");
}

#[test]
fn profile_ids_are_generated_and_parsed_like_token_ids() {
    let id = ProfileId::generate();
    assert_eq!(id.as_str().len(), 8);
    assert_eq!(ProfileId::parse(&format!(" {id} ")).unwrap(), id);
    assert!(matches!(ProfileId::parse(""), Err(IdError::Empty { what: "profile id" })));
    assert!(matches!(ProfileId::parse("a/b"), Err(IdError::BadCharacter { found: '/', .. })));
    assert_ne!(ProfileId::parse("abc").unwrap(), ProfileId::parse("ABC").unwrap());
}

#[test]
fn profile_uuids_are_upper_cased_and_meet_stored_spellings_of_any_case() {
    let u = ProfileUuid::parse(" 4e2a2d4b2e8411eb9e0a0242ac130003\n").unwrap();
    assert_eq!(u.as_str(), "4E2A2D4B2E8411EB9E0A0242AC130003");
    let stored = ProfileUuid::from_stored("4e2a2d4b2e8411eb9e0a0242ac130003".into());
    assert_eq!(stored.as_str(), "4e2a2d4b2e8411eb9e0a0242ac130003", "stored bytes kept");
    assert_eq!(u, stored);
    let set: std::collections::HashSet<ProfileUuid> = [stored].into();
    assert!(set.contains(&u));
    assert!(ProfileUuid::parse("4E2A2D4B-2E84-11EB-9E0A-0242AC130003").is_ok(), "dashed form");
    assert!(matches!(
        ProfileUuid::parse("4E2A 2D4B"),
        Err(IdError::BadCharacter { found: ' ', .. })
    ));
    assert!(matches!(ProfileUuid::parse("XYZ"), Err(IdError::BadCharacter { found: 'X', .. })));
}

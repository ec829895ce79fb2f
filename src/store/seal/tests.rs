use super::*;

const FIELD: SecretField = SecretField::new("tokens.by_id", "credentials.access_secret");

fn sealer(byte: u8) -> Sealer {
    Sealer::new(&Secret::new([byte; crate::keys::KEY_LEN]))
}

fn secret(s: &str) -> Secret<String> {
    Secret::new(s.to_string())
}

#[test]
fn a_sealed_value_opens_where_it_was_sealed_and_shows_nothing_in_clear() {
    let s = sealer(1);
    let sealed = s.seal(FIELD, b"token-1", &secret("AS_0123456789abcdef"));
    assert_eq!(s.open(FIELD, b"token-1", &sealed).unwrap().expose(), "AS_0123456789abcdef");
    let json = serde_json::to_string(&sealed).unwrap();
    assert!(json.starts_with(r#"{"sealed":""#), "{json}");
    assert!(!json.contains("AS_0123"), "{json}");
    assert_eq!(format!("{sealed:?}"), "Sealed(..)");
    let again = s.seal(FIELD, b"token-1", &secret("AS_0123456789abcdef"));
    assert_ne!(sealed, again, "every value gets its own nonce");
    let back: Sealed = serde_json::from_str(&json).unwrap();
    assert_eq!(s.open(FIELD, b"token-1", &back).unwrap().expose(), "AS_0123456789abcdef");
}

#[test]
fn a_value_does_not_open_in_another_row_field_or_table() {
    let s = sealer(1);
    let sealed = s.seal(FIELD, b"token-1", &secret("secret"));
    let elsewhere = [
        (FIELD, b"token-2".as_slice()),
        (SecretField::new("tokens.by_id", "credentials.consumer_secret"), b"token-1"),
        (SecretField::new("tokens.pending_keys", "credentials.access_secret"), b"token-1"),
        // The parts' boundaries count: "a" + "bc" is not "ab" + "c".
        (SecretField::new("tokens.by_i", "dcredentials.access_secret"), b"token-1"),
    ];
    for (field, row) in elsewhere {
        let err = s.open(field, row, &sealed).unwrap_err().to_string();
        assert!(err.contains("belongs to another record") && err.contains(field.table()), "{err}");
    }
}

#[test]
fn another_key_or_a_changed_byte_is_refused() {
    let sealed = sealer(1).seal(FIELD, b"t", &secret("secret"));
    let err = sealer(2).open(FIELD, b"t", &sealed).unwrap_err().to_string();
    assert!(err.contains("another data key") && err.contains("restore"), "{err}");
    for i in 0..sealed.sealed.len() {
        let mut tampered = sealed.clone();
        tampered.sealed[i] ^= 0x01;
        assert!(sealer(1).open(FIELD, b"t", &tampered).is_err(), "byte {i} changed");
    }
    let short = Sealed { sealed: sealed.sealed[..20].to_vec() };
    let err = sealer(1).open(FIELD, b"t", &short).unwrap_err().to_string();
    assert!(err.contains("malformed"), "{err}");
    assert!(serde_json::from_str::<Sealed>(r#"{"sealed":"AA==","extra":1}"#).is_err());
    assert!(serde_json::from_str::<Sealed>(r#""in clear""#).is_err());
}

#[test]
fn the_key_check_tells_the_sealing_key_from_another() {
    let check = key_check(&sealer(1));
    assert!(key_fits(&sealer(1), &check));
    assert!(!key_fits(&sealer(2), &check));
}

#[test]
fn sealing_json_fields_seals_clear_values_once_and_leaves_the_rest() {
    let s = sealer(3);
    let mut record = serde_json::json!({
        "credentials": {"consumer_key": "CK_public", "access_secret": "AS_clear"},
        "key_pem": "-----BEGIN PRIVATE KEY-----",
        "unlock_token": null,
    });
    let paths = ["credentials.access_secret", "key_pem", "unlock_token", "absent.field"];
    assert!(seal_json_fields(&s, "tokens.by_id", &paths, b"row", &mut record));
    let text = record.to_string();
    assert!(!text.contains("AS_clear") && !text.contains("BEGIN"), "{text}");
    assert!(text.contains("CK_public") && record["unlock_token"].is_null(), "{text}");
    assert!(Sealed::is_sealed_json(&record["key_pem"]));
    let sealed: Sealed =
        serde_json::from_value(record["credentials"]["access_secret"].clone()).unwrap();
    let field = SecretField::new("tokens.by_id", "credentials.access_secret");
    assert_eq!(s.open(field, b"row", &sealed).unwrap().expose(), "AS_clear");
    let before = record.clone();
    assert!(!seal_json_fields(&s, "tokens.by_id", &paths, b"row", &mut record), "idempotent");
    assert_eq!(record, before);
}

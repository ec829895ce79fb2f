//! The LDAP settings' rules: every refusal names its field and the fix.

use super::*;

fn settings(url: &str) -> LdapSettings {
    serde_json::from_value(serde_json::json!({
        "url": url, "bind_dn": "cn=svc,dc=example,dc=org", "user_base": "ou=people,dc=example,dc=org"
    }))
    .unwrap()
}

fn field_of(s: LdapSettings, has_password: bool) -> Option<&'static str> {
    let mut s = s;
    match check(&mut s, has_password) {
        Ok(()) => None,
        Err(DirectoryError::Validation { field, message }) => {
            assert!(message.len() > 20, "{field}: {message}");
            Some(field)
        }
        Err(e) => panic!("{e}"),
    }
}

#[test]
fn defaults_read_active_directory_and_openldap_names() {
    let s = settings("ldaps://ldap.example.org");
    assert_eq!(s.user_filter, DEFAULT_USER_FILTER);
    assert_eq!(s.member_of_attribute, "memberOf");
    assert_eq!(
        s.endpoint().unwrap(),
        Endpoint { tls: true, host: "ldap.example.org".into(), port: 636 }
    );
    let plain = settings("ldap://10.0.0.5:3389/");
    assert_eq!(plain.endpoint().unwrap().port, 3389);
    assert_eq!(field_of(s, true), None);
}

#[test]
fn cleartext_needs_starttls_or_the_ticked_warning() {
    assert_eq!(field_of(settings("ldap://ldap.example.org"), true), Some("allow_plain_bind"));
    let mut s = settings("ldap://ldap.example.org");
    s.starttls = true;
    assert_eq!(field_of(s, true), None);
    let mut s = settings("ldap://ldap.example.org");
    s.allow_plain_bind = true;
    assert_eq!(field_of(s, true), None);
    let mut s = settings("ldaps://ldap.example.org");
    s.starttls = true;
    assert_eq!(field_of(s, true), Some("starttls"));
}

/// A change that breaks one field of otherwise valid settings.
type Breaks = Box<dyn Fn(&mut LdapSettings)>;

#[test]
fn each_field_is_checked() {
    let base = || settings("ldaps://ldap.example.org");
    let cases: Vec<(&str, Breaks)> = vec![
        ("url", Box::new(|s| s.url = "https://ldap.example.org".into())),
        ("url", Box::new(|s| s.url = "ldaps://ldap.example.org/dc=x?uid".into())),
        ("ca_pem", Box::new(|s| s.ca_pem = Some("not a certificate".into()))),
        ("user_base", Box::new(|s| s.user_base = " ".into())),
        ("bind_dn", Box::new(|s| s.bind_dn = "svc".into())),
        ("user_filter", Box::new(|s| s.user_filter = "(uid=alice)".into())),
        ("user_filter", Box::new(|s| s.user_filter = "(uid={username}".into())),
        ("mail_attribute", Box::new(|s| s.mail_attribute = "mail)(x".into())),
        (
            "group_filter",
            Box::new(|s| {
                s.group_base = Some("ou=groups,dc=example,dc=org".into());
                s.group_filter = "(objectClass=group)".into()
            }),
        ),
        ("connect_timeout_seconds", Box::new(|s| s.connect_timeout_seconds = 0)),
        ("operation_timeout_seconds", Box::new(|s| s.operation_timeout_seconds = 8)),
    ];
    for (field, change) in cases {
        let mut s = base();
        change(&mut s);
        assert_eq!(field_of(s, true), Some(field), "{field}");
    }
    assert_eq!(field_of(base(), false), Some("bind_password"));
    let mut anonymous = base();
    anonymous.bind_dn = String::new();
    assert_eq!(field_of(anonymous, false), None);
}

#[test]
fn a_typed_name_cannot_widen_the_filter() {
    let s = settings("ldaps://ldap.example.org");
    let f = client::user_filter_for_tests(&s, "*)(uid=*");
    assert!(!f.contains("*)(uid=*"), "{f}");
    assert!(f.contains("\\2a\\29\\28uid=\\2a"), "{f}");
}

/// The directory as `directory.ldap` kept it while its settings were also the API's type
/// reads back and is re-written byte for byte.
#[test]
fn a_stored_directory_keeps_its_bytes() {
    let stored = br#"{"v":1,"settings":{"url":"ldaps://ldap.example.org","starttls":false,"allow_plain_bind":false,"ca_pem":null,"bind_dn":"cn=svc,dc=example,dc=org","user_base":"ou=people,dc=example,dc=org","user_filter":"(uid={username})","display_name_attribute":"displayName","mail_attribute":"mail","member_of_attribute":"memberOf","group_base":null,"group_filter":"(member={dn})","group_name_attribute":"cn","connect_timeout_seconds":5,"operation_timeout_seconds":5},"bind_password":null,"updated_at":"2026-12-07T11:00:00Z"}"#;
    let r: LdapRecord = crate::store::decode("directory.ldap", stored).unwrap();
    assert_eq!((r.v, r.settings.user_filter.as_str()), (1, "(uid={username})"));
    assert_eq!(crate::store::encode(&r), stored.to_vec());
}

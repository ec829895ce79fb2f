use super::*;
use crate::profiles::model::{ProfileInput, parse};
use serde_json::json;

fn base() -> ProfileInput {
    normalise(
        parse(json!({
            "name": "Staff iPhones",
            "platforms": ["iOS", "iPadOS"],
            "supervised": true,
        }))
        .unwrap(),
    )
}

fn cert_pem() -> String {
    let key = rcgen::KeyPair::generate().unwrap();
    let params = rcgen::CertificateParams::new(vec!["configurator.example".into()]).unwrap();
    params.self_signed(&key).unwrap().pem()
}

fn errors_of(p: ProfileInput) -> Vec<String> {
    check(&normalise(p)).errors.into_iter().map(|e| e.field).collect()
}

type Case = (&'static str, fn(&mut ProfileInput), fn(&mut ProfileInput), &'static str);

/// Each rule: (name, a change that breaks it, a change that passes, the field at fault).
fn cases() -> Vec<Case> {
    vec![
        ("name required", |p| p.name = "  ".into(), |p| p.name = "A".into(), "name"),
        ("name ≤ 125", |p| p.name = "n".repeat(126), |p| p.name = "é".repeat(125), "name"),
        (
            "description ≤ 1000",
            |p| p.description = "d".repeat(1001),
            |p| p.description = "d".repeat(1000),
            "description",
        ),
        (
            "sign-in source offered",
            |p| p.sign_in.source = "kerberos".into(),
            |p| p.sign_in.source = "local".into(),
            "sign_in.source",
        ),
        (
            "only a pre-filled macOS account is locked",
            |p| p.sign_in.lock_macos_account = true,
            |p| {
                p.sign_in.lock_macos_account = true;
                p.sign_in.prefill_macos_account = true
            },
            "sign_in.lock_macos_account",
        ),
        (
            "allowed groups named",
            |p| p.sign_in.allowed_groups = vec!["  ".into()],
            |p| p.sign_in.allowed_groups = vec!["staff".into()],
            "sign_in.allowed_groups",
        ),
        (
            "platforms required",
            |p| p.platforms.clear(),
            |p| p.platforms = vec!["macOS".into()],
            "platforms",
        ),
        (
            "platform known",
            |p| p.platforms = vec!["Android".into()],
            |p| p.platforms = vec!["ios".into()],
            "platforms",
        ),
        (
            "user affinity known",
            |p| p.user_affinity = "maybe".into(),
            |p| p.user_affinity = "with_affinity".into(),
            "user_affinity",
        ),
        (
            "locked needs supervised",
            |p| {
                p.supervised = false;
                p.locked_enrollment = true
            },
            |p| p.locked_enrollment = true,
            "locked_enrollment",
        ),
        (
            "shared iPad needs supervised",
            |p| {
                p.supervised = false;
                p.shared_ipad = true
            },
            |p| p.shared_ipad = true,
            "shared_ipad",
        ),
        (
            "shared iPad without affinity",
            |p| {
                p.shared_ipad = true;
                p.user_affinity = "with_affinity".into()
            },
            |p| {
                p.shared_ipad = true;
                p.user_affinity = "shared_device".into()
            },
            "shared_ipad",
        ),
        (
            "shared iPad needs iPadOS",
            |p| {
                p.shared_ipad = true;
                p.platforms = vec!["iOS".into()]
            },
            |p| {
                p.shared_ipad = true;
                p.platforms = vec!["iPadOS".into()]
            },
            "shared_ipad",
        ),
        (
            "max cached users 1–32",
            |p| p.shared_ipad_settings.max_cached_users = Some(33),
            |p| p.shared_ipad_settings.max_cached_users = Some(32),
            "shared_ipad_settings.max_cached_users",
        ),
        (
            "max cached users ≥ 1",
            |p| p.shared_ipad_settings.max_cached_users = Some(0),
            |p| p.shared_ipad_settings.max_cached_users = Some(1),
            "shared_ipad_settings.max_cached_users",
        ),
        (
            "passcode grace choices",
            |p| p.shared_ipad_settings.passcode_lock_grace_s = Some(61),
            |p| p.shared_ipad_settings.passcode_lock_grace_s = Some(14400),
            "shared_ipad_settings.passcode_lock_grace_s",
        ),
        (
            "inactivity logout ≥ 30",
            |p| p.shared_ipad_settings.inactivity_logout_s = Some(29),
            |p| p.shared_ipad_settings.inactivity_logout_s = Some(30),
            "shared_ipad_settings.inactivity_logout_s",
        ),
        (
            "temporary inactivity ≥ 30",
            |p| p.shared_ipad_settings.temporary_session_inactivity_s = Some(5),
            |p| p.shared_ipad_settings.temporary_session_inactivity_s = Some(300),
            "shared_ipad_settings.temporary_session_inactivity_s",
        ),
        (
            "sync choice known",
            |p| p.sync_with_computers = "sometimes".into(),
            |p| p.sync_with_computers = "deny_all".into(),
            "sync_with_computers",
        ),
        (
            "certs only with allow_certificates",
            |p| p.supervising_host_certs = vec![cert_pem()],
            |p| {
                p.sync_with_computers = "allow_certificates".into();
                p.supervising_host_certs = vec![cert_pem()]
            },
            "supervising_host_certs",
        ),
        (
            "allow_certificates needs a cert",
            |p| p.sync_with_computers = "allow_certificates".into(),
            |p| {
                p.sync_with_computers = "allow_certificates".into();
                p.supervising_host_certs = vec![cert_pem()]
            },
            "supervising_host_certs",
        ),
        (
            "≤ 10 certs",
            |p| {
                p.sync_with_computers = "allow_certificates".into();
                p.supervising_host_certs = (0..11).map(|_| cert_pem()).collect()
            },
            |p| {
                p.sync_with_computers = "allow_certificates".into();
                p.supervising_host_certs = (0..10).map(|_| cert_pem()).collect()
            },
            "supervising_host_certs",
        ),
        (
            "certs parse",
            |p| {
                p.sync_with_computers = "allow_certificates".into();
                p.supervising_host_certs =
                    vec!["-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n".into()]
            },
            |p| {
                p.sync_with_computers = "allow_certificates".into();
                p.supervising_host_certs = vec![cert_pem()]
            },
            "supervising_host_certs.0",
        ),
        (
            "template placeholders known",
            |p| p.device_name_template = Some("{{NAME}}-x".into()),
            |p| p.device_name_template = Some("Lab-{{SERIAL}}".into()),
            "device_name_template",
        ),
        (
            "template ≤ 63 expanded",
            |p| p.device_name_template = Some("{{MODEL}} {{UDID}}".into()),
            |p| p.device_name_template = Some("{{MODEL}}-{{SERIAL}}".into()),
            "device_name_template",
        ),
        (
            "cellular URL https",
            |p| p.cellular_data_plan_url = Some("http://carrier.example/plan".into()),
            |p| p.cellular_data_plan_url = Some("https://carrier.example/plan".into()),
            "cellular_data_plan_url",
        ),
        (
            "cellular URL parses",
            |p| p.cellular_data_plan_url = Some("not a url".into()),
            |p| p.cellular_data_plan_url = Some("https://carrier.example".into()),
            "cellular_data_plan_url",
        ),
        (
            "cellular URL ≤ 2000",
            |p| p.cellular_data_plan_url = Some(format!("https://c.example/{}", "a".repeat(2000))),
            |p| p.cellular_data_plan_url = Some(format!("https://c.example/{}", "a".repeat(1900))),
            "cellular_data_plan_url",
        ),
        (
            "department ≤ 125",
            |p| p.department = Some("d".repeat(126)),
            |p| p.department = Some("d".repeat(125)),
            "department",
        ),
        (
            "phone ≤ 50",
            |p| p.support_phone_number = Some("1".repeat(51)),
            |p| p.support_phone_number = Some("1".repeat(50)),
            "support_phone_number",
        ),
        (
            "phone shape",
            |p| p.support_phone_number = Some("call Bob".into()),
            |p| p.support_phone_number = Some("+1 (408) 555-0100".into()),
            "support_phone_number",
        ),
        (
            "email ≤ 250",
            |p| p.support_email_address = Some(format!("{}@example.org", "a".repeat(240))),
            |p| p.support_email_address = Some(format!("{}@example.org", "a".repeat(230))),
            "support_email_address",
        ),
        (
            "email shape",
            |p| p.support_email_address = Some("help at example".into()),
            |p| p.support_email_address = Some("help@example.org".into()),
            "support_email_address",
        ),
        (
            "language ISO 639",
            |p| p.language = Some("english".into()),
            |p| p.language = Some("EN".into()),
            "language",
        ),
        (
            "region ISO 3166",
            |p| p.region = Some("USA".into()),
            |p| p.region = Some("us".into()),
            "region",
        ),
        (
            "minimum os platform",
            |p| p.minimum_os = Some([("Android".to_string(), "1.0".to_string())].into()),
            |p| p.minimum_os = Some([("iOS".to_string(), "17.0".to_string())].into()),
            "minimum_os.Android",
        ),
        (
            "minimum os version",
            |p| p.minimum_os = Some([("iOS".to_string(), "latest".to_string())].into()),
            |p| p.minimum_os = Some([("iOS".to_string(), "17.4.1".to_string())].into()),
            "minimum_os.iOS",
        ),
        (
            "pinned os version",
            |p| p.pinned_os = Some([("iOS".to_string(), "26.x".to_string())].into()),
            |p| p.pinned_os = Some([("iOS".to_string(), "26.2".to_string())].into()),
            "pinned_os.iOS",
        ),
        (
            "pinned os not below the minimum",
            |p| {
                p.minimum_os = Some([("iOS".to_string(), "26.1".to_string())].into());
                p.pinned_os = Some([("iOS".to_string(), "26.0.1".to_string())].into())
            },
            |p| {
                p.minimum_os = Some([("iOS".to_string(), "26.1".to_string())].into());
                p.pinned_os = Some([("iOS".to_string(), "26.1".to_string())].into())
            },
            "pinned_os.iOS",
        ),
        (
            "skip key known",
            |p| p.hidden_screens = vec!["Passcod".into()],
            |p| p.hidden_screens = vec!["Passcode".into()],
            "hidden_screens",
        ),
        (
            "skip key on a chosen platform",
            |p| p.hidden_screens = vec!["FileVault".into()],
            |p| {
                p.platforms.push("macOS".into());
                p.hidden_screens = vec!["FileVault".into()]
            },
            "hidden_screens",
        ),
    ]
}

#[test]
fn every_rule_has_a_failing_and_a_passing_case() {
    assert!(errors_of(base()).is_empty(), "the base profile is valid: {:?}", check(&base()));
    for (name, fail, pass, field) in cases() {
        let mut p = base();
        fail(&mut p);
        let errors = errors_of(p);
        assert!(
            errors.iter().any(|f| f == field),
            "{name}: expected an error on {field}, got {errors:?}"
        );
        let mut p = base();
        pass(&mut p);
        let errors = errors_of(p);
        assert!(errors.is_empty(), "{name}: the passing case has errors {errors:?}");
    }
}

#[test]
fn removed_skip_key_is_an_error_and_deprecated_one_a_warning() {
    let removed = skipkeys::all()
        .iter()
        .find(|k| k.ios.is_some_and(|a| a.removed.is_some()))
        .expect("Apple removed some iOS screen");
    let deprecated = skipkeys::all()
        .iter()
        .find(|k| k.ios.is_some_and(|a| a.deprecated.is_some() && a.removed.is_none()))
        .expect("Apple deprecated some iOS screen");
    let mut p = base();
    p.platforms = vec!["iOS".into()];
    p.hidden_screens = vec![removed.key.into()];
    assert_eq!(check(&p).errors[0].field, "hidden_screens");
    p.hidden_screens = vec![deprecated.key.into()];
    let r = check(&p);
    assert!(r.errors.is_empty(), "{r:?}");
    assert_eq!(r.warnings[0].field, "hidden_screens");
}

#[test]
fn reports_every_error_at_once() {
    let mut p = base();
    p.name = String::new();
    p.region = Some("xx1".into());
    p.locked_enrollment = true;
    p.supervised = false;
    assert_eq!(errors_of(p), ["name", "locked_enrollment", "region"]);
}

#[test]
fn normalise_trims_folds_codes_and_drops_duplicates() {
    let p = normalise(
        parse(json!({"name": "  P ", "platforms": ["ios", "iOS"], "language": " DE ",
            "region": "de", "department": "  ", "hidden_screens": ["Siri", "Siri"]}))
        .unwrap(),
    );
    assert_eq!(p.name, "P");
    assert_eq!(p.platforms, ["iOS"]);
    assert_eq!((p.language.as_deref(), p.region.as_deref()), (Some("de"), Some("DE")));
    assert_eq!(p.department, None);
    assert_eq!(p.hidden_screens, ["Siri"]);
}

#[test]
fn parse_refuses_unknown_and_mistyped_fields_each_on_its_field() {
    let e = parse(
        json!({"name": "x", "is_mdm_removable": false, "supervised": "yes", "id": "ignored"}),
    )
    .unwrap_err();
    let fields: Vec<_> = e.iter().map(|i| i.field.as_str()).collect();
    assert_eq!(fields, ["is_mdm_removable", "supervised"]);
    let p = parse(json!({"name": "x", "id": "p1", "revision": 3, "device_name_template": null}))
        .unwrap();
    assert!(p.await_device_configured, "new profiles await configuration by default");
}

#[test]
fn expanded_length_counts_the_longest_values() {
    assert_eq!(expanded_len("iPad-{{SERIAL}}"), 5 + 12);
    assert_eq!(expanded_len("{{UDID}}"), 40);
}

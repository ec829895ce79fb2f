//! The bootstrap token (`../shared/spec/apple-2026.md` §3) over real TLS: escrowed with
//! `SetBootstrapToken`, returned verbatim by `GetBootstrapToken`, sealed at rest, shown on the
//! device page as "escrowed" (never the token), kept across a re-enrollment, refused over
//! 64 KiB without losing the stored one, deleted at CheckOut. The check-ins are checked
//! against Apple's schemas on macOS 15, and on iOS and visionOS 26, where Apple's 26
//! documentation adds them and the project's overlay says so (§3.1).

use crate::common::*;
use crate::mdm::{appliance_ca, authenticate, identity, put, tls_client};
use base64ct::{Base64, Encoding};
use plist::{Dictionary, Value};
use reqwest::StatusCode;

const UDID: &str = "0000FE00-B007";
const SERIAL: &str = "SER0000FE00B007";

fn check_in(message_type: &str, token: Option<&[u8]>) -> Vec<u8> {
    let mut d = Dictionary::new();
    d.insert("MessageType".into(), message_type.into());
    d.insert("UDID".into(), UDID.into());
    d.insert("AwaitingConfiguration".into(), true.into());
    if let Some(t) = token {
        d.insert("BootstrapToken".into(), Value::Data(t.to_vec()));
    }
    let mut out = Vec::new();
    Value::Dictionary(d).to_writer_xml(&mut out).unwrap();
    out
}

/// The token a `GetBootstrapToken` answer carries (empty when none).
fn token_of(answer: &str) -> Vec<u8> {
    if answer.is_empty() {
        return Vec::new();
    }
    let v = Value::from_reader_xml(answer.as_bytes()).unwrap();
    match v.as_dictionary().unwrap().get("BootstrapToken") {
        Some(Value::Data(d)) => d.clone(),
        None => Vec::new(),
        Some(other) => panic!("BootstrapToken is not data: {other:?}"),
    }
}

fn schema_check(bodies: &[&[u8]]) {
    let Some(dir) = adebox::fixtures::dir() else {
        eprintln!("notice: ../shared/fixtures absent; schema check skipped");
        return;
    };
    let schemas = device_schema::Schemas::from_fixtures(&dir).unwrap();
    use device_schema::{Context, Os};
    let at = |os, version| Context::device(os).at(version);
    for body in bodies {
        let v = Value::from_reader_xml(*body).unwrap();
        for ctx in [at(Os::MacOs, "15.0"), at(Os::Ios, "26.0"), at(Os::VisionOs, "26.0")] {
            if let Err(found) = schemas.check_check_in(&v, &ctx) {
                panic!("{ctx:?}: {found}");
            }
        }
        // Before 26 an iPhone has no bootstrap token: the check knows the version.
        assert!(schemas.check_check_in(&v, &at(Os::Ios, "18.1")).is_err());
    }
}

#[tokio::test]
async fn the_bootstrap_token_round_trips_sealed_and_leaves_at_check_out() {
    let d = TestDaemon::start().await;
    let page = d.setup_admin().await;
    let ca = appliance_ca(&d);
    let id = identity(&d, &ca, Some(UDID)).await;
    let device = tls_client(&d, &id);
    let url = || d.url("/mdm/checkin");
    let (s, body) = put(&device, url(), authenticate(UDID), None).await;
    assert_eq!(s, StatusCode::OK, "{body}");

    // None yet: still 200, with no token (§3.2).
    let (s, answer) = put(&device, url(), check_in("GetBootstrapToken", None), None).await;
    assert_eq!((s, token_of(&answer)), (StatusCode::OK, vec![]));

    let token: Vec<u8> = (0..4000u32).map(|i| (i * 7 % 251) as u8).collect();
    let set = check_in("SetBootstrapToken", Some(&token));
    let get = check_in("GetBootstrapToken", None);
    schema_check(&[&set, &get]);
    let (s, answer) = put(&device, url(), set, None).await;
    assert_eq!((s, answer.as_str()), (StatusCode::OK, ""));
    let (s, answer) = put(&device, url(), get.clone(), None).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(token_of(&answer), token, "the exact bytes come back");

    // The page says "escrowed", never the token; the store holds it sealed.
    let (s, mdm) = page.get(&format!("/api/v1/devices/{SERIAL}/mdm")).await;
    assert_eq!(s, StatusCode::OK, "{mdm}");
    assert!(mdm["bootstrap_token"]["escrowed_at"].is_string(), "{mdm}");
    assert_eq!(mdm["bootstrap_token"]["awaiting_configuration"], true);
    let b64 = Base64::encode_string(&token);
    assert!(!mdm.to_string().contains(&b64[..40]));
    let raw = std::fs::read(d.data_dir().join(adebox::store::FILE_NAME)).unwrap();
    assert!(!raw.windows(64).any(|w| w == &token[..64]), "not in clear at rest");
    assert!(!raw.windows(64).any(|w| w == &b64.as_bytes()[..64]), "not in base64 at rest");

    // Over 64 KiB: refused with the limit named; the stored token stays.
    let (s, answer) =
        put(&device, url(), check_in("SetBootstrapToken", Some(&vec![7; 64 * 1024 + 1])), None)
            .await;
    assert!(s.is_client_error() && answer.contains("65536"), "{s} {answer}");
    assert_eq!(token_of(&put(&device, url(), get.clone(), None).await.1), token);

    // A re-enrollment (Return to Service, §2.6) keeps it; CheckOut deletes it.
    put(&device, url(), authenticate(UDID), None).await;
    assert_eq!(token_of(&put(&device, url(), get.clone(), None).await.1), token);
    let checkout = check_in("CheckOut", None);
    let (s, _) = put(&device, url(), checkout, None).await;
    assert_eq!(s, StatusCode::OK);
    let (_, mdm) = page.get(&format!("/api/v1/devices/{SERIAL}/mdm")).await;
    assert_eq!(mdm["bootstrap_token"], serde_json::Value::Null, "{mdm}");
    let (s, _) = put(&device, url(), get, None).await;
    assert_eq!(s, StatusCode::FORBIDDEN, "a checked-out device must enroll again");

    // An empty SetBootstrapToken deletes a stored token.
    put(&device, url(), authenticate(UDID), None).await;
    put(&device, url(), check_in("SetBootstrapToken", Some(b"again")), None).await;
    put(&device, url(), check_in("SetBootstrapToken", Some(b"")), None).await;
    let (_, answer) = put(&device, url(), check_in("GetBootstrapToken", None), None).await;
    assert_eq!(token_of(&answer), Vec::<u8>::new());
}

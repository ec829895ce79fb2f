//! The MDM device routes over real TLS: which identities are accepted and how refusals look.
//! Devices are never answered 401 (spec enrollment.md §4.1). The whole enrollment, released,
//! runs in `fleet.rs`.

use crate::common::*;
use adebox::acme::IssuedTo;
use adebox::crypto::ca::{Authority, Issued, pem_to_der};
use adebox::crypto::cms::{CmsEncoding, SignOptions, SignerKey, sign_detached};
use base64ct::{Base64, Encoding};
use reqwest::{Client, StatusCode};
use sha2::{Digest, Sha256};

pub(crate) const CHECKIN: &str = "application/x-apple-aspen-mdm-checkin";

pub(crate) fn authenticate(udid: &str) -> Vec<u8> {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><plist version=\"1.0\"><dict>\
         <key>MessageType</key><string>Authenticate</string>\
         <key>Topic</key><string>com.apple.mgmt.External.x</string>\
         <key>UDID</key><string>{udid}</string></dict></plist>"
    )
    .into_bytes()
}

/// An identity issued by `ca` and, when `udid` is given, recorded as ACME records its own.
pub(crate) async fn identity(d: &TestDaemon, ca: &Authority, udid: Option<&str>) -> Issued {
    let now = adebox::clock::Clock::system().now();
    let id = ca
        .issue_client("device", now - time::Duration::hours(1), time::Duration::days(30))
        .unwrap();
    if let Some(udid) = udid {
        let sha = hex::encode(Sha256::digest(pem_to_der(&id.cert_pem).unwrap()));
        let to = IssuedTo {
            cert_id: sha.clone(),
            serial: adebox::ids::Serial::parse(&format!("SER{}", udid.replace('-', ""))).unwrap(),
            udid: adebox::ids::Udid::parse(udid).unwrap(),
            not_after: id.not_after,
            revoked: None,
        };
        d.running()
            .services
            .store
            .write(move |wtx| {
                let mut t = wtx.open_table(adebox::acme::records::CERT_BY_HASH)?;
                adebox::store::put(&mut t, sha.as_bytes(), &to)?;
                Ok::<_, adebox::store::StoreError>(())
            })
            .await
            .unwrap();
    }
    id
}

pub(crate) fn appliance_ca(d: &TestDaemon) -> Authority {
    let ca = d.running().services.tls.ca();
    Authority::from_pem(ca.cert_pem(), ca.key_pem().expose()).unwrap()
}

pub(crate) fn tls_client(d: &TestDaemon, id: &Issued) -> Client {
    adebox::outbound::ensure_crypto_provider();
    let pem = format!("{}\n{}", id.cert_pem, id.key_pem.expose());
    Client::builder()
        .tls_certs_only([reqwest::Certificate::from_pem(&d.ca_pem()).unwrap()])
        .identity(reqwest::Identity::from_pem(pem.as_bytes()).unwrap())
        .build()
        .unwrap()
}

fn signature(id: &Issued, body: &[u8]) -> String {
    let key = SignerKey::from_pkcs8_pem(id.key_pem.expose()).unwrap();
    let opts = SignOptions {
        encoding: CmsEncoding::Ber,
        digest: adebox::crypto::sigverify::Digest::Sha1,
        signed_attributes: false,
        signing_time: None,
    };
    let sig = sign_detached(body, &pem_to_der(&id.cert_pem).unwrap(), &[], &key, &opts).unwrap();
    Base64::encode_string(&sig)
}

pub(crate) async fn put(
    client: &Client,
    url: String,
    body: Vec<u8>,
    sig: Option<String>,
) -> (StatusCode, String) {
    let mut req = client.put(url).header("Content-Type", CHECKIN).body(body);
    if let Some(s) = sig {
        req = req.header("Mdm-Signature", s);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status();
    (status, resp.text().await.unwrap())
}

#[tokio::test]
async fn a_device_with_its_own_identity_checks_in_over_tls_or_mdm_signature() {
    let d = TestDaemon::start().await;
    let ca = appliance_ca(&d);
    let id = identity(&d, &ca, Some("UDID-A")).await;
    let (s, body) =
        put(&tls_client(&d, &id), d.url("/mdm/checkin"), authenticate("UDID-A"), None).await;
    assert_eq!(s, StatusCode::OK, "{body}");
    // Without a TLS client certificate, a valid Mdm-Signature proves the same identity.
    let msg = authenticate("udid-a");
    let sig = signature(&id, &msg);
    let (s, body) = put(&d.client(), d.url("/mdm/checkin"), msg, Some(sig)).await;
    assert_eq!(s, StatusCode::OK, "{body}");
    // Both at once must be the same certificate.
    let other = identity(&d, &ca, Some("UDID-A")).await;
    let msg = authenticate("UDID-A");
    let sig = signature(&other, &msg);
    let (s, body) = put(&tls_client(&d, &id), d.url("/mdm/checkin"), msg, Some(sig)).await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{body}");
    assert!(body.contains("identity_mismatch"), "{body}");
}

#[tokio::test]
async fn refusals_are_400_or_403_never_401() {
    let d = TestDaemon::start().await;
    let ca = appliance_ca(&d);
    let mine = identity(&d, &ca, Some("UDID-A")).await;
    let theirs = identity(&d, &ca, Some("UDID-B")).await;
    let unrecorded = identity(&d, &ca, None).await;
    let now = adebox::clock::Clock::system().now();
    let foreign_ca =
        Authority::generate("Another CA", now - time::Duration::hours(2), time::Duration::days(30))
            .unwrap();
    let foreign = identity(&d, &foreign_ca, None).await;
    let url = || d.url("/mdm/checkin");

    // No certificate at all.
    let (s, body) = put(&d.client(), url(), authenticate("UDID-A"), None).await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{body}");
    // Another device's certificate.
    let (s, body) = put(&tls_client(&d, &theirs), url(), authenticate("UDID-A"), None).await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{body}");
    assert!(body.contains("identity_for_another_device"), "{body}");
    // A certificate of our CA that was never issued to a device.
    let (s, body) = put(&tls_client(&d, &unrecorded), url(), authenticate("UDID-A"), None).await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{body}");
    // A certificate from another CA: refused in the TLS handshake, or by Mdm-Signature.
    let r = tls_client(&d, &foreign).put(url()).body(authenticate("UDID-A")).send().await;
    assert!(r.is_err() || r.unwrap().status() == StatusCode::FORBIDDEN);
    let msg = authenticate("UDID-A");
    let sig = signature(&foreign, &msg);
    let (s, body) = put(&d.client(), url(), msg, Some(sig)).await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{body}");
    // A body altered after signing.
    let sig = signature(&mine, &authenticate("UDID-A"));
    let (s, body) = put(&d.client(), url(), authenticate("UDID-B"), Some(sig)).await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{body}");
    assert!(body.contains("mdm_signature_invalid"), "{body}");
    // Malformed, unknown and huge messages.
    let client = tls_client(&d, &mine);
    let (s, _) = put(&client, url(), b"not a plist".to_vec(), None).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    let unknown =
        String::from_utf8(authenticate("UDID-A")).unwrap().replace("Authenticate", "GetToken");
    let (s, body) = put(&client, url(), unknown.into_bytes(), None).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{body}");
    let (s, _) = put(&client, url(), vec![b' '; 200_000], None).await;
    assert_eq!(s, StatusCode::PAYLOAD_TOO_LARGE);
    // Polling before Authenticate.
    let idle = b"<plist version=\"1.0\"><dict><key>UDID</key><string>UDID-A</string><key>Status</key><string>Idle</string></dict></plist>".to_vec();
    let (s, _) = put(&client, d.url("/mdm/connect"), idle, None).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn the_device_page_api_queues_commands_and_shows_their_results() {
    let d = TestDaemon::start().await;
    let page = d.setup_admin().await;
    let ca = appliance_ca(&d);
    let id = identity(&d, &ca, Some("UDID-P")).await;
    let device = tls_client(&d, &id);
    let (s, _) = page.get("/api/v1/devices/SERUDIDP/mdm").await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, _) = put(&device, d.url("/mdm/checkin"), authenticate("UDID-P"), None).await;
    assert_eq!(s, StatusCode::OK);

    let (s, v) = page.post("/api/v1/devices/SERUDIDP/mdm/refresh", serde_json::json!({})).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let uuid = v["command_uuid"].as_str().unwrap().to_string();
    let idle = "<plist version=\"1.0\"><dict><key>UDID</key><string>UDID-P</string><key>Status</key><string>Idle</string></dict></plist>";
    let (s, cmd) = put(&device, d.url("/mdm/connect"), idle.into(), None).await;
    assert_eq!(s, StatusCode::OK);
    assert!(cmd.contains("DeviceInformation") && cmd.contains(&uuid), "{cmd}");
    let ack = format!(
        "<plist version=\"1.0\"><dict><key>UDID</key><string>UDID-P</string><key>Status</key>\
         <string>Acknowledged</string><key>CommandUUID</key><string>{uuid}</string>\
         <key>QueryResponses</key><dict><key>OSVersion</key><string>18.1</string></dict></dict></plist>"
    );
    let (s, next) = put(&device, d.url("/mdm/connect"), ack.into_bytes(), None).await;
    assert_eq!((s, next.as_str()), (StatusCode::OK, ""));
    let (s, v) = page.get("/api/v1/devices/SERUDIDP/mdm").await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["commands"][0]["state"], "acknowledged");
    // A serial typed in lower case is the same device; text that is no serial says why.
    let (s, lower) = page.get("/api/v1/devices/serudidp/mdm").await;
    assert_eq!((s, &lower["serial"]), (StatusCode::OK, &v["serial"]), "{lower}");
    let (s, bad) = page.get("/api/v1/devices/SER%20UDIDP/mdm").await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{bad}");
    assert!(bad["message"].as_str().unwrap().contains("letters and digits only"), "{bad}");
    assert_eq!(bad["field"], "serial", "{bad}");
    let (s, bad) =
        page.post("/api/v1/devices/SER%20UDIDP/mdm/refresh", serde_json::json!({})).await;
    assert_eq!(
        (s, &bad["field"]),
        (StatusCode::BAD_REQUEST, &serde_json::json!("serial")),
        "{bad}"
    );
    assert_eq!(v["commands"][0]["result"]["QueryResponses"]["OSVersion"], "18.1");

    let (s, v) =
        page.post("/api/v1/devices/SERUDIDP/mdm/rename", serde_json::json!({"name": ""})).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    let (s, v) = page
        .post("/api/v1/devices/SERUDIDP/mdm/erase", serde_json::json!({"confirm": "yes"}))
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    let (s, v) = page
        .post("/api/v1/devices/SERUDIDP/mdm/erase", serde_json::json!({"confirm": "SERUDIDP"}))
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let (s, v) = page.post("/api/v1/devices/SERUDIDP/mdm/release", serde_json::json!({})).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let (_, audit) = page.get("/api/v1/audit?action=mdm.erase").await;
    let outcomes: Vec<_> =
        audit["items"].as_array().unwrap().iter().map(|e| e["outcome"].clone()).collect();
    assert_eq!(outcomes, [serde_json::json!("success"), serde_json::json!("failure")], "{audit}");
}

//! The enrollment profile served at the profile URL (../shared/spec/enrollment.md §2.7):
//! root payload (the appliance CA), ACME identity payload (HardwareBound + Attest, P-384) and
//! `com.apple.mdm` with the pinning UUIDs.
//!
//! Interim: `apple::mobileconfig` (its own branch) owns the payload builder, `choose_identity`
//! (ACME or SCEP per device) and the response shapes; when it lands this file shrinks to a
//! call to it. Until then every device gets the ACME variant, and the push `Topic` is
//! [`super::PLACEHOLDER_PUSH_TOPIC`] until push certificates exist.

use plist::{Dictionary, Value};

/// What goes into one device's profile.
pub struct ProfileInputs<'a> {
    pub ca_der: &'a [u8],
    pub acme_directory: String,
    pub client_identifier: &'a str,
    pub server_url: String,
    pub checkin_url: String,
    pub topic: &'a str,
    pub org: &'a str,
}

const IDENTIFIER: &str = "org.adebox.enroll";

/// The profile plist (XML).
pub fn build(i: &ProfileInputs<'_>) -> Vec<u8> {
    let (root_uuid, acme_uuid, mdm_uuid) = (uuid(), uuid(), uuid());
    let root = payload(
        "com.apple.security.root",
        "root",
        &root_uuid,
        [
            ("PayloadCertificateFileName", Value::from("adebox-ca.cer")),
            ("PayloadContent", Value::Data(i.ca_der.to_vec())),
            ("PayloadDisplayName", Value::from("adebox appliance CA")),
        ],
    );
    let subject = Value::Array(vec![
        Value::Array(vec![Value::Array(vec!["O".into(), i.org.into()])]),
        Value::Array(vec![Value::Array(vec!["CN".into(), i.client_identifier.into()])]),
    ]);
    let acme = payload(
        "com.apple.security.acme",
        "acme",
        &acme_uuid,
        [
            ("DirectoryURL", Value::from(i.acme_directory.as_str())),
            ("ClientIdentifier", Value::from(i.client_identifier)),
            ("KeyType", Value::from("ECSECPrimeRandom")),
            ("KeySize", Value::from(384)),
            ("HardwareBound", Value::Boolean(true)),
            ("Attest", Value::Boolean(true)),
            ("Subject", subject),
            ("UsageFlags", Value::from(1)),
            ("ExtendedKeyUsage", Value::Array(vec!["1.3.6.1.5.5.7.3.2".into()])),
        ],
    );
    let pins = Value::Array(vec![root_uuid.as_str().into()]);
    let mdm = payload(
        "com.apple.mdm",
        "mdm",
        &mdm_uuid,
        [
            ("IdentityCertificateUUID", Value::from(acme_uuid.as_str())),
            ("Topic", Value::from(i.topic)),
            ("ServerURL", Value::from(i.server_url.as_str())),
            ("CheckInURL", Value::from(i.checkin_url.as_str())),
            ("SignMessage", Value::Boolean(true)),
            ("AccessRights", Value::from(8191)),
            ("CheckOutWhenRemoved", Value::Boolean(true)),
            ("ServerURLPinningCertificateUUIDs", pins.clone()),
            ("CheckInURLPinningCertificateUUIDs", pins),
        ],
    );
    let mut top = Dictionary::new();
    top.insert("PayloadType".into(), "Configuration".into());
    top.insert("PayloadVersion".into(), 1.into());
    top.insert("PayloadIdentifier".into(), IDENTIFIER.into());
    top.insert("PayloadUUID".into(), uuid().into());
    top.insert("PayloadDisplayName".into(), format!("{} device management", i.org).into());
    top.insert("PayloadOrganization".into(), i.org.into());
    top.insert("PayloadContent".into(), Value::Array(vec![root, acme, mdm]));
    let mut out = Vec::new();
    Value::Dictionary(top)
        .to_writer_xml(&mut out)
        .expect("a plist of strings, numbers and data serializes to memory");
    out
}

fn payload<const N: usize>(
    kind: &str,
    suffix: &str,
    uuid: &str,
    keys: [(&str, Value); N],
) -> Value {
    let mut d = Dictionary::new();
    d.insert("PayloadType".into(), kind.into());
    d.insert("PayloadVersion".into(), 1.into());
    d.insert("PayloadIdentifier".into(), format!("{IDENTIFIER}.{suffix}").into());
    d.insert("PayloadUUID".into(), uuid.into());
    for (k, v) in keys {
        d.insert(k.into(), v);
    }
    Value::Dictionary(d)
}

/// A random (version 4) UUID, upper case as Apple writes them.
fn uuid() -> String {
    let mut b = crate::crypto::random_bytes::<16>();
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = hex::encode_upper(b);
    format!("{}-{}-{}-{}-{}", &h[..8], &h[8..12], &h[12..16], &h[16..20], &h[20..])
}

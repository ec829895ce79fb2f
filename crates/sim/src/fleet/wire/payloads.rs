//! The payloads of [`super::profile`], each type beside its reader: one per payload type a
//! device installs (Apple's `CommonPayloadKeys.yaml`, `com.apple.security.root.yaml` /
//! `.pem.yaml`, `com.apple.security.acme.yaml`, `com.apple.security.scep.yaml`,
//! `com.apple.mdm.yaml`), each reading every key Apple documents with its type and refusing
//! the rest, plus the value rules a device enforces (key sizes, https URLs, the push topic
//! prefix). A leaf: [`super::profile`] reads the profile around them and re-exports the types.

use super::{Fields, WireError, as_string, join};
use plist::Value;

/// One payload the device installs.
#[derive(Clone, Debug)]
pub enum Payload {
    Certificate(Certificate),
    Acme(Acme),
    Scep(Scep),
    Mdm(Mdm),
}

/// The keys every payload has (`CommonPayloadKeys.yaml`).
#[derive(Clone, Debug)]
pub struct Common {
    pub payload_type: String,
    pub identifier: String,
    pub uuid: String,
    pub display_name: Option<String>,
}

/// `com.apple.security.root` / `.pem`: a certificate to trust (§2.4).
#[derive(Clone, Debug)]
pub struct Certificate {
    pub common: Common,
    pub der: Vec<u8>,
}

/// An X.500 name as profiles write it: RDNs of (OID or short name, value) pairs.
pub type Subject = Vec<Vec<(String, String)>>;

/// `com.apple.security.acme` (§2.3).
#[derive(Clone, Debug)]
pub struct Acme {
    pub common: Common,
    pub directory_url: String,
    pub client_identifier: String,
    pub key_type: String,
    pub key_size: i64,
    pub hardware_bound: bool,
    pub attest: bool,
    pub subject: Subject,
}

/// `com.apple.security.scep` (§2.5): the keys of its inner `PayloadContent`.
#[derive(Clone, Debug)]
pub struct Scep {
    pub common: Common,
    pub url: String,
    pub challenge: Option<String>,
    pub subject: Subject,
    pub key_size: Option<i64>,
}

/// `com.apple.mdm` (§2.2).
#[derive(Clone, Debug)]
pub struct Mdm {
    pub common: Common,
    pub identity_certificate_uuid: String,
    pub topic: String,
    pub server_url: String,
    /// `CheckInURL`, or the ServerURL when absent (as Apple's schema says).
    pub check_in_url: String,
    pub sign_message: bool,
    pub server_capabilities: Vec<String>,
    pub pinning_uuids: Vec<String>,
}

fn https(f: &Fields, key: &str, url: String) -> Result<String, WireError> {
    match url.strip_prefix("https://") {
        Some(rest) if !rest.is_empty() => Ok(url),
        _ => Err(WireError::invalid(f.path(key), format!("{url:?} is not an https URL"))),
    }
}

/// `PayloadDescription`, `PayloadDisplayName`, `PayloadOrganization` (strings, optional).
pub(super) fn texts(f: &mut Fields) -> Result<[Option<String>; 3], WireError> {
    Ok([
        f.opt_string("PayloadDescription")?,
        f.opt_string("PayloadDisplayName")?,
        f.opt_string("PayloadOrganization")?,
    ])
}

pub(super) fn version_one(f: &mut Fields) -> Result<(), WireError> {
    match f.integer("PayloadVersion")? {
        1 => Ok(()),
        v => Err(WireError::invalid(f.path("PayloadVersion"), format!("{v}, only 1 exists"))),
    }
}

pub(super) fn non_empty(f: &mut Fields, key: &str) -> Result<String, WireError> {
    let v = f.string(key)?;
    if v.trim().is_empty() {
        return Err(WireError::invalid(f.path(key), "empty"));
    }
    Ok(v)
}

fn common(f: &mut Fields) -> Result<Common, WireError> {
    let payload_type = f.string("PayloadType")?;
    version_one(f)?;
    let [_, display_name, _] = texts(f)?;
    Ok(Common {
        payload_type,
        identifier: non_empty(f, "PayloadIdentifier")?,
        uuid: non_empty(f, "PayloadUUID")?,
        display_name,
    })
}

/// `[[["O", "Example"]], [["CN", "…"]]]`: each pair exactly two strings.
fn subject(f: &mut Fields, key: &str, required: bool) -> Result<Subject, WireError> {
    let at = f.path(key);
    let items = match (f.opt_array(key)?, required) {
        (Some(items), _) => items,
        (None, false) => return Ok(Vec::new()),
        (None, true) => return Err(WireError::new(at, super::WireProblem::Missing)),
    };
    let mut out = Vec::new();
    for (i, rdn) in items.iter().enumerate() {
        let at = format!("{at}[{i}]");
        let Value::Array(pairs) = rdn else { return Err(super::wrong(&at, "array", rdn)) };
        let mut set = Vec::new();
        for (j, pair) in pairs.iter().enumerate() {
            let at = format!("{at}[{j}]");
            let Value::Array(kv) = pair else { return Err(super::wrong(&at, "array", pair)) };
            let [k, v] = kv.as_slice() else {
                return Err(WireError::invalid(at, format!("{} items, a pair has 2", kv.len())));
            };
            set.push((as_string(k, &format!("{at}[0]"))?, as_string(v, &format!("{at}[1]"))?));
        }
        out.push(set);
    }
    Ok(out)
}

/// `SubjectAltName` (ACME and SCEP): four optional strings.
fn subject_alt_name(f: &mut Fields) -> Result<(), WireError> {
    if let Some(mut san) = f.opt_dict("SubjectAltName")? {
        for k in ["rfc822Name", "dNSName", "uniformResourceIdentifier", "ntPrincipalName"] {
            san.opt_string(k)?;
        }
        san.finish()?;
    }
    Ok(())
}

fn certificate(mut f: Fields, common: Common) -> Result<Payload, WireError> {
    f.opt_string("PayloadCertificateFileName")?;
    let der = f.data("PayloadContent")?;
    f.finish()?;
    Ok(Payload::Certificate(Certificate { common, der }))
}

fn acme(mut f: Fields, common: Common) -> Result<Payload, WireError> {
    let directory_url = f.string("DirectoryURL")?;
    let directory_url = https(&f, "DirectoryURL", directory_url)?;
    let client_identifier = non_empty(&mut f, "ClientIdentifier")?;
    let key_type = f.string("KeyType")?;
    let key_size = f.integer("KeySize")?;
    let hardware_bound = f.boolean("HardwareBound")?;
    let subject = subject(&mut f, "Subject", true)?;
    subject_alt_name(&mut f)?;
    f.opt_integer("UsageFlags")?;
    f.opt_strings("ExtendedKeyUsage")?;
    let attest = f.opt_boolean("Attest")?.unwrap_or(false);
    f.opt_boolean("KeyIsExtractable")?;
    f.opt_boolean("AllowAllAppsAccess")?;
    let valid_size = match key_type.as_str() {
        "RSA" => !hardware_bound && (1024..=4096).contains(&key_size) && key_size % 8 == 0,
        "ECSECPrimeRandom" if hardware_bound => [256, 384].contains(&key_size),
        "ECSECPrimeRandom" => [192, 256, 384, 521].contains(&key_size),
        other => {
            return Err(WireError::invalid(
                f.path("KeyType"),
                format!("{other:?} is not RSA or ECSECPrimeRandom"),
            ));
        }
    };
    if !valid_size {
        let words = format!(
            "{key_size} does not fit KeyType {key_type} with HardwareBound {hardware_bound}"
        );
        return Err(WireError::invalid(f.path("KeySize"), words));
    }
    if attest && !hardware_bound {
        return Err(WireError::invalid(f.path("Attest"), "Attest needs HardwareBound"));
    }
    f.finish()?;
    Ok(Payload::Acme(Acme {
        common,
        directory_url,
        client_identifier,
        key_type,
        key_size,
        hardware_bound,
        attest,
        subject,
    }))
}

fn scep(mut outer: Fields, common: Common) -> Result<Payload, WireError> {
    let mut f = outer.dict("PayloadContent")?;
    outer.finish()?;
    let url = f.string("URL")?;
    let url = https(&f, "URL", url)?;
    f.opt_string("Name")?;
    let subject = subject(&mut f, "Subject", false)?;
    let challenge = f.opt_string("Challenge")?;
    let key_size = f.opt_integer("Keysize")?;
    if let Some(size) = key_size.filter(|s| ![1024, 2048, 4096].contains(s)) {
        return Err(WireError::invalid(
            f.path("Keysize"),
            format!("{size} is not 1024, 2048 or 4096"),
        ));
    }
    if let Some(t) = f.opt_string("Key Type")?.filter(|t| t != "RSA") {
        return Err(WireError::invalid(f.path("Key Type"), format!("{t:?}, only RSA exists")));
    }
    f.opt_integer("Key Usage")?;
    f.opt_data("CAFingerprint")?;
    f.opt_integer("Retries")?;
    f.opt_integer("RetryDelay")?;
    subject_alt_name(&mut f)?;
    f.opt_boolean("KeyIsExtractable")?;
    f.opt_boolean("AllowAllAppsAccess")?;
    f.finish()?;
    Ok(Payload::Scep(Scep { common, url, challenge, subject, key_size }))
}

/// `ServerCapabilities` values Apple defines (`com.apple.mdm.yaml`).
const CAPABILITIES: [&str; 3] =
    ["com.apple.mdm.per-user-connections", "com.apple.mdm.bootstraptoken", "com.apple.mdm.token"];

fn mdm(mut f: Fields, common: Common) -> Result<Payload, WireError> {
    let identity_certificate_uuid = non_empty(&mut f, "IdentityCertificateUUID")?;
    let topic = f.string("Topic")?;
    if !topic.starts_with("com.apple.mgmt.") {
        return Err(WireError::invalid(
            f.path("Topic"),
            format!("{topic:?} lacks the com.apple.mgmt. prefix"),
        ));
    }
    let server_url = f.string("ServerURL")?;
    let server_url = https(&f, "ServerURL", server_url)?;
    let check_in_url = match f.opt_string("CheckInURL")? {
        Some(u) => https(&f, "CheckInURL", u)?,
        None => server_url.clone(),
    };
    let sign_message = f.opt_boolean("SignMessage")?.unwrap_or(false);
    if f.opt_integer("AccessRights")? == Some(0) {
        return Err(WireError::invalid(f.path("AccessRights"), "0 is not allowed"));
    }
    f.opt_boolean("UseDevelopmentAPNS")?;
    f.opt_string("ManagedAppleID")?;
    f.opt_string("AssignedManagedAppleID")?;
    f.opt_string("EnrollmentMode")?;
    let mut pinning_uuids = f.opt_strings("ServerURLPinningCertificateUUIDs")?.unwrap_or_default();
    pinning_uuids.extend(f.opt_strings("CheckInURLPinningCertificateUUIDs")?.unwrap_or_default());
    f.opt_boolean("PinningRevocationCheckRequired")?;
    let server_capabilities = f.opt_strings("ServerCapabilities")?.unwrap_or_default();
    if let Some(c) = server_capabilities.iter().find(|c| !CAPABILITIES.contains(&c.as_str())) {
        return Err(WireError::invalid(
            f.path("ServerCapabilities"),
            format!("{c:?} is not a capability Apple defines"),
        ));
    }
    f.opt_boolean("CheckOutWhenRemoved")?;
    f.opt_integer("RequiredAppIDForMDM")?;
    f.opt_boolean("PromptUserToAllowBootstrapTokenForAuthentication")?;
    f.finish()?;
    Ok(Payload::Mdm(Mdm {
        common,
        identity_certificate_uuid,
        topic,
        server_url,
        check_in_url,
        sign_message,
        server_capabilities,
        pinning_uuids,
    }))
}

pub(super) fn payload(v: &Value, at: &str) -> Result<Payload, WireError> {
    let mut f = Fields::of(v, at)?;
    let common = common(&mut f)?;
    match common.payload_type.as_str() {
        "com.apple.security.root" | "com.apple.security.pem" => certificate(f, common),
        "com.apple.security.acme" => acme(f, common),
        "com.apple.security.scep" => scep(f, common),
        "com.apple.mdm" => mdm(f, common),
        other => Err(WireError::invalid(
            join(at, "PayloadType"),
            format!("{other:?} is not a payload this device installs"),
        )),
    }
}

//! The enrollment profile as typed plist payloads (../shared/spec/enrollment.md §2.1–2.5, §2.7).
//!
//! Exposes the types: [`EnrollmentProfile`] (the top-level `Configuration`), [`Payload`] (one
//! of [`RootPayload`], [`AcmePayload`], [`ScepPayload`], [`MdmPayload`]) and the fixed values
//! Apple's schemas name ([`ACCESS_RIGHTS_ALL`], …). Built by [`super::build_profile`]; each type
//! writes its own `plist::Dictionary` ([`EnrollmentProfile::to_value`]), key by key.
//!
//! Why not serde: the common keys were once shared with `#[serde(flatten)]`, which makes serde
//! write the struct as a map, and the `plist` serializer writes an `Option` that is a map value
//! as a dictionary `{Some: …}`: the top-level `PayloadDescription` went out as
//! `<dict><key>Some</key>…</dict>`, which Apple's schema (a string) and real devices refuse.
//! Writing the dictionaries directly leaves no such trap; every optional key is either written
//! as its value or left out. Pure: no tokio, redb, reqwest or actix.

use plist::{Dictionary, Value};

/// `AccessRights` with all 13 bits set (§2.2): 1 inspect profiles … 4096 app management.
pub const ACCESS_RIGHTS_ALL: u64 = 8191;
/// The clientAuth extended key usage the identity certificate is requested with.
pub const EKU_CLIENT_AUTH: &str = "1.3.6.1.5.5.7.3.2";
/// ACME key type for a Secure Enclave key (§2.3: required for hardware-bound).
pub const ACME_KEY_TYPE: &str = "ECSECPrimeRandom";
/// ACME key size: P-384, as Apple's example (§2.3: hardware-bound allows 256 or 384).
pub const ACME_KEY_SIZE: u64 = 384;
/// SCEP RSA key size (§2.5).
pub const SCEP_KEY_SIZE: u64 = 2048;
/// SCEP `Key Usage`: 1 signing + 4 encryption, as micromdm and nanomdm use (§2.5).
pub const SCEP_KEY_USAGE: u64 = 5;

pub const TYPE_CONFIGURATION: &str = "Configuration";
pub const TYPE_ROOT: &str = "com.apple.security.root";
pub const TYPE_ACME: &str = "com.apple.security.acme";
pub const TYPE_SCEP: &str = "com.apple.security.scep";
pub const TYPE_MDM: &str = "com.apple.mdm";

/// An X.500 name the way profiles write it: `[[["O","ACME Corp"]],[["CN","…"]]]`, one RDN per
/// outer element (§2.3).
pub type ProfileSubject = Vec<Vec<Vec<String>>>;

/// The top-level profile (§2.1). Payload order is root, identity, MDM (§2.4).
#[derive(Clone, Debug, PartialEq)]
pub struct EnrollmentProfile {
    /// `PayloadType` is `Configuration`.
    pub common: CommonKeys,
    pub payload_organization: String,
    pub payload_description: Option<String>,
    pub payload_content: Vec<Payload>,
}

/// One payload of the profile.
#[derive(Clone, Debug, PartialEq)]
pub enum Payload {
    Root(RootPayload),
    Acme(AcmePayload),
    Scep(ScepPayload),
    Mdm(MdmPayload),
}

/// Keys every payload dict has (`CommonPayloadKeys.yaml`).
#[derive(Clone, Debug, PartialEq)]
pub struct CommonKeys {
    pub payload_type: String,
    pub payload_version: u64,
    pub payload_identifier: String,
    pub payload_uuid: String,
    pub payload_display_name: String,
}

/// `com.apple.security.root`: the appliance CA, DER (§2.4).
#[derive(Clone, Debug, PartialEq)]
pub struct RootPayload {
    pub common: CommonKeys,
    pub certificate_file_name: String,
    pub certificate: Vec<u8>,
}

/// `com.apple.security.acme` (§2.3): keys sit directly in the payload dict.
#[derive(Clone, Debug, PartialEq)]
pub struct AcmePayload {
    pub common: CommonKeys,
    pub directory_url: String,
    pub client_identifier: String,
    pub key_type: String,
    pub key_size: u64,
    pub hardware_bound: bool,
    pub attest: bool,
    pub subject: ProfileSubject,
    pub usage_flags: u64,
    pub extended_key_usage: Vec<String>,
}

/// `com.apple.security.scep` (§2.5): the SCEP keys live in the inner `PayloadContent` dict.
#[derive(Clone, Debug, PartialEq)]
pub struct ScepPayload {
    pub common: CommonKeys,
    pub content: ScepContent,
}

/// The inner dict of a SCEP payload.
#[derive(Clone, PartialEq)]
pub struct ScepContent {
    pub url: String,
    pub name: Option<String>,
    pub subject: ProfileSubject,
    /// The one-time challenge: a secret, so `Debug` masks it.
    pub challenge: String,
    pub key_size: u64,
    pub key_type: String,
    pub key_usage: u64,
    pub ca_fingerprint: Option<Vec<u8>>,
}

impl std::fmt::Debug for ScepContent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ScepContent")
            .field("url", &self.url)
            .field("name", &self.name)
            .field("subject", &self.subject)
            .field("challenge", &"[redacted]")
            .field("key_size", &self.key_size)
            .field("key_type", &self.key_type)
            .field("key_usage", &self.key_usage)
            .finish_non_exhaustive()
    }
}

/// `com.apple.mdm` (§2.2).
#[derive(Clone, Debug, PartialEq)]
pub struct MdmPayload {
    pub common: CommonKeys,
    pub identity_certificate_uuid: String,
    pub topic: String,
    pub server_url: String,
    pub check_in_url: String,
    pub sign_message: bool,
    pub access_rights: u64,
    pub check_out_when_removed: bool,
    /// Left out when empty: plain iPhones and iPads need none (§2.2).
    pub server_capabilities: Vec<String>,
    pub server_url_pinning_certificate_uuids: Vec<String>,
    pub check_in_url_pinning_certificate_uuids: Vec<String>,
}

/// Builds a dictionary key by key; optional keys are written only when they have a value.
struct Dict(Dictionary);

impl Dict {
    fn new() -> Dict {
        Dict(Dictionary::new())
    }

    fn put(mut self, key: &str, value: impl Into<Value>) -> Dict {
        self.0.insert(key.to_string(), value.into());
        self
    }

    fn maybe(self, key: &str, value: Option<impl Into<Value>>) -> Dict {
        match value {
            Some(v) => self.put(key, v),
            None => self,
        }
    }

    fn common(self, c: &CommonKeys) -> Dict {
        self.put("PayloadType", c.payload_type.as_str())
            .put("PayloadVersion", c.payload_version)
            .put("PayloadIdentifier", c.payload_identifier.as_str())
            .put("PayloadUUID", c.payload_uuid.as_str())
            .put("PayloadDisplayName", c.payload_display_name.as_str())
    }

    fn done(self) -> Value {
        Value::Dictionary(self.0)
    }
}

fn strings(items: &[String]) -> Value {
    Value::Array(items.iter().map(|s| Value::String(s.clone())).collect())
}

fn subject_value(subject: &ProfileSubject) -> Value {
    Value::Array(
        subject
            .iter()
            .map(|rdn| Value::Array(rdn.iter().map(|pair| strings(pair)).collect()))
            .collect(),
    )
}

impl EnrollmentProfile {
    /// The profile as a plist dictionary (§2.1), payloads in order.
    pub fn to_value(&self) -> Value {
        Dict::new()
            .common(&self.common)
            .put("PayloadOrganization", self.payload_organization.as_str())
            .maybe("PayloadDescription", self.payload_description.as_deref())
            .put(
                "PayloadContent",
                Value::Array(self.payload_content.iter().map(Payload::to_value).collect()),
            )
            .done()
    }
}

impl Payload {
    pub fn to_value(&self) -> Value {
        match self {
            Payload::Root(p) => p.to_value(),
            Payload::Acme(p) => p.to_value(),
            Payload::Scep(p) => p.to_value(),
            Payload::Mdm(p) => p.to_value(),
        }
    }
}

impl RootPayload {
    pub fn to_value(&self) -> Value {
        Dict::new()
            .common(&self.common)
            .put("PayloadCertificateFileName", self.certificate_file_name.as_str())
            .put("PayloadContent", Value::Data(self.certificate.clone()))
            .done()
    }
}

impl AcmePayload {
    pub fn to_value(&self) -> Value {
        Dict::new()
            .common(&self.common)
            .put("DirectoryURL", self.directory_url.as_str())
            .put("ClientIdentifier", self.client_identifier.as_str())
            .put("KeyType", self.key_type.as_str())
            .put("KeySize", self.key_size)
            .put("HardwareBound", self.hardware_bound)
            .put("Attest", self.attest)
            .put("Subject", subject_value(&self.subject))
            .put("UsageFlags", self.usage_flags)
            .put("ExtendedKeyUsage", strings(&self.extended_key_usage))
            .done()
    }
}

impl ScepPayload {
    pub fn to_value(&self) -> Value {
        let c = &self.content;
        let content = Dict::new()
            .put("URL", c.url.as_str())
            .maybe("Name", c.name.as_deref())
            .put("Subject", subject_value(&c.subject))
            .put("Challenge", c.challenge.as_str())
            .put("Keysize", c.key_size)
            .put("Key Type", c.key_type.as_str())
            .put("Key Usage", c.key_usage)
            .maybe("CAFingerprint", c.ca_fingerprint.clone().map(Value::Data))
            .done();
        Dict::new().common(&self.common).put("PayloadContent", content).done()
    }
}

fn pins(uuids: &[String]) -> Option<Value> {
    (!uuids.is_empty()).then(|| strings(uuids))
}

impl MdmPayload {
    pub fn to_value(&self) -> Value {
        let capabilities = &self.server_capabilities;
        Dict::new()
            .common(&self.common)
            .put("IdentityCertificateUUID", self.identity_certificate_uuid.as_str())
            .put("Topic", self.topic.as_str())
            .put("ServerURL", self.server_url.as_str())
            .put("CheckInURL", self.check_in_url.as_str())
            .put("SignMessage", self.sign_message)
            .put("AccessRights", self.access_rights)
            .put("CheckOutWhenRemoved", self.check_out_when_removed)
            // Left out when empty: plain iPhones and iPads need none (§2.2).
            .maybe("ServerCapabilities", (!capabilities.is_empty()).then(|| strings(capabilities)))
            // Left out when nothing is pinned (a publicly trusted server certificate).
            .maybe(
                "ServerURLPinningCertificateUUIDs",
                pins(&self.server_url_pinning_certificate_uuids),
            )
            .maybe(
                "CheckInURLPinningCertificateUUIDs",
                pins(&self.check_in_url_pinning_certificate_uuids),
            )
            .done()
    }
}

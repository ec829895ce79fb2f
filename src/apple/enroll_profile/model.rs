//! The enrollment profile as typed plist payloads (../shared/spec/enrollment.md §2.1–2.5, §2.7).
//!
//! Exposes the serialisable types: [`EnrollmentProfile`] (the top-level `Configuration`),
//! [`Payload`] (one of [`RootPayload`], [`AcmePayload`], [`ScepPayload`], [`MdmPayload`]) and
//! the fixed values Apple's schemas name ([`ACCESS_RIGHTS_ALL`], …). Field names are the plist
//! keys through `serde(rename)`. Built by [`super::build_profile`]; written with the `plist`
//! crate. Pure: no tokio, redb, reqwest or actix.

use serde::Serialize;

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
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct EnrollmentProfile {
    /// `PayloadType` is `Configuration`.
    #[serde(flatten)]
    pub common: CommonKeys,
    #[serde(rename = "PayloadOrganization")]
    pub payload_organization: String,
    #[serde(rename = "PayloadDescription", skip_serializing_if = "Option::is_none")]
    pub payload_description: Option<String>,
    #[serde(rename = "PayloadContent")]
    pub payload_content: Vec<Payload>,
}

/// One payload of the profile.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Payload {
    Root(RootPayload),
    Acme(AcmePayload),
    Scep(ScepPayload),
    Mdm(MdmPayload),
}

/// Keys every payload dict has (`CommonPayloadKeys.yaml`).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CommonKeys {
    #[serde(rename = "PayloadType")]
    pub payload_type: String,
    #[serde(rename = "PayloadVersion")]
    pub payload_version: u64,
    #[serde(rename = "PayloadIdentifier")]
    pub payload_identifier: String,
    #[serde(rename = "PayloadUUID")]
    pub payload_uuid: String,
    #[serde(rename = "PayloadDisplayName")]
    pub payload_display_name: String,
}

/// `com.apple.security.root`: the appliance CA, DER (§2.4).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RootPayload {
    #[serde(flatten)]
    pub common: CommonKeys,
    #[serde(rename = "PayloadCertificateFileName")]
    pub certificate_file_name: String,
    #[serde(rename = "PayloadContent")]
    pub certificate: plist::Data,
}

/// `com.apple.security.acme` (§2.3): keys sit directly in the payload dict.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct AcmePayload {
    #[serde(flatten)]
    pub common: CommonKeys,
    #[serde(rename = "DirectoryURL")]
    pub directory_url: String,
    #[serde(rename = "ClientIdentifier")]
    pub client_identifier: String,
    #[serde(rename = "KeyType")]
    pub key_type: String,
    #[serde(rename = "KeySize")]
    pub key_size: u64,
    #[serde(rename = "HardwareBound")]
    pub hardware_bound: bool,
    #[serde(rename = "Attest")]
    pub attest: bool,
    #[serde(rename = "Subject")]
    pub subject: ProfileSubject,
    #[serde(rename = "UsageFlags")]
    pub usage_flags: u64,
    #[serde(rename = "ExtendedKeyUsage")]
    pub extended_key_usage: Vec<String>,
}

/// `com.apple.security.scep` (§2.5): the SCEP keys live in the inner `PayloadContent` dict.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ScepPayload {
    #[serde(flatten)]
    pub common: CommonKeys,
    #[serde(rename = "PayloadContent")]
    pub content: ScepContent,
}

/// The inner dict of a SCEP payload.
#[derive(Clone, PartialEq, Serialize)]
pub struct ScepContent {
    #[serde(rename = "URL")]
    pub url: String,
    #[serde(rename = "Name", skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(rename = "Subject")]
    pub subject: ProfileSubject,
    /// The one-time challenge: a secret, so `Debug` masks it.
    #[serde(rename = "Challenge")]
    pub challenge: String,
    #[serde(rename = "Keysize")]
    pub key_size: u64,
    #[serde(rename = "Key Type")]
    pub key_type: String,
    #[serde(rename = "Key Usage")]
    pub key_usage: u64,
    #[serde(rename = "CAFingerprint", skip_serializing_if = "Option::is_none")]
    pub ca_fingerprint: Option<plist::Data>,
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
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct MdmPayload {
    #[serde(flatten)]
    pub common: CommonKeys,
    #[serde(rename = "IdentityCertificateUUID")]
    pub identity_certificate_uuid: String,
    #[serde(rename = "Topic")]
    pub topic: String,
    #[serde(rename = "ServerURL")]
    pub server_url: String,
    #[serde(rename = "CheckInURL")]
    pub check_in_url: String,
    #[serde(rename = "SignMessage")]
    pub sign_message: bool,
    #[serde(rename = "AccessRights")]
    pub access_rights: u64,
    #[serde(rename = "CheckOutWhenRemoved")]
    pub check_out_when_removed: bool,
    /// Left out when empty: plain iPhones and iPads need none (§2.2).
    #[serde(rename = "ServerCapabilities", skip_serializing_if = "Vec::is_empty")]
    pub server_capabilities: Vec<String>,
    #[serde(rename = "ServerURLPinningCertificateUUIDs")]
    pub server_url_pinning_certificate_uuids: Vec<String>,
    #[serde(rename = "CheckInURLPinningCertificateUUIDs")]
    pub check_in_url_pinning_certificate_uuids: Vec<String>,
}

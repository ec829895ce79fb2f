//! Building the enrollment profile from explicit inputs (../shared/spec/enrollment.md §2.7).
//!
//! Exposes [`ProfileInputs`], [`IdentityInputs`], [`MdmInputs`], [`build_profile`] and
//! [`random_uuid`]. The builder takes every value as input — URLs, push topic, CA certificate,
//! the one-time ClientIdentifier or SCEP challenge, and the source of payload UUIDs — and
//! decides nothing from the environment; it only checks that the values are ones a device
//! would accept. Pure: no tokio, redb, reqwest or actix.

use super::model::*;
use crate::crypto::Secret;

/// Why a profile could not be built. Messages name the value and the fix.
#[derive(Debug, thiserror::Error)]
pub enum ProfileError {
    #[error("the {what} `{url}` is not an https:// URL; devices only enroll over HTTPS")]
    NotHttps { what: &'static str, url: String },
    #[error(
        "the push topic `{0}` does not start with `com.apple.mgmt.`; use the UID of the MDM push \
         certificate's subject"
    )]
    BadTopic(String),
    #[error(
        "the ACME ClientIdentifier must be non-empty and contain no `/` (the permanent-identifier \
         syntax forbids it)"
    )]
    BadClientIdentifier,
    #[error("the {0} is empty")]
    Empty(&'static str),
    #[error("the profile could not be written as a property list: {0}")]
    Plist(String),
}

/// Everything the profile says. Built per device by the enrollment endpoint.
#[derive(Clone, Debug)]
pub struct ProfileInputs {
    /// Reverse-DNS, stable per appliance (`com.example.adebox.enroll`); the payloads use it as
    /// a prefix. Re-issues with the same identifier replace the installed profile (§2.1).
    pub identifier: String,
    pub display_name: String,
    pub organization: String,
    pub description: Option<String>,
    /// The appliance CA certificate, DER: the root payload, which the MDM payload pins its
    /// URLs to. `None` while the server's certificate is publicly trusted (ACME, an uploaded or
    /// configured one): the device trusts it through its own roots, and a pinned CA would be
    /// the wrong one (apple-2026.md §7). The identity certificate needs no root on the device.
    pub ca_der: Option<Vec<u8>>,
    /// File name shown for the root payload (`adebox-root.cer`).
    pub ca_file_name: String,
    pub identity: IdentityInputs,
    pub mdm: MdmInputs,
}

/// The identity payload: ACME for devices that can attest, SCEP for older ones (§1.7, §2.3, §2.5).
#[derive(Clone, Debug)]
pub enum IdentityInputs {
    Acme {
        directory_url: String,
        /// One-time value bound server-side to the device's serial and UDID; no `/`.
        client_identifier: String,
        /// Subject of the requested certificate (the server may override it).
        subject: ProfileSubject,
    },
    Scep {
        url: String,
        /// One-time challenge bound to the device, valid 15 minutes.
        challenge: Secret<String>,
        subject: ProfileSubject,
        /// SHA-256 of the SCEP CA certificate, when the device should pin it.
        ca_fingerprint: Option<Vec<u8>>,
    },
}

/// The `com.apple.mdm` payload's values (§2.2).
#[derive(Clone, Debug)]
pub struct MdmInputs {
    /// Push topic: UID of the push certificate's subject, `com.apple.mgmt.External.<uuid>`.
    pub topic: String,
    pub server_url: String,
    pub check_in_url: String,
    /// Left out of the profile when empty (plain iPhones and iPads need none).
    pub server_capabilities: Vec<String>,
}

/// `[[["O", organization]], [["CN", common_name]]]`, the subject form of §2.7.
pub fn subject(organization: &str, common_name: &str) -> ProfileSubject {
    let rdn = |k: &str, v: &str| vec![vec![k.to_string(), v.to_string()]];
    let mut out = Vec::new();
    if !organization.is_empty() {
        out.push(rdn("O", organization));
    }
    out.push(rdn("CN", common_name));
    out
}

/// A random (version 4) UUID in upper case, the form Apple's profiles use: the usual UUID source.
pub fn random_uuid() -> String {
    let mut b = crate::crypto::random_bytes::<16>();
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = hex::encode_upper(b);
    format!("{}-{}-{}-{}-{}", &h[0..8], &h[8..12], &h[12..16], &h[16..20], &h[20..32])
}

fn https(what: &'static str, url: &str) -> Result<String, ProfileError> {
    let rest = url.strip_prefix("https://").unwrap_or("");
    if rest.is_empty() || rest.starts_with('/') || url.chars().any(char::is_whitespace) {
        return Err(ProfileError::NotHttps { what, url: url.to_string() });
    }
    Ok(url.to_string())
}

fn non_empty(what: &'static str, value: &str) -> Result<String, ProfileError> {
    if value.trim().is_empty() {
        return Err(ProfileError::Empty(what));
    }
    Ok(value.to_string())
}

/// Builds the profile: root payload (when [`ProfileInputs::ca_der`] is given), identity
/// payload, MDM payload, in that order (§2.4). `next_uuid` supplies the PayloadUUIDs (top
/// level, root when there is one, identity, MDM), in that order.
pub fn build_profile(
    inputs: &ProfileInputs,
    next_uuid: &mut dyn FnMut() -> String,
) -> Result<EnrollmentProfile, ProfileError> {
    let id = non_empty("profile identifier", &inputs.identifier)?;
    if inputs.ca_der.as_ref().is_some_and(Vec::is_empty) {
        return Err(ProfileError::Empty("appliance CA certificate"));
    }
    let mdm = &inputs.mdm;
    if !mdm.topic.starts_with("com.apple.mgmt.") {
        return Err(ProfileError::BadTopic(mdm.topic.clone()));
    }
    let server_url = https("MDM ServerURL", &mdm.server_url)?;
    let check_in_url = https("MDM CheckInURL", &mdm.check_in_url)?;
    let top_uuid = next_uuid();
    let common = |payload_type: &str, suffix: &str, name: &str, uuid: String| CommonKeys {
        payload_type: payload_type.to_string(),
        payload_version: 1,
        payload_identifier: format!("{id}.{suffix}"),
        payload_uuid: uuid,
        payload_display_name: name.to_string(),
    };
    let root = match &inputs.ca_der {
        Some(der) => Some(RootPayload {
            common: common(TYPE_ROOT, "root", "Appliance root certificate", next_uuid()),
            certificate_file_name: non_empty("CA certificate file name", &inputs.ca_file_name)?,
            certificate: der.clone(),
        }),
        None => None,
    };
    // The URLs are pinned to the appliance CA only while it is the server's issuer.
    let pinned: Vec<String> = root.iter().map(|r| r.common.payload_uuid.clone()).collect();
    let identity_uuid = next_uuid();
    let identity = match &inputs.identity {
        IdentityInputs::Acme { directory_url, client_identifier, subject } => {
            if client_identifier.trim().is_empty() || client_identifier.contains('/') {
                return Err(ProfileError::BadClientIdentifier);
            }
            Payload::Acme(AcmePayload {
                common: common(TYPE_ACME, "acme", "Device identity (ACME)", identity_uuid.clone()),
                directory_url: https("ACME DirectoryURL", directory_url)?,
                client_identifier: client_identifier.clone(),
                key_type: ACME_KEY_TYPE.to_string(),
                key_size: ACME_KEY_SIZE,
                hardware_bound: true,
                attest: true,
                subject: subject.clone(),
                usage_flags: 1,
                extended_key_usage: vec![EKU_CLIENT_AUTH.to_string()],
            })
        }
        IdentityInputs::Scep { url, challenge, subject, ca_fingerprint } => {
            Payload::Scep(ScepPayload {
                common: common(TYPE_SCEP, "scep", "Device identity (SCEP)", identity_uuid.clone()),
                content: ScepContent {
                    url: https("SCEP URL", url)?,
                    name: Some(inputs.organization.clone()).filter(|n| !n.is_empty()),
                    subject: subject.clone(),
                    challenge: non_empty("SCEP challenge", challenge.expose())?,
                    key_size: SCEP_KEY_SIZE,
                    key_type: "RSA".to_string(),
                    key_usage: SCEP_KEY_USAGE,
                    ca_fingerprint: ca_fingerprint.clone(),
                },
            })
        }
    };
    let mdm_payload = MdmPayload {
        common: common(TYPE_MDM, "mdm", "Device management", next_uuid()),
        identity_certificate_uuid: identity_uuid,
        topic: mdm.topic.clone(),
        server_url,
        check_in_url,
        sign_message: true,
        access_rights: ACCESS_RIGHTS_ALL,
        check_out_when_removed: true,
        server_capabilities: mdm.server_capabilities.clone(),
        server_url_pinning_certificate_uuids: pinned.clone(),
        check_in_url_pinning_certificate_uuids: pinned,
    };
    let mut payload_content: Vec<Payload> = root.into_iter().map(Payload::Root).collect();
    payload_content.extend([identity, Payload::Mdm(mdm_payload)]);
    Ok(EnrollmentProfile {
        common: CommonKeys {
            payload_type: TYPE_CONFIGURATION.to_string(),
            payload_version: 1,
            payload_identifier: id,
            payload_uuid: top_uuid,
            payload_display_name: non_empty("profile display name", &inputs.display_name)?,
        },
        payload_organization: inputs.organization.clone(),
        payload_description: inputs.description.clone(),
        payload_content,
    })
}

impl EnrollmentProfile {
    /// The profile as an XML property list (what gets signed).
    pub fn to_xml(&self) -> Result<Vec<u8>, ProfileError> {
        let mut out = Vec::new();
        self.to_value().to_writer_xml(&mut out).map_err(|e| ProfileError::Plist(e.to_string()))?;
        Ok(out)
    }
}

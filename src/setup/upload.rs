//! Checks a configuration profile the admin uploads (`.mobileconfig`), before any device sees
//! it: signed (CMS SignedData: the signature is verified and the signer kept for the page; the
//! profile is sent as uploaded, signature included) or not; a property list whose top level
//! and every payload carry the common payload keys (Apple's `CommonPayloadKeys.yaml`,
//! `TopLevel.yaml`); certificate payloads parsed. With `[mdm] schemas_dir` set, the whole
//! profile is also checked against Apple's schemas ([`check_with`]): each payload of a type the
//! checkout describes, key by key and type by type. Every refusal names the payload and the key.

use super::SetupError;
use crate::schemas::{AppleSchemas, Violations};
use plist::{Dictionary, Value};

/// Largest profile accepted: it travels inside one InstallProfile command.
pub const MAX_PROFILE: usize = 512 * 1024;
/// Most payloads in one profile.
const MAX_PAYLOADS: usize = 100;

/// What the page shows of a checked profile.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Checked {
    /// `PayloadDisplayName`, or the identifier when it has none.
    pub name: String,
    pub identifier: String,
    pub payload_uuid: String,
    /// Each payload's `PayloadType`, in order.
    pub payload_types: Vec<String>,
    /// The signer's subject, for a signed profile.
    pub signed_by: Option<String>,
    /// The subjects of the certificates its certificate payloads carry.
    pub certificates: Vec<String>,
}

fn refuse(message: impl Into<String>) -> SetupError {
    SetupError::Invalid { field: "profile".into(), message: message.into() }
}

/// Whether `bytes` look like a property list (XML or binary) rather than CMS.
fn is_plist(bytes: &[u8]) -> bool {
    let trimmed =
        bytes.iter().position(|b| !b.is_ascii_whitespace()).map_or(&[][..], |i| &bytes[i..]);
    trimmed.starts_with(b"<")
        || trimmed.starts_with(b"bplist")
        || trimmed.starts_with(b"\xEF\xBB\xBF<")
}

/// Checks an uploaded profile for shape only (no schemas).
pub fn check(bytes: &[u8]) -> Result<Checked, SetupError> {
    check_with(bytes, &AppleSchemas::off())
}

/// Checks an uploaded profile, and against Apple's schemas when `schemas` has them.
pub fn check_with(bytes: &[u8], schemas: &AppleSchemas) -> Result<Checked, SetupError> {
    if bytes.len() > MAX_PROFILE {
        return Err(SetupError::TooLarge { len: bytes.len(), max: MAX_PROFILE });
    }
    let (content, signed_by) = if is_plist(bytes) {
        (bytes.to_vec(), None)
    } else {
        let signed = crate::crypto::cms::verify_signed(bytes).map_err(|e| {
            refuse(format!(
                "the file is neither a property list nor a signed profile whose signature \
                 verifies ({e}); export it again as a .mobileconfig"
            ))
        })?;
        let subject = x509_parser::parse_x509_certificate(&signed.signer)
            .map(|(_, c)| c.subject().to_string())
            .unwrap_or_else(|_| "an unreadable certificate".into());
        (signed.content, Some(subject))
    };
    let value = Value::from_reader(std::io::Cursor::new(&content))
        .map_err(|e| refuse(format!("the profile is not a valid property list: {e}")))?;
    let top =
        value.as_dictionary().ok_or_else(|| refuse("the profile's top level must be a <dict>"))?;
    let at = "the profile";
    if string(top, "PayloadType", at)? != "Configuration" {
        return Err(refuse("the profile's PayloadType must be \"Configuration\""));
    }
    let identifier = string(top, "PayloadIdentifier", at)?;
    let payload_uuid = string(top, "PayloadUUID", at)?;
    version(top, at)?;
    if top.contains_key("EncryptedPayloadContent") {
        return Err(refuse(
            "the profile's payloads are encrypted (EncryptedPayloadContent); upload it \
             unencrypted so adebox can check it",
        ));
    }
    let name = match top.get("PayloadDisplayName") {
        None => identifier.clone(),
        Some(Value::String(s)) if !s.trim().is_empty() => s.trim().to_string(),
        Some(_) => {
            return Err(refuse("the profile's PayloadDisplayName must be a non-empty string"));
        }
    };
    let items = match top.get("PayloadContent") {
        Some(Value::Array(a)) if !a.is_empty() => a,
        Some(Value::Array(_)) | None => {
            return Err(refuse("the profile has no payloads (PayloadContent is empty or missing)"));
        }
        Some(_) => return Err(refuse("the profile's PayloadContent must be an <array>")),
    };
    if items.len() > MAX_PAYLOADS {
        return Err(refuse(format!(
            "the profile has {} payloads; at most {MAX_PAYLOADS}",
            items.len()
        )));
    }
    let mut payload_types = Vec::new();
    let mut certificates = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let d = item
            .as_dictionary()
            .ok_or_else(|| refuse(format!("payload {} must be a <dict>", i + 1)))?;
        let ty = string(d, "PayloadType", &format!("payload {}", i + 1))?;
        let at = format!("payload {} ({ty})", i + 1);
        string(d, "PayloadIdentifier", &at)?;
        string(d, "PayloadUUID", &at)?;
        version(d, &at)?;
        match ty.as_str() {
            "com.apple.mdm" => {
                return Err(refuse(format!(
                    "{at}: an MDM payload cannot be installed by MDM; adebox's enrollment \
                     profile already carries it"
                )));
            }
            "com.apple.security.root" | "com.apple.security.pem" | "com.apple.security.pkcs1" => {
                certificates.push(certificate(d, &at)?);
            }
            "com.apple.security.pkcs12" if !matches!(d.get("PayloadContent"), Some(Value::Data(b)) if !b.is_empty()) =>
            {
                return Err(refuse(format!("{at}: PayloadContent must be the PKCS#12 data")));
            }
            _ => {}
        }
        payload_types.push(ty);
    }
    schemas.check_profile(&value).map_err(|v| off_schema(&v, &payload_types))?;
    Ok(Checked { name, identifier, payload_uuid, payload_types, signed_by, certificates })
}

/// The schema's findings with each payload named as the other refusals name it: `payload 2
/// (com.apple.wifi.managed): AutoJoin: expected boolean, found string`.
fn off_schema(v: &Violations, types: &[String]) -> SetupError {
    let named: Vec<String> =
        v.0.iter()
            .take(5)
            .map(|f| {
                let Some(rest) = f.path.strip_prefix("PayloadContent[") else {
                    let key = if f.path.is_empty() { "(top level)" } else { &f.path };
                    return format!("the profile: {key}: {}", f.problem);
                };
                let (i, key) = rest.split_once(']').unwrap_or((rest, ""));
                let i: usize = i.parse().unwrap_or(0);
                let ty = types.get(i).map(String::as_str).unwrap_or("?");
                let key = key.trim_start_matches('.');
                let key = if key.is_empty() { "(the payload)" } else { key };
                format!("payload {} ({ty}): {key}: {}", i + 1, f.problem)
            })
            .collect();
    let more = v.0.len().saturating_sub(5);
    let more = if more > 0 { format!("; and {more} more") } else { String::new() };
    refuse(format!(
        "the profile does not follow Apple's schema: {}{more}; fix the key in the profile (or \
         export it again from the tool that made it)",
        named.join("; ")
    ))
}

fn string(d: &Dictionary, key: &str, at: &str) -> Result<String, SetupError> {
    match d.get(key) {
        Some(Value::String(s)) if !s.trim().is_empty() => Ok(s.clone()),
        Some(Value::String(_)) => Err(refuse(format!("{at}: {key} is empty"))),
        Some(_) => Err(refuse(format!("{at}: {key} must be a <string>"))),
        None => Err(refuse(format!("{at}: {key} is missing"))),
    }
}

fn version(d: &Dictionary, at: &str) -> Result<(), SetupError> {
    match d.get("PayloadVersion") {
        Some(Value::Integer(i)) if i.as_signed() == Some(1) => Ok(()),
        Some(_) => Err(refuse(format!("{at}: PayloadVersion must be the <integer> 1"))),
        None => Err(refuse(format!("{at}: PayloadVersion is missing"))),
    }
}

/// A certificate payload's certificate (DER or PEM), its subject.
fn certificate(d: &Dictionary, at: &str) -> Result<String, SetupError> {
    let Some(Value::Data(bytes)) = d.get("PayloadContent") else {
        return Err(refuse(format!("{at}: PayloadContent must be the certificate as <data>")));
    };
    let der = match crate::crypto::ca::pem_to_der(&String::from_utf8_lossy(bytes)) {
        Ok(der) => der,
        Err(_) => bytes.clone(),
    };
    let (_, cert) = x509_parser::parse_x509_certificate(&der).map_err(|e| {
        refuse(format!("{at}: PayloadContent is not a certificate (DER or PEM): {e}"))
    })?;
    Ok(cert.subject().to_string())
}

#[cfg(test)]
mod tests;

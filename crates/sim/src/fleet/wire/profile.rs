//! The enrollment profile as a device reads it (../shared/spec/enrollment.md §2; Apple's
//! `mdm/profiles/TopLevel.yaml`, `CommonPayloadKeys.yaml`, `com.apple.security.root.yaml`,
//! `com.apple.security.acme.yaml`, `com.apple.security.scep.yaml`, `com.apple.mdm.yaml`).
//!
//! Exposes [`read_profile`] → [`Profile`] with its [`Payload`]s. Strict: every key of every
//! dictionary must be one Apple documents for it, with its type; a payload type this device
//! cannot install, a second MDM payload, an identity or pinning UUID that names no payload of
//! the profile, a topic outside `com.apple.mgmt.` or a URL that is not https fails the
//! profile, as a device would fail the installation.

pub use super::payloads::{Acme, Certificate, Common, Mdm, Payload, Scep, Subject};

use super::payloads::{non_empty, payload, texts, version_one};
use super::{Fields, WireError, plist_value};

/// A device's view of the profile (§2.1).
#[derive(Clone, Debug)]
pub struct Profile {
    pub identifier: String,
    pub uuid: String,
    pub display_name: Option<String>,
    pub description: Option<String>,
    pub organization: Option<String>,
    pub payloads: Vec<Payload>,
}

impl Profile {
    /// The one MDM payload.
    pub fn mdm(&self) -> Option<&Mdm> {
        self.payloads.iter().find_map(|p| match p {
            Payload::Mdm(m) => Some(m),
            _ => None,
        })
    }

    pub fn acme(&self) -> Option<&Acme> {
        self.payloads.iter().find_map(|p| match p {
            Payload::Acme(a) => Some(a),
            _ => None,
        })
    }

    pub fn scep(&self) -> Option<&Scep> {
        self.payloads.iter().find_map(|p| match p {
            Payload::Scep(s) => Some(s),
            _ => None,
        })
    }
}

/// The profile's cross-references: unique UUIDs, one MDM payload, its identity and pinned
/// certificates present.
fn consistent(p: &Profile) -> Result<(), WireError> {
    let commons: Vec<&Common> = p
        .payloads
        .iter()
        .map(|x| match x {
            Payload::Certificate(c) => &c.common,
            Payload::Acme(a) => &a.common,
            Payload::Scep(s) => &s.common,
            Payload::Mdm(m) => &m.common,
        })
        .collect();
    for (i, c) in commons.iter().enumerate() {
        if c.uuid == p.uuid || commons[..i].iter().any(|o| o.uuid == c.uuid) {
            let words = format!("{} is used twice in the profile", c.uuid);
            return Err(WireError::invalid(format!("PayloadContent[{i}].PayloadUUID"), words));
        }
    }
    let mdms: Vec<usize> =
        (0..p.payloads.len()).filter(|i| matches!(p.payloads[*i], Payload::Mdm(_))).collect();
    let [at] = mdms.as_slice() else {
        return Err(WireError::invalid(
            "PayloadContent",
            format!("{} MDM payloads, a profile needs one", mdms.len()),
        ));
    };
    let Some(mdm) = p.mdm() else { return Ok(()) };
    let is = |uuid: &str, want: fn(&Payload) -> bool| {
        p.payloads.iter().zip(&commons).any(|(x, c)| c.uuid == uuid && want(x))
    };
    if !is(&mdm.identity_certificate_uuid, |x| matches!(x, Payload::Acme(_) | Payload::Scep(_))) {
        let words =
            format!("{} names no identity payload of the profile", mdm.identity_certificate_uuid);
        return Err(WireError::invalid(
            format!("PayloadContent[{at}].IdentityCertificateUUID"),
            words,
        ));
    }
    if let Some(u) =
        mdm.pinning_uuids.iter().find(|u| !is(u, |x| matches!(x, Payload::Certificate(_))))
    {
        let words = format!("{u} names no certificate payload of the profile");
        return Err(WireError::invalid(
            format!("PayloadContent[{at}].ServerURLPinningCertificateUUIDs"),
            words,
        ));
    }
    Ok(())
}

/// Reads the profile's plist bytes (the signed content) as a device installing it does.
pub fn read_profile(bytes: &[u8]) -> Result<Profile, WireError> {
    let top = plist_value(bytes)?;
    let mut f = Fields::of(&top, "")?;
    let payload_type = f.string("PayloadType")?;
    if payload_type != "Configuration" {
        return Err(WireError::invalid(
            "PayloadType",
            format!("{payload_type:?}, a profile is a Configuration"),
        ));
    }
    version_one(&mut f)?;
    let identifier = non_empty(&mut f, "PayloadIdentifier")?;
    let uuid = non_empty(&mut f, "PayloadUUID")?;
    let [description, display_name, organization] = texts(&mut f)?;
    if f.opt_data("EncryptedPayloadContent")?.is_some() {
        return Err(WireError::invalid(
            "EncryptedPayloadContent",
            "this device has no key to decrypt it",
        ));
    }
    f.opt_boolean("PayloadRemovalDisallowed")?;
    f.opt_string("PayloadScope")?;
    if let Some(v) = f.opt_value("RemovalDate").filter(|v| v.as_date().is_none()) {
        return Err(super::wrong("RemovalDate", "date", v));
    }
    if let Some(v) = f.opt_value("PayloadExpirationDate").filter(|v| v.as_date().is_none()) {
        return Err(super::wrong("PayloadExpirationDate", "date", v));
    }
    if let Some(v) = f.opt_value("DurationUntilRemoval").filter(|v| v.as_real().is_none()) {
        return Err(super::wrong("DurationUntilRemoval", "real", v));
    }
    f.opt_integer("TargetDeviceType")?;
    if let Some(mut consent) = f.opt_dict("ConsentText")? {
        let langs: Vec<String> = consent.dict.keys().cloned().collect();
        for lang in langs {
            consent.string(&lang)?;
        }
        consent.finish()?;
    }
    let items = f.array("PayloadContent")?;
    f.finish()?;
    let payloads = items
        .iter()
        .enumerate()
        .map(|(i, v)| payload(v, &format!("PayloadContent[{i}]")))
        .collect::<Result<Vec<_>, _>>()?;
    let profile = Profile { identifier, uuid, display_name, description, organization, payloads };
    consistent(&profile)?;
    Ok(profile)
}

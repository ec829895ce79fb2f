//! A stand-in for Apple's device PKI, **for the sandbox and tests only**: a stand-in "Apple
//! iPhone Device CA" (under its own stand-in root) that issues device identity certificates
//! the way Apple's does, and a stand-in "Enterprise Attestation Root" (with a Sub CA) that
//! issues Managed Device Attestation leaves carrying Apple's OIDs.
//!
//! Exposes [`StandInApplePki`] (generate, anchors, issue), [`DeviceIdentity`] and
//! [`AttestedProperties`]. Nothing here is trusted by a production daemon: the anchors it
//! returns must only be configured in sandbox or test mode (the daemon's job to enforce).
//! It lives in the wire crate, beside the formats it imitates, because the wire crate's own
//! tests verify against it; the simulators re-export it as `apple_pki`.
//! Shapes follow ../shared/spec/enrollment.md §1.2 (RSA-1024 device identity, EKU serverAuth +
//! clientAuth, extension 1.2.840.113635.100.6.10.4 = NULL) and §3.2–3.3 (P-384 attestation
//! chain, raw-byte OID values). Time is a parameter.

use crate::crypto::Secret;
use crate::crypto::chain::TrustAnchors;
use rcgen::{
    BasicConstraints, CertificateParams, CustomExtension, DistinguishedName, DnType,
    ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair, KeyUsagePurpose, PKCS_ECDSA_P256_SHA256,
    PKCS_ECDSA_P384_SHA384, SerialNumber,
};
use rsa::pkcs8::{EncodePrivateKey, EncodePublicKey, LineEnding};
use time::{Duration, OffsetDateTime};

/// Apple's attestation OIDs (../shared/spec/enrollment.md §3.3), as integer arcs for rcgen.
pub mod oid_arcs {
    pub const SERIAL: &[u64] = &[1, 2, 840, 113635, 100, 8, 9, 1];
    pub const UDID: &[u64] = &[1, 2, 840, 113635, 100, 8, 9, 2];
    pub const SW_UPDATE_DEVICE_ID: &[u64] = &[1, 2, 840, 113635, 100, 8, 9, 4];
    pub const OS_VERSION: &[u64] = &[1, 2, 840, 113635, 100, 8, 10, 1];
    pub const SEPOS_VERSION: &[u64] = &[1, 2, 840, 113635, 100, 8, 10, 2];
    pub const LLB_VERSION: &[u64] = &[1, 2, 840, 113635, 100, 8, 10, 3];
    pub const FRESHNESS: &[u64] = &[1, 2, 840, 113635, 100, 8, 11, 1];
    pub const DEVICE_IDENTITY_MARKER: &[u64] = &[1, 2, 840, 113635, 100, 6, 10, 4];
}

/// Why the stand-in PKI could not generate, issue, or be read back.
#[derive(Debug, thiserror::Error)]
pub enum ApplePkiError {
    #[error("stand-in certificate generation failed: {0}")]
    Generate(String),
    #[error(
        "the stand-in Apple PKI file is not one a sandbox wrote ({0}); restart the sandbox to write it again"
    )]
    File(String),
}

impl From<rcgen::Error> for ApplePkiError {
    fn from(e: rcgen::Error) -> Self {
        ApplePkiError::Generate(e.to_string())
    }
}

/// One stand-in CA: its certificate and the key it issues with.
pub struct StandInCa {
    pub cert_der: Vec<u8>,
    pub cert_pem: String,
    issuer: Issuer<'static, KeyPair>,
}

/// The stand-in Apple device PKI. Generate once per sandbox or test.
pub struct StandInApplePki {
    /// Stand-in "Apple Root CA" above the device CA.
    pub device_root: StandInCa,
    /// Stand-in "Apple iPhone Device CA": the device identity anchor.
    pub device_ca: StandInCa,
    /// Stand-in "Apple Enterprise Attestation Root CA": the attestation anchor.
    pub attestation_root: StandInCa,
    /// Stand-in "Apple Enterprise Attestation Sub CA 1".
    pub attestation_sub_ca: StandInCa,
}

/// A device identity certificate and its RSA-1024 key, as a device's keychain holds them.
pub struct DeviceIdentity {
    pub cert_der: Vec<u8>,
    pub cert_pem: String,
    pub key: rsa::PrivateKey,
    /// The key as PKCS#8 PEM.
    pub key_pem: Secret<String>,
}

/// What an attestation leaf states about a device (None: the OID is left out).
#[derive(Clone, Debug, Default)]
pub struct AttestedProperties {
    pub serial: Option<String>,
    pub udid: Option<String>,
    pub os_version: Option<String>,
    pub sepos_version: Option<String>,
    pub llb_version: Option<String>,
    pub sw_update_device_id: Option<String>,
    /// The freshness code: SHA-256 of the ACME challenge token.
    pub freshness: Option<Vec<u8>>,
}

fn name(common_name: &str) -> DistinguishedName {
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CountryName, "US");
    dn.push(DnType::OrganizationName, "adebox stand-in for Apple Inc. (sandbox only)");
    dn.push(DnType::CommonName, common_name);
    dn
}

fn serial() -> SerialNumber {
    let mut bytes = crate::crypto::random_bytes::<12>();
    bytes[0] &= 0x7f;
    SerialNumber::from_slice(&bytes)
}

fn ca_params(common_name: &str, now: OffsetDateTime, years: i64) -> CertificateParams {
    let mut params = CertificateParams::default();
    params.distinguished_name = name(common_name);
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    params.not_before = now - Duration::hours(1);
    params.not_after = now + Duration::days(365 * years);
    params.serial_number = Some(serial());
    params
}

impl StandInCa {
    fn root(common_name: &str, now: OffsetDateTime) -> Result<StandInCa, ApplePkiError> {
        let key = KeyPair::generate_for(&PKCS_ECDSA_P384_SHA384)?;
        let params = ca_params(common_name, now, 20);
        let cert = params.self_signed(&key)?;
        Ok(StandInCa {
            cert_der: cert.der().to_vec(),
            cert_pem: cert.pem(),
            issuer: Issuer::new(params, key),
        })
    }

    fn intermediate(
        &self,
        common_name: &str,
        now: OffsetDateTime,
    ) -> Result<StandInCa, ApplePkiError> {
        let key = KeyPair::generate_for(&PKCS_ECDSA_P384_SHA384)?;
        let params = ca_params(common_name, now, 10);
        let cert = params.signed_by(&key, &self.issuer)?;
        Ok(StandInCa {
            cert_der: cert.der().to_vec(),
            cert_pem: cert.pem(),
            issuer: Issuer::new(params, key),
        })
    }

    /// These anchors trust exactly this CA.
    pub fn anchors(&self) -> TrustAnchors {
        TrustAnchors::from_der(vec![self.cert_der.clone()])
            .expect("a certificate rcgen just made parses")
    }
}

/// One CA of [`PkiFile`]: its certificate and signing key, PEM.
#[derive(serde::Serialize, serde::Deserialize)]
struct CaFile {
    cert_pem: String,
    key_pem: String,
}

/// The stand-in PKI as a sandbox hands it to `adebox sim devices` (a file in its data
/// directory, 0600: the keys let anyone make devices this sandbox trusts).
#[derive(serde::Serialize, serde::Deserialize)]
struct PkiFile {
    note: String,
    device_root: CaFile,
    device_ca: CaFile,
    attestation_root: CaFile,
    attestation_sub_ca: CaFile,
}

/// Largest stand-in PKI file read back (four P-384 CAs take about 5 KiB).
const MAX_PKI_FILE: usize = 64 * 1024;

impl StandInCa {
    fn to_file(&self) -> CaFile {
        CaFile { cert_pem: self.cert_pem.clone(), key_pem: self.issuer.key().serialize_pem() }
    }

    fn from_file(f: CaFile) -> Result<StandInCa, ApplePkiError> {
        let bad = |e: rcgen::Error| ApplePkiError::File(e.to_string());
        let key = KeyPair::from_pem(&f.key_pem).map_err(bad)?;
        let cert_der = crate::crypto::ca::pem_to_der(&f.cert_pem)
            .map_err(|e| ApplePkiError::File(e.to_string()))?;
        let issuer = Issuer::from_ca_cert_pem(&f.cert_pem, key).map_err(bad)?;
        Ok(StandInCa { cert_der, cert_pem: f.cert_pem, issuer })
    }
}

impl StandInApplePki {
    /// The PKI with its keys as JSON, for a sandbox's data directory only.
    pub fn to_json(&self) -> Secret<String> {
        let file = PkiFile {
            note: "adebox sandbox stand-in Apple PKI: sandbox and tests only, never trusted by a production appliance".into(),
            device_root: self.device_root.to_file(),
            device_ca: self.device_ca.to_file(),
            attestation_root: self.attestation_root.to_file(),
            attestation_sub_ca: self.attestation_sub_ca.to_file(),
        };
        Secret::new(serde_json::to_string_pretty(&file).expect("strings serialize"))
    }

    /// Reads back what [`StandInApplePki::to_json`] wrote.
    pub fn from_json(bytes: &[u8]) -> Result<StandInApplePki, ApplePkiError> {
        if bytes.len() > MAX_PKI_FILE {
            return Err(ApplePkiError::File(format!("{} bytes is too large", bytes.len())));
        }
        let f: PkiFile =
            serde_json::from_slice(bytes).map_err(|e| ApplePkiError::File(e.to_string()))?;
        Ok(StandInApplePki {
            device_root: StandInCa::from_file(f.device_root)?,
            device_ca: StandInCa::from_file(f.device_ca)?,
            attestation_root: StandInCa::from_file(f.attestation_root)?,
            attestation_sub_ca: StandInCa::from_file(f.attestation_sub_ca)?,
        })
    }

    /// Four new CAs, valid from an hour before `now`.
    pub fn generate(now: OffsetDateTime) -> Result<StandInApplePki, ApplePkiError> {
        let device_root = StandInCa::root("Apple Root CA (stand-in)", now)?;
        let device_ca = device_root.intermediate("Apple iPhone Device CA (stand-in)", now)?;
        let attestation_root =
            StandInCa::root("Apple Enterprise Attestation Root CA (stand-in)", now)?;
        let attestation_sub_ca = attestation_root
            .intermediate("Apple Enterprise Attestation Sub CA 1 (stand-in)", now)?;
        Ok(StandInApplePki { device_root, device_ca, attestation_root, attestation_sub_ca })
    }

    /// The anchors a daemon in sandbox mode uses instead of the Apple iPhone Device CA.
    pub fn device_identity_anchors(&self) -> TrustAnchors {
        self.device_ca.anchors()
    }

    /// The anchors a daemon in sandbox mode uses instead of the Apple attestation root.
    pub fn attestation_anchors(&self) -> TrustAnchors {
        self.attestation_root.anchors()
    }

    /// The CA certificates a device carries in its CMS signatures (device CA, root), DER.
    pub fn device_identity_bag(&self) -> Vec<Vec<u8>> {
        vec![self.device_ca.cert_der.clone(), self.device_root.cert_der.clone()]
    }

    /// A device identity for `udid`: a new RSA-1024 key (as Apple's) and a one-year
    /// certificate from the stand-in Device CA.
    pub fn issue_device_identity(
        &self,
        udid: &str,
        now: OffsetDateTime,
    ) -> Result<DeviceIdentity, ApplePkiError> {
        let gen_err = |e: &dyn std::fmt::Display| ApplePkiError::Generate(e.to_string());
        let key = rsa::PrivateKey::new(&mut getrandom::SysRng, 1024).map_err(|e| gen_err(&e))?;
        let spki = key.to_public_key().to_public_key_der().map_err(|e| gen_err(&e))?;
        let public = rcgen::SubjectPublicKeyInfo::from_der(spki.as_bytes())?;
        let mut params = CertificateParams::default();
        let mut dn = DistinguishedName::new();
        dn.push(DnType::CommonName, udid);
        params.distinguished_name = dn;
        params.is_ca = IsCa::ExplicitNoCa;
        params.key_usages =
            vec![KeyUsagePurpose::DigitalSignature, KeyUsagePurpose::KeyEncipherment];
        params.extended_key_usages =
            vec![ExtendedKeyUsagePurpose::ServerAuth, ExtendedKeyUsagePurpose::ClientAuth];
        params.custom_extensions = vec![CustomExtension::from_oid_content(
            oid_arcs::DEVICE_IDENTITY_MARKER,
            vec![0x05, 0x00],
        )];
        params.not_before = now - Duration::hours(1);
        params.not_after = now + Duration::days(365);
        params.serial_number = Some(serial());
        let cert = params.signed_by(&public, &self.device_ca.issuer)?;
        let key_pem = key.to_pkcs8_pem(LineEnding::LF).map_err(|e| gen_err(&e))?;
        Ok(DeviceIdentity {
            cert_der: cert.der().to_vec(),
            cert_pem: cert.pem(),
            key,
            key_pem: Secret::new(key_pem.to_string()),
        })
    }

    /// An attestation chain (`x5c`: leaf, Sub CA) for the device key `device_spki_der` (DER
    /// SubjectPublicKeyInfo, P-256 or P-384), stating `props`, valid for 90 days from an hour
    /// before `now`, as Apple's leaves are.
    pub fn issue_attestation(
        &self,
        props: &AttestedProperties,
        device_spki_der: &[u8],
        now: OffsetDateTime,
    ) -> Result<Vec<Vec<u8>>, ApplePkiError> {
        let public = rcgen::SubjectPublicKeyInfo::from_der(device_spki_der)?;
        let mut params = CertificateParams::default();
        let mut dn = DistinguishedName::new();
        dn.push(DnType::CommonName, hex::encode(crate::crypto::random_bytes::<32>()));
        dn.push(DnType::OrganizationalUnitName, "AAA Certification");
        dn.push(DnType::OrganizationName, "adebox stand-in for Apple Inc. (sandbox only)");
        params.distinguished_name = dn;
        params.is_ca = IsCa::ExplicitNoCa;
        params.key_usages = vec![
            KeyUsagePurpose::DigitalSignature,
            KeyUsagePurpose::ContentCommitment,
            KeyUsagePurpose::KeyEncipherment,
            KeyUsagePurpose::DataEncipherment,
        ];
        let raw = |arcs: &[u64], value: &Option<String>| {
            value.as_ref().map(|v| CustomExtension::from_oid_content(arcs, v.as_bytes().to_vec()))
        };
        params.custom_extensions = [
            raw(oid_arcs::SERIAL, &props.serial),
            raw(oid_arcs::UDID, &props.udid),
            raw(oid_arcs::OS_VERSION, &props.os_version),
            raw(oid_arcs::SEPOS_VERSION, &props.sepos_version),
            raw(oid_arcs::LLB_VERSION, &props.llb_version),
            raw(oid_arcs::SW_UPDATE_DEVICE_ID, &props.sw_update_device_id),
            props
                .freshness
                .as_ref()
                .map(|f| CustomExtension::from_oid_content(oid_arcs::FRESHNESS, f.clone())),
        ]
        .into_iter()
        .flatten()
        .collect();
        params.not_before = now - Duration::hours(1);
        params.not_after = now + Duration::days(90);
        params.serial_number = Some(serial());
        let cert = params.signed_by(&public, &self.attestation_sub_ca.issuer)?;
        Ok(vec![cert.der().to_vec(), self.attestation_sub_ca.cert_der.clone()])
    }
}

/// A new P-384 device key (the Secure Enclave key ACME attests) as rcgen holds it; its
/// SubjectPublicKeyInfo is `rcgen::PublicKeyData::subject_public_key_info(&key)`.
pub fn new_device_key() -> Result<KeyPair, ApplePkiError> {
    Ok(KeyPair::generate_for(&PKCS_ECDSA_P384_SHA384)?)
}

/// A new P-256 key, for tests of the smaller `KeySize`.
pub fn new_device_key_p256() -> Result<KeyPair, ApplePkiError> {
    Ok(KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::chain::verify_chain;

    const NOW: OffsetDateTime = time::macros::datetime!(2026-06-01 0:00 UTC);

    #[test]
    fn a_pki_read_back_from_its_file_issues_what_the_original_anchors_trust() {
        let pki = StandInApplePki::generate(NOW).unwrap();
        let back = StandInApplePki::from_json(pki.to_json().expose().as_bytes()).unwrap();
        let id = back.issue_device_identity("00008110-000A1B2C3D4E5F60", NOW).unwrap();
        let bag = pki.device_identity_bag();
        verify_chain(&id.cert_der, &bag, &pki.device_identity_anchors(), Some(NOW)).unwrap();
        let key = new_device_key().unwrap();
        let spki = rcgen::PublicKeyData::subject_public_key_info(&key);
        let x5c = back.issue_attestation(&AttestedProperties::default(), &spki, NOW).unwrap();
        verify_chain(&x5c[0], &x5c[1..], &pki.attestation_anchors(), Some(NOW)).unwrap();
        assert_eq!(back.device_ca.cert_der, pki.device_ca.cert_der);
    }

    #[test]
    fn refuses_a_file_that_is_not_a_stand_in_pki() {
        for bad in [&b"not json"[..], br#"{"note": "x"}"#, &vec![b' '; MAX_PKI_FILE + 1]] {
            let err = StandInApplePki::from_json(bad).err().unwrap();
            assert!(err.to_string().contains("restart the sandbox"), "{err}");
        }
    }
}

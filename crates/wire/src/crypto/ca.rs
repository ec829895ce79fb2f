//! The appliance's own certificate authority and what it issues.
//!
//! On first start the daemon creates an ECDSA P-384 CA (ten years) and issues the TLS server
//! certificate from it; later issues use the same authority for device identities. Issued
//! server certificates follow Apple's rules for TLS that devices trust (ECDSA P-256, SHA-2,
//! names in SAN, EKU serverAuth, validity ≤ 825 days). The simulators use this module too, to
//! make their own stand-in authorities.

use crate::crypto::Secret;
use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose, PKCS_ECDSA_P256_SHA256, PKCS_ECDSA_P384_SHA384, SanType,
    SerialNumber,
};
use sha2::{Digest, Sha256};
use std::net::IpAddr;
use time::{Duration, OffsetDateTime};

/// Longest server certificate lifetime Apple devices accept.
pub const MAX_SERVER_CERT_DAYS: i64 = 825;

#[derive(Debug, thiserror::Error)]
pub enum CaError {
    #[error("certificate generation failed: {0}")]
    Generate(#[from] rcgen::Error),
    #[error("the certificate is not valid PEM or DER: {0}")]
    BadCertificate(String),
    #[error("the private key is not a PEM key this appliance can use: {0}")]
    BadKey(String),
    #[error("`{0}` is neither a DNS name nor an IP address")]
    BadName(String),
}

/// A certificate authority: its certificate and signing key.
pub struct Authority {
    cert_pem: String,
    cert_der: Vec<u8>,
    issuer: Issuer<'static, KeyPair>,
    key_pem: Secret<String>,
}

/// A certificate with its freshly generated private key.
pub struct Issued {
    pub cert_pem: String,
    pub key_pem: Secret<String>,
    pub not_before: OffsetDateTime,
    pub not_after: OffsetDateTime,
}

impl std::fmt::Debug for Authority {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Authority").field("fingerprint", &self.fingerprint_sha256()).finish()
    }
}

impl Authority {
    /// Creates a new self-signed CA valid from an hour before `now` for `validity`.
    pub fn generate(
        common_name: &str,
        now: OffsetDateTime,
        validity: Duration,
    ) -> Result<Self, CaError> {
        let key = KeyPair::generate_for(&PKCS_ECDSA_P384_SHA384)?;
        let key_pem = Secret::new(key.serialize_pem());
        let usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let constraints = BasicConstraints::Unconstrained;
        Self::self_signed(&key, &key_pem, common_name, constraints, usages, now, validity)
    }

    /// Creates a new self-signed RSA-2048 CA that issues end-entity certificates only
    /// (pathLenConstraint 0; keyUsage keyCertSign + cRLSign): the SCEP CA, which GetCACert
    /// answers with the RA it issues so that every certificate a SCEP client sees is RSA and
    /// the CA is a root the client can anchor its check of the RA in (RFC 8894 §4.2.1.2).
    /// Slow: RSA key generation, run it off async threads.
    pub fn generate_rsa(
        common_name: &str,
        now: OffsetDateTime,
        validity: Duration,
    ) -> Result<Self, CaError> {
        let (key, key_pem) = rsa_key_pair(None)?;
        let usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let constraints = BasicConstraints::Constrained(0);
        Self::self_signed(&key, &key_pem, common_name, constraints, usages, now, validity)
    }

    fn self_signed(
        key: &KeyPair,
        key_pem: &Secret<String>,
        common_name: &str,
        constraints: BasicConstraints,
        key_usages: Vec<KeyUsagePurpose>,
        now: OffsetDateTime,
        validity: Duration,
    ) -> Result<Self, CaError> {
        let mut params = CertificateParams::default();
        params.distinguished_name = distinguished_name(common_name);
        params.is_ca = IsCa::Ca(constraints);
        params.key_usages = key_usages;
        params.not_before = now - Duration::hours(1);
        params.not_after = now + validity;
        params.serial_number = Some(random_serial());
        let cert = params.self_signed(key)?;
        Self::from_pem(&cert.pem(), key_pem.expose())
    }

    /// Loads a CA from its certificate and private key (PKCS#8 PEM).
    pub fn from_pem(cert_pem: &str, key_pem: &str) -> Result<Self, CaError> {
        let key = KeyPair::from_pem(key_pem).map_err(|e| CaError::BadKey(e.to_string()))?;
        let cert_der = pem_to_der(cert_pem)?;
        let issuer = Issuer::from_ca_cert_der(&cert_der.clone().into(), key)
            .map_err(|e| CaError::BadCertificate(e.to_string()))?;
        Ok(Authority {
            cert_pem: cert_pem.to_string(),
            cert_der,
            issuer,
            key_pem: Secret::new(key_pem.to_string()),
        })
    }

    pub fn cert_pem(&self) -> &str {
        &self.cert_pem
    }

    pub fn cert_der(&self) -> &[u8] {
        &self.cert_der
    }

    /// The CA private key as PKCS#8 PEM, for storing it (0600) in the data directory.
    pub fn key_pem(&self) -> &Secret<String> {
        &self.key_pem
    }

    /// SHA-256 of the certificate DER as colon-separated upper-case hex, as browsers show it.
    pub fn fingerprint_sha256(&self) -> String {
        fingerprint_sha256(&self.cert_der)
    }

    /// Issues a TLS server certificate for `names` (DNS names and IP addresses), with a new
    /// ECDSA P-256 key, valid from an hour before `now` for `validity` (capped at 825 days).
    pub fn issue_server(
        &self,
        names: &[String],
        now: OffsetDateTime,
        validity: Duration,
    ) -> Result<Issued, CaError> {
        let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256)?;
        let mut params = CertificateParams::default();
        let first = names.first().cloned().unwrap_or_else(|| "adebox".to_string());
        params.distinguished_name = distinguished_name(&first);
        params.subject_alt_names = names.iter().map(|n| san(n)).collect::<Result<_, _>>()?;
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        params.use_authority_key_identifier_extension = true;
        params.not_before = now - Duration::hours(1);
        params.not_after =
            now + validity.min(Duration::days(MAX_SERVER_CERT_DAYS) - Duration::hours(2));
        params.serial_number = Some(random_serial());
        let cert = params.signed_by(&key, &self.issuer)?;
        Ok(Issued {
            cert_pem: cert.pem(),
            key_pem: Secret::new(key.serialize_pem()),
            not_before: params.not_before,
            not_after: params.not_after,
        })
    }
}

impl Authority {
    /// Issues a TLS client certificate (EKU clientAuth) named `common_name`, with a new
    /// ECDSA P-256 key: the shape of the identities devices present on the MDM routes.
    pub fn issue_client(
        &self,
        common_name: &str,
        now: OffsetDateTime,
        validity: Duration,
    ) -> Result<Issued, CaError> {
        self.issue_p256(common_name, vec![ExtendedKeyUsagePurpose::ClientAuth], now, validity)
    }

    /// Issues a signing certificate (key usage digitalSignature, no extended key usage: it
    /// signs documents such as the enrollment profile, never a TLS connection) named
    /// `common_name`, with a new ECDSA P-256 key.
    pub fn issue_signing(
        &self,
        common_name: &str,
        now: OffsetDateTime,
        validity: Duration,
    ) -> Result<Issued, CaError> {
        self.issue_p256(common_name, vec![], now, validity)
    }

    /// A digitalSignature end-entity certificate with a new P-256 key and `extended_key_usages`.
    fn issue_p256(
        &self,
        common_name: &str,
        extended_key_usages: Vec<ExtendedKeyUsagePurpose>,
        now: OffsetDateTime,
        validity: Duration,
    ) -> Result<Issued, CaError> {
        let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256)?;
        let key_pem = Secret::new(key.serialize_pem());
        let usages = vec![KeyUsagePurpose::DigitalSignature];
        self.end_entity(&key, key_pem, common_name, usages, extended_key_usages, now, validity)
    }

    /// An end-entity certificate for `key` (whose PEM comes back in [`Issued`]).
    #[allow(clippy::too_many_arguments)]
    fn end_entity(
        &self,
        key: &KeyPair,
        key_pem: Secret<String>,
        common_name: &str,
        key_usages: Vec<KeyUsagePurpose>,
        extended_key_usages: Vec<ExtendedKeyUsagePurpose>,
        now: OffsetDateTime,
        validity: Duration,
    ) -> Result<Issued, CaError> {
        let mut params = CertificateParams::default();
        params.distinguished_name = distinguished_name(common_name);
        params.key_usages = key_usages;
        params.extended_key_usages = extended_key_usages;
        params.use_authority_key_identifier_extension = true;
        params.not_before = now - Duration::hours(1);
        params.not_after = now + validity;
        params.serial_number = Some(random_serial());
        let cert = params.signed_by(key, &self.issuer)?;
        Ok(Issued {
            cert_pem: cert.pem(),
            key_pem,
            not_before: params.not_before,
            not_after: params.not_after,
        })
    }
}

impl Authority {
    /// Issues a TLS client certificate (EKU clientAuth) for the key of a PKCS#10 request,
    /// with the subject `subject` instead of the request's: the stand-in Apple Push
    /// Certificates Portal's issuing (sandbox and tests only). Returns the certificate PEM.
    pub fn issue_for_request(
        &self,
        csr_der: &[u8],
        subject: DistinguishedName,
        now: OffsetDateTime,
        validity: Duration,
    ) -> Result<String, CaError> {
        let mut csr = rcgen::CertificateSigningRequestParams::from_der(&csr_der.to_vec().into())?;
        let params = &mut csr.params;
        params.distinguished_name = subject;
        params.is_ca = IsCa::ExplicitNoCa;
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        params.use_authority_key_identifier_extension = true;
        params.not_before = now - Duration::hours(1);
        params.not_after = now + validity;
        params.serial_number = Some(random_serial());
        Ok(csr.signed_by(&self.issuer)?.pem())
    }

    /// Issues an RSA certificate named `common_name` with keyUsage digitalSignature +
    /// keyEncipherment and no extended key usage: the SCEP RA certificate devices encrypt
    /// their requests to and whose signature they check on the replies (RFC 8894 §2.1;
    /// devices can only encrypt to RSA). `key_pem` certifies a key kept from before (PKCS#8);
    /// `None` makes a new RSA-2048 key. Slow then: run it off async threads.
    pub fn issue_rsa_ra(
        &self,
        common_name: &str,
        key_pem: Option<&str>,
        now: OffsetDateTime,
        validity: Duration,
    ) -> Result<Issued, CaError> {
        let (key, key_pem) = rsa_key_pair(key_pem)?;
        let usages = vec![KeyUsagePurpose::DigitalSignature, KeyUsagePurpose::KeyEncipherment];
        self.end_entity(&key, key_pem, common_name, usages, vec![], now, validity)
    }
}

/// An RSA key for rcgen (signing with SHA-256) and its PKCS#8 PEM: `existing`, or a new
/// RSA-2048 key.
fn rsa_key_pair(existing: Option<&str>) -> Result<(KeyPair, Secret<String>), CaError> {
    use rsa::pkcs8::{EncodePrivateKey, LineEnding};
    let bad = |e: &dyn std::fmt::Display| CaError::BadKey(e.to_string());
    let pem = match existing {
        Some(pem) => pem.to_string(),
        None => {
            let key = rsa::PrivateKey::new(&mut getrandom::SysRng, 2048).map_err(|e| bad(&e))?;
            key.to_pkcs8_pem(LineEnding::LF).map_err(|e| bad(&e))?.to_string()
        }
    };
    let key = KeyPair::from_pkcs8_pem_and_sign_algo(&pem, &rcgen::PKCS_RSA_SHA256)
        .map_err(|e| bad(&e))?;
    Ok((key, Secret::new(pem)))
}

/// `id-on-permanentIdentifier` (RFC 4043), the SAN otherName of ACME device identities.
const PERMANENT_IDENTIFIER_ARCS: [u64; 9] = [1, 3, 6, 1, 5, 5, 7, 8, 3];
/// `subjectAltName`.
const SAN_ARCS: [u64; 4] = [2, 5, 29, 17];

impl Authority {
    /// Issues a device identity for a key the device holds (`spki_der`, DER
    /// SubjectPublicKeyInfo, taken from its CSR): EKU clientAuth, KU digitalSignature, subject
    /// `O=adebox, CN=<common_name>`, and a non-critical SAN otherName permanentIdentifier
    /// (RFC 4043) `SEQUENCE { UTF8String permanent_identifier }` (../shared/spec/enrollment.md
    /// §3.6; rcgen has no structured otherName of this shape, so the SAN is DER by hand).
    /// Returns the certificate DER.
    pub fn issue_for_device_key(
        &self,
        spki_der: &[u8],
        common_name: &str,
        permanent_identifier: &str,
        now: OffsetDateTime,
        validity: Duration,
    ) -> Result<Vec<u8>, CaError> {
        let public = rcgen::SubjectPublicKeyInfo::from_der(spki_der)?;
        let mut params = CertificateParams::default();
        params.distinguished_name = distinguished_name(common_name);
        params.is_ca = IsCa::ExplicitNoCa;
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        params.use_authority_key_identifier_extension = true;
        let mut san = rcgen::CustomExtension::from_oid_content(
            &SAN_ARCS,
            permanent_identifier_san(permanent_identifier),
        );
        san.set_criticality(false);
        params.custom_extensions = vec![san];
        params.not_before = now - Duration::hours(1);
        params.not_after = now + validity;
        params.serial_number = Some(random_serial());
        Ok(params.signed_by(&public, &self.issuer)?.der().to_vec())
    }
}

/// DER of `GeneralNames { otherName { permanentIdentifier, [0] { SEQUENCE { UTF8String } } } }`.
fn permanent_identifier_san(value: &str) -> Vec<u8> {
    let oid = der_tlv(0x06, &oid_body(&PERMANENT_IDENTIFIER_ARCS));
    let inner = der_tlv(0x30, &der_tlv(0x0c, value.as_bytes()));
    let other_name = der_tlv(0xa0, &[oid, der_tlv(0xa0, &inner)].concat());
    der_tlv(0x30, &other_name)
}

fn der_tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let len = content.len();
    let mut out = vec![tag];
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes: Vec<u8> = len.to_be_bytes().iter().copied().skip_while(|b| *b == 0).collect();
        out.push(0x80 | bytes.len() as u8);
        out.extend(bytes);
    }
    out.extend_from_slice(content);
    out
}

fn oid_body(arcs: &[u64]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut arcs_iter = arcs.iter().copied();
    let first = arcs_iter.next().unwrap_or(0) * 40 + arcs_iter.next().unwrap_or(0);
    for arc in std::iter::once(first).chain(arcs_iter) {
        let mut chunk = vec![(arc & 0x7f) as u8];
        let mut rest = arc >> 7;
        while rest > 0 {
            chunk.push(0x80 | (rest & 0x7f) as u8);
            rest >>= 7;
        }
        out.extend(chunk.iter().rev());
    }
    out
}

/// `O=adebox, CN=<common_name>`: the subject of every certificate the appliance makes.
pub(crate) fn distinguished_name(common_name: &str) -> DistinguishedName {
    let mut dn = DistinguishedName::new();
    dn.push(DnType::OrganizationName, "adebox");
    dn.push(DnType::CommonName, common_name);
    dn
}

fn san(name: &str) -> Result<SanType, CaError> {
    if let Ok(ip) = name.parse::<IpAddr>() {
        return Ok(SanType::IpAddress(ip));
    }
    if !is_dns_name(name) {
        return Err(CaError::BadName(name.to_string()));
    }
    let dns = name.to_string().try_into().map_err(|_| CaError::BadName(name.to_string()))?;
    Ok(SanType::DnsName(dns))
}

/// RFC 1123 host name: dot-separated labels of letters, digits and inner hyphens, each at
/// most 63 characters, 253 in all. No wildcards: the appliance names itself exactly.
pub fn is_dns_name(name: &str) -> bool {
    let name = name.strip_suffix('.').unwrap_or(name);
    !name.is_empty()
        && name.len() <= 253
        && name.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
}

/// A random positive 128-bit serial (RFC 5280 §4.1.2.2: positive, at most 20 octets).
pub(crate) fn random_serial() -> SerialNumber {
    let mut bytes = crate::crypto::random_bytes::<16>();
    bytes[0] &= 0x7f;
    bytes[0] |= 0x01; // never a leading zero octet, so the DER encoding keeps all 16 bytes
    SerialNumber::from_slice(&bytes)
}

/// Decodes the first certificate of a PEM text.
pub fn pem_to_der(pem: &str) -> Result<Vec<u8>, CaError> {
    use rustls_pki_types::pem::PemObject;
    rustls_pki_types::CertificateDer::from_pem_slice(pem.as_bytes())
        .map(|c| c.to_vec())
        .map_err(|e| CaError::BadCertificate(format!("{e:?}")))
}

/// SHA-256 of DER bytes as colon-separated upper-case hex.
pub fn fingerprint_sha256(der: &[u8]) -> String {
    let digest = Sha256::digest(der);
    digest.iter().map(|b| format!("{b:02X}")).collect::<Vec<_>>().join(":")
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn issues_a_server_certificate_apple_devices_accept() {
        let now = datetime!(2026-11-24 12:00 UTC);
        let ca = Authority::generate("adebox test CA", now, Duration::days(3650)).unwrap();
        let names = vec!["adebox.example.org".to_string(), "192.0.2.10".to_string()];
        let issued = ca.issue_server(&names, now, Duration::days(2000)).unwrap();
        assert!(issued.not_after - issued.not_before <= Duration::days(MAX_SERVER_CERT_DAYS));

        let der = pem_to_der(&issued.cert_pem).unwrap();
        let (_, cert) = x509_parser::parse_x509_certificate(&der).unwrap();
        let eku = cert.extended_key_usage().unwrap().unwrap().value;
        assert!(eku.server_auth);
        let sans = cert.subject_alternative_name().unwrap().unwrap().value;
        assert_eq!(sans.general_names.len(), 2);
        assert_eq!(cert.signature_algorithm.algorithm.to_id_string(), "1.2.840.10045.4.3.3");
        let (_, ca_cert) = x509_parser::parse_x509_certificate(ca.cert_der()).unwrap();
        cert.verify_signature(Some(ca_cert.public_key())).unwrap();
    }

    #[test]
    fn a_reloaded_authority_keeps_issuing_under_the_same_certificate() {
        let now = datetime!(2026-11-24 12:00 UTC);
        let ca = Authority::generate("adebox test CA", now, Duration::days(3650)).unwrap();
        let again = Authority::from_pem(ca.cert_pem(), ca.key_pem().expose()).unwrap();
        assert_eq!(again.fingerprint_sha256(), ca.fingerprint_sha256());
        let issued = again.issue_server(&["a.example".into()], now, Duration::days(397)).unwrap();
        let der = pem_to_der(&issued.cert_pem).unwrap();
        let (_, cert) = x509_parser::parse_x509_certificate(&der).unwrap();
        let (_, ca_cert) = x509_parser::parse_x509_certificate(ca.cert_der()).unwrap();
        cert.verify_signature(Some(ca_cert.public_key())).unwrap();
    }

    #[test]
    fn refuses_names_that_are_not_dns_or_ip() {
        let now = datetime!(2026-11-24 12:00 UTC);
        let ca = Authority::generate("adebox test CA", now, Duration::days(10)).unwrap();
        assert!(ca.issue_server(&["bad name!".into()], now, Duration::days(1)).is_err());
        assert!(ca.issue_server(&["-a.example".into()], now, Duration::days(1)).is_err());
        assert!(ca.issue_server(&["a..example".into()], now, Duration::days(1)).is_err());
        assert!(ca.issue_server(&["adebox.local".into()], now, Duration::days(1)).is_ok());
    }
}

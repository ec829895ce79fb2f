//! The device side of SCEP enrollment (RFC 8894 §2.3, §3.3.1): what an iOS 15 device does
//! with the `com.apple.security.scep` payload. Used by the device-fleet simulator and tests.
//!
//! Exposes [`DeviceKey`] (an RSA-2048 key with its self-signed certificate), [`DeviceKey::csr`]
//! (PKCS#10 with the challengePassword), [`DeviceKey::pkcs_req`] (the pkiMessage, enveloped
//! to the RA and signed), [`DeviceKey::read_cert_rep`], and [`pick_ra`] / [`pick_ca`] (the RA
//! certificate out of a GetCACert answer, and the CA there that issued it). Pure: no tokio,
//! redb, reqwest or actix.

use super::{
    FailInfo, MessageType, OID_FAIL_INFO, OID_MESSAGE_TYPE, OID_PKI_STATUS, OID_RECIPIENT_NONCE,
    OID_SENDER_NONCE, OID_TRANSACTION_ID, PkiStatus, ScepError, octets_attribute,
    octets_attribute_value, printable_attribute, string_attribute,
};
use crate::crypto::cms::{
    CmsEncoding, SignOptions, SignerKey, decrypt_enveloped, encrypt_enveloped_ber,
    sign_attached_with_attributes,
};
use crate::crypto::sigverify::Digest;
use der::Encode;
use rcgen::{CertificateParams, KeyPair, PKCS_RSA_SHA256};
use rsa::pkcs8::{EncodePrivateKey, LineEnding};
use sha2::Digest as _;
use time::{Duration, OffsetDateTime};

/// PKCS#9 challengePassword as rcgen wants it (the same OID as [`super::OID_CHALLENGE_PASSWORD`]).
const CHALLENGE_PASSWORD_ARCS: [u64; 7] = [1, 2, 840, 113549, 1, 9, 7];

/// A device's SCEP key: RSA (the payload's `Keysize`, 2048) and the self-signed certificate
/// that signs the request and receives the encrypted reply.
pub struct DeviceKey {
    key: rsa::PrivateKey,
    rcgen_key: KeyPair,
    pub cert_der: Vec<u8>,
}

/// What a sent request is remembered by, to match its reply.
#[derive(Clone, Debug)]
pub struct Pending {
    pub transaction_id: String,
    pub sender_nonce: Vec<u8>,
}

/// What a CertRep said.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CertRep {
    /// The issued certificate, DER.
    Issued(Vec<u8>),
    Failed(FailInfo),
    Pending,
}

/// A new RSA-2048 key, the size a device uses for SCEP.
pub fn new_rsa_key() -> Result<rsa::PrivateKey, ScepError> {
    rsa::PrivateKey::new(&mut getrandom::SysRng, 2048).map_err(|e| ScepError::Build(e.to_string()))
}

impl DeviceKey {
    /// A new RSA-2048 key and a self-signed certificate `CN=<common_name>` valid around `now`.
    pub fn generate(common_name: &str, now: OffsetDateTime) -> Result<DeviceKey, ScepError> {
        DeviceKey::from_key(new_rsa_key()?, common_name, now)
    }

    /// [`DeviceKey::generate`] with a key made earlier (RSA generation is the slow part).
    pub fn from_key(
        key: rsa::PrivateKey,
        common_name: &str,
        now: OffsetDateTime,
    ) -> Result<DeviceKey, ScepError> {
        DeviceKey::with_serial(key, common_name, now, None)
    }

    /// [`DeviceKey::from_key`] whose self-signed certificate has the serial number `serial`
    /// (big-endian bytes) rather than a random one: other clients' shapes, such as
    /// certmonger's 32-byte serial.
    pub fn with_serial(
        key: rsa::PrivateKey,
        common_name: &str,
        now: OffsetDateTime,
        serial: Option<&[u8]>,
    ) -> Result<DeviceKey, ScepError> {
        let build = |e: &dyn std::fmt::Display| ScepError::Build(e.to_string());
        let pem = key.to_pkcs8_pem(LineEnding::LF).map_err(|e| build(&e))?;
        let rcgen_key =
            KeyPair::from_pkcs8_pem_and_sign_algo(&pem, &PKCS_RSA_SHA256).map_err(|e| build(&e))?;
        let mut params = CertificateParams::default();
        params.distinguished_name = crate::crypto::ca::distinguished_name(common_name);
        params.not_before = now - Duration::hours(1);
        params.not_after = now + Duration::days(1);
        params.serial_number = serial.map(rcgen::SerialNumber::from_slice);
        let cert = params.self_signed(&rcgen_key).map_err(|e| build(&e))?;
        Ok(DeviceKey { key, rcgen_key, cert_der: cert.der().to_vec() })
    }

    /// The private key as PKCS#8 PEM (the device's TLS client identity once the certificate
    /// is issued).
    pub fn key_pem(&self) -> Result<crate::crypto::Secret<String>, ScepError> {
        let pem =
            self.key.to_pkcs8_pem(LineEnding::LF).map_err(|e| ScepError::Build(e.to_string()))?;
        Ok(crate::crypto::Secret::new(pem.to_string()))
    }

    /// A PKCS#10 request for this key, subject `O=adebox, CN=<common_name>`, carrying
    /// `challenge` as its challengePassword (RFC 8894 §2.2).
    pub fn csr(&self, common_name: &str, challenge: &str) -> Result<Vec<u8>, ScepError> {
        let mut params = CertificateParams::default();
        params.distinguished_name = crate::crypto::ca::distinguished_name(common_name);
        // UTF8String, which holds any challenge (PrintableString lacks `_`, for one).
        let value = der::Any::new(der::Tag::Utf8String, challenge.as_bytes().to_vec())?;
        let set = der::asn1::SetOfVec::try_from(vec![value])?.to_der()?;
        let attr = rcgen::Attribute { oid: &CHALLENGE_PASSWORD_ARCS, values: set };
        let csr = params
            .serialize_request_with_attributes(&self.rcgen_key, vec![attr])
            .map_err(|e| ScepError::Build(e.to_string()))?;
        Ok(csr.der().to_vec())
    }

    /// The PKCSReq pkiMessage for `csr_der`, enveloped to `ra_cert_der` (AES, as GetCACaps
    /// offers) and signed with SHA-256 by this key's certificate.
    pub fn pkcs_req(
        &self,
        csr_der: &[u8],
        ra_cert_der: &[u8],
    ) -> Result<(Vec<u8>, Pending), ScepError> {
        self.pkcs_req_for_envelope(&encrypt_enveloped_ber(csr_der, ra_cert_der)?)
    }

    /// The PKCSReq pkiMessage carrying `envelope`, an EnvelopedData of the CSR made elsewhere
    /// (another cipher, several recipients), signed with SHA-256 by this key's certificate.
    pub fn pkcs_req_for_envelope(&self, envelope: &[u8]) -> Result<(Vec<u8>, Pending), ScepError> {
        let spki = super::server::certificate_spki(&self.cert_der)?;
        let pending = Pending {
            transaction_id: hex::encode_upper(sha2::Sha256::digest(&spki)),
            sender_nonce: crate::crypto::random_bytes::<16>().to_vec(),
        };
        let attrs = vec![
            printable_attribute(OID_MESSAGE_TYPE, MessageType::PkcsReq.code())?,
            printable_attribute(OID_TRANSACTION_ID, &pending.transaction_id)?,
            octets_attribute(OID_SENDER_NONCE, &pending.sender_nonce)?,
        ];
        let opts = SignOptions {
            encoding: CmsEncoding::Der,
            digest: Digest::Sha256,
            signed_attributes: true,
            signing_time: None,
        };
        let key = SignerKey::Rsa(Box::new(self.key.clone()));
        let msg =
            sign_attached_with_attributes(envelope, &self.cert_der, &[], &key, &opts, &attrs)?;
        Ok((msg, pending))
    }

    /// Reads the CertRep for `pending`: signed by `ra_cert_der`, naming the same transaction
    /// and echoing the nonce; a SUCCESS is decrypted with this key.
    pub fn read_cert_rep(
        &self,
        bytes: &[u8],
        ra_cert_der: &[u8],
        pending: &Pending,
    ) -> Result<CertRep, ScepError> {
        let verified = crate::crypto::cms::verify_signed(bytes)?;
        if verified.signer != ra_cert_der {
            return Err(ScepError::BadSignature("the CertRep is not signed by the RA".into()));
        }
        let req = super::server::Request::parse(bytes)?;
        let attrs = signed_attributes(bytes)?;
        if req.message_type != Some(MessageType::CertRep) {
            return Err(ScepError::Malformed("the reply is not a CertRep".into()));
        }
        if req.transaction_id != pending.transaction_id {
            return Err(ScepError::Malformed("the CertRep names another transaction".into()));
        }
        if octets_attribute_value(&attrs, OID_RECIPIENT_NONCE).as_deref()
            != Some(pending.sender_nonce.as_slice())
        {
            return Err(ScepError::Malformed("the CertRep does not echo our nonce".into()));
        }
        let status =
            string_attribute(&attrs, OID_PKI_STATUS).and_then(|s| PkiStatus::from_code(&s));
        match status {
            Some(PkiStatus::Success) => {
                let bundle = decrypt_enveloped(&verified.content, &self.key)
                    .map_err(|_| ScepError::Undecryptable)?;
                let mine = super::server::certificate_spki(&self.cert_der)?;
                super::read_certs_only(&bundle)?
                    .into_iter()
                    .find(|c| super::server::certificate_spki(c).ok().as_ref() == Some(&mine))
                    .map(CertRep::Issued)
                    .ok_or_else(|| ScepError::Malformed("no certificate for our key".into()))
            }
            Some(PkiStatus::Failure) => {
                let fail = string_attribute(&attrs, OID_FAIL_INFO)
                    .and_then(|f| FailInfo::from_code(&f))
                    .ok_or_else(|| ScepError::Malformed("a FAILURE without failInfo".into()))?;
                Ok(CertRep::Failed(fail))
            }
            Some(PkiStatus::Pending) => Ok(CertRep::Pending),
            None => Err(ScepError::Malformed("the CertRep has no pkiStatus".into())),
        }
    }
}

/// The signed attributes of a SignedData's single signer.
fn signed_attributes(bytes: &[u8]) -> Result<Vec<x509_cert::attr::Attribute>, ScepError> {
    use crate::crypto::cms::ber::{SignedDataBer, content_info, decode_content};
    let info = content_info(bytes, const_oid::db::rfc5911::ID_SIGNED_DATA, "SignedData")?;
    let sd: SignedDataBer = decode_content(&info)?;
    Ok(sd
        .signer_infos
        .iter()
        .next()
        .and_then(|s| s.signed_attrs.as_ref())
        .map(|a| a.iter().cloned().collect())
        .unwrap_or_default())
}

/// The RA certificate of a GetCACert answer, picked the way iOS picks it: the RSA
/// certificate that may encrypt (keyUsage keyEncipherment) and is not a CA. None when the
/// answer has no such certificate.
pub fn pick_ra(certs: &[Vec<u8>]) -> Option<Vec<u8>> {
    certs
        .iter()
        .find(|der| {
            let Ok((_, cert)) = x509_parser::parse_x509_certificate(der) else { return false };
            let rsa = cert.public_key().algorithm.algorithm
                == x509_parser::oid_registry::OID_PKCS1_RSAENCRYPTION;
            let encrypts =
                cert.key_usage().ok().flatten().is_some_and(|ku| ku.value.key_encipherment());
            rsa && encrypts && !cert.is_ca()
        })
        .cloned()
}

/// The CA certificate of a GetCACert answer that issued `ra` and is valid at `now`, as iOS
/// finds it: by building the RA's chain within the answer. The answer is as trustworthy as
/// the TLS connection that carried it; a payload without `CAFingerprint` pins nothing more.
pub fn pick_ca(certs: &[Vec<u8>], ra: &[u8], now: OffsetDateTime) -> Option<Vec<u8>> {
    use crate::crypto::chain::{TrustAnchors, verify_chain};
    certs
        .iter()
        .filter(|c| c.as_slice() != ra)
        .find(|c| {
            let is_ca = x509_parser::parse_x509_certificate(c).is_ok_and(|(_, c)| c.is_ca());
            is_ca
                && TrustAnchors::from_der(vec![c.to_vec()])
                    .is_ok_and(|a| verify_chain(ra, &[], &a, Some(now)).is_ok())
        })
        .cloned()
}

//! The server side of a SCEP PKIOperation (RFC 8894 §3): read the pkiMessage, check its
//! signature, decrypt its envelope with the RA key, read the CSR and its challengePassword,
//! and build the CertRep.
//!
//! Exposes [`Ra`] (the RA certificate and key, and the SCEP CA that issued it), [`Request`]
//! ([`Request::parse`] reads without trusting, [`Request::verify`] checks the signature,
//! [`Request::decrypt`] opens the envelope), [`read_csr`] and [`Request::cert_rep`].
//!
//! Order matters for the RSA decryption, which is the one private-key operation a stranger
//! can trigger (a Marvin-style timing oracle, ../shared/crates.md Q2): callers parse and
//! verify first (public-key work only), rate-limit, and only then decrypt. Every failure of
//! the RSA step is the same [`ScepError::Undecryptable`]; rsa 0.10 decrypts PKCS#1 v1.5 with
//! implicit rejection, so a bad padding does not even return early. An algorithm adebox does
//! not accept is told apart before that step (RFC 8894 §3.2.1.4 `badAlg`): it is public.

use super::{
    FailInfo, MessageType, OID_FAIL_INFO, OID_MESSAGE_TYPE, OID_PKI_STATUS, OID_RECIPIENT_NONCE,
    OID_SENDER_NONCE, OID_TRANSACTION_ID, PkiStatus, ScepError, octets_attribute,
    octets_attribute_value, printable_attribute, string_attribute,
};
use crate::crypto::Secret;
use crate::crypto::cms::ber::{
    CertificateAny, IssuerAndSerialNumberAny, SignedDataBer, SignerIdentifierAny, content_info,
    decode_content,
};
use crate::crypto::cms::{
    CmsEncoding, CmsError, ContentCipher, Recipient, SignOptions, SignerKey, content_cipher,
    decrypt_enveloped_for_cert, encrypt_enveloped_ber_with, recipients,
    sign_attached_with_attributes, verify_signed,
};
use crate::crypto::sigverify::Digest;
use const_oid::db::rfc5911;
use der::Encode;
use time::OffsetDateTime;
use x509_cert::attr::Attribute;

/// The registration authority: the RSA certificate devices encrypt to and that signs the
/// replies, its key, and the RSA SCEP CA that issued it (with its key: a client that encrypts
/// to every certificate of GetCACert, or to the CA alone, is still read).
pub struct Ra {
    pub cert_der: Vec<u8>,
    /// The SCEP CA certificate (DER), self-signed.
    pub issuer_der: Vec<u8>,
    key: rsa::PrivateKey,
    issuer_key: rsa::PrivateKey,
    cert: x509_cert::Certificate,
    issuer: x509_cert::Certificate,
}

impl std::fmt::Debug for Ra {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ra").finish_non_exhaustive()
    }
}

impl Ra {
    /// From the RA certificate (DER) and its PKCS#8 PEM RSA key, and the SCEP CA certificate
    /// (DER) and its PKCS#8 PEM RSA key.
    pub fn new(
        cert_der: Vec<u8>,
        key_pem: &str,
        issuer_der: Vec<u8>,
        issuer_key_pem: &str,
    ) -> Result<Ra, ScepError> {
        use der::Decode;
        let rsa = |pem: &str, what: &str| match SignerKey::from_pkcs8_pem(pem)? {
            SignerKey::Rsa(k) => Ok(k),
            SignerKey::P256(_) => Err(ScepError::Build(format!("the SCEP {what} key must be RSA"))),
        };
        let key = *rsa(key_pem, "RA")?;
        let issuer_key = *rsa(issuer_key_pem, "CA")?;
        let cert = x509_cert::Certificate::from_der(&cert_der)?;
        let issuer = x509_cert::Certificate::from_der(&issuer_der)?;
        Ok(Ra { cert_der, issuer_der, key, issuer_key, cert, issuer })
    }

    /// What GetCACert answers: the RA and the SCEP CA, both RSA (RFC 8894 §4.2.1.2).
    pub fn ca_certs(&self) -> Vec<Vec<u8>> {
        vec![self.cert_der.clone(), self.issuer_der.clone()]
    }

    /// The key and certificate that open an envelope addressed to `recipients`: the SCEP
    /// CA's when the client encrypted to it and not to the RA, else the RA's.
    fn key_for(&self, recipients: &[Recipient]) -> (&rsa::PrivateKey, &[u8]) {
        let names = |c: &x509_cert::Certificate| recipients.iter().any(|r| r.designates(c));
        if names(&self.issuer) && !names(&self.cert) {
            (&self.issuer_key, &self.issuer_der)
        } else {
            (&self.key, &self.cert_der)
        }
    }
}

/// A pkiMessage as read, before anything about it is trusted.
#[derive(Clone, Debug)]
pub struct Request {
    /// `messageType` as sent; None when it names no type RFC 8894 knows.
    pub message_type: Option<MessageType>,
    pub transaction_id: String,
    pub sender_nonce: Vec<u8>,
    /// The signer's certificate (DER): for a PKCSReq, the device's self-signed certificate,
    /// the one the reply is encrypted to.
    pub signer_cert: Vec<u8>,
    raw: Vec<u8>,
    envelope: Vec<u8>,
}

impl Request {
    /// Reads a pkiMessage (BER or DER SignedData with signed attributes). Fails only when the
    /// message is too broken to answer with a CertRep: no signer certificate, no
    /// transactionID or senderNonce.
    pub fn parse(bytes: &[u8]) -> Result<Request, ScepError> {
        let info = content_info(bytes, rfc5911::ID_SIGNED_DATA, "SignedData")?;
        let sd: SignedDataBer = decode_content(&info)?;
        let [signer] = sd.signer_infos.as_slice() else {
            return Err(ScepError::Malformed("a pkiMessage has exactly one signer".into()));
        };
        let attrs: Vec<Attribute> = match &signer.signed_attrs {
            Some(a) => a.iter().cloned().collect(),
            None => {
                return Err(ScepError::Malformed("the pkiMessage has no signed attributes".into()));
            }
        };
        let certs: Vec<&CertificateAny> = sd.certificates().collect();
        let signer_cert = certs
            .iter()
            .find(|c| match &signer.sid {
                SignerIdentifierAny::IssuerAndSerialNumber(isn) => {
                    *isn == IssuerAndSerialNumberAny::of(c)
                }
                // A device's self-signed certificate rarely has a key identifier; with one
                // certificate there is no doubt which is meant.
                SignerIdentifierAny::SubjectKeyIdentifier(_) => certs.len() == 1,
            })
            .ok_or_else(|| {
                ScepError::Malformed(
                    "the pkiMessage does not carry its signer's certificate".into(),
                )
            })?
            .to_der()?;
        let transaction_id = string_attribute(&attrs, OID_TRANSACTION_ID)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| ScepError::Malformed("the pkiMessage has no transactionID".into()))?;
        let sender_nonce = octets_attribute_value(&attrs, OID_SENDER_NONCE)
            .filter(|n| !n.is_empty())
            .ok_or_else(|| ScepError::Malformed("the pkiMessage has no senderNonce".into()))?;
        let message_type =
            string_attribute(&attrs, OID_MESSAGE_TYPE).and_then(|m| MessageType::from_code(&m));
        let envelope = sd
            .encap_content_info
            .econtent
            .as_ref()
            .map(|c| c.as_bytes().to_vec())
            .unwrap_or_default();
        Ok(Request {
            message_type,
            transaction_id,
            sender_nonce,
            signer_cert,
            raw: bytes.to_vec(),
            envelope,
        })
    }

    /// Checks that the signer certificate's key signed the message (attributes included).
    /// The certificate itself is self-signed and proves nothing more; the challenge does.
    pub fn verify(&self) -> Result<(), ScepError> {
        use crate::crypto::sigverify::SigError;
        match verify_signed(&self.raw) {
            Ok(v) if v.signer == self.signer_cert && v.signed_attributes => Ok(()),
            Ok(_) => Err(ScepError::BadSignature("the signer is not the one named".into())),
            Err(CmsError::BadSignature(
                e @ (SigError::UnsupportedDigest(_) | SigError::UnsupportedSignatureAlgorithm(_)),
            )) => Err(ScepError::UnsupportedAlgorithm(format!(
                "the SCEP message's signature cannot be checked: {e}"
            ))),
            Err(e @ (CmsError::BadSignature(_) | CmsError::ContentDigestMismatch)) => {
                Err(ScepError::BadSignature(e.to_string()))
            }
            Err(e) => Err(ScepError::Malformed(e.to_string())),
        }
    }

    /// Opens the pkcsPKIEnvelope: the DER CSR of a PKCSReq. Call only after
    /// [`Request::verify`] and the caller's rate limit. The content cipher and the key
    /// transport are read first (they are public): one adebox does not accept is
    /// [`ScepError::UnsupportedAlgorithm`] before any private-key work; every failure of the
    /// RSA step itself is the same [`ScepError::Undecryptable`].
    pub fn decrypt(&self, ra: &Ra) -> Result<Vec<u8>, ScepError> {
        let refused = |e: CmsError| match e {
            CmsError::UnsupportedCipher(name) => ScepError::UnsupportedAlgorithm(format!(
                "the SCEP message's content is encrypted with {name}, which adebox does not \
                 accept (it accepts AES-128/192/256-CBC and 3DES-CBC, as GetCACaps says)"
            )),
            CmsError::UnsupportedRecipient(what) => ScepError::UnsupportedAlgorithm(format!(
                "the SCEP message's envelope cannot be opened: {what}"
            )),
            _ => ScepError::Undecryptable,
        };
        content_cipher(&self.envelope).map_err(refused)?;
        let (key, cert) = ra.key_for(&recipients(&self.envelope).map_err(refused)?);
        decrypt_enveloped_for_cert(&self.envelope, key, cert).map_err(refused)
    }

    /// The CertRep answering this request, signed by the RA (RFC 8894 §3.3.2): SUCCESS with
    /// `issued` (DER) in a certs-only SignedData encrypted to the requester's certificate, or
    /// FAILURE with `fail` and no envelope. `recipientNonce` echoes the request's senderNonce.
    pub fn cert_rep(
        &self,
        ra: &Ra,
        outcome: Result<&[u8], FailInfo>,
        now: OffsetDateTime,
    ) -> Result<Vec<u8>, ScepError> {
        let status = if outcome.is_ok() { PkiStatus::Success } else { PkiStatus::Failure };
        let mut attrs = vec![
            printable_attribute(OID_MESSAGE_TYPE, MessageType::CertRep.code())?,
            printable_attribute(OID_PKI_STATUS, status.code())?,
            printable_attribute(OID_TRANSACTION_ID, &self.transaction_id)
                .or_else(|_| hex_transaction_id(&self.transaction_id))?,
            octets_attribute(OID_RECIPIENT_NONCE, &self.sender_nonce)?,
            octets_attribute(OID_SENDER_NONCE, &crate::crypto::random_bytes::<16>())?,
        ];
        let content = match outcome {
            Ok(issued) => {
                // In the request's own cipher, which the client surely has.
                let cipher = content_cipher(&self.envelope).unwrap_or(ContentCipher::Aes128Cbc);
                let bundle = super::certs_only(&[issued.to_vec()])?;
                encrypt_enveloped_ber_with(&bundle, &self.signer_cert, cipher)?
            }
            Err(fail) => {
                attrs.push(printable_attribute(OID_FAIL_INFO, fail.code())?);
                Vec::new()
            }
        };
        let opts = SignOptions {
            encoding: CmsEncoding::Der,
            digest: Digest::Sha256,
            signed_attributes: true,
            signing_time: Some(now),
        };
        Ok(sign_attached_with_attributes(
            &content,
            &ra.cert_der,
            std::slice::from_ref(&ra.issuer_der),
            &SignerKey::Rsa(Box::new(ra.key.clone())),
            &opts,
            &attrs,
        )?)
    }
}

/// A transactionID that arrived as a UTF8String with characters PrintableString lacks is
/// echoed as the hex of its bytes rather than refused: the reply must still name it somehow.
fn hex_transaction_id(id: &str) -> Result<Attribute, ScepError> {
    printable_attribute(OID_TRANSACTION_ID, &hex::encode(id.as_bytes()))
}

/// What the appliance reads from a PKCS#10 request.
#[derive(Clone, Debug)]
pub struct CsrInfo {
    /// The SubjectPublicKeyInfo, DER.
    pub spki: Vec<u8>,
    /// The challengePassword attribute (the one-time challenge from the profile).
    pub challenge: Option<Secret<String>>,
    /// The subject's first CN, when it has one.
    pub common_name: Option<String>,
}

/// Largest CSR accepted (DER); an RSA-4096 request is under 2 KiB.
pub const MAX_CSR_LEN: usize = 16 * 1024;

/// Parses a DER PKCS#10 request and checks its self-signature.
pub fn read_csr(der: &[u8]) -> Result<CsrInfo, ScepError> {
    use x509_parser::certification_request::X509CertificationRequest;
    use x509_parser::cri_attributes::ParsedCriAttribute;
    use x509_parser::prelude::FromDer;
    if der.len() > MAX_CSR_LEN {
        return Err(ScepError::BadCsr(format!("the CSR is over {MAX_CSR_LEN} bytes")));
    }
    let (rest, csr) = X509CertificationRequest::from_der(der)
        .map_err(|e| ScepError::BadCsr(format!("not a PKCS#10 request: {e}")))?;
    if !rest.is_empty() {
        return Err(ScepError::BadCsr("the CSR has trailing bytes".into()));
    }
    csr.verify_signature()
        .map_err(|_| ScepError::BadCsr("the CSR's signature does not verify".into()))?;
    let info = &csr.certification_request_info;
    let challenge = info.iter_attributes().find_map(|a| match a.parsed_attribute() {
        ParsedCriAttribute::ChallengePassword(p) => Some(Secret::new(p.0.clone())),
        _ => None,
    });
    let common_name =
        info.subject.iter_common_name().next().and_then(|cn| cn.as_str().ok()).map(str::to_string);
    Ok(CsrInfo { spki: info.subject_pki.raw.to_vec(), challenge, common_name })
}

/// The SubjectPublicKeyInfo (DER) of a certificate (any serial-number length).
pub fn certificate_spki(cert_der: &[u8]) -> Result<Vec<u8>, ScepError> {
    use der::Decode;
    let cert = CertificateAny::from_der(cert_der)?;
    Ok(cert.tbs_certificate().subject_public_key_info().to_der()?)
}

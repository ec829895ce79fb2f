//! SCEP (RFC 8894) messages: the pkiMessage a device sends to enroll (PKCSReq) and the CertRep
//! the server answers, for devices too old for ACME (../shared/spec/enrollment.md §2.5).
//!
//! Owns no state. Exposes:
//! - the message vocabulary: [`MessageType`], [`PkiStatus`], [`FailInfo`], [`ScepError`];
//! - [`server`]: reading a request ([`server::Request::parse`], signature check, decrypting the
//!   envelope, the CSR with its challengePassword) and building CertRep replies;
//! - [`client`]: the device side (a self-signed RSA identity, PKCSReq, reading CertRep), used
//!   by the device-fleet simulator and the tests;
//! - [`certs_only`] / [`read_certs_only`]: the degenerate SignedData that carries certificates
//!   (GetCACert and the issued certificate, RFC 8894 §3.4 and §4.2).
//!
//! Pure: no tokio, redb, reqwest or actix. Builds on [`crate::crypto::cms`].

pub mod client;
pub mod server;

use crate::crypto::cms::CmsError;
use crate::crypto::cms::ber::{
    CertificateAny, CertificateChoicesAny, EncapsulatedContentInfoBer, SignedDataBer,
};
use cms::content_info::{CmsVersion, ContentInfo};
use const_oid::db::rfc5911;
use der::asn1::{Any, ObjectIdentifier, SetOfVec};
use der::{Decode, Encode, Tag, Tagged};
use x509_cert::attr::Attribute;

/// `id-messageType` (RFC 8894 §3.2.1.2), PrintableString.
pub const OID_MESSAGE_TYPE: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("2.16.840.1.113733.1.9.2");
/// `id-pkiStatus`, PrintableString.
pub const OID_PKI_STATUS: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("2.16.840.1.113733.1.9.3");
/// `id-failInfo`, PrintableString.
pub const OID_FAIL_INFO: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.113733.1.9.4");
/// `id-senderNonce`, OCTET STRING.
pub const OID_SENDER_NONCE: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("2.16.840.1.113733.1.9.5");
/// `id-recipientNonce`, OCTET STRING.
pub const OID_RECIPIENT_NONCE: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("2.16.840.1.113733.1.9.6");
/// `id-transactionID`, PrintableString.
pub const OID_TRANSACTION_ID: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("2.16.840.1.113733.1.9.7");
/// PKCS#9 `challengePassword` (a CSR attribute).
pub const OID_CHALLENGE_PASSWORD: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.7");

/// Longest transactionID and nonce accepted (devices send a hash in hex and 16 bytes).
const MAX_ATTRIBUTE_LEN: usize = 256;

/// Why a SCEP message could not be read or built.
#[derive(Debug, thiserror::Error)]
pub enum ScepError {
    #[error("the SCEP message is not well formed: {0}")]
    Malformed(String),
    #[error("the SCEP message's signature does not verify: {0}")]
    BadSignature(String),
    /// RFC 8894 §3.2.1.4 `badAlg`; the words name the algorithm.
    #[error("{0}")]
    UnsupportedAlgorithm(String),
    #[error(
        "the SCEP message's encrypted content does not open: it is encrypted to a certificate \
         whose key is not held here, or damaged"
    )]
    Undecryptable,
    #[error("the certificate request is not usable: {0}")]
    BadCsr(String),
    #[error("the SCEP reply cannot be built: {0}")]
    Build(String),
    #[error(transparent)]
    Cms(#[from] CmsError),
}

impl From<der::Error> for ScepError {
    fn from(e: der::Error) -> Self {
        ScepError::Malformed(e.to_string())
    }
}

/// `messageType` values (RFC 8894 §3.2.1.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MessageType {
    CertRep,
    RenewalReq,
    PkcsReq,
    CertPoll,
    GetCert,
    GetCrl,
}

impl MessageType {
    pub const ALL: [MessageType; 6] = [
        MessageType::CertRep,
        MessageType::RenewalReq,
        MessageType::PkcsReq,
        MessageType::CertPoll,
        MessageType::GetCert,
        MessageType::GetCrl,
    ];

    pub fn code(self) -> &'static str {
        match self {
            MessageType::CertRep => "3",
            MessageType::RenewalReq => "17",
            MessageType::PkcsReq => "19",
            MessageType::CertPoll => "20",
            MessageType::GetCert => "21",
            MessageType::GetCrl => "22",
        }
    }

    pub fn from_code(code: &str) -> Option<MessageType> {
        MessageType::ALL.into_iter().find(|m| m.code() == code.trim())
    }
}

/// `pkiStatus` values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PkiStatus {
    Success,
    Failure,
    Pending,
}

impl PkiStatus {
    pub fn code(self) -> &'static str {
        match self {
            PkiStatus::Success => "0",
            PkiStatus::Failure => "2",
            PkiStatus::Pending => "3",
        }
    }

    pub fn from_code(code: &str) -> Option<PkiStatus> {
        [PkiStatus::Success, PkiStatus::Failure, PkiStatus::Pending]
            .into_iter()
            .find(|s| s.code() == code.trim())
    }
}

/// `failInfo` values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FailInfo {
    BadAlg,
    BadMessageCheck,
    BadRequest,
    BadTime,
    BadCertId,
}

impl FailInfo {
    pub const ALL: [FailInfo; 5] = [
        FailInfo::BadAlg,
        FailInfo::BadMessageCheck,
        FailInfo::BadRequest,
        FailInfo::BadTime,
        FailInfo::BadCertId,
    ];

    pub fn code(self) -> &'static str {
        match self {
            FailInfo::BadAlg => "0",
            FailInfo::BadMessageCheck => "1",
            FailInfo::BadRequest => "2",
            FailInfo::BadTime => "3",
            FailInfo::BadCertId => "4",
        }
    }

    pub fn from_code(code: &str) -> Option<FailInfo> {
        FailInfo::ALL.into_iter().find(|f| f.code() == code.trim())
    }

    pub fn name(self) -> &'static str {
        match self {
            FailInfo::BadAlg => "badAlg",
            FailInfo::BadMessageCheck => "badMessageCheck",
            FailInfo::BadRequest => "badRequest",
            FailInfo::BadTime => "badTime",
            FailInfo::BadCertId => "badCertId",
        }
    }
}

/// A signed attribute with one PrintableString value.
pub(crate) fn printable_attribute(
    oid: ObjectIdentifier,
    value: &str,
) -> Result<Attribute, ScepError> {
    if !value.bytes().all(is_printable) {
        return Err(ScepError::Build(format!("{value:?} is not a PrintableString")));
    }
    let any = Any::new(Tag::PrintableString, value.as_bytes().to_vec())?;
    Ok(Attribute { oid, values: SetOfVec::try_from(vec![any])? })
}

/// A signed attribute with one OCTET STRING value.
pub(crate) fn octets_attribute(
    oid: ObjectIdentifier,
    value: &[u8],
) -> Result<Attribute, ScepError> {
    let any = Any::new(Tag::OctetString, value.to_vec())?;
    Ok(Attribute { oid, values: SetOfVec::try_from(vec![any])? })
}

/// The PrintableString alphabet (X.680 §41.4).
fn is_printable(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b" '()+,-./:=?".contains(&b)
}

/// The string value of attribute `oid`: PrintableString as the RFC says, UTF8String or
/// IA5String tolerated (some clients send those); None when absent or of another type.
pub(crate) fn string_attribute(attrs: &[Attribute], oid: ObjectIdentifier) -> Option<String> {
    let value = first_value(attrs, oid)?;
    let ok = matches!(value.tag(), Tag::PrintableString | Tag::Utf8String | Tag::Ia5String);
    let bytes = value.value();
    (ok && bytes.len() <= MAX_ATTRIBUTE_LEN)
        .then(|| String::from_utf8(bytes.to_vec()).ok())
        .flatten()
}

/// The OCTET STRING value of attribute `oid`.
pub(crate) fn octets_attribute_value(
    attrs: &[Attribute],
    oid: ObjectIdentifier,
) -> Option<Vec<u8>> {
    let value = first_value(attrs, oid)?;
    (value.tag() == Tag::OctetString && value.value().len() <= MAX_ATTRIBUTE_LEN)
        .then(|| value.value().to_vec())
}

fn first_value(attrs: &[Attribute], oid: ObjectIdentifier) -> Option<&Any> {
    attrs.iter().find(|a| a.oid == oid)?.values.iter().next()
}

/// A degenerate SignedData (no signers, no content) carrying `certs` (DER): the
/// `certs-only` message of GetCACert and of the issued certificate (RFC 8894 §3.4, §4.2.1.2).
pub fn certs_only(certs: &[Vec<u8>]) -> Result<Vec<u8>, ScepError> {
    let mut choices = Vec::new();
    for der in certs {
        choices.push(CertificateChoicesAny::Certificate(CertificateAny::from_der(der)?));
    }
    let sd = SignedDataBer {
        version: CmsVersion::V1,
        digest_algorithms: SetOfVec::new(),
        encap_content_info: EncapsulatedContentInfoBer {
            econtent_type: rfc5911::ID_DATA,
            econtent: None,
        },
        certificates: Some(SetOfVec::try_from(choices)?),
        crls: None,
        signer_infos: SetOfVec::new(),
    };
    let info =
        ContentInfo { content_type: rfc5911::ID_SIGNED_DATA, content: Any::encode_from(&sd)? };
    Ok(info.to_der()?)
}

/// The certificates (DER) of a certs-only SignedData, in message order.
pub fn read_certs_only(bytes: &[u8]) -> Result<Vec<Vec<u8>>, ScepError> {
    use crate::crypto::cms::ber::{content_info, decode_content};
    let info = content_info(bytes, rfc5911::ID_SIGNED_DATA, "SignedData")?;
    let sd: SignedDataBer = decode_content(&info)?;
    sd.certificates().map(|cert| Ok(cert.to_der()?)).collect()
}

#[cfg(test)]
mod tests;

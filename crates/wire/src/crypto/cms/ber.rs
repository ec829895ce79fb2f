//! BER-tolerant decoding of CMS `ContentInfo` and its content, plus the small BER writer
//! [`encrypt_enveloped_ber`](super::encrypt_enveloped_ber) needs.
//!
//! Apple encodes its CMS messages in BER with indefinite lengths and chunked (constructed)
//! OCTET STRINGs (../shared/spec/dep-api.md §1.4; MachineInfo and `Mdm-Signature` likewise).
//! DER is a subset of BER, so everything here accepts DER too.
//!
//! Reuse for any CMS type: [`content_info`] checks the outer type, [`decode_content`] decodes
//! the `[0]` content with BER rules. For SignedData use [`SignedDataBer`], not
//! `cms::signed_data::SignedData`: the stock type keeps eContent as `Any`, which loses the
//! constructed bit of a chunked `24 80 …` eContent, so its bytes would be the chunk TLVs
//! rather than the content (../shared/crates.md Q1). Note for signature checks: in BER mode
//! SET OF values are kept in wire order; verify signed attributes over their original bytes.

use super::{CmsError, MAX_CMS_LEN};
use cms::cert::OtherCertificateFormat;
use cms::content_info::{CmsVersion, ContentInfo};
use cms::revocation::RevocationInfoChoices;
use cms::signed_data::{
    DigestAlgorithmIdentifiers, SignatureValue, SignedAttributes, UnsignedAttributes,
};
use der::asn1::{ObjectIdentifier, OctetString, SetOfVec};
use der::{Choice, Decode, DecodeValue, DerOrd, EncodingRules, Sequence, ValueOrd};
use spki::AlgorithmIdentifierOwned;
use std::cmp::Ordering;
use x509_cert::certificate::{CertificateInner, Raw};
use x509_cert::ext::pkix::SubjectKeyIdentifier;
use x509_cert::name::Name;
use x509_cert::serial_number::SerialNumber;

/// Parses a BER or DER `ContentInfo` and checks that it holds `expected` (an OID from
/// `const_oid::db::rfc5911`, named `expected_name` in errors).
pub fn content_info(
    bytes: &[u8],
    expected: ObjectIdentifier,
    expected_name: &'static str,
) -> Result<ContentInfo, CmsError> {
    if bytes.len() > MAX_CMS_LEN {
        return Err(CmsError::TooLarge { len: bytes.len(), max: MAX_CMS_LEN });
    }
    let info = ContentInfo::from_ber(bytes)?;
    if info.content_type != expected {
        return Err(CmsError::WrongContentType {
            expected: expected_name,
            found: oid_name(&info.content_type),
        });
    }
    Ok(info)
}

/// Decodes the content of `info` as `T` (EnvelopedData, [`SignedDataBer`], …) with BER rules.
pub fn decode_content<'a, T>(info: &'a ContentInfo) -> Result<T, CmsError>
where
    T: Choice<'a> + DecodeValue<'a, Error = der::Error>,
{
    Ok(info.content.decode_as_encoding::<T>(EncodingRules::Ber)?)
}

/// `SignedData` (RFC 5652 §5.1) whose eContent keeps its bytes when BER splits it into chunks,
/// and whose certificates and signer identifiers are read without RFC 5280's 20-byte limit on
/// serial numbers: a SCEP client's self-signed certificate is the signer of its request and
/// the recipient of the reply, and certmonger gives it a 32-byte serial (RFC 5280 §4.1.2.2
/// asks users to handle such certificates gracefully).
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub struct SignedDataBer {
    pub version: CmsVersion,
    pub digest_algorithms: DigestAlgorithmIdentifiers,
    pub encap_content_info: EncapsulatedContentInfoBer,
    #[asn1(context_specific = "0", tag_mode = "IMPLICIT", optional = "true")]
    pub certificates: Option<SetOfVec<CertificateChoicesAny>>,
    #[asn1(context_specific = "1", tag_mode = "IMPLICIT", optional = "true")]
    pub crls: Option<RevocationInfoChoices>,
    pub signer_infos: SetOfVec<SignerInfoAny>,
}

/// A certificate read with x509-cert's `Raw` profile: any serial-number length, times as
/// encoded. Nothing about it is trusted by being readable; chains are checked elsewhere.
pub type CertificateAny = CertificateInner<Raw>;

/// `CertificateChoices` (RFC 5652 §10.2.2) holding a [`CertificateAny`].
#[derive(Clone, Debug, Eq, PartialEq, Choice)]
#[allow(clippy::large_enum_variant)]
pub enum CertificateChoicesAny {
    Certificate(CertificateAny),
    #[asn1(context_specific = "3", tag_mode = "IMPLICIT", constructed = "true")]
    Other(OtherCertificateFormat),
}

/// `IssuerAndSerialNumber` (RFC 5652 §10.2.4) with a serial number of any length.
#[derive(Clone, Debug, Eq, PartialEq, Sequence, ValueOrd)]
pub struct IssuerAndSerialNumberAny {
    pub issuer: Name,
    pub serial_number: SerialNumber<Raw>,
}

impl IssuerAndSerialNumberAny {
    /// The issuer and serial number naming `cert`.
    pub fn of(cert: &CertificateAny) -> Self {
        let tbs = cert.tbs_certificate();
        Self { issuer: tbs.issuer().clone(), serial_number: tbs.serial_number().clone() }
    }
}

/// `SignerIdentifier` (RFC 5652 §5.3) with an [`IssuerAndSerialNumberAny`].
#[derive(Clone, Debug, Eq, PartialEq, Choice)]
pub enum SignerIdentifierAny {
    IssuerAndSerialNumber(IssuerAndSerialNumberAny),
    #[asn1(context_specific = "0", tag_mode = "IMPLICIT")]
    SubjectKeyIdentifier(SubjectKeyIdentifier),
}

/// `SignerInfo` (RFC 5652 §5.3) with a [`SignerIdentifierAny`].
#[derive(Clone, Debug, Eq, PartialEq, Sequence, ValueOrd)]
pub struct SignerInfoAny {
    pub version: CmsVersion,
    pub sid: SignerIdentifierAny,
    pub digest_alg: AlgorithmIdentifierOwned,
    #[asn1(context_specific = "0", tag_mode = "IMPLICIT", constructed = "true", optional = "true")]
    pub signed_attrs: Option<SignedAttributes>,
    pub signature_algorithm: AlgorithmIdentifierOwned,
    pub signature: SignatureValue,
    #[asn1(context_specific = "1", tag_mode = "IMPLICIT", constructed = "true", optional = "true")]
    pub unsigned_attrs: Option<UnsignedAttributes>,
}

// CHOICE types get no derived ValueOrd (der's derive lacks it); the stock cms types compare
// their DER the same way.
impl ValueOrd for CertificateChoicesAny {
    fn value_cmp(&self, other: &Self) -> der::Result<Ordering> {
        use der::Encode;
        self.to_der()?.der_cmp(&other.to_der()?)
    }
}

impl ValueOrd for SignerIdentifierAny {
    fn value_cmp(&self, other: &Self) -> der::Result<Ordering> {
        use der::Encode;
        self.to_der()?.der_cmp(&other.to_der()?)
    }
}

impl SignedDataBer {
    /// The certificates the message carries, in message order.
    pub fn certificates(&self) -> impl Iterator<Item = &CertificateAny> {
        self.certificates.iter().flat_map(|set| set.iter()).filter_map(|c| match c {
            CertificateChoicesAny::Certificate(cert) => Some(cert),
            CertificateChoicesAny::Other(_) => None,
        })
    }
}

/// `EncapsulatedContentInfo` with eContent decoded as an OCTET STRING, so a constructed
/// (chunked) eContent comes back as the concatenated content.
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub struct EncapsulatedContentInfoBer {
    pub econtent_type: ObjectIdentifier,
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT", optional = "true")]
    pub econtent: Option<OctetString>,
}

/// An OID as `name (dotted)` when the OID database knows it, else dotted.
pub fn oid_name(oid: &ObjectIdentifier) -> String {
    match const_oid::db::DB.by_oid(oid) {
        Some(name) => format!("{name} ({oid})"),
        None => oid.to_string(),
    }
}

/// Builds BER with indefinite-length constructed values around DER-encoded parts, the shape
/// OpenSSL's streaming encoder and Apple produce.
#[derive(Default)]
pub(super) struct BerWriter {
    out: Vec<u8>,
}

impl BerWriter {
    /// Opens a constructed value with indefinite length (`tag 80`); close with [`Self::end`].
    pub fn begin(&mut self, tag: u8) {
        self.out.extend_from_slice(&[tag, 0x80]);
    }

    /// Closes the innermost indefinite-length value with end-of-contents octets.
    pub fn end(&mut self) {
        self.out.extend_from_slice(&[0x00, 0x00]);
    }

    /// Appends already-encoded DER.
    pub fn der(&mut self, bytes: &[u8]) {
        self.out.extend_from_slice(bytes);
    }

    /// Appends a primitive value with a definite length.
    pub fn primitive(&mut self, tag: u8, value: &[u8]) {
        self.out.push(tag);
        let len = value.len();
        if len < 0x80 {
            self.out.push(len as u8);
        } else {
            let bytes = len.to_be_bytes();
            let skip = bytes.iter().take_while(|b| **b == 0).count();
            self.out.push(0x80 | (bytes.len() - skip) as u8);
            self.out.extend_from_slice(&bytes[skip..]);
        }
        self.out.extend_from_slice(value);
    }

    pub fn finish(self) -> Vec<u8> {
        self.out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_definite_lengths_in_the_shortest_form() {
        let mut w = BerWriter::default();
        w.primitive(0x04, &[7; 5]);
        w.primitive(0x04, &[7; 200]);
        w.primitive(0x04, &[7; 512]);
        let out = w.finish();
        assert_eq!(&out[..2], &[0x04, 5]);
        assert_eq!(&out[7..10], &[0x04, 0x81, 200]);
        assert_eq!(&out[210..214], &[0x04, 0x82, 0x02, 0x00]);
    }

    #[test]
    fn refuses_a_message_of_another_content_type() {
        // ContentInfo { id-data, [0] OCTET STRING "x" } in DER.
        let bytes = [
            0x30, 0x12, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x01, 0xa0,
            0x05, 0x04, 0x03, b'x', b'y', b'z',
        ];
        let err = content_info(&bytes, const_oid::db::rfc5911::ID_ENVELOPED_DATA, "EnvelopedData")
            .unwrap_err();
        assert!(matches!(err, CmsError::WrongContentType { .. }), "{err}");
        assert!(err.to_string().contains("id-data"), "{err}");
    }

    #[test]
    fn refuses_oversized_input_before_parsing() {
        let bytes = vec![0x30; MAX_CMS_LEN + 1];
        let err = content_info(&bytes, const_oid::db::rfc5911::ID_DATA, "data").unwrap_err();
        assert!(matches!(err, CmsError::TooLarge { .. }));
    }
}

//! Who an EnvelopedData is addressed to (RFC 5652 §6.2.1 `RecipientIdentifier`), in a form
//! that can be compared with a certificate and shown to an admin.
//!
//! Serial numbers are kept as the signed INTEGER bytes: Apple's example token addresses a
//! certificate with a negative serial (../shared/fixtures/README.md, dep-token), which must
//! neither fail to parse nor print as a huge positive number.

use cms::enveloped_data::RecipientIdentifier;
use der::Encode;
use x509_cert::Certificate;
use x509_cert::ext::pkix::SubjectKeyIdentifier;

/// One recipient of an EnvelopedData, or the identity of a certificate. Displays as the
/// issuer and serial (`"CN=…,C=DE" serial 70FEDDC7D5AFA393`) to follow "the certificate".
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Recipient {
    /// `issuerAndSerialNumber`: the issuer name (DER, and RFC 4514 text for display) and the
    /// serial as signed big-endian INTEGER content bytes.
    IssuerSerial { issuer_der: Vec<u8>, issuer: String, serial: Vec<u8> },
    /// `subjectKeyIdentifier`.
    SubjectKeyId(Vec<u8>),
}

impl Recipient {
    pub(super) fn from_rid(rid: &RecipientIdentifier) -> Self {
        match rid {
            RecipientIdentifier::IssuerAndSerialNumber(isn) => Recipient::IssuerSerial {
                issuer_der: isn.issuer.to_der().unwrap_or_default(),
                issuer: isn.issuer.to_string(),
                serial: isn.serial_number.as_bytes().to_vec(),
            },
            RecipientIdentifier::SubjectKeyIdentifier(ski) => {
                Recipient::SubjectKeyId(ski.0.as_bytes().to_vec())
            }
        }
    }

    /// The issuer-and-serial identity of `cert`.
    pub fn of_certificate(cert: &Certificate) -> Self {
        let tbs = cert.tbs_certificate();
        Recipient::IssuerSerial {
            issuer_der: tbs.issuer().to_der().unwrap_or_default(),
            issuer: tbs.issuer().to_string(),
            serial: tbs.serial_number().as_bytes().to_vec(),
        }
    }

    /// True when this recipient identifier designates `cert`.
    pub fn designates(&self, cert: &Certificate) -> bool {
        match self {
            Recipient::IssuerSerial { .. } => *self == Recipient::of_certificate(cert),
            Recipient::SubjectKeyId(id) => {
                matches!(
                    cert.tbs_certificate().get_extension::<SubjectKeyIdentifier>(),
                    Ok(Some((_, ski))) if ski.0.as_bytes() == id.as_slice()
                )
            }
        }
    }
}

impl std::fmt::Display for Recipient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Recipient::IssuerSerial { issuer, serial, .. } => {
                write!(f, "\"{issuer}\" serial {}", signed_hex(serial))
            }
            Recipient::SubjectKeyId(id) => {
                write!(f, "with key identifier {}", hex::encode_upper(id))
            }
        }
    }
}

/// Signed big-endian INTEGER bytes as hex the way `openssl asn1parse` prints them
/// (`70FEDDC7D5AFA393`, `-7CB4A13342F086E4`).
fn signed_hex(bytes: &[u8]) -> String {
    let negative = bytes.first().is_some_and(|b| b & 0x80 != 0);
    if !negative {
        let trimmed: &[u8] = match bytes {
            [0, rest @ ..] if !rest.is_empty() => rest,
            _ => bytes,
        };
        return hex::encode_upper(trimmed);
    }
    // Two's complement negation: invert, then add one from the least significant byte.
    let mut magnitude: Vec<u8> = bytes.iter().map(|b| !b).collect();
    for byte in magnitude.iter_mut().rev() {
        let (sum, carry) = byte.overflowing_add(1);
        *byte = sum;
        if !carry {
            break;
        }
    }
    let start = magnitude.iter().position(|b| *b != 0).unwrap_or(magnitude.len() - 1);
    format!("-{}", hex::encode_upper(&magnitude[start..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prints_serials_as_signed_integers() {
        assert_eq!(signed_hex(&[0x70, 0xfe, 0xdd]), "70FEDD");
        assert_eq!(signed_hex(&[0x00, 0x80]), "80");
        assert_eq!(signed_hex(&[0x00]), "00");
        assert_eq!(
            signed_hex(&[0x83, 0x4b, 0x5e, 0xcc, 0xbd, 0x0f, 0x79, 0x1c]),
            "-7CB4A13342F086E4"
        );
        assert_eq!(signed_hex(&[0xff]), "-01");
        assert_eq!(signed_hex(&[0x80]), "-80");
        assert_eq!(signed_hex(&[0xff, 0x00]), "-0100");
    }
}

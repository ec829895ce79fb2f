//! Apple's 2026 rules for the certificates of enrollment and MDM servers (KB 126655, ATS):
//! the server key is RSA of at least 2048 bits or ECDSA on P-256 or larger, and every
//! certificate of the chain is signed with SHA-2. See `../shared/spec/apple-2026.md` §7.2–7.3.
//!
//! Apple's exact list for the OS 27 enforcement is UNCERTAIN (§9.7); these are the rules every
//! source agrees on. A self-signed root at the end of the chain is exempt from the signature
//! rule: clients trust it as an anchor and never check its own signature.

use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject;
use x509_parser::prelude::{FromDer, X509Certificate};
use x509_parser::public_key::PublicKey;

/// One rule a certificate chain breaks, in words an admin can act on.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, thiserror::Error)]
#[error("{message} (Apple's TLS rule: {rule}; Apple devices refuse such servers from OS 27 on)")]
pub struct RuleBreak {
    /// The rule, as a short phrase (shown in the banner and the upload error).
    pub rule: &'static str,
    /// What this certificate does instead.
    pub message: String,
}

pub const RULE_KEY: &str = "server keys are RSA of at least 2048 bits or ECDSA P-256 or larger";
pub const RULE_SIGNATURE: &str = "certificates are signed with SHA-256 or stronger";

const MIN_RSA_BITS: usize = 2048;
const MIN_EC_BITS: usize = 256;

/// Checks a PEM chain (leaf first). Text that is not a PEM chain passes: the loader that
/// follows names that problem better.
pub fn check_pem(cert_pem: &str) -> Result<(), RuleBreak> {
    let chain: Vec<CertificateDer<'static>> =
        match CertificateDer::pem_slice_iter(cert_pem.as_bytes()).collect() {
            Ok(chain) => chain,
            Err(_) => return Ok(()),
        };
    check_chain(&chain)
}

/// Checks a DER chain (leaf first); unreadable certificates pass for the same reason.
pub fn check_chain(chain: &[CertificateDer<'_>]) -> Result<(), RuleBreak> {
    for (position, der) in chain.iter().enumerate() {
        let Ok((_, cert)) = X509Certificate::from_der(der) else { return Ok(()) };
        let name = if position == 0 {
            "the server certificate".to_string()
        } else {
            format!("certificate {} of the chain ({})", position + 1, cert.subject())
        };
        if position == 0 {
            check_key(&cert, &name)?;
        }
        let self_signed_root = position > 0 && cert.subject() == cert.issuer();
        if !self_signed_root {
            check_signature(&cert, &name)?;
        }
    }
    Ok(())
}

fn check_key(cert: &X509Certificate<'_>, name: &str) -> Result<(), RuleBreak> {
    let spki = cert.public_key();
    let broken = |what: String| RuleBreak { rule: RULE_KEY, message: format!("{name} {what}") };
    match spki.parsed() {
        Ok(PublicKey::RSA(rsa)) => {
            let bits = bit_length(rsa.modulus);
            if bits < MIN_RSA_BITS {
                return Err(broken(format!("has an RSA key of {bits} bits")));
            }
        }
        Ok(PublicKey::EC(point)) => {
            let bits = point.key_size();
            if bits < MIN_EC_BITS {
                return Err(broken(format!("has an ECDSA key of {bits} bits")));
            }
        }
        Ok(_) | Err(_) => {
            let oid = spki.algorithm.algorithm.to_id_string();
            // Ed25519 keys are strong, but Apple's clients do not offer them in TLS.
            return Err(broken(format!("has a key of type {oid}, neither RSA nor ECDSA")));
        }
    }
    Ok(())
}

fn check_signature(cert: &X509Certificate<'_>, name: &str) -> Result<(), RuleBreak> {
    use x509_parser::signature_algorithm::SignatureAlgorithm;
    let algorithm = &cert.signature_algorithm;
    let oid = algorithm.algorithm.to_id_string();
    let strong = match SignatureAlgorithm::try_from(algorithm) {
        Ok(SignatureAlgorithm::RSASSA_PSS(params)) => {
            SHA2_DIGESTS.contains(&params.hash_algorithm_oid().to_id_string().as_str())
        }
        Ok(SignatureAlgorithm::ED25519) => true,
        _ => SHA2_SIGNATURES.contains(&oid.as_str()),
    };
    if strong {
        return Ok(());
    }
    Err(RuleBreak {
        rule: RULE_SIGNATURE,
        message: format!("{name} is signed with {}", signature_name(&oid)),
    })
}

/// sha256/384/512 with RSA, ECDSA with SHA-256/384/512.
const SHA2_SIGNATURES: &[&str] = &[
    "1.2.840.113549.1.1.11",
    "1.2.840.113549.1.1.12",
    "1.2.840.113549.1.1.13",
    "1.2.840.10045.4.3.2",
    "1.2.840.10045.4.3.3",
    "1.2.840.10045.4.3.4",
];

/// SHA-256, SHA-384, SHA-512 (the digests RSASSA-PSS parameters name).
const SHA2_DIGESTS: &[&str] =
    &["2.16.840.1.101.3.4.2.1", "2.16.840.1.101.3.4.2.2", "2.16.840.1.101.3.4.2.3"];

fn signature_name(oid: &str) -> String {
    match oid {
        "1.2.840.113549.1.1.5" => "SHA-1 with RSA".into(),
        "1.2.840.113549.1.1.4" => "MD5 with RSA".into(),
        "1.2.840.10045.4.1" => "ECDSA with SHA-1".into(),
        "1.2.840.113549.1.1.14" | "1.2.840.10045.4.3.1" => "SHA-224".into(),
        other => format!("the algorithm {other}"),
    }
}

/// Bits of a big-endian unsigned integer (DER adds a leading zero byte to some).
fn bit_length(bytes: &[u8]) -> usize {
    let significant: &[u8] = match bytes.iter().position(|b| *b != 0) {
        Some(first) => &bytes[first..],
        None => return 0,
    };
    significant.len() * 8 - significant[0].leading_zeros() as usize
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::ca::Authority;
    use time::{Duration, OffsetDateTime};

    #[test]
    fn bit_length_ignores_leading_zero_bytes() {
        assert_eq!(bit_length(&[0, 0x80, 0]), 16);
        assert_eq!(bit_length(&[0x01, 0xff]), 9);
        assert_eq!(bit_length(&[0, 0]), 0);
    }

    #[test]
    fn the_appliance_ca_issues_certificates_that_meet_the_rules() {
        let now = OffsetDateTime::UNIX_EPOCH + Duration::days(20_000);
        let ca = Authority::generate("rules CA", now, Duration::days(3650)).unwrap();
        let issued = ca.issue_server(&["ade.example.org".into()], now, Duration::days(90)).unwrap();
        let chain = format!("{}{}", issued.cert_pem, ca.cert_pem());
        assert_eq!(check_pem(&chain), Ok(()));
    }

    #[test]
    fn text_that_is_not_pem_is_left_to_the_loader() {
        assert_eq!(check_pem("garbage"), Ok(()));
    }
}

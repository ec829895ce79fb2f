//! Reading certificate chains and keys the admin provides, and describing certificates. A
//! leaf of the infrastructure ring: `tls` serves with what it reads, and `outbound` describes
//! the extra trust roots with it.

use rustls::sign::CertifiedKey;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use serde::Serialize;
use std::sync::Arc;
use time::OffsetDateTime;

/// What the page shows about one certificate.
#[derive(Clone, Debug, Serialize)]
pub struct CertInfo {
    pub subject: String,
    pub issuer: String,
    pub sans: Vec<String>,
    pub fingerprint_sha256: String,
    #[serde(with = "time::serde::rfc3339")]
    pub not_before: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub not_after: OffsetDateTime,
}

/// A problem with a provided certificate or key; `field` says which input is at fault.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct CertProblem {
    pub field: &'static str,
    pub message: String,
}

fn problem(field: &'static str, message: impl Into<String>) -> CertProblem {
    CertProblem { field, message: message.into() }
}

pub fn describe(der: &[u8]) -> Result<CertInfo, CertProblem> {
    let (_, cert) = x509_parser::parse_x509_certificate(der)
        .map_err(|e| problem("cert_pem", format!("the certificate cannot be read: {e}")))?;
    let sans = cert
        .subject_alternative_name()
        .ok()
        .flatten()
        .map(|ext| {
            ext.value
                .general_names
                .iter()
                .filter_map(|n| match n {
                    x509_parser::extensions::GeneralName::DNSName(d) => Some(d.to_string()),
                    x509_parser::extensions::GeneralName::IPAddress(ip) => ip_to_string(ip),
                    _ => None,
                })
                .collect()
        })
        .unwrap_or_default();
    Ok(CertInfo {
        subject: cert.subject().to_string(),
        issuer: cert.issuer().to_string(),
        sans,
        fingerprint_sha256: crate::crypto::ca::fingerprint_sha256(der),
        not_before: cert.validity().not_before.to_datetime(),
        not_after: cert.validity().not_after.to_datetime(),
    })
}

fn ip_to_string(bytes: &[u8]) -> Option<String> {
    match bytes.len() {
        4 => Some(std::net::Ipv4Addr::from(<[u8; 4]>::try_from(bytes).ok()?).to_string()),
        16 => Some(std::net::Ipv6Addr::from(<[u8; 16]>::try_from(bytes).ok()?).to_string()),
        _ => None,
    }
}

/// Parses a PEM chain (leaf first) and a PEM private key into a serving key, checking what
/// the admin can get wrong: not PEM, key of another certificate, expired or not yet valid,
/// names that do not cover the appliance's public host names.
pub fn load_custom(
    cert_pem: &str,
    key_pem: &str,
    public_hosts: &[String],
    now: OffsetDateTime,
) -> Result<(Arc<CertifiedKey>, CertInfo), CertProblem> {
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(cert_pem.as_bytes())
        .collect::<Result<_, _>>()
        .map_err(|_| {
            problem("cert_pem", "this is not a PEM certificate chain (-----BEGIN CERTIFICATE-----)")
        })?;
    if chain.is_empty() {
        return Err(problem(
            "cert_pem",
            "no certificate found; paste the PEM chain, server certificate first",
        ));
    }
    let key = PrivateKeyDer::from_pem_slice(key_pem.as_bytes()).map_err(|_| {
        problem("key_pem", "this is not an unencrypted PEM private key (PKCS#8, PKCS#1 or SEC1); remove any passphrase first")
    })?;
    let info = describe(&chain[0])?;
    if info.not_after <= now {
        return Err(problem(
            "cert_pem",
            format!("this certificate expired on {}", info.not_after.date()),
        ));
    }
    if info.not_before > now {
        return Err(problem(
            "cert_pem",
            format!("this certificate is not valid before {}", info.not_before),
        ));
    }
    let provider = rustls::crypto::ring::default_provider();
    let certified = CertifiedKey::from_der(chain, key, &provider).map_err(|e| match e {
        rustls::Error::InconsistentKeys(_) => {
            problem("key_pem", "this private key does not belong to the certificate")
        }
        other => problem("key_pem", format!("this key cannot be used for TLS: {other}")),
    })?;
    if let Some(missing) = public_hosts.iter().find(|h| !covers(&info.sans, h)) {
        return Err(problem(
            "cert_pem",
            format!(
                "the certificate does not name {missing} (it names {}); devices reach the appliance by that name (config key public.hosts)",
                if info.sans.is_empty() {
                    "nothing in its Subject Alternative Name".to_string()
                } else {
                    info.sans.join(", ")
                }
            ),
        ));
    }
    Ok((Arc::new(certified), info))
}

/// Whether a certificate's names cover `host` (exact, or one wildcard label).
fn covers(sans: &[String], host: &str) -> bool {
    sans.iter().any(|san| {
        san.eq_ignore_ascii_case(host)
            || san.strip_prefix("*.").is_some_and(|suffix| {
                host.split_once('.').is_some_and(|(_, rest)| rest.eq_ignore_ascii_case(suffix))
            })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards_cover_one_label_only() {
        let sans = vec!["*.example.org".to_string(), "10.0.0.1".to_string()];
        assert!(covers(&sans, "ade.example.org"));
        assert!(!covers(&sans, "a.b.example.org"));
        assert!(covers(&sans, "10.0.0.1"));
        assert!(!covers(&sans, "example.org"));
    }
}

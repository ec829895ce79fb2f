//! Serving a certificate the ACME CA issued: checked against Apple's TLS rules and the
//! configured names, written beside the others (`acme.pem`, `acme.key` 0600, key first), and
//! swapped in through the same atomic pointer renewal uses, so no listener restarts.

use super::super::{Current, TlsError, TlsManager, TlsMode, io, rules};
use crate::certinfo::{self, CertInfo, CertProblem};
use crate::files;
use time::OffsetDateTime;

pub(in crate::tls) const CERT: &str = "acme.pem";
pub(in crate::tls) const KEY: &str = "acme.key";

impl TlsManager {
    /// Installs the chain and key an ACME order produced; a chain that breaks Apple's rules or
    /// does not name every configured host is refused and the certificate in use stays.
    pub fn install_acme(
        &self,
        chain_pem: &str,
        key_pem: &str,
        now: OffsetDateTime,
    ) -> Result<CertInfo, TlsError> {
        let _guard = self.changing.lock().expect("tls mutex is never held across a panic");
        rules::check_pem(chain_pem).map_err(|broken| {
            TlsError::Custom(CertProblem {
                field: "acme",
                message: format!(
                    "the ACME CA issued a certificate adebox will not serve: {broken}"
                ),
            })
        })?;
        let (key, info) = certinfo::load_custom(chain_pem, key_pem, &self.hosts(), now)
            .map_err(TlsError::Custom)?;
        let key_path = self.dir.join(KEY);
        let cert_path = self.dir.join(CERT);
        files::write_atomic(&key_path, key_pem.as_bytes(), 0o600).map_err(io(&key_path))?;
        files::write_atomic(&cert_path, chain_pem.as_bytes(), 0o644).map_err(io(&cert_path))?;
        let next = Current { key, info: info.clone(), mode: TlsMode::Acme, rule_break: None };
        self.serve_configured(next, now)?;
        Ok(info)
    }

    /// The ACME certificate on disk, when it can be served (called by `load_current`).
    pub(in crate::tls) fn load_acme(
        &self,
        now: OffsetDateTime,
    ) -> Result<Option<Current>, TlsError> {
        let (cert_path, key_path) = (self.dir.join(CERT), self.dir.join(KEY));
        let (Some(c), Some(k)) = (
            files::read_text(&cert_path).map_err(io(&cert_path))?,
            files::read_text(&key_path).map_err(io(&key_path))?,
        ) else {
            return Ok(None);
        };
        match certinfo::load_custom(&c, &k, &self.hosts(), now) {
            Ok((key, info)) => Ok(Some(Current {
                key,
                info,
                mode: TlsMode::Acme,
                rule_break: rules::check_pem(&c).err(),
            })),
            // Expired or naming other hosts: the self-managed certificate bridges the gap
            // until the next order, which the renewal task places at once.
            Err(problem) => {
                log::warn!(
                    "the ACME certificate cannot be used ({problem}); serving the self-managed certificate until a new one is issued"
                );
                Ok(None)
            }
        }
    }

    /// When the ACME certificate in use is due: at two thirds of its lifetime (Let's Encrypt's
    /// advice); `None` when no ACME certificate is served yet (due at once).
    pub fn acme_renews_at(&self) -> Option<OffsetDateTime> {
        let current = self.current.load();
        (current.mode == TlsMode::Acme).then(|| renewal_time(&current.info))
    }
}

impl TlsManager {
    /// The leaf certificate in use (DER) when it is the ACME one: what the CA's renewal
    /// information is asked for.
    pub(in crate::tls) fn acme_leaf(&self) -> Option<Vec<u8>> {
        let current = self.current.load();
        (current.mode == TlsMode::Acme)
            .then(|| current.key.cert.first().map(|c| c.as_ref().to_vec()))
            .flatten()
    }
}

pub(in crate::tls) fn renewal_time(info: &CertInfo) -> OffsetDateTime {
    info.not_before + (info.not_after - info.not_before) * 2 / 3
}

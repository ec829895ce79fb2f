//! The profile-signing certificate: issued by the appliance CA, kept beside the data, renewed
//! before it expires, the way `tls` keeps the server certificate.
//!
//! Owns the folder `<data_dir>/enroll/` (0700): `profile-signing.pem` and
//! `profile-signing.key` (0600). Exposes [`ProfileSigner`] (the certificate, its key and the
//! chain that goes into the signed profile, ../shared/spec/enrollment.md §2.6), and
//! [`super::backup_files`] / [`super::restore_files`] so `admin backup` carries the folder the way it
//! carries `tls/`: a restored appliance keeps signing with the certificate devices saw.

use crate::crypto::Secret;
use crate::crypto::ca::{Authority, pem_to_der};
use crate::files::{Carried, read_folder, read_text, write_atomic, write_folder};
use std::path::{Path, PathBuf};
use time::{Duration, OffsetDateTime};

/// Lifetime of the signing certificate; renewed [`RENEW_BEFORE`] before it ends.
const SIGNING_CERT_DAYS: i64 = 825;
const RENEW_BEFORE: Duration = Duration::days(30);
const COMMON_NAME: &str = "adebox enrollment profile signing";
const FOLDER: &str = "enroll";
const CERT_FILE: &str = "profile-signing.pem";
const KEY_FILE: &str = "profile-signing.key";

#[derive(Debug, thiserror::Error)]
pub enum SigningError {
    #[error("cannot use {path}: {detail} (the folder belongs to adebox; check its owner and mode)")]
    Io { path: PathBuf, detail: String },
    #[error("the profile-signing certificate cannot be issued: {0}")]
    Issue(String),
    #[error("the enrollment profile cannot be signed: {0}")]
    Sign(String),
}

/// The certificate and key that sign enrollment profiles.
#[derive(Clone)]
pub struct ProfileSigner {
    /// Signer certificate, DER.
    pub cert_der: Vec<u8>,
    /// The chain carried after it: the appliance CA, DER.
    pub chain: Vec<Vec<u8>>,
    /// PKCS#8 PEM private key.
    pub key_pem: Secret<String>,
    pub not_after: OffsetDateTime,
}

impl std::fmt::Debug for ProfileSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProfileSigner").field("not_after", &self.not_after).finish()
    }
}

impl ProfileSigner {
    /// Signs `content` as Apple expects an enrollment profile (spec §2.6): CMS SignedData,
    /// attached, DER, SHA-256, signed attributes, the appliance CA carried after the signer.
    pub fn sign(&self, content: &[u8], now: OffsetDateTime) -> Result<Vec<u8>, SigningError> {
        use crate::crypto::cms::{SignOptions, SignerKey, sign_attached};
        let key = SignerKey::from_pkcs8_pem(self.key_pem.expose())
            .map_err(|e| SigningError::Sign(e.to_string()))?;
        sign_attached(content, &self.cert_der, &self.chain, &key, &SignOptions::profile(now))
            .map_err(|e| SigningError::Sign(e.to_string()))
    }

    /// Loads the signing certificate from `<data_dir>/enroll/`, or issues a new one when it is
    /// missing, unreadable, not from `ca`, or due for renewal.
    pub fn ensure(
        data_dir: &Path,
        ca: &Authority,
        now: OffsetDateTime,
    ) -> Result<ProfileSigner, SigningError> {
        let kept = PROFILE_FILES.ensure(data_dir, ca, now, RENEW_BEFORE, || {
            ca.issue_signing(COMMON_NAME, now, Duration::days(SIGNING_CERT_DAYS))
        })?;
        Ok(ProfileSigner {
            cert_der: kept.cert_der,
            chain: vec![ca.cert_der().to_vec()],
            key_pem: kept.key_pem,
            not_after: kept.not_after,
        })
    }
}

/// Where one of the appliance's own certificates issued by its CA is kept beside the data:
/// `<data_dir>/<folder>/` (0700) with the certificate and its key (0600).
pub(crate) struct KeptFiles {
    pub folder: &'static str,
    pub cert: &'static str,
    pub key: &'static str,
}

/// A kept certificate: DER, its PKCS#8 PEM key and its end.
pub(crate) struct Kept {
    pub cert_der: Vec<u8>,
    pub key_pem: Secret<String>,
    pub not_after: OffsetDateTime,
}

impl KeptFiles {
    /// Loads the certificate, or calls `issue` and stores the result when it is missing,
    /// unreadable, not from `ca`, or ends within `renew_before`.
    pub fn ensure(
        &self,
        data_dir: &Path,
        ca: &Authority,
        now: OffsetDateTime,
        renew_before: Duration,
        issue: impl FnOnce() -> Result<crate::crypto::ca::Issued, crate::crypto::ca::CaError>,
    ) -> Result<Kept, SigningError> {
        self.ensure_anchored(data_dir, Some(ca.cert_der()), now, renew_before, issue)
    }

    /// [`KeptFiles::ensure`] for a self-signed certificate (a root of the appliance's own):
    /// kept while it verifies against itself and does not end within `renew_before`.
    pub fn ensure_self_signed(
        &self,
        data_dir: &Path,
        now: OffsetDateTime,
        renew_before: Duration,
        issue: impl FnOnce() -> Result<crate::crypto::ca::Issued, crate::crypto::ca::CaError>,
    ) -> Result<Kept, SigningError> {
        self.ensure_anchored(data_dir, None, now, renew_before, issue)
    }

    /// `anchor`: the issuer's certificate (DER), or None for a self-signed one.
    fn ensure_anchored(
        &self,
        data_dir: &Path,
        anchor: Option<&[u8]>,
        now: OffsetDateTime,
        renew_before: Duration,
        issue: impl FnOnce() -> Result<crate::crypto::ca::Issued, crate::crypto::ca::CaError>,
    ) -> Result<Kept, SigningError> {
        let dir = data_dir.join(self.folder);
        let io = |path: &Path| {
            let path = path.to_path_buf();
            move |e: std::io::Error| SigningError::Io { path, detail: e.to_string() }
        };
        std::fs::create_dir_all(&dir).map_err(io(&dir))?;
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700))
                .map_err(io(&dir))?;
        }
        let (cert_path, key_path) = (dir.join(self.cert), dir.join(self.key));
        if let (Some(cert), Some(key)) = (
            read_text(&cert_path).map_err(io(&cert_path))?,
            read_text(&key_path).map_err(io(&key_path))?,
        ) && let Some(anchor) = anchor.map(<[u8]>::to_vec).or_else(|| self_issued(&cert))
            && let Some((cert_der, not_after)) = stored_leaf(&cert, &[anchor], now, renew_before)
        {
            return Ok(Kept { cert_der, key_pem: Secret::new(key), not_after });
        }
        let issued = issue().map_err(|e| SigningError::Issue(e.to_string()))?;
        write_atomic(&key_path, issued.key_pem.expose().as_bytes(), 0o600)
            .map_err(io(&key_path))?;
        write_atomic(&cert_path, issued.cert_pem.as_bytes(), 0o644).map_err(io(&cert_path))?;
        let file = format!("{}/{}", self.folder, self.cert);
        log::info!(file = file.as_str(), not_after = issued.not_after.to_string().as_str(); "issued a new appliance certificate");
        Ok(Kept {
            cert_der: pem_to_der(&issued.cert_pem)
                .map_err(|e| SigningError::Issue(e.to_string()))?,
            key_pem: issued.key_pem,
            not_after: issued.not_after,
        })
    }

    /// The files a backup must carry, as `("<folder>/<name>", contents)`.
    pub fn backup(&self, data_dir: &Path) -> Result<Carried, SigningError> {
        read_folder(data_dir, self.folder, &[self.cert, self.key])
            .map_err(|(path, e)| SigningError::Io { path, detail: e.to_string() })
    }

    /// Puts back the files a backup carried; other names are ignored. Returns how many.
    pub fn restore(
        &self,
        data_dir: &Path,
        files: &[(String, Vec<u8>)],
    ) -> Result<usize, SigningError> {
        write_folder(data_dir, self.folder, files)
            .map_err(|(path, e)| SigningError::Io { path, detail: e.to_string() })
    }
}

/// Where the profile signer is kept.
pub(super) const PROFILE_FILES: KeptFiles =
    KeptFiles { folder: FOLDER, cert: CERT_FILE, key: KEY_FILE };

/// A certificate's DER when it names itself as its issuer (a root).
fn self_issued(cert_pem: &str) -> Option<Vec<u8>> {
    let der = pem_to_der(cert_pem).ok()?;
    let (_, cert) = x509_parser::parse_x509_certificate(&der).ok()?;
    (cert.subject().as_raw() == cert.issuer().as_raw()).then_some(der)
}

/// A stored certificate's DER and end, if it chains to `chain` at `now` and does not end
/// within `renew_before` (the appliance's own certificates kept beside the data).
pub(crate) fn stored_leaf(
    cert_pem: &str,
    chain: &[Vec<u8>],
    now: OffsetDateTime,
    renew_before: Duration,
) -> Option<(Vec<u8>, OffsetDateTime)> {
    let cert_der = pem_to_der(cert_pem).ok()?;
    let anchors = crate::crypto::chain::TrustAnchors::from_der(chain.to_vec()).ok()?;
    crate::crypto::chain::verify_chain(&cert_der, &[], &anchors, Some(now)).ok()?;
    use der::Decode;
    let cert = x509_cert::Certificate::from_der(&cert_der).ok()?;
    let not_after = OffsetDateTime::from_unix_timestamp(
        cert.tbs_certificate().validity().not_after.to_unix_duration().as_secs() as i64,
    )
    .ok()?;
    (not_after - renew_before > now).then_some((cert_der, not_after))
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    /// An empty data folder, a moment, and an appliance CA valid then.
    fn setup() -> (tempfile::TempDir, OffsetDateTime, Authority) {
        let now = datetime!(2026-01-01 0:00 UTC);
        let ca = Authority::generate("test CA", now, Duration::days(3650)).unwrap();
        (tempfile::tempdir().unwrap(), now, ca)
    }

    #[test]
    fn keeps_the_certificate_across_restarts_and_renews_it_when_due() {
        let (dir, now, ca) = setup();
        let first = ProfileSigner::ensure(dir.path(), &ca, now).unwrap();
        let again = ProfileSigner::ensure(dir.path(), &ca, now + Duration::days(1)).unwrap();
        assert_eq!(first.cert_der, again.cert_der);
        let later = now + Duration::days(SIGNING_CERT_DAYS - 10);
        let renewed = ProfileSigner::ensure(dir.path(), &ca, later).unwrap();
        assert_ne!(first.cert_der, renewed.cert_der);
        let other_ca = Authority::generate("test CA", now, Duration::days(3650)).unwrap();
        let reissued = ProfileSigner::ensure(dir.path(), &other_ca, later).unwrap();
        assert_ne!(renewed.cert_der, reissued.cert_der, "a new CA gets a new signer");
        let signed = reissued.sign(b"<plist/>", later).unwrap();
        let v = crate::crypto::cms::verify_signed(&signed).unwrap();
        assert_eq!(v.content, b"<plist/>");
        assert_eq!(v.signer, reissued.cert_der);
    }

    #[test]
    fn a_backup_carries_the_signing_certificate_to_a_restored_appliance() {
        let (dir, now, ca) = setup();
        let signer = ProfileSigner::ensure(dir.path(), &ca, now).unwrap();
        let files = crate::enroll::backup_files(dir.path()).unwrap();
        let names: Vec<&str> = files.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["enroll/profile-signing.pem", "enroll/profile-signing.key"]);

        let restored = tempfile::tempdir().unwrap();
        let mut carried = files.clone();
        carried.push(("tls/ca.pem".into(), b"not ours".to_vec()));
        assert_eq!(crate::enroll::restore_files(restored.path(), &carried).unwrap(), 2);
        assert!(!restored.path().join("tls").exists(), "only enroll/ is ours to put back");
        let again = ProfileSigner::ensure(restored.path(), &ca, now + Duration::days(1)).unwrap();
        assert_eq!(
            again.cert_der, signer.cert_der,
            "the restored certificate is kept, not reissued"
        );
        assert!(
            crate::enroll::backup_files(tempfile::tempdir().unwrap().path()).unwrap().is_empty()
        );
    }
}

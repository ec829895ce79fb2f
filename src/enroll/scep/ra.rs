//! The SCEP RA certificate: RSA-2048, issued by the appliance CA, generated once and kept
//! beside the data like the profile signer, renewed before it ends (RFC 8894 §2.1: devices
//! encrypt their requests to it and check its signature on the replies).
//!
//! Owns the folder `<data_dir>/scep/` (0700): `ra.pem` and `ra.key` (0600). Exposes
//! [`ensure`] and [`RA_FILES`], which `signing::backup_files` / `restore_files` carry so a
//! restored appliance answers with the RA certificate devices saw.

use crate::crypto::ca::Authority;
use crate::crypto::scep::server::Ra;
use crate::enroll::signing::{KeptFiles, SigningError};
use std::path::Path;
use time::{Duration, OffsetDateTime};

/// Where the RA certificate and key are kept.
pub(crate) const RA_FILES: KeptFiles = KeptFiles { folder: "scep", cert: "ra.pem", key: "ra.key" };

const RA_DAYS: i64 = 825;
const RENEW_BEFORE: Duration = Duration::days(30);
const COMMON_NAME: &str = "adebox SCEP RA";

/// Loads the RA from `<data_dir>/scep/`, or issues a new one (RSA key generation: call it on
/// a blocking thread) when it is missing, not from `ca`, or due for renewal.
pub fn ensure(data_dir: &Path, ca: &Authority, now: OffsetDateTime) -> Result<Ra, SigningError> {
    let kept = RA_FILES.ensure(data_dir, ca, now, RENEW_BEFORE, || {
        ca.issue_rsa_ra(COMMON_NAME, now, Duration::days(RA_DAYS))
    })?;
    Ra::new(kept.cert_der, kept.key_pem.expose(), ca.cert_der().to_vec()).map_err(|e| {
        SigningError::Issue(format!("the SCEP RA key in scep/ra.key is unusable: {e}"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn the_ra_is_kept_across_restarts_and_carried_by_backups() {
        let now = datetime!(2026-01-01 0:00 UTC);
        let ca = Authority::generate("test CA", now, Duration::days(3650)).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let first = ensure(dir.path(), &ca, now).unwrap();
        let again = ensure(dir.path(), &ca, now + Duration::days(1)).unwrap();
        assert_eq!(first.cert_der, again.cert_der);

        let files = crate::enroll::signing::backup_files(dir.path()).unwrap();
        assert!(files.iter().any(|(n, _)| n == "scep/ra.key"), "{:?}", files.len());
        let restored = tempfile::tempdir().unwrap();
        crate::enroll::signing::restore_files(restored.path(), &files).unwrap();
        let back = ensure(restored.path(), &ca, now + Duration::days(2)).unwrap();
        assert_eq!(back.cert_der, first.cert_der);
    }
}

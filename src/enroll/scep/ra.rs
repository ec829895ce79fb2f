//! The SCEP CA and RA: a self-signed RSA-2048 SCEP CA and the RSA-2048 RA it issues (RFC
//! 8894 §2.1: devices encrypt their requests to the RA and check its signature on the
//! replies). Both are generated once, kept beside the data like the profile signer, and
//! renewed before they end.
//!
//! Why a CA of its own: GetCACert answers the RA and its CA (RFC 8894 §4.2.1.2), and clients
//! use that answer in different ways — micromdm's `scepclient` encrypts to every certificate
//! in it, others pick by key usage, iOS takes the certificate with digitalSignature and
//! keyEncipherment that chains to another one in the answer, and certmonger anchors its check
//! of the replies' signature in the answer's CA, which must then be self-signed. The
//! appliance CA is ECDSA, which no SCEP client can encrypt to, so it cannot be in the answer;
//! an RSA CA under it would not be self-signed. So the SCEP CA is a root of its own, used for
//! nothing but the RA, and the server holds the key of every certificate a client may encrypt
//! to. Devices trust the SCEP exchange through the TLS of the SCEP URL (the appliance CA,
//! installed by the profile); the identities SCEP issues come straight from the appliance CA,
//! so they chain to the root the enrollment profile installs and the MDM endpoints check.
//!
//! Owns the folder `<data_dir>/scep/` (0700): `ca.pem`/`ca.key` and `ra.pem`/`ra.key` (keys
//! 0600). Exposes [`ensure`], and [`backup_files`] / [`restore_files`], which
//! `enroll::backup_files` / `restore_files` call so a restored appliance answers with the
//! certificates devices saw. An appliance from before the SCEP CA existed has only `ra.*`,
//! issued by the appliance CA: at start it gets a SCEP CA, and its RA key is certified again
//! under it, so a request already encrypted to the old RA certificate still opens.

use crate::crypto::ca::{Authority, Issued};
use crate::crypto::chain::{TrustAnchors, verify_chain};
use crate::crypto::scep::server::Ra;
use crate::enroll::signing::{KeptFiles, SigningError};
use crate::files::{Carried, read_text};
use std::path::Path;
use time::{Duration, OffsetDateTime};

/// Where the RA certificate and key are kept.
const RA_FILES: KeptFiles = KeptFiles { folder: FOLDER, cert: "ra.pem", key: "ra.key" };
/// Where the SCEP CA certificate and key are kept.
const CA_FILES: KeptFiles = KeptFiles { folder: FOLDER, cert: "ca.pem", key: "ca.key" };
const FOLDER: &str = "scep";

const RA_DAYS: i64 = 825;
const RA_RENEW_BEFORE: Duration = Duration::days(30);
const RA_NAME: &str = "adebox SCEP RA";
/// The SCEP CA outlives several RAs; renewing it re-certifies the RA under the new one.
/// Devices fetch it anew for each enrollment, so a new one costs nothing.
const CA_DAYS: i64 = 5 * 365;
const CA_RENEW_BEFORE: Duration = Duration::days(90);
const CA_NAME: &str = "adebox SCEP CA";

/// Loads the SCEP CA and RA from `<data_dir>/scep/`, or makes what is missing, not from its
/// issuer, or due for renewal (RSA key generation: call it on a blocking thread).
pub fn ensure(data_dir: &Path, now: OffsetDateTime) -> Result<Ra, SigningError> {
    let scep_ca = CA_FILES.ensure_self_signed(data_dir, now, CA_RENEW_BEFORE, || {
        let ca = Authority::generate_rsa(CA_NAME, now, Duration::days(CA_DAYS))?;
        Ok(Issued {
            cert_pem: ca.cert_pem().to_string(),
            key_pem: ca.key_pem().clone(),
            not_before: now - Duration::hours(1),
            not_after: now + Duration::days(CA_DAYS),
        })
    })?;
    let scep_ca_pem =
        der::pem::encode_string("CERTIFICATE", der::pem::LineEnding::LF, &scep_ca.cert_der)
            .map_err(|e| SigningError::Issue(e.to_string()))?;
    let issuer = Authority::from_pem(&scep_ca_pem, scep_ca.key_pem.expose()).map_err(|e| {
        SigningError::Issue(format!("the SCEP CA key in scep/ca.key is unusable: {e}"))
    })?;
    let kept_key = key_to_recertify(data_dir, &issuer)?;
    let ra = RA_FILES.ensure(data_dir, &issuer, now, RA_RENEW_BEFORE, || {
        let days = Duration::days(RA_DAYS);
        // A kept key that rcgen cannot use is replaced rather than stopping the appliance.
        kept_key
            .as_deref()
            .and_then(|key| issuer.issue_rsa_ra(RA_NAME, Some(key), now, days).ok())
            .map_or_else(|| issuer.issue_rsa_ra(RA_NAME, None, now, days), Ok)
    })?;
    Ra::new(ra.cert_der, ra.key_pem.expose(), scep_ca.cert_der, scep_ca.key_pem.expose())
        .map_err(|e| SigningError::Issue(format!("the SCEP RA or CA key is unusable: {e}")))
}

/// The stored RA key when the stored RA certificate was issued by another CA than `issuer`
/// (the appliance CA before the SCEP CA existed, or a SCEP CA since renewed): certifying the
/// same key again keeps requests already encrypted to it readable. None when there is no
/// RA, or when it is `issuer`'s own (then it is renewed because it is due: a new key).
fn key_to_recertify(data_dir: &Path, issuer: &Authority) -> Result<Option<String>, SigningError> {
    let dir = data_dir.join(FOLDER);
    let read = |name: &str| {
        let path = dir.join(name);
        read_text(&path).map_err(|e| SigningError::Io { path, detail: e.to_string() })
    };
    let (Some(cert_pem), Some(key_pem)) = (read(RA_FILES.cert)?, read(RA_FILES.key)?) else {
        return Ok(None);
    };
    let Ok(cert_der) = crate::crypto::ca::pem_to_der(&cert_pem) else { return Ok(None) };
    let ours = TrustAnchors::from_der(vec![issuer.cert_der().to_vec()])
        .is_ok_and(|anchors| verify_chain(&cert_der, &[], &anchors, None).is_ok());
    Ok((!ours).then_some(key_pem))
}

/// The files of `<data_dir>/scep/` a backup must carry, as `("scep/<name>", contents)`.
pub(crate) fn backup_files(data_dir: &Path) -> Result<Carried, SigningError> {
    let mut files = CA_FILES.backup(data_dir)?;
    files.extend(RA_FILES.backup(data_dir)?);
    Ok(files)
}

/// Puts back the `scep/` files a backup carried (one folder holds both pairs); returns how
/// many. A backup from before the SCEP CA existed carries only the RA: [`ensure`] then adds
/// the SCEP CA and certifies the restored RA key under it.
pub(crate) fn restore_files(
    data_dir: &Path,
    files: &[(String, Vec<u8>)],
) -> Result<usize, SigningError> {
    RA_FILES.restore(data_dir, files)
}

#[cfg(test)]
mod tests;

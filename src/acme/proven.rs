//! Device identities proven by another protocol than device-attest-01: SCEP for devices too
//! old for ACME (issue 7 item 4) proves the device with a one-time challenge the enrollment
//! code checks. The certificate comes from the same authority and policy as ACME's finalize
//! (../shared/spec/enrollment.md §3.6), and its hash is recorded in the same table, so MDM
//! check-in finds the device by [`AcmeService::device_for_certificate`] whichever way the
//! identity was issued.

use super::records::{self, CertRec, IssuedTo};
use super::{AcmeError, AcmeService, save};
use crate::ids::{Serial, Udid};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

impl AcmeService {
    /// Issues a device identity for `spki_der` (DER SubjectPublicKeyInfo from the device's
    /// CSR) to `serial` / `udid`, inside the caller's write transaction, and records its
    /// SHA-256 against the device. `via` names the protocol in the record (`scep`). The
    /// certificate is not downloadable over ACME (it belongs to no account). Returns the DER.
    pub fn issue_proven_in(
        &self,
        wtx: &redb::WriteTransaction,
        spki_der: &[u8],
        serial: &Serial,
        udid: &Udid,
        via: &str,
        now: OffsetDateTime,
    ) -> Result<Vec<u8>, AcmeError> {
        // Never an empty subject: CN = UDID, or the serial when the UDID is unknown.
        let (serial_text, udid_text) = (serial.as_str(), udid.as_str());
        let common_name = if udid_text.is_empty() { serial_text } else { udid_text };
        let permanent_id = if serial_text.is_empty() { udid_text } else { serial_text };
        if common_name.is_empty() {
            return Err(AcmeError::Issue("the device has neither a UDID nor a serial".into()));
        }
        let inner = &self.inner;
        let validity = inner.options.cert_validity;
        let der = inner
            .ca
            .issue_for_device_key(spki_der, common_name, permanent_id, now, validity)
            .map_err(|e| AcmeError::Issue(e.to_string()))?;
        let sha256 = hex::encode(Sha256::digest(&der));
        let cert_id = crate::crypto::random_token::<12>();
        let leaf = super::finalize::pem("CERTIFICATE", &der);
        let rec = CertRec {
            id: cert_id.clone(),
            order_id: via.to_string(),
            account_id: String::new(),
            chain_pem: format!("{leaf}{}", inner.ca.cert_pem()),
            sha256: sha256.clone(),
            serial: serial.clone(),
            udid: udid.clone(),
            issued_at: now,
            not_after: now + validity,
            revoked: None,
        };
        let issued_to = IssuedTo {
            cert_id: cert_id.clone(),
            serial: serial.clone(),
            udid: udid.clone(),
            not_after: rec.not_after,
            revoked: None,
        };
        save(wtx, records::CERTS, &cert_id, &rec)?;
        save(wtx, records::CERT_BY_HASH, &sha256, &issued_to)?;
        log::info!(serial = serial_text, udid = udid_text, sha256 = sha256.as_str(), via = via; "device identity issued");
        Ok(der)
    }
}

//! Getting and keeping the push certificate: the request for the portal, the upload of what
//! the portal issued (including renewals), and what enrollment and the APNs client read.

use super::records::{CERT, CERT_KEY, CURRENT, CertRecord, REQUEST, REQUEST_KEY, RequestRecord};
use super::view::{PushStatus, RequestInfo};
use super::{Push, PushError};
use crate::audit::{self, Action, Actor, NewEntry, Outcome};
use crate::crypto::Secret;
use crate::crypto::push_cert::{self, PushCertInfo};
use crate::store::{self, StoreError};
use time::OffsetDateTime;

/// The CSR subject (the portal shows none of it; Apple's tools put CN, C and e-mail there).
const CSR_COMMON_NAME: &str = "adebox MDM push";
const CSR_COUNTRY: &str = "US";

/// What the APNs client needs: the certificate and key as one PEM, and the topic.
#[derive(Clone)]
pub struct Identity {
    pub pem: Secret<String>,
    pub topic: String,
    /// Changes when the certificate does (the client is rebuilt then).
    pub serial_hex: String,
    pub not_after: OffsetDateTime,
}

impl Push {
    /// Makes a new key and CSR, replacing any pending one. `email` goes into the CSR subject.
    pub async fn create_request(
        &self,
        actor: Actor,
        email: Option<String>,
    ) -> Result<RequestInfo, PushError> {
        let email = email.unwrap_or_else(|| "mdm@adebox.invalid".into());
        if email.len() > 128 || !email.is_ascii() || !email.contains('@') {
            return Err(PushError::Validation {
                field: "email",
                message: "enter a plain e-mail address (ASCII, with an @)".into(),
            });
        }
        let now = self.now();
        let request = tokio::task::spawn_blocking(move || {
            push_cert::generate_request(CSR_COMMON_NAME, CSR_COUNTRY, &email)
        })
        .await
        .map_err(|_| StoreError::TaskFailed)??;
        let record = RequestRecord {
            key_pem: self.inner.store.sealer().seal(REQUEST_KEY, CURRENT, &request.key_pem),
            csr_pem: request.csr_pem,
            created_at: now,
            created_by: actor.label(),
        };
        let info = RequestInfo::from(&record);
        self.inner
            .store
            .write(move |wtx| {
                store::put(&mut wtx.open_table(REQUEST)?, CURRENT, &record)?;
                audit::record_in(
                    wtx,
                    NewEntry::new(now, actor, Action::PushRequestCreate, Outcome::Success)
                        .detail("new push certificate request (key and CSR)".to_string()),
                )?;
                Ok::<_, PushError>(())
            })
            .await?;
        Ok(info)
    }

    /// The pending CSR (PEM), to upload at the portal directly.
    pub async fn request_csr_pem(&self) -> Result<String, PushError> {
        Ok(self.pending().await?.ok_or(PushError::NoRequest)?.csr_pem)
    }

    /// The pending CSR signed by an MDM vendor (base64 plist, spec §5.2), to upload at the
    /// portal. The vendor key is used for this signature only and not kept.
    pub async fn vendor_signed_request(
        &self,
        vendor_cert_pem: String,
        vendor_key: Secret<String>,
    ) -> Result<String, PushError> {
        let csr_pem = self.request_csr_pem().await?;
        tokio::task::spawn_blocking(move || {
            push_cert::vendor_signed_request(
                csr_pem.as_bytes(),
                &vendor_cert_pem,
                vendor_key.expose().as_bytes(),
                crate::apple::pinned::APPLE_ROOT_CA_PEM,
            )
        })
        .await
        .map_err(|_| StoreError::TaskFailed)?
        .map_err(PushError::from)
    }

    /// Installs the certificate the portal issued (PEM or DER). Its key must be the pending
    /// request's, or the installed certificate's (a renewal made with the same CSR); a
    /// renewal must keep the topic, or every enrolled device would have to re-enroll.
    pub async fn upload(&self, actor: Actor, bytes: Vec<u8>) -> Result<PushStatus, PushError> {
        let now = self.now();
        let info = tokio::task::spawn_blocking(move || push_cert::parse_certificate(&bytes))
            .await
            .map_err(|_| StoreError::TaskFailed)??;
        if info.not_after <= now {
            return Err(PushError::UploadExpired(info.not_after.date()));
        }
        let pending = self.pending().await?;
        let current = self.current().await?;
        if let Some(c) = &current
            && c.topic != info.topic
        {
            return Err(PushError::TopicChanged { current: c.topic.clone(), got: info.topic });
        }
        let sealer = self.inner.store.sealer();
        let pending_key = pending.as_ref().map(|p| sealer.open(REQUEST_KEY, CURRENT, &p.key_pem));
        let current_key = current.as_ref().map(|c| sealer.open(CERT_KEY, CURRENT, &c.key_pem));
        let (key, from_request) = match (pending_key.transpose()?, current_key.transpose()?) {
            (Some(p), _) if push_cert::key_matches(&info.spki_der, p.expose())? => (p, true),
            (_, Some(c)) if push_cert::key_matches(&info.spki_der, c.expose())? => (c, false),
            _ => return Err(PushError::KeyMismatch),
        };
        let renewal = current.is_some();
        let key = sealer.seal(CERT_KEY, CURRENT, &key);
        let record = cert_record(&info, key, now, &actor, current.as_ref());
        let (topic, not_after) = (record.topic.clone(), record.not_after);
        self.inner
            .store
            .write(move |wtx| {
                store::put(&mut wtx.open_table(CERT)?, CURRENT, &record)?;
                if from_request {
                    wtx.open_table(REQUEST)?.remove(CURRENT)?;
                }
                let action = if renewal { Action::PushCertRenew } else { Action::PushCertUpload };
                audit::record_in(
                    wtx,
                    NewEntry::new(now, actor, action, Outcome::Success)
                        .target(record.topic.clone())
                        .detail(format!("valid until {}", record.not_after.date())),
                )?;
                Ok::<_, PushError>(())
            })
            .await?;
        log::info!(topic = topic.as_str(), not_after = not_after.to_string().as_str(); "push certificate installed");
        self.status().await
    }

    /// The topic devices must be given, when a valid push certificate exists.
    pub async fn topic_for_enrollment(&self) -> Result<String, PushError> {
        let now = self.now();
        match self.current().await? {
            None => Err(PushError::NoCertificate),
            Some(c) if c.not_after <= now => Err(PushError::Expired(c.not_after.date())),
            Some(c) => Ok(c.topic),
        }
    }

    /// The client identity for APNs (crate-internal: it holds the key).
    pub(crate) async fn identity(&self) -> Result<Option<Identity>, PushError> {
        let Some(c) = self.current().await? else { return Ok(None) };
        let key = self.inner.store.sealer().open(CERT_KEY, CURRENT, &c.key_pem)?;
        Ok(Some(Identity {
            pem: Secret::new(format!("{}\n{}", c.cert_pem.trim_end(), key.expose())),
            topic: c.topic,
            serial_hex: c.serial_hex,
            not_after: c.not_after,
        }))
    }

    pub async fn status(&self) -> Result<PushStatus, PushError> {
        let (current, pending) = (self.current().await?, self.pending().await?);
        Ok(PushStatus::new(current.as_ref(), pending.as_ref(), self.now()))
    }

    pub(super) async fn current(&self) -> Result<Option<CertRecord>, PushError> {
        self.inner.store.read(|rtx| read_one(rtx, CERT)).await
    }

    async fn pending(&self) -> Result<Option<RequestRecord>, PushError> {
        self.inner.store.read(|rtx| read_one(rtx, REQUEST)).await
    }
}

fn read_one<T: serde::de::DeserializeOwned>(
    rtx: &redb::ReadTransaction,
    table: crate::store::Table,
) -> Result<Option<T>, PushError> {
    Ok(store::get(&rtx.open_table(table)?, CURRENT)?)
}

fn cert_record(
    info: &PushCertInfo,
    key_pem: store::Sealed,
    now: OffsetDateTime,
    actor: &Actor,
    previous: Option<&CertRecord>,
) -> CertRecord {
    CertRecord {
        cert_pem: info.cert_pem.clone(),
        key_pem,
        topic: info.topic.clone(),
        subject: info.subject.clone(),
        issuer: info.issuer.clone(),
        serial_hex: info.serial_hex.clone(),
        not_before: info.not_before,
        not_after: info.not_after,
        installed_at: previous.map_or(now, |p| p.installed_at),
        installed_by: previous.map_or_else(|| actor.label(), |p| p.installed_by.clone()),
        renewed_at: previous.map(|_| now),
        // A new certificate has not been refused yet.
        refused: None,
    }
}

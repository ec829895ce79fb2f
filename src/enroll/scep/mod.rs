//! The SCEP server (RFC 8894) for devices too old for ACME (../shared/spec/enrollment.md
//! §1.7, §2.5; issue 7 item 4): GetCACaps, GetCACert and PKIOperation PKCSReq with the
//! one-time challenge the enrollment profile carried.
//!
//! Owns the table of [`challenge`] and the folder of [`ra`]. Exposes [`Scep`] (the service:
//! [`Scep::caps`], [`Scep::ca_certs`], [`Scep::pki_operation`]) and [`ScepFailure`]. The
//! issued identity comes from ACME's authority and is recorded in ACME's certificate table
//! ([`crate::acme::AcmeService::issue_proven_in`]), in the same transaction that burns the
//! challenge and records the funnel event. Never names actix types; `http::scep` maps the
//! query string and statuses.
//!
//! A PKIOperation is checked in order of cost: rate limit per client, parse, signature
//! (public-key work), and only then the RSA decryption; the challenge is inside the
//! encrypted CSR, so it cannot be checked before decrypting (../shared/crates.md Q2).

pub mod challenge;
pub mod ra;

use super::events::{self, EnrollEvent, Step};
use crate::acme::limit::Limiter;
use crate::clock::Clock;
use crate::crypto::scep::server::{CsrInfo, Ra, Request, certificate_spki, read_csr};
use crate::crypto::scep::{FailInfo, MessageType, ScepError};
use crate::ids::{Serial, Udid};
use crate::store::{Store, StoreError};
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use time::OffsetDateTime;

/// Largest pkiMessage accepted; a PKCSReq with an RSA-4096 CSR is about 5 KiB.
pub const MAX_PKI_MESSAGE_LEN: usize = 64 * 1024;

/// PKIOperations one client may make per minute. Generous: a site's devices may share one
/// address behind NAT, and the sandbox fleet enrolls from one address.
pub const PER_CLIENT_PER_MINUTE: u32 = 120;

/// What GetCACaps answers (RFC 8894 §3.5.2): what the server really does. AES and DES3 are
/// the content ciphers it reads (single DES is refused with `badAlg`); SHA-256 the digest it
/// signs with. Not SHA-1 (still read in signatures, but not to be invited), not Renewal or
/// GetNextCACert (not implemented).
pub const CAPABILITIES: &str = "POSTPKIOperation\nSHA-256\nAES\nDES3\nSCEPStandard\n";

/// Why a PKIOperation got no CertRep at all (a CertRep FAILURE is an `Ok` answer).
#[derive(Debug, thiserror::Error)]
pub enum ScepFailure {
    #[error("the SCEP message is {len} bytes, over the {max}-byte limit")]
    TooLarge { len: usize, max: usize },
    #[error("{0}")]
    Malformed(String),
    #[error("too many SCEP requests from this client; try again after {retry_at}")]
    RateLimited { retry_at: OffsetDateTime },
    #[error("the SCEP reply cannot be made: {0}")]
    Internal(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

crate::store::redb_errors_into!(ScepFailure);

/// The SCEP service (cheap to clone).
#[derive(Clone)]
pub struct Scep {
    inner: Arc<Inner>,
}

struct Inner {
    store: Store,
    clock: Clock,
    acme: crate::acme::AcmeService,
    ra: Ra,
    limiter: Mutex<Limiter>,
    /// GetCACaps and GetCACert: cheap, but a stranger's requests all the same, with their own
    /// budget so a device's reads never use up its PKIOperations.
    reads: Mutex<Limiter>,
}

/// Why a request read well enough to answer is refused: the CertRep's failInfo, the reason
/// code of the refusal list, and the words (without the "SCEP request refused" prefix).
struct Refusal {
    fail: FailInfo,
    reason: &'static str,
    words: String,
}

impl From<ScepError> for Refusal {
    /// failInfo by RFC 8894 §3.2.1.4: `badAlg` for an algorithm adebox does not accept,
    /// `badMessageCheck` when the CMS signature fails (or the envelope, sealed under it, does
    /// not open), `badRequest` for a request that is read but not acceptable. `badTime` and
    /// `badCertId` have no use here: signingTime is not required, and there is no GetCert or
    /// CertPoll to name a certificate.
    fn from(e: ScepError) -> Refusal {
        let (fail, reason) = match &e {
            ScepError::UnsupportedAlgorithm(_) => (FailInfo::BadAlg, "scep_unsupported_algorithm"),
            ScepError::BadSignature(_) | ScepError::Malformed(_) => {
                (FailInfo::BadMessageCheck, "scep_bad_signature")
            }
            ScepError::Undecryptable => (FailInfo::BadMessageCheck, "scep_undecryptable"),
            ScepError::BadCsr(_) | ScepError::Build(_) | ScepError::Cms(_) => {
                (FailInfo::BadRequest, "scep_bad_csr")
            }
        };
        Refusal { fail, reason, words: e.to_string() }
    }
}

/// What the transaction decided.
enum Decision {
    Issued(Vec<u8>),
    Refused(FailInfo),
}

impl Scep {
    /// `per_client_per_minute`: requests one client address may make a minute
    /// ([`PER_CLIENT_PER_MINUTE`] in production).
    pub fn new(
        store: Store,
        clock: Clock,
        acme: crate::acme::AcmeService,
        ra: Ra,
        per_client_per_minute: u32,
    ) -> Scep {
        let limiter = Mutex::new(Limiter::new(per_client_per_minute));
        let reads = Mutex::new(Limiter::new(per_client_per_minute));
        Scep { inner: Arc::new(Inner { store, clock, acme, ra, limiter, reads }) }
    }

    /// GetCACaps (RFC 8894 §3.5.2), limited per client like every SCEP operation.
    pub fn caps(&self, client: Option<IpAddr>) -> Result<&'static str, ScepFailure> {
        self.allow_read(client)?;
        Ok(CAPABILITIES)
    }

    fn allow_read(&self, client: Option<IpAddr>) -> Result<(), ScepFailure> {
        if let Some(ip) = client {
            let mut reads = self.inner.reads.lock().unwrap_or_else(|p| p.into_inner());
            let now = self.inner.clock.now();
            reads.allow(ip, now).map_err(|retry_at| ScepFailure::RateLimited { retry_at })?;
        }
        Ok(())
    }

    /// GetCACert: the RA and the SCEP CA, both RSA, as a certs-only SignedData
    /// (`application/x-x509-ca-ra-cert`, RFC 8894 §4.2.1.2). Not the ECDSA appliance CA: a
    /// client that encrypts to every certificate of the answer could not ([`ra`]).
    pub fn ca_certs(&self, client: Option<IpAddr>) -> Result<Vec<u8>, ScepFailure> {
        self.allow_read(client)?;
        crate::crypto::scep::certs_only(&self.inner.ra.ca_certs())
            .map_err(|e| ScepFailure::Internal(e.to_string()))
    }

    /// PKIOperation: answers a pkiMessage with a CertRep (SUCCESS with the issued identity, or
    /// FAILURE with badAlg / badMessageCheck / badRequest), or fails when no CertRep can be
    /// made.
    pub async fn pki_operation(
        &self,
        client: Option<IpAddr>,
        body: Vec<u8>,
    ) -> Result<Vec<u8>, ScepFailure> {
        let now = self.inner.clock.now();
        if body.len() > MAX_PKI_MESSAGE_LEN {
            return Err(ScepFailure::TooLarge { len: body.len(), max: MAX_PKI_MESSAGE_LEN });
        }
        if let Some(ip) = client {
            let mut limiter = self.inner.limiter.lock().unwrap_or_else(|p| p.into_inner());
            limiter.allow(ip, now).map_err(|retry_at| ScepFailure::RateLimited { retry_at })?;
        }
        let this = self.clone();
        let (req, checked) = tokio::task::spawn_blocking(move || this.check(&body))
            .await
            .map_err(|_| ScepFailure::Store(StoreError::TaskFailed))??;
        let decision = match checked {
            Ok(csr) => self.decide(csr, now).await?,
            Err(refusal) => {
                let words = format!("SCEP request refused: {}", refusal.words);
                let fail_info = refusal.fail.name();
                log::warn!(reason = refusal.reason, fail_info = fail_info; "{words}");
                self.record_refusal(None, refusal.reason, words, now).await?;
                Decision::Refused(refusal.fail)
            }
        };
        let this = self.clone();
        tokio::task::spawn_blocking(move || {
            let outcome = match &decision {
                Decision::Issued(der) => Ok(der.as_slice()),
                Decision::Refused(fail) => Err(*fail),
            };
            req.cert_rep(&this.inner.ra, outcome, now)
        })
        .await
        .map_err(|_| ScepFailure::Store(StoreError::TaskFailed))?
        .map_err(|e| ScepFailure::Internal(e.to_string()))
    }

    /// The cryptographic checks, on a blocking thread: the request (or why there is no CertRep
    /// to make), and the CSR or why it is refused.
    fn check(&self, body: &[u8]) -> Result<(Request, Result<CsrInfo, Refusal>), ScepFailure> {
        let req = Request::parse(body).map_err(|e| ScepFailure::Malformed(e.to_string()))?;
        let checked = (|| {
            if req.message_type != Some(MessageType::PkcsReq) {
                return Err(Refusal {
                    fail: FailInfo::BadRequest,
                    reason: "scep_unsupported_message",
                    words: "only PKCSReq (initial enrollment) is supported".into(),
                });
            }
            req.verify().map_err(Refusal::from)?;
            let csr_der = req.decrypt(&self.inner.ra).map_err(Refusal::from)?;
            let csr = read_csr(&csr_der).map_err(Refusal::from)?;
            if certificate_spki(&req.signer_cert).map_err(Refusal::from)? != csr.spki {
                return Err(Refusal::from(ScepError::BadCsr(
                    "the request is signed with another key than the CSR's".into(),
                )));
            }
            Ok(csr)
        })();
        Ok((req, checked))
    }

    /// In one write transaction: take the challenge, check it is this device's, issue and
    /// record the identity and the funnel event; or record the refusal.
    async fn decide(&self, csr: CsrInfo, now: OffsetDateTime) -> Result<Decision, ScepFailure> {
        let acme = self.inner.acme.clone();
        self.inner
            .store
            .write(move |wtx| {
                let challenge = csr.challenge.as_ref().map(|c| c.expose().as_str()).unwrap_or("");
                let rec = match challenge::consume_in(wtx, challenge, now)? {
                    Ok(rec) => rec,
                    Err(refusal) => {
                        log::warn!(reason = refusal.code(); "{}", refusal.words());
                        let serial = refusal.record().map(|r| (r.serial.clone(), r.udid.clone()));
                        refusal_in(wtx, serial, refusal.code(), refusal.words(), now)?;
                        return Ok(Decision::Refused(FailInfo::BadRequest));
                    }
                };
                // The profile asks for CN = UDID; a CSR naming another device is refused, and
                // the challenge stays burnt: it leaked.
                if let Some(cn) = &csr.common_name
                    && rec.udid != cn.as_str()
                    && rec.serial != cn.as_str()
                {
                    let words = "SCEP request refused: the challenge was issued to another device";
                    log::warn!(serial = rec.serial.as_str(), reason = "scep_wrong_device"; "{words}");
                    let who = Some((rec.serial.clone(), rec.udid.clone()));
                    refusal_in(wtx, who, "scep_wrong_device", words.into(), now)?;
                    return Ok(Decision::Refused(FailInfo::BadRequest));
                }
                let der = acme
                    .issue_proven_in(wtx, &csr.spki, &rec.serial, &rec.udid, "scep", now)
                    .map_err(|e| ScepFailure::Internal(e.to_string()))?;
                let event = EnrollEvent {
                    at: now,
                    step: Step::CertificateIssued,
                    serial: Some(rec.serial.clone()),
                    udid: Some(rec.udid.clone()),
                    product: None,
                    reason: None,
                    message: "certificate issued (SCEP)".into(),
                };
                events::record_with_timeline_in(wtx, &event)?;
                Ok(Decision::Issued(der))
            })
            .await
    }

    async fn record_refusal(
        &self,
        device: Option<(Serial, Udid)>,
        reason: &'static str,
        words: String,
        now: OffsetDateTime,
    ) -> Result<(), ScepFailure> {
        self.inner.store.write(move |wtx| refusal_in(wtx, device, reason, words, now)).await
    }
}

/// A refused SCEP request in the funnel (and on the device's timeline when known).
fn refusal_in(
    wtx: &redb::WriteTransaction,
    device: Option<(Serial, Udid)>,
    reason: &str,
    words: String,
    now: OffsetDateTime,
) -> Result<(), ScepFailure> {
    let (serial, udid) = device.unzip();
    let event = EnrollEvent {
        at: now,
        step: Step::Refused,
        serial,
        udid,
        product: None,
        reason: Some(reason.to_string()),
        message: words,
    };
    Ok(events::record_with_timeline_in(wtx, &event)?)
}

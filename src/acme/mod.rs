//! The ACME server with `device-attest-01` (RFC 8555 + draft-ietf-acme-device-attest,
//! ../shared/spec/enrollment.md §3): directory, nonces, accounts, orders for one
//! `permanent-identifier`, authorizations with one `device-attest-01` challenge, attestation
//! checks (§3.4), finalize against the attested key, and the certificate as a PEM chain.
//!
//! Owns the tables `acme.*` ([`records`]). Exposes [`AcmeService`]: [`AcmeService::handle`]
//! for every signed request (the HTTP layer only maps [`Endpoint`]s and renders [`Reply`]s),
//! [`AcmeService::expect_device`] for the enrollment code to bind a one-time ClientIdentifier
//! to a serial and UDID, [`AcmeService::issue_proven_in`] for identities SCEP proved, and
//! [`AcmeService::device_for_certificate`] for MDM check-in.
//! Submodules: [`jws`] (pure JWS/JWK), [`signer`] (the device side of JWS), `nonces`,
//! `flow` (accounts, orders, authorizations), `attest` (the challenge), `finalize`,
//! [`upkeep`] (the maintenance pass: [`AcmeService::cleanup`]).
//!
//! The attestation trust anchors are a parameter: the daemon passes Apple's pinned root in
//! production and a stand-in root in the sandbox and tests; this module never chooses.
//! Must not use: http, daemon, enroll, mdm (later in the module order).

mod attest;
pub mod error;
mod finalize;
mod flow;
pub mod jws;
mod nonces;
mod proven;
pub mod records;
mod render;
mod revoke;
pub mod signer;
pub mod upkeep;

pub use error::{AcmeError, Problem};
/// Reads a finalize CSR; exposed for the fuzz entry points in `crate::fuzzing`.
pub(crate) use finalize::csr_public_key;
pub use records::{IssuedCert, IssuedTo, Revocation};

use crate::clock::Clock;
use crate::crypto::ca::Authority;
use crate::crypto::chain::TrustAnchors;
use crate::store::{self, Store};
use crate::urls::{self, Urls};
use jws::{JwsError, KeyRef};
use records::{AccountRec, Expectation};
use serde::{Serialize, de::DeserializeOwned};
use std::sync::Arc;
use time::{Duration, OffsetDateTime};

/// Issuance policy.
#[derive(Clone, Debug)]
pub struct AcmeOptions {
    /// Lifetime of issued device identities (default 365 days).
    pub cert_validity: Duration,
    /// How long an order (and its authorization) stays usable.
    pub order_lifetime: Duration,
}

impl Default for AcmeOptions {
    fn default() -> Self {
        AcmeOptions { cert_validity: Duration::days(365), order_lifetime: Duration::hours(1) }
    }
}

/// A signed ACME request's target.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Endpoint {
    NewAccount,
    NewOrder,
    Account(String),
    Order(String),
    Authz(String),
    Challenge(String),
    Finalize(String),
    Cert(String),
    RevokeCert,
}

/// A response body.
#[derive(Clone, Debug)]
pub enum Body {
    Json(serde_json::Value),
    /// `application/pem-certificate-chain`.
    PemChain(String),
}

/// A successful response: the HTTP layer adds `Replay-Nonce` and the content type.
#[derive(Clone, Debug)]
pub struct Reply {
    pub status: u16,
    pub location: Option<String>,
    /// `Link: <…>;rel="up"` (a challenge's authorization, a certificate's issuer chain).
    pub link_up: Option<String>,
    pub body: Body,
}

impl Reply {
    fn json(status: u16, body: serde_json::Value) -> Reply {
        Reply { status, location: None, link_up: None, body: Body::Json(body) }
    }
}

#[derive(Clone)]
pub struct AcmeService {
    inner: Arc<Inner>,
}

struct Inner {
    store: Store,
    clock: Clock,
    urls: Urls,
    anchors: TrustAnchors,
    ca: Arc<Authority>,
    nonces: nonces::Nonces,
    options: AcmeOptions,
}

/// An authenticated request inside its write transaction.
struct Ctx<'a> {
    inner: &'a Inner,
    wtx: &'a redb::WriteTransaction,
    now: OffsetDateTime,
    /// None only for a new-account request with a new key.
    account: Option<AccountRec>,
    jwk: jws::Jwk,
    payload: Vec<u8>,
}

impl AcmeService {
    /// `anchors` are the attestation roots (Apple's pinned root in production); `ca` issues
    /// the device identities.
    pub fn new(
        store: Store,
        clock: Clock,
        urls: Urls,
        anchors: TrustAnchors,
        ca: Arc<Authority>,
        options: AcmeOptions,
    ) -> AcmeService {
        AcmeService {
            inner: Arc::new(Inner {
                store,
                clock,
                urls,
                anchors,
                ca,
                nonces: nonces::Nonces::default(),
                options,
            }),
        }
    }

    /// The directory object (RFC 8555 §7.1.1).
    pub fn directory(&self) -> serde_json::Value {
        let u = &self.inner.urls;
        serde_json::json!({
            "newNonce": u.acme(urls::ACME_NEW_NONCE),
            "newAccount": u.acme(urls::ACME_NEW_ACCOUNT),
            "newOrder": u.acme(urls::ACME_NEW_ORDER),
            "revokeCert": u.acme(urls::ACME_REVOKE_CERT),
            "meta": {"externalAccountRequired": false},
        })
    }

    /// The directory's own URL.
    pub fn directory_url(&self) -> String {
        self.inner.urls.acme_directory()
    }

    /// A fresh nonce for a `Replay-Nonce` header.
    pub fn new_nonce(&self) -> String {
        self.inner.nonces.issue(self.inner.clock.now())
    }

    /// The URL a request for `endpoint` must name in its JWS header.
    pub fn url_of(&self, endpoint: &Endpoint) -> String {
        self.inner.url_of(endpoint)
    }

    /// Lets one ACME order with `client_identifier` as its `permanent-identifier` through,
    /// for the device `serial` / `udid`, until `expires_at`. The attestation must state the
    /// same serial and UDID. Replaces an earlier binding of the same identifier that has not
    /// been used for a certificate yet.
    pub async fn expect_device(
        &self,
        client_identifier: &str,
        serial: &str,
        udid: &str,
        expires_at: OffsetDateTime,
    ) -> Result<(), AcmeError> {
        let (id, serial, udid) =
            (client_identifier.to_string(), serial.to_string(), udid.to_string());
        self.inner
            .store
            .write(move |wtx| expect_device_in(wtx, &id, &serial, &udid, expires_at))
            .await
    }

    /// Which device a certificate (SHA-256 of its DER, lower-case hex) was issued to.
    pub async fn device_for_certificate(
        &self,
        sha256_hex: &str,
    ) -> Result<Option<IssuedTo>, AcmeError> {
        let key = sha256_hex.to_ascii_lowercase();
        self.inner
            .store
            .read(move |rtx| {
                let t = rtx.open_table(records::CERT_BY_HASH);
                match t {
                    Ok(t) => Ok(store::get(&t, key.as_bytes())?),
                    Err(redb::TableError::TableDoesNotExist(_)) => Ok(None),
                    Err(e) => Err(e.into()),
                }
            })
            .await
    }

    /// The serials that have been issued a certificate.
    pub async fn certified_serials(&self) -> Result<std::collections::HashSet<String>, AcmeError> {
        self.inner
            .store
            .read(move |rtx| {
                let mut out = std::collections::HashSet::new();
                let t = match rtx.open_table(records::CERT_BY_HASH) {
                    Ok(t) => t,
                    Err(redb::TableError::TableDoesNotExist(_)) => return Ok(out),
                    Err(e) => return Err(e.into()),
                };
                for row in redb::ReadableTable::iter(&t)? {
                    let (_, v) = row?;
                    let to: IssuedTo = store::decode("acme.cert_by_hash", v.value())?;
                    out.insert(to.serial);
                }
                Ok(out)
            })
            .await
    }

    /// The identity certificates issued to a device (by serial), oldest first.
    pub async fn certificates_of(&self, serial: &str) -> Result<Vec<IssuedCert>, AcmeError> {
        let serial = serial.trim().to_ascii_uppercase();
        self.inner
            .store
            .read(move |rtx| {
                let t = match rtx.open_table(records::CERTS) {
                    Ok(t) => t,
                    Err(redb::TableError::TableDoesNotExist(_)) => return Ok(Vec::new()),
                    Err(e) => return Err(e.into()),
                };
                let mut out = Vec::new();
                for row in redb::ReadableTable::iter(&t)? {
                    let (_, v) = row?;
                    let c: records::CertRec = store::decode("acme.certs", v.value())?;
                    if c.serial.eq_ignore_ascii_case(&serial) {
                        out.push(IssuedCert::from(c));
                    }
                }
                out.sort_by_key(|c| c.issued_at);
                Ok(out)
            })
            .await
    }

    /// Authenticates a signed request (JWS signature, account, url, nonce — RFC 8555 §6.2–6.5)
    /// and carries it out in one write transaction. A failed attestation is committed (the
    /// challenge and authorization become invalid) and then reported as the error.
    pub async fn handle(&self, endpoint: Endpoint, body: Vec<u8>) -> Result<Reply, AcmeError> {
        let req = jws::parse(&body)?;
        let inner = self.inner.clone();
        let now = inner.clock.now();
        self.inner
            .store
            .write(move |wtx| {
                let (account, jwk) = inner.resolve_key(wtx, &req.key, &endpoint)?;
                let payload = req.verify(&jwk)?.to_vec();
                req.check_url(&inner.url_of(&endpoint))?;
                if !inner.nonces.consume(&req.nonce, now) {
                    return Err(AcmeError::Jws(JwsError::BadNonce));
                }
                let ctx = Ctx { inner: &inner, wtx, now, account, jwk, payload };
                Ok::<_, AcmeError>(ctx.dispatch(endpoint))
            })
            .await?
    }
}

/// [`AcmeService::expect_device`] inside the caller's write transaction (the enrollment code
/// binds the identifier in the same transaction that records the profile it served).
pub fn expect_device_in(
    wtx: &redb::WriteTransaction,
    client_identifier: &str,
    serial: &str,
    udid: &str,
    expires_at: OffsetDateTime,
) -> Result<(), AcmeError> {
    if client_identifier.is_empty() || client_identifier.contains('/') {
        return Err(AcmeError::Malformed(
            "a ClientIdentifier must be non-empty and without '/' (draft-ietf-acme-device-attest)"
                .into(),
        ));
    }
    if let Some(old) = load::<Expectation>(wtx, records::EXPECTED, client_identifier)?
        && old.cert_id.is_some()
    {
        return Err(AcmeError::RejectedIdentifier(
            "this ClientIdentifier was already used for a certificate".into(),
        ));
    }
    let rec = Expectation {
        serial: serial.to_string(),
        udid: udid.to_string(),
        expires_at,
        account_id: None,
        cert_id: None,
    };
    save(wtx, records::EXPECTED, client_identifier, &rec)
}

impl Inner {
    fn url_of(&self, endpoint: &Endpoint) -> String {
        let u = &self.urls;
        match endpoint {
            Endpoint::NewAccount => u.acme(urls::ACME_NEW_ACCOUNT),
            Endpoint::NewOrder => u.acme(urls::ACME_NEW_ORDER),
            Endpoint::Account(id) => u.acme(&format!("{}/{id}", urls::ACME_ACCOUNT)),
            Endpoint::Order(id) => u.acme(&format!("{}/{id}", urls::ACME_ORDER)),
            Endpoint::Authz(id) => u.acme(&format!("{}/{id}", urls::ACME_AUTHZ)),
            Endpoint::Challenge(id) => u.acme(&format!("{}/{id}", urls::ACME_CHALLENGE)),
            Endpoint::Finalize(id) => {
                u.acme(&format!("{}/{id}/{}", urls::ACME_ORDER, urls::ACME_FINALIZE))
            }
            Endpoint::Cert(id) => u.acme(&format!("{}/{id}", urls::ACME_CERT)),
            Endpoint::RevokeCert => u.acme(urls::ACME_REVOKE_CERT),
        }
    }

    /// The key a request is signed with: its `jwk` (new-account only) or its account's.
    fn resolve_key(
        &self,
        wtx: &redb::WriteTransaction,
        key: &KeyRef,
        endpoint: &Endpoint,
    ) -> Result<(Option<AccountRec>, jws::Jwk), AcmeError> {
        match (key, endpoint) {
            (KeyRef::Jwk(jwk), Endpoint::NewAccount) => {
                let id = load::<String>(wtx, records::ACCOUNT_KEYS, &jwk.thumbprint())?;
                let account = match id {
                    Some(id) => load::<AccountRec>(wtx, records::ACCOUNTS, &id)?,
                    None => None,
                };
                Ok((account, jwk.clone()))
            }
            // RFC 8555 §7.6: revocation may be signed with the certificate's own key.
            (KeyRef::Jwk(jwk), Endpoint::RevokeCert) => Ok((None, jwk.clone())),
            (KeyRef::Jwk(_), _) => Err(AcmeError::Malformed(
                "this request must name its account with \"kid\", not carry a \"jwk\"".into(),
            )),
            (KeyRef::Kid(_), Endpoint::NewAccount) => Err(AcmeError::Malformed(
                "new-account requests carry the account key as \"jwk\"".into(),
            )),
            (KeyRef::Kid(kid), _) => {
                let prefix = self.urls.acme(&format!("{}/", urls::ACME_ACCOUNT));
                let unknown = || JwsError::AccountDoesNotExist(kid.chars().take(200).collect());
                let id = kid.strip_prefix(&prefix).ok_or_else(unknown)?;
                let account =
                    load::<AccountRec>(wtx, records::ACCOUNTS, id)?.ok_or_else(unknown)?;
                let jwk = jws::Jwk::from_json(&account.jwk)?;
                Ok((Some(account), jwk))
            }
        }
    }
}

impl Ctx<'_> {
    fn dispatch(self, endpoint: Endpoint) -> Result<Reply, AcmeError> {
        match endpoint {
            Endpoint::NewAccount => self.new_account(),
            Endpoint::Account(id) => self.account(&id),
            Endpoint::NewOrder => self.new_order(),
            Endpoint::Order(id) => self.order(&id),
            Endpoint::Authz(id) => self.authz(&id),
            Endpoint::Challenge(id) => self.challenge(&id),
            Endpoint::Finalize(id) => self.finalize(&id),
            Endpoint::Cert(id) => self.certificate(&id),
            Endpoint::RevokeCert => self.revoke_cert(),
        }
    }

    /// The requesting account (every endpoint but new-account has one).
    fn account_id(&self) -> Result<&str, AcmeError> {
        self.account
            .as_ref()
            .map(|a| a.id.as_str())
            .ok_or_else(|| AcmeError::Unauthorized("no account".into()))
    }

    /// The payload as JSON; POST-as-GET (empty payload) is refused where a body is needed.
    fn json_payload(&self) -> Result<serde_json::Value, AcmeError> {
        serde_json::from_slice(&self.payload)
            .map_err(|_| AcmeError::Malformed("the JWS payload is not a JSON object".into()))
    }

    fn require_post_as_get(&self) -> Result<(), AcmeError> {
        if self.payload.is_empty() {
            Ok(())
        } else {
            Err(AcmeError::Malformed(
                "this resource is read with POST-as-GET (empty payload)".into(),
            ))
        }
    }
}

pub(crate) fn load<T: DeserializeOwned>(
    wtx: &redb::WriteTransaction,
    def: store::Table,
    key: &str,
) -> Result<Option<T>, AcmeError> {
    let t = wtx.open_table(def)?;
    Ok(store::get(&t, key.as_bytes())?)
}

pub(crate) fn save<T: Serialize>(
    wtx: &redb::WriteTransaction,
    def: store::Table,
    key: &str,
    value: &T,
) -> Result<(), AcmeError> {
    let mut t = wtx.open_table(def)?;
    store::put(&mut t, key.as_bytes(), value)?;
    Ok(())
}

#[cfg(test)]
mod tests;

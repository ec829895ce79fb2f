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
//! Submodules: [`jws`] (pure JWS/JWK), [`signer`] (the device side of JWS), `nonces`, `auth`
//! (who signed a request, where it was sent), `account` (accounts, their orders list,
//! deactivation), `key_change`, `flow` (orders, authorizations), `attest` (the challenge),
//! `finalize`, `revoke`, `precheck` (the payload's signature checks, done before the write),
//! [`outcomes`] (what the enrollment funnel learns), `pending` (orders and authorizations,
//! held in memory) and [`upkeep`] (the maintenance pass: [`AcmeService::cleanup`]).
//!
//! What is durable and what is not: accounts, the ClientIdentifier bindings and issued
//! certificates are in the store; replay nonces, orders and authorizations live in memory
//! only (`nonces`, `pending`), since a device that loses them in a crash recovers by
//! ordering again, as ACME clients do. A request that only reads (an order, an
//! authorization, a successful challenge, a certificate) therefore never waits for the
//! store's writer; see `pending` for why and how.
//!
//! The attestation trust anchors are a parameter: the daemon passes Apple's pinned root in
//! production and a stand-in root in the sandbox and tests; this module never chooses.
//! Must not use: http, daemon, enroll, mdm (later in the module order).

mod account;
mod attest;
mod auth;
pub mod error;
mod finalize;
mod flow;
mod key_change;
pub mod limit;
mod limits;
mod nonces;
pub mod outcomes;
mod pending;
mod precheck;
mod proven;
pub mod records;
mod render;
mod revoke;
mod run;
pub mod upkeep;

pub use auth::{JOSE_JSON, check_content_type};
pub use error::{AcmeError, Problem};
/// Reads a finalize CSR; exposed for the fuzz entry points in `crate::fuzzing`.
pub(crate) use finalize::csr_public_key;
pub use outcomes::{DeviceOutcome, OutcomeKind, OutcomeSink};
pub use records::TABLES;
pub use records::{IssuedCert, IssuedTo, Revocation};

use crate::clock::Clock;
use crate::crypto::ca::Authority;
use crate::crypto::chain::TrustAnchors;
use crate::crypto::jws::{self, JwsError};
use crate::ids::{Serial, Udid};
use crate::store::{self, Store};
use crate::urls::{self, Urls};
use records::{AccountRec, Expectation};
use run::{TxRef, reads_first};
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
    /// `newAccount` requests, and separately `newOrder` requests, one client address may make
    /// a minute ([`PER_CLIENT_PER_MINUTE`]).
    pub per_client_per_minute: u32,
    /// The cap on unfinished state ([`MAX_UNFINISHED`]): stored accounts beyond the
    /// certificates issued, and orders held in memory (each with its authorization).
    pub max_unfinished: u64,
}

/// New accounts (and new orders) one client address may ask for a minute. Generous: a site's
/// devices may enroll behind one NAT address, each with its own account and order, at the
/// pace of people going through Setup Assistant.
pub const PER_CLIENT_PER_MINUTE: u32 = 60;

/// Default cap on unfinished ACME state: about 14 MB of accounts (~690 bytes each) and as
/// many orders. Upkeep deletes unused accounts and expired orders a day after, so a real
/// site reaches it only by enrolling this many devices within a day.
pub const MAX_UNFINISHED: u64 = 20_000;

impl Default for AcmeOptions {
    fn default() -> Self {
        AcmeOptions {
            cert_validity: Duration::days(365),
            order_lifetime: Duration::hours(1),
            per_client_per_minute: PER_CLIENT_PER_MINUTE,
            max_unfinished: MAX_UNFINISHED,
        }
    }
}

/// A signed ACME request's target.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Endpoint {
    NewAccount,
    NewOrder,
    Account(String),
    /// An account's orders list, from `cursor` (the last order id of the previous page) on.
    Orders {
        account: String,
        cursor: Option<String>,
    },
    Order(String),
    Authz(String),
    Challenge(String),
    Finalize(String),
    Cert(String),
    RevokeCert,
    KeyChange,
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
    /// `Link: <…>;rel="next"` (the next page of an orders list, RFC 8555 §7.1.2.1).
    pub link_next: Option<String>,
    pub body: Body,
}

impl Reply {
    fn json(status: u16, body: serde_json::Value) -> Reply {
        Reply { status, location: None, link_up: None, link_next: None, body: Body::Json(body) }
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
    /// Orders and authorizations ([`pending`]).
    pending: pending::Pending,
    options: AcmeOptions,
    limits: limits::Limits,
    /// Set once by the enrollment service (see [`AcmeService::report_outcomes_to`]).
    outcomes: std::sync::OnceLock<OutcomeSink>,
}

/// An authenticated request inside its transaction: a read of the last commit first for the
/// endpoints that may only read ([`reads_first`]), the store's write otherwise.
struct Ctx<'a> {
    inner: &'a Inner,
    tx: TxRef<'a>,
    now: OffsetDateTime,
    /// None only for a new-account request with a new key.
    account: Option<AccountRec>,
    jwk: jws::Jwk,
    payload: Vec<u8>,
    /// What was checked of the payload before the write ([`precheck`]).
    checked: Arc<precheck::Checked>,
    /// Order and authorization changes, applied once the request succeeded ([`pending`]).
    staged: std::cell::RefCell<pending::Staged>,
    /// A run in a read transaction needed to write: the request goes to the store's writer.
    wanted_write: std::cell::Cell<bool>,
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
                pending: pending::Pending::default(),
                limits: limits::Limits::new(options.per_client_per_minute),
                options,
                outcomes: std::sync::OnceLock::new(),
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
            "keyChange": u.acme(urls::ACME_KEY_CHANGE),
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
        serial: &Serial,
        udid: &Udid,
        expires_at: OffsetDateTime,
    ) -> Result<(), AcmeError> {
        let (id, serial, udid) = (client_identifier.to_string(), serial.clone(), udid.clone());
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
                let t = rtx.open_table(records::CERT_BY_HASH)?;
                Ok(store::get(&t, key.as_bytes())?)
            })
            .await
    }

    /// The serials that have been issued a certificate.
    pub async fn certified_serials(&self) -> Result<std::collections::HashSet<Serial>, AcmeError> {
        self.inner
            .store
            .read(move |rtx| {
                let mut out = std::collections::HashSet::new();
                let t = rtx.open_table(records::CERT_BY_HASH)?;
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
    pub async fn certificates_of(&self, serial: &Serial) -> Result<Vec<IssuedCert>, AcmeError> {
        let serial = serial.clone();
        self.inner
            .store
            .read(move |rtx| {
                let t = rtx.open_table(records::CERTS)?;
                let mut out = Vec::new();
                for row in redb::ReadableTable::iter(&t)? {
                    let (_, v) = row?;
                    let c: records::CertRec = store::decode("acme.certs", v.value())?;
                    // Records from before every edge upper-cased may hold another case.
                    if c.serial.as_str().eq_ignore_ascii_case(serial.as_str()) {
                        out.push(IssuedCert::from(c));
                    }
                }
                out.sort_by_key(|c| c.issued_at);
                Ok(out)
            })
            .await
    }

    /// Authenticates a signed request (JWS signature, account, url, nonce — RFC 8555 §6.2–6.5)
    /// and carries it out in one write transaction, committed only when the request succeeds
    /// (a failed attestation is a success: the challenge answers `invalid` with its error).
    /// The media type is the caller's to check first ([`check_content_type`]). `client` is
    /// the caller's address: `newAccount` and `newOrder` are limited per address, before any
    /// other work ([`limits`]).
    ///
    /// The CPU-heavy checks run before the store's one writer thread sees the request
    /// ([`precheck`]): the signature against the key a read of the last commit names, and the
    /// attestation chain or CSR signature the payload carries. The write then reads the key
    /// again and checks the signature once more only if a key change landed in between.
    pub async fn handle(
        &self,
        endpoint: Endpoint,
        body: Vec<u8>,
        client: Option<std::net::IpAddr>,
    ) -> Result<Reply, AcmeError> {
        let prepared = self.prepare(endpoint, body, client).await?;
        self.commit(prepared).await
    }

    /// The part of [`AcmeService::handle`] before the write: limits, the signature, the nonce
    /// and the payload's checks, from a read of the last commit.
    async fn prepare(
        &self,
        endpoint: Endpoint,
        body: Vec<u8>,
        client: Option<std::net::IpAddr>,
    ) -> Result<Prepared, AcmeError> {
        let now = self.inner.clock.now();
        self.inner.limits.allow(&endpoint, client, now)?;
        let req = jws::parse(&body)?;
        let (inner, key, target) = (self.inner.clone(), req.key.clone(), endpoint.clone());
        let (account, jwk) =
            self.inner.store.read(move |rtx| inner.resolve_key(rtx, &key, &target)).await?;
        let payload = req.verify(&jwk)?.to_vec();
        req.check_url(&self.inner.url_of(&endpoint))?;
        // Used up before the write: a change the store runs again (group commit) or one that
        // fails still spent it, as a nonce must be good once.
        if !self.inner.nonces.consume(&req.nonce, now) {
            return Err(AcmeError::Jws(JwsError::BadNonce));
        }
        let mut checked = precheck::Checked::of(&endpoint, &payload, &self.inner, now);
        if let (Endpoint::Finalize(order), Some(Ok(spki)), Some(account)) =
            (&endpoint, &checked.csr, &account)
        {
            let (inner, order, spki, account) =
                (self.inner.clone(), order.clone(), spki.clone(), account.id.clone());
            checked.presigned = self
                .inner
                .store
                .read(move |rtx| precheck::presign(&inner, rtx, &order, &account, &spki, now))
                .await?;
        }
        Ok(Prepared { endpoint, req, jwk, payload, now, checked: Arc::new(checked) })
    }

    /// The write of [`AcmeService::handle`]: the stored records are read again, so anything
    /// that changed since [`AcmeService::prepare`] decides (a key rolled over, an order or a
    /// device binding changed: the certificate is then signed again inside the write).
    /// Requests that may only read ([`reads_first`]) run in a read transaction first, and
    /// reach the writer only if they need to write; their order and authorization changes
    /// are applied at once. A write's are applied after its commit, in commit order.
    async fn commit(&self, prepared: Prepared) -> Result<Reply, AcmeError> {
        if reads_first(&prepared.endpoint) {
            let (inner, p) = (self.inner.clone(), prepared.clone());
            let read = self.inner.store.read(move |rtx| inner.run(TxRef::Read(rtx), p)).await?;
            if let Some((reply, staged)) = read {
                self.inner.pending.apply(staged);
                return Ok(reply);
            }
        }
        let (inner, after) = (self.inner.clone(), self.inner.clone());
        let (reply, _) = self
            .inner
            .store
            .write_then(
                move |wtx| {
                    inner.run(TxRef::Write(wtx), prepared)?.ok_or_else(|| {
                        AcmeError::Issue("a request in the store's write could not write".into())
                    })
                },
                move |(_, staged): &mut (Reply, pending::Staged)| {
                    after.pending.apply(std::mem::take(staged))
                },
            )
            .await?;
        Ok(reply)
    }
}

/// A signed request checked against the last commit, waiting for its write.
#[derive(Clone)]
struct Prepared {
    endpoint: Endpoint,
    req: jws::SignedRequest,
    /// The key the last commit named for the request.
    jwk: jws::Jwk,
    payload: Vec<u8>,
    now: OffsetDateTime,
    checked: Arc<precheck::Checked>,
}

/// [`AcmeService::expect_device`] inside the caller's write transaction (the enrollment code
/// binds the identifier in the same transaction that records the profile it served).
pub fn expect_device_in(
    wtx: &redb::WriteTransaction,
    client_identifier: &str,
    serial: &Serial,
    udid: &Udid,
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
        serial: serial.clone(),
        udid: udid.clone(),
        expires_at,
        account_id: None,
        cert_id: None,
    };
    save(wtx, records::EXPECTED, client_identifier, &rec)
}

impl Ctx<'_> {
    fn dispatch(&self, endpoint: Endpoint) -> Result<Reply, AcmeError> {
        match endpoint {
            Endpoint::NewAccount => self.new_account(),
            Endpoint::Account(id) => self.account(&id),
            Endpoint::Orders { account, cursor } => self.orders(&account, cursor.as_deref()),
            Endpoint::KeyChange => self.key_change(),
            Endpoint::NewOrder => self.new_order(),
            Endpoint::Order(id) => self.order(&id),
            Endpoint::Authz(id) => self.authz(&id),
            Endpoint::Challenge(id) => self.challenge(&id),
            Endpoint::Finalize(id) => self.finalize(&id),
            Endpoint::Cert(id) => self.certificate(&id),
            Endpoint::RevokeCert => self.revoke_cert(),
        }
    }

    /// The requesting account (every endpoint but new-account and key-signed revokeCert has
    /// one: [`Inner::resolve_key`] insists on a `kid` for them).
    fn account_id(&self) -> Result<&str, AcmeError> {
        self.account.as_ref().map(|a| a.id.as_str()).ok_or_else(|| {
            AcmeError::Unauthorized("this request must be signed by an account's key".into())
        })
    }

    /// The payload as JSON; POST-as-GET (empty payload) is refused where a body is needed.
    fn json_payload(&self) -> Result<serde_json::Value, AcmeError> {
        match serde_json::from_slice::<serde_json::Value>(&self.payload) {
            Ok(v @ serde_json::Value::Object(_)) => Ok(v),
            _ if self.payload.is_empty() => Err(AcmeError::Malformed(
                "this request needs a JSON object as its payload, not an empty one (POST-as-GET)"
                    .into(),
            )),
            _ => Err(AcmeError::Malformed("the JWS payload is not a JSON object".into())),
        }
    }

    fn require_post_as_get(&self) -> Result<(), AcmeError> {
        if self.payload.is_empty() {
            Ok(())
        } else {
            Err(AcmeError::Malformed(
                "this resource is read with POST-as-GET: an empty payload (RFC 8555 §6.3)".into(),
            ))
        }
    }
}

/// A transaction records are read through: the write transaction of a change, or the read
/// transaction in which a request is authenticated before it reaches the store's writer.
pub(crate) trait Tx {
    fn load_rec<T: DeserializeOwned>(
        &self,
        def: store::Table,
        key: &str,
    ) -> Result<Option<T>, AcmeError>;
}

// redb has no trait for `open_table` common to both transactions (their tables are distinct
// types), so one body serves both through a macro.
macro_rules! impl_tx {
    ($($tx:ty),+) => {$(
        impl Tx for $tx {
            fn load_rec<T: DeserializeOwned>(
                &self,
                def: store::Table,
                key: &str,
            ) -> Result<Option<T>, AcmeError> {
                let t = self.open_table(def)?;
                Ok(store::get(&t, key.as_bytes())?)
            }
        }
    )+};
}
impl_tx!(redb::WriteTransaction, redb::ReadTransaction);

pub(crate) fn load<T: DeserializeOwned>(
    tx: &impl Tx,
    def: store::Table,
    key: &str,
) -> Result<Option<T>, AcmeError> {
    tx.load_rec(def, key)
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

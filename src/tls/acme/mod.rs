//! The appliance's own server certificate from an ACME CA (RFC 8555) with HTTP-01: the
//! account, the order for the configured names, the challenge answers the plain-HTTP listener
//! serves while the order is pending, and the renewal schedule (the CA's suggested window when
//! it offers renewal information (RFC 9773, [`ari`]), else two thirds of the lifetime;
//! retried with backoff after a failure).
//!
//! The protocol is instant-acme's; requests go through the product's outbound client
//! ([`http`]). The account's credentials (its private key) are a secret: sealed with the data
//! key (`store::Sealer`) in `<data_dir>/tls/acme-account.sealed`, bound to the directory URL,
//! so a copy of the TLS folder alone does not reveal the key and another CA's directory makes a
//! new account. The EAB HMAC key is only ever read from the configuration file. Neither is
//! logged, shown or audited; errors carry the CA's own words, which hold no secret.

mod ari;
mod challenges;
mod http;
mod install;

pub use ari::RenewalBasis;
pub use challenges::Challenges;
pub(in crate::tls) use install::{CERT, KEY, renewal_time};

use super::{TlsError, TlsManager};
use crate::certinfo::CertInfo;
use crate::config::AcmeConfig;
use crate::crypto::Secret;
use crate::files;
use crate::outbound::OutboundConfig;
use crate::store::{Sealed, Sealer, SecretField};
use instant_acme::{
    Account, AccountCredentials, AuthorizationStatus, ChallengeType, ExternalAccountKey,
    Identifier, NewAccount, NewOrder, OrderStatus, RetryPolicy,
};
use serde::{Deserialize, Serialize};
use std::sync::{Arc, Mutex};
use std::time::Duration as StdDuration;
use time::{Duration, OffsetDateTime};

pub(in crate::tls) const ACCOUNT: &str = "acme-account.sealed";
const ACCOUNT_FIELD: SecretField = SecretField::new("tls.acme", "account_credentials");
/// How long the CA gets to validate the challenges and to issue.
const ORDER_TIMEOUT: StdDuration = StdDuration::from_secs(90);
/// First retry after a failure; doubled each time up to [`MAX_BACKOFF`].
const FIRST_BACKOFF: Duration = Duration::minutes(1);
const MAX_BACKOFF: Duration = Duration::hours(6);

#[derive(Debug, thiserror::Error)]
pub enum AcmeError {
    /// The CA or the way to it, in the CA's words, with the step that failed.
    #[error("{step}: {detail}")]
    Ca { step: &'static str, detail: String },
    #[error(transparent)]
    Tls(#[from] TlsError),
    #[error(
        "the ACME account file {path} cannot be used ({detail}); remove it to register a new account with the CA"
    )]
    Account { path: String, detail: String },
    #[error("tls.acme.ca_file: {0}")]
    CaFile(String),
}

/// What the Settings page shows about ACME (served as is in `GET /api/v1/settings/tls`):
/// where the certificate comes from and how the last order went.
#[derive(Clone, Debug, Default, Serialize, utoipa::ToSchema)]
pub struct AcmeStatus {
    pub directory_url: String,
    /// The plain-HTTP listener the CA validates on (it answers only pending challenges).
    pub http_listen: String,
    /// The extra roots trusted for the CA's HTTPS (`tls.acme.ca_file`), if any.
    pub ca_file: Option<String>,
    pub contact: Option<String>,
    pub external_account_binding: bool,
    #[serde(with = "time::serde::rfc3339::option")]
    pub last_order_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub last_success_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub next_attempt_at: Option<OffsetDateTime>,
    /// The last order's error in plain words (the CA's own); cleared by a success.
    pub last_error: Option<String>,
    /// What `next_attempt_at` follows for the certificate in use; null until the CA was asked.
    pub renewal_basis: Option<RenewalBasis>,
    /// The CA's suggested renewal window (RFC 9773), when it offers one.
    #[serde(with = "time::serde::rfc3339::option")]
    pub suggested_window_start: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub suggested_window_end: Option<OffsetDateTime>,
    #[serde(skip)]
    failures: u32,
    /// When to ask the CA for its renewal window (again).
    #[serde(skip)]
    hint_due_at: Option<OffsetDateTime>,
}

#[derive(Serialize, Deserialize)]
struct AccountFile {
    directory_url: String,
    credentials: Sealed,
}

/// Places orders and keeps the schedule; one per daemon, shared with the HTTP layer.
pub struct AcmeRenewer {
    config: AcmeConfig,
    tls: Arc<TlsManager>,
    sealer: Sealer,
    outbound: OutboundConfig,
    challenges: Challenges,
    status: Mutex<AcmeStatus>,
    /// Read again when the certificate arrives: the CA dates it from the moment it issues.
    clock: crate::clock::Clock,
    /// One order at a time (the renewal task and "Renew now").
    ordering: tokio::sync::Mutex<()>,
    /// Wakes the renewal task for an order due now ([`AcmeRenewer::order_soon`]).
    wake: tokio::sync::Notify,
}

impl std::fmt::Debug for AcmeRenewer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AcmeRenewer").field("directory", &self.config.directory_url).finish()
    }
}

impl AcmeRenewer {
    /// `outbound`: the proxy and timeouts the daemon chose; the trust roots become the
    /// system's plus `tls.acme.ca_file`.
    pub fn new(
        config: AcmeConfig,
        tls: Arc<TlsManager>,
        sealer: Sealer,
        mut outbound: OutboundConfig,
        clock: crate::clock::Clock,
    ) -> Result<AcmeRenewer, AcmeError> {
        outbound.trust = match &config.ca_file {
            None => crate::outbound::TrustRoots::System,
            Some(path) => {
                let (pem, _) = crate::outbound::load_extra_roots(path).map_err(|e| {
                    AcmeError::CaFile(e.to_string().replace("apple.extra_ca_file ", ""))
                })?;
                crate::outbound::TrustRoots::SystemAnd(vec![pem])
            }
        };
        outbound.allow_http = false;
        let status = AcmeStatus {
            directory_url: config.directory_url.clone(),
            http_listen: config.http_listen.to_string(),
            ca_file: config.ca_file.as_ref().map(|p| p.display().to_string()),
            contact: config.contact.clone(),
            external_account_binding: config.eab.is_some(),
            next_attempt_at: tls.acme_renews_at(),
            // A certificate served from disk: its window is asked for at once.
            hint_due_at: tls.acme_renews_at().map(|_| clock.now()),
            ..AcmeStatus::default()
        };
        Ok(AcmeRenewer {
            config,
            tls,
            sealer,
            outbound,
            challenges: Challenges::default(),
            status: Mutex::new(status),
            clock,
            ordering: tokio::sync::Mutex::new(()),
            wake: tokio::sync::Notify::new(),
        })
    }

    pub fn challenges(&self) -> Challenges {
        self.challenges.clone()
    }

    pub fn status(&self) -> AcmeStatus {
        self.status.lock().expect("status is never held across a panic").clone()
    }

    /// When the next order is due: the renewal time of the certificate in use, now when none
    /// is issued yet, or the backoff after a failure.
    pub fn next_attempt(&self, now: OffsetDateTime) -> OffsetDateTime {
        self.status().next_attempt_at.unwrap_or(now)
    }

    /// Makes an order due now and wakes the renewal task (`public.hosts` changed on reload:
    /// the certificate in use no longer names them all).
    pub fn order_soon(&self) {
        let now = self.clock.now();
        self.update(|s| s.next_attempt_at = Some(now));
        self.wake.notify_one();
    }

    /// Returns when [`AcmeRenewer::order_soon`] was called (at once when it was called while
    /// nobody waited).
    pub async fn woken(&self) {
        self.wake.notified().await;
    }

    /// When the renewal task must wake: the next order, or asking for the renewal window.
    pub fn wake_at(&self, now: OffsetDateTime) -> OffsetDateTime {
        let status = self.status();
        let order = status.next_attempt_at.unwrap_or(now);
        status.hint_due_at.map_or(order, |h| h.min(order))
    }

    /// Asks the CA for the certificate's renewal window when that is due, and schedules the
    /// next order inside it (or keeps the two-thirds rule when the CA has no renewal
    /// information). A failure keeps the schedule and asks again later.
    pub async fn refresh_hint_if_due(&self) {
        let now = self.clock.now();
        if self.status().hint_due_at.is_none_or(|due| due > now) {
            return;
        }
        let _one = self.ordering.lock().await;
        let Some(leaf) = self.tls.acme_leaf() else {
            self.update(|s| s.hint_due_at = None);
            return;
        };
        let asked = match self.account().await {
            Ok(account) => ari::ask(&account, &leaf, now).await,
            Err(e) => Err(e),
        };
        let mut status = self.status.lock().expect("status is never held across a panic");
        match asked {
            Ok(Some(hint)) => {
                let same = status.suggested_window_start == Some(hint.start)
                    && status.suggested_window_end == Some(hint.end)
                    && status.renewal_basis == Some(RenewalBasis::CaSuggestion);
                if !same {
                    status.next_attempt_at =
                        Some(ari::pick(hint.start, hint.end, now, ari::random_fraction()));
                }
                status.renewal_basis = Some(RenewalBasis::CaSuggestion);
                status.suggested_window_start = Some(hint.start);
                status.suggested_window_end = Some(hint.end);
                status.hint_due_at = Some(hint.recheck_at);
            }
            Ok(None) => {
                status.renewal_basis = Some(RenewalBasis::TwoThirds);
                status.suggested_window_start = None;
                status.suggested_window_end = None;
                status.hint_due_at = None;
            }
            Err(e) => {
                log::warn!(
                    "the ACME CA's renewal window could not be read ({e}); keeping the schedule"
                );
                status.hint_due_at = Some(now + ari::RETRY_AFTER_FAILURE);
            }
        }
    }

    /// Places an order, installs the certificate and updates the schedule. The error is also
    /// kept for the Settings page.
    pub async fn renew(&self) -> Result<CertInfo, AcmeError> {
        let _one = self.ordering.lock().await;
        let now = self.clock.now();
        self.update(|s| s.last_order_at = Some(now));
        let outcome = self.order().await;
        self.challenges.clear();
        let mut status = self.status.lock().expect("status is never held across a panic");
        match &outcome {
            Ok(info) => {
                status.last_success_at = Some(now);
                status.last_error = None;
                status.failures = 0;
                status.next_attempt_at = Some(install::renewal_time(info));
                // The new certificate's window is asked for at once.
                status.renewal_basis = None;
                status.suggested_window_start = None;
                status.suggested_window_end = None;
                status.hint_due_at = Some(now);
            }
            Err(e) => {
                status.last_error = Some(e.to_string());
                let wait = FIRST_BACKOFF * 2i32.pow(status.failures.min(10));
                status.failures += 1;
                status.next_attempt_at = Some(now + wait.min(MAX_BACKOFF));
            }
        }
        outcome
    }

    fn update(&self, f: impl FnOnce(&mut AcmeStatus)) {
        f(&mut self.status.lock().expect("status is never held across a panic"));
    }

    async fn order(&self) -> Result<CertInfo, AcmeError> {
        let account = self.account().await?;
        let hosts = self.tls.hosts().to_vec();
        let identifiers: Vec<Identifier> = hosts
            .iter()
            .map(|h| match h.parse() {
                Ok(ip) => Identifier::Ip(ip),
                Err(_) => Identifier::Dns(h.clone()),
            })
            .collect();
        let mut order = account
            .new_order(&NewOrder::new(&identifiers))
            .await
            .map_err(ca("the CA refused the order for the names in public.hosts"))?;
        let mut authorizations = order.authorizations();
        while let Some(authorization) = authorizations.next().await {
            let mut authorization =
                authorization.map_err(ca("reading the order's authorizations"))?;
            match authorization.status {
                AuthorizationStatus::Valid => continue,
                AuthorizationStatus::Pending => {}
                other => {
                    return Err(AcmeError::Ca {
                        step: "the CA's authorization",
                        detail: format!("is {other:?} for {}", authorization.identifier()),
                    });
                }
            }
            let mut challenge =
                authorization.challenge(ChallengeType::Http01).ok_or(AcmeError::Ca {
                    step: "the CA's authorization",
                    detail: "offers no http-01 challenge (adebox answers http-01 only)".into(),
                })?;
            self.challenges.insert(
                challenge.token.clone(),
                challenge.key_authorization().as_str().to_string(),
            );
            // A CA that has already tried the challenge (pebble, or a retried order that
            // reuses the authorization) answers this call with the validation's own problem:
            // that is a failed validation, worded as one.
            challenge.set_ready().await.map_err(|e| {
                let step = if is_validation_problem(&e) {
                    "the CA could not validate the names"
                } else {
                    "telling the CA the challenge is ready"
                };
                ca(step)(e)
            })?;
        }
        let policy =
            RetryPolicy::new().initial_delay(StdDuration::from_millis(500)).timeout(ORDER_TIMEOUT);
        let status =
            order.poll_ready(&policy).await.map_err(ca("the CA could not validate the names"))?;
        if status != OrderStatus::Ready {
            return Err(AcmeError::Ca {
                step: "the CA could not validate the names",
                detail: self.challenge_errors(&mut order).await,
            });
        }
        let (key_pem, csr) = csr(&hosts)?;
        order.finalize_csr(&csr).await.map_err(ca("the CA refused the certificate request"))?;
        let chain =
            order.poll_certificate(&policy).await.map_err(ca("fetching the certificate"))?;
        let (tls, now) = (self.tls.clone(), self.clock.now());
        let info =
            tokio::task::spawn_blocking(move || tls.install_acme(&chain, key_pem.expose(), now))
                .await
                .map_err(|e| AcmeError::Ca {
                    step: "installing the certificate",
                    detail: e.to_string(),
                })??;
        log::info!(not_after = info.not_after.to_string().as_str(); "the ACME CA issued a TLS server certificate for {}", hosts.join(", "));
        Ok(info)
    }

    /// The challenges' own errors (what the CA saw when it connected to port 80).
    async fn challenge_errors(&self, order: &mut instant_acme::Order) -> String {
        let mut out = Vec::new();
        let mut authorizations = order.authorizations();
        while let Some(Ok(a)) = authorizations.next().await {
            for c in &a.challenges {
                if let Some(problem) = &c.error {
                    out.push(format!(
                        "{}: {}",
                        a.identifier(),
                        problem.detail.clone().unwrap_or_else(|| problem.to_string())
                    ));
                }
            }
        }
        if out.is_empty() { "the order became invalid".into() } else { out.join("; ") }
    }

    /// The stored account for this directory, or a new one (registered with the contact and
    /// the external account binding, when configured).
    async fn account(&self) -> Result<Account, AcmeError> {
        let path = self.tls.dir.join(ACCOUNT);
        let bad = |detail: String| AcmeError::Account { path: path.display().to_string(), detail };
        let client = crate::outbound::client(&self.outbound)
            .map_err(|e| AcmeError::Ca { step: "the HTTP client", detail: e.to_string() })?;
        let builder = || Account::builder_with_http(Box::new(http::Outbound(client.clone())));
        if let Some(text) = files::read_text(&path).map_err(|e| bad(e.to_string()))? {
            let file: AccountFile = serde_json::from_str(&text).map_err(|e| bad(e.to_string()))?;
            if file.directory_url == self.config.directory_url {
                let json = self
                    .sealer
                    .open(ACCOUNT_FIELD, file.directory_url.as_bytes(), &file.credentials)
                    .map_err(|e| bad(e.to_string()))?;
                let credentials: AccountCredentials =
                    serde_json::from_str(json.expose()).map_err(|e| bad(e.to_string()))?;
                return builder()
                    .from_credentials(credentials)
                    .await
                    .map_err(ca("reading the CA's directory"));
            }
        }
        let contact: Vec<&str> = self.config.contact.iter().map(String::as_str).collect();
        let eab = match &self.config.eab {
            None => None,
            Some(e) => {
                use base64ct::{Base64UrlUnpadded, Encoding};
                let key = Base64UrlUnpadded::decode_vec(e.hmac_key.expose().trim_end_matches('='))
                    .map_err(|_| AcmeError::Ca {
                        step: "tls.acme.eab_hmac_key",
                        detail: "is not base64url".into(),
                    })?;
                Some(ExternalAccountKey::new(e.key_id.clone(), &key))
            }
        };
        let new = NewAccount {
            contact: &contact,
            terms_of_service_agreed: true,
            only_return_existing: false,
        };
        let (account, credentials) = builder()
            .create(&new, self.config.directory_url.clone(), eab.as_ref())
            .await
            .map_err(ca("the CA refused to register the account"))?;
        let json =
            Secret::new(serde_json::to_string(&credentials).map_err(|e| bad(e.to_string()))?);
        let file = AccountFile {
            directory_url: self.config.directory_url.clone(),
            credentials: self.sealer.seal(
                ACCOUNT_FIELD,
                self.config.directory_url.as_bytes(),
                &json,
            ),
        };
        let text = serde_json::to_vec(&file).map_err(|e| bad(e.to_string()))?;
        files::write_atomic(&path, &text, 0o600).map_err(|e| bad(e.to_string()))?;
        log::info!(directory = self.config.directory_url.as_str(); "registered an account with the ACME CA");
        Ok(account)
    }
}

/// Names the step and keeps the CA's own words (its problem document's detail and type).
pub(super) fn ca(step: &'static str) -> impl Fn(instant_acme::Error) -> AcmeError {
    move |e| AcmeError::Ca {
        step,
        detail: match e {
            instant_acme::Error::Api(p) => match (&p.detail, &p.r#type) {
                (Some(d), Some(t)) => format!("{d} ({t})"),
                _ => p.to_string(),
            },
            other => other.to_string(),
        },
    }
}

/// Problems RFC 8555 §6.7 lists for a validation that reached the host and failed.
fn is_validation_problem(e: &instant_acme::Error) -> bool {
    const VALIDATION: [&str; 6] =
        ["connection", "dns", "incorrectResponse", "tls", "unauthorized", "caa"];
    match e {
        instant_acme::Error::Api(p) => p.r#type.as_deref().is_some_and(|t| {
            t.strip_prefix("urn:ietf:params:acme:error:").is_some_and(|k| VALIDATION.contains(&k))
        }),
        _ => false,
    }
}

/// A fresh P-256 key and a CSR for `hosts` (the key never leaves this appliance).
fn csr(hosts: &[String]) -> Result<(Secret<String>, Vec<u8>), AcmeError> {
    let fail = |e: rcgen::Error| AcmeError::Ca {
        step: "making the certificate request",
        detail: e.to_string(),
    };
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).map_err(fail)?;
    let mut params = rcgen::CertificateParams::new(hosts.to_vec()).map_err(fail)?;
    params.distinguished_name = rcgen::DistinguishedName::new();
    let csr = params.serialize_request(&key).map_err(fail)?;
    Ok((Secret::new(key.serialize_pem()), csr.der().to_vec()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problem(kind: &str) -> instant_acme::Error {
        let json = format!(r#"{{"type":"urn:ietf:params:acme:error:{kind}","detail":"x"}}"#);
        instant_acme::Error::Api(serde_json::from_str(&json).unwrap())
    }

    #[test]
    fn a_failed_validation_answered_to_the_ready_call_is_named_as_one() {
        assert!(is_validation_problem(&problem("connection")));
        assert!(is_validation_problem(&problem("incorrectResponse")));
        assert!(!is_validation_problem(&problem("malformed")));
        assert!(!is_validation_problem(&problem("rateLimited")));
    }
}

//! The Apple Business API client (apple-2026.md §8.3–§8.8): gets an access token with the
//! account's client assertion, refreshes it before its hour runs out and after a 401, pages
//! organisation devices with the cursor Apple hands out (`links.next`, followed verbatim),
//! and asks where one serial is assigned.
//!
//! A 429 waits `Retry-After` when Apple sends it, else backs off exponentially from one
//! second with jitter; the waits are counted so the admin can see the budget being spent:
//! in all, and for one piece of work ([`counting_waits`], a sync run) apart from the waits
//! of other work sharing the client at the same time (an action, a where-is).
//! Requests go one at a time (Apple drops HTTP/2 streams under fan-out, §8.8).

use crate::business::key::ApiKey;
use crate::business::wire::{self, ErrorBody, ListPage, MdmServerAttributes, OrgDeviceAttributes};
use crate::clock::Clock;
use crate::crypto::Secret;
use crate::ids::Serial;
use serde::de::DeserializeOwned;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use time::{Duration, OffsetDateTime};

/// Apple's token endpoint (form body; §8.3).
pub const APPLE_TOKEN_URL: &str = "https://account.apple.com/auth/oauth2/token";
/// Apple Business API base.
pub const APPLE_API_BASE: &str = "https://api-business.apple.com";
/// How many times one request is tried through 429s and a refreshed token.
const MAX_ATTEMPTS: u32 = 6;
/// The longest adebox waits on one 429.
const MAX_WAIT_SECS: u64 = 60;

tokio::task_local! {
    /// The 429 waits of the work running in this task, when it asked for them to be counted.
    static WAITS: Arc<AtomicU64>;
}

/// Runs `work`, counting in `waits` the 429s its own requests wait through. The client is
/// shared, so its total ([`BusinessClient::rate_limited`]) also holds the waits of work
/// running at the same time; this count holds only `work`'s.
pub async fn counting_waits<F: std::future::Future>(waits: Arc<AtomicU64>, work: F) -> F::Output {
    WAITS.scope(waits, work).await
}

/// Where the API is and which account speaks to it.
#[derive(Clone, Debug)]
pub struct Endpoints {
    pub token_url: String,
    pub api_base: String,
}

impl Default for Endpoints {
    fn default() -> Self {
        Endpoints { token_url: APPLE_TOKEN_URL.into(), api_base: APPLE_API_BASE.into() }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("Apple Business refused the API account ({error}): {detail}; {}", refused_fix(.detail))]
    Refused { error: String, detail: String },
    #[error("Apple Business answered {status} {code}: {detail}")]
    Api { status: u16, code: String, detail: String },
    #[error(
        "Apple Business kept answering 429 (too many requests) after {0} tries; adebox tries again later"
    )]
    RateLimited(u32),
    #[error("cannot reach Apple Business: {0}")]
    Transport(String),
    #[error("Apple Business answered something adebox cannot read: {0}")]
    Decode(String),
}

/// What to do about Apple's refusal of a client assertion, read leniently from its words
/// (Apple's wording is not documented, apple-2026.md §8.3). adebox signs a new assertion,
/// valid ten minutes from the appliance's clock, for every token request: one Apple calls
/// expired or not yet valid means the appliance's clock is wrong, never a stale credential.
pub fn refused_fix(detail: &str) -> &'static str {
    let d = detail.to_ascii_lowercase();
    if d.contains("revoked") {
        "the API account was revoked in Apple Business: create a new API account there (Preferences → API) and upload its client id, key id and key here"
    } else if d.contains("expired") {
        "adebox signs a new assertion for each request, valid ten minutes from this appliance's clock, and Apple saw it expired: the appliance's clock is behind; set the time right (turn on NTP time sync) and try again"
    } else if d.contains("future") || d.contains("iat") {
        "Apple saw the assertion issued in the future: this appliance's clock is ahead; set the time right (turn on NTP time sync) and try again"
    } else if d.contains("aud") {
        "Apple expects another audience than the one adebox signs for (https://account.apple.com/auth/oauth2/v2/token): Apple may have changed it; update adebox, and meanwhile use the Apple Business portal"
    } else {
        "check the client id and key id, or make a new key for the account in Apple Business"
    }
}

/// A client for one API account.
pub struct BusinessClient {
    http: reqwest::Client,
    endpoints: Endpoints,
    client_id: String,
    key_id: String,
    key: ApiKey,
    clock: Clock,
    token: Mutex<Option<(Secret<String>, OffsetDateTime)>>,
    rate_limited: AtomicU64,
}

/// One page of organisation devices.
pub struct DevicePage {
    pub devices: Vec<(String, OrgDeviceAttributes)>,
    /// The next page's URL, as Apple gave it.
    pub next: Option<String>,
}

impl BusinessClient {
    pub fn new(
        http: reqwest::Client,
        endpoints: Endpoints,
        client_id: &str,
        key_id: &str,
        key: ApiKey,
        clock: Clock,
    ) -> BusinessClient {
        BusinessClient {
            http,
            endpoints,
            client_id: client_id.into(),
            key_id: key_id.into(),
            key,
            clock,
            token: Mutex::new(None),
            rate_limited: AtomicU64::new(0),
        }
    }

    /// How many 429s this client has waited through.
    pub fn rate_limited(&self) -> u64 {
        self.rate_limited.load(Ordering::Relaxed)
    }

    fn cached(&self) -> Option<Secret<String>> {
        let now = self.clock.now();
        let guard = self.token.lock().unwrap_or_else(|p| p.into_inner());
        // Refreshed a minute before Apple's hour runs out.
        guard
            .as_ref()
            .filter(|(_, until)| *until - Duration::minutes(1) > now)
            .map(|(t, _)| Secret::new(t.expose().clone()))
    }

    /// An access token, fetched with a new client assertion when none is valid.
    pub async fn access_token(&self) -> Result<Secret<String>, ClientError> {
        if let Some(t) = self.cached() {
            return Ok(t);
        }
        let now = self.clock.now();
        let assertion =
            self.key.assertion(&self.client_id, &self.key_id, now, Duration::minutes(10));
        let form = [
            ("grant_type", "client_credentials"),
            ("client_id", self.client_id.as_str()),
            ("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"),
            ("client_assertion", assertion.expose().as_str()),
            ("scope", "business.api"),
        ];
        let body = form
            .iter()
            .map(|(k, v)| {
                format!(
                    "{k}={}",
                    percent_encoding::utf8_percent_encode(v, percent_encoding::NON_ALPHANUMERIC)
                )
            })
            .collect::<Vec<_>>()
            .join("&");
        let r = self
            .http
            .post(&self.endpoints.token_url)
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .map_err(|e| ClientError::Transport(e.to_string()))?;
        let status = r.status().as_u16();
        let bytes = r.bytes().await.map_err(|e| ClientError::Transport(e.to_string()))?;
        if status != 200 {
            let e: ErrorBody = serde_json::from_slice(&bytes).unwrap_or_default();
            return Err(ClientError::Refused {
                error: e.error.unwrap_or_else(|| status.to_string()),
                detail: e.error_description.unwrap_or_else(|| "no detail given".into()),
            });
        }
        let t: wire::TokenAnswer =
            serde_json::from_slice(&bytes).map_err(|e| ClientError::Decode(e.to_string()))?;
        let until = now + Duration::seconds(t.expires_in.unwrap_or(3600));
        let token = Secret::new(t.access_token);
        *self.token.lock().unwrap_or_else(|p| p.into_inner()) =
            Some((Secret::new(token.expose().clone()), until));
        Ok(token)
    }

    fn forget_token(&self) {
        *self.token.lock().unwrap_or_else(|p| p.into_inner()) = None;
    }

    /// GET `url` with the bearer token; 401 refreshes the token once, 429 waits.
    async fn get<T: DeserializeOwned>(&self, url: &str) -> Result<T, ClientError> {
        self.call(reqwest::Method::GET, url, None).await
    }

    /// `method` on `url` with the bearer token and an optional JSON body: 401 refreshes the
    /// token once and 429 waits, both safe to repeat because Apple did not take the request.
    pub(super) async fn call<T: DeserializeOwned>(
        &self,
        method: reqwest::Method,
        url: &str,
        body: Option<&serde_json::Value>,
    ) -> Result<T, ClientError> {
        let mut refreshed = false;
        let mut backoff_secs = 1u64;
        for _ in 0..MAX_ATTEMPTS {
            let token = self.access_token().await?;
            let mut req = self.http.request(method.clone(), url).bearer_auth(token.expose());
            if let Some(b) = body {
                req = req.json(b);
            }
            let r = req.send().await.map_err(|e| ClientError::Transport(e.to_string()))?;
            let status = r.status().as_u16();
            let retry_after = r
                .headers()
                .get("Retry-After")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok());
            let bytes = r.bytes().await.map_err(|e| ClientError::Transport(e.to_string()))?;
            match status {
                200 | 201 => {
                    return serde_json::from_slice(&bytes)
                        .map_err(|e| ClientError::Decode(e.to_string()));
                }
                401 if !refreshed => {
                    refreshed = true;
                    self.forget_token();
                }
                429 => {
                    self.rate_limited.fetch_add(1, Ordering::Relaxed);
                    // Outside `counting_waits` there is no count of one's own to add to.
                    let _ = WAITS.try_with(|w| w.fetch_add(1, Ordering::Relaxed));
                    let wait = match retry_after {
                        Some(secs) => secs.min(MAX_WAIT_SECS),
                        None => {
                            let jitter = u64::from(crate::crypto::random_bytes::<1>()[0])
                                % (backoff_secs * 250 + 1);
                            let w = backoff_secs * 1000 + jitter;
                            backoff_secs = (backoff_secs * 2).min(MAX_WAIT_SECS);
                            tokio::time::sleep(std::time::Duration::from_millis(w)).await;
                            continue;
                        }
                    };
                    tokio::time::sleep(std::time::Duration::from_secs(wait)).await;
                }
                _ => {
                    let e: ErrorBody = serde_json::from_slice(&bytes).unwrap_or_default();
                    let first = e.errors.into_iter().next().unwrap_or_default();
                    return Err(ClientError::Api {
                        status,
                        code: first.code,
                        detail: first.detail,
                    });
                }
            }
        }
        Err(ClientError::RateLimited(MAX_ATTEMPTS))
    }

    /// The API base URL (`https://api-business.apple.com`).
    pub(super) fn api_base(&self) -> &str {
        &self.endpoints.api_base
    }

    /// The plain HTTP client (for Apple's pre-signed downloads, which take no bearer token).
    pub(super) fn http(&self) -> &reqwest::Client {
        &self.http
    }

    /// The first page of organisation devices (`limit` ≤ 1000), or the page at `next`.
    pub async fn org_devices(
        &self,
        next: Option<&str>,
        limit: u32,
    ) -> Result<DevicePage, ClientError> {
        let url = match next {
            Some(n) => n.to_string(),
            None => {
                format!("{}/v1/orgDevices?limit={}", self.endpoints.api_base, limit.clamp(1, 1000))
            }
        };
        let page: ListPage<OrgDeviceAttributes> = self.get(&url).await?;
        Ok(DevicePage {
            devices: page.data.into_iter().map(|r| (r.id, r.attributes)).collect(),
            next: page.links.next,
        })
    }

    /// Every MDM server of the organisation: id and name.
    pub async fn mdm_servers(&self) -> Result<Vec<(String, MdmServerAttributes)>, ClientError> {
        let mut url = Some(format!("{}/v1/mdmServers?limit=100", self.endpoints.api_base));
        let mut out = Vec::new();
        while let Some(u) = url {
            let page: ListPage<MdmServerAttributes> = self.get(&u).await?;
            out.extend(page.data.into_iter().map(|r| (r.id, r.attributes)));
            url = page.links.next;
        }
        Ok(out)
    }

    /// The id of the MDM server a serial is assigned to: `Ok(None)` when the organisation has
    /// the device but no server; a 404 means the organisation does not have it.
    pub async fn assigned_server(&self, serial: &Serial) -> Result<Option<String>, ClientError> {
        // A parsed serial is letters and digits only: nothing to escape in the path.
        let url = format!(
            "{}/v1/orgDevices/{}/relationships/assignedServer",
            self.endpoints.api_base,
            serial.as_str()
        );
        let l: wire::Linkage = self.get(&url).await?;
        Ok(l.data.map(|d| d.id))
    }
}

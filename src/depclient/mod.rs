//! The Apple DEP (Device Assignment) HTTP client: OAuth sign-in, one shared session per token
//! with single-flight re-authentication, every endpoint the product uses, typed errors and a
//! retry helper (../shared/spec/dep-api.md §2–§3).
//!
//! Owns no storage and no tables; one [`DepClient`] per server token, shared (in an `Arc`) by
//! everything that talks to Apple for that token. Exposes [`DepClient`], [`DepError`],
//! [`retry::retry`] / [`RetryPolicy`]. Uses [`crate::apple::dep`] for the wire format,
//! [`crate::crypto::oauth1`] for `/session`, and a `reqwest::Client` from
//! [`crate::outbound`]. Must not use the store, actix, or any later domain module.
//!
//! Real Apple or a simulator is only the base URL (design rule 6). Secrets (token credentials,
//! the session token) never reach logs or errors: logs carry `token` (a label), `endpoint` and
//! `status` at debug level; error excerpts are scrubbed of every secret the client holds.

mod endpoints;
mod error;
pub mod gate;
pub mod retry;
pub mod retry_after;
mod session;

pub use error::DepError;
/// Classifies Apple's error answers; exposed for the fuzz entry points in `crate::fuzzing`.
pub(crate) use error::{classify, classify_session};
pub use gate::{Gate, Gates};
pub use retry::{RetryPolicy, retry};
pub use retry_after::parse_retry_after;

use crate::apple::dep::{self, DepErrorCode, SessionResponse};
use crate::apple::server_token::OAuthCredentials;
use crate::clock::Clock;
use crate::crypto::{Secret, oauth1};
use reqwest::Method;
use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, RETRY_AFTER, USER_AGENT};
use serde::de::DeserializeOwned;
use session::{Current, Session};

/// Largest answer body read from Apple. A full page of 1000 devices is about 1 MiB.
pub const MAX_BODY_BYTES: usize = 16 * 1024 * 1024;

/// The DEP client for one server token.
pub struct DepClient {
    base_url: String,
    credentials: OAuthCredentials,
    http: reqwest::Client,
    clock: Clock,
    label: String,
    realm: Option<String>,
    session: Session,
    gate: Option<Gate>,
}

impl std::fmt::Debug for DepClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DepClient")
            .field("base_url", &self.base_url)
            .field("token", &self.label)
            .finish_non_exhaustive()
    }
}

/// A raw answer: status, body (capped), `Retry-After` already parsed.
struct Answer {
    status: u16,
    body: Vec<u8>,
    retry_after: Option<std::time::Duration>,
    rotated_session: Option<String>,
}

impl DepClient {
    /// A client for `base_url` (Apple's [`dep::APPLE_BASE_URL`] or a simulator), signing in
    /// with `credentials`. `http` should come from [`crate::outbound::client`].
    pub fn new(
        base_url: impl Into<String>,
        credentials: OAuthCredentials,
        http: reqwest::Client,
        clock: Clock,
    ) -> Self {
        let base_url = base_url.into().trim_end_matches('/').to_owned();
        // The consumer key identifies the token and is not secret (server_token.rs); a prefix
        // keeps log lines short.
        let label = credentials.consumer_key.chars().take(12).collect();
        DepClient {
            base_url,
            credentials,
            http,
            clock,
            label,
            realm: Some("ADM".to_owned()),
            session: Session::default(),
            gate: None,
        }
    }

    /// Names the token in log lines (`token` field), e.g. the product's token id.
    pub fn with_label(mut self, label: impl Into<String>) -> Self {
        self.label = label.into();
        self
    }

    /// Holds `gate` for every call, so at most one request of this token is in flight across
    /// every client sharing the gate (see [`gate`]).
    pub fn with_gate(mut self, gate: Gate) -> Self {
        self.gate = Some(gate);
        self
    }

    /// Sends `/session` without `realm` (what nanodep does) instead of Apple's `realm="ADM"`.
    pub fn without_realm(mut self) -> Self {
        self.realm = None;
        self
    }

    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// Calls `method path[?query]` with an optional JSON body inside the session: signs in if
    /// needed, re-authenticates once on 401 or 403 `FORBIDDEN`, adopts a rotated session.
    async fn call<T: DeserializeOwned>(
        &self,
        method: Method,
        path_and_query: &str,
        body: Option<Vec<u8>>,
    ) -> Result<T, DepError> {
        let _turn = match &self.gate {
            Some(g) => Some(g.lock().await),
            None => None,
        };
        let mut used = self.session.current(|| self.login()).await?;
        let mut answer = self.send(&method, path_and_query, body.clone(), &used).await?;
        if needs_reauth(&answer) {
            log::debug!(token = self.label.as_str(), endpoint = path_and_query, status = answer.status; "DEP session refused, signing in again");
            used = self.session.renew(used.generation, || self.login()).await?;
            answer = self.send(&method, path_and_query, body, &used).await?;
            if needs_reauth(&answer) {
                return Err(DepError::Unauthorized);
            }
        }
        let secrets = self.secrets(Some(used.token.expose()));
        if !(200..300).contains(&answer.status) {
            return Err(error::classify(answer.status, &answer.body, answer.retry_after, &secrets));
        }
        serde_json::from_slice(&answer.body).map_err(|_| DepError::BadResponse {
            status: answer.status,
            excerpt: error::excerpt(&answer.body, &secrets),
        })
    }

    /// One request with the session header; adopts a rotated `X-ADM-Auth-Session`.
    async fn send(
        &self,
        method: &Method,
        path_and_query: &str,
        body: Option<Vec<u8>>,
        session: &Current,
    ) -> Result<Answer, DepError> {
        let url = format!("{}{}", self.base_url, path_and_query);
        let mut req = self
            .with_common_headers(self.http.request(method.clone(), &url))
            .header(dep::SESSION_HEADER, session.token.expose());
        if let Some(body) = body {
            req = req.body(body);
        }
        let answer = self.execute(req, path_and_query).await?;
        if let Some(rotated) = &answer.rotated_session
            && rotated != session.token.expose()
        {
            log::debug!(token = self.label.as_str(), endpoint = path_and_query; "DEP session rotated by the server");
            self.session.adopt(session.generation, rotated).await;
        }
        Ok(answer)
    }

    /// `GET /session` with OAuth 1.0a → a new session token (dep-api.md §2.1).
    async fn login(&self) -> Result<Secret<String>, DepError> {
        let now = self.clock.now();
        if self.credentials.access_token_expiry <= now {
            return Err(DepError::TokenExpired { expired: self.credentials.access_token_expiry });
        }
        let url = format!("{}{}", self.base_url, dep::paths::SESSION);
        let keys = oauth1::Keys {
            consumer_key: &self.credentials.consumer_key,
            consumer_secret: self.credentials.consumer_secret.expose(),
            token: self.credentials.access_token.expose(),
            token_secret: self.credentials.access_secret.expose(),
        };
        let nonce = crate::crypto::random_token::<16>();
        let timestamp = u64::try_from(now.unix_timestamp()).unwrap_or(0);
        let header = oauth1::authorization_header(
            "GET",
            &url,
            &keys,
            timestamp,
            &nonce,
            self.realm.as_deref(),
        );
        let req =
            self.with_common_headers(self.http.get(&url)).header(AUTHORIZATION, header.expose());
        let answer = self.execute(req, dep::paths::SESSION).await?;
        if !(200..300).contains(&answer.status) {
            return Err(error::classify_session(
                answer.status,
                &answer.body,
                answer.retry_after,
                &self.secrets(None),
            ));
        }
        match serde_json::from_slice::<SessionResponse>(&answer.body) {
            Ok(s) if !s.auth_session_token.trim().is_empty() => {
                Ok(Secret::new(s.auth_session_token.trim().to_owned()))
            }
            _ => Err(DepError::BadResponse {
                status: answer.status,
                excerpt: error::excerpt(&answer.body, &self.secrets(None)),
            }),
        }
    }

    fn with_common_headers(&self, req: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        req.header(USER_AGENT, crate::outbound::user_agent())
            .header(dep::PROTOCOL_VERSION_HEADER, dep::PROTOCOL_VERSION.to_string())
            .header(CONTENT_TYPE, dep::CONTENT_TYPE)
            .header(ACCEPT, dep::CONTENT_TYPE)
    }

    /// Sends and reads the whole answer (capped at [`MAX_BODY_BYTES`]).
    async fn execute(
        &self,
        req: reqwest::RequestBuilder,
        endpoint: &str,
    ) -> Result<Answer, DepError> {
        let mut resp = req.send().await.map_err(transport_error)?;
        let status = resp.status().as_u16();
        let headers = resp.headers();
        let retry_after = headers
            .get(RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| parse_retry_after(v, self.clock.now()));
        let rotated_session = headers
            .get(dep::SESSION_HEADER)
            .and_then(|v| v.to_str().ok())
            .map(|v| v.trim().to_owned());
        let mut body = Vec::new();
        while let Some(chunk) = resp.chunk().await.map_err(transport_error)? {
            if body.len() + chunk.len() > MAX_BODY_BYTES {
                return Err(DepError::BadResponse {
                    status,
                    excerpt: format!("answer larger than {MAX_BODY_BYTES} bytes"),
                });
            }
            body.extend_from_slice(&chunk);
        }
        log::debug!(token = self.label.as_str(), endpoint = endpoint, status = status; "DEP answer");
        Ok(Answer { status, body, retry_after, rotated_session })
    }

    /// Every secret this client holds, for scrubbing error excerpts.
    fn secrets<'a>(&'a self, session: Option<&'a str>) -> Vec<&'a str> {
        let mut s = vec![
            self.credentials.consumer_secret.expose().as_str(),
            self.credentials.access_token.expose().as_str(),
            self.credentials.access_secret.expose().as_str(),
        ];
        s.extend(session);
        s
    }
}

/// 401, or 403 whose body is `FORBIDDEN` (depsim's answer for an unknown session, §2.2).
fn needs_reauth(answer: &Answer) -> bool {
    answer.status == 401
        || (answer.status == 403
            && DepErrorCode::parse(&String::from_utf8_lossy(&answer.body))
                == Some(DepErrorCode::Forbidden))
}

fn transport_error(e: reqwest::Error) -> DepError {
    if e.is_timeout() {
        return DepError::Timeout;
    }
    // reqwest's message plus its causes ("connection refused", TLS errors, the proxy). The URL
    // holds no secret: the session travels in a header, OAuth in the Authorization header.
    let detail = crate::outbound::describe(&e);
    DepError::Transport(detail)
}

#[cfg(test)]
mod tests;

/// The check the token module runs when a token is added or renewed: `GET /account` with the
/// new credentials. Wired into [`crate::tokens::Tokens`] by the daemon.
pub fn account_check(http: reqwest::Client, clock: Clock) -> crate::tokens::AccountCheck {
    std::sync::Arc::new(move |base_url: String, creds: OAuthCredentials| {
        let client = DepClient::new(base_url, creds, http.clone(), clock.clone());
        Box::pin(async move {
            client.account().await.map_err(|e| crate::tokens::CheckFailure {
                code: e.code().map(|c| c.as_str().to_string()),
                message: e.admin_message(),
                transient: e.is_retryable(),
            })
        })
    })
}

//! One MDM push over HTTP/2 (../shared/spec/enrollment.md §5.1): `POST /3/device/<hex token>`
//! with the push certificate as TLS client identity, and Apple's answer classified.
//!
//! Exposes [`ApnsClient`] (built per push certificate; HTTP/2 is negotiated by ALPN) and
//! [`SendError`]. No storage; the worker decides what to do with the answer.

use crate::apple::apns::{self, ErrorBody, Reason, Scope};
use crate::crypto::Secret;
use crate::outbound::OutboundConfig;
use std::time::Duration;
use time::OffsetDateTime;

/// How long APNs keeps trying to deliver a push before dropping it: a device asleep for longer
/// is woken by its own periodic check-in instead.
pub const EXPIRATION: time::Duration = time::Duration::hours(24);

/// Whole-request timeout of one push.
const TIMEOUT: Duration = Duration::from_secs(20);

/// Why a push was not accepted.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// APNs answered with an error status.
    #[error("APNs refused the push: {status} {reason}")]
    Refused {
        status: u16,
        /// Apple's reason (`Unregistered`, …), or the status text when the body had none.
        reason: String,
        scope: Scope,
        /// `Retry-After`, when sent with a 429/503.
        retry_after: Option<Duration>,
    },
    /// No answer: connection refused or reset, TLS failure, timeout.
    #[error("APNs could not be reached: {0}")]
    Transport(String),
    /// The client cannot be built from the stored certificate.
    #[error("the push certificate cannot be used as a client identity: {0}")]
    Identity(String),
}

impl SendError {
    pub fn scope(&self) -> Scope {
        match self {
            SendError::Refused { scope, .. } => *scope,
            SendError::Transport(_) => Scope::Transient,
            SendError::Identity(_) => Scope::Certificate,
        }
    }
}

/// A client for one push certificate.
#[derive(Clone, Debug)]
pub struct ApnsClient {
    http: reqwest::Client,
    base_url: String,
}

impl ApnsClient {
    /// `base_url` is `apple.apns_url` ([`apns::PRODUCTION_URL`] by default) or a simulator;
    /// `outbound` holds the roots (the system's, plus `apple.extra_ca_file`; the simulator's
    /// CA in the sandbox) and the proxy.
    pub fn new(
        base_url: &str,
        outbound: &OutboundConfig,
        identity_pem: Secret<String>,
    ) -> Result<ApnsClient, SendError> {
        let config = outbound.clone().with_identity(identity_pem).with_request_timeout(TIMEOUT);
        let http =
            crate::outbound::client(&config).map_err(|e| SendError::Identity(e.to_string()))?;
        Ok(ApnsClient { http, base_url: base_url.trim_end_matches('/').to_string() })
    }

    /// Sends one MDM wake-up. Returns the `apns-id` Apple gave it.
    pub async fn send(
        &self,
        token: &[u8],
        topic: &str,
        push_magic: &str,
        now: OffsetDateTime,
    ) -> Result<String, SendError> {
        let url = format!("{}{}", self.base_url, apns::device_path(token));
        let resp = self
            .http
            .post(url)
            .header("apns-push-type", apns::PUSH_TYPE_MDM)
            .header("apns-topic", topic)
            .header("apns-priority", apns::PRIORITY_NOW)
            .header("apns-expiration", (now + EXPIRATION).unix_timestamp().to_string())
            .header("content-type", "application/json")
            .body(apns::body(push_magic))
            .send()
            .await
            .map_err(|e| SendError::Transport(crate::outbound::describe(&e)))?;
        let status = resp.status().as_u16();
        if resp.status().is_success() {
            let id = resp.headers().get("apns-id").and_then(|v| v.to_str().ok()).unwrap_or("");
            return Ok(id.to_string());
        }
        let retry_after = resp
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        // Error bodies are tiny; a body that is not Apple's JSON is classified by status.
        let body = resp.bytes().await.unwrap_or_default();
        let parsed: Option<ErrorBody> =
            (body.len() <= apns::MAX_PAYLOAD).then(|| serde_json::from_slice(&body).ok()).flatten();
        let (reason, scope) = match parsed.as_ref().map(|b| b.reason.as_str()) {
            Some(r) => (
                r.to_string(),
                Reason::parse(r).map_or_else(|| apns::scope_of_status(status), Reason::scope),
            ),
            None => (format!("HTTP {status}"), apns::scope_of_status(status)),
        };
        Err(SendError::Refused { status, reason, scope, retry_after })
    }
}

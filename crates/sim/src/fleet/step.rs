//! What every step of a simulated device's enrollment shares, whichever protocol gives it its
//! identity ([`super::device`] for ACME, [`super::scep`], then [`super::mdm`]): the fleet's
//! context, the step timer, a step's failure (a deviation on the wire is one) and the HTTPS
//! calls with their capped reads, and the account the fleet signs in with on the web page
//! ([`SignInAs`], which the context carries). A leaf: the steps import it, it imports none of
//! them.

use super::FleetDevice;
use super::wire;
use crate::apple_pki::StandInApplePki;
use crate::crypto::Secret;
use crate::crypto::chain::TrustAnchors;
use reqwest::{Client, StatusCode};
use std::time::Instant;
use time::OffsetDateTime;

/// Largest answer a device reads (profile, ACME documents, certificate chain).
const MAX_ANSWER: usize = 256 * 1024;

/// A step's failure: the reason code the report counts.
pub(super) struct Fail(pub String);

pub(super) fn fail(reason: impl Into<String>) -> Fail {
    Fail(reason.into())
}

/// What a device needs from the fleet.
pub(super) struct Ctx {
    pub http: Client,
    pub profile_url: String,
    pub appliance_ca: TrustAnchors,
    pub pki: std::sync::Arc<StandInApplePki>,
    pub now: OffsetDateTime,
    /// The CA and address the per-device MDM clients use.
    pub target: super::FleetTarget,
    /// Pushes from the APNs simulator, when the devices are woken by them.
    pub push: Option<crate::apns::PushFeed>,
    /// Where released devices are kept, when the fleet keeps them (see `Fleet::keeping`).
    pub keep: Option<super::Kept>,
    /// Where the plists exchanged are recorded, when the fleet is tapped (`Fleet::tapped`).
    pub tap: Option<std::sync::Arc<super::Wiretap>>,
    /// The account users sign in with on the web page (`Fleet::signing_in`).
    pub sign_in: Option<SignInAs>,
    /// Serial → the `configuration_web_url` of its DEP profile, for devices whose profile has
    /// user affinity (learnt from the simulated Apple side, `Fleet::asking_apple`); the
    /// problem when the Apple side could not be asked, so no device guesses.
    pub web_urls: Result<std::collections::HashMap<String, String>, String>,
    /// How many commands a device answers with NotNow after DeviceConfigured
    /// (`Fleet::busy_after_configured`); 0: none, it is done at once.
    pub not_now_after_configured: usize,
}

impl Ctx {
    pub(super) fn record(&self, d: &FleetDevice, what: super::Seen, bytes: &[u8]) {
        if let Some(tap) = &self.tap {
            tap.record(d, what, bytes);
        }
    }
}

pub(super) struct Timer {
    pub(super) steps: Vec<(String, f64)>,
    pub(super) at: Instant,
    pub(super) current: &'static str,
    /// SHA-256 of the identity certificate, once the device holds one.
    pub(super) certificate: Option<String>,
}

impl Timer {
    pub(super) fn step(&mut self, name: &'static str) {
        self.current = name;
        self.at = Instant::now();
    }
    pub(super) fn done(&mut self) {
        let ms = self.at.elapsed().as_secs_f64() * 1000.0;
        self.steps.push((self.current.to_string(), (ms * 10.0).round() / 10.0));
    }
}

/// A deviation the device found on the wire: logged in full (which key, what is wrong) and
/// counted as `<what>_invalid:<key path>:<problem>`.
pub(super) fn deviation(d: &FleetDevice, what: &str, e: &wire::WireError) -> Fail {
    log::warn!(serial = d.serial.as_str(); "simulated device: the appliance's {what} deviates from Apple's specification: {e}");
    fail(e.code(&format!("{what}_invalid")))
}

/// POSTs `body` as `content_type`; the answer's status, content type (without parameters)
/// and body (capped).
pub(super) async fn post(
    ctx: &Ctx,
    url: &str,
    content_type: &str,
    body: Vec<u8>,
) -> Result<(StatusCode, String, Vec<u8>), Fail> {
    let resp = ctx
        .http
        .post(url)
        .header("Content-Type", content_type)
        .body(body)
        .send()
        .await
        .map_err(|e| fail(transport(&e)))?;
    let status = resp.status();
    let ct = header(&resp, "content-type");
    Ok((status, ct, read(resp).await?))
}

pub(super) fn transport(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        "timeout".into()
    } else if e.is_connect() {
        "connection_failed".into()
    } else {
        "transport_error".into()
    }
}

pub(super) fn header(resp: &reqwest::Response, name: &str) -> String {
    resp.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.split(';').next().unwrap_or("").trim().to_string())
        .unwrap_or_default()
}

pub(super) async fn read(mut resp: reqwest::Response) -> Result<Vec<u8>, Fail> {
    let mut out = Vec::new();
    while let Some(chunk) = resp.chunk().await.map_err(|e| fail(transport(&e)))? {
        if out.len() + chunk.len() > MAX_ANSWER {
            return Err(fail("answer_too_large"));
        }
        out.extend_from_slice(&chunk);
    }
    Ok(out)
}

/// The account the fleet's users sign in with on the web page.
#[derive(Clone, Debug)]
pub struct SignInAs {
    pub username: String,
    pub password: Secret<String>,
}

impl SignInAs {
    /// `user:password` (the password may hold colons; the username may not).
    pub fn parse(s: &str) -> Option<SignInAs> {
        let (user, password) = s.split_once(':')?;
        (!user.is_empty() && !password.is_empty()).then(|| SignInAs {
            username: user.to_string(),
            password: Secret::new(password.to_string()),
        })
    }
}

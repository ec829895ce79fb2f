//! The device-fleet simulator (sandbox and tests only; issue 7 item 5): simulated iPhones and
//! iPads enrolling against an appliance over HTTPS as Setup Assistant does
//! (../shared/spec/enrollment.md §0): a MachineInfo signed by a device identity from the
//! stand-in Apple PKI, the signed enrollment profile, ACME device-attest-01 with a synthetic
//! attestation of a P-384 key, a CSR, the certificate (devices on iOS 15 get a SCEP profile
//! and enroll by SCEP instead, `scep`); then MDM check-in with that identity and the command
//! channel until DeviceConfigured releases the device (`mdm`).
//!
//! Exposes [`FleetDevice`] (serials come from the caller: the synced inventory, so devices
//! pass the gate), [`Fleet`] (target + stand-in PKI) whose [`Fleet::run`] enrolls devices with
//! concurrency C into a [`Progress`], and [`FleetReport`]. [`sandbox::SandboxFleet`] runs one
//! fleet at a time in the background for the sandbox page; [`remote::run`] drives a sandbox
//! in another process (`adebox sim devices`). [`Fleet::tapped`] records every plist exchanged
//! in a [`Wiretap`], for tests that check them against Apple's schemas.
//!
//! The devices read what the appliance sends strictly, with their own types ([`wire`]): the
//! profile, the commands and the answers on the MDM channels, the ACME documents. A deviation
//! from Apple's specification fails the device with the key path and the problem
//! (`profile_invalid:PayloadDescription:wrong_type`) and is logged in full. Uses
//! [`crate::crypto`], the device side of [`crate::crypto::jws::signer`] and
//! [`crate::apple::attestation`]'s encoder, never the product's profile or MDM types, the
//! store or a domain service: it talks to the appliance only over HTTPS.

mod device;
mod mdm;
pub mod messages;
pub mod remote;
pub mod report;
mod rts;
pub mod sandbox;
mod scep;
mod step;
pub mod web;
pub mod wire;

pub use device::{machine_info, sign_options};
pub use mdm::{EnrolledDevice, FAILING_PROFILE_SUFFIX};
pub use messages::message as mdm_message;
pub use report::{DeviceOutcome, FleetReport};
pub use step::SignInAs;

use crate::apple_pki::StandInApplePki;
use crate::crypto::chain::TrustAnchors;
use futures_util::StreamExt;
use sha2::{Digest, Sha256};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use time::OffsetDateTime;

#[derive(Debug, thiserror::Error)]
pub enum FleetError {
    #[error("the appliance CA given to the device fleet is not a PEM certificate: {0}")]
    BadCa(String),
    #[error("the device fleet's profile URL {0:?} is not an https URL")]
    BadUrl(String),
    #[error("the device fleet cannot make its HTTPS client: {0}")]
    Client(String),
}

/// One simulated device.
#[derive(Clone, Debug)]
pub struct FleetDevice {
    pub serial: String,
    pub udid: String,
    /// `iPhone15,2` or `iPad13,18`.
    pub product: String,
    /// The OS version (ACME needs iOS 16.0+ / iPadOS 16.1+).
    pub os_version: String,
    /// The build matching `os_version`.
    pub build: String,
    /// Keys made ahead of time ([`FleetDevice::with_factory_keys`]); `None`: the device makes
    /// them as it enrolls.
    pub factory: Option<Arc<FactoryKeys>>,
    /// Enrolled at another MDM server and moving here by an MDM migration (apple-2026.md §1):
    /// it re-enrolls without an erase, keeping its data and apps, through the ordinary ADE
    /// path (MachineInfo, profile, TokenUpdate with `AwaitingConfiguration`, §1.4); its
    /// best-effort CheckOut goes to the origin server, not here.
    pub migrating: bool,
}

/// What a device has before it talks to the appliance: its device identity (from Apple's
/// factory; here the stand-in Device CA's) and, for SCEP, its RSA key. Benchmarks make them
/// before their clock starts so they measure the appliance, not the simulated devices' RSA
/// key generation (which real devices do on their own processors).
pub struct FactoryKeys {
    pub identity: crate::apple_pki::DeviceIdentity,
    pub scep_key: Option<rsa::PrivateKey>,
}

impl std::fmt::Debug for FactoryKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FactoryKeys").finish_non_exhaustive()
    }
}

impl FleetDevice {
    /// A device for `serial`: the UDID derives from the serial (a rerun is the same device),
    /// every third one an iPad, every fifth an iPhone on iOS 15 (which enrolls by SCEP).
    pub fn for_serial(serial: &str, index: usize) -> FleetDevice {
        let h = hex::encode_upper(Sha256::digest(serial.as_bytes()));
        if index % 5 == 3 {
            return FleetDevice {
                serial: serial.to_string(),
                udid: format!("00008030-{}", &h[..16]),
                product: "iPhone12,1".into(),
                os_version: "15.7.9".into(),
                build: "19H365".into(),
                factory: None,
                migrating: false,
            };
        }
        let ipad = index % 3 == 2;
        FleetDevice {
            serial: serial.to_string(),
            udid: format!("00008110-{}", &h[..16]),
            product: if ipad { "iPad13,18" } else { "iPhone15,2" }.into(),
            os_version: if index.is_multiple_of(2) { "17.5" } else { "18.1" }.into(),
            build: if index.is_multiple_of(2) { "21F79" } else { "22B83" }.into(),
            factory: None,
            migrating: false,
        }
    }

    /// The same device arriving by an MDM migration from another server (no erase).
    pub fn migrating_in(self) -> FleetDevice {
        FleetDevice { migrating: true, ..self }
    }

    /// Whether this device escrows a bootstrap token (apple-2026.md §3.1): Macs, and iPhones,
    /// iPads and Vision Pros on 26 and later, when the server lists
    /// `com.apple.mdm.bootstraptoken` in its capabilities.
    pub fn escrows_bootstrap_token(&self) -> bool {
        let major = self.os_version.split('.').next().and_then(|m| m.parse::<u32>().ok());
        let mac = ["Mac", "iMac", "VirtualMac"].iter().any(|m| self.product.starts_with(m));
        mac || major.is_some_and(|m| m >= 26)
    }

    /// Whether this device enrolls by SCEP (iOS before 16: no ACME device attestation).
    fn uses_scep(&self) -> bool {
        self.os_version
            .split('.')
            .next()
            .and_then(|m| m.parse::<u32>().ok())
            .is_some_and(|m| m < 16)
    }

    /// The device with its keys made now (see [`FactoryKeys`]).
    pub fn with_factory_keys(
        mut self,
        pki: &StandInApplePki,
        now: OffsetDateTime,
    ) -> Result<FleetDevice, FleetError> {
        let identity = pki
            .issue_device_identity(&self.udid, now)
            .map_err(|e| FleetError::Client(e.to_string()))?;
        let scep_key = match self.uses_scep() {
            true => Some(
                crate::crypto::scep::client::new_rsa_key()
                    .map_err(|e| FleetError::Client(e.to_string()))?,
            ),
            false => None,
        };
        self.factory = Some(Arc::new(FactoryKeys { identity, scep_key }));
        Ok(self)
    }
}

/// Where the fleet enrolls.
#[derive(Clone, Debug)]
pub struct FleetTarget {
    /// The profile URL (the `url` of the ADE profile), https.
    pub profile_url: String,
    /// The appliance CA the devices trust (the profile's root payload, as Apple's
    /// `anchor_certs` would make them), PEM.
    pub ca_pem: String,
    /// Where the URL's host name is reached, when DNS would not find it (the sandbox daemon
    /// enrolling against itself); the URL's port is kept.
    pub resolve_to: Option<SocketAddr>,
}

/// A running or finished fleet's progress: outcomes so far.
#[derive(Default)]
pub struct Progress {
    total: Mutex<usize>,
    outcomes: Mutex<Vec<DeviceOutcome>>,
}

impl Progress {
    fn set_total(&self, n: usize) {
        *self.total.lock().unwrap_or_else(|e| e.into_inner()) = n;
    }

    fn push(&self, o: DeviceOutcome) {
        self.outcomes.lock().unwrap_or_else(|e| e.into_inner()).push(o);
    }

    /// (devices in the run, devices done).
    pub fn counts(&self) -> (usize, usize) {
        let total = *self.total.lock().unwrap_or_else(|e| e.into_inner());
        (total, self.outcomes.lock().unwrap_or_else(|e| e.into_inner()).len())
    }

    /// The report of what is done so far.
    pub fn report(&self) -> FleetReport {
        let total = *self.total.lock().unwrap_or_else(|e| e.into_inner());
        FleetReport::of(total, &self.outcomes.lock().unwrap_or_else(|e| e.into_inner()))
    }

    /// Each device's outcome so far, in order of completion.
    pub fn outcomes(&self) -> Vec<DeviceOutcome> {
        self.outcomes.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

/// Released devices a fleet keeps for later polls.
pub(crate) type Kept = Arc<Mutex<Vec<EnrolledDevice>>>;

/// What a recorded plist was.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Seen {
    /// The enrollment profile (the signed content), appliance → device.
    Profile,
    /// A command, appliance → device.
    Command,
    /// A check-in message, device → appliance.
    CheckIn,
    /// A report on the command channel, device → appliance.
    Report,
}

/// One recorded plist, with the device it was exchanged with.
#[derive(Clone, Debug)]
pub struct Exchange {
    pub seen: Seen,
    pub serial: String,
    /// The device's model (`iPhone15,2`) and OS version, to check the plist for that reader.
    pub product: String,
    pub os_version: String,
    pub bytes: Vec<u8>,
}

/// Every plist a tapped fleet exchanged, in order.
#[derive(Debug, Default)]
pub struct Wiretap(Mutex<Vec<Exchange>>);

impl Wiretap {
    fn record(&self, d: &FleetDevice, seen: Seen, bytes: &[u8]) {
        let e = Exchange {
            seen,
            serial: d.serial.clone(),
            product: d.product.clone(),
            os_version: d.os_version.clone(),
            bytes: bytes.to_vec(),
        };
        self.0.lock().unwrap_or_else(|e| e.into_inner()).push(e);
    }

    /// What was recorded so far.
    pub fn exchanges(&self) -> Vec<Exchange> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

/// A fleet bound to an appliance and a stand-in Apple PKI.
pub struct Fleet {
    target: FleetTarget,
    anchors: TrustAnchors,
    http: reqwest::Client,
    pki: Arc<StandInApplePki>,
    push: Option<crate::apns::PushFeed>,
    keep: Option<Kept>,
    tap: Option<Arc<Wiretap>>,
    sign_in: Option<SignInAs>,
    apple: Option<crate::dep::portal_client::PortalClient>,
    /// The first wait before a device retries its enrollment after a Return to Service erase
    /// (`ShouldRetryEnrollment`, see `rts.rs`).
    retry_first: std::time::Duration,
    /// Commands each device answers with NotNow after DeviceConfigured (see `mdm.rs`).
    not_now_after_configured: usize,
}

impl Fleet {
    pub fn new(target: FleetTarget, pki: Arc<StandInApplePki>) -> Result<Fleet, FleetError> {
        let url = reqwest::Url::parse(&target.profile_url)
            .map_err(|_| FleetError::BadUrl(target.profile_url.clone()))?;
        if url.scheme() != "https" {
            return Err(FleetError::BadUrl(target.profile_url.clone()));
        }
        let anchors =
            TrustAnchors::from_pem(&target.ca_pem).map_err(|e| FleetError::BadCa(e.to_string()))?;
        let cert = reqwest::Certificate::from_pem(target.ca_pem.as_bytes())
            .map_err(|e| FleetError::BadCa(e.to_string()))?;
        crate::ensure_crypto_provider();
        let mut builder = reqwest::Client::builder()
            .tls_certs_only([cert])
            .timeout(std::time::Duration::from_secs(60))
            .pool_max_idle_per_host(64);
        if let (Some(addr), Some(host)) = (target.resolve_to, url.host_str()) {
            builder = builder.resolve(host, addr);
        }
        let http = builder.build().map_err(|e| FleetError::Client(e.to_string()))?;
        Ok(Fleet {
            target,
            anchors,
            http,
            pki,
            push: None,
            keep: None,
            tap: None,
            sign_in: None,
            apple: None,
            retry_first: std::time::Duration::from_secs(10),
            not_now_after_configured: 0,
        })
    }

    /// Devices idle between commands wait for a push from this APNs simulator (as real
    /// devices do) instead of polling on a timer; they still poll now and then, as a device
    /// whose push got lost eventually does.
    pub fn woken_by(mut self, push: crate::apns::PushFeed) -> Fleet {
        self.push = Some(push);
        self
    }

    /// Keeps every device it releases, with its identity, for [`Fleet::enrolled`]: tests
    /// drive such devices through later commands poll by poll.
    pub fn keeping(mut self) -> Fleet {
        self.keep = Some(Arc::default());
        self
    }

    /// Records every plist the devices exchange (profile, check-ins, reports, commands) in
    /// `tap`, also for the devices it keeps.
    pub fn tapped(mut self, tap: Arc<Wiretap>) -> Fleet {
        self.tap = Some(tap);
        self
    }

    /// Devices told `ShouldRetryEnrollment` wait `first` before their first retry after a
    /// failed enrollment following a Return to Service erase (then twice as long each time,
    /// up to five minutes): tests shorten it.
    pub fn retrying_enrollment_after(mut self, first: std::time::Duration) -> Fleet {
        self.retry_first = first;
        self
    }

    /// After acknowledging DeviceConfigured, each device is still busy finishing Setup
    /// Assistant (apple-2026.md §2.5 step 9): it answers the next `commands` commands it is sent
    /// with NotNow, then sends Idle (step 12) and carries out what it deferred. The device
    /// counts as released only then; one that is sent fewer commands than that fails
    /// (`mdm_busy_no_commands`) when the release deadline passes.
    pub fn busy_after_configured(mut self, commands: usize) -> Fleet {
        self.not_now_after_configured = commands;
        self
    }

    /// Users sign in as `who` on the web sign-in page of devices whose profile has user
    /// affinity.
    pub fn signing_in(mut self, who: SignInAs) -> Fleet {
        self.sign_in = Some(who);
        self
    }

    /// Before each run, asks the simulated Apple side (its portal's ground truth) which
    /// devices' profiles have a `configuration_web_url`: those devices walk the web sign-in
    /// first, as Setup Assistant does when Apple's cloud configuration names one.
    pub fn asking_apple(mut self, portal: crate::dep::portal_client::PortalClient) -> Fleet {
        self.apple = Some(portal);
        self
    }

    /// Serial → `configuration_web_url` of the devices whose DEP profile has one. A fleet
    /// that asks Apple but cannot reach it answers why: its devices then fail loudly rather
    /// than post to the profile URL, which refuses a device whose profile has user affinity.
    async fn web_urls(&self) -> Result<std::collections::HashMap<String, String>, String> {
        let Some(portal) = &self.apple else { return Ok(Default::default()) };
        let truth = match portal.truth().await {
            Ok(t) => t,
            Err(e) => {
                log::error!(
                    "the device fleet cannot ask the simulated Apple side which devices' profiles have a web sign-in: {e}; no device enrolls in this run"
                );
                return Err(e.to_string());
            }
        };
        let devices = truth["servers"].as_array().into_iter().flatten();
        Ok(devices
            .flat_map(|s| s["devices"].as_array().cloned().unwrap_or_default())
            .filter_map(|d| {
                let url = d["configuration_web_url"].as_str()?;
                Some((d["serial_number"].as_str()?.to_string(), url.to_string()))
            })
            .collect())
    }

    /// Enrolls `device` alone and hands it back kept, whether or not this fleet keeps the
    /// devices it releases (the sandbox's Return to Service demo drives it further); the
    /// failure code when it was not released.
    pub async fn enroll_kept(
        &self,
        device: &FleetDevice,
        now: OffsetDateTime,
    ) -> Result<EnrolledDevice, String> {
        let keep: Kept = Arc::default();
        let mut ctx = self.ctx(now, self.sign_in.clone()).await;
        if let Some(ctx) = Arc::get_mut(&mut ctx) {
            ctx.keep = Some(keep.clone());
        }
        let outcome = device::enroll(ctx, 0, device.clone()).await;
        if !outcome.released {
            return Err(outcome.failure.unwrap_or_else(|| "not_released".into()));
        }
        let kept = keep.lock().unwrap_or_else(|e| e.into_inner()).pop();
        kept.ok_or_else(|| "not_kept".into())
    }

    /// The devices released so far by a fleet made with [`Fleet::keeping`].
    pub fn enrolled(&self) -> Vec<EnrolledDevice> {
        self.keep
            .as_ref()
            .map(|k| k.lock().unwrap_or_else(|e| e.into_inner()).clone())
            .unwrap_or_default()
    }

    /// Enrolls `devices`, `concurrency` at a time (at least 1), recording each outcome into
    /// `progress` as it completes; returns the final report. `now` dates the devices'
    /// identities and attestations.
    pub async fn run(
        &self,
        devices: &[FleetDevice],
        concurrency: usize,
        progress: &Progress,
        now: OffsetDateTime,
    ) -> FleetReport {
        self.run_as(devices, concurrency, progress, now, self.sign_in.clone()).await
    }

    /// [`Fleet::run`], with users signing in as `sign_in` on web sign-in pages (instead of
    /// the account given to [`Fleet::signing_in`]).
    pub async fn run_as(
        &self,
        devices: &[FleetDevice],
        concurrency: usize,
        progress: &Progress,
        now: OffsetDateTime,
        sign_in: Option<SignInAs>,
    ) -> FleetReport {
        progress.set_total(devices.len());
        let ctx = self.ctx(now, sign_in).await;
        let mut outcomes = futures_util::stream::iter(devices.iter().cloned().enumerate())
            .map(|(i, d)| device::enroll(ctx.clone(), i, d))
            .buffer_unordered(concurrency.max(1));
        while let Some(o) = outcomes.next().await {
            progress.push(o);
        }
        progress.report()
    }

    async fn ctx(&self, now: OffsetDateTime, sign_in: Option<SignInAs>) -> Arc<step::Ctx> {
        Arc::new(step::Ctx {
            http: self.http.clone(),
            profile_url: self.target.profile_url.clone(),
            appliance_ca: self.anchors.clone(),
            pki: self.pki.clone(),
            now,
            target: self.target.clone(),
            push: self.push.clone(),
            keep: self.keep.clone(),
            tap: self.tap.clone(),
            sign_in,
            web_urls: self.web_urls().await,
            not_now_after_configured: self.not_now_after_configured,
        })
    }
}

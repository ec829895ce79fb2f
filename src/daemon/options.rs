//! What the daemon is started with: the configuration, the mode, where "Apple" is (see
//! [`AppleSide`]), which roots devices are trusted through, and the policies tests shorten.

use super::{AppleSide, DeviceTrust};
use crate::admin::AdminOptions;
use crate::clock::Clock;
use crate::config::Config;
use crate::http;
use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;

/// Whether this is a real appliance or the sandbox (simulated Apple, demo data).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    Production,
    Sandbox,
}

/// The services a start-up hook may use.
pub struct StartupServices {
    pub tokens: crate::tokens::Tokens,
    pub profiles: crate::profiles::Profiles,
}

type HookFuture = Pin<Box<dyn Future<Output = Result<(), String>> + Send>>;

/// Work done once the services exist and before any background worker starts or a listener
/// serves. The sandbox uses it so its new simulated Apple side takes back what the store
/// already holds (the token, the profile definitions) before a worker can call it.
#[derive(Clone)]
pub struct BeforeWorkers(pub Arc<dyn Fn(StartupServices) -> HookFuture + Send + Sync>);

impl std::fmt::Debug for BeforeWorkers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("BeforeWorkers(..)")
    }
}

#[derive(Clone, Debug)]
pub struct DaemonOptions {
    pub config: Config,
    /// The file the configuration came from, re-read on SIGHUP.
    pub config_path: Option<PathBuf>,
    pub mode: Mode,
    pub clock: Clock,
    pub admin: AdminOptions,
    /// HTTP worker threads; 0 = one per CPU.
    pub workers: usize,
    pub apple: AppleSide,
    /// Backoff for DEP calls (tests shorten it).
    pub dep_retry: crate::depclient::RetryPolicy,
    /// ACME issuance policy.
    pub acme: crate::acme::AcmeOptions,
    /// Which roots devices are trusted through (Apple's unless sandbox/tests say otherwise).
    pub device_trust: DeviceTrust,
    /// MDM policy (the release timeout).
    pub mdm: crate::mdm::MdmOptions,
    /// How long clients may take to send a request (tests shorten it).
    pub http_timeouts: http::Timeouts,
    /// The sandbox's APNs simulator, whose pushes wake the sandbox's simulated devices.
    pub sandbox_pushes: Option<crate::sim::apns::PushFeed>,
    /// Sandbox only: see [`BeforeWorkers`].
    pub before_workers: Option<BeforeWorkers>,
    /// SCEP requests one client address may make a minute (benchmarks raise it: their whole
    /// fleet shares one address).
    pub scep_per_client_per_minute: u32,
    /// How often the alert rules run and e-mails are first retried (tests shorten both).
    pub alerts: crate::alerts::AlertOptions,
    /// How often actions at Apple Business are polled (tests shorten it).
    pub business_polling: crate::business::activities::Polling,
    /// How fast the organisation devices' AppleCare coverage is read (tests quicken it).
    pub business_applecare: crate::business::orgdevices::Pace,
}

impl DaemonOptions {
    pub fn new(config: Config, mode: Mode) -> Self {
        let release_minutes = i64::from(config.mdm_release_timeout_minutes);
        DaemonOptions {
            config,
            config_path: None,
            mode,
            clock: Clock::system(),
            admin: AdminOptions::default(),
            workers: 0,
            apple: AppleSide::Production,
            dep_retry: crate::depclient::RetryPolicy::default(),
            acme: crate::acme::AcmeOptions::default(),
            device_trust: DeviceTrust::Apple,
            mdm: crate::mdm::MdmOptions {
                release_timeout: time::Duration::minutes(release_minutes),
            },
            http_timeouts: http::Timeouts::default(),
            sandbox_pushes: None,
            before_workers: None,
            scep_per_client_per_minute: crate::enroll::scep::PER_CLIENT_PER_MINUTE,
            alerts: crate::alerts::AlertOptions::default(),
            business_polling: crate::business::activities::Polling::default(),
            business_applecare: crate::business::orgdevices::Pace::default(),
        }
    }
}

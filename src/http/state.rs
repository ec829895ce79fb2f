//! [`AppState`]: the service handles every handler gets (design rule 8: never the raw store).
//! A leaf of `http`: its handlers import it from here, and it imports none of them.

use crate::admin::Admin;
use crate::audit::AuditLog;
use crate::clock::Clock;
use crate::tls::TlsManager;
use std::sync::Arc;
use time::OffsetDateTime;

/// Service handles the handlers use.
pub struct AppState {
    pub admin: Admin,
    pub tokens: crate::tokens::Tokens,
    /// Actions at Apple Business and AppleCare coverage.
    pub business_actions: crate::business::actions::BusinessActions,
    /// The Apple Business API account.
    pub business: crate::business::Business,
    /// The organisation's devices, synced from Apple Business.
    pub business_devices: crate::business::orgdevices::OrgDevices,
    pub devices: crate::devices::Devices,
    pub sync: crate::sync::Sync,
    /// The ACME server (device identities).
    pub acme: crate::acme::AcmeService,
    pub profiles: crate::profiles::Profiles,
    pub enroll: crate::enroll::Enroll,
    /// Local sign-in accounts (and the other directories users sign in with).
    pub directory: crate::directory::Directory,
    /// The user sign-in page's flow (user affinity).
    pub signin: crate::signin::SignIn,
    pub push: crate::push::Push,
    /// MDM check-in, commands and the device page's MDM actions.
    pub mdm: crate::mdm::Mdm,
    /// The profiles' setup steps and the uploaded configuration profiles.
    pub setup: crate::setup::Setup,
    /// The SCEP server (identities for devices too old for ACME).
    pub scep: crate::enroll::scep::Scep,
    /// The simulated Apple side's portal, in sandbox mode.
    pub sandbox_portal: Option<crate::sim::dep::portal_client::PortalClient>,
    /// The simulated devices enrolling against this daemon, in sandbox mode.
    pub sandbox_fleet: Option<crate::sim::fleet::sandbox::SandboxFleet>,
    pub audit: AuditLog,
    /// Webhook subscriptions and the events MDM messages publish.
    pub events: crate::events::Events,
    /// Alert settings, the alerts announced and their e-mails.
    pub alerts: crate::alerts::Alerts,
    pub tls: Arc<TlsManager>,
    /// The ACME client of the appliance's own certificate, when `[tls.acme]` is set.
    pub tls_acme: Option<Arc<crate::tls::AcmeRenewer>>,
    pub clock: Clock,
    pub started_at: OffsetDateTime,
    pub sandbox: bool,
    pub openapi_json: Arc<String>,
    /// Where the Apple services are and how they are reached (Settings, `/api/v1/status`).
    pub apple_services: Arc<crate::outbound::AppleServices>,
    /// What `GET /metrics` serves, and to whom.
    pub metrics: MetricsState,
    /// The daily backup, when configured (its last result is on the dashboard).
    pub backups: Option<crate::backup::scheduled::Scheduled>,
}

/// The live counters, whether `/metrics` answers and to which addresses, and the store's
/// figures (read when scraped: the handlers never hold the store itself).
pub struct MetricsState {
    pub live: crate::metrics::Metrics,
    pub config: crate::config::MetricsConfig,
    pub store: Arc<dyn Fn(&mut crate::metrics::Snapshot) + Send + Sync>,
}

//! The appliance's services, built in one place: [`Foundation::open`] prepares what they stand
//! on (the trusted device roots, the way to Apple, the data directory, the store, the
//! certificates and signing keys), and [`Services::build`] constructs every service with the
//! hooks that tie the domain modules together (design rule 2). Nothing here decides anything:
//! each hook's rule lives in the module that owns it. The daemon, the benchmarks and the
//! integration tests (through the daemon) all get their services from here, so none runs
//! without a hook the others have.

use super::{DaemonError, DaemonOptions, DeviceRoots, Routes, blocking, device_roots, routes};
use crate::admin::Admin;
use crate::audit::AuditLog;
use crate::clock::Clock;
use crate::store::Store;
use crate::tls::TlsManager;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

/// What the services stand on, opened and checked before any of them exists.
pub struct Foundation {
    pub store: Store,
    pub tls: Arc<TlsManager>,
    pub roots: DeviceRoots,
    pub routes: Routes,
    signer: crate::enroll::ProfileSigner,
    scep_ra: crate::crypto::scep::server::Ra,
}

impl Foundation {
    /// Resolves the trusted roots and the way to Apple, prepares the data directory, opens
    /// the store and makes sure the certificates and signing keys exist.
    pub async fn open(opts: &DaemonOptions) -> Result<Foundation, DaemonError> {
        let (config, clock) = (&opts.config, &opts.clock);
        let (mode, trust, now) = (opts.mode, opts.device_trust.clone(), clock.now());
        let roots = blocking(move || device_roots(mode, &trust, now)).await??;
        // Before anything is written: a wrong endpoint, root file or proxy stops the start.
        let routes = routes(&opts.apple, config, &|name| std::env::var(name).ok())?;
        super::prepare_data_dir(&config.data_dir)?;

        let dir = config.data_dir.clone();
        let store = blocking(move || Store::open(&dir, super::TABLES)).await??;
        // Before any service can record an entry, so each is chained under the audit key.
        let (audit_store, dir, now) = (store.clone(), config.data_dir.clone(), clock.now());
        blocking(move || crate::audit::start(&audit_store, &dir, now)).await??;
        let tls_config = config.clone();
        let now = clock.now();
        let tls = Arc::new(blocking(move || TlsManager::open(&tls_config, now)).await??);
        let signer = {
            let (dir, tls) = (config.data_dir.clone(), tls.clone());
            blocking(move || crate::enroll::ProfileSigner::ensure(&dir, tls.ca(), now)).await??
        };
        let scep_ra = {
            let dir = config.data_dir.clone();
            blocking(move || crate::enroll::scep::ra::ensure(&dir, now)).await??
        };
        Ok(Foundation { store, tls, roots, routes, signer, scep_ra })
    }
}

type Worker = Pin<Box<dyn Future<Output = ()> + Send>>;

/// The service handles of an appliance (each cheap to clone).
pub struct Services {
    pub store: Store,
    pub clock: Clock,
    pub tls: Arc<TlsManager>,
    /// The server certificate's ACME client, when `[tls.acme]` is set.
    pub tls_acme: Option<Arc<crate::tls::AcmeRenewer>>,
    pub admin: Admin,
    pub audit: AuditLog,
    /// Webhook subscriptions, their outbox and its delivery.
    pub events: crate::events::Events,
    pub tokens: crate::tokens::Tokens,
    /// Actions at Apple Business, AppleCare coverage and the way to Apple Business.
    pub business_actions: crate::business::actions::BusinessActions,
    /// The Apple Business API account.
    pub business: crate::business::Business,
    /// The organisation's devices as Apple Business lists them, synced into the store.
    pub business_devices: crate::business::orgdevices::OrgDevices,
    pub devices: crate::devices::Devices,
    pub push: crate::push::Push,
    /// The queue MDM wakes devices through.
    pub pusher: crate::push::Pusher,
    pub sync: crate::sync::Sync,
    pub profiles: crate::profiles::Profiles,
    pub acme: crate::acme::AcmeService,
    pub enroll: crate::enroll::Enroll,
    pub directory: crate::directory::Directory,
    pub signin: crate::signin::SignIn,
    pub mdm: crate::mdm::Mdm,
    /// The profiles' setup steps and the uploaded configuration profiles.
    pub setup: crate::setup::Setup,
    /// Apple's schemas of `[mdm] schemas_dir` (off without it); reloaded on SIGHUP.
    pub schemas: crate::schemas::AppleSchemas,
    pub scep: crate::enroll::scep::Scep,
    /// Alerts by e-mail and webhook on what needs the admin.
    pub alerts: crate::alerts::Alerts,
    /// Outside production: the stand-in Apple PKI the enrollment endpoint and ACME trust, for
    /// simulated devices to sign and attest with.
    pub stand_in_pki: Option<Arc<crate::sim::apple_pki::StandInApplePki>>,
    /// The client for the DEP API (and the sandbox's portal, on the same host).
    pub dep_client: reqwest::Client,
    pub routes: Routes,
    /// The daily backup, when the configuration file sets one.
    pub backups: Option<crate::backup::scheduled::Scheduled>,
}

/// The work the services need done in the background, for the caller to spawn.
pub struct Workers {
    /// Sends the pushes queued through [`Services::pusher`].
    pub apns: Worker,
}

impl Services {
    /// Builds every service on `base`; the URLs devices are given use `public_port`.
    pub fn build(
        opts: &DaemonOptions,
        base: Foundation,
        public_port: u16,
    ) -> Result<(Services, Workers), DaemonError> {
        let Foundation { store, tls, roots, routes, signer, scep_ra } = base;
        let (config, clock) = (&opts.config, &opts.clock);
        let admin = Admin::new(store.clone(), clock.clone(), opts.admin.clone());
        let audit = AuditLog::new(store.clone());
        let events = crate::events::Events::new(
            store.clone(),
            clock.clone(),
            self_addresses(config, public_port),
            routes.proxy.clone(),
        );
        let dep_client = crate::outbound::client(&routes.dep)?;
        let tls_acme = match &config.tls_acme {
            Some(a) => {
                // The CA is reached like any outside service: through the proxy chosen for
                // its host.
                let host = url::Url::parse(&a.directory_url)
                    .ok()
                    .and_then(|u| u.host_str().map(str::to_string))
                    .unwrap_or_default();
                let proxy = routes.proxy.as_ref().and_then(|p| p.for_host(&host).cloned());
                let outbound = crate::outbound::OutboundConfig::production().via(proxy);
                let renewer = crate::tls::AcmeRenewer::new(
                    a.clone(),
                    tls.clone(),
                    store.sealer().clone(),
                    outbound,
                    clock.clone(),
                )?;
                Some(Arc::new(renewer))
            }
            None => None,
        };
        let tokens = crate::tokens::Tokens::new(
            store.clone(),
            clock.clone(),
            routes.dep_url.clone(),
            crate::depclient::account_check(dep_client.clone(), clock.clone()),
            Arc::new(|wtx, token| {
                Ok(crate::tokens::TokenUse {
                    devices: crate::devices::count_for_token_in(wtx, token)?,
                    default_profiles: crate::profiles::token_defaults_in(wtx, token)?,
                })
            }),
        );
        let devices = crate::devices::Devices::new(store.clone());
        // Apple Business is reached through the proxy chosen for its host, trusting what the
        // DEP API trusts.
        let business_http = crate::outbound::client(&routes.business_out)?;
        let business_actions = crate::business::actions::BusinessActions {
            activities: crate::business::activities::Activities::new(
                store.clone(),
                clock.clone(),
                devices.clone(),
                opts.business_polling,
            )
            .knowing_tokens(tokens.clone()),
            applecare: crate::business::applecare::AppleCare::new(store.clone(), clock.clone()),
            connection: crate::business::connect::Connection::new(
                crate::business::BusinessAccount::new(store.clone(), clock.clone()),
                business_http,
                routes.business.clone(),
            ),
        };
        let business_devices = crate::business::orgdevices::OrgDevices::new(
            store.clone(),
            clock.clone(),
            tokens.clone(),
            business_actions.connection.clone(),
            business_actions.applecare.clone(),
            opts.business_applecare,
        );
        // One client (one access token) for where-is, the actions and the sync.
        let business = crate::business::Business::new(
            store.clone(),
            clock.clone(),
            tokens.clone(),
            business_actions.connection.clone(),
        );
        let push = crate::push::Push::new(store.clone(), clock.clone());
        // MDM knows which serial a UDID is, so a device APNs refuses for good gets it on its
        // timeline.
        let serial_of: crate::push::worker::SerialOf =
            Arc::new(crate::mdm::records::serial_of_udid_in);
        let (pusher, apns) = push.pusher(routes.apns.clone(), Some(serial_of));
        // Sync and profile assignment call Apple for a token through the same gates.
        let gates = crate::depclient::Gates::default();
        // The URLs devices are given (a configured port 0, in tests, becomes the bound one):
        // the profile's `url` and `configuration_web_url` are followed by devices too.
        let public_urls = crate::urls::Urls::new(config).with_port(public_port);
        let profiles = crate::profiles::Profiles::new(
            store.clone(),
            clock.clone(),
            tokens.clone(),
            devices.clone(),
            crate::profiles::Endpoints {
                url: public_urls.enroll_machine_info(),
                configuration_web_url: public_urls.enroll_web(),
                anchors: {
                    let tls = tls.clone();
                    crate::profiles::Anchors::live(move || tls.anchor_certs())
                },
            },
            dep_client.clone(),
            gates.clone(),
        );
        let sync = crate::sync::Sync::new(
            store.clone(),
            clock.clone(),
            crate::sync::SyncParts {
                tokens: tokens.clone(),
                devices: devices.clone(),
                http: dep_client.clone(),
                retry: opts.dep_retry.clone(),
                gates,
                devices_hook: profiles.defaults_hook(),
            },
        );

        let ca = crate::crypto::ca::Authority::from_pem(
            tls.ca().cert_pem(),
            tls.ca().key_pem().expose(),
        )
        .map_err(|e| DaemonError::Task(format!("the appliance CA cannot issue: {e}")))?;
        let acme = crate::acme::AcmeService::new(
            store.clone(),
            clock.clone(),
            public_urls.clone(),
            roots.attestation.clone(),
            Arc::new(ca),
            opts.acme.clone(),
        );
        let enroll = crate::enroll::Enroll::new(
            store.clone(),
            clock.clone(),
            crate::enroll::Peers {
                tokens: tokens.clone(),
                profiles: profiles.clone(),
                acme: acme.clone(),
                push: push.clone(),
            },
            roots.device_identity.clone(),
            signer,
            public_urls.clone(),
        );
        let directory = crate::directory::Directory::with_oidc_redirect(
            store.clone(),
            clock.clone(),
            admin.sign_in_guard(),
            public_urls.enroll_web_oidc_callback(),
        );
        let signin = crate::signin::SignIn::new(
            store.clone(),
            clock.clone(),
            enroll.clone(),
            directory.clone(),
        );
        // Every command queued for a device with a push token wakes it through APNs.
        let nudge: crate::mdm::PushNudge = {
            let pusher = pusher.clone();
            Arc::new(move |target| pusher.notify(target))
        };
        // A folder that is not a checkout refuses the start, naming the key and the fix.
        let schemas = crate::schemas::AppleSchemas::load(config.mdm_schemas_dir.as_deref())?;
        match schemas.dir() {
            Some(dir) => {
                log::info!(dir = dir.display().to_string().as_str(); "commands and uploaded profiles are checked against Apple's schemas")
            }
            None => log::info!("{}", crate::schemas::OFF_NOTICE),
        }
        let setup =
            crate::setup::Setup::new(store.clone(), clock.clone()).with_schemas(schemas.clone());
        let mdm = crate::mdm::Mdm::new(
            store.clone(),
            clock.clone(),
            devices.clone(),
            crate::mdm::Plans {
                profiles: Some(profiles.clone()),
                setup: Some(setup.clone()),
                enroll: Some(enroll.clone()),
                schemas: schemas.clone(),
            },
            acme.clone(),
            opts.mdm.clone(),
            nudge,
        );
        let scep = crate::enroll::scep::Scep::new(
            store.clone(),
            clock.clone(),
            acme.clone(),
            scep_ra,
            opts.scep_per_client_per_minute,
        );
        // Always there: the page may set a schedule when the file has none.
        let backups = Some(crate::backup::scheduled::Scheduled::new(
            store.clone(),
            clock.clone(),
            config.data_dir.clone(),
            config.backup.clone(),
        ));
        let alerts = crate::alerts::Alerts::new(
            store.clone(),
            clock.clone(),
            crate::alerts::Sources {
                tokens: tokens.clone(),
                push: push.clone(),
                sync: sync.clone(),
                enroll: enroll.clone(),
                backups: backups.clone(),
                mdm: mdm.clone(),
            },
            crate::urls::Urls::new(config).with_port(public_port).base(),
            opts.alerts.clone(),
        );
        let services = Services {
            backups,
            store,
            clock: clock.clone(),
            tls,
            admin,
            audit,
            events,
            tokens,
            business_actions,
            business,
            business_devices,
            devices,
            push,
            pusher,
            sync,
            profiles,
            acme,
            enroll,
            directory,
            signin,
            mdm,
            setup,
            schemas,
            scep,
            alerts,
            tls_acme,
            stand_in_pki: roots.stand_in,
            dep_client,
            routes,
        };
        Ok((services, Workers { apns: Box::pin(apns) }))
    }
}

/// How the appliance itself is reached, which no webhook may point at.
fn self_addresses(
    config: &crate::config::Config,
    public_port: u16,
) -> crate::events::SelfAddresses {
    let mut me = crate::events::SelfAddresses::default();
    me.hosts.extend(config.public_hosts.iter().map(|h| h.to_ascii_lowercase()));
    me.ports.insert(public_port);
    for addr in config.https_listen.iter().chain(config.http_redirect_listen.iter()) {
        me.ips.insert(addr.ip());
        if addr.port() != 0 {
            me.ports.insert(addr.port());
        }
    }
    me
}

//! The DEP client against the real DEP simulator ([`crate::sim::dep`]) over HTTPS on
//! 127.0.0.1:0: every endpoint, and every error the simulator can produce. One simulator per
//! test, on a manual clock shared with the client, trusted through [`crate::outbound`] in its
//! sandbox/test mode.

mod auth;
mod devices;
mod faults;
mod profiles;

use super::DepClient;
use crate::apple::server_token::OAuthCredentials;
use crate::clock::Clock;
use crate::outbound::{self, OutboundConfig};
use crate::sim::dep::world::ServerId;
use crate::sim::dep::{Faults, RunningSimDep, SimDep, SimDepConfig};
use std::time::Duration;
use time::OffsetDateTime;
use time::macros::datetime;

pub(super) const T0: OffsetDateTime = datetime!(2026-03-01 12:00 UTC);

pub(super) struct Env {
    pub sim: RunningSimDep,
    pub client: DepClient,
    pub server: ServerId,
    pub serials: Vec<String>,
    pub clock: Clock,
}

/// A simulator with one MDM server holding `devices` devices, and a client for its token.
pub(super) async fn env(devices: usize) -> Env {
    env_with(SimDepConfig::default(), devices, outbound::REQUEST_TIMEOUT).await
}

pub(super) async fn env_with(
    mut config: SimDepConfig,
    devices: usize,
    request_timeout: Duration,
) -> Env {
    let clock = Clock::manual(T0);
    config.clock = clock.clone();
    let sim = SimDep::start(config).await.expect("simulator starts");
    let now = sim.now();
    let (server, serials, creds) = sim.with_world(|w| {
        let id = w.add_server("Test MDM", None, now);
        let serials = w.add_devices(Some(id), devices, &[], now).expect("devices added");
        (id, serials, w.server(id).expect("server exists").token.to_credentials())
    });
    let http = outbound::client(
        &OutboundConfig::trusting_only([sim.ca_pem().to_owned()])
            .with_request_timeout(request_timeout),
    )
    .expect("client builds");
    let client = DepClient::new(sim.base_url(), creds, http, clock.clone()).with_label("test");
    Env { sim, client, server, serials, clock }
}

impl Env {
    /// Another client for the same simulator with other credentials.
    pub fn client_for(&self, creds: OAuthCredentials) -> DepClient {
        let http = outbound::client(&OutboundConfig::trusting_only([self.sim.ca_pem().to_owned()]))
            .expect("client builds");
        DepClient::new(self.sim.base_url(), creds, http, self.clock.clone())
    }

    pub fn credentials(&self) -> OAuthCredentials {
        self.sim.with_world(|w| w.server(self.server).expect("server").token.to_credentials())
    }

    pub fn faults(&self, spec: &str) {
        self.sim.set_faults(Faults::parse(spec).expect("fault spec"));
    }

    /// Moves the shared clock (simulator and client) forward.
    pub fn advance(&self, by: time::Duration) {
        self.sim.advance(by);
    }

    pub async fn stop(self) {
        self.sim.stop().await;
    }
}

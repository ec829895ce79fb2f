//! The Apple DEP (Device Assignment) simulator and its stand-in Apple Business Manager portal.
//!
//! A real HTTPS server (actix-web + rustls, its own stand-in CA) that answers the DEP API the
//! way Apple does — every item of the checklist in `../shared/spec/dep-api.md` §7 — plus a JSON
//! portal under `/portal/` that creates MDM servers and their `.p7m` tokens, adds, moves and
//! releases devices, reports the ground truth, switches faults and advances simulated time.
//! Used in-process by tests and the sandbox ([`SimDep::start`]) and standalone
//! (`adebox sim dep`, [`run_standalone`]).
//!
//! Layout: the pure simulated Apple side is [`world`] (servers, devices, event log),
//! [`changes`] (portal-level changes), [`paging`] (fetch snapshots, sync), [`profiles`],
//! [`extras`], [`org`], [`device`], [`catalog`], [`cursor`], [`faults`], [`sessions`]; what
//! clients send is read strictly by the simulator's own [`requests`] and [`oauth`], and its
//! refusals are Apple's documented [`codes`]; the HTTP edge is [`server`] (config, TLS,
//! start/stop), [`respond`] (the gate every DEP route passes), [`api`] and [`api_profiles`]
//! (DEP routes), [`render`] (world → answer bodies per protocol version) and [`portal`].
//! Answers are rendered with the wire types of [`crate::apple::dep`]; requests are never read
//! with them. Must not use a domain module or the store.

pub mod api;
pub mod api_profiles;
pub mod catalog;
pub mod changes;
pub mod codes;
pub mod cursor;
pub mod device;
pub mod extras;
pub mod faults;
pub mod input;
pub mod migration;
pub mod oauth;
pub mod persist;
pub mod org;
pub mod org_devices;
pub mod paging;
pub mod portal;
pub mod portal_client;
pub mod portal_errors;
pub mod portal_migrations;
pub mod profiles;
pub mod render;
pub mod requests;
pub mod respond;
pub mod restore;
pub mod server;
pub mod sessions;
pub mod standalone;
pub mod state;
pub mod world;

pub use faults::Faults;
pub use server::{RunningSimDep, SimDep, SimDepConfig, SimDepError};
pub use standalone::{Standalone, run_standalone, start_standalone};
pub use state::Behaviour;
pub use world::Quirks;

#[cfg(test)]
mod tests;

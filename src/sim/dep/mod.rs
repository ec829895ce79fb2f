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
//! [`extras`], [`org`], [`device`], [`catalog`], [`cursor`], [`faults`], [`sessions`]; the HTTP
//! edge is [`server`] (config, TLS, start/stop), [`respond`] (the gate every DEP route passes),
//! [`api`] and [`api_profiles`] (DEP routes), [`render`] (world → wire types per protocol version) and [`portal`].
//! Bodies use the shared wire types of [`crate::apple::dep`]; OAuth is verified with
//! [`crate::crypto::oauth1`]. Must not use a domain module or the store.

pub mod api;
pub mod api_profiles;
pub mod catalog;
pub mod changes;
pub mod cursor;
pub mod device;
pub mod extras;
pub mod faults;
pub mod org;
pub mod paging;
pub mod portal;
pub mod portal_client;
pub mod profiles;
pub mod render;
pub mod respond;
pub mod restore;
pub mod server;
pub mod sessions;
pub mod standalone;
pub mod world;

pub use faults::Faults;
pub use server::{Behaviour, RunningSimDep, SimDep, SimDepConfig, SimDepError};
pub use standalone::{Standalone, run_standalone, start_standalone};
pub use world::Quirks;

#[cfg(test)]
mod tests;

//! adebox: an on-premises Apple Automated Device Enrollment (ADE) appliance.
//!
//! One binary, run by systemd, that holds a site's Apple server tokens, syncs the devices Apple
//! assigned to it, defines and assigns enrollment profiles, serves the device-facing enrollment
//! endpoints, and serves its own admin page over TLS. Everything is stored in one redb file.
//!
//! The module tree follows `../shared/design.md`; arrows point inward only:
//!
//! - **pure** (no I/O, no async runtime): [`apple`] (Apple wire formats), [`crypto`] (keys,
//!   certificates, CMS, secrets), [`clock`].
//! - **infrastructure**: [`store`] (redb handle, schema version, migrations, backup),
//!   [`config`] (the bootstrap TOML file), [`outbound`] (HTTP clients, the Apple service
//!   URLs, trust roots and proxy they use), [`tls`] (the server
//!   certificate and the rustls configuration), [`urls`] (externally visible URLs),
//!   [`logging`] (journald or stderr).
//! - **domain** (each owns its tables, errors and a small service API), in call order:
//!   [`audit`], [`admin`], [`tokens`], [`devices`], [`depclient`], [`push`], [`sync`],
//!   [`profiles`], [`acme`], [`enroll`], [`mdm`]. A module calls only those before it.
//! - **edges**: [`http`] (actix-web: admin page, JSON API, device routes), [`sim`] (the Apple
//!   simulators used by sandbox mode and tests), [`daemon`] (composition root), [`control`]
//!   (the local control socket used by `adebox admin …`), [`cli`], [`manpages`] (the manual
//!   pages generated from the `cli` definitions for the package).

pub use adebox_sim as sim;
#[doc(hidden)]
pub use adebox_wire::fixtures;
pub use adebox_wire::{apple, clock, crypto, ids};

pub mod depclient;

pub mod config;
pub mod logging;
pub mod outbound;
pub mod store;
pub mod tls;
pub mod urls;

pub mod admin;
pub mod audit;
pub mod devices;
pub mod enroll;
pub mod profiles;
pub mod push;
pub mod sync;
pub mod tokens;

pub mod acme;
pub mod mdm;

pub mod bench;
pub mod cli;
pub mod control;
pub mod daemon;
pub mod fuzzing;
pub mod http;
pub mod manpages;

/// The product version, as shown by `adebox version`, the status API and the User-Agent.
pub fn version() -> &'static str {
    env!("CARGO_PKG_VERSION")
}

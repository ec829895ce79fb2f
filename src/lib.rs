//! adebox: an on-premises Apple Automated Device Enrollment (ADE) appliance.
//!
//! One binary, run by systemd, that holds a site's Apple server tokens, syncs the devices Apple
//! assigned to it, defines and assigns enrollment profiles, serves the device-facing enrollment
//! endpoints, and serves its own admin page over TLS. Everything is stored in one redb file.
//!
//! The module tree follows `../shared/design.md`; arrows point inward only, and the `mod`
//! lines below are in ring order (`tests/architecture.rs` checks both):
//!
//! - **pure** (no I/O, no async runtime; the `adebox-wire` crate): [`apple`] (Apple wire
//!   formats), [`crypto`] (keys, certificates, CMS, JWS, secrets), [`clock`].
//! - **infrastructure**: [`logging`] (journald or stderr), [`files`] (atomic key and
//!   certificate files), [`certinfo`] (describing and reading certificates), [`metrics`] (the
//!   counters `GET /metrics` serves), [`outbound`]
//!   (HTTP clients, the Apple service URLs, trust roots and proxy they use), [`config`] (the
//!   bootstrap TOML file), [`keys`] (the data and audit keys beside the store), [`store`]
//!   (redb handle, schema version, migrations, sealed secrets, backup), [`urls`] (externally
//!   visible URLs), [`tls`] (the server certificate and the rustls configuration),
//!   [`schemas`] (Apple's device-management schemas of `[mdm] schemas_dir`, for the checks).
//! - **domain** (each owns its tables, errors and a small service API), in call order:
//!   [`audit`], [`events`] (webhook subscriptions, outbox, delivery), [`admin`], [`tokens`],
//!   [`devices`], [`depclient`], [`business`] (the Apple Business API account and
//!   client), [`push`], [`sync`], [`profiles`], [`acme`], [`enroll`],
//!   [`directory`] (the accounts users sign in with), [`signin`] (the user-affinity sign-in
//!   page's flow), [`lifecycle`], [`setup`] (steps run before a device is released), [`mdm`],
//!   [`backup`], [`alerts`] (e-mail and webhook alerts on what needs the admin). A module calls only those before
//!   it; where an earlier one needs a later one, the composition root wires a hook.
//! - **edges**: [`http`] (actix-web: admin page, JSON API, device routes), [`control`] (the
//!   local control socket used by `adebox admin …`), [`fuzzing`] (fuzz entry points),
//!   [`daemon`] (the composition root: `Services::build`, listeners, tasks), [`bench`],
//!   [`manpages`] (the manual pages, from the command line `cli` hands over), [`cli`]. The
//!   simulators ([`sim`], the `adebox-sim` crate) are linked in for sandbox mode and tests.

pub use adebox_sim as sim;
#[doc(hidden)]
pub use adebox_wire::fixtures;
pub use adebox_wire::{apple, clock, crypto, ids};

pub mod logging;
pub mod files;
pub mod certinfo;
pub mod metrics;
pub mod outbound;
pub mod config;
pub mod keys;
pub mod store;
pub mod urls;
pub mod tls;
pub mod schemas;

pub mod audit;
pub mod events;
pub mod admin;
pub mod tokens;
pub mod devices;
pub mod depclient;
pub mod business;
pub mod push;
pub mod sync;
pub mod profiles;
pub mod acme;
pub mod enroll;
pub mod directory;
pub mod signin;
pub mod lifecycle;
pub mod setup;
pub mod mdm;
pub mod backup;
pub mod alerts;

pub mod http;
pub mod control;
pub mod fuzzing;
pub mod daemon;
pub mod bench;
pub mod manpages;
pub mod cli;

/// The product version, as shown by `adebox version`, the status API and the User-Agent.
pub fn version() -> &'static str {
    env!("CARGO_PKG_VERSION")
}

/// The commit the binary was built from, when the build named it: `scripts/build-deb` sets
/// `ADEBOX_COMMIT` (a plain `cargo build` leaves it out, so a new commit does not rebuild the
/// whole crate during development).
pub fn commit() -> Option<&'static str> {
    option_env!("ADEBOX_COMMIT").filter(|c| !c.is_empty())
}

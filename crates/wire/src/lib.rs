//! adebox-wire: the pure ring of adebox (README "Architecture").
//!
//! [`apple`] holds Apple's wire formats (DEP JSON, server tokens, MachineInfo, the enrollment
//! profile, MDM check-ins and commands, push requests, attestation), [`crypto`] all key and
//! certificate work (CMS, the appliance CA, chains, JWS/JWK, OAuth 1.0a, SCEP messages,
//! secrets with redacted `Debug`), [`clock`] the one source of "now", [`ids`] the device
//! identifiers (serial number, UDID) with their one normalisation.
//!
//! No I/O and no async runtime: this crate's manifest has no tokio, redb, actix, reqwest or
//! utoipa, so nothing here can reach the store, the network or the HTTP layer. The product
//! (`adebox`) and the simulators (`adebox-sim`) both build on it and never on each other.

pub mod apple;
pub mod clock;
pub mod crypto;
#[doc(hidden)]
pub mod fixtures;
pub mod ids;

//! Simulators shipped in the product for sandbox mode and tests: the other side of the wire.
//!
//! [`dep`] is Apple's DEP (Device Assignment) service with a stand-in Apple Business Manager
//! portal; [`apple_pki`] is a stand-in for Apple's device CA and attestation CA (sandbox and
//! tests only); [`fleet`] plays simulated iPhones/iPads enrolling over HTTPS; [`rng`] is the seeded generator every simulator draws from so runs reproduce.
//! They use [`crate::apple`] and [`crate::crypto`], never a domain module or the store.

pub mod apple_pki;
pub mod dep;
pub mod fleet;
pub mod rng;

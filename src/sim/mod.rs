//! Simulators shipped in the product for sandbox mode and tests: the other side of the wire.
//!
//! They use [`crate::apple`] and [`crate::crypto`], never a domain module or the store.

pub mod dep;
pub mod rng;

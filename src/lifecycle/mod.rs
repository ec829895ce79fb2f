//! A device's life beyond one enrollment (`../shared/spec/apple-2026.md` §2–3): the bootstrap
//! token it escrows, kept across re-enrollments for Return to Service, and its Return to
//! Service settings ([`rts`]).
//!
//! Owns the tables `lifecycle.bootstrap_tokens` and `lifecycle.return_to_service`. Sits after `enroll` and before `mdm` in the
//! domain order: the check-in handler stores and reads tokens through it. Never logs or
//! returns a token except to the device it came from.

pub mod bootstrap;
pub mod rts;

pub use bootstrap::{BootstrapError, Escrow, MAX_TOKEN_BYTES};

/// This module's tables, all created when the store opens.
pub const TABLES: &[crate::store::Table] = &[bootstrap::BOOTSTRAP_TOKENS, rts::RETURN_TO_SERVICE];

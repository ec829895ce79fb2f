//! The ACME server with `device-attest-01` (RFC 8555 + draft-ietf-acme-device-attest,
//! ../shared/spec/enrollment.md §3).
//!
//! Submodules: [`jws`] (pure: flattened JWS, JWKs, RFC 7638 thumbprints), [`signer`] (pure:
//! the device side of JWS, for tests and simulators).
//! Must not use: http, daemon, enroll, mdm (later in the module order).

pub mod jws;
pub mod signer;

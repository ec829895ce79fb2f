//! Apple wire formats only: types, encode/decode, spec citations.
//!
//! Must not use tokio, redb, reqwest or actix: everything here is pure and unit-tested against
//! the real artifacts in `../shared/fixtures/`.

pub mod apns;
pub mod attestation;
pub mod dep;
pub mod device_inspect;
pub mod enroll_profile;
pub mod machineinfo;
pub mod mdm;
pub mod pinned;
pub mod server_token;
pub mod skipkeys;
pub mod stand_in_pki;

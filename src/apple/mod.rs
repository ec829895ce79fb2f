//! Apple wire formats only: types, encode/decode, spec citations.
//!
//! Must not use tokio, redb, reqwest or actix: everything here is pure and unit-tested against
//! the real artifacts in `../shared/fixtures/`.

pub mod dep;
pub mod server_token;
pub mod skipkeys;

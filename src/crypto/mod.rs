//! All key and certificate work: key generation, the appliance CA and issuance, CMS, secrets.
//!
//! Pure: no tokio, redb, reqwest or actix. Callers run the expensive parts (RSA key
//! generation) off the async threads.

pub mod secret;

pub use secret::Secret;

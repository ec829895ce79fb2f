//! All key and certificate work: key generation, the appliance CA and issuance, CMS, the DEP
//! server token key pair, secrets.
//!
//! Pure: no tokio, redb, reqwest or actix. Callers run the expensive parts (RSA key
//! generation) off the async threads.

pub mod ca;
pub mod chain;
pub mod cms;
pub mod jws;
pub mod mdm_signature;
pub mod oauth1;
#[cfg(test)]
pub(crate) mod openssl_cli;
pub mod push_cert;
pub mod scep;
pub mod secret;
pub mod sigverify;
pub mod token_keypair;

pub use secret::Secret;

/// `N` bytes from the operating system's CSPRNG.
pub fn random_bytes<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes).expect("the operating system random source is available");
    bytes
}

/// A random token of `N` bytes as URL-safe base64 without padding (session ids, setup codes,
/// API tokens, nonces).
pub fn random_token<const N: usize>() -> String {
    use base64ct::{Base64UrlUnpadded, Encoding};
    Base64UrlUnpadded::encode_string(&random_bytes::<N>())
}

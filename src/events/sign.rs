//! The signature a receiver checks (docs/webhooks.md "Verifying a delivery"):
//! `X-Adebox-Signature: v1=<hex HMAC-SHA256(secret, "<timestamp>.<body>")>` with
//! `X-Adebox-Timestamp: <unix seconds>`. The timestamp is inside the MAC, so a captured
//! delivery replayed later fails a receiver that refuses old timestamps.

use crate::crypto::Secret;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

pub const SIGNATURE_HEADER: &str = "X-Adebox-Signature";
pub const TIMESTAMP_HEADER: &str = "X-Adebox-Timestamp";
pub const EVENT_ID_HEADER: &str = "X-Adebox-Event-Id";
pub const TOPIC_HEADER: &str = "X-Adebox-Topic";
/// 1 for the first attempt; higher when the event is sent again (a retry, or a redelivery
/// after the appliance stopped before it recorded the previous answer).
pub const ATTEMPT_HEADER: &str = "X-Adebox-Attempt";

/// The value of [`SIGNATURE_HEADER`] for `body` sent at `timestamp`.
pub fn signature(secret: &Secret<String>, timestamp: i64, body: &[u8]) -> String {
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(secret.expose().as_bytes())
        .expect("HMAC takes a key of any size");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!("v1={}", hex::encode(mac.finalize().into_bytes()))
}

/// A new signing secret: 32 random bytes, base64url (`whsec_…`).
pub fn new_secret() -> Secret<String> {
    Secret::new(format!("whsec_{}", crate::crypto::random_token::<32>()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signature_matches_an_independent_computation() {
        // echo -n '1700000000.{"a":1}' | openssl dgst -sha256 -hmac 'k'
        let s = signature(&Secret::new("k".to_string()), 1_700_000_000, br#"{"a":1}"#);
        assert_eq!(s, "v1=1b6ad1bc9bf48c52ce01939866d5877c6cc4e87ddad27e16673cb8c4964394a3");
    }
}

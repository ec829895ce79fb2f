//! Organisations and server-token secrets on the simulated Apple side.
//!
//! Exposes [`Org`] (AccountDetail's `org_*` fields, dep-api.md §3.1), [`TokenSecrets`] (the
//! four OAuth credentials Apple keeps for a server token, §1.6) and their generation with
//! Apple's shapes. Pure.

use crate::apple::server_token::OAuthCredentials;
use crate::crypto::Secret;
use crate::rng::SimRng;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// An organisation in Apple Business Manager (AccountDetail `org_*`, dep-api.md §3.1).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Org {
    pub name: String,
    pub email: String,
    pub phone: String,
    pub address: String,
    pub id: String,
    pub id_hash: String,
    pub org_type: String,
    pub version: String,
}

/// The secrets of a server token, as Apple's side keeps them.
#[derive(Clone, Debug)]
pub struct TokenSecrets {
    pub consumer_key: String,
    pub consumer_secret: Secret<String>,
    pub access_token: Secret<String>,
    pub access_secret: Secret<String>,
    pub expiry: OffsetDateTime,
}

impl TokenSecrets {
    pub fn to_credentials(&self) -> OAuthCredentials {
        OAuthCredentials {
            consumer_key: self.consumer_key.clone(),
            consumer_secret: self.consumer_secret.clone(),
            access_token: self.access_token.clone(),
            access_secret: self.access_secret.clone(),
            access_token_expiry: self.expiry,
        }
    }
}

/// New token secrets in Apple's shapes (`CK_` + 96 hex, `AT_O<digits>O<hex>O<ms>`, …),
/// valid one year; `consumer_key` keeps an existing key (renewal).
pub fn new_token(
    rng: &mut SimRng,
    now: OffsetDateTime,
    consumer_key: Option<String>,
) -> TokenSecrets {
    let ms = (now.unix_timestamp_nanos() / 1_000_000) as i64;
    let digits = 1_000_000_000 + rng.below(9_000_000_000);
    TokenSecrets {
        consumer_key: consumer_key
            .unwrap_or_else(|| format!("CK_{}", rng.hex_upper(48).to_lowercase())),
        consumer_secret: Secret::new(format!("CS_{}", rng.hex_upper(20).to_lowercase())),
        access_token: Secret::new(format!(
            "AT_O{digits}O{}O{ms}",
            rng.hex_upper(20).to_lowercase()
        )),
        access_secret: Secret::new(format!("AS_{}", rng.hex_upper(20).to_lowercase())),
        // Apple's tokens are valid for one year (dep-api.md §1.6).
        expiry: (now + time::Duration::days(365)).replace_nanosecond(0).unwrap_or(now),
    }
}

/// A new organisation named `name`.
pub fn generate(name: &str, rng: &mut SimRng) -> Org {
    let slug: String =
        name.chars().filter(|c| c.is_ascii_alphanumeric()).collect::<String>().to_lowercase();
    let slug = if slug.is_empty() { "org".to_string() } else { slug };
    let id = 100_000 + rng.below(900_000);
    Org {
        name: name.to_string(),
        email: format!("it@{slug}.example"),
        phone: "+1 555 0100".to_string(),
        address: "1 Infinite Loop, Cupertino CA 95014".to_string(),
        id: id.to_string(),
        id_hash: rng.hex_upper(32).to_lowercase(),
        org_type: "org".to_string(),
        version: "v2".to_string(),
    }
}

//! API accounts and access tokens of the simulated Apple Business API (apple-2026.md §8.2,
//! §8.3).
//!
//! Owns [`Accounts`]: each account's client id (`BUSINESSAPI.<uuid>`), key id (a UUID) and
//! the public half of its P-256 key (the portal hands out the private half once, as Apple's
//! "Generate Private Key" does), whether it was revoked, and the opaque access tokens issued
//! to it with their expiry. Checking a client assertion is in `assertion.rs`. Pure: time comes
//! in as Unix seconds.

use crate::rng::SimRng;
use p256::ecdsa::VerifyingKey;
use p256::pkcs8::DecodePrivateKey;
use serde::Serialize;
use std::collections::HashMap;

/// An access token lives one hour (§8.3).
pub const TOKEN_TTL_SECS: i64 = 3600;

/// One API account.
#[derive(Clone, Debug)]
pub struct Account {
    pub name: String,
    pub client_id: String,
    pub key_id: String,
    pub key: VerifyingKey,
    pub revoked: bool,
}

/// What the portal hands out when it creates an account: the private key is shown only now.
#[derive(Clone, Debug, Serialize)]
pub struct NewAccount {
    pub name: String,
    pub client_id: String,
    pub key_id: String,
    /// PKCS#8 PEM of the P-256 key, as the portal's `.pem` download.
    pub private_key_pem: String,
}

/// Who an access token belongs to and until when.
#[derive(Clone, Debug)]
struct Issued {
    client_id: String,
    expires_at: i64,
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum AccountError {
    #[error("cannot make the account's key: {0}")]
    Key(String),
    #[error("no API account with client id `{0}`; list them with GET /portal/business/accounts")]
    Unknown(String),
}

/// Every API account of the organisation and the tokens handed out.
#[derive(Debug)]
pub struct Accounts {
    accounts: Vec<Account>,
    tokens: HashMap<String, Issued>,
    rng: SimRng,
}

/// An account as the portal lists it (no key material).
#[derive(Clone, Debug, Serialize)]
pub struct AccountView {
    pub name: String,
    pub client_id: String,
    pub key_id: String,
    pub revoked: bool,
}

fn uuid(rng: &mut SimRng) -> String {
    let h = rng.hex_upper(16).to_lowercase();
    format!("{}-{}-{}-{}-{}", &h[0..8], &h[8..12], &h[12..16], &h[16..20], &h[20..32])
}

impl Accounts {
    pub fn new(seed: u64) -> Accounts {
        Accounts { accounts: Vec::new(), tokens: HashMap::new(), rng: SimRng::new(seed) }
    }

    /// Creates an account with a fresh P-256 key ("Generate Private Key").
    pub fn create(&mut self, name: &str) -> Result<NewAccount, AccountError> {
        let pair = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)
            .map_err(|e| AccountError::Key(e.to_string()))?;
        let private_key_pem = pair.serialize_pem();
        let key = p256::SecretKey::from_pkcs8_pem(&private_key_pem)
            .map_err(|e| AccountError::Key(e.to_string()))?;
        let account = Account {
            name: name.to_string(),
            client_id: format!("BUSINESSAPI.{}", uuid(&mut self.rng)),
            key_id: uuid(&mut self.rng),
            key: VerifyingKey::from(key.public_key()),
            revoked: false,
        };
        let out = NewAccount {
            name: account.name.clone(),
            client_id: account.client_id.clone(),
            key_id: account.key_id.clone(),
            private_key_pem,
        };
        self.accounts.push(account);
        Ok(out)
    }

    pub fn get(&self, client_id: &str) -> Option<&Account> {
        self.accounts.iter().find(|a| a.client_id == client_id)
    }

    pub fn list(&self) -> Vec<AccountView> {
        self.accounts
            .iter()
            .map(|a| AccountView {
                name: a.name.clone(),
                client_id: a.client_id.clone(),
                key_id: a.key_id.clone(),
                revoked: a.revoked,
            })
            .collect()
    }

    /// Revokes an account: its tokens stop working and it can get no new ones.
    pub fn revoke(&mut self, client_id: &str) -> Result<(), AccountError> {
        let account = self
            .accounts
            .iter_mut()
            .find(|a| a.client_id == client_id)
            .ok_or_else(|| AccountError::Unknown(client_id.to_string()))?;
        account.revoked = true;
        self.tokens.retain(|_, t| t.client_id != client_id);
        Ok(())
    }

    /// Issues an opaque access token for one hour.
    pub fn issue(&mut self, client_id: &str, now: i64) -> String {
        let token = format!("sim-abapi-{}", self.rng.hex_upper(24).to_lowercase());
        self.tokens.retain(|_, t| t.expires_at > now);
        self.tokens.insert(
            token.clone(),
            Issued { client_id: client_id.to_string(), expires_at: now + TOKEN_TTL_SECS },
        );
        token
    }

    /// The client id of a valid access token.
    pub fn bearer(&self, token: &str, now: i64) -> Option<&str> {
        self.tokens.get(token).filter(|t| t.expires_at > now).map(|t| t.client_id.as_str())
    }
}

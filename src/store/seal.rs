//! Secret values at rest: every secret a record holds (a server token's OAuth secrets and
//! private key, the push certificate's key, a device's UnlockToken, …) is stored sealed with
//! XChaCha20-Poly1305 under the data key (`keys::KeyName::Data`, `<data_dir>/keys/data.key`,
//! outside the store file), so a copy of the store file alone reveals none of them.
//!
//! A sealed value is bound to where it belongs: the associated data names the table, the field
//! and the row key, so a value copied into another record, another field or another table does
//! not open (an attacker who can write the file cannot swap one token's secret into another's
//! record). Each value gets a fresh random 192-bit nonce (XChaCha's nonce is large enough for
//! random nonces under one key for any number of values). Stored as JSON
//! `{"sealed":"<base64 of version ‖ nonce ‖ ciphertext ‖ tag>"}`: an object, so a value in
//! clear (a JSON string, as schema 1 kept them) can never be mistaken for a sealed one.
//!
//! **Adding a secret** to a record is one line per field: declare where it lives,
//! `const BIND_PASSWORD: SecretField = SecretField::new("directory.by_id", "bind_password");`,
//! give the record field the type [`Sealed`] (or `Option<Sealed>`), and go through the
//! store's [`Sealer`] (`store.sealer()`): `sealer.seal(BIND_PASSWORD, row_key, &secret)` when
//! writing the record under `row_key`, `sealer.open(BIND_PASSWORD, row_key, &sealed)?` when
//! using it. A field new to the store needs no migration; one that existed in clear needs a
//! migration step like `migrate::seal_schema_1_secrets`.

use super::StoreError;
use crate::crypto::Secret;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// The version byte of values sealed with XChaCha20-Poly1305 (the only one so far).
const V1: u8 = 1;
const NONCE_LEN: usize = 24;
const TAG_LEN: usize = 16;

/// Where a sealed value lives: its table and field (a dotted JSON path in the record).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SecretField {
    table: &'static str,
    field: &'static str,
}

impl SecretField {
    pub const fn new(table: &'static str, field: &'static str) -> SecretField {
        SecretField { table, field }
    }

    pub fn table(&self) -> &'static str {
        self.table
    }

    pub fn field(&self) -> &'static str {
        self.field
    }

    /// The associated data: version, table, field and row, so a value opens only where it
    /// was sealed. Table and field names hold no NUL; the row comes last, so no two places
    /// share an encoding.
    fn associated_data(&self, row: &[u8]) -> Vec<u8> {
        let mut ad = Vec::with_capacity(32 + self.table.len() + self.field.len() + row.len());
        ad.extend_from_slice(b"adebox.sealed\0");
        ad.push(V1);
        for part in [self.table.as_bytes(), self.field.as_bytes()] {
            ad.extend_from_slice(part);
            ad.push(0);
        }
        ad.extend_from_slice(row);
        ad
    }
}

/// A secret value as stored: version, nonce and ciphertext. Its Debug shows nothing.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Sealed {
    #[serde(with = "base64_bytes")]
    sealed: Vec<u8>,
}

impl std::fmt::Debug for Sealed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Sealed(..)")
    }
}

impl Sealed {
    /// Whether a stored JSON value is a sealed value (rather than a value in clear).
    pub fn is_sealed_json(value: &serde_json::Value) -> bool {
        value.as_object().is_some_and(|o| o.len() == 1 && o.contains_key("sealed"))
    }
}

/// Why a sealed value did not open.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// Too short, or a version this build does not know.
    Malformed,
    /// The tag did not verify: another key sealed it, it belongs elsewhere, or it was altered.
    NotAuthentic,
}

impl Refusal {
    pub fn words(self) -> &'static str {
        match self {
            Refusal::Malformed => "the sealed value is malformed or of an unknown version",
            Refusal::NotAuthentic => {
                "it was sealed with another data key, belongs to another record, or was altered"
            }
        }
    }
}

/// Seals and opens secret values with the data key; cheap to clone (the store hands one out,
/// [`super::Store::sealer`]). Its Debug shows nothing of the key.
#[derive(Clone)]
pub struct Sealer {
    cipher: Arc<XChaCha20Poly1305>,
}

impl std::fmt::Debug for Sealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Sealer(..)")
    }
}

impl Sealer {
    pub fn new(key: &crate::keys::Key) -> Sealer {
        let key = chacha20poly1305::Key::from(*key.expose());
        Sealer { cipher: Arc::new(XChaCha20Poly1305::new(&key)) }
    }

    /// Seals `value` for `field` of the record stored under `row`.
    pub fn seal(&self, field: SecretField, row: &[u8], value: &Secret<String>) -> Sealed {
        Sealed { sealed: self.seal_bytes(&field.associated_data(row), value.expose().as_bytes()) }
    }

    /// [`Sealer::seal`] for an optional field.
    pub fn seal_opt(
        &self,
        field: SecretField,
        row: &[u8],
        value: Option<&Secret<String>>,
    ) -> Option<Sealed> {
        value.map(|v| self.seal(field, row, v))
    }

    /// Opens the value sealed for `field` of the record stored under `row`.
    pub fn open(
        &self,
        field: SecretField,
        row: &[u8],
        sealed: &Sealed,
    ) -> Result<Secret<String>, StoreError> {
        let refused = |reason: Refusal| StoreError::Unseal {
            table: field.table,
            field: field.field,
            reason: reason.words(),
        };
        let bytes = zeroize::Zeroizing::new(
            self.open_bytes(&field.associated_data(row), &sealed.sealed).map_err(refused)?,
        );
        let text = std::str::from_utf8(&bytes).map_err(|_| refused(Refusal::Malformed))?;
        Ok(Secret::new(text.to_string()))
    }

    /// [`Sealer::open`] for an optional field.
    pub fn open_opt(
        &self,
        field: SecretField,
        row: &[u8],
        sealed: Option<&Sealed>,
    ) -> Result<Option<Secret<String>>, StoreError> {
        sealed.map(|s| self.open(field, row, s)).transpose()
    }

    /// Seals bytes under `ad`: `V1 ‖ nonce ‖ ciphertext ‖ tag` (also the backup's envelope).
    pub fn seal_bytes(&self, ad: &[u8], plaintext: &[u8]) -> Vec<u8> {
        let nonce = crate::crypto::random_bytes::<NONCE_LEN>();
        let ciphertext = self
            .cipher
            .encrypt(&XNonce::from(nonce), Payload { msg: plaintext, aad: ad })
            .expect("XChaCha20-Poly1305 seals any value shorter than 256 GiB");
        let mut out = Vec::with_capacity(1 + NONCE_LEN + ciphertext.len());
        out.push(V1);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&ciphertext);
        out
    }

    /// Opens what [`Sealer::seal_bytes`] made under the same key and `ad`.
    pub fn open_bytes(&self, ad: &[u8], sealed: &[u8]) -> Result<Vec<u8>, Refusal> {
        if sealed.len() < 1 + NONCE_LEN + TAG_LEN || sealed[0] != V1 {
            return Err(Refusal::Malformed);
        }
        let nonce: [u8; NONCE_LEN] =
            sealed[1..1 + NONCE_LEN].try_into().map_err(|_| Refusal::Malformed)?;
        self.cipher
            .decrypt(&XNonce::from(nonce), Payload { msg: &sealed[1 + NONCE_LEN..], aad: ad })
            .map_err(|_| Refusal::NotAuthentic)
    }
}

/// The sealed value `store.meta` keeps to tell, at open, whether the data key beside the
/// store is the one that sealed its secrets (a clear error then, instead of every token
/// failing later).
pub(super) const KEY_CHECK: SecretField = SecretField::new("store.meta", "data_key_check");
const KEY_CHECK_TEXT: &str = "adebox data key check";

pub(super) fn key_check(sealer: &Sealer) -> Sealed {
    sealer.seal(KEY_CHECK, b"", &Secret::new(KEY_CHECK_TEXT.to_string()))
}

pub(super) fn key_fits(sealer: &Sealer, check: &Sealed) -> bool {
    sealer.open(KEY_CHECK, b"", check).is_ok_and(|t| t.expose() == KEY_CHECK_TEXT)
}

mod base64_bytes {
    use base64ct::{Base64, Encoding};

    pub fn serialize<S: serde::Serializer>(bytes: &[u8], ser: S) -> Result<S::Ok, S::Error> {
        ser.serialize_str(&Base64::encode_string(bytes))
    }

    pub fn deserialize<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let s: String = serde::Deserialize::deserialize(d)?;
        Base64::decode_vec(&s).map_err(serde::de::Error::custom)
    }
}

/// Seals, in place, the values in clear at `paths` (dotted) of a stored JSON record kept under
/// `row` of `table`; values already sealed and absent or null ones are left. Returns whether
/// anything changed. For migrations, which must not depend on today's record types.
pub(super) fn seal_json_fields(
    sealer: &Sealer,
    table: &'static str,
    paths: &[&'static str],
    row: &[u8],
    record: &mut serde_json::Value,
) -> bool {
    let mut changed = false;
    for &path in paths {
        let mut at = Some(&mut *record);
        for part in path.split('.') {
            at = at.and_then(|v| v.get_mut(part));
        }
        let Some(value) = at else { continue };
        if let serde_json::Value::String(clear) = value {
            let secret = Secret::new(std::mem::take(clear));
            let sealed = sealer.seal(SecretField::new(table, path), row, &secret);
            *value = serde_json::to_value(&sealed).expect("a sealed value is plain JSON");
            changed = true;
        }
    }
    changed
}

#[cfg(test)]
mod tests;

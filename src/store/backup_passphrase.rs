//! The backup passphrase: the files a backup carries (the key folder with the data and audit
//! keys, the TLS and enrollment private keys) are sealed under a key derived from it, so a
//! backup file alone opens none of them, nor, without the data key, the secrets sealed in the
//! store copy it holds.
//!
//! The key is argon2id (RFC 9106) of the passphrase with a random 128-bit salt, 64 MiB, three
//! passes, one lane (RFC 9106 §4's second recommendation, with one lane for a 2-core box);
//! the parameters travel in the backup (`backup.envelope`, key `kdf`), so a later adebox can
//! raise them and still restore older backups. Each carried file is sealed with
//! XChaCha20-Poly1305 ([`super::seal`]) bound to its name; a sealed check value tells a wrong
//! passphrase (every file refused) from a damaged file (one refused).

use super::StoreError;
use super::seal::Sealer;
use crate::crypto::Secret;
use base64ct::{Base64, Encoding};
use serde::{Deserialize, Serialize};

/// Fewest characters of a new backup's passphrase: it is all that guards the keys of a
/// backup stored off the box, against offline guessing.
pub const MIN_PASSPHRASE_CHARS: usize = 12;

const M_KIB: u32 = 64 * 1024;
const T_COST: u32 = 3;
const P_COST: u32 = 1;
/// Bounds for parameters read from a backup (a backup file is input): refuse rather than
/// spend gigabytes or minutes on a hostile file.
const MAX_M_KIB: u32 = 1024 * 1024;
const MAX_T_COST: u32 = 16;
const MAX_P_COST: u32 = 8;

const CHECK_AD: &[u8] = b"adebox.backup\0check";
const CHECK_TEXT: &[u8] = b"adebox backup passphrase check";

/// How the passphrase became the key, as stored in the backup.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct Kdf {
    alg: String,
    m_kib: u32,
    t: u32,
    p: u32,
    salt: String,
}

/// The key a backup's carried files are sealed with.
pub(super) struct BackupKey {
    sealer: Sealer,
}

/// Refuses a passphrase too short for a new backup, naming the rule.
pub fn check_new_passphrase(passphrase: &Secret<String>) -> Result<(), StoreError> {
    if passphrase.expose().chars().count() < MIN_PASSPHRASE_CHARS {
        return Err(StoreError::Passphrase(format!(
            "the backup passphrase must have at least {MIN_PASSPHRASE_CHARS} characters: it \
             alone protects the keys the backup carries"
        )));
    }
    Ok(())
}

impl BackupKey {
    /// A key for a new backup, with a fresh salt; also returns what to store to derive it again.
    pub(super) fn new(passphrase: &Secret<String>) -> Result<(Kdf, BackupKey), StoreError> {
        check_new_passphrase(passphrase)?;
        let kdf = Kdf {
            alg: "argon2id".into(),
            m_kib: M_KIB,
            t: T_COST,
            p: P_COST,
            salt: Base64::encode_string(&crate::crypto::random_bytes::<16>()),
        };
        let key = BackupKey::derive(passphrase, &kdf)?;
        Ok((kdf, key))
    }

    /// The key of an existing backup, from the parameters it stores.
    pub(super) fn derive(passphrase: &Secret<String>, kdf: &Kdf) -> Result<BackupKey, StoreError> {
        let malformed = |what: &str| {
            StoreError::Passphrase(format!(
                "the backup's key derivation is not one this adebox reads ({what})"
            ))
        };
        if kdf.alg != "argon2id" {
            return Err(malformed(&kdf.alg));
        }
        if kdf.m_kib > MAX_M_KIB || kdf.t > MAX_T_COST || kdf.p > MAX_P_COST {
            return Err(malformed("cost parameters out of bounds"));
        }
        let salt = Base64::decode_vec(&kdf.salt).map_err(|_| malformed("salt"))?;
        let params = argon2::Params::new(kdf.m_kib, kdf.t, kdf.p, Some(crate::keys::KEY_LEN))
            .map_err(|e| malformed(&e.to_string()))?;
        let argon =
            argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params);
        let mut out = zeroize::Zeroizing::new([0u8; crate::keys::KEY_LEN]);
        argon
            .hash_password_into(passphrase.expose().as_bytes(), &salt, out.as_mut_slice())
            .map_err(|e| malformed(&e.to_string()))?;
        Ok(BackupKey { sealer: Sealer::new(&Secret::new(*out)) })
    }

    /// The check value stored beside the carried files.
    pub(super) fn check(&self) -> Vec<u8> {
        self.sealer.seal_bytes(CHECK_AD, CHECK_TEXT)
    }

    /// Whether `check` was made with this key (the right passphrase).
    pub(super) fn fits(&self, check: &[u8]) -> bool {
        self.sealer.open_bytes(CHECK_AD, check).is_ok_and(|t| t == CHECK_TEXT)
    }

    pub(super) fn seal_file(&self, name: &str, bytes: &[u8]) -> Vec<u8> {
        self.sealer.seal_bytes(&file_ad(name), bytes)
    }

    pub(super) fn open_file(&self, name: &str, sealed: &[u8]) -> Option<Vec<u8>> {
        self.sealer.open_bytes(&file_ad(name), sealed).ok()
    }
}

fn file_ad(name: &str) -> Vec<u8> {
    let mut ad = b"adebox.backup\0file\0".to_vec();
    ad.extend_from_slice(name.as_bytes());
    ad
}

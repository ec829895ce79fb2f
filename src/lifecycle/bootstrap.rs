//! The bootstrap token a device escrows (`../shared/spec/apple-2026.md` §3): stored per UDID,
//! sealed with the data key (`store::seal`), opaque and verbatim, never logged or shown.
//!
//! Kept across re-enrollments of the same UDID (§2.6: the device sends it only during initial
//! setup, yet Return to Service needs it later), replaced by a newer one, deleted by an empty
//! `SetBootstrapToken`, a CheckOut or an erase adebox sent.

use crate::crypto::Secret;
use crate::ids::Udid;
use crate::store::{self, Sealed, Sealer, SecretField, StoreError, Table};
use base64ct::{Base64, Encoding};
use redb::{ReadTransaction, WriteTransaction};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// UDID (upper case) → [`BootstrapRec`].
pub const BOOTSTRAP_TOKENS: Table = store::table("lifecycle.bootstrap_tokens");

/// The token itself, base64, sealed and bound to the UDID row.
pub const TOKEN: SecretField = SecretField::new("lifecycle.bootstrap_tokens", "token");

/// Largest token accepted. Real ones are a few hundred bytes; the limit keeps a device from
/// parking megabytes in the store (the rule: ≤ 64 KiB).
pub const MAX_TOKEN_BYTES: usize = 64 * 1024;

#[derive(Clone, Debug, Serialize, Deserialize)]
struct BootstrapRec {
    v: u8,
    token: Sealed,
    len: usize,
    #[serde(with = "time::serde::rfc3339")]
    escrowed_at: OffsetDateTime,
    /// Sent while Setup Assistant waited for final configuration.
    awaiting_configuration: bool,
}

/// What the device page shows: whether a token is escrowed and when, never the token.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Escrow {
    #[serde(with = "time::serde::rfc3339")]
    pub escrowed_at: OffsetDateTime,
    pub awaiting_configuration: bool,
}

/// Why a `SetBootstrapToken` was refused.
#[derive(Debug, thiserror::Error)]
pub enum BootstrapError {
    #[error(
        "the bootstrap token is {len} bytes, over the {MAX_TOKEN_BYTES}-byte limit; nothing was stored"
    )]
    TooLarge { len: usize },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Stores `token` for `udid` (replacing any older one), or deletes it when `token` is empty:
/// Apple's way of saying "no token" (§3.2).
pub fn set_in(
    wtx: &WriteTransaction,
    sealer: &Sealer,
    udid: &Udid,
    token: &[u8],
    awaiting_configuration: bool,
    now: OffsetDateTime,
) -> Result<(), BootstrapError> {
    if token.len() > MAX_TOKEN_BYTES {
        return Err(BootstrapError::TooLarge { len: token.len() });
    }
    let key = udid.key();
    let mut table = wtx.open_table(BOOTSTRAP_TOKENS).map_err(StoreError::from)?;
    if token.is_empty() {
        table.remove(key.as_bytes()).map_err(StoreError::from)?;
        return Ok(());
    }
    let secret = Secret::new(Base64::encode_string(token));
    let rec = BootstrapRec {
        v: 1,
        token: sealer.seal(TOKEN, key.as_bytes(), &secret),
        len: token.len(),
        escrowed_at: now,
        awaiting_configuration,
    };
    store::put(&mut table, key.as_bytes(), &rec)?;
    Ok(())
}

/// Deletes `udid`'s token; whether there was one.
pub fn delete_in(wtx: &WriteTransaction, udid: &Udid) -> Result<bool, StoreError> {
    let mut table = wtx.open_table(BOOTSTRAP_TOKENS)?;
    Ok(table.remove(udid.key().as_bytes())?.is_some())
}

/// The exact bytes the device escrowed, if any (for `GetBootstrapToken` and Return to
/// Service).
pub fn token_in(
    wtx: &WriteTransaction,
    sealer: &Sealer,
    udid: &Udid,
) -> Result<Option<Secret<Vec<u8>>>, StoreError> {
    let key = udid.key();
    let table = wtx.open_table(BOOTSTRAP_TOKENS)?;
    let Some(rec) = store::get::<BootstrapRec, _>(&table, key.as_bytes())? else {
        return Ok(None);
    };
    let text = sealer.open(TOKEN, key.as_bytes(), &rec.token)?;
    let bytes = Base64::decode_vec(text.expose()).map_err(|_| StoreError::Unseal {
        table: TOKEN.table(),
        field: TOKEN.field(),
        reason: "the opened value is not base64",
    })?;
    Ok(Some(Secret::new(bytes)))
}

/// Whether `udid` has a token escrowed, and since when.
pub fn escrow_in(rtx: &ReadTransaction, udid: &Udid) -> Result<Option<Escrow>, StoreError> {
    let table = rtx.open_table(BOOTSTRAP_TOKENS)?;
    Ok(store::get::<BootstrapRec, _>(&table, udid.key().as_bytes())?.map(|r| Escrow {
        escrowed_at: r.escrowed_at,
        awaiting_configuration: r.awaiting_configuration,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;
    use time::macros::datetime;

    const NOW: OffsetDateTime = datetime!(2026-12-07 09:00 UTC);

    fn store() -> (tempfile::TempDir, Store, Udid) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path(), &[super::super::TABLES]).unwrap();
        (dir, store, Udid::parse("0000FE00-1234").unwrap())
    }

    #[test]
    fn a_token_round_trips_sealed_and_an_empty_one_deletes_it() {
        let (_dir, store, udid) = store();
        let sealer = store.sealer().clone();
        let token: Vec<u8> = (0..=255u8).cycle().take(3000).collect();
        store
            .write_blocking(|w| {
                set_in(w, &sealer, &udid, &token, true, NOW)?;
                assert_eq!(token_in(w, &sealer, &udid)?.unwrap().expose(), &token);
                Ok::<_, BootstrapError>(())
            })
            .unwrap();
        let raw = std::fs::read(store.path()).unwrap();
        let b64 = Base64::encode_string(&token[..600]);
        assert!(!raw.windows(64).any(|w| w == &b64.as_bytes()[..64]), "sealed at rest");
        let escrow = store.read_blocking(|r| escrow_in(r, &udid)).unwrap();
        assert_eq!(escrow, Some(Escrow { escrowed_at: NOW, awaiting_configuration: true }));
        store
            .write_blocking(|w| {
                set_in(w, &sealer, &udid, &[], false, NOW)?;
                assert!(token_in(w, &sealer, &udid)?.is_none());
                Ok::<_, BootstrapError>(())
            })
            .unwrap();
    }

    #[test]
    fn a_token_over_64_kib_is_refused_and_the_old_one_kept() {
        let (_dir, store, udid) = store();
        let sealer = store.sealer().clone();
        store
            .write_blocking(|w| {
                set_in(w, &sealer, &udid, b"old", false, NOW)?;
                let err = set_in(w, &sealer, &udid, &vec![1; MAX_TOKEN_BYTES + 1], false, NOW);
                assert!(matches!(err, Err(BootstrapError::TooLarge { len }) if len == MAX_TOKEN_BYTES + 1));
                assert_eq!(token_in(w, &sealer, &udid)?.unwrap().expose(), b"old");
                Ok::<_, BootstrapError>(())
            })
            .unwrap();
    }
}

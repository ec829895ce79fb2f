//! Key pairs handed out for tokens not uploaded yet.

use super::records::{PENDING, PENDING_KEY, PendingKeyRecord, TOKENS};
use super::{PendingKeyInfo, TokenError, TokenId, Tokens};
use crate::audit::{self, Action, Actor, NewEntry, Outcome};
use crate::store;
use redb::ReadableTable;

/// The certificate's subject names the appliance so the admin recognises it in ABM.
const CERT_COMMON_NAME: &str = "adebox DEP token key";

/// At most this many pending keys: each is a 2048-bit RSA key generation, and an admin never
/// needs more than a handful in flight.
const MAX_PENDING: usize = 50;

impl Tokens {
    /// Makes a new RSA-2048 key pair and its certificate for Apple Business Manager.
    pub async fn create_pending_key(
        &self,
        actor: Actor,
        for_token: Option<TokenId>,
    ) -> Result<PendingKeyInfo, TokenError> {
        if let Some(t) = &for_token {
            self.get(t).await?;
        }
        if self.list_pending_keys().await?.len() >= MAX_PENDING {
            return Err(TokenError::Validation {
                field: "key",
                message: format!(
                    "there are already {MAX_PENDING} unused public keys; discard the ones you do not need"
                ),
            });
        }
        let now = self.now();
        let pair = tokio::task::spawn_blocking(move || {
            crate::crypto::token_keypair::generate(CERT_COMMON_NAME, now)
        })
        .await
        .map_err(|_| store::StoreError::TaskFailed)?
        .map_err(|e| TokenError::Validation { field: "key", message: e.to_string() })?;
        let id = crate::crypto::random_token::<6>();
        let record = PendingKeyRecord {
            key_pem: self.inner.store.sealer().seal(PENDING_KEY, id.as_bytes(), &pair.key_pem),
            id,
            cert_pem: pair.cert_pem,
            fingerprint_sha256: pair.fingerprint_sha256,
            created_at: now,
            created_by: actor.label(),
            for_token,
        };
        let info = PendingKeyInfo::from(&record);
        self.inner
            .store
            .write(move |wtx| {
                store::put(&mut wtx.open_table(PENDING)?, record.id.as_bytes(), &record)?;
                audit::record_in(
                    wtx,
                    NewEntry::new(now, actor, Action::TokenKeyCreate, Outcome::Success)
                        .target(record.id.clone())
                        .detail(format!("public key {}", record.fingerprint_sha256)),
                )?;
                Ok::<_, TokenError>(())
            })
            .await?;
        Ok(info)
    }

    pub async fn list_pending_keys(&self) -> Result<Vec<PendingKeyInfo>, TokenError> {
        let mut keys: Vec<PendingKeyInfo> = self
            .inner
            .store
            .read(|rtx| {
                let t = rtx.open_table(PENDING)?;
                let mut out = Vec::new();
                for row in t.iter()? {
                    let (_, v) = row?;
                    let r: PendingKeyRecord = store::decode("tokens.pending_keys", v.value())?;
                    out.push(PendingKeyInfo::from(&r));
                }
                Ok::<_, TokenError>(out)
            })
            .await?;
        keys.sort_by_key(|k| std::cmp::Reverse(k.created_at));
        Ok(keys)
    }

    /// The certificate (PEM) to upload in Apple Business Manager.
    pub async fn pending_key_certificate(&self, id: &str) -> Result<String, TokenError> {
        Ok(self.pending_key(id).await?.cert_pem)
    }

    pub(super) async fn pending_key(&self, id: &str) -> Result<PendingKeyRecord, TokenError> {
        let key = id.to_string();
        let found: Option<PendingKeyRecord> = self
            .inner
            .store
            .read(move |rtx| {
                let t = rtx.open_table(PENDING)?;
                Ok::<_, TokenError>(store::get(&t, key.as_bytes())?)
            })
            .await?;
        found.ok_or_else(|| {
            TokenError::NotFound(format!(
                "public key {id} (it was used for a token or discarded; make a new one)"
            ))
        })
    }

    /// Throws a pending key away.
    pub async fn discard_pending_key(&self, actor: Actor, id: &str) -> Result<(), TokenError> {
        let now = self.now();
        let id = id.to_string();
        self.inner
            .store
            .write(move |wtx| {
                let removed = wtx.open_table(PENDING)?.remove(id.as_bytes())?.is_some();
                if !removed {
                    return Err(TokenError::NotFound(format!("public key {id}")));
                }
                audit::record_in(
                    wtx,
                    NewEntry::new(now, actor, Action::TokenKeyDiscard, Outcome::Success).target(id),
                )?;
                Ok(())
            })
            .await
    }

    /// The current certificate of a token (to upload again when renewing with the same key).
    pub async fn token_certificate(&self, token_id: &TokenId) -> Result<String, TokenError> {
        let key = token_id.to_string();
        let cert: Option<String> = self
            .inner
            .store
            .read(move |rtx| {
                let t = rtx.open_table(TOKENS)?;
                Ok::<_, TokenError>(
                    store::get::<super::records::TokenRecord, _>(&t, key.as_bytes())?
                        .map(|r| r.cert_pem),
                )
            })
            .await?;
        cert.ok_or_else(|| TokenError::NotFound(format!("token {token_id}")))
    }
}

//! Adding, renewing, listing and deleting tokens.

use super::records::{
    AccountRecord, CredentialsRecord, PENDING, PENDING_KEY, PendingKeyRecord, TOKEN_KEY, TOKENS,
    TokenProblem, TokenRecord,
};
use super::view::EXPIRY_WARNING;
use super::{ExpiryState, TokenError, TokenEvent, TokenId, TokenView, Tokens};
use crate::apple::dep::AccountDetail;
use crate::apple::server_token::{self, OAuthCredentials};
use crate::audit::{self, Action, Actor, NewEntry, Outcome};
use crate::crypto::Secret;
use crate::store;
use redb::ReadableTable;
use time::Duration;

/// Largest `.p7m` accepted (a real token is about 1.5 KB).
pub const MAX_TOKEN_BYTES: usize = 64 * 1024;

fn check_apple_id(apple_id: &str) -> Result<String, TokenError> {
    let a = apple_id.trim();
    let looks_right = a.len() <= 254
        && a.split_once('@').is_some_and(|(user, domain)| !user.is_empty() && domain.contains('.'))
        && !a.chars().any(|c| c.is_whitespace() || c.is_control());
    if looks_right {
        Ok(a.to_string())
    } else {
        Err(TokenError::Validation {
            field: "apple_id",
            message: "enter the Apple Account (an email address) that downloaded this token in Apple Business Manager; renewals must use the same one".into(),
        })
    }
}

fn decrypt(
    p7m: &[u8],
    key_pem: &Secret<String>,
    now: time::OffsetDateTime,
) -> Result<OAuthCredentials, TokenError> {
    if p7m.len() > MAX_TOKEN_BYTES {
        return Err(TokenError::Validation {
            field: "token",
            message: format!(
                "this file is {} KB; an Apple server token is about 2 KB (upload the .p7m file)",
                p7m.len() / 1024
            ),
        });
    }
    let key = crate::crypto::token_keypair::load_rsa_private_key(key_pem.expose().as_bytes())
        .map_err(|e| TokenError::Validation {
            field: "token",
            message: format!("the stored key cannot be read: {e}"),
        })?;
    let creds = server_token::decrypt(p7m, &key)
        .map_err(|e| TokenError::Validation { field: "token", message: e.to_string() })?;
    server_token::check_not_expired(&creds, now)
        .map_err(|e| TokenError::Validation { field: "token", message: e.to_string() })?;
    Ok(creds)
}

fn open_pending_key(
    sealer: &store::Sealer,
    pending: &PendingKeyRecord,
) -> Result<Secret<String>, TokenError> {
    Ok(sealer.open(PENDING_KEY, pending.id.as_bytes(), &pending.key_pem)?)
}

impl Tokens {
    async fn ask_apple(
        &self,
        base_url: String,
        creds: OAuthCredentials,
    ) -> Result<AccountDetail, TokenError> {
        (self.inner.check)(base_url, creds).await.map_err(|f| {
            if f.transient {
                TokenError::AppleUnreachable(f.message)
            } else {
                TokenError::Refused { code: f.code, message: f.message }
            }
        })
    }

    /// Adds a token: decrypts it with the pending key, checks it with Apple, stores it.
    pub async fn add(
        &self,
        actor: Actor,
        key_id: &str,
        p7m: &[u8],
        apple_id: &str,
    ) -> Result<TokenView, TokenError> {
        let apple_id = check_apple_id(apple_id)?;
        let pending = self.pending_key(key_id).await?;
        let sealer = self.inner.store.sealer();
        let key_pem = open_pending_key(sealer, &pending)?;
        let now = self.now();
        let creds = decrypt(p7m, &key_pem, now)?;
        let base_url = self.inner.base_url.clone();
        let account = self.ask_apple(base_url.clone(), creds.clone()).await?;
        let id = TokenId::generate();
        let record = TokenRecord {
            credentials: CredentialsRecord::seal(&creds, sealer, &id),
            key_pem: sealer.seal(TOKEN_KEY, id.as_bytes(), &key_pem),
            id,
            account: AccountRecord::from(&account),
            apple_id: Some(apple_id),
            cert_pem: pending.cert_pem.clone(),
            base_url,
            added_at: now,
            renewed_at: None,
            problem: None,
        };
        let view = TokenView::from_record(&record, now);
        let id = record.id.clone();
        self.inner
            .store
            .write(move |wtx| {
                let mut tokens = wtx.open_table(TOKENS)?;
                for row in tokens.iter()? {
                    let (_, v) = row?;
                    let other: TokenRecord = store::decode("tokens.by_id", v.value())?;
                    if other.account.server_uuid.eq_ignore_ascii_case(&record.account.server_uuid) {
                        return Err(TokenError::AlreadyAdded {
                            id: other.id,
                            server_name: other.account.server_name,
                        });
                    }
                }
                store::put(&mut tokens, record.id.as_bytes(), &record)?;
                wtx.open_table(PENDING)?.remove(pending.id.as_bytes())?;
                audit::record_in(
                    wtx,
                    NewEntry::new(now, actor, Action::TokenAdd, Outcome::Success)
                        .target(format!("{} ({})", record.account.server_name, record.id))
                        .detail(format!(
                            "expires {}",
                            record.credentials.access_token_expiry.date()
                        )),
                )?;
                Ok(())
            })
            .await?;
        self.emit(TokenEvent::Added(id));
        Ok(view)
    }

    /// Renews a token in stages: the new one must decrypt, authenticate and name the same MDM
    /// server before it replaces the old one, which keeps working until then. Without
    /// `key_id`, the token's current key is tried (ABM encrypts a renewed token to the key
    /// uploaded last).
    pub async fn renew(
        &self,
        actor: Actor,
        token_id: &TokenId,
        key_id: Option<&str>,
        p7m: &[u8],
        apple_id: Option<&str>,
    ) -> Result<TokenView, TokenError> {
        let apple_id = apple_id.filter(|a| !a.trim().is_empty()).map(check_apple_id).transpose()?;
        let current = self.record(token_id).await?;
        let now = self.now();
        let pending = match key_id {
            Some(k) => Some(self.pending_key(k).await?),
            None => None,
        };
        let sealer = self.inner.store.sealer();
        let key_pem = match &pending {
            Some(p) => open_pending_key(sealer, p)?,
            None => sealer.open(TOKEN_KEY, current.id.as_bytes(), &current.key_pem)?,
        };
        let creds = decrypt(p7m, &key_pem, now).map_err(|e| match (e, pending.is_some()) {
            (TokenError::Validation { field, message }, false) if message.contains("different public key") => TokenError::Validation {
                field,
                message: format!("{message}. If you uploaded a new public key in Apple Business Manager, choose it when renewing"),
            },
            (e, _) => e,
        })?;
        let account = self.ask_apple(current.base_url.clone(), creds.clone()).await?;
        if !account.server_uuid.eq_ignore_ascii_case(&current.account.server_uuid) {
            return Err(TokenError::ForeignServer {
                expected_name: current.account.server_name.clone(),
                expected_uuid: current.account.server_uuid.clone(),
                got_name: account.server_name,
                got_uuid: account.server_uuid,
            });
        }
        let mut record = current;
        record.account = AccountRecord::from(&account);
        record.credentials = CredentialsRecord::seal(&creds, sealer, &record.id);
        if let Some(p) = &pending {
            record.key_pem = sealer.seal(TOKEN_KEY, record.id.as_bytes(), &key_pem);
            record.cert_pem = p.cert_pem.clone();
        }
        if apple_id.is_some() {
            record.apple_id = apple_id;
        }
        record.renewed_at = Some(now);
        record.problem = None;
        let view = TokenView::from_record(&record, now);
        let id = record.id.clone();
        self.inner
            .store
            .write(move |wtx| {
                let mut tokens = wtx.open_table(TOKENS)?;
                if tokens.get(record.id.as_bytes())?.is_none() {
                    return Err(TokenError::NotFound(format!("token {}", record.id)));
                }
                store::put(&mut tokens, record.id.as_bytes(), &record)?;
                if let Some(p) = &pending {
                    wtx.open_table(PENDING)?.remove(p.id.as_bytes())?;
                }
                audit::record_in(
                    wtx,
                    NewEntry::new(now, actor, Action::TokenRenew, Outcome::Success)
                        .target(format!("{} ({})", record.account.server_name, record.id))
                        .detail(format!(
                            "now expires {}",
                            record.credentials.access_token_expiry.date()
                        )),
                )?;
                Ok(())
            })
            .await?;
        self.emit(TokenEvent::Renewed(id));
        Ok(view)
    }

    pub(super) async fn record(&self, id: &TokenId) -> Result<TokenRecord, TokenError> {
        let key = id.to_string();
        let found: Option<TokenRecord> = self
            .inner
            .store
            .read(move |rtx| {
                let t = rtx.open_table(TOKENS)?;
                Ok::<_, TokenError>(store::get(&t, key.as_bytes())?)
            })
            .await?;
        found.ok_or_else(|| TokenError::NotFound(format!("token {id}")))
    }

    pub async fn get(&self, id: &TokenId) -> Result<TokenView, TokenError> {
        let r = self.record(id).await?;
        Ok(TokenView::from_record(&r, self.now()))
    }

    /// Every token, soonest expiry first.
    pub async fn list(&self) -> Result<Vec<TokenView>, TokenError> {
        let now = self.now();
        let mut out: Vec<TokenView> = self
            .inner
            .store
            .read(move |rtx| {
                let t = rtx.open_table(TOKENS)?;
                let mut out = Vec::new();
                for row in t.iter()? {
                    let (_, v) = row?;
                    out.push(TokenView::from_record(
                        &store::decode("tokens.by_id", v.value())?,
                        now,
                    ));
                }
                Ok::<_, TokenError>(out)
            })
            .await?;
        out.sort_by_key(|t| t.expires_at);
        Ok(out)
    }

    /// What a DEP client for this token needs: the base URL and the credentials.
    pub async fn credentials(
        &self,
        id: &TokenId,
    ) -> Result<(String, OAuthCredentials), TokenError> {
        let r = self.record(id).await?;
        let credentials = r.credentials.open(self.inner.store.sealer(), &r.id)?;
        Ok((r.base_url.clone(), credentials))
    }

    /// Records (or clears, with `None`) what Apple last said is wrong with a token.
    pub async fn set_problem(
        &self,
        id: &TokenId,
        problem: Option<TokenProblem>,
    ) -> Result<(), TokenError> {
        let id = id.to_string();
        self.inner
            .store
            .write(move |wtx| {
                let mut t = wtx.open_table(TOKENS)?;
                let Some(mut r): Option<TokenRecord> = store::get(&t, id.as_bytes())? else {
                    return Ok(());
                };
                let same = match (&r.problem, &problem) {
                    (Some(a), Some(b)) => a.code == b.code && a.message == b.message,
                    (None, None) => true,
                    _ => false,
                };
                if !same {
                    r.problem = problem;
                    store::put(&mut t, id.as_bytes(), &r)?;
                }
                Ok::<_, TokenError>(())
            })
            .await
    }

    /// Deletes a token when nothing uses it any more; otherwise lists exactly what blocks it.
    pub async fn delete(&self, actor: Actor, id: &TokenId) -> Result<(), TokenError> {
        let now = self.now();
        let id = id.clone();
        let guard = self.inner.delete_guard.clone();
        let deleted = id.clone();
        self.inner
            .store
            .write(move |wtx| {
                let record: Option<TokenRecord> =
                    store::get(&wtx.open_table(TOKENS)?, id.as_bytes())?;
                let Some(record) = record else {
                    return Err(TokenError::NotFound(format!("token {id}")));
                };
                let blockers = guard(wtx, &id)?.blockers();
                if !blockers.is_empty() {
                    return Err(TokenError::InUse(blockers));
                }
                wtx.open_table(TOKENS)?.remove(id.as_bytes())?;
                let mut pending = wtx.open_table(PENDING)?;
                let mut doomed = Vec::new();
                for row in pending.iter()? {
                    let (k, v) = row?;
                    let p: PendingKeyRecord = store::decode("tokens.pending_keys", v.value())?;
                    if p.for_token.as_ref() == Some(&id) {
                        doomed.push(k.value().to_vec());
                    }
                }
                for k in doomed {
                    pending.remove(k.as_slice())?;
                }
                drop(pending);
                audit::record_in(
                    wtx,
                    NewEntry::new(now, actor, Action::TokenDelete, Outcome::Success)
                        .target(format!("{} ({})", record.account.server_name, record.id)),
                )?;
                Ok(())
            })
            .await?;
        self.emit(TokenEvent::Deleted(deleted));
        Ok(())
    }

    /// Banners for tokens that need the admin: `(level, code, message, link)`; the link opens
    /// the token's Renew panel (`/admin/tokens/{id}#renew`), the fix of each of them.
    pub async fn banners(&self) -> Result<Vec<(String, String, String, String)>, TokenError> {
        let mut out = Vec::new();
        for t in self.list().await? {
            let link = format!("/admin/tokens/{}#renew", t.id);
            let name = &t.server_name;
            match t.state {
                ExpiryState::Expired => out.push((
                    "error".into(),
                    "token_expired".into(),
                    format!(
                        "The token of \"{name}\" expired on {}: devices no longer sync. Renew it.",
                        t.expires_at.date()
                    ),
                    link,
                )),
                ExpiryState::Broken => out.push((
                    "error".into(),
                    "token_broken".into(),
                    format!(
                        "Apple refuses the token of \"{name}\": {}",
                        t.problem.as_ref().map(|p| p.message.as_str()).unwrap_or("renew it")
                    ),
                    link,
                )),
                ExpiryState::Expiring => out.push((
                    if t.expires_at - self.now() < Duration::days(7) { "error" } else { "warning" }
                        .into(),
                    "token_expiring".into(),
                    format!(
                        "The token of \"{name}\" expires in {} day{} ({}). Renew it before then.",
                        t.days_left,
                        if t.days_left == 1 { "" } else { "s" },
                        t.expires_at.date()
                    ),
                    link,
                )),
                ExpiryState::Ok => {
                    debug_assert!(t.expires_at - self.now() >= EXPIRY_WARNING);
                }
            }
        }
        Ok(out)
    }
}

impl Tokens {
    /// Sandbox restarts: points every token that talks to a simulator at the simulator now
    /// running (its port changes at every start). Never touches tokens of Apple's service.
    pub async fn retarget_simulator(&self, base_url: &str) -> Result<u64, TokenError> {
        let moved = self.retarget(base_url, |from| from != super::APPLE_BASE_URL).await?;
        Ok(moved.len() as u64)
    }

    /// `serve`: every token talks to the DEP service the configuration names
    /// (`apple.dep_url`), so the configuration is the one source of where "Apple" is. Returns
    /// the tokens that used another one until now, for the log.
    pub async fn follow_service(&self, base_url: &str) -> Result<Vec<MovedToken>, TokenError> {
        self.retarget(base_url, |_| true).await
    }

    async fn retarget(
        &self,
        base_url: &str,
        may_move: fn(&str) -> bool,
    ) -> Result<Vec<MovedToken>, TokenError> {
        let base = base_url.to_string();
        self.inner
            .store
            .write(move |wtx| {
                let mut t = wtx.open_table(TOKENS)?;
                let mut changed = Vec::new();
                for row in t.iter()? {
                    let (_, v) = row?;
                    let r: TokenRecord = store::decode("tokens.by_id", v.value())?;
                    if r.base_url != base && may_move(&r.base_url) {
                        changed.push(r);
                    }
                }
                let mut moved = Vec::new();
                for mut r in changed {
                    let from = std::mem::replace(&mut r.base_url, base.clone());
                    store::put(&mut t, r.id.as_bytes(), &r)?;
                    moved.push(MovedToken { id: r.id, server_name: r.account.server_name, from });
                }
                Ok(moved)
            })
            .await
    }
}

/// A token [`Tokens::follow_service`] pointed at another DEP service.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MovedToken {
    pub id: TokenId,
    pub server_name: String,
    /// The service it talked to before.
    pub from: String,
}

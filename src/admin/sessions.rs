//! Admin sessions: an opaque random id in a cookie, its hash and a CSRF token in the store.

use super::records::{SESSIONS, SessionRecord, secret_hash};
use super::{Admin, AdminError, Principal};
use crate::audit::{self, Action, Actor, NewEntry, Outcome};
use crate::crypto::Secret;
use crate::store::{self, StoreError};
use redb::{ReadableTable, WriteTransaction};
use std::net::IpAddr;
use time::{Duration, OffsetDateTime};

/// A new session: the cookie value (secret) and what the page needs.
#[derive(Clone, Debug)]
pub struct Session {
    pub id: Secret<String>,
    pub username: String,
    pub csrf_token: String,
    pub expires_at: OffsetDateTime,
}

pub(super) fn create_session_in(
    wtx: &WriteTransaction,
    username: &str,
    now: OffsetDateTime,
    lifetime: Duration,
    addr: Option<IpAddr>,
) -> Result<Session, StoreError> {
    let id = crate::crypto::random_token::<32>();
    let record = SessionRecord {
        username: username.to_string(),
        csrf_token: crate::crypto::random_token::<32>(),
        created_at: now,
        expires_at: now + lifetime,
        remote_addr: addr.map(|a| a.to_string()),
    };
    store::put(&mut wtx.open_table(SESSIONS)?, secret_hash(&id).as_bytes(), &record)?;
    Ok(Session {
        id: Secret::new(id),
        username: record.username,
        csrf_token: record.csrf_token,
        expires_at: record.expires_at,
    })
}

/// Removes every session of `username` except the one whose hash is `keep`.
pub(super) fn remove_sessions_of_in(
    wtx: &WriteTransaction,
    username: &str,
    keep: Option<&str>,
) -> Result<(), StoreError> {
    let mut table = wtx.open_table(SESSIONS)?;
    let mut doomed = Vec::new();
    for row in table.iter()? {
        let (k, v) = row?;
        let r: SessionRecord = store::decode("admin.sessions", v.value())?;
        if r.username.eq_ignore_ascii_case(username) && Some(k.value()) != keep.map(str::as_bytes) {
            doomed.push(k.value().to_vec());
        }
    }
    for k in doomed {
        table.remove(k.as_slice())?;
    }
    Ok(())
}

/// What a valid session cookie stands for.
#[derive(Clone, Debug)]
pub struct SessionInfo {
    pub username: String,
    pub csrf_token: String,
    pub expires_at: OffsetDateTime,
}

impl Admin {
    /// The session a cookie value names, if it exists and has not expired.
    pub async fn session(&self, cookie: &str) -> Result<Option<SessionInfo>, AdminError> {
        if cookie.is_empty() || cookie.len() > 128 {
            return Ok(None);
        }
        let now = self.now();
        let k = secret_hash(cookie);
        let record: Option<SessionRecord> = self
            .inner
            .store
            .read(move |rtx| store::get(&rtx.open_table(SESSIONS)?, k.as_bytes()))
            .await?;
        Ok(record.filter(|r| r.expires_at > now).map(|r| SessionInfo {
            username: r.username,
            csrf_token: r.csrf_token,
            expires_at: r.expires_at,
        }))
    }

    /// The principal behind a session cookie.
    pub async fn principal_for_session(
        &self,
        cookie: &str,
    ) -> Result<Option<Principal>, AdminError> {
        let Some(s) = self.session(cookie).await? else { return Ok(None) };
        // A session of an admin removed meanwhile is no session.
        let Some((role, scope)) = self.access_of(&s.username).await? else { return Ok(None) };
        Ok(Some(Principal::Session { username: s.username, csrf_token: s.csrf_token, role, scope }))
    }

    /// Ends a session.
    pub async fn logout(&self, cookie: &str, addr: Option<IpAddr>) -> Result<(), AdminError> {
        let now = self.now();
        let k = secret_hash(cookie);
        self.inner
            .store
            .write(move |wtx| {
                let mut t = wtx.open_table(SESSIONS)?;
                let removed = t
                    .remove(k.as_bytes())?
                    .map(|v| store::decode::<SessionRecord>("admin.sessions", v.value()));
                drop(t);
                if let Some(record) = removed.transpose()? {
                    audit::record_in(
                        wtx,
                        NewEntry::new(
                            now,
                            Actor::Admin(record.username.clone()),
                            Action::AdminLogout,
                            Outcome::Success,
                        )
                        .target(record.username)
                        .from_addr(addr.map(|a| a.to_string())),
                    )?;
                }
                Ok(())
            })
            .await
    }

    /// Deletes expired sessions (maintenance); returns how many.
    pub async fn prune_sessions(&self) -> Result<u64, AdminError> {
        let now = self.now();
        self.inner
            .store
            .write(move |wtx| {
                let mut t = wtx.open_table(SESSIONS)?;
                let mut doomed = Vec::new();
                for row in t.iter()? {
                    let (k, v) = row?;
                    let r: SessionRecord = store::decode("admin.sessions", v.value())?;
                    if r.expires_at <= now {
                        doomed.push(k.value().to_vec());
                    }
                }
                for k in &doomed {
                    t.remove(k.as_slice())?;
                }
                Ok(doomed.len() as u64)
            })
            .await
    }
}

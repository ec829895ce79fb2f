//! Devices whose Apple record carries `mdm_migration_deadline` always await final
//! configuration (`../shared/spec/apple-2026.md` §1.4 D3: only then can adebox keep
//! Activation Lock and managed apps before it releases them). When the profile such a device
//! gets does not await, adebox defines at Apple a variant of it with
//! `await_device_configured: true` and assigns the variant to those devices.
//!
//! The variant is kept per profile and token beside the profile's own definition
//! ([`Definition::awaiting`]): defined when an assignment first needs it, defined again when
//! the profile changes (the devices that had the older variant get the new one), and
//! forgotten when no assignment needs it any more (its uuids stay known as this profile's, so
//! a device that still has it enrolls and is moved to the profile itself).

use super::records::{ASSIGNMENTS, Definition, ProfileRecord};
use super::round::{Round, refusal};
use super::schedule::{Assignment, AssignmentState};
use super::{ProfileError, Profiles};
use crate::depclient::DepError;
use crate::ids::{ProfileId, ProfileUuid, TokenId};
use crate::store::{self, StoreError};
use redb::ReadableTable;
use std::collections::BTreeSet;
use time::Duration;

/// Whether a device gets the await variant of `r` rather than `r` itself.
pub(super) fn wants_variant(r: &ProfileRecord, forced_await: bool) -> bool {
    forced_await && !r.input.await_device_configured
}

/// The definition a device's assignment goes out with: the variant when it is forced to
/// await and the profile does not.
pub(super) fn definition_for<'d>(
    r: &ProfileRecord,
    d: &'d Definition,
    forced_await: bool,
) -> Option<&'d Definition> {
    match wants_variant(r, forced_await) {
        true => d.awaiting.as_deref(),
        false => Some(d),
    }
}

impl Profiles {
    /// Defines the variants assignments wait for and forgets those nobody needs.
    pub(super) async fn define_variants_due(&self, round: &mut Round) -> Result<(), ProfileError> {
        let (records, wanted) = self
            .inner
            .store
            .read(|rtx| {
                let wanted: BTreeSet<(ProfileId, TokenId)> =
                    super::records::read_all::<Assignment>(rtx, ASSIGNMENTS)?
                        .into_iter()
                        .filter(|a| a.forced_await && a.state != AssignmentState::Idle)
                        .filter_map(|a| Some((a.profile_id?, a.token_id)))
                        .collect();
                Ok::<_, StoreError>((super::crud::all_in(rtx)?, wanted))
            })
            .await?;
        let now = self.now();
        for r in records.iter() {
            let tokens: BTreeSet<TokenId> = r
                .tokens
                .keys()
                .cloned()
                .chain(wanted.iter().filter(|(p, _)| *p == r.id).map(|(_, t)| t.clone()))
                .collect();
            for token in tokens {
                let d = r.tokens.get(&token).cloned().unwrap_or_default();
                let needed = !r.input.await_device_configured
                    && wanted.contains(&(r.id.clone(), token.clone()));
                match (needed, d.awaiting.as_deref()) {
                    (false, Some(_)) => {
                        self.save_definition(&r.id, &token, r.revision, |def| {
                            if let Some(v) = def.awaiting.take() {
                                def.old_uuids.extend(v.profile_uuid);
                                def.old_uuids.extend(v.old_uuids);
                            }
                        })
                        .await?;
                        self.reassign_old(&r.id, &token).await?;
                    }
                    (true, v) => {
                        let v = v.cloned().unwrap_or_default();
                        if v.state(r.revision) == "pending"
                            && v.next_try_at.is_none_or(|t| t <= now)
                        {
                            self.define_variant(r, &token, v, round).await?;
                        }
                    }
                    _ => {}
                }
            }
        }
        Ok(())
    }

    async fn define_variant(
        &self,
        r: &ProfileRecord,
        token: &TokenId,
        v: Definition,
        round: &mut Round,
    ) -> Result<(), ProfileError> {
        let client = match self.client(token).await {
            Ok(c) => c,
            Err(ProfileError::NotFound(_)) => return Ok(()),
            Err(e) => return Err(e),
        };
        let mut input = r.input.clone();
        input.await_device_configured = true;
        let body = self.apple_profile(&input);
        let result = client.define_profile(&body).await.and_then(|answer| {
            ProfileUuid::parse(&answer.profile_uuid)
                .map_err(|e| DepError::BadResponse { status: 200, excerpt: e.to_string() })
        });
        let (now, revision) = (self.now(), r.revision);
        match result {
            Ok(uuid) => {
                round.defined += 1;
                log::info!(token = token.as_str(), profile = r.id.as_str(), revision = revision; "await variant of the profile defined at Apple");
                let u = uuid.clone();
                self.save_definition(&r.id, token, revision, move |def| {
                    let v = def.awaiting.get_or_insert_default();
                    if let Some(old) = v.profile_uuid.take()
                        && !v.old_uuids.contains(&old)
                    {
                        v.old_uuids.push(old);
                    }
                    v.revision = revision;
                    v.profile_uuid = Some(u);
                    v.error = None;
                    v.defined_at = Some(now);
                    v.attempts = 0;
                    v.next_try_at = None;
                })
                .await?;
                self.requeue_variant_holders(&r.id, token, uuid).await?;
            }
            Err(e) if e.is_retryable() => {
                let attempts = v.attempts + 1;
                let wait = Duration::minutes(5 * i64::from(attempts.min(12)));
                log::warn!(token = token.as_str(), profile = r.id.as_str(); "await variant not defined yet: {e}");
                self.save_definition(&r.id, token, revision, move |def| {
                    let v = def.awaiting.get_or_insert_default();
                    v.attempts = attempts;
                    v.next_try_at = Some(now + wait);
                })
                .await?;
            }
            Err(e) => {
                round.refused += 1;
                let why = refusal(&e);
                log::warn!(token = token.as_str(), profile = r.id.as_str(), code = why.code.as_str(); "Apple refused the await variant of the profile: {e}");
                self.save_definition(&r.id, token, revision, move |def| {
                    let v = def.awaiting.get_or_insert_default();
                    v.revision = revision;
                    v.error = Some(why);
                })
                .await?;
            }
        }
        Ok(())
    }

    /// After a variant (re)definition: forced devices assigned an older variant get this one.
    async fn requeue_variant_holders(
        &self,
        pid: &ProfileId,
        token: &TokenId,
        uuid: ProfileUuid,
    ) -> Result<(), ProfileError> {
        let (pid, token) = (pid.clone(), token.clone());
        let n = self
            .inner
            .store
            .write(move |wtx| {
                let mut t = wtx.open_table(ASSIGNMENTS)?;
                let mut stale = Vec::new();
                for row in t.iter()? {
                    let (_, v) = row?;
                    let a: Assignment = store::decode("profiles.assignments", v.value())?;
                    if a.forced_await
                        && a.state == AssignmentState::Assigned
                        && a.token_id == token
                        && a.profile_id.as_ref() == Some(&pid)
                        && a.profile_uuid.as_ref() != Some(&uuid)
                    {
                        stale.push(a);
                    }
                }
                for mut a in stale.iter().cloned() {
                    a.requeue(Some(pid.clone()));
                    store::put(&mut t, a.serial.as_bytes(), &a)?;
                }
                Ok::<_, ProfileError>(stale.len())
            })
            .await?;
        if n > 0 {
            self.inner.changed.notify_one();
        }
        Ok(())
    }
}

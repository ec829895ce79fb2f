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
//!
//! A sync that shows a device's deadline gone ([`Profiles::deadlines_gone`]) ends the forcing
//! at once: a device still here is assigned the profile itself again, one that left (a
//! cancelled migration takes it back to its origin) stops counting, and the variant goes with
//! its last device.

use super::model::DefinitionState;
use super::records::{ASSIGNMENTS, Definition, ProfileRecord};
use super::round::{Round, refusal};
use super::schedule::{Assignment, AssignmentState};
use super::{ProfileError, Profiles};
use crate::depclient::DepError;
use crate::ids::{ProfileId, ProfileUuid, Serial, TokenId};
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
    /// A sync showed `serials` of `token`: each assignment forced to await for a migration
    /// deadline Apple no longer shows stops being forced. A device still assigned to this
    /// server gets the profile itself again, at once rather than at its next re-queue (the
    /// variant would keep it awaiting for a migration that is over); one that left only stops
    /// counting. The worker then forgets variants no device needs. Returns how many
    /// assignments were queued again; costs one read when no deadline went away.
    pub(super) async fn deadlines_gone(
        &self,
        token: &TokenId,
        serials: &[Serial],
    ) -> Result<usize, ProfileError> {
        let (token_r, serials) = (token.clone(), serials.to_vec());
        let gone: Vec<(Serial, bool)> = self
            .inner
            .store
            .read(move |rtx| {
                let t = rtx.open_table(ASSIGNMENTS)?;
                let mut out = Vec::new();
                for f in crate::devices::facts_in(rtx, &serials)? {
                    // A device that left keeps the last record Apple showed, deadline included.
                    if f.token != token_r || (f.migration_deadline && !f.removed) {
                        continue;
                    }
                    let a: Option<Assignment> = store::get(&t, f.serial.as_bytes())?;
                    if a.is_some_and(|a| a.forced_await) {
                        out.push((f.serial, f.removed));
                    }
                }
                Ok::<_, StoreError>(out)
            })
            .await?;
        if gone.is_empty() {
            return Ok(0);
        }
        let (forced, n) = (gone.len(), gone.iter().filter(|(_, removed)| !removed).count());
        let requeued = self
            .inner
            .store
            .write(move |wtx| {
                let mut t = wtx.open_table(ASSIGNMENTS)?;
                let mut requeued = 0;
                for (serial, removed) in &gone {
                    let Some(mut a) = store::get::<Assignment, _>(&t, serial.as_bytes())? else {
                        continue;
                    };
                    if !a.forced_await {
                        continue;
                    }
                    a.forced_await = false;
                    // Only an assignment that went out as the variant needs sending again; a
                    // queued one goes out plain anyway.
                    let was_variant = match (&a.profile_id, a.state) {
                        (Some(pid), AssignmentState::Assigned) if !removed => {
                            super::crud::load_in_w(wtx, pid)?
                                .is_some_and(|r| wants_variant(&r, true))
                        }
                        _ => false,
                    };
                    if was_variant {
                        a.requeue(a.profile_id.clone());
                        requeued += 1;
                    }
                    store::put(&mut t, serial.as_bytes(), &a)?;
                }
                Ok::<_, ProfileError>(requeued)
            })
            .await?;
        log::info!(token = token.as_str(), devices = forced, still_here = n, requeued = requeued; "migration deadline gone: no longer forced to await final configuration");
        self.inner.changed.notify_one();
        Ok(requeued)
    }

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
                        if v.state(r.revision) == DefinitionState::Pending
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

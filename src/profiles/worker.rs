//! Talking to Apple for profiles: defining each profile revision at each token, and sending
//! due assignments in batches of at most 1000 serials. Every call goes through the token's
//! request gate, so it never overlaps a sync call of the same token.
//!
//! A profile Apple refuses is stored as `failed` with Apple's code in plain words and is not
//! retried until it is edited; it never holds up other profiles or syncing. Apple being
//! unreachable is retried later.

use super::model::DefinitionState;
use super::records::{ASSIGNMENTS, Definition, ProfileRecord};
use super::round::{Round, refusal};
use super::schedule::{Answer, Assignment};
use super::{ProfileError, Profiles};
use crate::apple::dep::DeviceStatus;
use crate::depclient::{DepClient, DepError};
use crate::devices::{self, ProfileChange};
use crate::ids::{ProfileId, ProfileUuid, Serial, TokenId};
use crate::store::{self, StoreError};
use std::collections::{BTreeMap, HashMap};
use time::Duration;

/// Requests to Apple carry at most this many serials (dep-api.md §3.3).
pub const BATCH: usize = 1000;

/// Apple's answer to one batch: per-serial statuses and the retry hint, or the call's error.
type Answers = Result<(BTreeMap<String, DeviceStatus>, Option<u64>), DepError>;

/// Sends one batch to Apple: assigns `uuid`, or removes the assignment when `None`.
async fn call_batch(
    client: &DepClient,
    uuid: Option<&ProfileUuid>,
    items: &[Assignment],
) -> Answers {
    let serials: Vec<String> = items.iter().map(|a| a.serial.to_string()).collect();
    match uuid {
        Some(u) => {
            client.assign_profile(u, &serials).await.map(|r| (r.devices, r.retry_after_seconds))
        }
        None => client.remove_profile(&serials).await.map(|r| (r.devices, None)),
    }
}

/// Apple's answer for one serial of a batch. Serials missing from Apple's answer count as
/// FAILED (§3.3, Fleet's practice); a call Apple did not answer leaves them queued.
fn answer_for(answers: &Answers, serial: &Serial) -> Answer {
    match answers {
        Ok((devices, retry)) => match devices.get(serial.as_str()) {
            Some(DeviceStatus::Success) => Answer::Success,
            Some(DeviceStatus::NotAccessible) => Answer::NotAccessible,
            Some(DeviceStatus::Throttled) => Answer::Throttled { retry_after_seconds: *retry },
            _ => Answer::Failed,
        },
        Err(e) if e.is_retryable() => Answer::Unreachable {
            retry_after: e.retry_after().and_then(|d| Duration::try_from(d).ok()),
            message: e.to_string(),
        },
        Err(_) => Answer::Failed,
    }
}

impl Profiles {
    pub(super) async fn client(&self, token: &TokenId) -> Result<DepClient, ProfileError> {
        let (base, creds) = self.inner.tokens.credentials(token).await?;
        Ok(DepClient::new(base, creds, self.inner.http.clone(), self.inner.clock.clone())
            .with_label(token.as_str())
            .with_gate(self.inner.gates.gate(token)))
    }

    /// One round: defines what is due, then sends due assignments.
    pub async fn run_round(&self) -> Result<Round, ProfileError> {
        let mut round = Round::default();
        self.define_due(&mut round).await?;
        self.define_variants_due(&mut round).await?;
        self.send_due(&mut round).await?;
        Ok(round)
    }

    async fn define_due(&self, round: &mut Round) -> Result<(), ProfileError> {
        let tokens: Vec<TokenId> =
            self.inner.tokens.list().await?.into_iter().map(|t| t.id).collect();
        for r in self.records().await? {
            for token in &tokens {
                let d = r.tokens.get(token).cloned().unwrap_or_default();
                let now = self.now();
                if d.state(r.revision) != DefinitionState::Pending
                    || d.next_try_at.is_some_and(|t| t > now)
                {
                    continue;
                }
                self.define_one(&r, token, d, round).await?;
            }
        }
        Ok(())
    }

    async fn define_one(
        &self,
        r: &ProfileRecord,
        token: &TokenId,
        d: Definition,
        round: &mut Round,
    ) -> Result<(), ProfileError> {
        let client = match self.client(token).await {
            Ok(c) => c,
            Err(ProfileError::NotFound(_)) => return Ok(()), // token deleted meanwhile
            Err(e) => return Err(e),
        };
        let body = self.apple_profile(&r.input);
        // Apple's uuid is parsed where it arrives; one that is not a uuid at all is taken as
        // a bad answer (the profile shows Apple's answer and is defined again when edited).
        let result = client.define_profile(&body).await.and_then(|answer| {
            ProfileUuid::parse(&answer.profile_uuid)
                .map_err(|e| DepError::BadResponse { status: 200, excerpt: e.to_string() })
        });
        let now = self.now();
        let revision = r.revision;
        let old = d.profile_uuid.clone().filter(|_| d.revision != revision);
        match result {
            Ok(uuid) => {
                round.defined += 1;
                log::info!(token = token.as_str(), profile = r.id.as_str(), revision = revision; "profile defined at Apple");
                self.save_definition(&r.id, token, revision, move |def| {
                    if let Some(o) = old
                        && !def.old_uuids.contains(&o)
                    {
                        def.old_uuids.push(o);
                    }
                    def.revision = revision;
                    def.profile_uuid = Some(uuid);
                    def.error = None;
                    def.defined_at = Some(now);
                    def.attempts = 0;
                    def.next_try_at = None;
                })
                .await?;
                self.reassign_old(&r.id, token).await?;
            }
            Err(e)
                if e.is_retryable()
                    || matches!(
                        e,
                        DepError::TokenExpired { .. }
                            | DepError::TokenRejected { .. }
                            | DepError::TermsNotSigned
                            | DepError::Unauthorized
                            | DepError::AuthenticationFailed { .. }
                    ) =>
            {
                // Apple (or the token) is the problem, not the profile: try again later.
                let attempts = d.attempts + 1;
                let wait = Duration::minutes(5 * i64::from(attempts.min(12)));
                log::warn!(token = token.as_str(), profile = r.id.as_str(); "profile not defined yet: {e}");
                self.save_definition(&r.id, token, revision, move |def| {
                    def.attempts = attempts;
                    def.next_try_at = Some(now + wait);
                })
                .await?;
            }
            Err(e) => {
                round.refused += 1;
                let why = refusal(&e);
                log::warn!(token = token.as_str(), profile = r.id.as_str(), code = why.code.as_str(); "Apple refused the profile: {e}");
                self.save_definition(&r.id, token, revision, move |def| {
                    if let Some(o) = old {
                        if !def.old_uuids.contains(&o) {
                            def.old_uuids.push(o);
                        }
                        def.profile_uuid = None;
                    }
                    def.revision = revision;
                    def.error = Some(why);
                })
                .await?;
            }
        }
        Ok(())
    }

    async fn send_due(&self, round: &mut Round) -> Result<(), ProfileError> {
        let now = self.now();
        let (due, records) = self
            .inner
            .store
            .read(move |rtx| {
                let due: Vec<Assignment> = super::records::read_all(rtx, ASSIGNMENTS)?
                    .into_iter()
                    .filter(|a: &Assignment| a.is_due(now))
                    .collect();
                Ok::<_, StoreError>((due, super::crud::all_in(rtx)?))
            })
            .await?;
        let profiles: HashMap<&ProfileId, &ProfileRecord> =
            records.iter().map(|r| (&r.id, r)).collect();
        // (token, uuid or None for remove) → serials.
        let mut groups: BTreeMap<(TokenId, Option<ProfileUuid>), Vec<Assignment>> = BTreeMap::new();
        let mut waiting = Vec::new();
        for a in due {
            let target = match &a.profile_id {
                None => Some(None),
                Some(pid) => profiles.get(pid).and_then(|r| {
                    let d = r.tokens.get(&a.token_id)?;
                    let d = super::forced_await::definition_for(r, d, a.forced_await)?;
                    (d.state(r.revision) == DefinitionState::Defined)
                        .then(|| d.profile_uuid.clone())
                }),
            };
            match target {
                Some(uuid) => groups.entry((a.token_id.clone(), uuid)).or_default().push(a),
                None => waiting.push(a),
            }
        }
        self.mark_waiting(waiting, &profiles).await?;
        for ((token, uuid), items) in groups {
            // One client (one Apple session) per token and round.
            let client = match self.client(&token).await {
                Ok(c) => c,
                Err(ProfileError::NotFound(_)) => continue, // token deleted meanwhile
                Err(e) => return Err(e),
            };
            // Pipelined: batch n+1 goes to Apple while batch n's answers are committed (the
            // token's gate still keeps one call in flight). A batch whose answers are never
            // stored stays queued and is sent again; Apple's assignment is idempotent.
            let mut answered: Option<(Vec<Assignment>, Answers)> = None;
            for chunk in items.chunks(BATCH) {
                let record = async {
                    match answered.take() {
                        Some((done, answers)) => {
                            self.record_batch(&token, uuid.as_ref(), done, answers).await
                        }
                        None => Ok(()),
                    }
                };
                let (answers, recorded) =
                    tokio::join!(call_batch(&client, uuid.as_ref(), chunk), record);
                recorded?;
                answered = Some((chunk.to_vec(), answers));
                round.batches += 1;
                round.sent += chunk.len() as u32;
            }
            if let Some((done, answers)) = answered {
                self.record_batch(&token, uuid.as_ref(), done, answers).await?;
            }
        }
        Ok(())
    }

    /// Requests whose profile is not defined at their token yet: say why on the serial.
    async fn mark_waiting(
        &self,
        waiting: Vec<Assignment>,
        profiles: &HashMap<&ProfileId, &ProfileRecord>,
    ) -> Result<(), ProfileError> {
        let mut changed = Vec::new();
        for mut a in waiting {
            let msg = match a.profile_id.as_ref().and_then(|pid| profiles.get(pid)) {
                None => "the profile was deleted; choose another profile".to_string(),
                Some(r) => match r.tokens.get(&a.token_id) {
                    Some(d) if d.state(r.revision) == DefinitionState::Failed => format!(
                        "Apple refused the profile ({}); fix the profile, then it is sent again",
                        d.error.as_ref().map(|e| e.code.as_str()).unwrap_or("error")
                    ),
                    _ => "waiting for the profile to be defined at Apple".to_string(),
                },
            };
            if a.message != msg {
                a.message = msg;
                changed.push(a);
            }
        }
        if changed.is_empty() {
            return Ok(());
        }
        self.inner
            .store
            .write(move |wtx| {
                let mut t = wtx.open_table(ASSIGNMENTS)?;
                for a in &changed {
                    store::put(&mut t, a.serial.as_bytes(), a)?;
                }
                Ok::<_, ProfileError>(())
            })
            .await
    }

    /// Stores Apple's answers to one batch: each serial's request state, and for the ones
    /// assigned, the device record and its timeline — one transaction.
    async fn record_batch(
        &self,
        token: &TokenId,
        uuid: Option<&ProfileUuid>,
        mut items: Vec<Assignment>,
        answers: Answers,
    ) -> Result<(), ProfileError> {
        let now = self.now();
        let per_serial = |serial: &Serial| answer_for(&answers, serial);
        let mut results = Vec::new();
        for a in items.iter_mut() {
            let answer = per_serial(&a.serial);
            a.after(&answer, uuid, now);
            if let Err(e) = &answers
                && !e.is_retryable()
            {
                a.message = format!("{}; {}", e, a.message);
            }
            self.inner.store.metrics().assignments(
                match (&answer, uuid.is_some()) {
                    (Answer::Success, true) => "assigned",
                    (Answer::Success, false) => "removed",
                    (Answer::NotAccessible, _) => "not_accessible",
                    (Answer::Failed, _) => "failed",
                    (Answer::Throttled { .. }, _) => "throttled",
                    (Answer::Unreachable { .. }, _) => "unreachable",
                },
                1,
            );
            results.push(answer);
        }
        let (ok, failed) = results
            .iter()
            .fold((0, 0), |(o, f), r| if *r == Answer::Success { (o + 1, f) } else { (o, f + 1) });
        log::info!(token = token.as_str(), devices = items.len(), assigned = ok, not_assigned = failed; "profile assignment batch");
        let index = self.inner.devices.clone();
        // The changes are handed to the index inside `write_then`; what is left is empty.
        let _applied: devices::Changes = self
            .inner
            .store
            .write_then(
                move |wtx| {
                    let mut t = wtx.open_table(ASSIGNMENTS)?;
                    let mut inventory = devices::ProfileResults::open(wtx)?;
                    for (a, answer) in items.iter().zip(&results) {
                        store::put(&mut t, a.serial.as_bytes(), a)?;
                        match answer {
                            Answer::Success => {
                                let change = match &a.profile_uuid {
                                    Some(u) => ProfileChange::Assigned { profile_uuid: u.clone() },
                                    None => ProfileChange::Removed,
                                };
                                let msg = match &change {
                                    ProfileChange::Assigned { profile_uuid } => format!(
                                        "enrollment profile {profile_uuid} assigned at Apple"
                                    ),
                                    ProfileChange::Removed => {
                                        "enrollment profile assignment removed at Apple".into()
                                    }
                                };
                                inventory.changed(&a.serial, &change, msg, now)?;
                            }
                            Answer::Unreachable { .. } => {}
                            _ => inventory.note(
                                &a.serial,
                                devices::TimelineKind::ProfileNotAssigned,
                                a.message.clone(),
                                now,
                            )?,
                        }
                    }
                    Ok::<_, ProfileError>(inventory.finish())
                },
                move |changes| index.apply_changes(std::mem::take(changes)),
            )
            .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::apple::dep::DepErrorCode;

    #[test]
    fn serials_missing_from_apples_answer_count_as_failed() {
        let answers = Ok((
            BTreeMap::from([
                ("A1".to_string(), DeviceStatus::Success),
                ("A2".to_string(), DeviceStatus::Throttled),
                ("A3".to_string(), DeviceStatus::NotAccessible),
            ]),
            Some(45),
        ));
        assert_eq!(answer_for(&answers, &Serial::parse("A1").unwrap()), Answer::Success);
        assert_eq!(
            answer_for(&answers, &Serial::parse("A2").unwrap()),
            Answer::Throttled { retry_after_seconds: Some(45) }
        );
        assert_eq!(answer_for(&answers, &Serial::parse("A3").unwrap()), Answer::NotAccessible);
        assert_eq!(answer_for(&answers, &Serial::parse("MISSING").unwrap()), Answer::Failed);
    }

    #[test]
    fn an_unanswered_call_stays_queued_and_a_refused_one_fails() {
        let busy = Err(DepError::Retryable { status: 503, retry_after: None });
        assert!(matches!(
            answer_for(&busy, &Serial::parse("A1").unwrap()),
            Answer::Unreachable { .. }
        ));
        let refused = Err(DepError::ProfileUuidRequired);
        assert_eq!(answer_for(&refused, &Serial::parse("A1").unwrap()), Answer::Failed);
    }

    #[test]
    fn apples_refusal_keeps_its_code_and_plain_words() {
        let r = refusal(&DepError::ProfileInvalid { code: DepErrorCode::FlagsInvalid });
        assert_eq!(r.code, "FLAGS_INVALID");
        assert!(!r.message.is_empty() && !r.message.contains("FlagsInvalid"), "{}", r.message);
    }
}

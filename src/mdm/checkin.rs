//! Check-in messages (../shared/spec/enrollment.md §4.3): Authenticate starts (or restarts) an
//! enrollment and clears the queue; TokenUpdate stores how to push and, when Setup Assistant
//! waits (`AwaitingConfiguration`), queues the device name and DeviceConfigured (§4.5);
//! CheckOut ends the enrollment (and deletes the escrowed bootstrap token). Each is one write
//! transaction with the device's inventory record and timeline. The bootstrap-token and
//! Return to Service check-ins, which answer with a body, are in `bootstrap.rs`.

use super::queue::{NORMAL, cancel_pending_in, enqueue_in, has_pending};
use super::records::{
    COMMANDS, EnrollmentRec, UNLOCK_TOKEN, commands_of, load_enrollment, save_enrollment, udid_key,
};
use super::{DeviceIdentity, Mdm, MdmError, PushTarget, push_target};
use crate::apple::mdm::{CheckIn, Command, parse_check_in};
use crate::devices::{self, Changes, EnrollmentState, TimelineKind};
use crate::ids::{Serial, Udid};
use base64ct::{Base64, Encoding};
use time::OffsetDateTime;

impl Mdm {
    /// Handles a check-in body from the device holding `identity`; the body to answer with,
    /// if the message has one (`GetBootstrapToken`).
    pub async fn check_in(
        &self,
        identity: &DeviceIdentity,
        body: &[u8],
    ) -> Result<Option<Vec<u8>>, MdmError> {
        let msg = parse_check_in(body)?;
        let issued = self.issued_to(identity).await?;
        if issued.udid != *msg.udid() {
            return Err(MdmError::WrongDevice);
        }
        if let Some(answer) = self.lifecycle_check_in(&msg).await? {
            return Ok(Some(answer));
        }
        // The device name comes from the assigned profile; read it before the write.
        let name = match &msg {
            CheckIn::TokenUpdate(t) if t.awaiting_configuration => {
                self.device_name(&issued.serial, &issued.udid).await?
            }
            _ => None,
        };
        let now = self.inner.clock.now();
        let (cert, serial) = (identity.cert_sha256.clone(), issued.serial.clone());
        let timeout = self.inner.options.release_timeout;
        let index = self.inner.devices.clone();
        let sealer = self.inner.store.sealer().clone();
        let (push, _) = self
            .inner
            .store
            .write_then(
                move |wtx| {
                    let mut changes = Changes::default();
                    let push = match msg {
                        CheckIn::Authenticate(a) => {
                            let mut e = fresh(&a.udid, &serial, &cert, &a.topic, now);
                            e.product = a.product_name;
                            e.os_version = a.os_version;
                            if let Some(old) = load_enrollment(wtx, &a.udid)? {
                                e.next_seq = old.next_seq;
                            }
                            let cleared = cancel_pending_in(
                                wtx,
                                &a.udid,
                                "canceled: the device authenticated again",
                                now,
                            )?;
                            save_enrollment(wtx, &e)?;
                            let os = e.os_version.as_deref().unwrap_or("unknown OS");
                            let mut words = format!("authenticated with MDM ({os})");
                            if cleared > 0 {
                                words.push_str(&format!("; {cleared} waiting commands dropped"));
                            }
                            changes.merge(devices::set_enrollment_in(
                                wtx,
                                &serial,
                                EnrollmentState::Enrolling,
                                TimelineKind::MdmAuthenticated,
                                words,
                                now,
                            )?);
                            None
                        }
                        CheckIn::TokenUpdate(t) => {
                            let mut e = match load_enrollment(wtx, &t.udid)? {
                                Some(e) if e.checked_out_at.is_some() => {
                                    return Err(MdmError::CheckedOut);
                                }
                                Some(e) => e,
                                // Tolerated: Authenticate lost (e.g. a restored backup).
                                None => fresh(&t.udid, &serial, &cert, &t.topic, now),
                            };
                            let first = e.token_updated_at.is_none();
                            e.cert_sha256 = cert.clone();
                            e.topic = t.topic.clone();
                            e.push_token = Some(hex::encode(&t.token));
                            e.push_magic = Some(t.push_magic.clone());
                            if let Some(u) = &t.unlock_token {
                                let u = crate::crypto::Secret::new(Base64::encode_string(u));
                                let row = udid_key(&e.udid);
                                e.unlock_token =
                                    Some(sealer.seal(UNLOCK_TOKEN, row.as_bytes(), &u));
                            }
                            e.token_updated_at = Some(now);
                            e.last_seen = now;
                            let mut queued = false;
                            if t.awaiting_configuration && e.released_at.is_none() {
                                e.awaiting_configuration = true;
                                queued = queue_release_in(wtx, &mut e, name, timeout, now)?;
                                if queued {
                                    changes.merge(devices::set_enrollment_in(
                                        wtx,
                                        &serial,
                                        EnrollmentState::Enrolling,
                                        TimelineKind::MdmAwaitingConfiguration,
                                        "waiting in Setup Assistant for final configuration; name \
                                         and release queued"
                                            .into(),
                                        now,
                                    )?);
                                }
                            } else if first && !t.awaiting_configuration && e.released_at.is_none()
                            {
                                e.released_at = Some(now);
                                changes.merge(devices::set_enrollment_in(
                                    wtx,
                                    &serial,
                                    EnrollmentState::Enrolled,
                                    TimelineKind::MdmEnrolled,
                                    "enrolled with MDM (it was not waiting for final \
                                     configuration)"
                                        .into(),
                                    now,
                                )?);
                            }
                            save_enrollment(wtx, &e)?;
                            if queued { push_target(&e) } else { None }
                        }
                        CheckIn::CheckOut(c) => {
                            if let Some(mut e) = load_enrollment(wtx, &c.udid)?
                                && e.checked_out_at.is_none()
                            {
                                e.checked_out_at = Some(now);
                                e.awaiting_configuration = false;
                                e.last_seen = now;
                                cancel_pending_in(
                                    wtx,
                                    &c.udid,
                                    "canceled: the device checked out",
                                    now,
                                )?;
                                save_enrollment(wtx, &e)?;
                                crate::lifecycle::bootstrap::delete_in(wtx, &c.udid)?;
                                changes.merge(devices::set_enrollment_in(
                                    wtx,
                                    &serial,
                                    EnrollmentState::CheckedOut,
                                    TimelineKind::MdmCheckedOut,
                                    "checked out of MDM (the management profile was removed)"
                                        .into(),
                                    now,
                                )?);
                            }
                            None
                        }
                        // Answered by `lifecycle_check_in` above.
                        CheckIn::SetBootstrapToken(_)
                        | CheckIn::GetBootstrapToken(_)
                        | CheckIn::ReturnToService(_) => None,
                    };
                    Ok::<(Option<PushTarget>, Changes), MdmError>((push, changes))
                },
                move |(_, changes)| index.apply_changes(std::mem::take(changes)),
            )
            .await?;
        self.nudge(push);
        Ok(None)
    }

    /// The name the device's assigned profile gives it, if that profile has a template.
    async fn device_name(&self, serial: &Serial, udid: &Udid) -> Result<Option<String>, MdmError> {
        let Some(f) = self.inner.devices.facts(vec![serial.clone()]).await?.pop() else {
            return Ok(None);
        };
        let Some(uuid) = &f.profile_uuid else { return Ok(None) };
        let Some(profiles) = &self.inner.profiles else { return Ok(None) };
        let Some(p) = profiles.defined_as(&f.token, uuid).await? else {
            return Ok(None);
        };
        Ok(p.device_name_template.map(|t| {
            crate::profiles::validate::expand_name_template(
                &t,
                serial,
                f.family.as_deref(),
                f.model.as_deref(),
                udid,
            )
        }))
        .map(|n| n.filter(|n| !n.is_empty()))
    }
}

fn fresh(
    udid: &Udid,
    serial: &Serial,
    cert: &str,
    topic: &str,
    now: OffsetDateTime,
) -> EnrollmentRec {
    EnrollmentRec {
        v: 1,
        udid: udid.clone(),
        serial: serial.clone(),
        cert_sha256: cert.to_string(),
        topic: topic.to_string(),
        push_token: None,
        push_magic: None,
        unlock_token: None,
        product: None,
        os_version: None,
        authenticated_at: now,
        token_updated_at: None,
        last_seen: now,
        awaiting_configuration: false,
        release_deadline: None,
        released_at: None,
        checked_out_at: None,
        next_seq: 0,
    }
}

/// Queues the name (when the profile has a template) and DeviceConfigured, unless a release
/// is already queued (TokenUpdate repeats). Returns whether anything was queued.
fn queue_release_in(
    wtx: &redb::WriteTransaction,
    e: &mut EnrollmentRec,
    name: Option<String>,
    timeout: time::Duration,
    now: OffsetDateTime,
) -> Result<bool, MdmError> {
    let cmds = commands_of(&wtx.open_table(COMMANDS)?, &e.udid)?;
    if has_pending(&cmds, "DeviceConfigured") {
        return Ok(false);
    }
    if let Some(name) = name {
        enqueue_in(wtx, e, Command::DeviceName { name }, NORMAL, "release", false, now)?;
    }
    enqueue_in(wtx, e, Command::DeviceConfigured, NORMAL, "release", true, now)?;
    e.release_deadline = Some(now + timeout);
    Ok(true)
}

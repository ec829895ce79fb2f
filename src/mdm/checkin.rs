//! Check-in messages (../shared/spec/enrollment.md §4.3): Authenticate starts (or restarts) an
//! enrollment and clears the queue; TokenUpdate stores how to push and, when Setup Assistant
//! waits (`AwaitingConfiguration`), starts the profile's setup steps, which end with
//! DeviceConfigured (§4.5; [`super::steps`]);
//! CheckOut ends the enrollment (and deletes the escrowed bootstrap token). Each is one write
//! transaction with the device's inventory record and timeline. The bootstrap-token and
//! Return to Service check-ins, which answer with a body, are in `bootstrap.rs`.

use super::queue::cancel_pending_in;
use super::records::{
    ENROLLMENTS, EnrollmentRec, UNLOCK_TOKEN, load_enrollment, save_enrollment, udid_key,
};
use super::{DeviceIdentity, Mdm, MdmError, PushTarget, push_target};
use crate::apple::mdm::{CheckIn, parse_check_in};
use crate::devices::{self, Changes, EnrollmentState, TimelineKind};
use crate::ids::{Serial, Udid};
use crate::setup::SetupRun;
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
        self.inner.store.metrics().mdm_checkin(msg.message_type());
        if let Some(answer) = self.lifecycle_check_in(&msg).await? {
            return Ok(Some(answer));
        }
        // The steps (and the device name) come from the assigned profile; planned before the
        // write, used only when Setup Assistant starts waiting.
        let run = match &msg {
            CheckIn::TokenUpdate(t) if t.awaiting_configuration => {
                Some(self.setup_plan(&issued.serial, &issued.udid).await?)
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
                            if let Some(run) = run.filter(|_| e.released_at.is_none()) {
                                e.awaiting_configuration = true;
                                let words = format!(
                                    "waiting in Setup Assistant for final configuration; {} \
                                     setup steps, then the release",
                                    run.steps.len()
                                );
                                queued = super::steps::start_in(wtx, &mut e, run, timeout, now)?;
                                if queued {
                                    changes.merge(devices::set_enrollment_in(
                                        wtx,
                                        &serial,
                                        EnrollmentState::Enrolling,
                                        TimelineKind::MdmAwaitingConfiguration,
                                        words,
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

    /// The run of the setup steps of the device's assigned profile (the default list when
    /// it has none), with the name its template gives the device.
    async fn setup_plan(&self, serial: &Serial, udid: &Udid) -> Result<SetupRun, MdmError> {
        let (mut name, mut profile_id) = (None, None);
        if let (Some(f), Some(profiles)) =
            (self.inner.devices.facts(vec![serial.clone()]).await?.pop(), &self.inner.profiles)
            && let Some(uuid) = &f.profile_uuid
            && let Some(p) = profiles.defined_as(&f.token, uuid).await?
        {
            profile_id = Some(p.profile_id);
            name = p.device_name_template.map(|t| {
                crate::profiles::validate::expand_name_template(
                    &t,
                    serial,
                    f.family.as_deref(),
                    f.model.as_deref(),
                    udid,
                )
            });
        }
        let key = udid.clone();
        let product = self
            .inner
            .store
            .read(move |rtx| {
                let t = rtx.open_table(ENROLLMENTS)?;
                let e: Option<EnrollmentRec> = crate::store::get(&t, udid_key(&key).as_bytes())?;
                Ok::<_, MdmError>(e.and_then(|e| e.product))
            })
            .await?;
        let device = crate::setup::Device {
            udid: udid.clone(),
            product,
            name: name.filter(|n| !n.is_empty()),
        };
        Ok(match &self.inner.setup {
            Some(setup) => setup.plan(profile_id.as_ref(), device).await?,
            None => crate::setup::default_plan(&device),
        })
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
        setup: None,
    }
}

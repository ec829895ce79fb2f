//! The command channel (../shared/spec/enrollment.md §4.4): a device's report is recorded with
//! its command, then the next command is chosen ([`super::queue::pick_next`]) and sent, or
//! nothing (an empty 200). An acknowledged DeviceConfigured releases the device: lifecycle
//! "Enrolled". One write transaction per report — except an idle poll with nothing to send
//! while the stored last check-in is recent: that one only reads, so thousands of devices
//! polling cost no disk writes (the last check-in is kept to the minute).

use super::queue::{pick_next, prune_in};
use super::records::{
    COMMANDS, CommandRec, CommandState, ENROLLMENTS, EnrollmentRec, commands_of, load_enrollment,
    save_command, save_enrollment, udid_key,
};
use super::rts::{Handover, HandoverKind, handed_profile_in};
use super::{DeviceIdentity, Mdm, MdmError};
use crate::apple::mdm::{Command, Report, Status, parse_report};
use crate::devices::{self, Changes, EnrollmentState, TimelineKind};
use crate::ids::Udid;
use crate::store::{self, StoreError};
use redb::{ReadTransaction, WriteTransaction};
use time::{Duration, OffsetDateTime};

/// How stale the stored last check-in may get before an idle poll writes it again.
pub const LAST_SEEN_PRECISION: Duration = Duration::minutes(1);

impl Mdm {
    /// Handles a report from the device holding `identity`; returns the next command plist,
    /// or `None` when there is nothing to do.
    pub async fn connect(
        &self,
        identity: &DeviceIdentity,
        body: &[u8],
    ) -> Result<Option<Vec<u8>>, MdmError> {
        let report = parse_report(body)?;
        let issued = self.issued_to(identity).await?;
        if issued.udid != report.udid {
            return Err(MdmError::WrongDevice);
        }
        self.inner.store.metrics().mdm_result(report.status.as_str());
        let now = self.inner.clock.now();
        if report.status == Status::Idle {
            let udid = report.udid.clone();
            if self.inner.store.read(move |rtx| quiet_idle_in(rtx, &udid, now)).await? {
                return Ok(None);
            }
        }
        // A Return to Service erase carries an enrollment profile signed as it is sent.
        let rts_profile = self.handover_profile(&report.udid, HandoverKind::Erase).await?;
        let index = self.inner.devices.clone();
        let sealer = self.inner.store.sealer().clone();
        let (next, _) = self
            .inner
            .store
            .write_then(
                move |wtx| {
                    let mut e = match load_enrollment(wtx, &report.udid)? {
                        None => return Err(MdmError::NotEnrolled),
                        Some(e) if e.checked_out_at.is_some() => {
                            return Err(MdmError::CheckedOut);
                        }
                        Some(e) => e,
                    };
                    e.last_seen = now;
                    let mut changes = Changes::default();
                    record_in(wtx, &mut e, &report, &mut changes, now)?;
                    super::steps::deadline_in(wtx, &mut e, now)?;
                    let next = next_in(wtx, &e, report.status, &sealer, rts_profile, now)?;
                    save_enrollment(wtx, &e)?;
                    Ok::<_, MdmError>((next, changes))
                },
                move |(_, changes)| index.apply_changes(std::mem::take(changes)),
            )
            .await?;
        Ok(next)
    }
}

/// An idle poll needs no write: the device is enrolled, seen recently, and has nothing to
/// be sent. Anything else (unknown, checked out, stale, work to do) takes the write path,
/// which also gives the errors.
fn quiet_idle_in(
    rtx: &ReadTransaction,
    udid: &Udid,
    now: OffsetDateTime,
) -> Result<bool, StoreError> {
    let (enrollments, commands) = (rtx.open_table(ENROLLMENTS)?, rtx.open_table(COMMANDS)?);
    let Some(e): Option<EnrollmentRec> = store::get(&enrollments, udid_key(udid).as_bytes())?
    else {
        return Ok(false);
    };
    if e.checked_out_at.is_some() || now - e.last_seen >= LAST_SEEN_PRECISION {
        return Ok(false);
    }
    let deadline_passed = e.release_deadline.is_some_and(|d| now >= d);
    Ok(pick_next(&commands_of(&commands, udid)?, false, deadline_passed).is_none())
}

/// Records the report's result with its command (Idle and unknown CommandUUIDs record
/// nothing: a late answer to a canceled command is harmless).
fn record_in(
    wtx: &WriteTransaction,
    e: &mut EnrollmentRec,
    report: &Report,
    changes: &mut Changes,
    now: OffsetDateTime,
) -> Result<(), MdmError> {
    let Some(uuid) = &report.command_uuid else { return Ok(()) };
    if report.status == Status::Idle {
        return Ok(());
    }
    let mut t = wtx.open_table(COMMANDS)?;
    let Some(mut c) = commands_of(&t, &e.udid)?.into_iter().find(|c| &c.uuid == uuid) else {
        return Ok(());
    };
    if !c.state.is_pending() {
        return Ok(());
    }
    c.answered_at = Some(now);
    c.state = match report.status {
        Status::Acknowledged => CommandState::Acknowledged,
        Status::Error => CommandState::Error,
        Status::CommandFormatError => CommandState::CommandFormatError,
        Status::NotNow => {
            c.not_now_count += 1;
            CommandState::NotNow
        }
        Status::Idle => unreachable!("Idle returned above"),
    };
    if !report.results.is_empty() {
        c.result = Some(serde_json::Value::Object(report.results.clone()));
    }
    c.error_chain = report.error_chain.clone();
    save_command(&mut t, &e.udid, &c)?;
    prune_in(&mut t, &e.udid)?;
    drop(t);
    effects_in(wtx, e, &c, changes, now)?;
    super::steps::answered_in(wtx, e, &c, now)?;
    Ok(())
}

/// What an answered command changes beyond itself.
fn effects_in(
    wtx: &WriteTransaction,
    e: &mut EnrollmentRec,
    c: &CommandRec,
    changes: &mut Changes,
    now: OffsetDateTime,
) -> Result<(), MdmError> {
    let failed = matches!(c.state, CommandState::Error | CommandState::CommandFormatError);
    let why = || {
        c.error_chain.iter().filter_map(|x| x.description.clone()).collect::<Vec<_>>().join("; ")
    };
    // A setup step's failure goes on the timeline as the step's result (`steps`).
    let setup_step = c.origin == super::steps::SETUP_ORIGIN;
    match (&c.command, c.state) {
        (cmd, CommandState::Acknowledged) if cmd.request_type() == "DeviceConfigured" => {
            e.awaiting_configuration = false;
            e.released_at = Some(now);
            changes.merge(devices::set_enrollment_in(
                wtx,
                &e.serial,
                EnrollmentState::Enrolled,
                TimelineKind::MdmReleased,
                "released from \"Awaiting final configuration\"; enrolled".into(),
                now,
            )?);
        }
        (Command::DeviceName { name }, CommandState::Acknowledged) => {
            note(wtx, e, TimelineKind::MdmRenamed, format!("named \"{name}\""), now)?;
        }
        (Command::ReturnToService, CommandState::Acknowledged) => {
            // The device re-enrolls by itself; its bootstrap token is kept for the next
            // Return to Service (apple-2026.md §2.6).
            e.checked_out_at = Some(now);
            changes.merge(devices::set_enrollment_in(
                wtx,
                &e.serial,
                EnrollmentState::Erased,
                TimelineKind::MdmErased,
                "erase accepted; the device returns to service and enrolls again by itself".into(),
                now,
            )?);
        }
        (cmd, CommandState::Acknowledged) if cmd.request_type() == "EraseDevice" => {
            e.checked_out_at = Some(now);
            // A full erase: the device makes a new token in its next initial setup.
            crate::lifecycle::bootstrap::delete_in(wtx, &e.udid)?;
            changes.merge(devices::set_enrollment_in(
                wtx,
                &e.serial,
                EnrollmentState::Erased,
                TimelineKind::MdmErased,
                "erase accepted; the device will run Setup Assistant and enroll again".into(),
                now,
            )?);
        }
        // Not a failure: a device busy (finishing Setup Assistant after DeviceConfigured,
        // apple-2026.md §2.5 step 9) defers the command and asks for it again with Idle. Said
        // once per command, so a device deferring for a while does not flood the timeline.
        (cmd, CommandState::NotNow) if c.not_now_count == 1 => {
            let words = format!(
                "the device answered NotNow (busy, for example still finishing Setup Assistant) to: {}; it stays queued and is sent again when the device asks for commands",
                cmd.words()
            );
            note(wtx, e, TimelineKind::MdmCommandQueued, words, now)?;
        }
        (cmd, _) if failed && !setup_step => {
            let words = format!("{} failed: {}", cmd.request_type(), why());
            note(wtx, e, TimelineKind::MdmCommandFailed, words, now)?;
        }
        _ => {}
    }
    Ok(())
}

fn note(
    wtx: &WriteTransaction,
    e: &EnrollmentRec,
    kind: TimelineKind,
    message: String,
    now: OffsetDateTime,
) -> Result<(), MdmError> {
    Ok(devices::note_in(wtx, &e.serial, kind, message, now)?)
}

/// Chooses, marks as sent and renders the next command.
fn next_in(
    wtx: &WriteTransaction,
    e: &EnrollmentRec,
    status: Status,
    sealer: &crate::store::Sealer,
    rts_profile: Option<Handover>,
    now: OffsetDateTime,
) -> Result<Option<Vec<u8>>, MdmError> {
    if e.checked_out_at.is_some() {
        return Ok(None);
    }
    let mut t = wtx.open_table(COMMANDS)?;
    let cmds = commands_of(&t, &e.udid)?;
    let deadline_passed = e.release_deadline.is_some_and(|d| now >= d);
    let Some(i) = pick_next(&cmds, status == Status::NotNow, deadline_passed) else {
        return Ok(None);
    };
    let mut c = cmds[i].clone();
    let overdue =
        c.hold_for_earlier && cmds[..i].iter().any(|x| x.state.is_pending() && !x.hold_for_earlier);
    if overdue && c.sent_at.is_none() {
        let pending: Vec<&str> = cmds[..i]
            .iter()
            .filter(|x| x.state.is_pending())
            .map(|x| x.command.request_type())
            .collect();
        devices::note_in(
            wtx,
            &e.serial,
            TimelineKind::MdmReleaseTimeout,
            format!(
                "warning: released without waiting any longer for {} (the release timeout \
                 passed)",
                pending.join(", ")
            ),
            now,
        )?;
    }
    c.sent_at = Some(now);
    save_command(&mut t, &e.udid, &c)?;
    let (product, os) = (e.product.as_deref(), e.os_version.as_deref());
    let rts = match c.command {
        Command::ReturnToService => {
            let profile = handed_profile_in(wtx, &e.serial, rts_profile, now)?;
            crate::lifecycle::rts::settings_in(wtx, sealer, &e.udid, (product, os), profile)?
        }
        _ => None,
    };
    Ok(Some(c.command.to_plist_with(&c.uuid, product, rts.as_ref())))
}

//! The per-device command queue (../shared/spec/enrollment.md §4.4): priority then first in
//! first out; NotNow keeps a command and skips it only in the answer to that NotNow; a new
//! Authenticate or a CheckOut cancels what is pending (kept in the history, marked why);
//! at most [`MAX_PENDING`] pending and [`MAX_HISTORY`] finished commands per device.
//!
//! [`pick_next`] is the pure choice of what to deliver; the `_in` functions change the
//! `mdm.commands` table inside the caller's transaction.

use super::MdmError;
use super::records::{
    COMMANDS, CommandRec, CommandState, EnrollmentRec, command_key, commands_of, save_command,
};
use crate::apple::mdm::Command;
use crate::ids::Udid;
use redb::WriteTransaction;
use time::OffsetDateTime;

/// Most commands waiting for one device. A device that does not check in must not let an
/// admin's clicks (or a script) grow the store without limit.
pub const MAX_PENDING: usize = 32;
/// Most answered or canceled commands kept per device; older ones are deleted.
pub const MAX_HISTORY: usize = 100;

/// Priority of the release flow's and most admin commands.
pub const NORMAL: u8 = 5;
/// Priority of an erase: it goes before anything else waiting.
pub const URGENT: u8 = 0;

/// Which pending command to deliver now, by index into `cmds` (oldest first).
///
/// `skip_not_now`: the current report is a NotNow, so commands the device deferred are not
/// offered again in this answer (spec §4.4). `deadline_passed`: the release deadline is past,
/// so a held DeviceConfigured goes out even with earlier commands still pending.
pub fn pick_next(cmds: &[CommandRec], skip_not_now: bool, deadline_passed: bool) -> Option<usize> {
    let mut best: Option<usize> = None;
    for (i, c) in cmds.iter().enumerate() {
        let eligible = match c.state {
            CommandState::Queued => true,
            CommandState::NotNow => !skip_not_now,
            _ => false,
        };
        if !eligible {
            continue;
        }
        if c.hold_for_earlier
            && !deadline_passed
            && cmds[..i].iter().any(|e| e.state.is_pending() && !e.hold_for_earlier)
        {
            continue;
        }
        let better = match best {
            None => true,
            Some(b) => (c.priority, c.seq) < (cmds[b].priority, cmds[b].seq),
        };
        if better {
            best = Some(i);
        }
    }
    best
}

/// Queues `command` for the enrollment's device; returns its CommandUUID. The caller saves
/// `enrollment` (its sequence number moves on).
pub fn enqueue_in(
    wtx: &WriteTransaction,
    enrollment: &mut EnrollmentRec,
    command: Command,
    priority: u8,
    origin: &str,
    hold_for_earlier: bool,
    now: OffsetDateTime,
) -> Result<String, MdmError> {
    let uuid = crate::apple::enroll_profile::random_uuid();
    let queued = Queued { uuid, priority, origin, hold_for_earlier };
    enqueue_as_in(wtx, enrollment, command, queued, now)
}

/// How a command is queued.
pub struct Queued<'a> {
    /// Its CommandUUID (a script's own, or a random one).
    pub uuid: String,
    pub priority: u8,
    pub origin: &'a str,
    pub hold_for_earlier: bool,
}

/// [`enqueue_in`] with the caller's CommandUUID, refused when the device already has a
/// command (pending or in its history) with that uuid: its answer would be taken for the
/// other's.
pub fn enqueue_as_in(
    wtx: &WriteTransaction,
    enrollment: &mut EnrollmentRec,
    command: Command,
    queued: Queued<'_>,
    now: OffsetDateTime,
) -> Result<String, MdmError> {
    let Queued { uuid, priority, origin, hold_for_earlier } = queued;
    let mut t = wtx.open_table(COMMANDS)?;
    let cmds = commands_of(&t, &enrollment.udid)?;
    if cmds.iter().any(|c| c.uuid.eq_ignore_ascii_case(&uuid)) {
        return Err(MdmError::DuplicateCommand { serial: enrollment.serial.clone(), uuid });
    }
    let pending = cmds.iter().filter(|c| c.state.is_pending()).count();
    if pending >= MAX_PENDING {
        return Err(MdmError::QueueFull { serial: enrollment.serial.clone(), max: MAX_PENDING });
    }
    let rec = CommandRec {
        v: 1,
        uuid: uuid.clone(),
        seq: enrollment.next_seq,
        command,
        priority,
        state: CommandState::Queued,
        origin: origin.to_string(),
        hold_for_earlier,
        queued_at: now,
        sent_at: None,
        answered_at: None,
        not_now_count: 0,
        result: None,
        error_chain: Vec::new(),
        note: None,
    };
    enrollment.next_seq += 1;
    save_command(&mut t, &enrollment.udid, &rec)?;
    Ok(uuid)
}

/// Cancels every pending command of `udid`, noting `why`; returns how many.
pub fn cancel_pending_in(
    wtx: &WriteTransaction,
    udid: &Udid,
    why: &str,
    now: OffsetDateTime,
) -> Result<usize, MdmError> {
    let mut t = wtx.open_table(COMMANDS)?;
    let mut n = 0;
    for mut c in commands_of(&t, udid)? {
        if c.state.is_pending() {
            c.state = CommandState::Canceled;
            c.answered_at = Some(now);
            c.note = Some(why.to_string());
            save_command(&mut t, udid, &c)?;
            n += 1;
        }
    }
    prune_in(&mut t, udid)?;
    Ok(n)
}

/// Deletes the oldest finished commands beyond [`MAX_HISTORY`].
pub fn prune_in(
    t: &mut redb::Table<'_, &'static [u8], &'static [u8]>,
    udid: &Udid,
) -> Result<(), MdmError> {
    let finished: Vec<u64> =
        commands_of(t, udid)?.iter().filter(|c| !c.state.is_pending()).map(|c| c.seq).collect();
    if finished.len() > MAX_HISTORY {
        for seq in &finished[..finished.len() - MAX_HISTORY] {
            t.remove(command_key(udid, *seq).as_slice())?;
        }
    }
    Ok(())
}

/// Whether `udid` has a pending command of this request type.
pub fn has_pending(cmds: &[CommandRec], request_type: &str) -> bool {
    cmds.iter().any(|c| c.state.is_pending() && c.command.request_type() == request_type)
}

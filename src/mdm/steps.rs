//! The release rule with setup steps (issue 19 item 1): while Setup Assistant waits, the
//! device's run ([`crate::setup::SetupRun`]) sends its steps one at a time, each step's
//! answer goes on the timeline, and DeviceConfigured is queued only when every step is done
//! or skipped. A failed blocking step holds the device until an admin retries it or releases
//! it anyway; the release timeout applies to steps still waiting for an answer (a device that
//! stopped answering), not to a step that failed and blocks: that one waits for a person, and
//! `held` lists it for the `setup_blocked` alert so the person hears of it.

use super::MdmError;
use super::queue::{NORMAL, URGENT, enqueue_in, has_pending};
use super::records::{COMMANDS, CommandRec, CommandState, EnrollmentRec, commands_of};
use crate::apple::mdm::Command;
use crate::devices::{self, TimelineKind};
use crate::setup::{Next, SetupRun, StepState};
use redb::WriteTransaction;
use time::{Duration, OffsetDateTime};

/// Who queues the steps' commands (`CommandRec::origin`).
pub const SETUP_ORIGIN: &str = "setup";

/// Starts the run when Setup Assistant starts waiting; a repeated TokenUpdate (or a release
/// already queued by an older adebox) changes nothing. Returns whether a command was queued.
pub(super) fn start_in(
    wtx: &WriteTransaction,
    e: &mut EnrollmentRec,
    run: SetupRun,
    timeout: Duration,
    now: OffsetDateTime,
) -> Result<bool, MdmError> {
    let cmds = commands_of(&wtx.open_table(COMMANDS)?, &e.udid)?;
    if e.setup.is_some() || has_pending(&cmds, "DeviceConfigured") {
        return Ok(false);
    }
    let total = run.steps.len();
    for (i, s) in run.steps.iter().enumerate() {
        // Failed before sending: its command was refused by Apple's schema (`setup::plan`).
        let what = match s.state {
            StepState::Skipped => "skipped",
            StepState::Failed => "failed",
            _ => continue,
        };
        let why = s.detail.as_deref().unwrap_or("nothing to send");
        note(wtx, e, format!("setup step {} of {total} {what} ({}): {why}", i + 1, s.title), now)?;
    }
    e.setup = Some(run);
    e.release_deadline = Some(now + timeout);
    advance_in(wtx, e, now)
}

/// Queues what the run needs now: its next step, or DeviceConfigured once every step is
/// done or skipped. Returns whether a command was queued.
pub(super) fn advance_in(
    wtx: &WriteTransaction,
    e: &mut EnrollmentRec,
    now: OffsetDateTime,
) -> Result<bool, MdmError> {
    let Some(mut run) = e.setup.take() else { return Ok(false) };
    let result = advance_run_in(wtx, e, &mut run, now);
    e.setup = Some(run);
    result
}

fn advance_run_in(
    wtx: &WriteTransaction,
    e: &mut EnrollmentRec,
    run: &mut SetupRun,
    now: OffsetDateTime,
) -> Result<bool, MdmError> {
    if e.released_at.is_some() {
        return Ok(false);
    }
    match run.next() {
        Next::Send(i) => {
            let Some(command) = run.steps[i].command.clone() else {
                // A step planned without a command is Skipped, never Waiting.
                return Ok(false);
            };
            let uuid = enqueue_in(wtx, e, command, NORMAL, SETUP_ORIGIN, false, now)?;
            run.sent(i, uuid);
            Ok(true)
        }
        Next::Wait(_) | Next::Blocked(_) => Ok(false),
        Next::Release => {
            let cmds = commands_of(&wtx.open_table(COMMANDS)?, &e.udid)?;
            if has_pending(&cmds, "DeviceConfigured") {
                return Ok(false);
            }
            enqueue_in(wtx, e, Command::DeviceConfigured, NORMAL, "release", false, now)?;
            Ok(true)
        }
    }
}

/// Records the device's answer to a step's command (`c`, just answered) and moves on.
/// Returns whether a command was queued.
pub(super) fn answered_in(
    wtx: &WriteTransaction,
    e: &mut EnrollmentRec,
    c: &CommandRec,
    now: OffsetDateTime,
) -> Result<bool, MdmError> {
    let Some(run) = e.setup.as_mut() else { return Ok(false) };
    let Some(i) = run.step_of(&c.uuid) else { return Ok(false) };
    let acknowledged = match c.state {
        CommandState::Acknowledged => true,
        CommandState::Error | CommandState::CommandFormatError => false,
        // NotNow: the command stays queued; the device answers it later.
        _ => return Ok(false),
    };
    let why: Vec<String> = c.error_chain.iter().filter_map(|x| x.description.clone()).collect();
    let why = match (why.is_empty(), c.state) {
        (false, _) => why.join("; "),
        (true, CommandState::CommandFormatError) => "the device could not read the command".into(),
        (true, _) => "the device reported an error without a description".into(),
    };
    run.answered(i, acknowledged, &why);
    let total = run.steps.len();
    let step = &run.steps[i];
    let head = format!("setup step {} of {total} ({})", i + 1, step.title);
    let words = match step.state {
        StepState::Done => format!("{head}: done"),
        StepState::Failed => format!(
            "{head} failed: {why}; the device stays in Setup Assistant until an admin retries \
             the step or releases it anyway (device page)"
        ),
        _ => format!("{head} failed: {why}; skipped as the step says"),
    };
    note(wtx, e, words, now)?;
    advance_in(wtx, e, now)
}

/// After the release deadline, a step still waiting for the device's answer no longer holds
/// the release: the remaining steps are skipped and DeviceConfigured goes out first. Returns
/// whether it was queued.
pub(super) fn deadline_in(
    wtx: &WriteTransaction,
    e: &mut EnrollmentRec,
    now: OffsetDateTime,
) -> Result<bool, MdmError> {
    let passed = e.release_deadline.is_some_and(|d| now >= d);
    let Some(run) = e.setup.as_mut() else { return Ok(false) };
    let waiting = match run.next() {
        Next::Send(i) | Next::Wait(i) => i,
        Next::Blocked(_) | Next::Release => return Ok(false),
    };
    if !passed || e.released_at.is_some() {
        return Ok(false);
    }
    let title = run.steps[waiting].title.clone();
    run.release_anyway("the release timeout");
    devices::note_in(
        wtx,
        &e.serial,
        TimelineKind::MdmReleaseTimeout,
        format!(
            "warning: released without waiting any longer for setup step {} ({title}): the \
             release timeout passed",
            waiting + 1
        ),
        now,
    )?;
    enqueue_in(wtx, e, Command::DeviceConfigured, URGENT, "release", false, now)?;
    Ok(true)
}

fn note(
    wtx: &WriteTransaction,
    e: &EnrollmentRec,
    words: String,
    now: OffsetDateTime,
) -> Result<(), MdmError> {
    Ok(devices::note_in(wtx, &e.serial, TimelineKind::MdmSetupStep, words, now)?)
}

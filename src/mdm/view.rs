//! What the page sees of a device's MDM enrollment, and the admin's actions on it: refresh
//! device information, rename, release now, erase for re-enrollment. Each action is one
//! write transaction (the command, the enrollment and a timeline note) followed by a push.

use super::queue::{NORMAL, URGENT, enqueue_in};
use super::records::{BY_SERIAL, COMMANDS, CommandRec, CommandState, ENROLLMENTS, EnrollmentRec};
use super::records::{commands_of, load_enrollment, save_enrollment};
use super::{Mdm, MdmError, push_target};
use crate::apple::mdm::{ChainedError, Command, DEFAULT_QUERIES};
use crate::devices::TimelineKind;
use crate::ids::{Serial, Udid};
use crate::store;
use serde::Serialize;
use time::OffsetDateTime;

/// A device's MDM state for the page.
#[derive(Clone, Debug, Serialize)]
pub struct MdmState {
    pub udid: Udid,
    pub serial: Serial,
    pub state: MdmPhase,
    pub topic: String,
    pub push_token_present: bool,
    pub product: Option<String>,
    pub os_version: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub authenticated_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub last_check_in: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub release_deadline: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub released_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub checked_out_at: Option<OffsetDateTime>,
    /// The escrowed bootstrap token (when, never the token itself); null when none.
    pub bootstrap_token: Option<crate::lifecycle::Escrow>,
    /// Newest first.
    pub commands: Vec<CommandView>,
    /// The setup steps run while Setup Assistant waited, in order (`None`: it never waited).
    pub setup: Option<SetupView>,
}

/// Where a device stands with MDM, from its enrollment record.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MdmPhase {
    /// Authenticated with MDM, neither held in Setup Assistant nor released yet.
    Authenticated,
    /// Held in Setup Assistant's "Awaiting final configuration" until released.
    AwaitingConfiguration,
    /// Enrolled and released (or never held).
    Enrolled,
    /// The device checked out of MDM.
    CheckedOut,
}

impl MdmPhase {
    fn of(e: &EnrollmentRec) -> MdmPhase {
        if e.checked_out_at.is_some() {
            MdmPhase::CheckedOut
        } else if e.released_at.is_some() {
            MdmPhase::Enrolled
        } else if e.awaiting_configuration {
            MdmPhase::AwaitingConfiguration
        } else {
            MdmPhase::Authenticated
        }
    }
}

/// A device's setup steps and what blocks its release.
#[derive(Clone, Debug, Serialize)]
pub struct SetupView {
    pub steps: Vec<SetupStepView>,
    /// The step (0-based) that failed and holds the device, if one does.
    pub blocked_at: Option<usize>,
    pub released_anyway_by: Option<String>,
}

/// One step of a device's run.
#[derive(Clone, Debug, Serialize)]
pub struct SetupStepView {
    pub title: String,
    pub request_type: Option<String>,
    /// `waiting`, `sent`, `done`, `failed`, `skipped`.
    pub state: crate::setup::StepState,
    pub on_error: crate::setup::OnError,
    pub command_uuid: Option<String>,
    pub detail: Option<String>,
    pub attempts: u32,
}

impl SetupView {
    fn of(run: &crate::setup::SetupRun) -> SetupView {
        SetupView {
            steps: run
                .steps
                .iter()
                .map(|s| SetupStepView {
                    title: s.title.clone(),
                    request_type: s.command.as_ref().map(|c| c.request_type().to_string()),
                    state: s.state,
                    on_error: s.on_error,
                    command_uuid: s.command_uuid.clone(),
                    detail: s.detail.clone(),
                    attempts: s.attempts,
                })
                .collect(),
            blocked_at: run.blocked().map(|(i, _)| i),
            released_anyway_by: run.released_anyway_by.clone(),
        }
    }
}

/// One command and its result.
#[derive(Clone, Debug, Serialize)]
pub struct CommandView {
    pub uuid: String,
    pub request_type: String,
    pub words: String,
    pub state: CommandStatus,
    pub origin: String,
    #[serde(with = "time::serde::rfc3339")]
    pub queued_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub sent_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub answered_at: Option<OffsetDateTime>,
    pub not_now_count: u32,
    pub result: Option<serde_json::Value>,
    pub error_chain: Vec<ErrorView>,
    pub note: Option<String>,
}

/// Where a command stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CommandStatus {
    /// Waiting to be delivered (or delivered, not yet answered).
    Queued,
    /// The device said NotNow; it is retried on a later poll.
    NotNow,
    Acknowledged,
    Error,
    CommandFormatError,
    /// Dropped without an answer (a new Authenticate, a CheckOut).
    Canceled,
}

impl CommandStatus {
    pub fn is_pending(self) -> bool {
        matches!(self, CommandStatus::Queued | CommandStatus::NotNow)
    }
}

impl From<CommandState> for CommandStatus {
    fn from(s: CommandState) -> CommandStatus {
        match s {
            CommandState::Queued => CommandStatus::Queued,
            CommandState::NotNow => CommandStatus::NotNow,
            CommandState::Acknowledged => CommandStatus::Acknowledged,
            CommandState::Error => CommandStatus::Error,
            CommandState::CommandFormatError => CommandStatus::CommandFormatError,
            CommandState::Canceled => CommandStatus::Canceled,
        }
    }
}

/// One entry of a device's `ErrorChain`, as the device reported it.
#[derive(Clone, Debug, Serialize)]
pub struct ErrorView {
    pub code: Option<i64>,
    pub domain: Option<String>,
    pub description: Option<String>,
}

impl From<ChainedError> for ErrorView {
    fn from(e: ChainedError) -> ErrorView {
        ErrorView { code: e.code, domain: e.domain, description: e.description }
    }
}

impl CommandView {
    fn of(c: CommandRec) -> CommandView {
        CommandView {
            request_type: c.command.request_type().into(),
            words: c.command.words(),
            uuid: c.uuid,
            state: c.state.into(),
            origin: c.origin,
            queued_at: c.queued_at,
            sent_at: c.sent_at,
            answered_at: c.answered_at,
            not_now_count: c.not_now_count,
            result: c.result,
            error_chain: c.error_chain.into_iter().map(ErrorView::from).collect(),
            note: c.note,
        }
    }
}

impl Mdm {
    /// The MDM state of device `serial`, or `None` when it never checked in.
    pub async fn state(&self, serial: &Serial) -> Result<Option<MdmState>, MdmError> {
        let serial = serial.clone();
        self.inner
            .store
            .read(move |rtx| {
                let by_serial = rtx.open_table(BY_SERIAL)?;
                let (enrollments, commands) =
                    (rtx.open_table(ENROLLMENTS)?, rtx.open_table(COMMANDS)?);
                let Some(udid): Option<String> = store::get(&by_serial, serial.as_bytes())? else {
                    return Ok(None);
                };
                let udid = Udid::from_stored(udid);
                let Some(e): Option<EnrollmentRec> =
                    store::get(&enrollments, udid.key().as_bytes())?
                else {
                    return Ok(None);
                };
                let mut commands: Vec<CommandView> =
                    commands_of(&commands, &udid)?.into_iter().map(CommandView::of).collect();
                commands.reverse();
                let bootstrap_token = crate::lifecycle::bootstrap::escrow_in(rtx, &udid)?;
                Ok::<_, MdmError>(Some(MdmState {
                    bootstrap_token,
                    state: MdmPhase::of(&e),
                    setup: e.setup.as_ref().map(SetupView::of),
                    udid: e.udid,
                    serial: e.serial,
                    topic: e.topic,
                    push_token_present: e.push_token.is_some(),
                    product: e.product,
                    os_version: e.os_version,
                    authenticated_at: e.authenticated_at,
                    last_check_in: e.last_seen,
                    release_deadline: e.release_deadline,
                    released_at: e.released_at,
                    checked_out_at: e.checked_out_at,
                    commands,
                }))
            })
            .await
    }

    /// Queues DeviceInformation with the usual queries.
    pub async fn refresh(&self, serial: &Serial, actor: &str) -> Result<String, MdmError> {
        let queries = DEFAULT_QUERIES.iter().map(|s| s.to_string()).collect();
        self.admin_command(serial, actor, Command::DeviceInformation { queries }, NORMAL).await
    }

    /// Queues Settings/DeviceName.
    pub async fn rename(
        &self,
        serial: &Serial,
        actor: &str,
        name: &str,
    ) -> Result<String, MdmError> {
        let name = name.trim();
        let max = crate::profiles::validate::NAME_TEMPLATE_MAX;
        if name.is_empty() || name.chars().count() > max || name.chars().any(char::is_control) {
            return Err(MdmError::Invalid {
                field: "name",
                message: format!("give a name of 1 to {max} characters without control characters"),
            });
        }
        let cmd = Command::DeviceName { name: name.to_string() };
        self.admin_command(serial, actor, cmd, NORMAL).await
    }

    /// Queues DeviceConfigured now (the device leaves "Awaiting final configuration").
    pub async fn release(&self, serial: &Serial, actor: &str) -> Result<String, MdmError> {
        self.admin_command(serial, actor, Command::DeviceConfigured, NORMAL).await
    }

    /// Queues EraseDevice ahead of everything else. `confirmation` must be the serial number.
    pub async fn erase(
        &self,
        serial: &Serial,
        actor: &str,
        confirmation: &str,
    ) -> Result<String, MdmError> {
        if *serial != confirmation {
            return Err(MdmError::Invalid {
                field: "confirm",
                message: format!("type the serial number {serial} to confirm the erase"),
            });
        }
        self.admin_command(serial, actor, Command::EraseDevice, URGENT).await
    }

    /// Sends the failed step that blocks the release again.
    pub async fn retry_step(&self, serial: &Serial, actor: &str) -> Result<String, MdmError> {
        self.setup_action(serial, actor, |e, wtx, now| {
            let run = e.setup.as_mut().ok_or_else(|| MdmError::NotBlocked(e.serial.clone()))?;
            let i = run.retry().ok_or_else(|| MdmError::NotBlocked(e.serial.clone()))?;
            let title = run.steps[i].title.clone();
            super::steps::advance_in(wtx, e, now)?;
            Ok(format!("retry of setup step {} ({title})", i + 1))
        })
        .await
    }

    /// Skips the remaining setup steps and releases the device.
    pub async fn release_anyway(&self, serial: &Serial, actor: &str) -> Result<String, MdmError> {
        let who = actor.to_string();
        self.setup_action(serial, actor, move |e, wtx, now| {
            let run = e.setup.as_mut().ok_or_else(|| MdmError::NotAwaiting(e.serial.clone()))?;
            run.release_anyway(&who);
            super::steps::advance_in(wtx, e, now)?;
            Ok("release anyway, without the remaining setup steps".to_string())
        })
        .await
    }

    /// One change to a waiting device's run, noted on its timeline, then a push.
    async fn setup_action<F>(
        &self,
        serial: &Serial,
        actor: &str,
        change: F,
    ) -> Result<String, MdmError>
    where
        F: FnOnce(
                &mut EnrollmentRec,
                &redb::WriteTransaction,
                OffsetDateTime,
            ) -> Result<String, MdmError>
            + Send
            + Clone
            + 'static,
    {
        let (serial, actor) = (serial.clone(), actor.to_string());
        let now = self.inner.clock.now();
        let (words, push) = self
            .inner
            .store
            .write(move |wtx| {
                let mut e = enrollment_of_serial(wtx, &serial)?;
                if e.checked_out_at.is_some() {
                    return Err(MdmError::CheckedOut);
                }
                if e.released_at.is_some() || !e.awaiting_configuration {
                    return Err(MdmError::NotAwaiting(serial.clone()));
                }
                let words = change(&mut e, wtx, now)?;
                save_enrollment(wtx, &e)?;
                crate::devices::note_in(
                    wtx,
                    &serial,
                    TimelineKind::MdmSetupStep,
                    format!("{actor} asked for a {words}"),
                    now,
                )?;
                Ok::<_, MdmError>((words, push_target(&e)))
            })
            .await?;
        self.nudge(push);
        Ok(words)
    }

    async fn admin_command(
        &self,
        serial: &Serial,
        actor: &str,
        command: Command,
        priority: u8,
    ) -> Result<String, MdmError> {
        let (serial, actor) = (serial.clone(), actor.to_string());
        let now = self.inner.clock.now();
        let (uuid, push) = self
            .inner
            .store
            .write(move |wtx| {
                let mut e = enrollment_of_serial(wtx, &serial)?;
                if e.checked_out_at.is_some() {
                    return Err(MdmError::CheckedOut);
                }
                let words = command.words();
                let uuid = enqueue_in(wtx, &mut e, command, priority, &actor, false, now)?;
                let push = super::queued_in(wtx, &e, format!("{actor} queued: {words}"), now)?;
                Ok::<_, MdmError>((uuid, push))
            })
            .await?;
        self.nudge(push);
        Ok(uuid)
    }

    /// How many commands are pending for `serial` (tests, the page).
    pub async fn pending(&self, serial: &Serial) -> Result<usize, MdmError> {
        Ok(self
            .state(serial)
            .await?
            .map_or(0, |s| s.commands.iter().filter(|c| c.state.is_pending()).count()))
    }
}

/// The enrollment of device `serial`, inside a write.
pub(super) fn enrollment_of_serial(
    wtx: &redb::WriteTransaction,
    serial: &Serial,
) -> Result<EnrollmentRec, MdmError> {
    let udid: Option<String> = store::get(&wtx.open_table(BY_SERIAL)?, serial.as_bytes())?;
    match udid {
        Some(u) => load_enrollment(wtx, &Udid::from_stored(u))?,
        None => None,
    }
    .ok_or_else(|| MdmError::UnknownDevice(serial.to_string()))
}

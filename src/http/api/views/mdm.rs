//! Views of a device's MDM state and command history (`/api/v1/devices/{serial}/mdm`).

use serde::Serialize;
use time::OffsetDateTime;
use utoipa::ToSchema;

/// A device's MDM state for the page.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct MdmState {
    pub udid: String,
    pub serial: String,
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
    /// The device escrowed a bootstrap token (the token itself is never shown).
    pub bootstrap_token: Option<BootstrapEscrow>,
    /// Newest first.
    pub commands: Vec<CommandView>,
    /// The setup steps run while Setup Assistant waited, in order, and the step that blocks
    /// the release (`blocked_at`, 0-based); absent when the device never waited.
    #[schema(value_type = Option<Object>)]
    pub setup: Option<serde_json::Value>,
}

/// Where a device stands with MDM.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, ToSchema)]
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

impl From<crate::mdm::MdmPhase> for MdmPhase {
    fn from(p: crate::mdm::MdmPhase) -> MdmPhase {
        use crate::mdm::MdmPhase as P;
        match p {
            P::Authenticated => MdmPhase::Authenticated,
            P::AwaitingConfiguration => MdmPhase::AwaitingConfiguration,
            P::Enrolled => MdmPhase::Enrolled,
            P::CheckedOut => MdmPhase::CheckedOut,
        }
    }
}

/// When a device escrowed its bootstrap token.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct BootstrapEscrow {
    #[serde(with = "time::serde::rfc3339")]
    pub escrowed_at: OffsetDateTime,
    /// Sent while Setup Assistant waited for final configuration.
    pub awaiting_configuration: bool,
}

impl From<&crate::mdm::MdmState> for MdmState {
    fn from(r: &crate::mdm::MdmState) -> MdmState {
        MdmState {
            udid: r.udid.to_string(),
            serial: r.serial.to_string(),
            state: r.state.into(),
            topic: r.topic.clone(),
            push_token_present: r.push_token_present,
            product: r.product.clone(),
            os_version: r.os_version.clone(),
            authenticated_at: r.authenticated_at,
            last_check_in: r.last_check_in,
            release_deadline: r.release_deadline,
            released_at: r.released_at,
            checked_out_at: r.checked_out_at,
            bootstrap_token: r.bootstrap_token.as_ref().map(|b| BootstrapEscrow {
                escrowed_at: b.escrowed_at,
                awaiting_configuration: b.awaiting_configuration,
            }),
            commands: r.commands.iter().map(Into::into).collect(),
            setup: r.setup.as_ref().and_then(|s| serde_json::to_value(s).ok()),
        }
    }
}

/// One command and its result.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct CommandView {
    pub uuid: String,
    pub request_type: String,
    pub words: String,
    pub state: CommandState,
    pub origin: String,
    #[serde(with = "time::serde::rfc3339")]
    pub queued_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub sent_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub answered_at: Option<OffsetDateTime>,
    pub not_now_count: u32,
    #[schema(value_type = Option<Object>)]
    pub result: Option<serde_json::Value>,
    pub error_chain: Vec<ErrorView>,
    pub note: Option<String>,
}

impl From<&crate::mdm::CommandView> for CommandView {
    fn from(r: &crate::mdm::CommandView) -> CommandView {
        CommandView {
            uuid: r.uuid.clone(),
            request_type: r.request_type.clone(),
            words: r.words.clone(),
            state: (&r.state).into(),
            origin: r.origin.clone(),
            queued_at: r.queued_at,
            sent_at: r.sent_at,
            answered_at: r.answered_at,
            not_now_count: r.not_now_count,
            result: r.result.clone(),
            error_chain: r.error_chain.iter().map(Into::into).collect(),
            note: r.note.clone(),
        }
    }
}

/// One entry of a device's `ErrorChain`, as the device reported it.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct ErrorView {
    pub code: Option<i64>,
    pub domain: Option<String>,
    pub description: Option<String>,
}

impl From<&crate::mdm::ErrorView> for ErrorView {
    fn from(r: &crate::mdm::ErrorView) -> ErrorView {
        ErrorView { code: r.code, domain: r.domain.clone(), description: r.description.clone() }
    }
}

/// Where a command stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CommandState {
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

impl From<&crate::mdm::CommandStatus> for CommandState {
    fn from(r: &crate::mdm::CommandStatus) -> CommandState {
        use crate::mdm::CommandStatus;
        match r {
            CommandStatus::Queued => CommandState::Queued,
            CommandStatus::NotNow => CommandState::NotNow,
            CommandStatus::Acknowledged => CommandState::Acknowledged,
            CommandStatus::Error => CommandState::Error,
            CommandStatus::CommandFormatError => CommandState::CommandFormatError,
            CommandStatus::Canceled => CommandState::Canceled,
        }
    }
}

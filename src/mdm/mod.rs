//! MDM: the check-in and command server (../shared/spec/enrollment.md §4), each device's
//! command queue, and releasing devices from "Awaiting final configuration" (§4.5).
//!
//! Owns the tables `mdm.enrollments`, `mdm.udid_by_serial` and `mdm.commands` ([`records`]),
//! and `mdm.held` with `mdm.meta` (the devices a failed setup step holds, [`Mdm::held`]).
//! Exposes [`Mdm`]: [`Mdm::check_in`] and [`Mdm::connect`] for the device routes (the caller
//! has proven which certificate the device holds: TLS or `Mdm-Signature`), and the admin
//! actions ([`Mdm::state`], [`Mdm::refresh`], [`Mdm::rename`], [`Mdm::release`],
//! [`Mdm::erase`], and for a blocked setup step [`Mdm::retry_step`], [`Mdm::release_anyway`]),
//! and the command API ([`Mdm::enqueue_request`], [`Mdm::push_ids`]; `scripted`). While Setup
//! Assistant waits, the profile's setup steps run before DeviceConfigured (`steps`, with the
//! run planned by [`crate::setup`]). Whenever a command is queued for a device with a push
//! token, it calls the [`PushNudge`] the daemon gave it. Device lifecycle ("Enrolled",
//! "Checked out") and timeline events go through `devices` in the same transaction.
//!
//! Calls acme (which certificate belongs to which device), devices, profiles (the device
//! name template), enroll (Return to Service enrollment profiles) and setup (the steps). Must not use: http, daemon, actix types.

mod bootstrap;
mod checkin;
mod connect;
mod held;
mod queue;
pub mod records;
mod rts;
mod scripted;
mod steps;
mod view;

pub use held::{Held, HeldDevice};
pub use queue::{MAX_HISTORY, MAX_PENDING, pick_next};
pub use records::TABLES;
pub use scripted::{IdOutcome, MAX_IDS, permission_for, split_ids};
pub use steps::SETUP_ORIGIN;
pub use view::{
    CommandStatus, CommandView, ErrorView, MdmPhase, MdmState, SetupStepView, SetupView,
};

use crate::apple::mdm::MdmWireError;
use crate::clock::Clock;
use crate::ids::Serial;
use crate::store::{Store, StoreError};
use std::sync::Arc;
use time::Duration;

/// Where and how to push a device (APNs, spec §5.1): push's own type, so the daemon can hand
/// MDM's nudges straight to the APNs worker.
pub use crate::push::PushTarget;

/// Asks APNs to wake a device. Called after the commit that queued a command; must not block
/// (spawn the push). The daemon wires the APNs client here.
pub type PushNudge = Arc<dyn Fn(PushTarget) + Send + Sync>;

#[derive(Clone, Debug)]
pub struct MdmOptions {
    /// How long DeviceConfigured waits for the commands queued before it (the device name);
    /// after that the device is released anyway, with a warning on its timeline.
    pub release_timeout: Duration,
}

impl Default for MdmOptions {
    fn default() -> Self {
        MdmOptions { release_timeout: Duration::minutes(5) }
    }
}

/// The identity a device request proved (the caller checked the TLS handshake or the
/// `Mdm-Signature`): the SHA-256 of the certificate's DER, lower-case hex.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeviceIdentity {
    pub cert_sha256: String,
}

#[derive(Debug, thiserror::Error)]
pub enum MdmError {
    /// The body is not a message we can read.
    #[error("{0}")]
    Wire(#[from] MdmWireError),
    #[error(
        "this certificate was not issued to a device by this appliance; the device must enroll again"
    )]
    UnknownIdentity,
    #[error("this certificate belongs to another device than the UDID in the message")]
    WrongDevice,
    #[error("the device's identity certificate expired; the device must enroll again")]
    IdentityExpired,
    #[error("the device's identity certificate was revoked; the device must enroll again")]
    IdentityRevoked,
    #[error("this device has not authenticated with MDM (no Authenticate check-in yet)")]
    NotEnrolled,
    #[error("this device checked out of MDM; it must enroll again")]
    CheckedOut,
    #[error("device {0} has no MDM enrollment on this appliance")]
    UnknownDevice(String),
    #[error(
        "device {serial} already has {max} commands waiting; wait until it checks in, or erase \
         and re-enroll it"
    )]
    QueueFull { serial: Serial, max: usize },
    #[error("{field}: {message}")]
    Invalid { field: &'static str, message: String },
    #[error("device {0} has no setup step that failed and blocks its release")]
    NotBlocked(Serial),
    #[error("device {0} is not waiting in Setup Assistant (it was released or never waited)")]
    NotAwaiting(Serial),
    #[error(
        "device {serial} already has a command with the CommandUUID {uuid}; give each command a new one"
    )]
    DuplicateCommand { serial: Serial, uuid: String },
    #[error(transparent)]
    Setup(#[from] crate::setup::SetupError),
    #[error("the device identity lookup failed: {0}")]
    Lookup(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

crate::store::redb_errors_into!(MdmError);

/// Where a waiting device's plan comes from: the device name template (`profiles`), the
/// setup steps (`setup`) and the enrollment profile a device returning to service installs
/// (`enroll`, signed when the device is handed it). `None`: no name, the default steps, no
/// enrollment profile in Return to Service (unit tests).
#[derive(Clone, Default)]
pub struct Plans {
    pub profiles: Option<crate::profiles::Profiles>,
    pub setup: Option<crate::setup::Setup>,
    pub enroll: Option<crate::enroll::Enroll>,
    /// Apple's schemas (`[mdm] schemas_dir`): the command API checks each device's command.
    pub schemas: crate::schemas::AppleSchemas,
}

#[derive(Clone)]
pub struct Mdm {
    inner: Arc<Inner>,
}

struct Inner {
    store: Store,
    clock: Clock,
    devices: crate::devices::Devices,
    /// The device name templates (None: devices are not renamed; unit tests).
    profiles: Option<crate::profiles::Profiles>,
    /// The profiles' setup steps (None: the default list, the device name; unit tests).
    setup: Option<crate::setup::Setup>,
    /// Signs Return to Service enrollment profiles (None: unit tests).
    enroll: Option<crate::enroll::Enroll>,
    schemas: crate::schemas::AppleSchemas,
    acme: crate::acme::AcmeService,
    options: MdmOptions,
    nudge: PushNudge,
}

impl Mdm {
    pub fn new(
        store: Store,
        clock: Clock,
        devices: crate::devices::Devices,
        plans: Plans,
        acme: crate::acme::AcmeService,
        options: MdmOptions,
        nudge: PushNudge,
    ) -> Mdm {
        let Plans { profiles, setup, enroll, schemas } = plans;
        let inner =
            Inner { store, clock, devices, profiles, setup, enroll, schemas, acme, options, nudge };
        Mdm { inner: Arc::new(inner) }
    }

    /// Which device a certificate was issued to, refusing unknown and expired ones.
    /// ACME records every identity it issues; the SCEP path records its own the same way.
    async fn issued_to(
        &self,
        identity: &DeviceIdentity,
    ) -> Result<crate::acme::IssuedTo, MdmError> {
        let issued = self
            .inner
            .acme
            .device_for_certificate(&identity.cert_sha256)
            .await
            .map_err(|e| MdmError::Lookup(e.to_string()))?
            .ok_or(MdmError::UnknownIdentity)?;
        if issued.revoked.is_some() {
            return Err(MdmError::IdentityRevoked);
        }
        if issued.not_after < self.inner.clock.now() {
            return Err(MdmError::IdentityExpired);
        }
        Ok(issued)
    }

    /// Apple's schemas the commands are checked against (off without `[mdm] schemas_dir`).
    pub fn schemas(&self) -> &crate::schemas::AppleSchemas {
        &self.inner.schemas
    }

    /// Pushes, after a commit, to a device that has a push token.
    fn nudge(&self, target: Option<PushTarget>) {
        if let Some(t) = target {
            (self.inner.nudge)(t);
        }
    }
}

/// The tail of queueing a command for a device, inside the write: the enrollment saved, the
/// command noted on the device's timeline (`words`); the push target to nudge after the commit.
fn queued_in(
    wtx: &redb::WriteTransaction,
    e: &records::EnrollmentRec,
    words: String,
    now: time::OffsetDateTime,
) -> Result<Option<PushTarget>, MdmError> {
    records::save_enrollment(wtx, e)?;
    let kind = crate::devices::TimelineKind::MdmCommandQueued;
    crate::devices::note_in(wtx, &e.serial, kind, words, now)?;
    Ok(push_target(e))
}

/// The push target of an enrollment, if it can be pushed.
fn push_target(e: &records::EnrollmentRec) -> Option<PushTarget> {
    if e.checked_out_at.is_some() {
        return None;
    }
    let token = hex::decode(e.push_token.as_deref()?).ok()?;
    Some(PushTarget {
        udid: e.udid.clone(),
        token,
        push_magic: e.push_magic.clone()?,
        topic: e.topic.clone(),
    })
}

#[cfg(test)]
mod tests;

//! Return to Service from the device page and the API (`../shared/spec/apple-2026.md` §2):
//! the admin's typed confirmation, the systems that take it, the Wi-Fi profile checked as a
//! setup step's upload is (and holding a `com.apple.wifi.managed` payload), then one write:
//! the device's settings (`lifecycle::rts`), the `EraseDevice` ahead of everything else and a
//! timeline note. The enrollment profile the device installs after the erase is signed by
//! `enroll` each time the device is handed the settings ([`Mdm::handover_profile`]: the erase
//! when it is sent, the answer to a `ReturnToService` check-in), never stored: its one-time
//! ACME identity lives an hour, and a device may erase, or its user start Return to Service,
//! long after the admin did.

use super::queue::{URGENT, enqueue_in};
use super::records::{COMMANDS, ENROLLMENTS, EnrollmentRec, commands_of};
use super::view::enrollment_of_serial;
use super::{Mdm, MdmError};
use crate::apple::mdm::Command;
use crate::devices::TimelineKind;
use crate::ids::{Serial, Udid};
use crate::lifecycle::rts::{RtsSettings, set_in};
use crate::store;

/// What [`Mdm::handover_profile`] made: the signed profile, or why none could be made (the
/// device is then handed the settings without one and fetches its enrollment profile as in
/// Setup Assistant, apple-2026.md §2.2 `MDMProfileData`).
pub(super) type Handover = Result<Vec<u8>, String>;

/// Which hand-over [`Mdm::handover_profile`] prepares.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum HandoverKind {
    /// The device polls for commands: a Return to Service erase waits to be sent.
    Erase,
    /// The device sent a `ReturnToService` check-in: the admin started it before.
    CheckIn,
}

/// The payload type a Return to Service Wi-Fi profile must carry (Apple's `WiFi.yaml`).
pub const WIFI_PAYLOAD_TYPE: &str = "com.apple.wifi.managed";

/// A Return to Service the admin asked for, checked, before its enrollment profile is made.
#[derive(Clone)]
pub struct RtsPlan {
    pub serial: Serial,
    pub udid: Udid,
    pub product: Option<String>,
    pub os_version: Option<String>,
    wifi: Option<(String, Vec<u8>)>,
}

impl Mdm {
    /// Checks a Return to Service request: `confirmation` must be the serial number, the
    /// device enrolled on a system that takes it, `wifi` (optional) a configuration profile
    /// with a Wi-Fi payload. Nothing is stored.
    pub async fn plan_return_to_service(
        &self,
        serial: &Serial,
        confirmation: &str,
        wifi: Option<Vec<u8>>,
    ) -> Result<RtsPlan, MdmError> {
        if *serial != confirmation {
            return Err(MdmError::Invalid {
                field: "confirm",
                message: format!("type the serial number {serial} to confirm the erase"),
            });
        }
        let wifi = wifi.map(|bytes| check_wifi(&bytes).map(|name| (name, bytes))).transpose()?;
        let e =
            self.state(serial).await?.ok_or_else(|| MdmError::UnknownDevice(serial.to_string()))?;
        if e.checked_out_at.is_some() {
            return Err(MdmError::CheckedOut);
        }
        crate::apple::mdm::rts::allowed(e.product.as_deref(), e.os_version.as_deref())
            .map_err(|message| MdmError::Invalid { field: "device", message })?;
        Ok(RtsPlan {
            serial: serial.clone(),
            udid: e.udid,
            product: e.product,
            os_version: e.os_version,
            wifi,
        })
    }

    /// Stores the settings and queues the erase; the command's UUID.
    pub async fn return_to_service(&self, plan: RtsPlan, actor: &str) -> Result<String, MdmError> {
        let actor = actor.to_string();
        let now = self.inner.clock.now();
        let sealer = self.inner.store.sealer().clone();
        let (uuid, push) = self
            .inner
            .store
            .write(move |wtx| {
                let mut e = enrollment_of_serial(wtx, &plan.serial)?;
                if e.checked_out_at.is_some() || e.udid != plan.udid {
                    return Err(MdmError::CheckedOut);
                }
                let wifi_name = plan.wifi.as_ref().map(|(n, _)| n.clone());
                let settings = RtsSettings { wifi: plan.wifi, by: actor.clone() };
                set_in(wtx, &sealer, &e.udid, &settings, now)?;
                let cmd = Command::ReturnToService;
                let uuid = enqueue_in(wtx, &mut e, cmd, URGENT, &actor, false, now)?;
                let wifi = match wifi_name {
                    Some(n) => format!(", joining Wi-Fi with \"{n}\""),
                    None => ", without a Wi-Fi profile".into(),
                };
                let words =
                    format!("{actor} queued: Erase the device and return it to service{wifi}");
                let push = super::queued_in(wtx, &e, words, now)?;
                Ok::<_, MdmError>((uuid, push))
            })
            .await?;
        self.nudge(push);
        Ok(uuid)
    }
}

impl Mdm {
    /// The enrollment profile for the device enrolled as `udid`, signed now with a fresh
    /// one-time identity, when it is about to be handed Return to Service (`kind`); `None`
    /// when it is not (the common case costs one read) or nothing signs profiles (unit tests).
    pub(super) async fn handover_profile(
        &self,
        udid: &Udid,
        kind: HandoverKind,
    ) -> Result<Option<Handover>, MdmError> {
        let Some(enroll) = &self.inner.enroll else { return Ok(None) };
        let key = udid.clone();
        let due = self
            .inner
            .store
            .read(move |rtx| {
                let e: Option<EnrollmentRec> =
                    store::get(&rtx.open_table(ENROLLMENTS)?, key.key().as_bytes())?;
                let Some(e) = e.filter(|e| e.checked_out_at.is_none()) else { return Ok(None) };
                let due = match kind {
                    HandoverKind::Erase => commands_of(&rtx.open_table(COMMANDS)?, &key)?
                        .iter()
                        .any(|c| c.command == Command::ReturnToService && c.state.is_pending()),
                    HandoverKind::CheckIn => crate::lifecycle::rts::is_set_in(rtx, &key)?,
                };
                Ok::<_, MdmError>(due.then_some(e))
            })
            .await?;
        let Some(e) = due else { return Ok(None) };
        let (product, os) = (e.product.as_deref(), e.os_version.as_deref());
        let made = enroll.device_profile(udid, &e.serial, product, os).await;
        Ok(Some(made.map_err(|err| {
            log::warn!(serial = e.serial.as_str(); "Return to Service enrollment profile not made: {err}");
            err.to_string()
        })))
    }
}

/// The enrollment profile to hand over, noting on the timeline when none could be made.
pub(super) fn handed_profile_in(
    wtx: &redb::WriteTransaction,
    serial: &Serial,
    made: Option<Handover>,
    now: time::OffsetDateTime,
) -> Result<Option<Vec<u8>>, MdmError> {
    match made {
        Some(Ok(profile)) => Ok(Some(profile)),
        Some(Err(why)) => {
            crate::devices::note_in(
                wtx,
                serial,
                TimelineKind::MdmCommandFailed,
                format!(
                    "Return to Service goes without an enrollment profile ({why}); after the \
                     erase the device fetches it as in Setup Assistant"
                ),
                now,
            )?;
            Ok(None)
        }
        None => Ok(None),
    }
}

/// The Wi-Fi profile's name, or why it cannot be used.
fn check_wifi(bytes: &[u8]) -> Result<String, MdmError> {
    let checked = crate::setup::upload::check(bytes).map_err(|e| MdmError::Invalid {
        field: "wifi_profile",
        message: format!("the Wi-Fi profile cannot be used: {e}"),
    })?;
    if !checked.payload_types.iter().any(|t| t == WIFI_PAYLOAD_TYPE) {
        return Err(MdmError::Invalid {
            field: "wifi_profile",
            message: format!(
                "the profile \"{}\" has no Wi-Fi payload ({WIFI_PAYLOAD_TYPE}); export one with \
                 the network's Wi-Fi settings and upload that",
                checked.name
            ),
        });
    }
    Ok(checked.name)
}

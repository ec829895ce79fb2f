//! Return to Service from the device page and the API (`../shared/spec/apple-2026.md` §2):
//! the admin's typed confirmation, the systems that take it, the Wi-Fi profile checked as a
//! setup step's upload is (and holding a `com.apple.wifi.managed` payload), then one write:
//! the device's settings (`lifecycle::rts`), the `EraseDevice` ahead of everything else and a
//! timeline note. The enrollment profile the device installs after the erase is made by
//! `enroll` between [`Mdm::plan_return_to_service`] and [`Mdm::return_to_service`].

use super::queue::{URGENT, enqueue_in};
use super::view::enrollment_of_serial;
use super::{Mdm, MdmError};
use crate::apple::mdm::Command;
use crate::ids::{Serial, Udid};
use crate::lifecycle::rts::{RtsSettings, set_in};

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
            udid: Udid::from_stored(e.udid),
            product: e.product,
            os_version: e.os_version,
            wifi,
        })
    }

    /// Stores the settings and queues the erase; the command's UUID.
    pub async fn return_to_service(
        &self,
        plan: RtsPlan,
        mdm_profile: Vec<u8>,
        actor: &str,
    ) -> Result<String, MdmError> {
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
                let settings = RtsSettings { wifi: plan.wifi, mdm_profile, by: actor.clone() };
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

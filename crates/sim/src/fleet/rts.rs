//! A kept device carrying out Return to Service (`../shared/spec/apple-2026.md` §2.1, §2.5):
//! it reads the `EraseDevice` strictly, acknowledges it, "erases", joins the network of the
//! Wi-Fi profile it was given (which must be a configuration profile with a
//! `com.apple.wifi.managed` payload) and enrolls again by itself, installing the
//! `MDMProfileData` it was given instead of asking the profile URL; then ACME and MDM as any
//! device, until released. A user can also start it on the device (§2.4): the device sends
//! the `ReturnToService` check-in and carries out the answer the same way.

use super::mdm::EnrolledDevice;
use super::report::DeviceOutcome;
use super::wire::command::{Command, Request, Rts, read_return_to_service_answer};
use super::{Fleet, device};
use time::OffsetDateTime;

/// How many polls a device makes waiting for the erase.
const MAX_POLLS: usize = 50;

impl Fleet {
    /// `kept` (released by this fleet, see [`Fleet::keeping`]) polls until it is sent an
    /// `EraseDevice` with Return to Service, carries it out and enrolls again; the outcome of
    /// that second enrollment. The error is a short reason (`rts_without_mdm_profile`, …).
    pub async fn return_to_service(
        &self,
        kept: &EnrolledDevice,
        now: OffsetDateTime,
    ) -> Result<DeviceOutcome, String> {
        let mut answer: Option<(String, String)> = None;
        for _ in 0..MAX_POLLS {
            let given = answer.as_ref().map(|(u, t)| (u.as_str(), t.as_str()));
            match kept.exchange(given).await? {
                Some(Command {
                    uuid,
                    request: Request::EraseDevice { return_to_service: Some(rts), .. },
                }) => {
                    let profile = given_profile(&rts)?;
                    kept.exchange(Some((&uuid, "EraseDevice"))).await?;
                    let ctx = self.ctx(now, None).await;
                    return Ok(
                        device::enroll_given(ctx, 0, kept.device.clone(), Some(profile)).await
                    );
                }
                Some(c) => answer = Some((c.uuid, c.request.request_type().to_string())),
                None => {
                    answer = None;
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                }
            }
        }
        Err("no_return_to_service_erase".into())
    }

    /// The user of `kept` starts Return to Service on the device (§2.4): it sends the
    /// `ReturnToService` check-in, reads the answer strictly, erases and enrolls again with
    /// what it was given; the outcome of that enrollment.
    pub async fn user_return_to_service(
        &self,
        kept: &EnrolledDevice,
        now: OffsetDateTime,
    ) -> Result<DeviceOutcome, String> {
        let answer = kept.check_in("ReturnToService").await?;
        let rts = read_return_to_service_answer(&answer).map_err(|e| e.code("rts_answer"))?;
        let profile = given_profile(&rts)?;
        let ctx = self.ctx(now, None).await;
        Ok(device::enroll_given(ctx, 0, kept.device.clone(), Some(profile)).await)
    }
}

/// What a device needs to return to service unattended: `Enabled`, a usable Wi-Fi profile if
/// one is given, and the enrollment profile.
fn given_profile(rts: &Rts) -> Result<Vec<u8>, String> {
    if !rts.enabled {
        return Err("rts_not_enabled".into());
    }
    if let Some(wifi) = &rts.wifi_profile {
        joins_wifi(wifi)?;
    }
    rts.mdm_profile.clone().ok_or_else(|| "rts_without_mdm_profile".into())
}

/// The Wi-Fi profile must be a configuration profile (signed or not) with a Wi-Fi payload.
fn joins_wifi(bytes: &[u8]) -> Result<(), String> {
    let content = match crate::crypto::cms::verify_signed(bytes) {
        Ok(signed) => signed.content,
        Err(_) => bytes.to_vec(),
    };
    let wifi = plist::Value::from_reader(std::io::Cursor::new(content))
        .ok()
        .and_then(|v| v.into_dictionary())
        .and_then(|d| d.get("PayloadContent").and_then(|p| p.as_array()).cloned())
        .is_some_and(|payloads| {
            payloads.iter().any(|p| {
                p.as_dictionary().and_then(|d| d.get("PayloadType")).and_then(|t| t.as_string())
                    == Some("com.apple.wifi.managed")
            })
        });
    if wifi { Ok(()) } else { Err("rts_wifi_profile_without_wifi_payload".into()) }
}

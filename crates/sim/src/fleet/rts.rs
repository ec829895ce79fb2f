//! A kept device carrying out Return to Service (`../shared/spec/apple-2026.md` §2.1, §2.5):
//! it reads the `EraseDevice` strictly, acknowledges it, "erases", joins the network of the
//! Wi-Fi profile it was given (which must be a configuration profile with a
//! `com.apple.wifi.managed` payload) and enrolls again by itself, installing the
//! `MDMProfileData` it was given instead of asking the profile URL; then ACME and MDM as any
//! device, until released. A user can also start it on the device (§2.4): the device sends
//! the `ReturnToService` check-in and carries out the answer the same way.
//!
//! When that first enrollment after the erase fails (the server unreachable, a refusal), the
//! device tries again only if it was given `ShouldRetryEnrollment` (§2.2, iOS/iPadOS 27):
//! Apple says it backs off "up to 5 minutes" and names neither the first wait nor a limit,
//! so this device doubles its wait from [`Fleet::retrying_enrollment_after`] (10 s unless
//! set) up to [`MAX_RETRY_WAIT`], and stops after [`MAX_ENROLLMENT_ATTEMPTS`] so a run ends.
//! Without the key one failed enrollment is where it stays, as a device left in Setup
//! Assistant does.

use super::mdm::EnrolledDevice;
use super::report::DeviceOutcome;
use super::wire::command::{Command, Request, Rts, read_return_to_service_answer};
use super::{Fleet, device};
use std::time::Duration;
use time::OffsetDateTime;

/// How many polls a device makes waiting for the erase.
const MAX_POLLS: usize = 50;

/// The longest wait between two enrollment attempts after the erase (§2.2: "backing off up to
/// 5 minutes").
pub const MAX_RETRY_WAIT: Duration = Duration::from_secs(5 * 60);

/// How many enrollment attempts a simulated device makes after the erase with
/// `ShouldRetryEnrollment` before the run counts it failed (a real device keeps trying).
pub const MAX_ENROLLMENT_ATTEMPTS: u32 = 8;

/// The waits before each retry: `first`, doubled each time, never over [`MAX_RETRY_WAIT`].
pub fn retry_waits(first: Duration) -> impl Iterator<Item = Duration> {
    std::iter::successors(Some(first.min(MAX_RETRY_WAIT)), |w| Some((*w * 2).min(MAX_RETRY_WAIT)))
        .take(MAX_ENROLLMENT_ATTEMPTS as usize - 1)
}

impl Fleet {
    /// `kept` (released by this fleet, see [`Fleet::keeping`]) polls until it is sent an
    /// `EraseDevice` with Return to Service, carries it out and enrolls again; the outcome of
    /// that second enrollment. The error is a short reason (`rts_without_mdm_profile`, …).
    pub async fn return_to_service(
        &self,
        kept: &EnrolledDevice,
        now: OffsetDateTime,
    ) -> Result<DeviceOutcome, String> {
        let rts = self.receive_return_to_service(kept).await?;
        self.enroll_after_erase(kept, &rts, now).await
    }

    /// The first half of [`Fleet::return_to_service`]: `kept` polls until it is sent an
    /// `EraseDevice` with Return to Service it can carry out, and acknowledges it; what it
    /// was given.
    pub async fn receive_return_to_service(&self, kept: &EnrolledDevice) -> Result<Rts, String> {
        let mut answer: Option<(String, String)> = None;
        for _ in 0..MAX_POLLS {
            let given = answer.as_ref().map(|(u, t)| (u.as_str(), t.as_str()));
            match kept.exchange(given).await? {
                Some(Command {
                    uuid,
                    request: Request::EraseDevice { return_to_service: Some(rts), .. },
                }) => {
                    given_profile(&rts)?;
                    kept.exchange(Some((&uuid, "EraseDevice"))).await?;
                    return Ok(rts);
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
        self.enroll_after_erase(kept, &rts, now).await
    }

    /// The second half: the erased `kept` enrolls with what `rts` gave it, again and again
    /// while it fails if `rts` says `ShouldRetryEnrollment` (see the module doc); the outcome
    /// of the last attempt, whose `attempts` counts them.
    pub async fn enroll_after_erase(
        &self,
        kept: &EnrolledDevice,
        rts: &Rts,
        now: OffsetDateTime,
    ) -> Result<DeviceOutcome, String> {
        let profile = given_profile(rts)?;
        let mut waits = retry_waits(self.retry_first);
        let mut attempts = 1;
        loop {
            let ctx = self.ctx(now, None).await;
            let mut outcome =
                device::enroll_given(ctx, 0, kept.device.clone(), Some(profile.clone())).await;
            outcome.attempts = attempts;
            let wait = if rts.should_retry_enrollment { waits.next() } else { None };
            match wait {
                Some(wait) if !outcome.released => {
                    log::info!(
                        serial = kept.device.serial.as_str(), attempt = attempts,
                        failure = outcome.failure.as_deref().unwrap_or_default();
                        "simulated device retries its enrollment after Return to Service"
                    );
                    tokio::time::sleep(wait).await;
                    attempts += 1;
                }
                _ => return Ok(outcome),
            }
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_double_their_wait_up_to_five_minutes_and_end() {
        let waits: Vec<u64> = retry_waits(Duration::from_secs(10)).map(|w| w.as_secs()).collect();
        assert_eq!(waits, [10, 20, 40, 80, 160, 300, 300]);
        assert_eq!(waits.len() as u32, MAX_ENROLLMENT_ATTEMPTS - 1);
        let long: Vec<u64> = retry_waits(Duration::from_secs(600)).map(|w| w.as_secs()).collect();
        assert!(long.iter().all(|w| *w == 300), "{long:?}");
    }
}

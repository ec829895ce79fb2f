//! The smaller DEP features on the simulated world: activation lock, replacement details,
//! the account-driven enrollment profile and AppleSeed for IT beta tokens (dep-api.md §3).
//! Pure: time comes in as `now`.

use crate::apple::dep::{
    AccountDrivenEnrollmentProfile, ActivationLockStatus, BetaEnrollmentToken, ReplacementDetails,
};
use crate::dep::catalog::{self, Family};
use crate::dep::render::rfc3339;
use crate::dep::world::{ServerId, World};
use crate::rng::mix;
use std::sync::Arc;
use time::OffsetDateTime;

impl World {
    /// `POST /device/activationlock` for one serial.
    pub fn activation_lock(&mut self, server: ServerId, serial: &str) -> ActivationLockStatus {
        let Some(dev) = self.device_at(server, serial) else {
            return ActivationLockStatus::NotAccessible;
        };
        // Apple documents DEVICE_NOT_SUPPORTED "e.g. Mac" (ADS).
        if dev.model().family == Family::Mac {
            return ActivationLockStatus::DeviceNotSupported;
        }
        let srv = &mut self.servers[server as usize];
        if srv.locked.insert(Arc::clone(&dev.serial)) {
            ActivationLockStatus::Success
        } else {
            ActivationLockStatus::DeviceAlreadyLocked
        }
    }

    /// `GET /device/replacementDetails`: only replacement devices this server holds.
    pub fn replacement_details(
        &self,
        server: ServerId,
        serial: &str,
    ) -> Option<ReplacementDetails> {
        let dev = self.device_at(server, serial).filter(|d| d.is_replacement)?;
        let mut rng = crate::rng::SimRng::new(mix(dev.hw));
        let original = catalog::serial(&mut rng, dev.serial.len());
        let date = rfc3339(dev.assigned_date - 86_400);
        Some(ReplacementDetails {
            serial_number: dev.serial.to_string(),
            original_device_serial_number: original,
            // A bare date, as in Apple's sample (`2025-01-15`).
            replacement_date: date.get(..10).map(str::to_string),
        })
    }

    pub fn ade_profile(&self, server: ServerId) -> Option<AccountDrivenEnrollmentProfile> {
        let (url, at) = self.servers.get(server as usize)?.ade_profile.clone()?;
        Some(AccountDrivenEnrollmentProfile {
            mdm_service_discovery_url: url,
            last_updated_timestamp: Some(rfc3339(at)),
        })
    }

    pub fn set_ade_profile(&mut self, server: ServerId, url: Option<String>, now: OffsetDateTime) {
        if let Some(s) = self.servers.get_mut(server as usize) {
            s.ade_profile = url.map(|u| (u, now.unix_timestamp()));
        }
    }

    /// A few stable beta tokens per server.
    pub fn beta_tokens(&self, server: ServerId) -> Vec<BetaEnrollmentToken> {
        let Some(s) = self.servers.get(server as usize) else { return Vec::new() };
        let seed = s.uuid.bytes().fold(0u64, |h, b| mix(h ^ u64::from(b)));
        [("iOS", "iOS 27 Beta"), ("OSX", "macOS 27 Beta"), ("visionOS", "visionOS 27 Beta")]
            .iter()
            .enumerate()
            .map(|(i, (os, title))| BetaEnrollmentToken {
                token: format!("{:016x}{:016x}", mix(seed ^ i as u64), mix(seed ^ (i as u64 + 7))),
                title: title.to_string(),
                os: os.to_string(),
            })
            .collect()
    }
}

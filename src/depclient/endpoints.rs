//! The DEP endpoints the product uses (dep-api.md §3), as methods on [`DepClient`].
//!
//! Each method checks only what Apple documents as a hard limit (≤ 1000 serials per request,
//! `limit` 1..=1000); everything else (empty lists, missing cursor, profile rules) is Apple's
//! to refuse, so the error the admin sees is Apple's.

use super::{DepClient, DepError};
use crate::apple::dep::{
    self, AccountDetail, ActivationLockRequest, ActivationLockResponse, AssignProfileRequest,
    AssignProfileResponse, ClearProfileRequest, ClearProfileResponse, DefineProfileResponse,
    DeviceListRequest, DeviceListResponse, DisownResponse, FetchDeviceRequest, FetchDeviceResponse,
    Profile, ReplacementDetails, paths,
};
use crate::crypto::oauth1::encode;
use crate::ids::ProfileUuid;
use reqwest::Method;
use serde::Serialize;

impl DepClient {
    /// `GET /account`: who this token belongs to (server uuid, org, admin).
    pub async fn account(&self) -> Result<AccountDetail, DepError> {
        self.call(Method::GET, paths::ACCOUNT, None).await
    }

    /// `POST /server/devices`: one page of the full device list. `cursor` is `None` on the
    /// first page; a finished fetch cursor answers [`DepError::CursorExhausted`].
    pub async fn fetch_devices(
        &self,
        cursor: Option<&str>,
        limit: u32,
    ) -> Result<FetchDeviceResponse, DepError> {
        let body =
            FetchDeviceRequest { cursor: cursor.map(str::to_owned), limit: Some(clamp(limit)) };
        self.call(Method::POST, paths::FETCH_DEVICES, Some(json(&body)?)).await
    }

    /// `POST /devices/sync`: changes since `cursor` (≤ 7 days old).
    pub async fn sync_devices(
        &self,
        cursor: &str,
        limit: u32,
    ) -> Result<FetchDeviceResponse, DepError> {
        let body =
            FetchDeviceRequest { cursor: Some(cursor.to_owned()), limit: Some(clamp(limit)) };
        self.call(Method::POST, paths::SYNC_DEVICES, Some(json(&body)?)).await
    }

    /// `POST /devices`: details of up to 1000 serials; unknown ones come back NOT_ACCESSIBLE.
    pub async fn device_details(&self, serials: &[String]) -> Result<DeviceListResponse, DepError> {
        let body = DeviceListRequest { devices: check_serials(serials)? };
        self.call(Method::POST, paths::DEVICE_DETAILS, Some(json(&body)?)).await
    }

    /// `POST /devices/disown`: permanently removes devices from the organisation. Irreversible;
    /// callers must make the admin confirm.
    pub async fn disown(&self, serials: &[String]) -> Result<DisownResponse, DepError> {
        let body = DeviceListRequest { devices: check_serials(serials)? };
        self.call(Method::POST, paths::DISOWN, Some(json(&body)?)).await
    }

    /// `POST /profile`: defines a profile (a new UUID every time).
    pub async fn define_profile(
        &self,
        profile: &Profile,
    ) -> Result<DefineProfileResponse, DepError> {
        check_serials(&profile.devices)?;
        self.call(Method::POST, paths::PROFILE, Some(json(profile)?)).await
    }

    /// `GET /profile?profile_uuid=…`.
    pub async fn get_profile(&self, profile_uuid: &ProfileUuid) -> Result<Profile, DepError> {
        let path = format!("{}?profile_uuid={}", paths::PROFILE, encode(profile_uuid.as_str()));
        self.call(Method::GET, &path, None).await
    }

    /// `POST /profile/devices`: assigns a profile to up to 1000 serials. Check per-device
    /// results: `THROTTLED` devices wait `retry_after_seconds`.
    pub async fn assign_profile(
        &self,
        profile_uuid: &ProfileUuid,
        serials: &[String],
    ) -> Result<AssignProfileResponse, DepError> {
        let body = AssignProfileRequest {
            profile_uuid: profile_uuid.to_string(),
            devices: check_serials(serials)?,
        };
        self.call(Method::POST, paths::PROFILE_DEVICES, Some(json(&body)?)).await
    }

    /// `DELETE /profile/devices`: removes any profile assignment from up to 1000 serials.
    pub async fn remove_profile(
        &self,
        serials: &[String],
    ) -> Result<ClearProfileResponse, DepError> {
        let body = ClearProfileRequest { profile_uuid: None, devices: check_serials(serials)? };
        self.call(Method::DELETE, paths::PROFILE_DEVICES, Some(json(&body)?)).await
    }

    /// `POST /device/activationlock`.
    pub async fn activation_lock(
        &self,
        request: &ActivationLockRequest,
    ) -> Result<ActivationLockResponse, DepError> {
        self.call(Method::POST, paths::ACTIVATION_LOCK, Some(json(request)?)).await
    }

    /// `GET /device/replacementDetails?device=…` (protocol 10).
    pub async fn replacement_details(&self, serial: &str) -> Result<ReplacementDetails, DepError> {
        let path = format!("{}?device={}", paths::REPLACEMENT_DETAILS, encode(serial));
        self.call(Method::GET, &path, None).await
    }
}

fn clamp(limit: u32) -> u32 {
    limit.clamp(1, dep::MAX_LIMIT)
}

fn check_serials(serials: &[String]) -> Result<Vec<String>, DepError> {
    if serials.len() > dep::MAX_DEVICES_PER_REQUEST {
        return Err(DepError::InvalidArgument(format!(
            "{} serial numbers in one request; Apple accepts at most {} — send them in batches",
            serials.len(),
            dep::MAX_DEVICES_PER_REQUEST
        )));
    }
    Ok(serials.to_vec())
}

fn json<T: Serialize>(body: &T) -> Result<Vec<u8>, DepError> {
    serde_json::to_vec(body)
        .map_err(|e| DepError::InvalidArgument(format!("request not encodable: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_are_clamped_to_apples_range() {
        assert_eq!(clamp(0), 1);
        assert_eq!(clamp(500), 500);
        assert_eq!(clamp(5000), 1000);
    }

    #[test]
    fn more_than_1000_serials_are_refused_before_sending() {
        let many: Vec<String> = (0..1001).map(|i| format!("S{i}")).collect();
        let err = check_serials(&many).unwrap_err();
        assert!(err.admin_message().contains("at most 1000"));
        assert_eq!(check_serials(&many[..1000]).unwrap().len(), 1000);
    }
}

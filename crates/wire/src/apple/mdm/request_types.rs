//! The MDM request types adebox knows (Apple's `mdm/commands/*.yaml`, one `requesttype`
//! each; a test keeps this list and Apple's files equal) and which of them are erase-like:
//! they destroy data, lock the device or its user out, or clear its protections, so only an
//! Owner may send them (issue 17's role table: `device_erase`).

/// Every `requesttype` of Apple's command schemas.
pub const KNOWN: &[&str] = &[
    "AccountConfiguration",
    "ActivationLockBypassCode",
    "ActiveNSExtensions",
    "ApplyRedemptionCode",
    "AvailableOSUpdates",
    "CertificateList",
    "ClearActivationLockBypassCode",
    "ClearPasscode",
    "ClearRestrictionsPassword",
    "ContentCachingInformation",
    "DeclarativeManagement",
    "DeleteUser",
    "DeviceConfigured",
    "DeviceInformation",
    "DeviceLocation",
    "DeviceLock",
    "DisableLostMode",
    "DisableRemoteDesktop",
    "EnableLostMode",
    "EnableRemoteDesktop",
    "EraseDevice",
    "InstallApplication",
    "InstallEnterpriseApplication",
    "InstallMedia",
    "InstallProfile",
    "InstallProvisioningProfile",
    "InstalledApplicationList",
    "InviteToProgram",
    "LOMDeviceRequest",
    "LOMSetupRequest",
    "LogOutUser",
    "ManagedApplicationAttributes",
    "ManagedApplicationConfiguration",
    "ManagedApplicationFeedback",
    "ManagedApplicationList",
    "ManagedMediaList",
    "NSExtensionMappings",
    "OSUpdateStatus",
    "PlayLostModeSound",
    "ProfileList",
    "ProvisioningProfileList",
    "RefreshCellularPlans",
    "RemoveApplication",
    "RemoveMedia",
    "RemoveProfile",
    "RemoveProvisioningProfile",
    "RequestMirroring",
    "RequestUnlockToken",
    "RestartDevice",
    "Restrictions",
    "RotateFileVaultKey",
    "ScheduleOSUpdate",
    "ScheduleOSUpdateScan",
    "SecurityInfo",
    "SetAutoAdminPassword",
    "SetFirmwarePassword",
    "SetRecoveryLock",
    "Settings",
    "ShutDownDevice",
    "StopMirroring",
    "UnlockUserAccount",
    "UserConfigured",
    "UserList",
    "ValidateApplications",
    "VerifyFirmwarePassword",
    "VerifyRecoveryLock",
];

/// Erase, lock and what removes a device's or user's protections: Owner only. `EraseDevice`
/// also carries Return to Service. `LOMDeviceRequest` can power a Mac off or erase it through
/// its lights-out controller.
pub const ERASE_LIKE: &[&str] = &[
    "EraseDevice",
    "DeviceLock",
    "EnableLostMode",
    "ClearPasscode",
    "ClearRestrictionsPassword",
    "ClearActivationLockBypassCode",
    "DeleteUser",
    "SetFirmwarePassword",
    "SetRecoveryLock",
    "LOMDeviceRequest",
];

/// How a request type is treated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Class {
    /// Known and not erase-like: Operators may send it.
    Known,
    /// Known and erase-like: Owner only.
    EraseLike,
    /// Not in Apple's schemas as adebox knows them: Owner only, with an explicit flag.
    Unknown,
}

pub fn classify(request_type: &str) -> Class {
    if ERASE_LIKE.contains(&request_type) {
        Class::EraseLike
    } else if KNOWN.contains(&request_type) {
        Class::Known
    } else {
        Class::Unknown
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_list_is_apples_request_types_exactly() {
        let Some(dir) = crate::fixtures::path("device-management/mdm/commands") else { return };
        let mut apple = Vec::new();
        for entry in std::fs::read_dir(dir).unwrap() {
            let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
            let rt = text.lines().find_map(|l| l.strip_prefix("  requesttype: ")).unwrap();
            apple.push(rt.trim().to_string());
        }
        apple.sort();
        let mut ours: Vec<String> = KNOWN.iter().map(|s| s.to_string()).collect();
        ours.sort();
        assert_eq!(ours, apple);
        assert!(ERASE_LIKE.iter().all(|e| KNOWN.contains(e)));
    }

    #[test]
    fn erase_like_and_unknown_types_are_told_apart() {
        assert_eq!(classify("EraseDevice"), Class::EraseLike);
        assert_eq!(classify("ProfileList"), Class::Known);
        assert_eq!(classify("FlyToTheMoon"), Class::Unknown);
        assert_eq!(classify("eraseDevice"), Class::Unknown);
    }
}

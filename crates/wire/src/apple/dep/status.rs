//! The status words of DEP responses: per-device results, `profile_status`, `op_type` and
//! activation-lock results (dep-api.md §3.2, §3.3).

use super::wire_enum::wire_enum;

wire_enum! {
    /// Per-device result of define/assign/remove/disown and `response_status` of
    /// `POST /devices` (dep-api.md §3.2, §3.3).
    DeviceStatus {
        Success => "SUCCESS",
        /// The serial is not assigned to this MDM server.
        NotAccessible => "NOT_ACCESSIBLE",
        /// Unexpected failure at Apple: retry later (Fleet found ~24 h cooldowns work).
        Failed => "FAILED",
        /// Protocol ≥ 9, assign only: retry after `retry_after_seconds`.
        Throttled => "THROTTLED",
    }
}

wire_enum! {
    /// `profile_status` of a device. Apple has been seen sending `""` (petarov fixture), read
    /// as `Empty` (dep-api.md §3.2).
    ProfileStatus {
        Empty => "empty" | "",
        Assigned => "assigned",
        Pushed => "pushed",
        Removed => "removed",
    }
}

wire_enum! {
    /// `op_type` of a sync record; absent on fetch records (dep-api.md §3.2 item 5, 8).
    OpType {
        /// Assigned to this MDM server (`op_date` = `device_assigned_date`).
        Added => "added",
        /// Profile assigned/pushed/removed, or (quirk) moved here from another server.
        Modified => "modified",
        /// Unassigned or moved away; may carry only serial, op_type, op_date.
        Deleted => "deleted",
    }
}

wire_enum! {
    /// `response_status` of `POST /device/activationlock` (dep-api.md §3.2).
    ActivationLockStatus {
        Success => "SUCCESS",
        NotAccessible => "NOT_ACCESSIBLE",
        OrgNotSupported => "ORG_NOT_SUPPORTED",
        DeviceNotSupported => "DEVICE_NOT_SUPPORTED",
        DeviceAlreadyLocked => "DEVICE_ALREADY_LOCKED",
        Failed => "FAILED",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trips<T>(all: &[T])
    where
        T: serde::Serialize + serde::de::DeserializeOwned + PartialEq + std::fmt::Debug,
    {
        for v in all {
            let json = serde_json::to_string(v).unwrap();
            assert_eq!(&serde_json::from_str::<T>(&json).unwrap(), v);
        }
    }

    #[test]
    fn every_status_word_round_trips_through_json() {
        round_trips(DeviceStatus::ALL);
        round_trips(ProfileStatus::ALL);
        round_trips(OpType::ALL);
        round_trips(ActivationLockStatus::ALL);
    }

    #[test]
    fn empty_profile_status_reads_as_empty() {
        assert_eq!(serde_json::from_str::<ProfileStatus>(r#""""#).unwrap(), ProfileStatus::Empty);
        assert_eq!(ProfileStatus::Empty.as_str(), "empty");
    }

    #[test]
    fn op_type_ignores_case() {
        assert_eq!(OpType::from_wire("ADDED"), OpType::Added);
        assert_eq!(OpType::from_wire("Modified"), OpType::Modified);
    }

    #[test]
    fn unknown_words_are_kept_not_rejected() {
        let v: DeviceStatus = serde_json::from_str(r#""PENDING_REVIEW""#).unwrap();
        assert_eq!(v, DeviceStatus::Other("PENDING_REVIEW".into()));
        assert_eq!(serde_json::to_string(&v).unwrap(), r#""PENDING_REVIEW""#);
    }
}

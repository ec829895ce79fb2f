//! Where a device stands, in plain words.

use super::records::DeviceRecord;
use crate::apple::dep::ProfileStatus;
use serde::{Deserialize, Serialize};

/// The device's lifecycle, furthest stage first when several apply.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Lifecycle {
    /// In Apple's list for this server; no enrollment profile yet, never contacted us.
    NotContacted,
    /// Apple has our enrollment profile assigned to it.
    ProfileAssigned,
    /// The device downloaded the profile from Apple.
    ProfilePushed,
    /// Enrolled with this appliance.
    Enrolled,
    /// The device removed its MDM profile and said so (MDM CheckOut).
    CheckedOut,
    /// Apple no longer lists it for this server.
    Removed,
}

impl Lifecycle {
    pub const ALL: &'static [Lifecycle] = &[
        Lifecycle::NotContacted,
        Lifecycle::ProfileAssigned,
        Lifecycle::ProfilePushed,
        Lifecycle::Enrolled,
        Lifecycle::CheckedOut,
        Lifecycle::Removed,
    ];

    pub fn words(self) -> &'static str {
        match self {
            Lifecycle::NotContacted => "Not contacted",
            Lifecycle::ProfileAssigned => "Profile assigned",
            Lifecycle::ProfilePushed => "Profile pushed",
            Lifecycle::Enrolled => "Enrolled",
            Lifecycle::CheckedOut => "Checked out",
            Lifecycle::Removed => "Removed from Apple",
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Lifecycle::NotContacted => "not_contacted",
            Lifecycle::ProfileAssigned => "profile_assigned",
            Lifecycle::ProfilePushed => "profile_pushed",
            Lifecycle::Enrolled => "enrolled",
            Lifecycle::CheckedOut => "checked_out",
            Lifecycle::Removed => "removed",
        }
    }

    pub fn parse(code: &str) -> Option<Lifecycle> {
        Lifecycle::ALL.iter().copied().find(|l| l.code() == code)
    }

    pub(super) fn of(r: &DeviceRecord) -> Lifecycle {
        if r.removed.is_some() {
            return Lifecycle::Removed;
        }
        match r.enrollment {
            Some(super::EnrollmentState::Enrolled) => return Lifecycle::Enrolled,
            Some(super::EnrollmentState::CheckedOut) => return Lifecycle::CheckedOut,
            _ => {}
        }
        match r.profile_status() {
            Some(ProfileStatus::Pushed) => Lifecycle::ProfilePushed,
            Some(ProfileStatus::Assigned) => Lifecycle::ProfileAssigned,
            _ => Lifecycle::NotContacted,
        }
    }
}

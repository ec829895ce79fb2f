//! The enrollment funnel of the inventory: how far each device has come, from Apple's list to
//! released. Computed here and nowhere else — the dashboard and the Enrollment page both show
//! these numbers, so they cannot disagree (../shared/ui.md "Numbers shown in two places").
//!
//! Each step counts the devices that got at least that far, so the steps never grow from one
//! to the next. A device's furthest stage is the furthest of what Apple says (profile
//! assigned, pushed), what its timeline proved ([`DeviceRecord::reached`], kept by every event)
//! and its enrollment state (for records written before `reached` existed). Removed devices
//! are not counted.

use super::EnrollmentState;
pub use super::records::Stage;
use super::records::{DeviceRecord, TimelineKind};
use crate::apple::dep::ProfileStatus;
use serde::Serialize;

impl Stage {
    pub const ALL: [Stage; 7] = [
        Stage::InApple,
        Stage::Assigned,
        Stage::Pushed,
        Stage::Contacted,
        Stage::Attested,
        Stage::Enrolled,
        Stage::Released,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Stage::InApple => "in_apple",
            Stage::Assigned => "assigned",
            Stage::Pushed => "pushed",
            Stage::Contacted => "contacted",
            Stage::Attested => "attested",
            Stage::Enrolled => "enrolled",
            Stage::Released => "released",
        }
    }

    pub fn words(self) -> &'static str {
        match self {
            Stage::InApple => "In Apple",
            Stage::Assigned => "Profile assigned",
            Stage::Pushed => "Pushed",
            Stage::Contacted => "Contacted us",
            Stage::Attested => "Attested",
            Stage::Enrolled => "Enrolled",
            Stage::Released => "Released",
        }
    }
}

/// The stage a timeline event proves the device reached.
pub(super) fn stage_of_event(kind: TimelineKind) -> Option<Stage> {
    match kind {
        TimelineKind::EnrollmentContacted
        | TimelineKind::EnrollmentRefused
        | TimelineKind::EnrollmentAudited
        | TimelineKind::EnrollmentOsUpdateRequired
        | TimelineKind::EnrollmentProfileServed => Some(Stage::Contacted),
        TimelineKind::EnrollmentCertificateIssued => Some(Stage::Attested),
        TimelineKind::MdmAuthenticated
        | TimelineKind::MdmAwaitingConfiguration
        | TimelineKind::MdmEnrolled => Some(Stage::Enrolled),
        TimelineKind::MdmReleased => Some(Stage::Released),
        _ => None,
    }
}

/// How far the device has come; `None` for a removed device.
pub(super) fn furthest(r: &DeviceRecord) -> Option<Stage> {
    if r.removed.is_some() {
        return None;
    }
    let apple = match r.profile_status() {
        Some(ProfileStatus::Pushed) => Stage::Pushed,
        Some(ProfileStatus::Assigned) => Stage::Assigned,
        _ => Stage::InApple,
    };
    let enrollment = match r.enrollment {
        Some(EnrollmentState::Enrolled) => Stage::Released,
        Some(_) => Stage::Enrolled,
        None => Stage::InApple,
    };
    Some(apple.max(enrollment).max(r.reached.unwrap_or(Stage::InApple)))
}

/// The funnel: per stage, the devices that got at least that far.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Funnel {
    pub steps: Vec<(Stage, u64)>,
}

impl Funnel {
    /// From the number of devices whose furthest stage is each stage.
    pub fn from_furthest(per_stage: &std::collections::BTreeMap<Stage, u64>) -> Funnel {
        let mut at_least = 0;
        let mut steps: Vec<(Stage, u64)> = Stage::ALL
            .iter()
            .rev()
            .map(|s| {
                at_least += per_stage.get(s).copied().unwrap_or(0);
                (*s, at_least)
            })
            .collect();
        steps.reverse();
        Funnel { steps }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    #[test]
    fn each_step_counts_the_devices_that_got_at_least_that_far() {
        let per: BTreeMap<Stage, u64> =
            [(Stage::InApple, 5), (Stage::Pushed, 3), (Stage::Released, 25)].into();
        let f = Funnel::from_furthest(&per);
        let counts: Vec<u64> = f.steps.iter().map(|(_, n)| *n).collect();
        assert_eq!(counts, [33, 28, 28, 25, 25, 25, 25]);
        assert!(counts.windows(2).all(|w| w[0] >= w[1]), "never grows");
    }

    #[test]
    fn events_prove_stages_in_order() {
        assert_eq!(stage_of_event(TimelineKind::EnrollmentRefused), Some(Stage::Contacted));
        assert_eq!(
            stage_of_event(TimelineKind::EnrollmentCertificateIssued),
            Some(Stage::Attested)
        );
        assert_eq!(stage_of_event(TimelineKind::MdmAuthenticated), Some(Stage::Enrolled));
        assert_eq!(stage_of_event(TimelineKind::MdmReleased), Some(Stage::Released));
        assert_eq!(stage_of_event(TimelineKind::Modified), None);
        assert!(Stage::Contacted < Stage::Attested && Stage::Enrolled < Stage::Released);
    }
}

//! Views of the enrollment funnel and its events (`/api/v1/enrollment/…`), and the settings
//! the admin sends.

use serde::Deserialize;
use serde::Serialize;
use time::OffsetDateTime;
use utoipa::ToSchema;

/// One step of the funnel, in the order a device goes through them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Step {
    /// Posted a MachineInfo to the profile URL.
    Contacted,
    /// Refused (the reason is in the event).
    Refused,
    /// Would have been refused, let through because audit-only mode is on.
    Audited,
    /// Told to update its OS first.
    OsUpdateRequired,
    /// Got the signed enrollment profile.
    ProfileServed,
    /// Was issued its device identity (by ACME or SCEP).
    CertificateIssued,
}

impl From<&crate::enroll::Step> for Step {
    fn from(r: &crate::enroll::Step) -> Step {
        match r {
            crate::enroll::Step::Contacted => Step::Contacted,
            crate::enroll::Step::Refused => Step::Refused,
            crate::enroll::Step::Audited => Step::Audited,
            crate::enroll::Step::OsUpdateRequired => Step::OsUpdateRequired,
            crate::enroll::Step::ProfileServed => Step::ProfileServed,
            crate::enroll::Step::CertificateIssued => Step::CertificateIssued,
        }
    }
}

/// One enrollment event as stored and as the API lists it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct EnrollEvent {
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String)]
    pub at: OffsetDateTime,
    pub step: Step,
    /// The serial the device claimed (absent when its MachineInfo could not be read).
    #[schema(value_type = Option<String>)]
    pub serial: Option<crate::ids::Serial>,
    #[schema(value_type = Option<String>)]
    pub udid: Option<crate::ids::Udid>,
    pub product: Option<String>,
    /// The refusal's stable code (refused and audited events).
    pub reason: Option<String>,
    /// Plain words.
    pub message: String,
}

impl From<&crate::enroll::EnrollEvent> for EnrollEvent {
    fn from(r: &crate::enroll::EnrollEvent) -> EnrollEvent {
        EnrollEvent {
            at: r.at,
            step: (&r.step).into(),
            serial: r.serial.clone(),
            udid: r.udid.clone(),
            product: r.product.clone(),
            reason: r.reason.clone(),
            message: r.message.clone(),
        }
    }
}

/// Enrollment settings the admin edits.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, ToSchema)]
pub struct EnrollSettings {
    /// Log and record devices the gate would refuse, and let them enroll anyway.
    #[serde(default)]
    pub audit_only: bool,
}

impl From<EnrollSettings> for crate::enroll::EnrollSettings {
    fn from(v: EnrollSettings) -> crate::enroll::EnrollSettings {
        crate::enroll::EnrollSettings { audit_only: v.audit_only }
    }
}

/// Counts per step: all time, and since `since`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, ToSchema)]
pub struct Funnel {
    pub steps: Vec<FunnelStep>,
}

impl From<&crate::enroll::Funnel> for Funnel {
    fn from(r: &crate::enroll::Funnel) -> Funnel {
        Funnel { steps: r.steps.iter().map(Into::into).collect() }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct FunnelStep {
    pub step: Step,
    pub all_time: u64,
    pub last_24h: u64,
}

impl From<&crate::enroll::FunnelStep> for FunnelStep {
    fn from(r: &crate::enroll::FunnelStep) -> FunnelStep {
        FunnelStep { step: (&r.step).into(), all_time: r.all_time, last_24h: r.last_24h }
    }
}

//! Views of the inventory (`/api/v1/devices/…`): rows, one device with its timeline, counts,
//! and the identity certificates issued to a device.

use crate::apple::dep::Device;
use serde::Serialize;
use std::collections::BTreeMap;
use time::OffsetDateTime;
use utoipa::ToSchema;

/// Why a device left the inventory's active set.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RemovalReason {
    /// Apple sent a `deleted` record (released, or moved to another MDM server).
    DeletedByApple,
    /// Released because it was replaced (AppleCare replacement; v10 `released_by_replacement`).
    ReleasedByReplacement,
    /// Absent from a full fetch (Apple sends no event for devices released in ABM).
    MissingFromFullSync,
}

impl From<crate::devices::RemovalCause> for RemovalReason {
    fn from(r: crate::devices::RemovalCause) -> RemovalReason {
        use crate::devices::RemovalCause;
        match r {
            RemovalCause::DeletedByApple => RemovalReason::DeletedByApple,
            RemovalCause::ReleasedByReplacement => RemovalReason::ReleasedByReplacement,
            RemovalCause::MissingFromFullSync => RemovalReason::MissingFromFullSync,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct Removal {
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    pub reason: RemovalReason,
}

impl From<&crate::devices::DeviceRemoval> for Removal {
    fn from(r: &crate::devices::DeviceRemoval) -> Removal {
        Removal { at: r.at, reason: r.reason.into() }
    }
}

impl DeviceSummary {
    /// Fills the profile's id and name from `names` (left empty for a profile not ours).
    pub fn named(mut self, names: &crate::profiles::ProfileNames) -> DeviceSummary {
        if let Some((id, name)) = self.profile_uuid.as_deref().and_then(|u| names.of_uuid(u)) {
            self.profile_id = Some(id.to_string());
            self.profile_name = Some(name.to_string());
        }
        self
    }
}

/// An event on a device's timeline.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct TimelineEvent {
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    /// Stable code: `modified`, `moved`, `removed`, `restored`, …
    #[schema(value_type = String)]
    pub kind: crate::devices::TimelineKind,
    /// Plain words.
    pub message: String,
}

impl From<&crate::devices::TimelineEntry> for TimelineEvent {
    fn from(r: &crate::devices::TimelineEntry) -> TimelineEvent {
        TimelineEvent { at: r.at, kind: r.kind, message: r.message.clone() }
    }
}

/// One row of the device list.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct DeviceSummary {
    pub serial: String,
    pub token: String,
    pub model: Option<String>,
    pub description: Option<String>,
    pub color: Option<String>,
    pub family: Option<String>,
    pub os: Option<String>,
    pub profile_uuid: Option<String>,
    /// The appliance profile behind `profile_uuid` (any revision), when it is one of ours.
    pub profile_id: Option<String>,
    /// That profile's name: what the pages show instead of the uuid.
    pub profile_name: Option<String>,
    /// Apple's profile status: `empty`, `assigned`, `pushed`, `removed`.
    pub profile_status: Option<String>,
    pub lifecycle: Lifecycle,
    /// The lifecycle in plain words.
    pub lifecycle_words: String,
    #[serde(with = "time::serde::rfc3339::option")]
    pub assigned_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339")]
    pub first_seen: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
    pub removed: Option<Removal>,
    /// Apple Business set a migration deadline; not proof that the device migrates.
    #[serde(with = "time::serde::rfc3339::option")]
    pub mdm_migration_deadline: Option<OffsetDateTime>,
}

impl From<&crate::devices::DeviceSummary> for DeviceSummary {
    fn from(r: &crate::devices::DeviceSummary) -> DeviceSummary {
        DeviceSummary {
            serial: r.serial.to_string(),
            token: r.token.to_string(),
            model: r.model.clone(),
            description: r.description.clone(),
            color: r.color.clone(),
            family: r.family.clone(),
            os: r.os.clone(),
            profile_uuid: r.profile_uuid.as_ref().map(ToString::to_string),
            profile_id: None,
            profile_name: None,
            profile_status: r.profile_status.clone(),
            lifecycle: (&r.lifecycle).into(),
            lifecycle_words: r.lifecycle_words.clone(),
            assigned_at: r.assigned_at,
            first_seen: r.first_seen,
            updated_at: r.updated_at,
            removed: r.removed.as_ref().map(Into::into),
            mdm_migration_deadline: r.mdm_migration_deadline,
        }
    }
}

/// One device with everything Apple said and what happened to it.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct DeviceDetail {
    #[serde(flatten)]
    pub summary: DeviceSummary,
    /// Apple's record, every field it gave (protocol 10).
    #[schema(value_type = Object)]
    pub apple: Device,
    /// Newest first.
    pub timeline: Vec<TimelineEvent>,
}

impl From<&crate::devices::DeviceDetail> for DeviceDetail {
    fn from(r: &crate::devices::DeviceDetail) -> DeviceDetail {
        DeviceDetail {
            summary: (&r.summary).into(),
            apple: r.apple.clone(),
            timeline: r.timeline.iter().map(Into::into).collect(),
        }
    }
}

/// Device counts for the dashboard and the token list.
#[derive(Clone, Debug, Default, Serialize, ToSchema)]
pub struct DeviceCounts {
    /// Devices per lifecycle state, removed ones included.
    #[schema(value_type = Object)]
    pub by_lifecycle: BTreeMap<Lifecycle, u64>,
    /// Active (not removed) devices per token.
    pub by_token: BTreeMap<String, u64>,
    /// The enrollment funnel, computed once for the dashboard and the Enrollment page: per
    /// step, the active devices that got at least that far (never growing step to step).
    pub funnel: Vec<DeviceFunnelStep>,
    /// Active devices whose Apple record carries a migration deadline.
    pub migration_deadlines: u64,
    /// The soonest migration deadline and its device.
    pub next_deadline: Option<NextDeadline>,
}

/// The soonest migration deadline (`GET /devices/counts`).
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct NextDeadline {
    pub serial: String,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
}

/// One step of the device funnel (`GET /devices/counts`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct DeviceFunnelStep {
    /// `in_apple`, `assigned`, `pushed`, `contacted`, `attested`, `enrolled`, `released`.
    pub step: &'static str,
    /// The step in plain words.
    pub label: &'static str,
    pub devices: u64,
}

impl From<&crate::devices::DeviceCounts> for DeviceCounts {
    fn from(r: &crate::devices::DeviceCounts) -> DeviceCounts {
        DeviceCounts {
            by_lifecycle: r.by_lifecycle.iter().map(|(k, v)| (k.into(), *v)).collect(),
            by_token: r.by_token.iter().map(|(t, n)| (t.to_string(), *n)).collect(),
            funnel: r
                .funnel
                .steps
                .iter()
                .map(|(s, n)| DeviceFunnelStep { step: s.code(), label: s.words(), devices: *n })
                .collect(),
            migration_deadlines: r.migration_deadlines,
            next_deadline: r
                .next_deadline
                .as_ref()
                .map(|d| NextDeadline { serial: d.serial.as_str().to_string(), at: d.at }),
        }
    }
}

/// The device's lifecycle, furthest stage first when several apply.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, ToSchema)]
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

impl From<&crate::devices::Lifecycle> for Lifecycle {
    fn from(r: &crate::devices::Lifecycle) -> Lifecycle {
        match r {
            crate::devices::Lifecycle::NotContacted => Lifecycle::NotContacted,
            crate::devices::Lifecycle::ProfileAssigned => Lifecycle::ProfileAssigned,
            crate::devices::Lifecycle::ProfilePushed => Lifecycle::ProfilePushed,
            crate::devices::Lifecycle::Enrolled => Lifecycle::Enrolled,
            crate::devices::Lifecycle::CheckedOut => Lifecycle::CheckedOut,
            crate::devices::Lifecycle::Removed => Lifecycle::Removed,
        }
    }
}

/// An issued identity certificate as the admin sees it (no key, no chain).
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct IssuedCert {
    /// SHA-256 of the certificate's DER, lower-case hex.
    pub sha256: String,
    pub udid: String,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String)]
    pub issued_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String)]
    pub not_after: OffsetDateTime,
    /// `acme` (an ACME order) or the protocol that proved the device (`scep`).
    pub via: String,
    pub revoked: bool,
}

impl From<&crate::acme::IssuedCert> for IssuedCert {
    fn from(r: &crate::acme::IssuedCert) -> IssuedCert {
        IssuedCert {
            sha256: r.sha256.clone(),
            udid: r.udid.to_string(),
            issued_at: r.issued_at,
            not_after: r.not_after,
            via: r.via.clone(),
            revoked: r.revoked,
        }
    }
}

//! Views of the organisation's devices (`/api/v1/business/devices…`): a listed device (Apple's
//! facts flattened beside where it is, and its AppleCare coverage), whose server it is at,
//! and the state of their sync with how far the coverage is read.

use crate::business::orgdevices as domain;
use serde::Serialize;
use time::OffsetDateTime;
use utoipa::ToSchema;

/// Whose server a device is assigned to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ServerFilter {
    /// One of this appliance's servers.
    Ours,
    /// Another MDM server of the organisation.
    Elsewhere,
    /// No server.
    None,
}

impl From<domain::ServerFilter> for ServerFilter {
    fn from(f: domain::ServerFilter) -> ServerFilter {
        match f {
            domain::ServerFilter::Ours => ServerFilter::Ours,
            domain::ServerFilter::Elsewhere => ServerFilter::Elsewhere,
            domain::ServerFilter::None => ServerFilter::None,
        }
    }
}

/// What Apple Business says about one device of the organisation. Apple's dates are kept as
/// Apple wrote them; every attribute may be absent (older API versions have no migration fields, list answers no
/// release date), so each is optional and shown empty when Apple did not send it.
// `default` keeps the schema the record had (each field `default: null`, none required).
#[derive(Clone, Debug, Default, Serialize, ToSchema)]
#[serde(default)]
pub struct Facts {
    pub serial: String,
    pub model: Option<String>,
    pub product_family: Option<String>,
    pub product_type: Option<String>,
    /// `ASSIGNED` or `UNASSIGNED`.
    pub status: Option<String>,
    /// `APPLE`, `RESELLER`, `MANUALLY_ADDED`.
    pub purchase_source_type: Option<String>,
    pub purchase_source_id: Option<String>,
    pub order_number: Option<String>,
    pub order_date: Option<String>,
    pub added_at: Option<String>,
    pub migration_capable: Option<bool>,
    /// `REQUESTED`, `STARTED`, `SUCCESS`, `FAILED`.
    pub migration_status: Option<String>,
    pub migration_deadline: Option<String>,
}

impl From<&domain::Facts> for Facts {
    fn from(f: &domain::Facts) -> Facts {
        Facts {
            serial: f.serial.to_string(),
            model: f.model.clone(),
            product_family: f.product_family.clone(),
            product_type: f.product_type.clone(),
            status: f.status.clone(),
            purchase_source_type: f.purchase_source_type.clone(),
            purchase_source_id: f.purchase_source_id.clone(),
            order_number: f.order_number.clone(),
            order_date: f.order_date.clone(),
            added_at: f.added_at.clone(),
            migration_capable: f.migration_capable,
            migration_status: f.migration_status.clone(),
            migration_deadline: f.migration_deadline.clone(),
        }
    }
}

/// Where a listed device is, in the appliance's words.
#[derive(Clone, Debug, Serialize, PartialEq, Eq, ToSchema)]
pub struct Where {
    /// `ours`, `elsewhere` or `none`.
    pub kind: ServerFilter,
    pub mdm_server_id: Option<String>,
    /// Our token's server name when ours, Apple's server name otherwise.
    pub server_name: Option<String>,
    pub token: Option<String>,
}

impl From<&domain::Where> for Where {
    fn from(w: &domain::Where) -> Where {
        Where {
            kind: w.kind.into(),
            mdm_server_id: w.mdm_server_id.clone(),
            server_name: w.server_name.clone(),
            token: w.token.as_ref().map(|t| t.to_string()),
        }
    }
}

/// A device's AppleCare coverage in the list, in the device page's words.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct AppleCareSummary {
    /// `active` (covered), `inactive` (ended or cancelled), `none` (Apple lists no coverage)
    /// or `unknown` (Apple not asked yet: adebox reads it in the background).
    pub status: String,
    /// The end of the active coverage (else of the latest one), as Apple wrote it.
    pub end_date: Option<String>,
    /// When Apple said so.
    #[serde(with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>)]
    pub checked_at: Option<OffsetDateTime>,
}

impl From<&crate::business::applecare::Summary> for AppleCareSummary {
    fn from(s: &crate::business::applecare::Summary) -> AppleCareSummary {
        AppleCareSummary {
            status: s.state.as_str().to_string(),
            end_date: s.end.clone(),
            checked_at: s.fetched_at,
        }
    }
}

/// A device of the list with where it is and its AppleCare coverage.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Listed {
    #[serde(flatten)]
    pub facts: Facts,
    pub server: Where,
    pub applecare: AppleCareSummary,
}

impl From<&domain::Listed> for Listed {
    fn from(l: &domain::Listed) -> Listed {
        Listed {
            facts: (&l.facts).into(),
            server: (&l.server).into(),
            applecare: (&l.applecare).into(),
        }
    }
}

/// How far the list's AppleCare coverage is read, and on what budget.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct AppleCareFill {
    /// Devices whose coverage Apple was not asked yet (shown `unknown`).
    pub unknown: u64,
    /// Devices asked since adebox started.
    pub read: u64,
    /// Devices asked an hour at most (Apple has no bulk endpoint: one request per device).
    pub per_hour: u64,
    /// A device's coverage is asked again after this many days.
    pub refresh_days: i64,
    /// Apple's last refusal, until a reading succeeds again.
    pub last_error: Option<String>,
}

impl From<&domain::CoverageFill> for AppleCareFill {
    fn from(f: &domain::CoverageFill) -> AppleCareFill {
        AppleCareFill {
            unknown: f.unknown,
            read: f.read,
            per_hour: f.per_hour,
            refresh_days: f.refresh_days,
            last_error: f.last_error.clone(),
        }
    }
}

/// The sync as the admin sees it.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct SyncView {
    /// `never`, `running`, `complete`, `failed`, or `interrupted` (adebox stopped during it).
    pub state: String,
    pub run: u64,
    #[serde(with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>)]
    pub started_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>)]
    pub finished_at: Option<OffsetDateTime>,
    /// Pages fetched from Apple by this run (devices and server lists).
    pub pages: u64,
    /// Devices read by this run.
    pub devices: u64,
    /// `429 Too Many Requests` answers this run waited through.
    pub rate_limited: u64,
    /// Devices removed at the end (gone from Apple's list).
    pub removed: u64,
    pub last_error: Option<String>,
    #[serde(with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>)]
    pub last_complete_at: Option<OffsetDateTime>,
    /// When the next scheduled run starts (none without an API account).
    #[serde(with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>)]
    pub next_run_at: Option<OffsetDateTime>,
    /// The budget: hours between scheduled runs.
    pub every_hours: i64,
    /// Devices in the list now.
    pub total: u64,
    /// Whether an API account is set up.
    pub configured: bool,
    /// How far the AppleCare coverage is read.
    pub applecare: AppleCareFill,
}

impl From<&domain::SyncState> for SyncView {
    fn from(s: &domain::SyncState) -> SyncView {
        SyncView {
            state: s.state.clone(),
            run: s.run,
            started_at: s.started_at,
            finished_at: s.finished_at,
            pages: s.pages,
            devices: s.devices,
            rate_limited: s.rate_limited,
            removed: s.removed,
            last_error: s.last_error.clone(),
            last_complete_at: s.last_complete_at,
            next_run_at: s.next_run_at,
            every_hours: s.every_hours,
            total: s.total,
            configured: s.configured,
            applecare: (&s.applecare).into(),
        }
    }
}

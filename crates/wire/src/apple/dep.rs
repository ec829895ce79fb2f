//! Apple's Device Assignment ("DEP") API wire format: every JSON body the product sends or
//! reads, the per-device status words, `op_type`, and the bare-text error codes
//! (../shared/spec/dep-api.md §2–§4).
//!
//! Owns no state. Exposes serde types shared by [`crate::depclient`] (the product's client) and
//! [`crate::sim`] (the simulator on the other side of the wire), plus the protocol constants
//! (header names, content type, limits). Must not use tokio, redb, reqwest or actix.
//!
//! Tolerance (Apple's answers are hostile bytes): unknown JSON fields are ignored, unknown
//! status words are kept verbatim in an `Other` variant instead of failing a whole page, and
//! malformed timestamps read as absent (see [`time_format`]).

mod account;
mod device;
mod error_code;
mod profile;
mod status;
pub mod time_format;
mod wire_enum;

pub use account::{
    AccountDetail, AccountDrivenEnrollmentProfile, AccountUrl, BetaEnrollmentToken,
    BetaEnrollmentTokens, SessionResponse, UrlLimit,
};
pub use device::{
    ActivationLockRequest, ActivationLockResponse, ClearProfileRequest, ClearProfileResponse,
    Device, DeviceListRequest, DeviceListResponse, DeviceStatusResponse, DisownResponse,
    FetchDeviceRequest, FetchDeviceResponse, ReplacementDetails, SyncDeviceRequest,
};
pub use error_code::DepErrorCode;
pub use profile::{AssignProfileRequest, AssignProfileResponse, DefineProfileResponse, Profile};
pub use status::{ActivationLockStatus, DeviceStatus, OpType, ProfileStatus};

/// Apple's production service (dep-api.md §3). A simulator's base URL replaces it per token.
pub const APPLE_BASE_URL: &str = "https://mdmenrollment.apple.com";

/// The protocol version adebox speaks: 10 adds `retry_after_seconds` and the v10 device
/// fields (dep-api.md §2.4).
pub const PROTOCOL_VERSION: u32 = 10;

/// Header carrying the session token on every call but `/session` (dep-api.md §2.2).
pub const SESSION_HEADER: &str = "X-ADM-Auth-Session";

/// Header selecting the response shape (dep-api.md §2.4).
pub const PROTOCOL_VERSION_HEADER: &str = "X-Server-Protocol-Version";

/// Apple's spelling, without a hyphen in `UTF8` (dep-api.md §2.4).
pub const CONTENT_TYPE: &str = "application/json;charset=UTF8";

/// Page size Apple uses when `limit` is absent (dep-api.md §3.2); always send one explicitly.
pub const DEFAULT_LIMIT: u32 = 100;

/// Largest `limit` for fetch/sync, and the most serials per assign/remove/details request
/// (dep-api.md §3.2, §3.3).
pub const MAX_LIMIT: u32 = 1000;

/// Most serials sent in one device-list request (assign, remove, details, disown).
pub const MAX_DEVICES_PER_REQUEST: usize = 1000;

/// Longest cursor Apple documents (dep-api.md §3.2 item 7).
pub const MAX_CURSOR_LEN: usize = 1000;

/// Paths of the endpoints (dep-api.md §3).
pub mod paths {
    pub const SESSION: &str = "/session";
    pub const ACCOUNT: &str = "/account";
    pub const FETCH_DEVICES: &str = "/server/devices";
    pub const SYNC_DEVICES: &str = "/devices/sync";
    pub const DEVICE_DETAILS: &str = "/devices";
    pub const DISOWN: &str = "/devices/disown";
    pub const ACTIVATION_LOCK: &str = "/device/activationlock";
    pub const REPLACEMENT_DETAILS: &str = "/device/replacementDetails";
    pub const PROFILE: &str = "/profile";
    pub const PROFILE_DEVICES: &str = "/profile/devices";
    pub const BETA_TOKENS: &str = "/os-beta-enrollment/tokens";
    pub const ACCOUNT_DRIVEN_ENROLLMENT_PROFILE: &str = "/account-driven-enrollment/profile";
}

#[cfg(test)]
mod tests;

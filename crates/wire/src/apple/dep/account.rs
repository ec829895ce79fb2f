//! `/session`, `/account` and the small account-level bodies (dep-api.md §2.1, §3.1, §3).

use serde::{Deserialize, Serialize};

/// `GET /session` answer. The token is a bearer credential: `Debug` redacts it; callers wrap
/// it in a `Secret` as soon as it is read.
#[derive(Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct SessionResponse {
    pub auth_session_token: String,
}

impl std::fmt::Debug for SessionResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionResponse").field("auth_session_token", &"[redacted]").finish()
    }
}

/// `GET /account` (dep-api.md §3.1). `server_name` and `server_uuid` are required: without them
/// the answer cannot identify the MDM server. Everything else is optional (v3+ fields, legacy
/// `facilitator_id`).
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct AccountDetail {
    pub server_name: String,
    pub server_uuid: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub admin_id: Option<String>,
    /// Legacy and deprecated; the fallback when `admin_id` is absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub facilitator_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub org_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub org_email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub org_phone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub org_address: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub org_id: Option<String>,
    /// SHA-256 hex of the organisation id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub org_id_hash: Option<String>,
    /// `edu`, `org` (schema also lists `tvprovider`); kept as text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub org_type: Option<String>,
    /// `v1` (ADP) or `v2` (ABM/ASM).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub org_version: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub urls: Vec<AccountUrl>,
}

impl AccountDetail {
    /// The Apple Account that generated the token: `admin_id`, else `facilitator_id`
    /// (dep-api.md §1.6).
    pub fn admin(&self) -> Option<&str> {
        self.admin_id.as_deref().or(self.facilitator_id.as_deref())
    }
}

/// One entry of `AccountDetail.urls`.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct AccountUrl {
    pub uri: String,
    #[serde(default)]
    pub http_method: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<UrlLimit>,
}

/// Advertised page-size limits of an endpoint. Apple advertises 1000/1000 while documenting a
/// default of 100, so clients always send `limit` explicitly (dep-api.md §3.1).
#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct UrlLimit {
    pub default: u32,
    pub maximum: u32,
}

/// `GET|POST /account-driven-enrollment/profile` body (dep-api.md §3).
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct AccountDrivenEnrollmentProfile {
    pub mdm_service_discovery_url: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_updated_timestamp: Option<String>,
}

/// `GET /os-beta-enrollment/tokens` (dep-api.md §3.2).
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct BetaEnrollmentTokens {
    #[serde(rename = "betaEnrollmentTokens", default)]
    pub beta_enrollment_tokens: Vec<BetaEnrollmentToken>,
}

/// One AppleSeed for IT enrollment token.
#[derive(Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct BetaEnrollmentToken {
    pub token: String,
    #[serde(default)]
    pub title: String,
    /// `homePodOS`, `iOS`, `OSX`, `tvOS`, `visionOS`, `watchOS`.
    #[serde(default)]
    pub os: String,
}

impl std::fmt::Debug for BetaEnrollmentToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BetaEnrollmentToken")
            .field("token", &"[redacted]")
            .field("title", &self.title)
            .field("os", &self.os)
            .finish()
    }
}

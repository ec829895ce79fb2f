//! Views of the push certificate's state and a device's push reachability
//! (`/api/v1/push/…`).

use serde::Serialize;
use time::OffsetDateTime;
use utoipa::ToSchema;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PushState {
    /// No certificate: devices cannot enroll.
    Missing,
    Ok,
    /// Less than 30 days left.
    Expiring,
    Expired,
}

impl From<&crate::push::PushState> for PushState {
    fn from(r: &crate::push::PushState) -> PushState {
        match r {
            crate::push::PushState::Missing => PushState::Missing,
            crate::push::PushState::Ok => PushState::Ok,
            crate::push::PushState::Expiring => PushState::Expiring,
            crate::push::PushState::Expired => PushState::Expired,
        }
    }
}

/// The pending request (its CSR is downloadable; its key is not).
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct RequestInfo {
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    pub created_by: String,
}

impl From<&crate::push::RequestInfo> for RequestInfo {
    fn from(r: &crate::push::RequestInfo) -> RequestInfo {
        RequestInfo { created_at: r.created_at, created_by: r.created_by.clone() }
    }
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct PushStatus {
    pub state: PushState,
    /// `com.apple.mgmt.External.<uuid>`: fixed for the life of every enrollment.
    pub topic: Option<String>,
    pub subject: Option<String>,
    pub issuer: Option<String>,
    pub serial: Option<String>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub not_before: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub expires_at: Option<OffsetDateTime>,
    /// Whole days left (negative once expired).
    pub days_left: Option<i64>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub installed_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub renewed_at: Option<OffsetDateTime>,
    pub pending_request: Option<RequestInfo>,
    /// Where certificates are made and renewed.
    pub portal_url: String,
    /// What to do next, in plain words.
    pub guidance: String,
    /// APNs' reason for refusing the certificate at the last push (`BadCertificate`, …), until
    /// a push is accepted again or another certificate is uploaded.
    pub refused: Option<String>,
}

impl From<&crate::push::PushStatus> for PushStatus {
    fn from(r: &crate::push::PushStatus) -> PushStatus {
        PushStatus {
            state: (&r.state).into(),
            topic: r.topic.clone(),
            subject: r.subject.clone(),
            issuer: r.issuer.clone(),
            serial: r.serial.clone(),
            not_before: r.not_before,
            expires_at: r.expires_at,
            days_left: r.days_left,
            installed_at: r.installed_at,
            renewed_at: r.renewed_at,
            pending_request: r.pending_request.as_ref().map(Into::into),
            portal_url: r.portal_url.clone(),
            guidance: r.guidance.clone(),
            refused: r.refused.as_ref().map(|f| f.reason.clone()),
        }
    }
}

#[derive(Clone, Debug, Serialize, PartialEq, Eq, ToSchema)]
pub struct Unreachable {
    /// APNs' reason (`Unregistered`, `BadDeviceToken`, …).
    pub reason: String,
    pub message: String,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
}

impl From<&crate::push::Unreachable> for Unreachable {
    fn from(r: &crate::push::Unreachable) -> Unreachable {
        Unreachable { reason: r.reason.clone(), message: r.message.clone(), at: r.at }
    }
}

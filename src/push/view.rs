//! What the API and the page show of the push certificate (never the key), and the banners.

use super::records::{CertRecord, CertRefusal, RequestRecord};
use serde::Serialize;
use time::{Duration, OffsetDateTime};

/// Warn this long before the push certificate expires (it lasts a year).
pub const EXPIRY_WARNING: Duration = Duration::days(30);

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PushState {
    /// No certificate: devices cannot enroll.
    Missing,
    Ok,
    /// Less than 30 days left.
    Expiring,
    Expired,
}

/// The pending request (its CSR is downloadable; its key is not).
#[derive(Clone, Debug, Serialize)]
pub struct RequestInfo {
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    pub created_by: String,
}

impl From<&RequestRecord> for RequestInfo {
    fn from(r: &RequestRecord) -> Self {
        RequestInfo { created_at: r.created_at, created_by: r.created_by.clone() }
    }
}

#[derive(Clone, Debug, Serialize)]
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
    /// APNs refused the certificate at the last push (until a push is accepted again).
    pub refused: Option<CertRefusal>,
}

impl PushStatus {
    pub(super) fn new(
        c: Option<&CertRecord>,
        pending: Option<&RequestRecord>,
        now: OffsetDateTime,
    ) -> PushStatus {
        let state = match c {
            None => PushState::Missing,
            Some(c) if c.not_after <= now => PushState::Expired,
            Some(c) if c.not_after - now < EXPIRY_WARNING => PushState::Expiring,
            Some(_) => PushState::Ok,
        };
        let guidance = match state {
            PushState::Missing => {
                "Make a certificate request, upload it (or the vendor-signed request) at the Apple Push Certificates Portal with your organisation's Apple Account, then upload the certificate the portal gives you here."
            }
            PushState::Ok => {
                "Renew once a year at the Apple Push Certificates Portal: sign in with the same Apple Account, choose Renew (not Create) next to this certificate, and upload the renewed certificate here. A new certificate would have a new topic, and every device would have to be re-enrolled."
            }
            PushState::Expiring | PushState::Expired => {
                "Renew now: make a new request here, sign in at the Apple Push Certificates Portal with the same Apple Account, choose Renew next to this certificate (same topic), and upload the renewed certificate here."
            }
        };
        PushStatus {
            state,
            topic: c.map(|c| c.topic.clone()),
            subject: c.map(|c| c.subject.clone()),
            issuer: c.map(|c| c.issuer.clone()),
            serial: c.map(|c| c.serial_hex.clone()),
            not_before: c.map(|c| c.not_before),
            expires_at: c.map(|c| c.not_after),
            days_left: c.map(|c| (c.not_after - now).whole_days()),
            installed_at: c.map(|c| c.installed_at),
            renewed_at: c.and_then(|c| c.renewed_at),
            pending_request: pending.map(RequestInfo::from),
            portal_url: super::APPLE_PORTAL_URL.into(),
            guidance: guidance.into(),
            refused: c.and_then(|c| c.refused.clone()),
        }
    }

    /// The banner every page shows for this state, as `(level, code, message, link)`.
    pub fn banner(&self) -> Option<(String, String, String, String)> {
        let link = "/admin/enrollment#push-certificate".to_string();
        let date = self.expires_at.map(|d| d.date().to_string()).unwrap_or_default();
        let (level, code, message) = match self.state {
            PushState::Ok | PushState::Expiring if self.refused.is_some() => (
                "error",
                "push_certificate_refused",
                format!(
                    "Apple refuses the push certificate ({}): devices cannot be reached; check it on the Enrollment page and renew it with the same Apple Account.",
                    self.refused.as_ref().map_or("", |r| r.reason.as_str())
                ),
            ),
            PushState::Ok => return None,
            PushState::Missing => (
                "error",
                "push_certificate_missing",
                "No Apple push certificate: devices cannot enroll until one is uploaded."
                    .to_string(),
            ),
            PushState::Expiring => (
                "warning",
                "push_certificate_expiring",
                format!(
                    "The Apple push certificate expires on {date} ({} days left); renew it with the same Apple Account.",
                    self.days_left.unwrap_or(0)
                ),
            ),
            PushState::Expired => (
                "error",
                "push_certificate_expired",
                format!(
                    "The Apple push certificate expired on {date}: devices cannot enroll or be reached; renew it now with the same Apple Account."
                ),
            ),
        };
        Some((level.into(), code.into(), message, link))
    }
}

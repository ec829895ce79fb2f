//! The kinds of alert adebox sends outside the page, each with its stable code (the e-mail's,
//! the webhook event's `kind`, the recipients' key) and the webhook topic it is published on.

use crate::events::Topic;
use serde::{Deserialize, Serialize};

/// One kind of alert. Serialised as its code (`token_expiring`).
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum AlertKind {
    /// A server token expires in 30, 14, 7 or 1 days, or has expired.
    TokenExpiring,
    /// Apple refuses a server token (revoked, superseded, terms not accepted).
    TokenRefused,
    /// The push certificate expires in 30, 14, 7 or 1 days, or has expired.
    #[serde(rename = "push_certificate_expiring")]
    PushExpiring,
    /// APNs refuses the push certificate (403 `BadCertificate`, `BadCertificateEnvironment`,
    /// revoked or expired at Apple).
    #[serde(rename = "push_certificate_refused")]
    PushRefused,
    /// Sync with Apple failed twice or more in a row.
    SyncFailing,
    /// More enrollment refusals in the last hour than the admin's threshold.
    EnrollmentRefusals,
    /// The store's filesystem has less free space than the admin's threshold.
    DiskFull,
    /// The appliance's own TLS certificate could not be renewed.
    #[serde(rename = "certificate_renewal_failing")]
    CertificateRenewal,
    /// The daily backup failed (resolved by the next one that succeeds).
    BackupFailed,
    /// A setup step that failed and blocks holds devices in Setup Assistant until an admin
    /// retries it or releases them anyway (one alert per step title).
    SetupBlocked,
    /// The "send test" button.
    Test,
}

impl AlertKind {
    /// Every kind an admin can route to recipients.
    pub const ALL: [AlertKind; 11] = [
        AlertKind::TokenExpiring,
        AlertKind::TokenRefused,
        AlertKind::PushExpiring,
        AlertKind::PushRefused,
        AlertKind::SyncFailing,
        AlertKind::EnrollmentRefusals,
        AlertKind::DiskFull,
        AlertKind::CertificateRenewal,
        AlertKind::BackupFailed,
        AlertKind::SetupBlocked,
        AlertKind::Test,
    ];

    /// The stable code (`token_expiring`), as serialised.
    pub fn code(self) -> &'static str {
        match self {
            AlertKind::TokenExpiring => "token_expiring",
            AlertKind::TokenRefused => "token_refused",
            AlertKind::PushExpiring => "push_certificate_expiring",
            AlertKind::PushRefused => "push_certificate_refused",
            AlertKind::SyncFailing => "sync_failing",
            AlertKind::EnrollmentRefusals => "enrollment_refusals",
            AlertKind::DiskFull => "disk_full",
            AlertKind::CertificateRenewal => "certificate_renewal_failing",
            AlertKind::BackupFailed => "backup_failed",
            AlertKind::SetupBlocked => "setup_blocked",
            AlertKind::Test => "test",
        }
    }

    /// Plain words for the page's recipients table.
    pub fn title(self) -> &'static str {
        match self {
            AlertKind::TokenExpiring => "Server token expiring",
            AlertKind::TokenRefused => "Server token refused by Apple",
            AlertKind::PushExpiring => "Push certificate expiring",
            AlertKind::PushRefused => "Push certificate refused by Apple",
            AlertKind::SyncFailing => "Sync failing",
            AlertKind::EnrollmentRefusals => "Many enrollment refusals",
            AlertKind::DiskFull => "Disk nearly full",
            AlertKind::CertificateRenewal => "Appliance certificate renewal failing",
            AlertKind::BackupFailed => "Daily backup failed",
            AlertKind::SetupBlocked => "Devices held by a failed setup step",
            AlertKind::Test => "Test message",
        }
    }

    /// The webhook topic its events are published on: the token and push certificate ones
    /// on `adebox.TokenExpiring`, sync on `adebox.SyncFailed`, backups on
    /// `adebox.BackupFailed`, the rest on `adebox.Alert`.
    pub fn topic(self) -> Topic {
        match self {
            AlertKind::TokenExpiring
            | AlertKind::TokenRefused
            | AlertKind::PushExpiring
            | AlertKind::PushRefused => Topic::TokenExpiring,
            AlertKind::SyncFailing => Topic::SyncFailed,
            AlertKind::BackupFailed => Topic::BackupFailed,
            _ => Topic::Alert,
        }
    }

    /// Reads a code back.
    pub fn parse(code: &str) -> Option<AlertKind> {
        AlertKind::ALL.into_iter().find(|k| k.code() == code)
    }
}

#[cfg(test)]
mod tests {
    use super::AlertKind;

    #[test]
    fn codes_round_trip_through_serde_and_parse() {
        for k in AlertKind::ALL {
            assert_eq!(AlertKind::parse(k.code()), Some(k));
            let v = serde_json::to_value(k).unwrap();
            let back: AlertKind = serde_json::from_value(v).unwrap();
            assert_eq!(back, k);
        }
    }
}

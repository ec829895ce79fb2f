//! The alert rules: from what the appliance observes now ([`Observed`]) to the alerts that
//! hold ([`ActiveAlert`]s, without `since`). Pure, so every threshold is unit-tested; the
//! service compares the result with the announced state and announces only the changes.

use super::kind::AlertKind;
use super::records::ActiveAlert;
use time::{Duration, OffsetDateTime};

/// The days before expiry at which an expiring token or certificate is announced again.
pub const EXPIRY_STEPS: [i64; 4] = [30, 14, 7, 1];

/// A server token as the rules see it.
#[derive(Clone, Debug)]
pub struct TokenSeen {
    pub id: String,
    pub name: String,
    pub expires_at: OffsetDateTime,
    /// Apple refuses it, in plain words.
    pub refused: Option<String>,
    /// Failed sync runs in a row (0 when the last one succeeded).
    pub sync_failures: u32,
    /// The last failed run's words.
    pub sync_message: String,
}

/// The devices a failed blocking setup step holds, as the rules see them.
#[derive(Clone, Debug, Default)]
pub struct HeldSeen {
    /// (serial, step title, why) of the first held devices, by serial.
    pub devices: Vec<(String, String, Option<String>)>,
    /// How many are held in all (more than `devices` when the list was cut).
    pub total: u64,
}

impl HeldSeen {
    pub fn of(held: &crate::mdm::Held) -> HeldSeen {
        HeldSeen {
            devices: held
                .devices
                .iter()
                .map(|d| (d.serial.to_string(), d.step_title.clone(), d.why.clone()))
                .collect(),
            total: held.total,
        }
    }
}

/// Everything the rules look at.
#[derive(Clone, Debug, Default)]
pub struct Observed {
    /// Devices held in Setup Assistant by a failed blocking step.
    pub held: HeldSeen,
    pub tokens: Vec<TokenSeen>,
    /// The push certificate's expiry, when one is installed.
    pub push_expires_at: Option<OffsetDateTime>,
    /// APNs' reason for refusing the push certificate at the last push, if it did.
    pub push_refused: Option<String>,
    /// Enrollment refusals in the last hour.
    pub refusals_last_hour: u32,
    /// Free space of the store's filesystem, in percent, when it could be read.
    pub disk_free_percent: Option<f64>,
    /// The last TLS renewal's error, if it failed.
    pub renewal_error: Option<String>,
    /// The last scheduled backup's error and when it ran, if it failed.
    pub backup_error: Option<(OffsetDateTime, String)>,
}

/// The thresholds an admin sets.
#[derive(Clone, Copy, Debug)]
pub struct Thresholds {
    pub refusals_per_hour: u32,
    pub disk_free_percent: u8,
}

/// The expiry step `expires_at` is in at `now`: `expired`, `1d`, `7d`, `14d`, `30d`, or none
/// (more than 30 days left).
pub fn expiry_level(expires_at: OffsetDateTime, now: OffsetDateTime) -> Option<String> {
    let left = expires_at - now;
    if left <= Duration::ZERO {
        return Some("expired".into());
    }
    EXPIRY_STEPS.iter().rev().find(|d| left <= Duration::days(**d)).map(|d| format!("{d}d"))
}

fn alert(
    kind: AlertKind,
    object: &str,
    level: &str,
    severity: &str,
    (summary, message): (String, String),
    fix_path: String,
) -> ActiveAlert {
    let key = if object.is_empty() {
        kind.code().to_string()
    } else {
        format!("{}:{object}", kind.code())
    };
    ActiveAlert {
        kind,
        key,
        level: level.into(),
        severity: severity.into(),
        summary,
        message,
        fix_path,
        since: OffsetDateTime::UNIX_EPOCH,
    }
}

fn days_words(expires_at: OffsetDateTime, now: OffsetDateTime) -> String {
    let days = (expires_at - now).whole_days();
    match days {
        _ if expires_at <= now => format!("expired on {}", expires_at.date()),
        0 => format!("expires today ({})", expires_at.date()),
        1 => format!("expires in 1 day ({})", expires_at.date()),
        d => format!("expires in {d} days ({})", expires_at.date()),
    }
}

fn severity_of(level: &str) -> &'static str {
    if matches!(level, "expired" | "1d" | "7d") { "error" } else { "warning" }
}

/// The alerts that hold for `seen` at `now`.
pub fn evaluate(seen: &Observed, limits: Thresholds, now: OffsetDateTime) -> Vec<ActiveAlert> {
    let mut out = Vec::new();
    for t in &seen.tokens {
        let fix = format!("/admin/tokens/{}#renew", t.id);
        if let Some(why) = t.refused.as_deref().map(|w| w.trim_end_matches('.')) {
            out.push(alert(
                AlertKind::TokenRefused,
                &t.id,
                "refused",
                "error",
                (
                    format!("Apple refuses the server token of \"{}\"", t.name),
                    format!(
                        "Apple refuses the server token of \"{}\": {why}. Devices of this MDM server \
                         no longer sync. Download a new token from Apple Business Manager and \
                         upload it in the token's Renew panel.",
                        t.name
                    ),
                ),
                fix.clone(),
            ));
        } else if let Some(level) = expiry_level(t.expires_at, now) {
            let when = days_words(t.expires_at, now);
            out.push(alert(
                AlertKind::TokenExpiring,
                &t.id,
                &level,
                severity_of(&level),
                (
                    format!("The server token of \"{}\" {when}", t.name),
                    format!(
                        "The server token of \"{}\" {when}. Without it adebox can no longer sync \
                         this MDM server's devices or assign their profiles. Download a new token \
                         from Apple Business Manager and upload it in the token's Renew panel.",
                        t.name
                    ),
                ),
                fix.clone(),
            ));
        }
        if t.sync_failures >= 2 && t.refused.is_none() {
            out.push(alert(
                AlertKind::SyncFailing,
                &t.id,
                "failing",
                "warning",
                (
                    format!("Sync of \"{}\" is failing", t.name),
                    format!(
                        "Sync of \"{}\" with Apple has failed {} times in a row: {}. The token's \
                         page shows each run; \"Sync now\" tries again.",
                        t.name,
                        t.sync_failures,
                        t.sync_message.trim_end_matches('.')
                    ),
                ),
                format!("/admin/tokens/{}#token-sync", t.id),
            ));
        }
    }
    if let Some(reason) = &seen.push_refused {
        out.push(alert(
            AlertKind::PushRefused,
            "",
            "refused",
            "error",
            (
                format!("Apple refuses the push certificate ({reason})"),
                format!(
                    "Apple's push service refused the APNs push certificate ({reason}). Until \
                     it accepts one, enrolled devices hear nothing from adebox. Check the \
                     certificate on the Enrollment page: renew it at Apple's Push Certificates \
                     Portal (same Apple Account, \"Renew\", not \"Create\") and upload it there."
                ),
            ),
            "/admin/enrollment#push-certificate".into(),
        ));
    } else if let Some(expires_at) = seen.push_expires_at
        && let Some(level) = expiry_level(expires_at, now)
    {
        let when = days_words(expires_at, now);
        out.push(alert(
            AlertKind::PushExpiring,
            "",
            &level,
            severity_of(&level),
            (
                format!("The push certificate {when}"),
                format!(
                    "The APNs push certificate {when}. Without it enrolled devices hear nothing \
                     from adebox and new ones cannot enroll. Renew it at Apple's Push Certificates \
                     Portal (same Apple Account, \"Renew\", not \"Create\") and upload it on the \
                     Enrollment page."
                ),
            ),
            "/admin/enrollment#push-certificate".into(),
        ));
    }
    if seen.refusals_last_hour > limits.refusals_per_hour {
        out.push(alert(
            AlertKind::EnrollmentRefusals,
            "",
            "above",
            "warning",
            (
                format!("{} enrollments refused in the last hour", seen.refusals_last_hour),
                format!(
                    "{} enrollment attempts were refused in the last hour, more than the {} you \
                     set. The Enrollment page lists each refusal and why.",
                    seen.refusals_last_hour, limits.refusals_per_hour
                ),
            ),
            "/admin/enrollment#enroll-refusals".into(),
        ));
    }
    if let Some(free) = seen.disk_free_percent
        && free < f64::from(limits.disk_free_percent)
    {
        out.push(alert(
            AlertKind::DiskFull,
            "",
            "low",
            "error",
            (
                format!("The appliance's disk is nearly full ({free:.1}% free)"),
                format!(
                    "The filesystem of adebox's data directory has {free:.1}% free, less than the \
                     {}% you set. When it is full adebox refuses every change. Free space on the \
                     appliance or grow its disk.",
                    limits.disk_free_percent
                ),
            ),
            "/admin/settings".into(),
        ));
    }
    if let Some(error) = seen.renewal_error.as_deref().map(|e| e.trim_end_matches('.')) {
        out.push(alert(
            AlertKind::CertificateRenewal,
            "",
            "failing",
            "error",
            (
                "The appliance's TLS certificate could not be renewed".into(),
                format!(
                    "adebox could not renew its own TLS certificate: {error}. It tries again on \
                     its own (every 12 hours, or with backoff for an ACME CA); Settings shows the \
                     certificate, its expiry and the last error."
                ),
            ),
            "/admin/settings#tls".into(),
        ));
    }
    if let Some((at, error)) = &seen.backup_error {
        let error = error.trim_end_matches('.');
        out.push(alert(
            AlertKind::BackupFailed,
            "",
            "failed",
            "error",
            (
                "The daily backup failed".into(),
                format!(
                    "The daily backup of {at} failed: {error}. The older backups are kept; the \
                     next one runs at the scheduled time, and Settings shows the schedule."
                ),
            ),
            "/admin/settings#backups".into(),
        ));
    }
    out.extend(held_alerts(&seen.held));
    out
}

/// One alert per failing step title (devices held by one step share a cause), so a broken
/// profile that holds a hundred devices sends one message, not a hundred. Its level stays
/// `held` while any device is held by that step: more devices joining it do not announce it
/// again; the alert resolves when the last one is retried or released.
fn held_alerts(held: &HeldSeen) -> Vec<ActiveAlert> {
    let mut by_title: std::collections::BTreeMap<&str, Vec<(&str, Option<&str>)>> =
        Default::default();
    for (serial, title, why) in &held.devices {
        by_title.entry(title).or_default().push((serial, why.as_deref()));
    }
    let unlisted = held.total.saturating_sub(held.devices.len() as u64);
    by_title
        .into_iter()
        .map(|(title, devices)| {
            let (first, first_why) = devices[0];
            let why =
                first_why.map(|w| format!(": {}", w.trim_end_matches('.'))).unwrap_or_default();
            let shown: Vec<&str> = devices.iter().take(10).map(|(s, _)| *s).collect();
            let more = devices.len() - shown.len();
            let mut list = shown.join(", ");
            if more > 0 {
                list.push_str(&format!(" and {more} more"));
            }
            let others = if unlisted > 0 {
                format!(" ({unlisted} more devices are held; the device list shows them.)")
            } else {
                String::new()
            };
            let count = match devices.len() {
                1 => "1 device".to_string(),
                n => format!("{n} devices"),
            };
            alert(
                AlertKind::SetupBlocked,
                title,
                "held",
                "error",
                (
                    format!("Setup step \"{title}\" failed and holds {count} in Setup Assistant"),
                    format!(
                        "The setup step \"{title}\" failed on {count} ({list}){why}. The step \
                         blocks the release, so these devices stay in Setup Assistant until an \
                         admin acts: each device page has \"Retry\" (after fixing the cause, for \
                         example the profile) and \"Release anyway\".{others}"
                    ),
                ),
                format!("/admin/devices/{first}"),
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    const NOW: OffsetDateTime = datetime!(2026-12-07 12:00 UTC);
    const LIMITS: Thresholds = Thresholds { refusals_per_hour: 20, disk_free_percent: 10 };

    fn token(days: i64) -> TokenSeen {
        TokenSeen {
            id: "t1".into(),
            name: "Main".into(),
            expires_at: NOW + Duration::days(days) + Duration::hours(1),
            refused: None,
            sync_failures: 0,
            sync_message: String::new(),
        }
    }

    fn levels(seen: &Observed) -> Vec<(AlertKind, String)> {
        evaluate(seen, LIMITS, NOW).into_iter().map(|a| (a.kind, a.level)).collect()
    }

    #[test]
    fn a_token_steps_through_30_14_7_1_then_expired() {
        let cases =
            [(40, None), (29, Some("30d")), (13, Some("14d")), (6, Some("7d")), (0, Some("1d"))];
        for (days, want) in cases {
            let seen = Observed { tokens: vec![token(days)], ..Default::default() };
            let got = levels(&seen).first().map(|(_, l)| l.clone());
            assert_eq!(got.as_deref(), want, "{days} days left");
        }
        let mut t = token(0);
        t.expires_at = NOW - Duration::hours(1);
        let seen = Observed { tokens: vec![t], ..Default::default() };
        assert_eq!(levels(&seen), vec![(AlertKind::TokenExpiring, "expired".to_string())]);
    }

    #[test]
    fn a_refused_token_is_refused_not_expiring_and_its_sync_failures_are_not_repeated() {
        let mut t = token(5);
        t.refused = Some("T_C_NOT_SIGNED".into());
        t.sync_failures = 3;
        let seen = Observed { tokens: vec![t], ..Default::default() };
        let got = evaluate(&seen, LIMITS, NOW);
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].kind, AlertKind::TokenRefused);
        assert_eq!(got[0].fix_path, "/admin/tokens/t1#renew");
        assert!(got[0].message.contains("T_C_NOT_SIGNED"));
    }

    #[test]
    fn a_refused_push_certificate_alerts_instead_of_its_expiry() {
        let seen = Observed {
            push_expires_at: Some(NOW + Duration::days(3)),
            push_refused: Some("BadCertificate".into()),
            ..Default::default()
        };
        let got = evaluate(&seen, LIMITS, NOW);
        assert_eq!(got.len(), 1, "{got:?}");
        assert_eq!(
            (got[0].kind, got[0].key.as_str()),
            (AlertKind::PushRefused, "push_certificate_refused")
        );
        assert!(got[0].message.contains("BadCertificate"));
        let cleared = Observed { push_refused: None, ..seen };
        assert_eq!(levels(&cleared), vec![(AlertKind::PushExpiring, "7d".to_string())]);
    }

    #[test]
    fn sync_alerts_from_the_second_failure_in_a_row() {
        let mut t = token(100);
        t.sync_failures = 1;
        assert!(levels(&Observed { tokens: vec![t.clone()], ..Default::default() }).is_empty());
        t.sync_failures = 2;
        let got = levels(&Observed { tokens: vec![t], ..Default::default() });
        assert_eq!(got, vec![(AlertKind::SyncFailing, "failing".to_string())]);
    }

    #[test]
    fn thresholds_are_strict_and_the_rest_alert_as_observed() {
        let at_limit = Observed {
            refusals_last_hour: 20,
            disk_free_percent: Some(10.0),
            ..Default::default()
        };
        assert!(levels(&at_limit).is_empty());
        let over = Observed {
            refusals_last_hour: 21,
            disk_free_percent: Some(9.9),
            renewal_error: Some("no space".into()),
            backup_error: Some((NOW, "cannot write backups to /x".into())),
            push_expires_at: Some(NOW + Duration::days(3)),
            ..Default::default()
        };
        let kinds: Vec<_> = levels(&over).into_iter().map(|(k, _)| k).collect();
        assert_eq!(
            kinds,
            vec![
                AlertKind::PushExpiring,
                AlertKind::EnrollmentRefusals,
                AlertKind::DiskFull,
                AlertKind::CertificateRenewal,
                AlertKind::BackupFailed
            ]
        );
    }

    #[test]
    fn held_devices_alert_once_per_failing_step() {
        let held = |serial: &str, title: &str| {
            (serial.to_string(), title.to_string(), Some("MDM payload refused.".to_string()))
        };
        let seen = Observed {
            held: HeldSeen {
                devices: vec![
                    held("C02AAA", "Install the profile \"Wi-Fi\""),
                    held("C02BBB", "Install the profile \"Wi-Fi\""),
                    held("C02CCC", "Set the device name"),
                ],
                total: 5,
            },
            ..Default::default()
        };
        let got = evaluate(&seen, LIMITS, NOW);
        assert_eq!(got.len(), 2, "{got:?}");
        let wifi = got.iter().find(|a| a.key.contains("Wi-Fi")).unwrap();
        assert_eq!(wifi.kind, AlertKind::SetupBlocked);
        assert_eq!(wifi.key, "setup_blocked:Install the profile \"Wi-Fi\"");
        assert_eq!(wifi.fix_path, "/admin/devices/C02AAA");
        assert!(
            wifi.message.contains("2 devices (C02AAA, C02BBB): MDM payload refused"),
            "{}",
            wifi.message
        );
        assert!(wifi.message.contains("2 more devices are held"), "{}", wifi.message);
        let name = got.iter().find(|a| a.key == "setup_blocked:Set the device name").unwrap();
        assert!(name.summary.contains("holds 1 device in"), "{}", name.summary);
        let none = Observed::default();
        assert!(evaluate(&none, LIMITS, NOW).is_empty());
    }
}

//! The alert settings as the service shows and changes them (the API's shapes are
//! `http::api::views`): the SMTP server (its password
//! sealed, never shown: only whether one is set), recipients per alert kind, thresholds.

use super::records::{SETTINGS_KEY, SMTP_PASSWORD, Security, SettingsRecord, SmtpRecord};
use super::{AlertKind, AlertsError, MAX_RECIPIENTS, mail};
use crate::crypto::Secret;
use crate::store::Sealer;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The SMTP settings as shown (never the password).
#[derive(Clone, Debug, Serialize)]
pub struct SmtpView {
    pub host: String,
    pub port: u16,
    pub security: Security,
    pub allow_plain: bool,
    pub username: Option<String>,
    /// Whether a password is stored (it is never shown).
    pub password_set: bool,
    pub from: String,
    pub ca_pem: Option<String>,
}

/// One alert kind's row: its code, plain title and recipients.
#[derive(Clone, Debug, Serialize)]
pub struct KindView {
    pub kind: AlertKind,
    pub title: String,
    pub recipients: Vec<String>,
}

/// Every alert setting, as shown.
#[derive(Clone, Debug, Serialize)]
pub struct SettingsView {
    pub smtp: Option<SmtpView>,
    pub kinds: Vec<KindView>,
    pub refusals_per_hour: u32,
    pub disk_free_percent: u8,
}

impl SettingsView {
    pub(super) fn of(r: &SettingsRecord) -> SettingsView {
        SettingsView {
            smtp: r.smtp.as_ref().map(|s| SmtpView {
                host: s.host.clone(),
                port: s.port,
                security: s.security,
                allow_plain: s.allow_plain,
                username: s.username.clone(),
                password_set: s.password.is_some(),
                from: s.from.clone(),
                ca_pem: s.ca_pem.clone(),
            }),
            kinds: AlertKind::ALL
                .iter()
                .map(|k| KindView {
                    kind: *k,
                    title: k.title().into(),
                    recipients: r.recipients.get(k).cloned().unwrap_or_default(),
                })
                .collect(),
            refusals_per_hour: r.refusals_per_hour,
            disk_free_percent: r.disk_free_percent,
        }
    }
}

/// The SMTP server to use.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmtpUpdate {
    pub host: String,
    pub port: u16,
    pub security: Security,
    /// Required (true) for `security: none`: mail and password then cross the network in clear.
    #[serde(default)]
    pub allow_plain: bool,
    #[serde(default)]
    pub username: Option<String>,
    /// Absent: keep the stored password. Empty: remove it. Never shown again.
    #[serde(default)]
    pub password: Option<String>,
    pub from: String,
    #[serde(default)]
    pub ca_pem: Option<String>,
}

/// What the admin changes (absent fields stay as they are).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SettingsUpdate {
    pub smtp: Option<SmtpUpdate>,
    /// Alert kind code → e-mail addresses (a kind left out keeps its recipients).
    pub recipients: Option<BTreeMap<String, Vec<String>>>,
    pub refusals_per_hour: Option<u32>,
    pub disk_free_percent: Option<u8>,
}

/// The answer to "send test".
#[derive(Clone, Debug, Serialize)]
pub struct TestResult {
    pub sent: bool,
    /// The SMTP server's answer, or why there was none, in plain words.
    pub answer: String,
    pub recipients: Vec<String>,
}

impl SettingsUpdate {
    /// Checks everything and applies it to `r`; nothing is applied if anything is wrong.
    pub(super) fn apply(
        self,
        mut r: SettingsRecord,
        sealer: &Sealer,
    ) -> Result<SettingsRecord, AlertsError> {
        if let Some(s) = self.smtp {
            r.smtp = Some(smtp_record(s, r.smtp.take(), sealer)?);
        }
        if let Some(map) = self.recipients {
            for (code, addrs) in map {
                let kind = AlertKind::parse(&code).ok_or_else(|| {
                    let known: Vec<_> = AlertKind::ALL.iter().map(|k| k.code()).collect();
                    AlertsError::invalid(
                        "recipients",
                        format!("\"{code}\" is not an alert kind; use one of {}", known.join(", ")),
                    )
                })?;
                let addrs: Vec<String> =
                    addrs.iter().map(|a| a.trim().to_string()).filter(|a| !a.is_empty()).collect();
                if addrs.len() > MAX_RECIPIENTS {
                    return Err(AlertsError::invalid(
                        "recipients",
                        format!("{code} has {} recipients; at most {MAX_RECIPIENTS}", addrs.len()),
                    ));
                }
                for a in &addrs {
                    mail::parse_address("recipients", a)
                        .map_err(|(f, m)| AlertsError::invalid(f, m))?;
                }
                r.recipients.insert(kind, addrs);
            }
        }
        if let Some(n) = self.refusals_per_hour {
            if n == 0 || n > 100_000 {
                return Err(AlertsError::invalid(
                    "refusals_per_hour",
                    "give a number of refusals per hour between 1 and 100000",
                ));
            }
            r.refusals_per_hour = n;
        }
        if let Some(p) = self.disk_free_percent {
            if !(1..=50).contains(&p) {
                return Err(AlertsError::invalid(
                    "disk_free_percent",
                    "give a percentage of free space between 1 and 50",
                ));
            }
            r.disk_free_percent = p;
        }
        Ok(r)
    }
}

fn smtp_record(
    s: SmtpUpdate,
    old: Option<SmtpRecord>,
    sealer: &Sealer,
) -> Result<SmtpRecord, AlertsError> {
    let host = s.host.trim().to_string();
    if host.is_empty() || host.contains(['/', ' ', ':']) && !host.starts_with('[') {
        return Err(AlertsError::invalid(
            "smtp.host",
            "give the SMTP server's host name or IP address, without a scheme or port",
        ));
    }
    if s.port == 0 {
        return Err(AlertsError::invalid("smtp.port", "give the SMTP port (587, 465 or 25)"));
    }
    if s.security == Security::None && !s.allow_plain {
        return Err(AlertsError::invalid(
            "smtp.allow_plain",
            "without encryption the password and every alert cross the network in clear: tick \
             \"send without encryption\" to accept that, or choose STARTTLS or TLS",
        ));
    }
    mail::parse_address("smtp.from", &s.from).map_err(|(f, m)| AlertsError::invalid(f, m))?;
    let ca_pem = s.ca_pem.map(|p| p.trim().to_string()).filter(|p| !p.is_empty());
    if let Some(pem) = &ca_pem
        && crate::crypto::ca::pem_to_der(pem).is_err()
    {
        return Err(AlertsError::invalid(
            "smtp.ca_pem",
            "the CA certificate is not PEM (-----BEGIN CERTIFICATE-----…); paste the whole file",
        ));
    }
    let username = s.username.map(|u| u.trim().to_string()).filter(|u| !u.is_empty());
    let password = match s.password {
        None => old.and_then(|o| o.password),
        Some(p) if p.is_empty() => None,
        Some(p) => Some(sealer.seal(SMTP_PASSWORD, SETTINGS_KEY, &Secret::new(p))),
    };
    Ok(SmtpRecord {
        host,
        port: s.port,
        security: s.security,
        allow_plain: s.allow_plain,
        username,
        password,
        from: s.from.trim().to_string(),
        ca_pem,
    })
}

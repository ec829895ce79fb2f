//! Views of the alerts (`/api/v1/alerts…`): the alerts that hold now, the newest
//! announcements with what became of their e-mails, and the alert settings both ways.

use crate::alerts::AlertKind;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use time::OffsetDateTime;
use utoipa::ToSchema;

/// An alert in the state it was last announced in.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct ActiveAlert {
    pub kind: AlertKind,
    /// The object and kind (`token_expiring:<token id>`): one alert per key at a time.
    pub key: String,
    /// The state within the kind (`14d`, `expired`, `failing`): a new level is a new alert.
    pub level: String,
    /// `warning` or `error`, for the page's banner.
    pub severity: String,
    /// One line: the e-mail's subject and the banner's words.
    pub summary: String,
    /// Plain words: what happened and what to do.
    pub message: String,
    /// Where on the admin page it is fixed (`/admin/tokens/<id>#renew`).
    pub fix_path: String,
    #[serde(with = "time::serde::rfc3339")]
    pub since: OffsetDateTime,
}

impl From<&crate::alerts::ActiveAlert> for ActiveAlert {
    fn from(r: &crate::alerts::ActiveAlert) -> ActiveAlert {
        ActiveAlert {
            kind: r.kind,
            key: r.key.clone(),
            level: r.level.clone(),
            severity: r.severity.clone(),
            summary: r.summary.clone(),
            message: r.message.clone(),
            fix_path: r.fix_path.clone(),
            since: r.since,
        }
    }
}

/// What became of an alert's e-mail.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum MailOutcome {
    /// Waiting in the outbox (first attempt, or retrying after a failure).
    Queued,
    Sent,
    /// Given up after a day of failures, or dropped because the outbox was full.
    GaveUp,
    /// No recipient or no SMTP server set for this kind: announced on the page and webhooks only.
    NotMailed,
}

impl From<crate::alerts::MailOutcome> for MailOutcome {
    fn from(r: crate::alerts::MailOutcome) -> MailOutcome {
        use crate::alerts::MailOutcome as M;
        match r {
            M::Queued => MailOutcome::Queued,
            M::Sent => MailOutcome::Sent,
            M::GaveUp => MailOutcome::GaveUp,
            M::NotMailed => MailOutcome::NotMailed,
        }
    }
}

/// One alert announced (raised, changed or resolved) and its e-mail.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct SentEntry {
    pub seq: u64,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    pub kind: AlertKind,
    /// `raised` or `resolved`.
    pub change: String,
    pub summary: String,
    pub fix_path: String,
    pub recipients: Vec<String>,
    pub mail: MailOutcome,
    pub attempts: u32,
    /// The SMTP server's answer or the connection problem of the last failed attempt.
    pub last_error: Option<String>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub next_attempt_at: Option<OffsetDateTime>,
}

impl From<&crate::alerts::SentEntry> for SentEntry {
    fn from(r: &crate::alerts::SentEntry) -> SentEntry {
        SentEntry {
            seq: r.seq,
            at: r.at,
            kind: r.kind,
            change: r.change.clone(),
            summary: r.summary.clone(),
            fix_path: r.fix_path.clone(),
            recipients: r.recipients.clone(),
            mail: r.mail.into(),
            attempts: r.attempts,
            last_error: r.last_error.clone(),
            next_attempt_at: r.next_attempt_at,
        }
    }
}

/// How the connection to the SMTP server is secured.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Security {
    /// Plain connection upgraded with STARTTLS (port 587); refused if the server lacks it.
    Starttls,
    /// TLS from the first byte (port 465).
    Tls,
    /// No encryption at all: only with `allow_plain` ticked (a relay on the same host).
    None,
}

impl From<crate::alerts::Security> for Security {
    fn from(s: crate::alerts::Security) -> Security {
        use crate::alerts::Security as S;
        match s {
            S::Starttls => Security::Starttls,
            S::Tls => Security::Tls,
            S::None => Security::None,
        }
    }
}

impl From<Security> for crate::alerts::Security {
    fn from(s: Security) -> crate::alerts::Security {
        use crate::alerts::Security as S;
        match s {
            Security::Starttls => S::Starttls,
            Security::Tls => S::Tls,
            Security::None => S::None,
        }
    }
}

/// The SMTP settings as shown (never the password).
#[derive(Clone, Debug, Serialize, ToSchema)]
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
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct KindView {
    pub kind: AlertKind,
    pub title: String,
    pub recipients: Vec<String>,
}

/// Every alert setting, as shown.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct AlertSettingsView {
    pub smtp: Option<SmtpView>,
    pub kinds: Vec<KindView>,
    pub refusals_per_hour: u32,
    pub disk_free_percent: u8,
}

impl From<&crate::alerts::SettingsView> for AlertSettingsView {
    fn from(r: &crate::alerts::SettingsView) -> AlertSettingsView {
        AlertSettingsView {
            smtp: r.smtp.as_ref().map(|s| SmtpView {
                host: s.host.clone(),
                port: s.port,
                security: s.security.into(),
                allow_plain: s.allow_plain,
                username: s.username.clone(),
                password_set: s.password_set,
                from: s.from.clone(),
                ca_pem: s.ca_pem.clone(),
            }),
            kinds: r
                .kinds
                .iter()
                .map(|k| KindView {
                    kind: k.kind,
                    title: k.title.clone(),
                    recipients: k.recipients.clone(),
                })
                .collect(),
            refusals_per_hour: r.refusals_per_hour,
            disk_free_percent: r.disk_free_percent,
        }
    }
}

/// The SMTP server to use.
#[derive(Debug, Deserialize, ToSchema)]
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
    #[schema(value_type = Option<String>)]
    pub password: Option<String>,
    pub from: String,
    #[serde(default)]
    pub ca_pem: Option<String>,
}

/// What the admin changes (absent fields stay as they are).
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SettingsUpdate {
    pub smtp: Option<SmtpUpdate>,
    /// Alert kind code → e-mail addresses (a kind left out keeps its recipients).
    pub recipients: Option<BTreeMap<String, Vec<String>>>,
    pub refusals_per_hour: Option<u32>,
    pub disk_free_percent: Option<u8>,
}

impl From<SettingsUpdate> for crate::alerts::SettingsUpdate {
    fn from(u: SettingsUpdate) -> crate::alerts::SettingsUpdate {
        crate::alerts::SettingsUpdate {
            smtp: u.smtp.map(|s| crate::alerts::SmtpUpdate {
                host: s.host,
                port: s.port,
                security: s.security.into(),
                allow_plain: s.allow_plain,
                username: s.username,
                password: s.password,
                from: s.from,
                ca_pem: s.ca_pem,
            }),
            recipients: u.recipients,
            refusals_per_hour: u.refusals_per_hour,
            disk_free_percent: u.disk_free_percent,
        }
    }
}

/// The answer to "send test".
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct TestResult {
    pub sent: bool,
    /// The SMTP server's answer, or why there was none, in plain words.
    pub answer: String,
    pub recipients: Vec<String>,
}

impl From<&crate::alerts::TestResult> for TestResult {
    fn from(r: &crate::alerts::TestResult) -> TestResult {
        TestResult { sent: r.sent, answer: r.answer.clone(), recipients: r.recipients.clone() }
    }
}

//! The tables of `alerts` and their stored records.
//!
//! - `alerts.settings`: `settings` → [`SettingsRecord`] (SMTP, recipients, thresholds; the
//!   SMTP password sealed), `tls_renewal` → [`RenewalNote`] (the last renewal's failure).
//! - `alerts.active`: alert key (`token_expiring:<token id>`) → [`ActiveAlert`]: the state each
//!   alert was last announced in. Kept in the store so a restart announces nothing again.
//! - `alerts.outbox`: sequence (u64 big-endian) → [`MailEntry`]: e-mails still to send, oldest
//!   first; an entry leaves only in the transaction that records it sent (or given up).
//! - `alerts.sent`: sequence → [`SentEntry`]: the newest [`SENT_LIMIT`] alerts and what became of
//!   their e-mail, for the page.

use super::kind::AlertKind;
use crate::store::{Sealed, SecretField, Table, table};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use time::OffsetDateTime;

pub(super) const SETTINGS: Table = table("alerts.settings");
pub(super) const ACTIVE: Table = table("alerts.active");
pub(super) const OUTBOX: Table = table("alerts.outbox");
pub(super) const SENT: Table = table("alerts.sent");

pub const TABLES: &[Table] = &[SETTINGS, ACTIVE, OUTBOX, SENT];

/// Where the SMTP password is sealed (row key [`SETTINGS_KEY`]).
pub(super) const SMTP_PASSWORD: SecretField = SecretField::new("alerts.settings", "smtp.password");
pub(super) const SETTINGS_KEY: &[u8] = b"settings";
pub(super) const RENEWAL_KEY: &[u8] = b"tls_renewal";

/// The page's list of alerts keeps this many.
pub const SENT_LIMIT: u64 = 200;
/// At most this many e-mails wait; one more drops the oldest (counted in the sent list).
pub const OUTBOX_LIMIT: u64 = 1_000;

/// How the connection to the SMTP server is secured.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Security {
    /// Plain connection upgraded with STARTTLS (port 587); refused if the server lacks it.
    Starttls,
    /// TLS from the first byte (port 465).
    Tls,
    /// No encryption at all: only with `allow_plain` ticked (a relay on the same host).
    None,
}

/// The SMTP server alerts are sent through.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SmtpRecord {
    pub host: String,
    pub port: u16,
    pub security: Security,
    /// The admin ticked "send without encryption" (required for [`Security::None`]).
    #[serde(default)]
    pub allow_plain: bool,
    pub username: Option<String>,
    pub password: Option<Sealed>,
    /// The From address.
    pub from: String,
    /// Extra certificate authority to trust for this server (PEM), besides the system's.
    pub ca_pem: Option<String>,
}

/// Every alert setting.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SettingsRecord {
    pub smtp: Option<SmtpRecord>,
    /// Who receives each kind of alert by e-mail.
    #[serde(default)]
    pub recipients: BTreeMap<AlertKind, Vec<String>>,
    /// Alert when more enrollments than this were refused in the last hour.
    pub refusals_per_hour: u32,
    /// Alert when the store's filesystem has less than this percentage free.
    pub disk_free_percent: u8,
}

impl Default for SettingsRecord {
    fn default() -> Self {
        SettingsRecord {
            smtp: None,
            recipients: BTreeMap::new(),
            refusals_per_hour: super::DEFAULT_REFUSALS_PER_HOUR,
            disk_free_percent: super::DEFAULT_DISK_FREE_PERCENT,
        }
    }
}

/// An alert in the state it was last announced in.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
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

/// One e-mail waiting to be sent.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct MailEntry {
    /// The [`SentEntry`] it reports to.
    pub sent_seq: u64,
    pub to: Vec<String>,
    pub subject: String,
    pub body: String,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub next_at: OffsetDateTime,
    pub attempts: u32,
}

/// What became of an alert's e-mail.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
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

/// One alert announced (raised, changed or resolved) and its e-mail.
#[derive(Clone, Debug, Serialize, Deserialize)]
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
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub next_attempt_at: Option<OffsetDateTime>,
}

/// The last failure to renew the appliance's TLS certificate (absent: the last one succeeded).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RenewalNote {
    pub error: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
}

pub(super) fn seq_key(seq: u64) -> [u8; 8] {
    seq.to_be_bytes()
}

//! Alerts outside the page: the rules that watch server tokens, the push certificate, sync,
//! enrollment refusals, the disk and the appliance's certificate renewal, and the e-mail and
//! webhook events that announce each alert **once per state change** (when it starts, when
//! its level changes — 30, 14, 7, 1 days — and when it is resolved).
//!
//! Owns the tables `alerts.settings`, `alerts.active`, `alerts.outbox` and `alerts.sent`
//! ([`records`]). The announced state lives in the store, so neither a re-evaluation nor a
//! restart announces anything twice; each change is written in one transaction with its
//! e-mail (into the durable outbox) and its webhook event (through `events`' publisher), so
//! a kill at any moment loses none and duplicates none. E-mails leave the outbox only in the
//! transaction that records them sent; failures are retried with backoff for a day.
//!
//! Exposes [`Alerts`] (settings, send test, active alerts, the recent list, the evaluation
//! and the worker). Calls store, events, tokens, push, sync and enroll (all before it in the
//! ring). Must not use: http, daemon, actix types.

pub mod kind;
mod mail;
mod refusals;
pub mod records;
pub mod rules;
mod service;
mod settings;
mod state;

#[cfg(test)]
mod tests;

pub use kind::AlertKind;
pub use records::{ActiveAlert, MailOutcome, SENT_LIMIT, Security, SentEntry, TABLES};
pub use service::{AlertOptions, Alerts, Sources};
pub use settings::{SettingsUpdate, SettingsView, SmtpUpdate, SmtpView, TestResult};

use crate::store::StoreError;

/// The default enrollment-refusals threshold (per hour).
pub const DEFAULT_REFUSALS_PER_HOUR: u32 = 20;
/// The default free-space threshold (percent of the store's filesystem).
pub const DEFAULT_DISK_FREE_PERCENT: u8 = 10;
/// Recipients per alert kind at most.
pub const MAX_RECIPIENTS: usize = 20;

#[derive(Debug, thiserror::Error)]
pub enum AlertsError {
    #[error("{field}: {message}")]
    Invalid { field: &'static str, message: String },
    #[error("no SMTP server is set: fill in the SMTP settings on the Integrations page first")]
    NoSmtp,
    #[error(transparent)]
    Store(#[from] StoreError),
}

crate::store::redb_errors_into!(AlertsError);

impl AlertsError {
    fn invalid(field: &'static str, message: impl Into<String>) -> AlertsError {
        AlertsError::Invalid { field, message: message.into() }
    }
}

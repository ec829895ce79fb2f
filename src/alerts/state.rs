//! The announced state and the outbox, inside write transactions: comparing what holds now
//! with what was last announced and writing, for each change, the alert's new state, its
//! e-mail and its webhook event together; and the outbox's bookkeeping after a send.

use super::AlertKind;
use super::records::{
    ACTIVE, ActiveAlert, MailEntry, MailOutcome, OUTBOX, OUTBOX_LIMIT, SENT, SENT_LIMIT, SETTINGS,
    SETTINGS_KEY, SentEntry, SettingsRecord, seq_key,
};
use crate::events::{AdeboxEvent, Publisher, envelope};
use crate::store::{self, StoreError};
use redb::{ReadTransaction, ReadableTable, ReadableTableMetadata, WriteTransaction};
use std::collections::BTreeMap;
use time::{Duration, OffsetDateTime};

/// E-mails are retried this long, then given up.
pub const GIVE_UP_AFTER: Duration = Duration::hours(24);

pub(super) fn settings_in(rtx: &ReadTransaction) -> Result<SettingsRecord, StoreError> {
    Ok(store::get(&rtx.open_table(SETTINGS)?, SETTINGS_KEY)?.unwrap_or_default())
}

pub(super) fn settings_w(wtx: &WriteTransaction) -> Result<SettingsRecord, StoreError> {
    Ok(store::get(&wtx.open_table(SETTINGS)?, SETTINGS_KEY)?.unwrap_or_default())
}

/// What one announcement says, for the e-mail, the event and the list.
pub(super) struct Announcement<'a> {
    pub alert: &'a ActiveAlert,
    pub resolved: bool,
    /// The public base URL (`https://adebox.example.org`), for links.
    pub base: &'a str,
}

impl Announcement<'_> {
    fn summary(&self) -> String {
        if self.resolved {
            format!("Resolved: {}", self.alert.summary)
        } else {
            self.alert.summary.clone()
        }
    }

    fn fix_url(&self) -> String {
        format!("{}{}", self.base, self.alert.fix_path)
    }

    fn body(&self, now: OffsetDateTime) -> String {
        let a = self.alert;
        let fmt = |t: OffsetDateTime| {
            t.format(&time::format_description::well_known::Rfc3339).unwrap_or_default()
        };
        let head = if self.resolved {
            format!("Resolved at {}: this no longer holds.\n\nWhat it was: {}", fmt(now), a.message)
        } else {
            format!("{}\n\nSince: {}", a.message, fmt(a.since))
        };
        format!(
            "{head}\n\nWhere to fix it: {}\n\nAlert: {} ({}, {})\n\n-- \nadebox at {}. Each alert \
             is sent once when it starts, again when it changes, and once when it is resolved. \
             Recipients are set on the Integrations page: {}/admin/integrations#alerts\n",
            self.fix_url(),
            a.kind.title(),
            a.key,
            a.level,
            self.base,
            self.base,
        )
    }
}

/// Writes one announcement: the list entry, the e-mail (when the kind has recipients and an
/// SMTP server is set) and the webhook event. Returns the list entry's sequence.
pub(super) fn announce(
    wtx: &WriteTransaction,
    settings: &SettingsRecord,
    what: &Announcement,
    now: OffsetDateTime,
) -> Result<u64, StoreError> {
    let recipients = settings.recipients.get(&what.alert.kind).cloned().unwrap_or_default();
    let mailed = settings.smtp.is_some() && !recipients.is_empty();
    let seq = next_seq(wtx, SENT)?;
    let entry = SentEntry {
        seq,
        at: now,
        kind: what.alert.kind,
        change: if what.resolved { "resolved" } else { "raised" }.into(),
        summary: what.summary(),
        fix_path: what.alert.fix_path.clone(),
        recipients: if mailed { recipients.clone() } else { Vec::new() },
        mail: if mailed { MailOutcome::Queued } else { MailOutcome::NotMailed },
        attempts: 0,
        last_error: None,
        next_attempt_at: if mailed { Some(now) } else { None },
    };
    let mut sent = wtx.open_table(SENT)?;
    store::put(&mut sent, &seq_key(seq), &entry)?;
    // The list keeps the newest SENT_LIMIT.
    while sent.len()? > SENT_LIMIT {
        let Some((k, _)) = sent.pop_first()? else { break };
        drop(k);
    }
    drop(sent);
    if mailed {
        let mail = MailEntry {
            sent_seq: seq,
            to: recipients,
            subject: format!("[adebox] {}", what.summary()),
            body: what.body(now),
            created_at: now,
            next_at: now,
            attempts: 0,
        };
        enqueue(wtx, mail)?;
    }
    let topic = what.alert.kind.topic();
    let code = what.alert.kind.code();
    let event = AdeboxEvent {
        serial: None,
        kind: if what.resolved { format!("{code}_resolved") } else { code.to_string() },
        message: if what.resolved { what.summary() } else { what.alert.message.clone() },
        fix_url: Some(what.fix_url()),
    };
    Publisher::open(wtx)?.publish(topic, || envelope::adebox_event(topic, &event, now))?;
    Ok(seq)
}

/// The next sequence of `table` (one past its last key).
fn next_seq(wtx: &WriteTransaction, table: crate::store::Table) -> Result<u64, StoreError> {
    let t = wtx.open_table(table)?;
    let last = t.last()?.map(|(k, _)| {
        let b: [u8; 8] = k.value().try_into().unwrap_or([0; 8]);
        u64::from_be_bytes(b)
    });
    Ok(last.map_or(1, |l| l + 1))
}

/// Puts an e-mail in the outbox; over [`OUTBOX_LIMIT`], the oldest is dropped and its list
/// entry says so.
pub(super) fn enqueue(wtx: &WriteTransaction, mail: MailEntry) -> Result<(), StoreError> {
    let seq = next_seq(wtx, OUTBOX)?;
    let mut outbox = wtx.open_table(OUTBOX)?;
    store::put(&mut outbox, &seq_key(seq), &mail)?;
    while outbox.len()? > OUTBOX_LIMIT {
        let Some((_, v)) = outbox.pop_first()? else { break };
        let dropped: MailEntry = store::decode("alerts.outbox", v.value())?;
        update_sent(wtx, dropped.sent_seq, |e| {
            e.mail = MailOutcome::GaveUp;
            e.last_error = Some("dropped: more than 1000 e-mails were waiting".into());
            e.next_attempt_at = None;
        })?;
    }
    Ok(())
}

fn update_sent(
    wtx: &WriteTransaction,
    seq: u64,
    change: impl FnOnce(&mut SentEntry),
) -> Result<(), StoreError> {
    let mut sent = wtx.open_table(SENT)?;
    let found: Option<SentEntry> = store::get(&sent, &seq_key(seq))?;
    if let Some(mut e) = found {
        change(&mut e);
        store::put(&mut sent, &seq_key(seq), &e)?;
    }
    Ok(())
}

/// Compares `now_holding` with the announced state and announces every change: a new alert,
/// a changed level, a resolved one. Returns how many were announced.
pub(super) fn reconcile(
    wtx: &WriteTransaction,
    now_holding: &[ActiveAlert],
    base: &str,
    now: OffsetDateTime,
) -> Result<usize, StoreError> {
    let settings = settings_w(wtx)?;
    let mut announced: BTreeMap<String, ActiveAlert> = BTreeMap::new();
    for row in wtx.open_table(ACTIVE)?.iter()? {
        let (_, v) = row?;
        let a: ActiveAlert = store::decode("alerts.active", v.value())?;
        announced.insert(a.key.clone(), a);
    }
    let mut changes = 0;
    for alert in now_holding {
        let previous = announced.remove(&alert.key);
        if previous.as_ref().is_some_and(|p| p.level == alert.level) {
            continue;
        }
        let mut alert = alert.clone();
        alert.since = now;
        store::put(&mut wtx.open_table(ACTIVE)?, alert.key.as_bytes(), &alert)?;
        announce(wtx, &settings, &Announcement { alert: &alert, resolved: false, base }, now)?;
        changes += 1;
    }
    // What was announced and holds no longer is resolved.
    for (key, alert) in announced {
        wtx.open_table(ACTIVE)?.remove(key.as_bytes())?;
        announce(wtx, &settings, &Announcement { alert: &alert, resolved: true, base }, now)?;
        changes += 1;
    }
    Ok(changes)
}

/// Whether `now_holding` is what was announced (same keys at the same levels): then
/// [`reconcile`] would change nothing.
pub(super) fn unchanged_in(
    rtx: &ReadTransaction,
    now_holding: &[ActiveAlert],
) -> Result<bool, StoreError> {
    let mut announced = BTreeMap::new();
    for row in rtx.open_table(ACTIVE)?.iter()? {
        let (_, v) = row?;
        let a: ActiveAlert = store::decode("alerts.active", v.value())?;
        announced.insert(a.key, a.level);
    }
    let holding: BTreeMap<_, _> =
        now_holding.iter().map(|a| (a.key.clone(), a.level.clone())).collect();
    Ok(announced == holding)
}

pub(super) fn active_in(rtx: &ReadTransaction) -> Result<Vec<ActiveAlert>, StoreError> {
    let mut out = Vec::new();
    for row in rtx.open_table(ACTIVE)?.iter()? {
        let (_, v) = row?;
        out.push(store::decode("alerts.active", v.value())?);
    }
    Ok(out)
}

pub(super) fn recent_in(rtx: &ReadTransaction, limit: usize) -> Result<Vec<SentEntry>, StoreError> {
    let mut out = Vec::new();
    for row in rtx.open_table(SENT)?.iter()?.rev().take(limit) {
        let (_, v) = row?;
        out.push(store::decode("alerts.sent", v.value())?);
    }
    Ok(out)
}

/// The e-mails due at `now`, oldest first, at most `limit`.
pub(super) fn due_in(
    rtx: &ReadTransaction,
    now: OffsetDateTime,
    limit: usize,
) -> Result<Vec<(u64, MailEntry)>, StoreError> {
    let mut out = Vec::new();
    for row in rtx.open_table(OUTBOX)?.iter()? {
        let (k, v) = row?;
        let mail: MailEntry = store::decode("alerts.outbox", v.value())?;
        if mail.next_at <= now {
            let b: [u8; 8] = k.value().try_into().unwrap_or([0; 8]);
            out.push((u64::from_be_bytes(b), mail));
            if out.len() >= limit {
                break;
            }
        }
    }
    Ok(out)
}

/// The wait before attempt `n + 1`: 30 s doubling, at most an hour.
pub fn backoff(attempts: u32, first: std::time::Duration) -> Duration {
    let first = Duration::try_from(first).unwrap_or(Duration::seconds(30));
    let factor = 1i32 << attempts.min(10);
    (first * factor).min(Duration::hours(1))
}

/// Records one attempt at outbox entry `seq`: sent (it leaves), failed (retried later, or
/// given up after [`GIVE_UP_AFTER`]).
pub(super) fn record_attempt(
    wtx: &WriteTransaction,
    seq: u64,
    result: &Result<String, String>,
    now: OffsetDateTime,
    first_retry: std::time::Duration,
) -> Result<(), StoreError> {
    let mut outbox = wtx.open_table(OUTBOX)?;
    let Some(mut mail): Option<MailEntry> = store::get(&outbox, &seq_key(seq))? else {
        return Ok(());
    };
    mail.attempts += 1;
    let (attempts, sent_seq) = (mail.attempts, mail.sent_seq);
    match result {
        Ok(_) => {
            outbox.remove(seq_key(seq).as_slice())?;
            drop(outbox);
            update_sent(wtx, sent_seq, |e| {
                e.mail = MailOutcome::Sent;
                e.attempts = attempts;
                e.next_attempt_at = None;
            })
        }
        Err(why) if now - mail.created_at >= GIVE_UP_AFTER => {
            outbox.remove(seq_key(seq).as_slice())?;
            drop(outbox);
            let why = why.clone();
            update_sent(wtx, sent_seq, move |e| {
                e.mail = MailOutcome::GaveUp;
                e.attempts = attempts;
                e.last_error = Some(why);
                e.next_attempt_at = None;
            })
        }
        Err(why) => {
            mail.next_at = now + backoff(attempts - 1, first_retry);
            let next = mail.next_at;
            store::put(&mut outbox, &seq_key(seq), &mail)?;
            drop(outbox);
            let why = why.clone();
            update_sent(wtx, sent_seq, move |e| {
                e.attempts = attempts;
                e.last_error = Some(why);
                e.next_attempt_at = Some(next);
            })
        }
    }
}

/// The kinds with at least one e-mail that failed and is still waiting, for the page's banner.
pub(super) fn failing_in(rtx: &ReadTransaction) -> Result<Vec<(AlertKind, String)>, StoreError> {
    let mut out = Vec::new();
    for row in rtx.open_table(SENT)?.iter()?.rev().take(SENT_LIMIT as usize) {
        let (_, v) = row?;
        let e: SentEntry = store::decode("alerts.sent", v.value())?;
        if e.mail == MailOutcome::Queued
            && let Some(err) = e.last_error
        {
            out.push((e.kind, err));
        }
    }
    Ok(out)
}

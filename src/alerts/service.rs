//! The alerts service: what the API calls (settings, send test, active and recent alerts),
//! the evaluation (observe, then reconcile in one transaction) and the worker that evaluates
//! on a timer and sends the outbox's e-mails.

use super::records::{
    ActiveAlert, MailEntry, RENEWAL_KEY, RenewalNote, SETTINGS, SETTINGS_KEY, SMTP_PASSWORD,
    SentEntry,
};
use super::rules::{self, Observed, Thresholds, TokenSeen};
use super::settings::{SettingsUpdate, SettingsView, TestResult};
use super::{AlertKind, AlertsError, mail, state};
use crate::clock::Clock;
use crate::store::{self, Store, StoreError};
use std::sync::Arc;
use std::time::Duration as StdDuration;

/// How often the rules run and how soon a failed e-mail is first retried (tests shorten both).
#[derive(Clone, Debug)]
pub struct AlertOptions {
    pub evaluate_every: StdDuration,
    pub first_retry: StdDuration,
}

impl Default for AlertOptions {
    fn default() -> Self {
        AlertOptions {
            evaluate_every: StdDuration::from_secs(60),
            first_retry: StdDuration::from_secs(30),
        }
    }
}

/// The services the rules read.
#[derive(Clone)]
pub struct Sources {
    pub tokens: crate::tokens::Tokens,
    pub push: crate::push::Push,
    pub sync: crate::sync::Sync,
    pub enroll: crate::enroll::Enroll,
    /// The daily backup, when `[backup]` is configured.
    pub backups: Option<crate::backup::scheduled::Scheduled>,
    /// The devices a failed blocking setup step holds in Setup Assistant.
    pub mdm: crate::mdm::Mdm,
}

/// The alerts service (cheap to clone).
#[derive(Clone)]
pub struct Alerts {
    inner: Arc<Inner>,
}

struct Inner {
    store: Store,
    clock: Clock,
    sources: Sources,
    /// The public base URL links are built from.
    base: String,
    options: AlertOptions,
    refusals: tokio::sync::Mutex<super::refusals::RefusalWindow>,
}

impl Alerts {
    pub fn new(
        store: Store,
        clock: Clock,
        sources: Sources,
        base: String,
        options: AlertOptions,
    ) -> Alerts {
        let base = base.trim_end_matches('/').to_string();
        let refusals = Default::default();
        Alerts { inner: Arc::new(Inner { store, clock, sources, base, options, refusals }) }
    }

    pub async fn settings(&self) -> Result<SettingsView, AlertsError> {
        let r = self.inner.store.read(|rtx| Ok::<_, AlertsError>(state::settings_in(rtx)?)).await?;
        Ok(SettingsView::of(&r))
    }

    /// Changes the settings (checked whole first; nothing changes if any part is wrong).
    pub async fn update(&self, change: SettingsUpdate) -> Result<SettingsView, AlertsError> {
        let current =
            self.inner.store.read(|rtx| Ok::<_, AlertsError>(state::settings_in(rtx)?)).await?;
        let next = change.apply(current, self.inner.store.sealer())?;
        let saved = next.clone();
        self.inner
            .store
            .write(move |wtx| {
                store::put(&mut wtx.open_table(SETTINGS)?, SETTINGS_KEY, &saved)?;
                Ok::<_, AlertsError>(())
            })
            .await?;
        Ok(SettingsView::of(&next))
    }

    /// Removes the SMTP server and its sealed password (recipients and thresholds stay, so
    /// setting a server again resumes the e-mails; until then they wait in the outbox).
    /// Returns whether one was set.
    pub async fn remove_smtp(&self) -> Result<(bool, SettingsView), AlertsError> {
        let (had, next) = self
            .inner
            .store
            .write(move |wtx| {
                let mut r = state::settings_w(wtx)?;
                let had = r.smtp.take().is_some();
                store::put(&mut wtx.open_table(SETTINGS)?, SETTINGS_KEY, &r)?;
                Ok::<_, AlertsError>((had, r))
            })
            .await?;
        Ok((had, SettingsView::of(&next)))
    }

    /// Sends a test message now to `to` (or the test kind's recipients) and reports the SMTP
    /// server's answer in plain words. Not queued: the admin is waiting for the answer.
    pub async fn send_test(&self, to: Option<Vec<String>>) -> Result<TestResult, AlertsError> {
        let settings =
            self.inner.store.read(|rtx| Ok::<_, AlertsError>(state::settings_in(rtx)?)).await?;
        let smtp = settings.smtp.clone().ok_or(AlertsError::NoSmtp)?;
        let to = to
            .filter(|t| !t.is_empty())
            .or_else(|| settings.recipients.get(&AlertKind::Test).cloned())
            .filter(|t| !t.is_empty())
            .ok_or_else(|| {
                AlertsError::invalid(
                    "to",
                    "give an address to send the test to, or set the test message's recipients",
                )
            })?;
        for a in &to {
            mail::parse_address("to", a).map_err(|(f, m)| AlertsError::invalid(f, m))?;
        }
        let password = self.password(&settings.smtp)?;
        let body = format!(
            "This is a test message from adebox at {}.\n\nIf you read this, alerts reach you: \
             server tokens and the push certificate expiring or refused, sync failing, many \
             enrollment refusals, the disk nearly full, the appliance's certificate renewal \
             failing.\n\nRecipients are set on the Integrations page: {}/admin/integrations#alerts\n",
            self.inner.base, self.inner.base
        );
        let result = mail::send(&smtp, password, &to, "[adebox] Test message", &body).await;
        Ok(match result {
            Ok(answer) => TestResult {
                sent: true,
                answer: format!("The SMTP server accepted the message: {answer}"),
                recipients: to,
            },
            Err(answer) => TestResult { sent: false, answer, recipients: to },
        })
    }

    fn password(
        &self,
        smtp: &Option<super::records::SmtpRecord>,
    ) -> Result<Option<crate::crypto::Secret<String>>, AlertsError> {
        let sealed = smtp.as_ref().and_then(|s| s.password.as_ref());
        Ok(self.inner.store.sealer().open_opt(SMTP_PASSWORD, SETTINGS_KEY, sealed)?)
    }

    /// The alerts that hold now, as last announced.
    pub async fn active(&self) -> Result<Vec<ActiveAlert>, AlertsError> {
        self.inner.store.read(|rtx| Ok::<_, AlertsError>(state::active_in(rtx)?)).await
    }

    /// The newest announcements, newest first.
    pub async fn recent(&self, limit: usize) -> Result<Vec<SentEntry>, AlertsError> {
        self.inner.store.read(move |rtx| Ok::<_, AlertsError>(state::recent_in(rtx, limit)?)).await
    }

    /// Alert kinds whose e-mail is failing, with the last error, for the page's banner.
    pub async fn failing_mail(&self) -> Result<Vec<(AlertKind, String)>, AlertsError> {
        self.inner.store.read(|rtx| Ok::<_, AlertsError>(state::failing_in(rtx)?)).await
    }

    /// Records how the appliance's TLS certificate renewal went (the daemon's renewal task).
    pub async fn note_renewal(&self, error: Option<String>) -> Result<(), AlertsError> {
        let note = RenewalNote { error, at: self.inner.clock.now() };
        self.inner
            .store
            .write(move |wtx| {
                store::put(&mut wtx.open_table(SETTINGS)?, RENEWAL_KEY, &note)?;
                Ok::<_, AlertsError>(())
            })
            .await
    }

    /// Looks at everything the rules need. A source that cannot be read fails the whole
    /// evaluation, so nothing is resolved for lack of a reading.
    async fn observe(&self) -> Result<(Observed, Thresholds), AlertsError> {
        let s = &self.inner.sources;
        let now = self.inner.clock.now();
        let map = |e: &dyn std::fmt::Display| {
            AlertsError::Store(StoreError::Decode { table: "alerts".into(), detail: e.to_string() })
        };
        let mut tokens = Vec::new();
        for t in s.tokens.list().await.map_err(|e| map(&e))? {
            let status = s.sync.status(&t.id, false).await.map_err(|e| map(&e))?;
            let failed_last = status
                .last_run
                .as_ref()
                .is_some_and(|r| r.outcome == crate::sync::RunOutcome::Failed);
            tokens.push(TokenSeen {
                id: t.id.to_string(),
                name: t.server_name.clone(),
                expires_at: t.expires_at,
                refused: t.problem.as_ref().filter(|p| p.blocking).map(|p| p.message.clone()),
                sync_failures: if failed_last { status.consecutive_failures } else { 0 },
                sync_message: status.last_run.map(|r| r.message).unwrap_or_default(),
            });
        }
        let push = s.push.status().await.map_err(|e| map(&e))?;
        let refusals_last_hour = {
            // Held across the read: one evaluation at a time updates the window.
            let mut window = self.inner.refusals.lock().await;
            window.count(&s.enroll, now).await.map_err(|e| map(&e))?
        };
        let (settings, renewal) = self
            .inner
            .store
            .read(|rtx| {
                let renewal: Option<RenewalNote> =
                    store::get(&rtx.open_table(SETTINGS)?, RENEWAL_KEY)?;
                Ok::<_, AlertsError>((state::settings_in(rtx)?, renewal))
            })
            .await?;
        let mut backup_error = None;
        if let Some(b) = &s.backups
            && let Some(last) = b.last().await.map_err(|e| map(&e))?
            && !last.ok
        {
            backup_error = Some((last.at, last.message));
        }
        let held = s.mdm.held().await.map_err(|e| map(&e))?;
        let observed = Observed {
            held: rules::HeldSeen::of(&held),
            tokens,
            push_expires_at: push.expires_at,
            push_refused: push.refused.map(|r| r.reason),
            refusals_last_hour,
            disk_free_percent: disk_free_percent(self.inner.store.path()),
            renewal_error: renewal.and_then(|r| r.error),
            backup_error,
        };
        let limits = Thresholds {
            refusals_per_hour: settings.refusals_per_hour,
            disk_free_percent: settings.disk_free_percent,
        };
        Ok((observed, limits))
    }

    /// Runs the rules now and announces what changed; returns how many changes.
    pub async fn evaluate(&self) -> Result<usize, AlertsError> {
        let (observed, limits) = self.observe().await?;
        self.apply(observed, limits).await
    }

    /// Announces the changes between what `observed` makes hold and what was announced.
    pub async fn apply(
        &self,
        observed: Observed,
        limits: Thresholds,
    ) -> Result<usize, AlertsError> {
        let now = self.inner.clock.now();
        let holding = rules::evaluate(&observed, limits, now);
        // Most evaluations change nothing: a read then, not a write (and its disk sync).
        let same = holding.clone();
        if self
            .inner
            .store
            .read(move |rtx| Ok::<_, AlertsError>(state::unchanged_in(rtx, &same)?))
            .await?
        {
            return Ok(0);
        }
        let base = self.inner.base.clone();
        self.inner
            .store
            .write(move |wtx| Ok::<_, AlertsError>(state::reconcile(wtx, &holding, &base, now)?))
            .await
    }

    /// Sends the e-mails due now; returns how many were attempted.
    pub async fn send_due(&self) -> Result<usize, AlertsError> {
        let now = self.inner.clock.now();
        let (due, settings) = self
            .inner
            .store
            .read(move |rtx| {
                Ok::<_, AlertsError>((state::due_in(rtx, now, 5)?, state::settings_in(rtx)?))
            })
            .await?;
        let Some(smtp) = settings.smtp.clone() else { return Ok(0) };
        let password = self.password(&settings.smtp)?;
        for (seq, m) in &due {
            let MailEntry { to, subject, body, .. } = m;
            let result = mail::send(&smtp, password.clone(), to, subject, body).await;
            if let Err(e) = &result {
                log::warn!(kind = "alert_mail"; "alert e-mail not sent: {e}");
            }
            let (now, first) = (self.inner.clock.now(), self.inner.options.first_retry);
            let seq = *seq;
            self.inner
                .store
                .write(move |wtx| {
                    Ok::<_, AlertsError>(state::record_attempt(wtx, seq, &result, now, first)?)
                })
                .await?;
        }
        Ok(due.len())
    }

    /// The worker: evaluates every [`AlertOptions::evaluate_every`] and sends the outbox's
    /// due e-mails every second. Runs until dropped.
    pub async fn run(self) {
        let mut last_eval: Option<std::time::Instant> = None;
        loop {
            if last_eval.is_none_or(|t| t.elapsed() >= self.inner.options.evaluate_every) {
                last_eval = Some(std::time::Instant::now());
                if let Err(e) = self.evaluate().await {
                    log::warn!("alert rules could not run: {e}");
                }
            }
            if let Err(e) = self.send_due().await {
                log::warn!("alert e-mails could not be sent: {e}");
            }
            let tick = self.inner.options.evaluate_every.min(StdDuration::from_secs(1));
            tokio::time::sleep(tick).await;
        }
    }
}

/// Free space of the filesystem holding `path`, in percent (None if it cannot be read).
fn disk_free_percent(path: &std::path::Path) -> Option<f64> {
    let dir = if path.is_dir() { path } else { path.parent()? };
    let s = nix::sys::statvfs::statvfs(dir).ok()?;
    let total = s.blocks() as f64;
    (total > 0.0).then(|| s.blocks_available() as f64 * 100.0 / total)
}

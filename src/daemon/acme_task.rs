//! The background task that keeps the appliance's ACME certificate current: an order at start
//! when none is issued yet, then inside the CA's suggested renewal window (RFC 9773, asked
//! again as the CA says) or at two thirds of each certificate's lifetime; after a failure it
//! retries with backoff (`tls::AcmeRenewer`); at once when a reload changed `public.hosts`. Each outcome goes to the alert rules (the
//! "appliance certificate renewal failing" alert) and the audit log.

use crate::audit::{Action, Actor, AuditLog, NewEntry, Outcome};
use crate::clock::Clock;
use crate::tls::AcmeRenewer;
use std::sync::Arc;
use std::time::Duration as StdDuration;

/// The longest single sleep: a changed clock or a "Renew now" is noticed within it.
const MAX_SLEEP: StdDuration = StdDuration::from_secs(3600);

pub(super) async fn run(
    acme: Arc<AcmeRenewer>,
    audit: AuditLog,
    alerts: crate::alerts::Alerts,
    clock: Clock,
) {
    loop {
        acme.refresh_hint_if_due().await;
        let now = clock.now();
        let next = acme.wake_at(now);
        if next > now {
            let wait = StdDuration::try_from(next - now).unwrap_or(MAX_SLEEP);
            tokio::select! {
                _ = tokio::time::sleep(wait.min(MAX_SLEEP)) => {}
                _ = acme.woken() => {}
            }
            continue;
        }
        if acme.next_attempt(now) > now {
            continue; // woke for the renewal window only
        }
        let result = acme.renew().await;
        let failure = result.as_ref().err().map(|e| e.to_string());
        if let Err(e) = alerts.note_renewal(failure).await {
            log::error!("could not record the ACME order's outcome for alerts: {e}");
        }
        let entry = match &result {
            Ok(info) => NewEntry::new(now, Actor::System, Action::TlsRenew, Outcome::Success)
                .target(info.sans.join(", "))
                .detail(format!("ACME, valid until {}", info.not_after)),
            Err(e) => {
                log::error!(
                    "the ACME CA did not issue the TLS certificate: {e}; retrying at {}",
                    acme.next_attempt(now)
                );
                NewEntry::new(now, Actor::System, Action::TlsRenew, Outcome::Failure)
                    .detail(e.to_string())
            }
        };
        if let Err(e) = audit.record(entry).await {
            log::error!("could not audit the ACME order: {e}");
        }
    }
}

//! Renews the self-managed server certificate while the daemon runs: checked at start, then
//! when it is due (30 days before expiry) and at least twice a day so that a changed system
//! clock is noticed; the new certificate is hot-swapped into the TLS acceptor (the resolver
//! reads it on every handshake), so no listener restarts. Each renewal is audited; a failure
//! raises the "appliance certificate renewal failing" alert and is tried again at the next
//! check.

use crate::audit::{Action, Actor, AuditLog, NewEntry, Outcome};
use crate::clock::Clock;
use crate::tls::TlsManager;
use std::sync::Arc;
use std::time::Duration as StdDuration;

/// The longest wait between two checks.
const CHECK_MAX: StdDuration = StdDuration::from_secs(12 * 3600);
/// The shortest: a certificate due but failing to renew is not tried in a tight loop.
const CHECK_MIN: StdDuration = StdDuration::from_secs(600);
/// The wait under a manual clock (tests step it; sleeping does not move it).
const CHECK_MANUAL: StdDuration = StdDuration::from_secs(1);

pub(super) async fn run(
    tls: Arc<TlsManager>,
    audit: AuditLog,
    alerts: crate::alerts::Alerts,
    clock: Clock,
) {
    // The alert rules read the last outcome; it is written when it changes (and once at
    // start, clearing a failure noted before a restart).
    let mut noted_failure = Some(true);
    loop {
        let now = clock.now();
        let t = tls.clone();
        let outcome = tokio::task::spawn_blocking(move || t.renew_if_due(now)).await;
        let failure = match &outcome {
            Ok(Err(e)) => Some(e.to_string()),
            Err(e) => Some(e.to_string()),
            Ok(Ok(_)) => None,
        };
        if noted_failure != Some(failure.is_some()) || failure.is_some() {
            noted_failure = Some(failure.is_some());
            if let Err(e) = alerts.note_renewal(failure).await {
                log::error!("could not record the TLS renewal's outcome for alerts: {e}");
                noted_failure = None;
            }
        }
        match outcome {
            Ok(Ok(Some(info))) => {
                let entry = NewEntry::new(now, Actor::System, Action::TlsRenew, Outcome::Success)
                    .target(info.sans.join(", "))
                    .detail(format!("valid until {}", info.not_after));
                if let Err(e) = audit.record(entry).await {
                    log::error!("renewed the TLS certificate but could not audit it: {e}");
                }
            }
            Ok(Ok(None)) => {}
            Ok(Err(e)) => {
                log::error!("TLS certificate renewal failed: {e}; will try again at the next check")
            }
            Err(e) => log::error!("TLS certificate renewal task failed: {e}"),
        }
        let wait = match (clock.is_manual(), tls.info().renews_at) {
            (true, _) => CHECK_MANUAL,
            (false, Some(at)) => StdDuration::try_from(at - clock.now())
                .unwrap_or_default()
                .clamp(CHECK_MIN, CHECK_MAX),
            (false, None) => CHECK_MAX,
        };
        tokio::time::sleep(wait).await;
    }
}

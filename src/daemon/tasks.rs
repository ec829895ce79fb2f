//! The daemon's named background tasks: how they are spawned and stopped, and the hourly
//! housekeeping that keeps the store bounded.

use crate::admin::Admin;
use crate::audit::{AuditLog, Pruned};
use crate::clock::Clock;
use std::time::Duration as StdDuration;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// Spawns the daemon's named background tasks; each ends when `stop` turns true.
pub(super) fn spawn_all(
    s: &super::Services,
    workers: super::Workers,
    config: &crate::config::Config,
    stop: watch::Receiver<bool>,
) -> Vec<(&'static str, JoinHandle<()>)> {
    // With `[tls.acme]` the ACME task owns the renewal alert; the self-managed certificate is
    // then only the stand-in until the first order succeeds (re-issued at start when due).
    let renewal = match &s.tls_acme {
        Some(acme) => spawn_task(
            "tls-acme",
            stop.clone(),
            super::acme_task::run(acme.clone(), s.audit.clone(), s.alerts.clone(), s.clock.clone()),
        ),
        None => spawn_task(
            "tls-renewal",
            stop.clone(),
            super::tls_renewal::run(
                s.tls.clone(),
                s.audit.clone(),
                s.alerts.clone(),
                s.clock.clone(),
            ),
        ),
    };
    let mut tasks = vec![
        renewal,
        spawn_task(
            "maintenance",
            stop.clone(),
            maintenance(
                s.admin.clone(),
                s.audit.clone(),
                s.devices.clone(),
                s.sync.clone(),
                s.acme.clone(),
                s.clock.clone(),
            ),
        ),
        spawn_task("audit-anchor", stop.clone(), s.audit.clone().anchor()),
        spawn_task("profiles", stop.clone(), s.profiles.clone().run()),
        spawn_task(
            "tls-anchors",
            stop.clone(),
            super::anchors_task::run(
                s.tls.clone(),
                s.profiles.clone(),
                s.audit.clone(),
                s.clock.clone(),
            ),
        ),
        spawn_task("apns", stop.clone(), workers.apns),
        spawn_task("webhooks", stop.clone(), s.events.clone().run()),
        spawn_task("alerts", stop.clone(), s.alerts.clone().run()),
        spawn_task(
            "business-actions",
            stop.clone(),
            s.business_actions.activities.clone().run(s.business_actions.connection.clone()),
        ),
        spawn_task(
            "business-sync",
            stop.clone(),
            s.sync.clone().follow_business(s.business_actions.activities.clone()),
        ),
        spawn_task("business-devices", stop.clone(), s.business_devices.clone().run()),
        spawn_task("business-applecare", stop.clone(), s.business_devices.clone().fill_coverage()),
        // Not wrapped in spawn_task: the supervisor stops its workers itself, between pages.
        ("sync", tokio::spawn(s.sync.clone().supervise(stop.clone()))),
        spawn_task(
            "control-socket",
            stop.clone(),
            crate::control::serve(
                config.data_dir.join(crate::control::SOCKET_NAME),
                s.admin.clone(),
                s.audit.clone(),
            ),
        ),
    ];
    if let Some(b) = &s.backups {
        tasks.push(spawn_task("backups", stop, b.clone().run()));
    }
    tasks
}

/// Spawns a named background task that ends when `stop` turns true.
fn spawn_task(
    name: &'static str,
    mut stop: watch::Receiver<bool>,
    work: impl std::future::Future<Output = ()> + Send + 'static,
) -> (&'static str, JoinHandle<()>) {
    let handle = tokio::spawn(async move {
        tokio::select! {
            _ = work => log::warn!(task = name; "background task ended on its own"),
            _ = stop.wait_for(|s| *s) => log::debug!(task = name; "background task stopped"),
        }
    });
    (name, handle)
}

/// Audit entries are kept this long.
const AUDIT_RETENTION: time::Duration = time::Duration::days(2 * 365);
/// ACME upkeep passes an hour at most: enough to clear the default cap on unfinished state
/// (`acme::MAX_UNFINISHED` accounts and orders) after a flood.
const ACME_PASSES: usize = 10;

/// Hourly housekeeping that keeps the store bounded.
async fn maintenance(
    admin: Admin,
    audit: AuditLog,
    devices: crate::devices::Devices,
    sync: crate::sync::Sync,
    acme: crate::acme::AcmeService,
    clock: Clock,
) {
    let mut tick = tokio::time::interval(StdDuration::from_secs(3600));
    loop {
        tick.tick().await;
        let retention = sync
            .settings()
            .await
            .map(|s| s.retention_days)
            .unwrap_or(crate::devices::DEFAULT_RETENTION_DAYS);
        match devices.purge_removed(clock.now(), retention).await {
            Ok(0) => {}
            Ok(n) => {
                log::info!(devices = n; "deleted devices removed from Apple more than {retention} days ago")
            }
            Err(e) => log::error!("device retention failed: {e}"),
        }
        if let Err(e) = admin.prune_sessions().await {
            log::error!("pruning expired sessions failed: {e}");
        }
        match audit.prune(clock.now(), AUDIT_RETENTION).await {
            Ok(Pruned::Nothing) => {}
            Ok(Pruned::Span(s)) => log::info!(
                first = s.first, last = s.last;
                "pruned audit entries older than two years; the chain keeps a checkpoint of the last"
            ),
            Ok(Pruned::Held(b)) => log::error!(
                "audit entries older than two years were kept: {b}. Run `adebox admin verify-audit`; pruning waits so the evidence stays"
            ),
            Err(e) => log::error!("pruning the audit log failed: {e}"),
        }
        // Bounded passes, a few in a row (after a flood the cap must clear within the hour);
        // whatever is left waits for the next hour.
        for _ in 0..ACME_PASSES {
            match acme.cleanup(clock.now(), crate::acme::upkeep::MAX_PER_RUN).await {
                Ok(c) if c.total() > 0 => {
                    log::info!(
                        orders = c.orders, authorizations = c.authorizations,
                        expectations = c.expectations, accounts = c.accounts,
                        nonces = c.nonces, more = c.more;
                        "deleted expired ACME records"
                    );
                    if !c.more {
                        break;
                    }
                }
                Ok(_) => break,
                Err(e) => {
                    log::error!("ACME upkeep failed: {e}");
                    break;
                }
            }
        }
    }
}

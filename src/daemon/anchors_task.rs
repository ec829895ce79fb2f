//! Keeps the DEP profiles' `anchor_certs` in step with the appliance certificate: at start
//! (a switch made while stopped, or cut short by a crash) and after every change of the
//! certificate's mode (an upload, going back to the self-managed one, the first ACME
//! certificate, a reload), every profile is redefined at Apple when its anchors changed, so
//! devices are re-assigned to a profile that pins what `/enroll/anchors` serves. Audited with
//! the number of devices that re-assigns. A certificate the configuration file asks for is
//! held until confirmed (`tls::hold`); this task confirms it at once when it re-assigns no
//! device.

use crate::audit::{Action, Actor, AuditLog, NewEntry, Outcome};
use crate::clock::Clock;
use crate::profiles::Profiles;
use crate::tls::TlsManager;
use std::sync::Arc;
use std::time::Duration as StdDuration;

/// A failed redefinition (the store busy or full) is tried again after this long.
const RETRY: StdDuration = StdDuration::from_secs(60);

pub(super) async fn run(tls: Arc<TlsManager>, profiles: Profiles, audit: AuditLog, clock: Clock) {
    let mut modes = tls.watch_mode();
    loop {
        let done = follow(&tls, &profiles, &audit, &clock).await;
        if done {
            if modes.changed().await.is_err() {
                return;
            }
        } else {
            tokio::select! {
                changed = modes.changed() => if changed.is_err() { return },
                _ = tokio::time::sleep(RETRY) => {}
            }
        }
    }
}

/// Arms the hold of configuration-file switches with what Apple's profiles pin (before the
/// listeners serve anything, so a certificate named while stopped is held from the start,
/// unless it re-assigns no device).
pub(super) async fn arm_hold(tls: &Arc<TlsManager>, profiles: &Profiles, clock: &Clock) {
    let pins = match profiles.apple_pins_a_ca().await {
        Ok(pins) => pins,
        Err(e) => {
            log::error!(
                "could not read what Apple's profiles pin ({e}); assuming the appliance CA"
            );
            true
        }
    };
    let harmless = match profiles.all_profiles_impact().await {
        Ok(impact) => impact.devices_to_reassign == 0,
        Err(_) => false,
    };
    let pins = pins && !harmless;
    let (tls, now) = (tls.clone(), clock.now());
    match tokio::task::spawn_blocking(move || tls.arm_hold(pins, now)).await {
        Ok(Ok(())) => {}
        Ok(Err(e)) => log::error!("the configured TLS certificate could not be held: {e}"),
        Err(e) => log::error!("the configured TLS certificate could not be held: {e}"),
    }
}

/// Serves a held certificate at once when no device would be re-assigned.
async fn confirm_if_harmless(tls: &Arc<TlsManager>, profiles: &Profiles, clock: &Clock) {
    if tls.held().is_none() {
        return;
    }
    match profiles.all_profiles_impact().await {
        Ok(impact) if impact.devices_to_reassign == 0 => {
            let (tls, now) = (tls.clone(), clock.now());
            match tokio::task::spawn_blocking(move || tls.confirm_held(now)).await {
                Ok(Ok(Some(mode))) => log::info!(
                    "serving the certificate of {} (no device is re-assigned, so no confirmation is needed)",
                    crate::tls::describe_source(mode)
                ),
                Ok(Ok(None)) => {}
                Ok(Err(e)) => {
                    log::error!("the configured TLS certificate could not be served: {e}")
                }
                Err(e) => log::error!("the configured TLS certificate could not be served: {e}"),
            }
        }
        Ok(_) => {}
        Err(e) => log::error!("could not count the devices a certificate switch re-assigns: {e}"),
    }
}

/// One pass; false when it must be tried again.
async fn follow(
    tls: &Arc<TlsManager>,
    profiles: &Profiles,
    audit: &AuditLog,
    clock: &Clock,
) -> bool {
    confirm_if_harmless(tls, profiles, clock).await;
    // Counted before the redefinition: the devices holding the profiles as Apple has them.
    let impact = profiles.all_profiles_impact().await;
    // Earlier versions always sent the appliance CA.
    let unrecorded = vec![tls.ca().cert_der().to_vec()];
    match profiles.follow_anchors(unrecorded).await {
        Ok(0) => true,
        Ok(_) => {
            let pinned = !tls.anchor_certs().is_empty();
            let devices = impact.map(|i| i.devices_to_reassign).unwrap_or_default();
            let what = if pinned {
                "the appliance CA is pinned again (anchor_certs)"
            } else {
                "no CA is pinned (anchor_certs empty: a publicly trusted certificate)"
            };
            log::info!(devices = devices; "the server certificate switched: {what}; every profile is defined again at Apple and its devices re-assigned");
            let entry = NewEntry::new(
                clock.now(),
                Actor::System,
                Action::TlsAnchorsSwitch,
                Outcome::Success,
            )
            .target(format!("{:?}", tls.info().mode))
            .detail(format!("{what}; {devices} devices re-assigned"));
            if let Err(e) = audit.record(entry).await {
                log::error!(
                    "redefined the profiles for the new certificate but could not audit it: {e}"
                );
            }
            true
        }
        Err(e) => {
            log::error!(
                "the profiles could not be redefined for the new server certificate ({e}); retrying in a minute"
            );
            false
        }
    }
}

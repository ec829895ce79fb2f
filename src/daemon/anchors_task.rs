//! Keeps the DEP profiles' `anchor_certs` in step with the appliance certificate: at start
//! (a switch made while stopped, or cut short by a crash) and after every change of the
//! certificate's mode (an upload, going back to the self-managed one, the first ACME
//! certificate, a reload), every profile is redefined at Apple when its anchors changed, so
//! devices are re-assigned to a profile that pins what `/enroll/anchors` serves. Audited with
//! the number of devices that re-assigns.

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

/// One pass; false when it must be tried again.
async fn follow(tls: &TlsManager, profiles: &Profiles, audit: &AuditLog, clock: &Clock) -> bool {
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

//! A certificate the configuration file asks for (`[tls.acme]`, `tls.cert_file`) that would
//! replace the appliance CA's is held until an admin confirms it, as a switch on the page is:
//! serving it changes what the profiles pin, so every profile is defined again at Apple and
//! its devices re-assigned, and editing a file is no place to see how many devices that is.
//! While held, the self-managed certificate is served (the one Apple's profiles pin, so
//! enrollment keeps working); the daemon confirms at once when no device would be re-assigned,
//! and `tls.confirm_reassign = true` in the file confirms in advance (automated sites).
//!
//! The hold is armed by the daemon once it knows what Apple holds (a certificate the
//! configuration named while adebox was stopped is held at start too); a TLS manager that is
//! never armed serves what it is given.

use super::{Current, TlsError, TlsManager, TlsMode};
use time::OffsetDateTime;

#[derive(Debug, Default)]
pub(super) struct Gate {
    /// Set by [`TlsManager::arm_hold`].
    armed: bool,
    /// `tls.confirm_reassign`: switches in the file go ahead without asking.
    preconfirmed: bool,
    /// Set while [`TlsManager::confirm_held`] loads the held certificate.
    confirming: bool,
    /// The certificate the configuration asks for, not served until confirmed.
    held: Option<TlsMode>,
}

impl Gate {
    pub(super) fn new(preconfirmed: bool) -> Gate {
        Gate { preconfirmed, ..Gate::default() }
    }
}

impl TlsManager {
    fn gate(&self) -> std::sync::MutexGuard<'_, Gate> {
        self.gate.lock().expect("the hold is never locked across a panic")
    }

    /// Arms the hold. `apple_pins_ca`: the profiles Apple holds pin the appliance CA (it was
    /// the one served before, or nothing was ever recorded). A certificate from the
    /// configuration that is served now while Apple pins the CA is held at once.
    pub fn arm_hold(&self, apple_pins_ca: bool, now: OffsetDateTime) -> Result<(), TlsError> {
        let _guard = self.changing.lock().expect("tls mutex is never held across a panic");
        self.gate().armed = true;
        let mode = self.current.load().mode;
        if apple_pins_ca && from_configuration(mode) && self.must_hold() {
            return self.hold(mode, now);
        }
        Ok(())
    }

    fn must_hold(&self) -> bool {
        let g = self.gate();
        g.armed && !g.preconfirmed && !g.confirming
    }

    /// Serves `next`, a certificate the configuration asks for, unless it would replace the
    /// appliance CA's while the hold is armed: then that one stays and `next` waits.
    pub(super) fn serve_configured(
        &self,
        next: Current,
        now: OffsetDateTime,
    ) -> Result<(), TlsError> {
        if self.current.load().mode == TlsMode::SelfManaged && self.must_hold() {
            return self.hold(next.mode, now);
        }
        self.gate().held = None;
        let Current { key, info, mode, rule_break } = next;
        self.set(key, info, mode, rule_break);
        Ok(())
    }

    fn hold(&self, mode: TlsMode, now: OffsetDateTime) -> Result<(), TlsError> {
        if self.gate().held.replace(mode) != Some(mode) {
            log::warn!(
                "the configuration file asks for another TLS certificate ({}); serving it re-assigns the devices at Apple, so it waits for a confirmation on Settings (or tls.confirm_reassign = true in the file); the self-managed certificate is served meanwhile",
                describe(mode)
            );
        }
        self.load_self_managed(now, None)?;
        // Wakes whoever follows the certificate (the daemon confirms at once when no device
        // would be re-assigned).
        self.mode_tx.send_modify(|_| {});
        Ok(())
    }

    /// The certificate the configuration asks for and that waits for a confirmation.
    pub fn held(&self) -> Option<TlsMode> {
        self.gate().held
    }

    /// Serves the held certificate; returns which it was (`None`: nothing was held). Blocking.
    pub fn confirm_held(&self, now: OffsetDateTime) -> Result<Option<TlsMode>, TlsError> {
        let _guard = self.changing.lock().expect("tls mutex is never held across a panic");
        let Some(held) = self.gate().held else { return Ok(None) };
        self.gate().confirming = true;
        let loaded = self.load_current(now);
        self.gate().confirming = false;
        loaded?;
        Ok(Some(held))
    }
}

fn from_configuration(mode: TlsMode) -> bool {
    matches!(mode, TlsMode::Acme | TlsMode::CustomConfig)
}

/// Where the held certificate comes from, in the configuration file's words.
pub fn describe(mode: TlsMode) -> &'static str {
    match mode {
        TlsMode::Acme => "the ACME CA of [tls.acme]",
        TlsMode::CustomConfig => "the files of tls.cert_file and tls.key_file",
        TlsMode::CustomUpload => "the uploaded certificate",
        TlsMode::SelfManaged => "the self-managed certificate",
    }
}

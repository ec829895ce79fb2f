//! Which roots devices are trusted through: Apple's pinned ones in production, a stand-in
//! Apple PKI in the sandbox and tests — and never a stand-in in production (design rule 10).

use super::{DaemonError, Mode};
use std::sync::Arc;

/// Which roots devices are trusted through (design rule 10): the CA behind the identity a
/// device signs its MachineInfo with, and the root its ACME attestation chains to.
#[derive(Clone, Default)]
pub enum DeviceTrust {
    /// Apple's pinned roots (`apple::pinned`). In the sandbox, where no simulated device holds
    /// a key Apple certified, a stand-in Apple PKI is generated in memory at start instead
    /// (see [`Running::stand_in_pki`]).
    #[default]
    Apple,
    /// A given stand-in Apple PKI (tests). Refused in production mode.
    StandIn(Arc<crate::sim::apple_pki::StandInApplePki>),
}

impl std::fmt::Debug for DeviceTrust {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            DeviceTrust::Apple => "DeviceTrust::Apple",
            DeviceTrust::StandIn(_) => "DeviceTrust::StandIn",
        })
    }
}

/// The anchors devices are checked against, as [`device_roots`] chose them.
pub struct DeviceRoots {
    pub device_identity: crate::crypto::chain::TrustAnchors,
    pub attestation: crate::crypto::chain::TrustAnchors,
    /// The stand-in PKI behind them, outside production.
    pub stand_in: Option<Arc<crate::sim::apple_pki::StandInApplePki>>,
}

/// Apple's pinned roots in production, where stand-in roots are refused; in the sandbox the
/// given stand-in PKI, or a new in-memory one.
pub fn device_roots(
    mode: Mode,
    trust: &DeviceTrust,
    now: time::OffsetDateTime,
) -> Result<DeviceRoots, DaemonError> {
    let stand_in = |pki: Arc<crate::sim::apple_pki::StandInApplePki>| DeviceRoots {
        device_identity: pki.device_identity_anchors(),
        attestation: pki.attestation_anchors(),
        stand_in: Some(pki),
    };
    match (trust, mode) {
        (DeviceTrust::StandIn(_), Mode::Production) => Err(DaemonError::StandInRoots),
        (DeviceTrust::StandIn(pki), Mode::Sandbox) => Ok(stand_in(pki.clone())),
        (DeviceTrust::Apple, Mode::Production) => Ok(DeviceRoots {
            device_identity: crate::apple::pinned::device_identity_anchors(),
            attestation: crate::apple::pinned::attestation_anchors(),
            stand_in: None,
        }),
        (DeviceTrust::Apple, Mode::Sandbox) => {
            let pki = crate::sim::apple_pki::StandInApplePki::generate(now)
                .map_err(|e| DaemonError::Task(e.to_string()))?;
            Ok(stand_in(Arc::new(pki)))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_production_configuration_refuses_stand_in_device_roots() {
        let now = time::macros::datetime!(2026-01-01 0:00 UTC);
        let pki = Arc::new(crate::sim::apple_pki::StandInApplePki::generate(now).unwrap());
        let stand_in = DeviceTrust::StandIn(pki.clone());
        let err = device_roots(Mode::Production, &stand_in, now).err().unwrap();
        assert!(matches!(err, DaemonError::StandInRoots), "{err}");
        assert!(err.to_string().contains("sandbox and tests only"));
        // Apple's pinned roots are what production gets.
        let apple = device_roots(Mode::Production, &DeviceTrust::Apple, now).unwrap();
        assert_eq!(
            apple.device_identity.certificates(),
            crate::apple::pinned::device_identity_anchors().certificates()
        );
        assert_eq!(
            apple.attestation.certificates(),
            crate::apple::pinned::attestation_anchors().certificates()
        );
        assert!(apple.stand_in.is_none());
        // The sandbox uses the given stand-in, or makes its own.
        let sandbox = device_roots(Mode::Sandbox, &stand_in, now).unwrap();
        assert_eq!(
            sandbox.device_identity.certificates(),
            pki.device_identity_anchors().certificates()
        );
        assert_eq!(sandbox.attestation.certificates(), pki.attestation_anchors().certificates());
        let own = device_roots(Mode::Sandbox, &DeviceTrust::Apple, now).unwrap();
        assert!(own.stand_in.is_some());
        assert_ne!(own.attestation.certificates(), apple.attestation.certificates());
    }
}

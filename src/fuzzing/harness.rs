//! The fixed material the fuzz entry points decrypt and verify with: a token key pair (RSA,
//! as Apple's server tokens are encrypted to), a stand-in Apple PKI and one device identity
//! from it. Made once per process ([`harness`]); seeds are built with the same material so
//! mutations start past the signature and decryption checks.

use crate::crypto::chain::TrustAnchors;
use crate::sim::apple_pki::{DeviceIdentity, StandInApplePki};
use std::sync::OnceLock;
use time::OffsetDateTime;
use time::macros::datetime;

/// The instant every time-dependent check in the fuzz entry points uses.
pub const NOW: OffsetDateTime = datetime!(2026-01-15 12:00 UTC);

/// See the module documentation.
pub struct Harness {
    pub token_key: rsa::PrivateKey,
    pub token_key_pem: String,
    pub token_cert_pem: String,
    pub token_cert_der: Vec<u8>,
    pub pki: StandInApplePki,
    pub device: DeviceIdentity,
    pub device_anchors: TrustAnchors,
    pub pinned_device_anchors: TrustAnchors,
    pub attestation_anchors: TrustAnchors,
}

/// The process-wide harness, made on first use.
pub fn harness() -> &'static Harness {
    static HARNESS: OnceLock<Harness> = OnceLock::new();
    HARNESS.get_or_init(make)
}

fn make() -> Harness {
    // These only fail if key generation itself is broken; the fuzz run cannot proceed then.
    let pair = crate::crypto::token_keypair::generate("adebox fuzzing", NOW)
        .expect("generating an RSA token key pair works");
    let token_key_pem = pair.key_pem.expose().clone();
    let token_key = crate::crypto::token_keypair::load_rsa_private_key(token_key_pem.as_bytes())
        .expect("a freshly generated token key loads");
    let token_cert_der = crate::crypto::ca::pem_to_der(&pair.cert_pem)
        .expect("a freshly generated token certificate is PEM");
    let pki = StandInApplePki::generate(NOW).expect("generating the stand-in Apple PKI works");
    let device = pki
        .issue_device_identity("00008110-000A1B2C3D4E5F60", NOW)
        .expect("issuing a stand-in device identity works");
    Harness {
        token_key,
        token_key_pem,
        token_cert_pem: pair.cert_pem,
        token_cert_der,
        device_anchors: pki.device_identity_anchors(),
        pinned_device_anchors: crate::apple::pinned::device_identity_anchors(),
        attestation_anchors: pki.attestation_anchors(),
        pki,
        device,
    }
}

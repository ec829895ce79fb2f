//! Fuzz entry points: one plain function per parser that reads bytes from outside adebox.
//!
//! Each `pub fn name(data: &[u8])` hands `data` to the real parser (and, where the parser's
//! output feeds another one, to the next stage too) and ignores the result: the only failure
//! is a panic, an abort or a hang. They are called by the cargo-fuzz targets in `fuzz/` for
//! long runs and by the bounded, deterministic mutation run in the normal test suite
//! (`tests.rs`, seeded by [`seeds`]). [`TARGETS`] lists them all.
//!
//! The keys and stand-in Apple CAs the entry points decrypt and verify with come from
//! [`harness`]: made once per process, so seeds built with them reach past the signature and
//! decryption checks. Owns no state beyond that; must not use tokio, redb or the network.
//!
//! Check-in messages, command results and command payloads are parsed by `crate::apple::mdm`;
//! [`checkin`] feeds one input to all three.

pub mod harness;
pub mod mutate;
pub mod seeds;

#[cfg(test)]
mod tests;

use crate::apple::{attestation, dep, device_inspect, machineinfo, server_token};
use crate::crypto::cms;
use crate::crypto::jws;
use harness::{NOW, harness};
use std::path::Path;

/// One fuzz target: its name (as in `fuzz/fuzz_targets/`), entry point and seed corpus.
pub struct Target {
    pub name: &'static str,
    pub run: fn(&[u8]),
    pub seeds: fn() -> Vec<Vec<u8>>,
}

/// Every fuzz target.
pub const TARGETS: &[Target] = &[
    Target { name: "server_token", run: server_token, seeds: seeds::server_token },
    Target { name: "server_token_text", run: server_token_text, seeds: seeds::server_token_text },
    Target { name: "cms_signed", run: cms_signed, seeds: seeds::cms_signed },
    Target { name: "cms_enveloped", run: cms_enveloped, seeds: seeds::cms_enveloped },
    Target { name: "machine_info", run: machine_info, seeds: seeds::cms_signed },
    Target { name: "machine_info_plist", run: machine_info_plist, seeds: seeds::plists },
    Target { name: "checkin", run: checkin, seeds: seeds::plists },
    Target { name: "jws", run: jws, seeds: seeds::jws },
    Target { name: "jws_header", run: jws_header, seeds: seeds::jws_header },
    Target { name: "csr", run: csr, seeds: seeds::csr },
    Target { name: "attestation", run: attestation, seeds: seeds::attestation },
    Target { name: "certificate", run: certificate, seeds: seeds::certificates },
    Target { name: "profile_json", run: profile_json, seeds: seeds::profile_json },
    Target { name: "profile_csv", run: profile_csv, seeds: seeds::profile_csv },
    Target { name: "config", run: config, seeds: seeds::config },
    Target { name: "retry_after", run: retry_after, seeds: seeds::retry_after },
    Target { name: "dep_response", run: dep_response, seeds: seeds::dep_response },
    Target { name: "token_key", run: token_key, seeds: seeds::token_key },
];

/// The target called `name`.
pub fn target(name: &str) -> Option<&'static Target> {
    TARGETS.iter().find(|t| t.name == name)
}

/// An uploaded server token (`.p7m`: S/MIME or PEM framing, BER EnvelopedData), decrypted
/// with the harness key, with and without its certificate.
pub fn server_token(data: &[u8]) {
    let h = harness();
    let _ = server_token::decrypt(data, &h.token_key);
    let _ = server_token::decrypt_for_certificate(data, &h.token_key, &h.token_cert_pem);
    let _ = server_token::unwrap_file(data);
}

/// The decrypted text of a server token (what the `.p7m` envelope holds).
pub fn server_token_text(data: &[u8]) {
    if let Ok(creds) = server_token::parse_plaintext(data) {
        let _ = server_token::inspect_json(&creds, false, NOW);
        let _ = server_token::check_not_expired(&creds, NOW);
    }
}

/// A CMS SignedData (BER or DER), attached and detached (the `Mdm-Signature` form), and a
/// signed `.mobileconfig` report.
pub fn cms_signed(data: &[u8]) {
    let _ = cms::verify_signed(data);
    let _ = cms::verify_detached(data, b"<plist/>");
    let _ = crate::apple::enroll_profile::inspect::profile_report(
        data,
        Some(&harness().device_anchors),
        NOW,
    );
}

/// A CMS EnvelopedData (BER or DER): its recipients, then decryption with the harness key.
pub fn cms_enveloped(data: &[u8]) {
    let h = harness();
    let _ = cms::recipients(data);
    let _ = cms::decrypt_enveloped(data, &h.token_key);
    let _ = cms::decrypt_enveloped_for_cert(data, &h.token_key, &h.token_cert_der);
}

/// A signed MachineInfo POST body, against the stand-in device CA (so signed seeds reach the
/// plist) and Apple's pinned one, and the inspection report (raw or base64).
pub fn machine_info(data: &[u8]) {
    let h = harness();
    let _ = machineinfo::verify_machine_info(data, &h.device_anchors);
    let _ = machineinfo::verify_machine_info(data, &h.pinned_device_anchors);
    let _ = device_inspect::machineinfo_report(data, &h.device_anchors);
}

/// An unsigned MachineInfo plist (XML or binary).
pub fn machine_info_plist(data: &[u8]) {
    if let Ok(value) = plist::Value::from_reader(std::io::Cursor::new(data)) {
        let _ = machineinfo::machine_info_from_value(&value);
        let _ = machineinfo::plist_to_json(&value);
    }
    let _ = machineinfo::parse_machine_info(data);
}

/// An MDM check-in or command-result plist. Slot: `crate::apple::mdm` (being written) will
/// parse these; until it is merged this reads them as plists, as it will first do.
pub fn checkin(data: &[u8]) {
    let _ = crate::apple::mdm::parse_check_in(data);
    let _ = crate::apple::mdm::parse_report(data);
    let _ = crate::apple::mdm::parse_command(data);
}

/// An ACME request body (flattened JWS), verified with the key it carries.
pub fn jws(data: &[u8]) {
    if let Ok(req) = jws::parse(data) {
        if let jws::KeyRef::Jwk(key) = &req.key {
            let _ = req.verify(key);
        }
        let _ = req.check_url("https://adebox.example/acme/new-account");
    }
}

/// A JWS protected header (JSON: `alg`, `nonce`, `url`, `jwk` or `kid`), wrapped in a JWS
/// with a fixed payload and signature, so the fuzzer edits the JSON rather than its base64.
pub fn jws_header(data: &[u8]) {
    use base64ct::{Base64UrlUnpadded, Encoding};
    if let Ok(value) = serde_json::from_slice::<serde_json::Value>(data)
        && let Some(jwk) = value.get("jwk")
        && let Ok(key) = jws::Jwk::from_json(jwk)
    {
        for alg in [jws::Alg::Es256, jws::Alg::Es384, jws::Alg::Rs256] {
            let _ = key.verify(alg, b"message", &[0u8; 64]);
        }
        let _ = key.thumbprint();
    }
    let body = serde_json::json!({
        "protected": Base64UrlUnpadded::encode_string(data),
        "payload": "e30",
        "signature": Base64UrlUnpadded::encode_string(&[1u8; 64]),
    });
    jws(body.to_string().as_bytes());
}

/// A PKCS#10 CSR (DER) from an ACME finalize.
pub fn csr(data: &[u8]) {
    let _ = crate::acme::csr_public_key(data);
}

/// A device attestation: CBOR attestation object or PEM chain (raw or base64), checked
/// against the stand-in attestation root, then every certificate's Apple OIDs read.
pub fn attestation(data: &[u8]) {
    let h = harness();
    let _ = device_inspect::attestation_report(data, &h.attestation_anchors, NOW);
    if let Ok(x5c) = attestation::parse_att_obj(data) {
        let _ = attestation::verify_attestation(&x5c, &h.attestation_anchors, NOW);
        for der in &x5c {
            let _ = attestation::read_leaf(der);
        }
    }
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = attestation::parse_pem_chain(text);
    }
}

/// One certificate (DER), as found in CMS bags, x5c arrays and uploads.
pub fn certificate(data: &[u8]) {
    let h = harness();
    let _ = attestation::read_leaf(data);
    let _ = cms::signed::parse_certificate(data);
    let _ = crate::crypto::chain::verify_chain(data, &[], &h.device_anchors, None);
    let _ = crate::crypto::chain::TrustAnchors::from_der(vec![data.to_vec()]);
}

/// A profile body from the admin API (JSON), parsed then validated.
pub fn profile_json(data: &[u8]) {
    if let Ok(value) = serde_json::from_slice::<serde_json::Value>(data)
        && let Ok(input) = crate::profiles::model::parse(value)
    {
        let _ = crate::profiles::validate::check(&crate::profiles::validate::normalise(input));
    }
}

/// A CSV serial list uploaded for assignment.
pub fn profile_csv(data: &[u8]) {
    let _ = crate::profiles::csv::serials_from_csv(&String::from_utf8_lossy(data));
}

/// The bootstrap configuration file (TOML).
pub fn config(data: &[u8]) {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = crate::config::Config::parse(text, Path::new("/etc/adebox/adebox.toml"));
    }
}

/// A `Retry-After` header (seconds or HTTP date) and Apple's timestamps.
pub fn retry_after(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let _ = crate::depclient::parse_retry_after(&text, NOW);
    let _ = crate::depclient::retry_after::parse_http_date(&text);
    let _ = dep::time_format::parse(&text);
}

/// A body Apple's DEP service answers: every response type the client reads, and the error
/// classification of non-2xx answers.
pub fn dep_response(data: &[u8]) {
    fn read<T: serde::de::DeserializeOwned>(data: &[u8]) {
        let _ = serde_json::from_slice::<T>(data);
    }
    read::<dep::SessionResponse>(data);
    read::<dep::AccountDetail>(data);
    read::<dep::DeviceListResponse>(data);
    read::<dep::FetchDeviceResponse>(data);
    read::<dep::DeviceStatusResponse>(data);
    read::<dep::DisownResponse>(data);
    read::<dep::ClearProfileResponse>(data);
    read::<dep::ActivationLockResponse>(data);
    read::<dep::AssignProfileResponse>(data);
    read::<dep::DefineProfileResponse>(data);
    read::<dep::Profile>(data);
    read::<dep::ReplacementDetails>(data);
    read::<dep::BetaEnrollmentTokens>(data);
    read::<dep::AccountDrivenEnrollmentProfile>(data);
    let _ = dep::DepErrorCode::parse(&String::from_utf8_lossy(data));
    for status in [400, 401, 403, 404, 405, 429, 500, 503] {
        let retry = Some(std::time::Duration::from_secs(1));
        let _ = crate::depclient::classify(status, data, retry, &["secret-token"]).admin_message();
        let _ = crate::depclient::classify_session(status, data, None, &[]).admin_message();
    }
}

/// An uploaded token private key (PEM PKCS#1 / PKCS#8, or DER).
pub fn token_key(data: &[u8]) {
    let _ = crate::crypto::token_keypair::load_rsa_private_key(data);
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = cms::SignerKey::from_pkcs8_pem(text);
    }
}

//! Secrets at rest (docs/configuration.md "Secrets at rest"): after a sandbox-like run (a server token, a
//! sync, a push certificate, devices enrolling, a pending key) the store file holds none of
//! the secret values in clear; a backup holds neither them nor the keys; a wrong passphrase
//! restores nothing and the right one brings back a store whose secrets open.

use crate::common::*;
use crate::enroll::fleet_with_default_profile;
use adebox::keys::KeyName;
use adebox::sim::apple_pki::StandInApplePki;
use adebox::sim::fleet::{Fleet, FleetDevice, FleetTarget, Progress};
use adebox::store::{Sealed, SecretField, Store, StoreError};
use base64ct::{Base64, Encoding};
use std::sync::Arc;

const TOKEN_KEY: SecretField = SecretField::new("tokens.by_id", "key_pem");
const CONSUMER_SECRET: SecretField =
    SecretField::new("tokens.by_id", "credentials.consumer_secret");
const PENDING_KEY: SecretField = SecretField::new("tokens.pending_keys", "key_pem");
const PUSH_KEY: SecretField = SecretField::new("push.certificate", "key_pem");

/// Opens the sealed `field` of the record `row` through the daemon's own store.
fn open_sealed(store: &Store, field: SecretField, row: &str) -> String {
    let row = row.to_string();
    store
        .read_blocking(|rtx| {
            let t = rtx.open_table(adebox::store::table(field.table()))?;
            let mut record: serde_json::Value = adebox::store::get(&t, row.as_bytes())?.unwrap();
            for part in field.field().split('.') {
                record = record[part].take();
            }
            let sealed: Sealed = serde_json::from_value(record).unwrap();
            Ok::<_, StoreError>(
                store.sealer().open(field, row.as_bytes(), &sealed)?.expose().clone(),
            )
        })
        .unwrap()
}

/// A PEM private key's forms worth searching for: its base64 lines and a run of its DER from
/// the private part (a public key is public: it is in certificates the store may hold). An
/// RSA key's primes are in the second half of its DER; an EC key's scalar comes before its
/// public point.
fn key_forms(what: &str, pem: &str) -> Vec<(String, Vec<u8>)> {
    let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    let der = Base64::decode_vec(&body).unwrap();
    let at = if der.len() > 600 { der.len() * 3 / 4 } else { der.len() / 4 };
    let mut forms = vec![(format!("{what} (DER)"), der[at..at + 24].to_vec())];
    for (i, line) in pem.lines().filter(|l| !l.starts_with("-----") && l.len() >= 40).enumerate() {
        forms.push((format!("{what} (PEM line {i})"), line.as_bytes().to_vec()));
    }
    forms
}

/// Fails when a secret is in `file` as it is or base64-encoded (as stored values are), at
/// any of the three alignments base64 can give it.
fn assert_none_in(file: &std::path::Path, secrets: &[(String, Vec<u8>)]) {
    let raw = std::fs::read(file).unwrap();
    let has = |needle: &[u8]| raw.windows(needle.len()).any(|w| w == needle);
    for (what, secret) in secrets {
        assert!(secret.len() >= 16, "{what} is too short to search for meaningfully");
        assert!(!has(secret), "{what} is in clear in {file:?}");
        for skip in 0..3 {
            let encoded = Base64::encode_string(&secret[skip..]);
            let stable = &encoded.as_bytes()[..encoded.len() - 4];
            assert!(!has(stable), "{what} is in {file:?}, base64-encoded");
        }
    }
    assert!(!raw.windows(11).any(|w| w == b"PRIVATE KEY"), "a PEM private key is in {file:?}");
}

#[tokio::test]
async fn after_a_full_run_neither_the_store_nor_a_backup_holds_a_secret_in_clear() {
    let now = adebox::clock::Clock::system().now();
    let pki = Arc::new(StandInApplePki::generate(now - time::Duration::days(1)).unwrap());
    let (d, page, token_id, serials) = fleet_with_default_profile(&pki, 5).await;
    let target = FleetTarget {
        profile_url: d.url("/enroll/machineinfo"),
        ca_pem: String::from_utf8(d.ca_pem()).unwrap(),
        resolve_to: None,
    };
    let fleet = Fleet::new(target, pki.clone()).unwrap().woken_by(d.apns().feed());
    let devices: Vec<FleetDevice> =
        serials.iter().enumerate().map(|(i, s)| FleetDevice::for_serial(s, i)).collect();
    let report = fleet.run(&devices, 5, &Progress::default(), now).await;
    assert_eq!(report.enrolled, 5, "{report:?}");
    let (pending_id, _) = pending_key(&d, &page).await;

    // What must not be found, read through the services and the daemon's own store.
    let id = adebox::tokens::TokenId::from_stored(token_id.clone());
    let (_, creds) = d.running().services.tokens.credentials(&id).await.unwrap();
    let store = d.running().services.store.clone();
    let mut secrets: Vec<(String, Vec<u8>)> = vec![
        ("the consumer secret".into(), creds.consumer_secret.expose().as_bytes().to_vec()),
        ("the access token".into(), creds.access_token.expose().as_bytes().to_vec()),
        ("the access secret".into(), creds.access_secret.expose().as_bytes().to_vec()),
    ];
    secrets.extend(key_forms("the token key", &open_sealed(&store, TOKEN_KEY, &token_id)));
    secrets.extend(key_forms("the pending key", &open_sealed(&store, PENDING_KEY, &pending_id)));
    secrets.extend(key_forms("the push key", &open_sealed(&store, PUSH_KEY, "current")));
    drop(store);
    drop(page);
    let dir = d.stop().await;
    assert_none_in(&dir.path().join(adebox::store::FILE_NAME), &secrets);

    // A backup: the store copy keeps them sealed; the keys it carries are sealed too.
    let data_key = std::fs::read(KeyName::Data.path(dir.path())).unwrap();
    // The audit key exists once the audit log has used it.
    let audit_key = std::fs::read(KeyName::Audit.path(dir.path())).ok();
    let ca_key = std::fs::read_to_string(dir.path().join("tls/ca.key")).unwrap();
    let mut carried = secrets.clone();
    carried.push(("the data key".into(), data_key.clone()));
    carried.extend(audit_key.clone().map(|k| ("the audit key".to_string(), k)));
    carried.extend(key_forms("the CA key", &ca_key));
    let out = tempfile::tempdir().unwrap();
    let file = out.path().join("adebox.backup");
    let passphrase = adebox::crypto::Secret::new("a long backup passphrase".to_string());
    adebox::backup::write(dir.path(), &file, &passphrase).unwrap();
    assert_none_in(&file, &carried);

    // A wrong passphrase restores nothing; the right one brings back store and keys.
    let restored = tempfile::tempdir().unwrap();
    let wrong = adebox::crypto::Secret::new("not the passphrase at all".to_string());
    let err = adebox::backup::restore(restored.path(), &file, Some(&wrong)).unwrap_err();
    assert!(err.to_string().contains("wrong passphrase"), "{err}");
    assert_eq!(std::fs::read_dir(restored.path()).unwrap().count(), 0, "something was written");
    let back = adebox::backup::restore(restored.path(), &file, Some(&passphrase)).unwrap();
    assert!(back.protected && back.keys.contains(&KeyName::Data), "{back:?}");
    assert_eq!(std::fs::read(KeyName::Data.path(restored.path())).unwrap(), data_key);
    assert_eq!(std::fs::read(KeyName::Audit.path(restored.path())).ok(), audit_key);
    let store = Store::open(restored.path(), adebox::daemon::TABLES).unwrap();
    let secret = open_sealed(&store, CONSUMER_SECRET, &token_id);
    assert_eq!(&secret, creds.consumer_secret.expose());
}

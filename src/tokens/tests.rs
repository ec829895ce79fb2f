//! Token lifecycle against the real DEP simulator over HTTPS.

use super::*;
use crate::audit::Actor;
use crate::sim::dep::{RunningSimDep, SimDep, SimDepConfig};

pub(crate) struct Kit {
    pub tokens: Tokens,
    pub sim: RunningSimDep,
    pub http: reqwest::Client,
    pub store: Store,
    _dir: tempfile::TempDir,
}

pub(crate) async fn kit() -> Kit {
    kit_with(&[crate::audit::TABLES, super::TABLES]).await
}

/// [`kit`] on a store with `tables` (a test of a module above tokens adds its own).
pub(crate) async fn kit_with(tables: &[&[crate::store::Table]]) -> Kit {
    let sim = SimDep::start(SimDepConfig::default()).await.unwrap();
    let http = crate::outbound::client(&crate::outbound::OutboundConfig::trusting_only([sim
        .ca_pem()
        .to_string()]))
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path(), tables).unwrap();
    let clock = Clock::system();
    let check = crate::depclient::account_check(http.clone(), clock.clone());
    let tokens = Tokens::new(store.clone(), clock, sim.base_url().to_string(), check, unused());
    Kit { tokens, sim, http, store, _dir: dir }
}

/// A delete guard that finds nothing using any token.
fn unused() -> DeleteGuard {
    Arc::new(|_wtx, _id| Ok(TokenUse::default()))
}

/// What an admin does in ABM: create an MDM server from our public key, download its token.
pub(crate) async fn abm_create_server(k: &Kit, name: &str, cert_pem: &str) -> (String, Vec<u8>) {
    let resp: serde_json::Value = k
        .http
        .post(format!("{}/servers", k.sim.portal_url()))
        .json(&serde_json::json!({"server_name": name, "public_key_pem": cert_pem}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    (
        resp["server_uuid"].as_str().unwrap().to_string(),
        resp["token_p7m"].as_str().unwrap().as_bytes().to_vec(),
    )
}

pub(crate) async fn abm_renew(k: &Kit, uuid: &str, cert_pem: &str) -> Vec<u8> {
    let resp: serde_json::Value = k
        .http
        .post(format!("{}/servers/{uuid}/token", k.sim.portal_url()))
        .json(&serde_json::json!({"public_key_pem": cert_pem}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    resp["token_p7m"].as_str().unwrap().as_bytes().to_vec()
}

fn admin() -> Actor {
    Actor::Admin("alice".into())
}

/// Adds a token the way the page does; returns its view.
pub(crate) async fn add_token(k: &Kit, name: &str) -> (TokenView, String) {
    let key = k.tokens.create_pending_key(admin(), None).await.unwrap();
    let cert = k.tokens.pending_key_certificate(&key.id).await.unwrap();
    let (uuid, p7m) = abm_create_server(k, name, &cert).await;
    let view = k.tokens.add(admin(), &key.id, &p7m, "it@example.org").await.unwrap();
    (view, uuid)
}

#[tokio::test]
async fn a_token_is_added_with_its_pending_key_and_checked_with_apple() {
    let k = kit().await;
    let mut events = k.tokens.subscribe();
    let (view, uuid) = add_token(&k, "Main campus").await;
    assert_eq!(view.server_name, "Main campus");
    assert_eq!(view.server_uuid, uuid);
    assert_eq!(view.state, ExpiryState::Ok);
    assert_eq!(view.environment, "simulator");
    assert!(view.admin_id.is_some() && view.org_name.is_some());
    assert_eq!(events.recv().await.unwrap(), TokenEvent::Added(view.id.clone()));
    assert!(k.tokens.list_pending_keys().await.unwrap().is_empty(), "the key moved to the token");
    let (base, creds) = k.tokens.credentials(&view.id).await.unwrap();
    assert_eq!(base, k.sim.base_url());
    assert!(creds.consumer_key.starts_with("CK_"));
    // The same MDM server cannot be added twice.
    let key = k.tokens.create_pending_key(admin(), None).await.unwrap();
    let cert = k.tokens.pending_key_certificate(&key.id).await.unwrap();
    let p7m = abm_renew(&k, &uuid, &cert).await;
    assert!(matches!(
        k.tokens.add(admin(), &key.id, &p7m, "it@example.org").await,
        Err(TokenError::AlreadyAdded { .. })
    ));
}

#[tokio::test]
async fn pending_keys_survive_and_can_be_discarded() {
    let k = kit().await;
    let key = k.tokens.create_pending_key(admin(), None).await.unwrap();
    // A new service over the same store (a restart) still has it.
    let again = Tokens::new(
        k.store.clone(),
        Clock::system(),
        k.sim.base_url().into(),
        crate::depclient::account_check(k.http.clone(), Clock::system()),
        unused(),
    );
    assert_eq!(again.list_pending_keys().await.unwrap()[0].id, key.id);
    assert!(again.pending_key_certificate(&key.id).await.unwrap().contains("BEGIN CERTIFICATE"));
    again.discard_pending_key(admin(), &key.id).await.unwrap();
    assert!(matches!(again.pending_key_certificate(&key.id).await, Err(TokenError::NotFound(_))));
}

#[tokio::test]
async fn wrong_files_and_wrong_keys_are_refused_and_nothing_is_stored() {
    let k = kit().await;
    let key = k.tokens.create_pending_key(admin(), None).await.unwrap();
    let other = k.tokens.create_pending_key(admin(), None).await.unwrap();
    let other_cert = k.tokens.pending_key_certificate(&other.id).await.unwrap();
    let (_, p7m_for_other) = abm_create_server(&k, "Elsewhere", &other_cert).await;
    let err = k.tokens.add(admin(), &key.id, &p7m_for_other, "it@example.org").await.unwrap_err();
    assert!(err.to_string().contains("different public key"), "{err}");
    let err = k.tokens.add(admin(), &key.id, b"hello", "it@example.org").await.unwrap_err();
    assert!(matches!(err, TokenError::Validation { field: "token", .. }), "{err}");
    let err = k.tokens.add(admin(), &other.id, &p7m_for_other, "not an email").await.unwrap_err();
    assert!(matches!(err, TokenError::Validation { field: "apple_id", .. }), "{err}");
    assert!(k.tokens.list().await.unwrap().is_empty());
    assert_eq!(
        k.tokens.list_pending_keys().await.unwrap().len(),
        2,
        "keys are kept after a failure"
    );
}

#[tokio::test]
async fn apple_refusing_the_token_is_explained() {
    let k = kit().await;
    let key = k.tokens.create_pending_key(admin(), None).await.unwrap();
    let cert = k.tokens.pending_key_certificate(&key.id).await.unwrap();
    let (_, p7m) = abm_create_server(&k, "Terms", &cert).await;
    let mut faults = k.sim.faults();
    faults.terms_not_signed = true;
    k.sim.set_faults(faults);
    let err = k.tokens.add(admin(), &key.id, &p7m, "it@example.org").await.unwrap_err();
    assert!(
        matches!(&err, TokenError::Refused { code: Some(c), .. } if c == "T_C_NOT_SIGNED"),
        "{err}"
    );
    assert!(err.to_string().to_lowercase().contains("terms"), "{err}");
}

#[tokio::test]
async fn renewal_is_staged_and_refuses_another_servers_token() {
    let k = kit().await;
    let (view, uuid) = add_token(&k, "Main campus").await;
    let (_, old_creds) = k.tokens.credentials(&view.id).await.unwrap();
    // ABM renews with the same uploaded key: no new pending key needed.
    let cert = k.tokens.token_certificate(&view.id).await.unwrap();
    let p7m = abm_renew(&k, &uuid, &cert).await;
    let renewed = k.tokens.renew(admin(), &view.id, None, &p7m, None).await.unwrap();
    assert!(renewed.renewed_at.is_some());
    let (_, new_creds) = k.tokens.credentials(&view.id).await.unwrap();
    assert_ne!(new_creds.access_token.expose(), old_creds.access_token.expose());

    // A token of another MDM server is refused and the current one stays.
    let key = k.tokens.create_pending_key(admin(), Some(view.id.clone())).await.unwrap();
    let key_cert = k.tokens.pending_key_certificate(&key.id).await.unwrap();
    let (_, foreign) = abm_create_server(&k, "Other school", &key_cert).await;
    let err = k.tokens.renew(admin(), &view.id, Some(&key.id), &foreign, None).await.unwrap_err();
    assert!(matches!(err, TokenError::ForeignServer { .. }), "{err}");
    assert!(
        err.to_string().contains("Other school") && err.to_string().contains("Main campus"),
        "{err}"
    );
    let (_, still) = k.tokens.credentials(&view.id).await.unwrap();
    assert_eq!(still.access_token.expose(), new_creds.access_token.expose());
    // With a new key for the right server it works, and the key moves to the token.
    let p7m = abm_renew(&k, &uuid, &key_cert).await;
    k.tokens
        .renew(admin(), &view.id, Some(&key.id), &p7m, Some("new-admin@example.org"))
        .await
        .unwrap();
    assert_eq!(k.tokens.token_certificate(&view.id).await.unwrap(), key_cert);
    assert_eq!(
        k.tokens.get(&view.id).await.unwrap().apple_id.as_deref(),
        Some("new-admin@example.org")
    );
}

#[tokio::test]
async fn delete_lists_what_blocks_it_and_then_deletes() {
    let k = kit().await;
    let (view, _) = add_token(&k, "Main campus").await;
    let blocked = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true));
    let b = blocked.clone();
    // The same store, guarded by an inventory that holds three of the token's devices.
    let tokens = Tokens::new(
        k.store.clone(),
        Clock::system(),
        k.sim.base_url().into(),
        crate::depclient::account_check(k.http.clone(), Clock::system()),
        Arc::new(move |_wtx, _id| {
            let devices = if b.load(std::sync::atomic::Ordering::SeqCst) { 3 } else { 0 };
            Ok(TokenUse { devices, default_profiles: 0 })
        }),
    );
    let err = tokens.delete(admin(), &view.id).await.unwrap_err();
    assert!(matches!(&err, TokenError::InUse(b) if b.len() == 1 && b[0].count == 3), "{err}");
    blocked.store(false, std::sync::atomic::Ordering::SeqCst);
    tokens.delete(admin(), &view.id).await.unwrap();
    assert!(tokens.list().await.unwrap().is_empty());
    assert!(matches!(tokens.delete(admin(), &view.id).await, Err(TokenError::NotFound(_))));
}

#[tokio::test]
async fn no_secret_reaches_the_views_or_the_audit_log() {
    let k = kit().await;
    let (view, _) = add_token(&k, "Main campus").await;
    let (_, creds) = k.tokens.credentials(&view.id).await.unwrap();
    let views = serde_json::to_string(&k.tokens.list().await.unwrap()).unwrap();
    let (audit, _) = crate::audit::list(&k.store, Default::default(), 100, 0).await.unwrap();
    let audit = serde_json::to_string(&audit).unwrap();
    for secret in
        [creds.consumer_secret.expose(), creds.access_token.expose(), creds.access_secret.expose()]
    {
        assert!(!views.contains(secret.as_str()) && !audit.contains(secret.as_str()));
    }
    assert!(audit.contains("token.add") && audit.contains("token.key_create"));
}

#[tokio::test]
async fn expiry_shows_in_the_state_and_the_banners_from_thirty_days_before() {
    let k = kit().await;
    let (view, _) = add_token(&k, "Main campus").await;
    let expiry = view.expires_at;
    let at = |now: time::OffsetDateTime| {
        Tokens::new(
            k.store.clone(),
            Clock::manual(now),
            k.sim.base_url().into(),
            crate::depclient::account_check(k.http.clone(), Clock::system()),
            unused(),
        )
    };
    let t = at(expiry - time::Duration::days(40));
    assert_eq!(t.get(&view.id).await.unwrap().state, ExpiryState::Ok);
    assert!(t.banners().await.unwrap().is_empty());
    let t = at(expiry - time::Duration::days(20));
    assert_eq!(t.get(&view.id).await.unwrap().state, ExpiryState::Expiring);
    let b = t.banners().await.unwrap();
    assert_eq!((b[0].0.as_str(), b[0].1.as_str()), ("warning", "token_expiring"));
    assert!(b[0].2.contains("20 days"), "{}", b[0].2);
    let t = at(expiry - time::Duration::days(3));
    assert_eq!(t.banners().await.unwrap()[0].0, "error");
    let t = at(expiry + time::Duration::days(1));
    assert_eq!(t.get(&view.id).await.unwrap().state, ExpiryState::Expired);
    assert_eq!(t.banners().await.unwrap()[0].1, "token_expired");
}

#[tokio::test]
async fn serve_points_every_token_at_the_configured_service_and_the_sandbox_spares_apples() {
    let k = kit().await;
    let (view, _) = add_token(&k, "Moves").await;
    let moved = k.tokens.follow_service("https://dep.test.example").await.unwrap();
    assert_eq!(
        moved,
        vec![MovedToken {
            id: view.id.clone(),
            server_name: "Moves".into(),
            from: k.sim.base_url().to_string()
        }]
    );
    let (base, _) = k.tokens.credentials(&view.id).await.unwrap();
    assert_eq!(base, "https://dep.test.example");
    assert!(k.tokens.follow_service("https://dep.test.example").await.unwrap().is_empty());
    // Back to Apple's service (the configuration's default): the token follows, and a
    // sandbox restart never moves a token of Apple's service to its simulator.
    assert_eq!(k.tokens.follow_service(APPLE_BASE_URL).await.unwrap().len(), 1);
    assert_eq!(k.tokens.retarget_simulator(k.sim.base_url()).await.unwrap(), 0);
    assert_eq!(k.tokens.credentials(&view.id).await.unwrap().0, APPLE_BASE_URL);
}

#[test]
fn each_use_of_a_token_is_a_blocker_saying_how_to_clear_it() {
    assert!(TokenUse::default().blockers().is_empty());
    let b = TokenUse { devices: 1, default_profiles: 2 }.blockers();
    assert_eq!(
        b.iter().map(|b| (b.kind.as_str(), b.count)).collect::<Vec<_>>(),
        [("default_profile", 2), ("devices", 1)]
    );
    assert!(b[0].message.contains("2 default profiles; clear them on the Profiles page"));
    assert!(b[1].message.starts_with("1 device is still assigned"), "{}", b[1].message);
    let b = TokenUse { devices: 3, default_profiles: 1 }.blockers();
    assert!(
        b[0].message.contains("1 default profile;") && b[1].message.starts_with("3 devices are")
    );
}

/// A store of schema 1 kept the OAuth secrets and keys in clear: the migration seals them
/// where this module opens them (same table, field and row), so the token keeps working.
#[tokio::test]
async fn secrets_a_schema_1_store_kept_in_clear_are_sealed_and_still_work() {
    use super::records::PENDING_KEY;
    use crate::store::{Sealer, SecretField};
    let k = kit().await;
    let (view, uuid) = add_token(&k, "Main campus").await;
    let (_, creds) = k.tokens.credentials(&view.id).await.unwrap();
    let pending = k.tokens.create_pending_key(admin(), None).await.unwrap();
    let (token_id, pending_id) = (view.id.to_string(), pending.id.clone());
    // Back to schema 1: every sealed field of the two records written in clear.
    let to_clear = |sealer: &Sealer, row: &str, record: &mut serde_json::Value, f: SecretField| {
        let mut at = &mut *record;
        for part in f.field().split('.') {
            at = at.get_mut(part).unwrap();
        }
        let sealed = serde_json::from_value(at.clone()).unwrap();
        *at = sealer.open(f, row.as_bytes(), &sealed).unwrap().expose().clone().into();
    };
    k.store
        .write_blocking(|wtx| {
            let sealer = k.store.sealer();
            for (table, row, fields) in [
                (super::records::TOKENS, &token_id, super::records::TOKEN_SECRETS),
                (super::records::PENDING, &pending_id, &[PENDING_KEY][..]),
            ] {
                let mut t = wtx.open_table(table)?;
                let mut record: serde_json::Value = crate::store::get(&t, row.as_bytes())?.unwrap();
                for &f in fields {
                    to_clear(sealer, row, &mut record, f);
                }
                assert!(record.to_string().contains("PRIVATE KEY"), "{record}");
                crate::store::put(&mut t, row.as_bytes(), &record)?;
            }
            crate::store::set_schema_version_in(wtx, 1)
        })
        .unwrap();
    let Kit { tokens, sim, http, store, _dir } = k;
    drop((tokens, store));

    let store = Store::open(_dir.path(), &[crate::audit::TABLES, super::TABLES]).unwrap();
    let clock = Clock::system();
    let check = crate::depclient::account_check(http.clone(), clock.clone());
    let tokens = Tokens::new(store.clone(), clock, sim.base_url().to_string(), check, unused());
    let k = Kit { tokens, sim, http, store, _dir };
    let (_, after) = k.tokens.credentials(&view.id).await.unwrap();
    assert_eq!(after.consumer_secret.expose(), creds.consumer_secret.expose());
    assert_eq!(after.access_secret.expose(), creds.access_secret.expose());
    // The token's key (a renewal with it) and the pending key (a new token) open too.
    let cert = k.tokens.token_certificate(&view.id).await.unwrap();
    let p7m = abm_renew(&k, &uuid, &cert).await;
    k.tokens.renew(admin(), &view.id, None, &p7m, None).await.unwrap();
    let pending_cert = k.tokens.pending_key_certificate(&pending.id).await.unwrap();
    let (_, p7m) = abm_create_server(&k, "Second campus", &pending_cert).await;
    k.tokens.add(admin(), &pending.id, &p7m, "it@example.org").await.unwrap();
}

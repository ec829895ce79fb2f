//! The Apple Business API from the appliance, over HTTPS against the daemon and the
//! simulator's Business API (served with the DEP simulator, sharing its world): the account
//! (saved, refused in plain words, never shown, audited, removed).

use crate::common::*;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

/// A new API account at the simulated Apple Business, as the body of `PUT /business/account`.
pub(crate) fn new_account(d: &TestDaemon) -> Value {
    let a = d.sim().business().create_account("adebox").unwrap();
    json!({"client_id": a.client_id, "key_id": a.key_id, "private_key_pem": a.private_key_pem})
}

#[tokio::test]
async fn the_account_is_saved_refused_in_plain_words_never_shown_and_removed() {
    let d = TestDaemon::with_simulator().await;
    let page = d.sandbox_admin().await;
    let (s, none) = page.get("/api/v1/business/account").await;
    assert_eq!((s, none.clone()), (StatusCode::OK, json!({"configured": false})));

    let account = new_account(&d);
    let pem = account["private_key_pem"].as_str().unwrap().to_string();
    let (s, saved) =
        page.send(Method::PUT, "/api/v1/business/account", Some(account.clone())).await;
    assert_eq!(s, StatusCode::OK, "{saved}");
    assert_eq!(saved["configured"], true);
    assert_eq!(saved["client_id"], account["client_id"]);
    assert_eq!(saved["key_id"], account["key_id"]);

    // Refusals: a P-384 key, a client id that is not one; the saved account stays.
    let p384 = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P384_SHA384).unwrap();
    let mut wrong = account.clone();
    wrong["private_key_pem"] = json!(p384.serialize_pem());
    let (s, e) = page.send(Method::PUT, "/api/v1/business/account", Some(wrong)).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{e}");
    assert_eq!(e["field"], "private_key_pem");
    assert!(e["message"].as_str().unwrap().contains("not an EC P-256 key"), "{e}");
    let mut wrong = account.clone();
    wrong["client_id"] = json!("my client");
    let (s, e) = page.send(Method::PUT, "/api/v1/business/account", Some(wrong)).await;
    assert_eq!((s, e["field"].clone()), (StatusCode::BAD_REQUEST, json!("client_id")), "{e}");
    assert!(e["message"].as_str().unwrap().contains("BUSINESSAPI.<uuid>"), "{e}");
    let (_, shown) = page.get("/api/v1/business/account").await;
    assert_eq!(shown, saved, "a refusal loses nothing");

    // The key never comes back: not in the API, not in the audit log.
    let key_body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    let (_, audit) = page.get("/api/v1/audit?limit=100").await;
    let audit = audit.to_string();
    assert!(audit.contains("business.account_save"), "{audit}");
    for text in [shown.to_string(), audit.clone()] {
        assert!(!text.contains("PRIVATE KEY") && !text.contains(&key_body[..40]), "{text}");
    }

    let (s, _) = page.send(Method::DELETE, "/api/v1/business/account", None).await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (_, gone) = page.get("/api/v1/business/account").await;
    assert_eq!(gone, json!({"configured": false}));
    let (s, _) = page.send(Method::DELETE, "/api/v1/business/account", None).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (_, audit) = page.get("/api/v1/audit?limit=100").await;
    assert!(audit.to_string().contains("business.account_remove"), "{audit}");
}

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

/// `GET /business/where/{serial}`.
async fn where_is(page: &Page, serial: &str) -> (StatusCode, Value) {
    page.get(&format!("/api/v1/business/where/{serial}")).await
}

#[tokio::test]
async fn where_a_serial_is_matching_our_servers_by_uuid_or_the_admins_mapping() {
    let d = TestDaemon::with_simulator().await;
    let page = d.sandbox_admin().await;
    let (token, ours_uuid) = add_token(&d, &page, "Ours").await;
    let token_id = token["id"].as_str().unwrap().to_string();
    let (theirs_uuid, _) = d.sim().add_server_with_credentials("Theirs");
    let at_theirs = d.sim().add_devices(Some(&theirs_uuid), 2).unwrap();
    let nowhere = d.sim().add_devices(None, 1).unwrap();
    let at_ours = d.sim().add_devices(Some(&ours_uuid), 1).unwrap();

    // Without an account: said so, with what to do.
    let (s, a) = where_is(&page, &at_theirs[0]).await;
    assert_eq!((s, a["answer"].clone()), (StatusCode::OK, json!("not_set_up")), "{a}");
    assert!(a["message"].as_str().unwrap().contains("Apple Business page"), "{a}");

    let (s, e) = page.send(Method::PUT, "/api/v1/business/account", Some(new_account(&d))).await;
    assert_eq!(s, StatusCode::OK, "{e}");
    let (_, a) = where_is(&page, &at_theirs[0]).await;
    assert_eq!(
        (a["answer"].as_str(), a["server_name"].as_str()),
        (Some("elsewhere"), Some("Theirs"))
    );
    assert!(a["message"].as_str().unwrap().contains("assign it to this appliance"), "{a}");
    let (_, a) = where_is(&page, &nowhere[0]).await;
    assert_eq!(a["answer"], "unassigned", "{a}");
    let (_, a) = where_is(&page, "NOTINORG0001").await;
    assert_eq!(a["answer"], "not_in_organisation", "{a}");
    assert!(a["message"].as_str().unwrap().contains("reseller"), "{a}");
    let (_, a) = where_is(&page, &at_ours[0]).await;
    assert_eq!(
        (a["answer"].as_str(), a["token"].as_str()),
        (Some("ours"), Some(token_id.as_str()))
    );
    assert!(a["message"].as_str().unwrap().contains("next sync"), "{a}");
    let (s, e) = where_is(&page, "not-a-serial").await;
    assert_eq!((s, e["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("serial")), "{e}");

    // The servers: ours matched by its uuid, never by name.
    let (s, servers) = page.get("/api/v1/business/servers").await;
    assert_eq!(s, StatusCode::OK, "{servers}");
    let list = servers["servers"].as_array().unwrap();
    let ours = list.iter().find(|x| x["token"] == json!(token_id)).expect("ours is matched");
    assert_eq!(
        (ours["server_name"].as_str(), ours["matched_by"].as_str()),
        (Some("Ours"), Some("server_uuid"))
    );
    let theirs = list.iter().find(|x| x["server_name"] == "Theirs").unwrap();
    assert!(theirs["token"].is_null(), "{theirs}");
    assert_eq!(servers["unmatched_tokens"], json!([]));

    // Mapped by the admin (once): the other server becomes ours; forgetting it goes back.
    let path = format!("/api/v1/business/servers/{token_id}");
    let (s, e) =
        page.send(Method::PUT, &path, Some(json!({"mdm_server_id": "NOSUCHSERVER"}))).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    assert!(e["message"].as_str().unwrap().contains("no MDM server"), "{e}");
    let id = theirs["mdm_server_id"].clone();
    let (s, e) = page.send(Method::PUT, &path, Some(json!({"mdm_server_id": id}))).await;
    assert_eq!(s, StatusCode::NO_CONTENT, "{e}");
    let (_, a) = where_is(&page, &at_theirs[1]).await;
    assert_eq!(a["answer"], "ours", "{a}");
    let (_, servers) = page.get("/api/v1/business/servers").await;
    let mapped =
        servers["servers"].as_array().unwrap().iter().find(|x| x["mdm_server_id"] == id).cloned();
    assert_eq!(mapped.unwrap()["matched_by"], "admin");
    let (s, _) = page.send(Method::PUT, &path, Some(json!({"mdm_server_id": null}))).await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (_, a) = where_is(&page, &at_theirs[1]).await;
    assert_eq!(a["answer"], "elsewhere", "{a}");
    let (_, audit) = page.get("/api/v1/audit?limit=100").await;
    assert!(audit.to_string().contains("business.server_map"), "{audit}");

    // 429s are waited out; a revoked account is refused in plain words.
    use adebox::sim::business::BusinessFaults;
    d.sim().business().set_faults(BusinessFaults { rate_limit_every: 2, retry_after: Some(1) });
    let (_, a) = where_is(&page, &nowhere[0]).await;
    assert_eq!(a["answer"], "unassigned", "{a}");
    d.sim().business().set_faults(BusinessFaults::default());
    let (_, account) = page.get("/api/v1/business/account").await;
    d.sim().business().revoke_account(account["client_id"].as_str().unwrap()).unwrap();
    // A fresh account client (the cached token would still serve its hour).
    let (s, _) = page.send(Method::PUT, "/api/v1/business/account", Some(json!({
        "client_id": account["client_id"], "key_id": account["key_id"],
        "private_key_pem": rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap().serialize_pem(),
    }))).await;
    assert_eq!(s, StatusCode::OK);
    let (s, e) = where_is(&page, &nowhere[0]).await;
    assert_eq!(
        (s, e["error"].as_str()),
        (StatusCode::BAD_GATEWAY, Some("business_account_refused")),
        "{e}"
    );
    assert!(e["message"].as_str().unwrap().contains("refused the API account"), "{e}");
}

//! Tests of the Apple Business API simulator over real HTTPS: auth, paging and fieldsets,
//! activities applied to the world the DEP API serves, the 429 fault.

use crate::clock::Clock;
use crate::dep::server::{RunningSimDep, SimDep, SimDepConfig};
use crate::dep::world::ServerId;
use base64ct::{Base64UrlUnpadded, Encoding};
use p256::ecdsa::signature::Signer;
use p256::ecdsa::{Signature, SigningKey};
use p256::pkcs8::DecodePrivateKey;
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::macros::datetime;

const T0: OffsetDateTime = datetime!(2026-03-01 12:00 UTC);
const AUD: &str = "https://account.apple.com/auth/oauth2/v2/token";

struct Sim {
    sim: RunningSimDep,
    http: reqwest::Client,
    server: ServerId,
    uuid: String,
    other_uuid: String,
    account: crate::business::accounts::NewAccount,
}

async fn start(devices: usize) -> Sim {
    crate::ensure_crypto_provider();
    let sim = SimDep::start(SimDepConfig { clock: Clock::manual(T0), ..SimDepConfig::default() })
        .await
        .expect("simulator starts");
    let now = sim.now();
    let (server, uuid, other_uuid) = sim.with_world(|w| {
        let a = w.add_server("Ours", None, now);
        let b = w.add_server("Theirs", None, now);
        w.add_devices(Some(a), devices, &[], now).unwrap();
        w.add_devices(Some(b), 3, &[], now).unwrap();
        w.add_devices(None, 2, &[], now).unwrap();
        (a, w.server(a).unwrap().uuid.clone(), w.server(b).unwrap().uuid.clone())
    });
    let account = sim.business().create_account("adebox").unwrap();
    let ca = reqwest::Certificate::from_pem(sim.ca_pem().as_bytes()).unwrap();
    let http = reqwest::Client::builder().tls_certs_only([ca]).build().unwrap();
    Sim { sim, http, server, uuid, other_uuid, account }
}

fn assertion(key_pem: &str, kid: &str, client_id: &str, aud: &str, iat: i64, exp: i64) -> String {
    let key = SigningKey::from_pkcs8_pem(key_pem).unwrap();
    let enc = |v: Value| Base64UrlUnpadded::encode_string(v.to_string().as_bytes());
    let input = format!(
        "{}.{}",
        enc(json!({"alg": "ES256", "kid": kid, "typ": "JWT"})),
        enc(
            json!({"iss": client_id, "sub": client_id, "aud": aud, "iat": iat, "exp": exp, "jti": "x"})
        )
    );
    let sig: Signature = key.sign(input.as_bytes());
    format!("{input}.{}", Base64UrlUnpadded::encode_string(&sig.to_bytes()))
}

impl Sim {
    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.sim.base_url())
    }

    fn good_assertion(&self) -> String {
        let now = self.sim.now().unix_timestamp();
        let a = &self.account;
        assertion(&a.private_key_pem, &a.key_id, &a.client_id, AUD, now, now + 180 * 86_400)
    }

    async fn token_with(&self, jwt: &str) -> (u16, Value) {
        let form = [
            ("grant_type", "client_credentials"),
            ("client_id", self.account.client_id.as_str()),
            ("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"),
            ("client_assertion", jwt),
            ("scope", "business.api"),
        ];
        let body = form
            .iter()
            .map(|(k, v)| {
                format!(
                    "{k}={}",
                    percent_encoding::utf8_percent_encode(v, percent_encoding::NON_ALPHANUMERIC)
                )
            })
            .collect::<Vec<_>>()
            .join("&");
        let r = self
            .http
            .post(self.url("/auth/oauth2/token"))
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.json().await.unwrap())
    }

    async fn token(&self) -> String {
        let (status, body) = self.token_with(&self.good_assertion()).await;
        assert_eq!(status, 200, "{body}");
        body["access_token"].as_str().unwrap().to_string()
    }

    async fn get(&self, token: &str, url: &str) -> (u16, Value) {
        let r = self.http.get(url).bearer_auth(token).send().await.unwrap();
        (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
    }

    async fn activity(&self, token: &str, body: Value) -> (u16, Value) {
        let r = self
            .http
            .post(self.url("/v1/orgDeviceActivities"))
            .bearer_auth(token)
            .json(&body)
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.json().await.unwrap())
    }
}

fn activity_body(kind: &str, server: Option<&str>, serials: &[String]) -> Value {
    let devices: Vec<Value> =
        serials.iter().map(|s| json!({"type": "orgDevices", "id": s})).collect();
    let mut rel = json!({"devices": {"data": devices}});
    if let Some(id) = server {
        rel["mdmServer"] = json!({"data": {"type": "mdmServers", "id": id}});
    }
    json!({"data": {"type": "orgDeviceActivities", "attributes": {"activityType": kind}, "relationships": rel}})
}

#[tokio::test]
async fn a_good_assertion_gets_a_token_and_bad_ones_are_refused() {
    let s = start(3).await;
    let token = s.token().await;
    assert_eq!(s.get(&token, &s.url("/v1/mdmServers")).await.0, 200);
    let now = s.sim.now().unix_timestamp();
    let a = &s.account;
    let expired = assertion(&a.private_key_pem, &a.key_id, &a.client_id, AUD, now - 7200, now - 60);
    let (status, body) = s.token_with(&expired).await;
    assert_eq!((status, body["error"].as_str()), (401, Some("invalid_client")), "{body}");
    assert!(body["error_description"].as_str().unwrap().contains("expired"));
    let wrong_aud = assertion(
        &a.private_key_pem,
        &a.key_id,
        &a.client_id,
        "https://account.apple.com/auth/oauth2/token",
        now,
        now + 60,
    );
    let (status, body) = s.token_with(&wrong_aud).await;
    assert_eq!(status, 401);
    assert!(body["error_description"].as_str().unwrap().contains("aud"), "{body}");
    let too_long =
        assertion(&a.private_key_pem, &a.key_id, &a.client_id, AUD, now, now + 181 * 86_400);
    assert_eq!(s.token_with(&too_long).await.0, 401);
    let other = s.sim.business().create_account("other").unwrap();
    let foreign_key =
        assertion(&other.private_key_pem, &a.key_id, &a.client_id, AUD, now, now + 60);
    let (status, body) = s.token_with(&foreign_key).await;
    assert_eq!(status, 401);
    assert!(body["error_description"].as_str().unwrap().contains("signature"), "{body}");
    // An assertion may be reused until it expires.
    let jwt = s.good_assertion();
    assert_eq!(s.token_with(&jwt).await.0, 200);
    assert_eq!(s.token_with(&jwt).await.0, 200);
    s.sim.business().revoke_account(&a.client_id).unwrap();
    assert_eq!(s.token_with(&jwt).await.0, 401);
    let (status, body) = s.get(&token, &s.url("/v1/mdmServers")).await;
    assert_eq!((status, body["errors"][0]["code"].as_str()), (401, Some("NOT_AUTHORIZED")));
}

#[tokio::test]
async fn access_tokens_last_an_hour() {
    let s = start(1).await;
    let token = s.token().await;
    s.sim.advance(time::Duration::minutes(59));
    assert_eq!(s.get(&token, &s.url("/v1/orgDevices")).await.0, 200);
    s.sim.advance(time::Duration::minutes(2));
    assert_eq!(s.get(&token, &s.url("/v1/orgDevices")).await.0, 401);
}

#[tokio::test]
async fn org_devices_page_by_cursor_with_sparse_fields() {
    let s = start(250).await;
    let token = s.token().await;
    let mut url = s.url("/v1/orgDevices?limit=100&fields[orgDevices]=serialNumber,status");
    let mut seen = Vec::new();
    let mut pages = 0;
    loop {
        let (status, body) = s.get(&token, &url).await;
        assert_eq!(status, 200, "{body}");
        pages += 1;
        for d in body["data"].as_array().unwrap() {
            let attrs = d["attributes"].as_object().unwrap();
            assert_eq!(attrs.len(), 2, "only the asked fields: {attrs:?}");
            assert!(d.get("relationships").is_none());
            seen.push(d["id"].as_str().unwrap().to_string());
        }
        match body["links"]["next"].as_str() {
            Some(next) => {
                assert_eq!(
                    body["meta"]["paging"]["nextCursor"].as_str().map(|c| next.contains(c)),
                    Some(true)
                );
                url = next.to_string();
            }
            None => break,
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(seen.len(), 255, "every org device: ours, theirs and unassigned");
    let mut sorted = seen.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(sorted, seen, "serial order, no repeats");
    let (status, body) = s.get(&token, &s.url("/v1/orgDevices?limit=1001")).await;
    assert_eq!((status, body["errors"][0]["source"]["parameter"].as_str()), (400, Some("limit")));
    let (status, body) = s.get(&token, &s.url("/v1/orgDevices?fields[orgDevices]=nope")).await;
    assert_eq!(
        (status, body["errors"][0]["code"].as_str()),
        (400, Some("PARAMETER_ERROR.INVALID"))
    );
    let (status, _) = s.get(&token, &s.url(&format!("/v1/mdmServers/{}/devices", s.uuid))).await;
    assert_eq!(status, 403);
}

#[tokio::test]
async fn an_assignment_completes_later_and_shows_in_the_next_dep_sync() {
    let s = start(2).await;
    let token = s.token().await;
    let now = s.sim.now();
    let cursor = s.sim.with_world(|w| w.fetch_page(s.server, None, 1000, now).unwrap().cursor);
    let theirs: Vec<String> =
        s.sim.truth().servers[1].devices.iter().map(|d| d.serial_number.clone()).collect();
    let mut serials = vec![theirs[0].clone(), theirs[1].clone()];
    let ours = s.sim.truth().servers[0].devices[0].serial_number.clone();
    serials.push(ours.clone());
    let (status, body) =
        s.activity(&token, activity_body("ASSIGN_DEVICES", Some(&s.uuid), &serials)).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["data"]["attributes"]["subStatus"], "SUBMITTED");
    let id = body["data"]["id"].as_str().unwrap().to_string();
    let (_, body) = s.get(&token, &s.url(&format!("/v1/orgDeviceActivities/{id}"))).await;
    assert_eq!(body["data"]["attributes"]["status"], "IN_PROGRESS");
    s.sim.advance(time::Duration::seconds(3));
    let (_, body) = s.get(&token, &s.url(&format!("/v1/orgDeviceActivities/{id}"))).await;
    let attrs = &body["data"]["attributes"];
    assert_eq!(
        (attrs["status"].as_str(), attrs["subStatus"].as_str()),
        (Some("COMPLETED"), Some("COMPLETED_WITH_ERROR")),
        "{body}"
    );
    let csv = s
        .http
        .get(attrs["downloadUrl"].as_str().unwrap())
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(csv.contains(&format!("{},SUCCESS", theirs[0])), "{csv}");
    assert!(csv.contains(&format!("{ours},FAILED,\"The device is already assigned")), "{csv}");
    let now = s.sim.now();
    let synced = s
        .sim
        .with_world(|w| w.sync_page(s.server, Some(&cursor), 1000, now, &mut || false).unwrap());
    let arrived: Vec<&str> = synced.items.iter().map(|i| &*i.device.serial).collect();
    assert!(
        arrived.contains(&theirs[0].as_str()) && arrived.contains(&theirs[1].as_str()),
        "{arrived:?}"
    );
    let (_, body) = s
        .get(&token, &s.url(&format!("/v1/orgDevices/{}/relationships/assignedServer", theirs[0])))
        .await;
    assert_eq!(body["data"]["id"].as_str(), Some(s.uuid.as_str()));
    let _ = &s.other_uuid;
}

#[tokio::test]
async fn bad_activities_are_refused_with_409() {
    let s = start(1).await;
    let token = s.token().await;
    let serial = s.sim.truth().servers[0].devices[0].serial_number.clone();
    let (status, body) = s
        .activity(
            &token,
            activity_body("ASSIGN_DEVICES", Some(&s.uuid), &["NOTOURS00001".to_string()]),
        )
        .await;
    assert_eq!(
        (status, body["errors"][0]["code"].as_str()),
        (409, Some("ENTITY_ERROR.RELATIONSHIP.INVALID"))
    );
    let (status, _) = s
        .activity(
            &token,
            activity_body("ASSIGN_DEVICES", Some("0000"), std::slice::from_ref(&serial)),
        )
        .await;
    assert_eq!(status, 409);
    let mut late = activity_body(
        "ASSIGN_DEVICES_WITH_MDM_MIGRATION_DEADLINE",
        Some(&s.other_uuid),
        std::slice::from_ref(&serial),
    );
    late["data"]["attributes"]["activityTypeMetadata"] =
        json!({"mdmMigrationDeadlineDateTime": "2026-07-01T00:00:00Z"});
    let (status, body) = s.activity(&token, late).await;
    assert_eq!(status, 409);
    assert!(body["errors"][0]["detail"].as_str().unwrap().contains("90 days"));
    let (status, _) =
        s.activity(&token, json!({"data": {"type": "orgDeviceActivities", "extra": 1}})).await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn the_rate_limit_fault_answers_429_with_retry_after() {
    let s = start(1).await;
    let token = s.token().await;
    s.sim
        .business()
        .set_faults(crate::business::BusinessFaults { rate_limit_every: 2, retry_after: Some(7) });
    assert_eq!(s.get(&token, &s.url("/v1/mdmServers")).await.0, 200);
    let r = s.http.get(s.url("/v1/mdmServers")).bearer_auth(&token).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 429);
    assert_eq!(r.headers().get("Retry-After").and_then(|v| v.to_str().ok()), Some("7"));
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["errors"][0]["status"], "429");
}

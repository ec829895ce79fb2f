//! Tests of the DEP simulator over real HTTPS: a simulator per test on 127.0.0.1:0 and a
//! reqwest client that trusts exactly its stand-in CA.

mod auth;
mod devices;
mod faults;
mod fidelity;
mod fixtures;
mod portal;
mod profiles;

use crate::apple::server_token::OAuthCredentials;
use crate::clock::Clock;
use crate::crypto::oauth1::{Keys, authorization_header};
use crate::dep::server::{RunningSimDep, SimDep, SimDepConfig};
use crate::dep::world::ServerId;
use reqwest::Method;
use serde_json::Value;
use std::sync::Mutex;
use time::OffsetDateTime;
use time::macros::datetime;

pub(super) const T0: OffsetDateTime = datetime!(2026-03-01 12:00 UTC);
pub(super) const UA: &str = "adebox-test/1.0";

pub(super) struct Sim {
    pub sim: RunningSimDep,
    pub http: reqwest::Client,
    pub uuid: String,
    pub server: ServerId,
    pub creds: OAuthCredentials,
    session: Mutex<Option<String>>,
}

#[derive(Debug)]
pub(super) struct Resp {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub text: String,
}

impl Resp {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text))
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

pub(super) fn client(ca_pem: &str) -> reqwest::Client {
    crate::ensure_crypto_provider();
    let ca = reqwest::Certificate::from_pem(ca_pem.as_bytes()).expect("simulator CA is PEM");
    reqwest::Client::builder().tls_certs_only([ca]).build().expect("client builds")
}

/// A simulator on a manual clock at [`T0`] with one MDM server holding `devices` devices.
pub(super) async fn start(devices: usize) -> Sim {
    start_with(SimDepConfig { clock: Clock::manual(T0), ..SimDepConfig::default() }, devices).await
}

pub(super) async fn start_with(config: SimDepConfig, devices: usize) -> Sim {
    let sim = SimDep::start(config).await.expect("simulator starts");
    let now = sim.now();
    let (server, uuid, creds) = sim.with_world(|w| {
        let id = w.add_server("Test MDM", None, now);
        w.add_devices(Some(id), devices, &[], now).unwrap();
        let s = w.server(id).unwrap();
        (id, s.uuid.clone(), s.token.to_credentials())
    });
    let http = client(sim.ca_pem());
    Sim { sim, http, uuid, server, creds, session: Mutex::new(None) }
}

impl Sim {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.sim.base_url())
    }

    /// A correctly signed `/session` Authorization header for `creds`.
    pub fn auth_header(
        &self,
        creds: &OAuthCredentials,
        nonce: &str,
        realm: Option<&str>,
    ) -> String {
        let keys = Keys {
            consumer_key: &creds.consumer_key,
            consumer_secret: creds.consumer_secret.expose(),
            token: creds.access_token.expose(),
            token_secret: creds.access_secret.expose(),
        };
        let ts = self.sim.now().unix_timestamp() as u64;
        authorization_header("GET", &self.url("/session"), &keys, ts, nonce, realm).expose().clone()
    }

    /// `GET /session` with the given header and User-Agent.
    pub async fn raw_session(&self, auth: Option<&str>, ua: Option<&str>) -> Resp {
        let mut req = self.http.get(self.url("/session"));
        if let Some(a) = auth {
            req = req.header("Authorization", a);
        }
        if let Some(ua) = ua {
            req = req.header("User-Agent", ua);
        }
        send(req).await
    }

    /// A fresh session token for the test server's current credentials.
    pub async fn new_session(&self) -> String {
        let header = self.auth_header(&self.creds, &crate::crypto::random_token::<12>(), None);
        let r = self.raw_session(Some(&header), Some(UA)).await;
        assert_eq!(r.status, 200, "session: {}", r.text);
        r.json()["auth_session_token"].as_str().expect("token").to_string()
    }

    /// A call with a given session and protocol version.
    pub async fn call_with(
        &self,
        method: Method,
        path: &str,
        session: &str,
        version: u32,
        body: Option<&Value>,
    ) -> Resp {
        let mut req = self
            .http
            .request(method, self.url(path))
            .header("User-Agent", UA)
            .header("X-ADM-Auth-Session", session)
            .header("X-Server-Protocol-Version", version.to_string())
            .header("Content-Type", "application/json;charset=UTF8");
        if let Some(b) = body {
            req = req.body(b.to_string());
        }
        send(req).await
    }

    /// A protocol-10 call on a shared session (opened on first use).
    pub async fn call(&self, method: Method, path: &str, body: Option<&Value>) -> Resp {
        self.call_v(method, path, 10, body).await
    }

    pub async fn call_v(
        &self,
        method: Method,
        path: &str,
        version: u32,
        body: Option<&Value>,
    ) -> Resp {
        let existing = self.session.lock().unwrap().clone();
        let session = match existing {
            Some(s) => s,
            None => {
                let s = self.new_session().await;
                *self.session.lock().unwrap() = Some(s.clone());
                s
            }
        };
        self.call_with(method, path, &session, version, body).await
    }

    /// Every serial the test server's full fetch returns, in order, with page size `limit`.
    pub async fn fetch_all(&self, limit: u32) -> (Vec<String>, String) {
        self.fetch_pages(serde_json::json!({ "limit": limit }), limit).await
    }

    /// The remaining pages of a fetch from `cursor`.
    pub async fn fetch_rest(&self, limit: u32, cursor: &str) -> (Vec<String>, String) {
        self.fetch_pages(serde_json::json!({ "limit": limit, "cursor": cursor }), limit).await
    }

    async fn fetch_pages(&self, mut body: Value, limit: u32) -> (Vec<String>, String) {
        let mut serials = Vec::new();
        loop {
            let r = self.call(Method::POST, "/server/devices", Some(&body)).await;
            assert_eq!(r.status, 200, "{}", r.text);
            let page = r.json();
            for d in page["devices"].as_array().unwrap() {
                serials.push(d["serial_number"].as_str().unwrap().to_string());
            }
            let cursor = page["cursor"].as_str().unwrap().to_string();
            if !page["more_to_follow"].as_bool().unwrap() {
                return (serials, cursor);
            }
            body = serde_json::json!({ "limit": limit, "cursor": cursor });
        }
    }

    /// The test server's serials according to the simulator's truth.
    pub fn truth_serials(&self) -> Vec<String> {
        let truth = self.sim.with_world(|w| w.truth());
        let s = truth.servers.iter().find(|s| s.server_uuid == self.uuid).unwrap();
        s.devices.iter().map(|d| d.serial_number.clone()).collect()
    }
}

pub(super) async fn send(req: reqwest::RequestBuilder) -> Resp {
    let r = req.send().await.expect("request reaches the simulator");
    let status = r.status().as_u16();
    let headers = r.headers().clone();
    let text = r.text().await.expect("body arrives");
    Resp { status, headers, text }
}
mod perf;

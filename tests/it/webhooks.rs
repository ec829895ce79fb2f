//! Event webhooks end to end: the daemon delivers to a receiver started here (actix-web on
//! 127.0.0.1), which is the oracle: it checks each request's HMAC-SHA256 signature with its
//! own code, validates every event with a JSON Schema validator against MicroMDM's schema
//! (`../shared/fixtures/mdm-integration/webhook-event.schema.json`) or adebox's extension
//! (`schemas/webhook-event.adebox.schema.json`), and counts deliveries per event id.

use crate::common::*;
use crate::mdm::{appliance_ca, authenticate, identity, put, tls_client};
use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use base64ct::{Base64, Encoding};
use hmac::{Hmac, KeyInit, Mac};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use sha2::Sha256;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// One request the receiver got.
#[derive(Clone, Debug)]
pub struct Received {
    pub headers: HashMap<String, String>,
    pub body: Vec<u8>,
}

impl Received {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap()
    }

    pub fn header(&self, name: &str) -> &str {
        self.headers.get(&name.to_ascii_lowercase()).map(String::as_str).unwrap_or("")
    }

    /// Checks the signature as a receiver would: HMAC-SHA256 of "<timestamp>.<body>".
    pub fn signed_with(&self, secret: &str) -> bool {
        let ts = self.header("X-Adebox-Timestamp");
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(secret.as_bytes()).unwrap();
        mac.update(format!("{ts}.").as_bytes());
        mac.update(&self.body);
        let want = format!("v1={}", hex::encode(mac.finalize().into_bytes()));
        !ts.is_empty() && self.header("X-Adebox-Signature") == want
    }
}

#[derive(Default)]
struct Behaviour {
    /// Answer 500 to this many requests first.
    fail_next: AtomicUsize,
    /// Wait this long before answering.
    delay_ms: AtomicU64,
}

/// A webhook receiver on 127.0.0.1 (plain http: subscriptions to it tick "allow http").
pub struct Receiver {
    pub url: String,
    got: Arc<Mutex<Vec<Received>>>,
    behaviour: Arc<Behaviour>,
}

async fn receive(
    req: HttpRequest,
    body: web::Bytes,
    got: web::Data<Arc<Mutex<Vec<Received>>>>,
    behaviour: web::Data<Arc<Behaviour>>,
) -> HttpResponse {
    let headers = req
        .headers()
        .iter()
        .map(|(k, v)| (k.as_str().to_string(), v.to_str().unwrap_or("").to_string()))
        .collect();
    got.lock().unwrap().push(Received { headers, body: body.to_vec() });
    let delay = behaviour.delay_ms.load(Ordering::SeqCst);
    if delay > 0 {
        tokio::time::sleep(Duration::from_millis(delay)).await;
    }
    let fail = behaviour
        .fail_next
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
        .is_ok();
    if fail { HttpResponse::InternalServerError().finish() } else { HttpResponse::Ok().finish() }
}

impl Receiver {
    pub async fn start() -> Receiver {
        let got = Arc::new(Mutex::new(Vec::new()));
        let behaviour = Arc::new(Behaviour::default());
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let (g, b) = (got.clone(), behaviour.clone());
        let server = HttpServer::new(move || {
            App::new()
                .app_data(web::Data::new(g.clone()))
                .app_data(web::Data::new(b.clone()))
                .default_service(web::to(receive))
        })
        .workers(1)
        .disable_signals()
        .listen(listener)
        .unwrap()
        .run();
        tokio::spawn(server);
        Receiver { url: format!("http://127.0.0.1:{port}/hook"), got, behaviour }
    }

    pub fn received(&self) -> Vec<Received> {
        self.got.lock().unwrap().clone()
    }

    pub fn fail_next(&self, n: usize) {
        self.behaviour.fail_next.store(n, Ordering::SeqCst);
    }

    /// Waits until `n` requests arrived (20 s at most).
    pub async fn wait_for(&self, n: usize) -> Vec<Received> {
        for _ in 0..200 {
            let got = self.received();
            if got.len() >= n {
                return got;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("the receiver got {:?}, not {n} requests", self.received().len());
    }
}

/// The validators: MicroMDM's schema, and adebox's extension referencing it.
pub struct Schemas {
    pub micromdm: Option<jsonschema::Validator>,
    pub adebox: Option<jsonschema::Validator>,
}

impl Schemas {
    pub fn load() -> Schemas {
        let Some(dir) = adebox::fixtures::dir() else {
            eprintln!("skipping the JSON Schema checks: ../shared/fixtures not found");
            return Schemas { micromdm: None, adebox: None };
        };
        let text =
            std::fs::read_to_string(dir.join("mdm-integration/webhook-event.schema.json")).unwrap();
        let micromdm: Value = serde_json::from_str(&text).unwrap();
        let ours: Value = serde_json::from_str(
            &std::fs::read_to_string(
                std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                    .join("schemas/webhook-event.adebox.schema.json"),
            )
            .unwrap(),
        )
        .unwrap();
        let opts = || jsonschema::options().should_validate_formats(true);
        Schemas {
            micromdm: Some(opts().build(&micromdm).unwrap()),
            adebox: Some(
                opts()
                    .with_resource(
                        "urn:micromdm:webhook-event",
                        jsonschema::Resource::from_contents(micromdm),
                    )
                    .build(&ours)
                    .unwrap(),
            ),
        }
    }

    /// Asserts `event` is valid: `mdm.*` against MicroMDM's schema and adebox's, `adebox.*`
    /// against adebox's (and not against MicroMDM's, whose topics it is not).
    pub fn check(&self, event: &Value) {
        let (Some(m), Some(a)) = (&self.micromdm, &self.adebox) else { return };
        let errors = |v: &jsonschema::Validator| {
            v.iter_errors(event).map(|e| e.to_string()).collect::<Vec<_>>()
        };
        assert!(errors(a).is_empty(), "{event}: {:?}", errors(a));
        let mdm = event["topic"].as_str().unwrap().starts_with("mdm.");
        assert_eq!(errors(m).is_empty(), mdm, "{event}: {:?}", errors(m));
    }
}

/// Creates a subscription to `url` for `topics`; returns its id and secret.
pub async fn subscribe(page: &Page, url: &str, topics: &[&str], extra: Value) -> (String, String) {
    let mut body = json!({"name": "Site tools", "url": url, "topics": topics, "allow_http": true});
    for (k, v) in extra.as_object().unwrap() {
        body[k] = v.clone();
    }
    let (s, v) = page.post("/api/v1/integrations/webhooks", body).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let secret = v["secret"].as_str().unwrap().to_string();
    (v["subscription"]["id"].as_str().unwrap().to_string(), secret)
}

/// The delivery log once it has `n` lines (the receiver answers before adebox records it).
async fn delivery_log(page: &Page, id: &str, n: usize) -> Vec<Value> {
    let path = format!("/api/v1/integrations/webhooks/{id}/deliveries?limit=200");
    for _ in 0..100 {
        let (_, log) = page.get(&path).await;
        if log.as_array().is_some_and(|l| l.len() >= n) {
            return log.as_array().unwrap().clone();
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the delivery log of {id} never had {n} lines");
}

#[tokio::test]
async fn check_ins_and_command_results_arrive_signed_and_valid_as_micromdm_events() {
    let schemas = Schemas::load();
    let d = TestDaemon::start().await;
    let page = d.setup_admin().await;
    let receiver = Receiver::start().await;
    let (id, secret) =
        subscribe(&page, &receiver.url, &["mdm.Authenticate", "mdm.Connect"], json!({})).await;

    let device = tls_client(&d, &identity(&d, &appliance_ca(&d), Some("UDID-W")).await);
    let auth = authenticate("UDID-W");
    let (s, _) = put(&device, d.url("/mdm/checkin?tenant=a"), auth.clone(), None).await;
    assert_eq!(s, StatusCode::OK);
    let idle = "<plist version=\"1.0\"><dict><key>UDID</key><string>UDID-W</string>\
                <key>Status</key><string>Idle</string></dict></plist>";
    let (s, _) = put(&device, d.url("/mdm/connect"), idle.into(), None).await;
    assert_eq!(s, StatusCode::OK);

    let got = receiver.wait_for(2).await;
    for r in &got {
        assert!(r.signed_with(&secret), "bad signature: {:?}", r.headers);
        assert!(!r.signed_with("another secret"));
        assert_eq!(r.header("X-Adebox-Attempt"), "1");
        assert_eq!(r.header("X-Adebox-Event-Id"), r.json()["event_id"]);
        schemas.check(&r.json());
    }
    let first = got[0].json();
    assert_eq!(first["topic"], "mdm.Authenticate");
    assert_eq!(first["checkin_event"]["udid"], "UDID-W");
    assert_eq!(first["checkin_event"]["url_params"]["tenant"], "a");
    let raw = Base64::decode_vec(first["checkin_event"]["raw_payload"].as_str().unwrap()).unwrap();
    assert_eq!(raw, auth, "raw_payload is the device's exact body");
    let second = got[1].json();
    assert_eq!(second["topic"], "mdm.Connect");
    assert_eq!(second["acknowledge_event"]["status"], "Idle");

    // The delivery log shows both, newest first, with status and latency.
    let log = delivery_log(&page, &id, 2).await;
    assert_eq!(log.len(), 2, "{log:?}");
    assert!(log.iter().all(|l| l["outcome"] == "delivered" && l["status"] == 200), "{log:?}");
    assert_eq!(log[0]["topic"], "mdm.Connect");
    let (_, sub) = page.get(&format!("/api/v1/integrations/webhooks/{id}")).await;
    assert_eq!((sub["queued"].as_u64(), sub["dropped"].as_u64()), (Some(0), Some(0)), "{sub}");

    // The secret is never shown again, nor written to the audit log.
    let (_, list) = page.get("/api/v1/integrations/webhooks").await;
    assert!(!list.to_string().contains(&secret), "{list}");
    let (_, audit) = page.get("/api/v1/audit?action=webhook.create").await;
    assert_eq!(audit["items"].as_array().unwrap().len(), 1, "{audit}");
    assert!(!audit.to_string().contains(&secret), "{audit}");
}

#[tokio::test]
async fn adebox_events_use_the_extended_envelope_and_redelivery_repeats_the_event_id() {
    let schemas = Schemas::load();
    let d = TestDaemon::start().await;
    let page = d.setup_admin().await;
    let receiver = Receiver::start().await;
    let (id, secret) = subscribe(&page, &receiver.url, &["adebox.Alert"], json!({})).await;
    let (s, v) = page.post(&format!("/api/v1/integrations/webhooks/{id}/test"), json!({})).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let got = receiver.wait_for(1).await;
    let event = got[0].json();
    assert_eq!(
        (event["topic"].as_str(), event["adebox_event"]["kind"].as_str()),
        (Some("adebox.Alert"), Some("test"))
    );
    assert_eq!(event["event_id"], v["event_id"]);
    assert!(got[0].signed_with(&secret));
    schemas.check(&event);

    let log = delivery_log(&page, &id, 1).await;
    let seq = log[0]["seq"].as_u64().unwrap();
    let (s, v) = page
        .post(&format!("/api/v1/integrations/webhooks/{id}/deliveries/{seq}/redeliver"), json!({}))
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let got = receiver.wait_for(2).await;
    assert_eq!(got[1].body, got[0].body, "the same event, byte for byte");
    assert_eq!(got[1].header("X-Adebox-Attempt"), "2", "a repeat says so");
    let (s, v) = page
        .post(&format!("/api/v1/integrations/webhooks/{id}/deliveries/999/redeliver"), json!({}))
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND, "{v}");
}

#[tokio::test]
async fn a_failing_receiver_gets_the_event_again_after_the_backoff() {
    let dir = tempfile::tempdir().unwrap();
    let mut opts = options(dir.path(), adebox::daemon::Mode::Production);
    let clock = adebox::clock::Clock::manual(adebox::clock::Clock::system().now());
    opts.clock = clock.clone();
    let d = TestDaemon::start_with(dir, opts).await;
    let page = d.setup_admin().await;
    let receiver = Receiver::start().await;
    receiver.fail_next(1);
    let (id, secret) = subscribe(&page, &receiver.url, &["adebox.Alert"], json!({})).await;
    page.post(&format!("/api/v1/integrations/webhooks/{id}/test"), json!({})).await;
    receiver.wait_for(1).await;
    let log_path = format!("/api/v1/integrations/webhooks/{id}/deliveries");
    let mut log = Value::Null;
    for _ in 0..50 {
        log = page.get(&log_path).await.1;
        if log.as_array().is_some_and(|l| !l.is_empty()) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(log[0]["outcome"], "retrying", "{log}");
    assert_eq!(log[0]["status"], 500, "{log}");
    assert!(log[0]["next_retry_at"].is_string(), "{log}");
    let (_, sub) = page.get(&format!("/api/v1/integrations/webhooks/{id}")).await;
    assert!(sub["failing_since"].is_string() && sub["queued"] == 1, "{sub}");
    // Not before the backoff…
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(receiver.received().len(), 1);
    // …then again, with the attempt counted.
    clock.advance(time::Duration::seconds(11));
    let got = receiver.wait_for(2).await;
    assert_eq!(got[1].body, got[0].body);
    assert_eq!(got[1].header("X-Adebox-Attempt"), "2");
    assert!(got[1].signed_with(&secret));
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (_, sub) = page.get(&format!("/api/v1/integrations/webhooks/{id}")).await;
    assert!(sub["failing_since"].is_null() && sub["queued"] == 0, "{sub}");

    // Resume makes whatever waits due now (the day-long pause itself is decided by
    // events::retry, unit-tested there: a day of manual time here would expire the session).
    receiver.fail_next(1);
    page.post(&format!("/api/v1/integrations/webhooks/{id}/test"), json!({})).await;
    receiver.wait_for(3).await;
    for _ in 0..50 {
        let (_, sub) = page.get(&format!("/api/v1/integrations/webhooks/{id}")).await;
        if sub["failing_since"].is_string() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (s, v) = page.post(&format!("/api/v1/integrations/webhooks/{id}/resume"), json!({})).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert!(v["paused_at"].is_null(), "{v}");
    let got = receiver.wait_for(4).await;
    assert_eq!(got[3].header("X-Adebox-Attempt"), "2");
}

#[tokio::test]
async fn bad_webhook_settings_are_refused_with_the_fix() {
    let d = TestDaemon::start().await;
    let page = d.setup_admin().await;
    let port = d.running().https_addrs[0].port();
    let cases = [
        (
            json!({"name": "x", "url": "http://tools.example.org/", "topics": ["mdm.Connect"]}),
            "https://",
        ),
        (
            json!({"name": "x", "url": format!("https://127.0.0.1:{port}/"), "topics": ["mdm.Connect"]}),
            "back at this appliance",
        ),
        (
            json!({"name": "x", "url": "https://tools.example.org/", "topics": ["mdm.Nope"]}),
            "not a topic",
        ),
        (
            json!({"name": "x", "url": "https://tools.example.org/", "topics": []}),
            "at least one topic",
        ),
        (
            json!({"name": "x", "url": "https://tools.example.org/", "topics": ["mdm.Connect"], "secret": "short"}),
            "at least 16",
        ),
        (
            json!({"name": "x", "url": "https://tools.example.org/", "topics": ["mdm.Connect"], "max_outbox": 1}),
            "between",
        ),
        (
            json!({"name": "x", "url": "https://u:p@tools.example.org/", "topics": ["mdm.Connect"]}),
            "user name or password",
        ),
    ];
    for (body, words) in cases {
        let (s, v) = page.post("/api/v1/integrations/webhooks", body.clone()).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{body} → {v}");
        assert!(v["message"].as_str().unwrap().contains(words), "{body} → {v}");
    }
    let (s, v) = page
        .post("/api/v1/integrations/webhooks", json!({"name": "x", "url": "https://tools.example.org/", "topics": ["mdm.Connect"], "colour": "red"}))
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "unknown fields are refused: {v}");
    let (s, _) = page.send(Method::DELETE, "/api/v1/integrations/webhooks/nope", None).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_full_outbox_drops_the_oldest_and_a_slow_receiver_times_out() {
    let d = TestDaemon::start().await;
    let page = d.setup_admin().await;
    // Nothing listens there: every attempt fails fast, so events wait in the outbox.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://127.0.0.1:{}/", closed.local_addr().unwrap().port());
    drop(closed);
    let (id, _) = subscribe(&page, &url, &["adebox.Alert"], json!({"max_outbox": 10})).await;
    for _ in 0..12 {
        page.post(&format!("/api/v1/integrations/webhooks/{id}/test"), json!({})).await;
    }
    let (_, sub) = page.get(&format!("/api/v1/integrations/webhooks/{id}")).await;
    assert_eq!((sub["queued"].as_u64(), sub["dropped"].as_u64()), (Some(10), Some(2)), "{sub}");
    let (_, log) =
        page.get(&format!("/api/v1/integrations/webhooks/{id}/deliveries?limit=200")).await;
    let dropped = log.as_array().unwrap().iter().filter(|l| l["outcome"] == "dropped").count();
    assert_eq!(dropped, 2, "{log}");

    let receiver = Receiver::start().await;
    receiver.behaviour.delay_ms.store(6_000, Ordering::SeqCst);
    let (slow, _) = subscribe(&page, &receiver.url, &["adebox.Alert"], json!({})).await;
    page.post(&format!("/api/v1/integrations/webhooks/{slow}/test"), json!({})).await;
    let path = format!("/api/v1/integrations/webhooks/{slow}/deliveries");
    for _ in 0..100 {
        let (_, log) = page.get(&path).await;
        if let Some(first) = log.as_array().and_then(|l| l.first()) {
            assert_eq!(first["outcome"], "retrying", "{log}");
            assert!(first["error"].as_str().unwrap().contains("within 5 s"), "{log}");
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the slow delivery was never recorded");
}

#[tokio::test]
async fn the_sandbox_delivers_to_its_own_receiver_across_a_restart() {
    use crate::crash::{Sandbox, client_when_ready, free_port};
    let root = tempfile::tempdir().unwrap();
    let data = root.path().join("data");
    let port = free_port();
    for run in 0..2 {
        let mut sb = Sandbox::start_on(&data, 2, port);
        let (client, token) = client_when_ready(&mut sb, &data, Duration::from_secs(120)).await;
        let get = |path: String| {
            let (client, token, url) = (client.clone(), token.clone(), sb.url(&path));
            async move {
                let r = client.get(url).bearer_auth(token).send().await.unwrap();
                r.json::<Value>().await.unwrap()
            }
        };
        let subs = get("/api/v1/integrations/webhooks".into()).await;
        let subs = subs.as_array().unwrap();
        assert_eq!(subs.len(), 1, "run {run}: {subs:?}");
        let id = subs[0]["id"].as_str().unwrap().to_string();
        let mut delivered = 0;
        for _ in 0..100 {
            let log = get(format!("/api/v1/integrations/webhooks/{id}/deliveries?limit=200")).await;
            delivered =
                log.as_array().unwrap().iter().filter(|l| l["outcome"] == "delivered").count();
            if delivered > run {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert!(delivered > run, "run {run}: the sandbox's test event was not delivered");
        sb.kill();
    }
}

#[tokio::test]
async fn synced_devices_arrive_as_adebox_events_in_the_commit_that_added_them() {
    let schemas = Schemas::load();
    let d = TestDaemon::with_simulator().await;
    let page = d.sandbox_admin().await;
    let receiver = Receiver::start().await;
    let (_, secret) = subscribe(&page, &receiver.url, &["adebox.DeviceSynced"], json!({})).await;
    let (token, uuid) = add_token(&d, &page, "Main campus").await;
    let id = token["id"].as_str().unwrap().to_string();
    page.post("/api/v1/sandbox/devices", json!({"server_uuid": uuid, "count": 5})).await;
    page.post(&format!("/api/v1/sync/{id}"), json!({})).await;
    wait_for_devices(&page, &id, 5).await;
    let got = receiver.wait_for(5).await;
    let mut serials: Vec<String> = got
        .iter()
        .map(|r| {
            assert!(r.signed_with(&secret));
            let e = r.json();
            schemas.check(&e);
            assert_eq!(e["topic"], "adebox.DeviceSynced");
            assert_eq!(e["adebox_event"]["kind"], "added", "{e}");
            e["adebox_event"]["serial"].as_str().unwrap().to_string()
        })
        .collect();
    serials.sort();
    let mut want = Vec::new();
    let (_, list) = page.get(&format!("/api/v1/devices?token={id}&limit=10")).await;
    for dev in list["items"].as_array().unwrap() {
        want.push(dev["serial"].as_str().unwrap().to_string());
    }
    want.sort();
    assert_eq!(serials, want);
}

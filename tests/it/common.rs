use adebox::admin::{AdminOptions, HashCost};
use adebox::config::Config;
use adebox::daemon::{self, DaemonOptions, Mode, Running};
use reqwest::{Client, Method, StatusCode};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::time::Duration;

pub const PASSWORD: &str = "admin password 1";

/// A daemon running in this process, with its own data directory.
pub struct TestDaemon {
    pub running: Option<Running>,
    pub dir: tempfile::TempDir,
    pub base: String,
    /// The simulated Apple side, for daemons started with one.
    pub sim: Option<adebox::sim::dep::RunningSimDep>,
    /// The simulated APNs service (whose stand-in CA issued the daemon's push certificate).
    pub apns: Option<adebox::sim::apns::RunningSimApns>,
}

impl TestDaemon {
    pub async fn start() -> TestDaemon {
        Self::start_in(tempfile::tempdir().unwrap(), Mode::Production).await
    }

    pub async fn start_in(dir: tempfile::TempDir, mode: Mode) -> TestDaemon {
        let opts = options(dir.path(), mode);
        Self::start_with(dir, opts).await
    }

    /// A daemon on `dir` started with `opts` (tests that change a policy).
    pub async fn start_with(
        dir: tempfile::TempDir,
        opts: adebox::daemon::DaemonOptions,
    ) -> TestDaemon {
        let running = daemon::start(opts).await.expect("daemon starts");
        let port = running.https_addrs[0].port();
        TestDaemon {
            running: Some(running),
            dir,
            base: format!("https://localhost:{port}"),
            sim: None,
            apns: None,
        }
    }

    /// A sandbox-mode daemon talking to a fresh simulated Apple side (no demo data: tests
    /// make what they need through the portal).
    pub async fn with_simulator() -> TestDaemon {
        Self::with_simulator_trusting(adebox::daemon::DeviceTrust::Apple).await
    }

    /// [`TestDaemon::with_simulator`], accepting device identities from `trust`; it has a
    /// push certificate from the APNs simulator, as the sandbox does.
    pub async fn with_simulator_trusting(trust: adebox::daemon::DeviceTrust) -> TestDaemon {
        Self::with_simulator_trusting_at(trust, adebox::clock::Clock::system()).await
    }

    /// [`TestDaemon::with_simulator_trusting`] reading time from `clock` (a manual clock the
    /// test steps).
    pub async fn with_simulator_trusting_at(
        trust: adebox::daemon::DeviceTrust,
        clock: adebox::clock::Clock,
    ) -> TestDaemon {
        Self::with_simulator_pushing(trust, clock, test_alerts()).await
    }

    /// [`TestDaemon::with_simulator_trusting_at`] running the alert rules every 300 ms (the
    /// tests of alerts).
    pub async fn with_simulator_alerting_at(clock: adebox::clock::Clock) -> TestDaemon {
        Self::with_simulator_pushing(adebox::daemon::DeviceTrust::Apple, clock, quick_alerts())
            .await
    }

    async fn with_simulator_pushing(
        trust: adebox::daemon::DeviceTrust,
        clock: adebox::clock::Clock,
        alerts: adebox::alerts::AlertOptions,
    ) -> TestDaemon {
        let d = Self::with_simulator_no_push_at(trust, clock, alerts).await;
        adebox::daemon::sandbox::provision_push_certificate(d.running(), d.apns())
            .await
            .expect("push certificate provisioned");
        d
    }

    /// [`TestDaemon::with_simulator_trusting`] without a push certificate.
    pub async fn with_simulator_no_push(trust: adebox::daemon::DeviceTrust) -> TestDaemon {
        Self::with_simulator_no_push_at(trust, adebox::clock::Clock::system(), test_alerts()).await
    }

    async fn with_simulator_no_push_at(
        trust: adebox::daemon::DeviceTrust,
        clock: adebox::clock::Clock,
        alerts: adebox::alerts::AlertOptions,
    ) -> TestDaemon {
        let sim = adebox::daemon::sandbox::start_simulator().await.expect("simulator starts");
        let apns =
            adebox::daemon::sandbox::start_apns_simulator().await.expect("APNs simulator starts");
        let dir = tempfile::tempdir().unwrap();
        let mut opts = options(dir.path(), Mode::Sandbox);
        opts.clock = clock;
        opts.device_trust = trust;
        opts.alerts = alerts;
        opts.apple = adebox::daemon::sandbox::apple_side(&sim, &apns);
        opts.sandbox_pushes = Some(apns.feed());
        opts.dep_retry = adebox::depclient::RetryPolicy {
            base_delay: std::time::Duration::from_millis(5),
            max_delay: std::time::Duration::from_millis(50),
            ..Default::default()
        };
        let running = daemon::start(opts).await.expect("daemon starts");
        let port = running.https_addrs[0].port();
        TestDaemon {
            running: Some(running),
            dir,
            base: format!("https://localhost:{port}"),
            sim: Some(sim),
            apns: Some(apns),
        }
    }

    pub fn apns(&self) -> &adebox::sim::apns::RunningSimApns {
        self.apns.as_ref().expect("started with_simulator()")
    }

    pub fn sim(&self) -> &adebox::sim::dep::RunningSimDep {
        self.sim.as_ref().expect("started with_simulator()")
    }

    /// A client trusting the simulator's CA (to act as the admin at the simulated ABM).
    pub fn sim_client(&self) -> Client {
        client_trusting(self.sim().ca_pem().as_bytes())
    }

    /// Signs in the sandbox way: sets a password for `admin` and logs in.
    pub async fn sandbox_admin(&self) -> Page {
        self.running()
            .services
            .admin
            .set_password_cli(
                "admin",
                adebox::crypto::Secret::new(PASSWORD.into()),
                Some(adebox::admin::Role::Owner),
            )
            .await
            .unwrap();
        let (status, body, page) = self.login("admin", PASSWORD).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        page
    }

    pub fn running(&self) -> &Running {
        self.running.as_ref().unwrap()
    }

    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().to_path_buf()
    }

    pub fn ca_pem(&self) -> Vec<u8> {
        std::fs::read(self.dir.path().join("tls/ca.pem")).unwrap()
    }

    /// A browser-like client: trusts only the daemon's CA, keeps cookies.
    pub fn client(&self) -> Client {
        client_trusting(&self.ca_pem())
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// Stops the daemon and starts it again on the same data directory.
    pub async fn restart(mut self) -> TestDaemon {
        self.running.take().unwrap().shutdown().await;
        let dir = std::mem::replace(&mut self.dir, tempfile::tempdir().unwrap());
        Self::start_in(dir, Mode::Production).await
    }

    /// [`TestDaemon::restart`] with options `change` adjusts (a configuration kept).
    pub async fn restart_with(self, change: impl FnOnce(&mut DaemonOptions)) -> TestDaemon {
        let dir = self.stop().await;
        let mut opts = options(dir.path(), Mode::Production);
        change(&mut opts);
        Self::start_with(dir, opts).await
    }

    /// Stops the daemon (the store released) and hands back its data directory.
    pub async fn stop(mut self) -> tempfile::TempDir {
        self.running.take().unwrap().shutdown().await;
        std::mem::replace(&mut self.dir, tempfile::tempdir().unwrap())
    }

    /// Completes first-run setup as `alice`; returns a signed-in page session.
    pub async fn setup_admin(&self) -> Page {
        let code = self
            .running()
            .setup_code
            .as_ref()
            .expect("a fresh daemon has a setup code")
            .expose()
            .clone();
        let page = Page { client: self.client(), base: self.base.clone(), csrf: String::new() };
        let (status, body) = page
            .send(
                Method::POST,
                "/api/v1/admin/setup",
                Some(json!({"setup_code": code, "username": "alice", "password": PASSWORD})),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        Page { csrf: body["csrf_token"].as_str().unwrap().to_string(), ..page }
    }

    pub async fn login(&self, user: &str, password: &str) -> (StatusCode, Value, Page) {
        let page = Page { client: self.client(), base: self.base.clone(), csrf: String::new() };
        let (status, body) = page
            .send(
                Method::POST,
                "/api/v1/admin/login",
                Some(json!({"username": user, "password": password})),
            )
            .await;
        let csrf = body["csrf_token"].as_str().unwrap_or_default().to_string();
        (status, body, Page { csrf, ..page })
    }
}

impl Drop for TestDaemon {
    fn drop(&mut self) {
        if let Some(r) = self.running.take() {
            // Best effort: a test that panicked still frees its listeners.
            let handle = tokio::runtime::Handle::try_current();
            if let Ok(h) = handle {
                h.spawn(r.shutdown());
            }
        }
    }
}

pub fn options(dir: &Path, mode: Mode) -> DaemonOptions {
    let config = Config::for_sandbox(dir.to_path_buf(), "127.0.0.1:0".parse().unwrap());
    let mut opts = DaemonOptions::new(config, mode);
    opts.admin = AdminOptions { hash_cost: HashCost::TESTING, ..Default::default() };
    opts.workers = 2;
    opts.alerts = test_alerts();
    opts.business_polling = adebox::business::activities::Polling {
        first: time::Duration::milliseconds(200),
        max: time::Duration::seconds(1),
        fast_polls: 10,
    };
    opts.business_applecare = adebox::business::orgdevices::Pace {
        spacing: Duration::from_millis(50),
        refresh_after: time::Duration::days(30),
        pause: Duration::from_millis(300),
    };
    opts
}

/// The alert worker of a test not about alerts: the rules still run (so a failing rule shows
/// in any test), at a pace that costs the other tests nothing; e-mails retry quickly.
pub fn test_alerts() -> adebox::alerts::AlertOptions {
    adebox::alerts::AlertOptions {
        evaluate_every: Duration::from_secs(5),
        first_retry: Duration::from_millis(300),
    }
}

/// The alert worker of a test of alerts: the rules run often enough for the test to see each
/// change within a second.
pub fn quick_alerts() -> adebox::alerts::AlertOptions {
    adebox::alerts::AlertOptions {
        evaluate_every: Duration::from_millis(300),
        first_retry: Duration::from_millis(300),
    }
}

pub fn client_trusting(ca_pem: &[u8]) -> Client {
    adebox::outbound::ensure_crypto_provider();
    Client::builder()
        .tls_certs_only([reqwest::Certificate::from_pem(ca_pem).unwrap()])
        .cookie_store(true)
        .build()
        .unwrap()
}

/// A signed-in browser session: sends the CSRF token on changes, like the page does.
pub struct Page {
    pub client: Client,
    pub base: String,
    pub csrf: String,
}

impl Page {
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut req = self.client.request(method.clone(), format!("{}{}", self.base, path));
        if method != Method::GET && !self.csrf.is_empty() {
            req = req.header("X-CSRF-Token", &self.csrf);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status();
        let text = resp.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
    }

    pub async fn get(&self, path: &str) -> (StatusCode, Value) {
        self.send(Method::GET, path, None).await
    }

    pub async fn post(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.send(Method::POST, path, Some(body)).await
    }
}

/// Sends a request with a bearer token.
pub async fn with_token(
    client: &Client,
    method: Method,
    url: &str,
    token: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut req = client.request(method, url).bearer_auth(token);
    if let Some(b) = body {
        req = req.json(&b);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status();
    let text = resp.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
}

/// A new pending key pair on the appliance: its id and the public-key certificate (PEM) the
/// admin hands to Apple Business Manager.
pub async fn pending_key(d: &TestDaemon, page: &Page) -> (String, String) {
    let (s, key) = page.post("/api/v1/tokens/keys", json!({})).await;
    assert_eq!(s, StatusCode::CREATED, "{key}");
    let key_id = key["id"].as_str().unwrap().to_string();
    let pem = page
        .client
        .get(d.url(&format!("/api/v1/tokens/keys/{key_id}/public-key.pem")))
        .send()
        .await
        .unwrap();
    assert_eq!(pem.headers()["content-type"], "application/x-pem-file");
    (key_id, pem.text().await.unwrap())
}

/// The admin's round trip: key → simulated ABM → .p7m → upload.
pub async fn add_token(d: &TestDaemon, page: &Page, name: &str) -> (Value, String) {
    let (key_id, pem) = pending_key(d, page).await;
    let (s, issued) = page
        .post("/api/v1/sandbox/abm/servers", json!({"key_id": key_id, "server_name": name}))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{issued}");
    assert!(pem.contains("BEGIN CERTIFICATE"));
    let uuid = issued["server_uuid"].as_str().unwrap().to_string();
    let (s, token) = page
        .post(
            "/api/v1/tokens",
            json!({"key_id": key_id, "token": issued["token_p7m"], "apple_id": "it@example.org"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{token}");
    (token, uuid)
}

/// Renews token `id` (of the simulated ABM server `uuid`) the admin's way: ABM re-issues the
/// token to the uploaded key, the admin uploads it; returns the renewed token.
pub async fn renew_token(page: &Page, uuid: &str, id: &str) -> Value {
    let path = format!("/api/v1/sandbox/abm/servers/{uuid}/token");
    let (s, renewed) = page.post(&path, json!({"token_id": id})).await;
    assert_eq!(s, StatusCode::OK, "{renewed}");
    let path = format!("/api/v1/tokens/{id}/renew");
    let (s, after) = page.post(&path, json!({"token": renewed["token_p7m"]})).await;
    assert_eq!(s, StatusCode::OK, "{after}");
    after
}

/// The device list as CSV (`GET /api/v1/devices/export.csv?{query}`).
pub async fn export_csv(d: &TestDaemon, page: &Page, query: &str) -> String {
    let url = d.url(&format!("/api/v1/devices/export.csv?{query}"));
    let resp = page.client.get(url).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK, "the CSV export answers");
    resp.text().await.unwrap()
}

/// Waits (up to 10 s) until the inventory has `n` devices of `token`.
pub async fn wait_for_devices(page: &Page, token: &str, n: u64) {
    for _ in 0..200 {
        let (_, list) = page.get(&format!("/api/v1/devices?token={token}&limit=1")).await;
        if list["total"] == n {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("token {token} never reached {n} devices");
}

//! User sign-in during Setup Assistant with OpenID Connect, against a real certified provider:
//! panva's `oidc-provider` (npm, pinned in tests/oidc-provider/package-lock.json, installed
//! by `.ci/run` with `npm ci`), run by Node.js over HTTPS with a CA the test makes. The test
//! follows every redirect itself with a cookie-keeping client, fills the provider's login
//! form, comes back to the callback and gets the signed profile. Without node or the npm
//! install the provider tests fail under CI and print a notice and skip elsewhere.

use crate::binary::free_port;
use crate::common::*;
use crate::enroll::{fleet_with_profile_on, signed};
use crate::signin::{Answer, open};
use adebox::sim::apple_pki::StandInApplePki;
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub(crate) const CLIENT_ID: &str = "adebox-enroll";
pub(crate) const CLIENT_SECRET: &str = "oidc client secret 7f3a9c";

/// The provider's process, its TLS files and its CA; stopped on drop.
pub(crate) struct Provider {
    child: Child,
    pub(crate) issuer: String,
    pub(crate) ca_pem: String,
    _dir: tempfile::TempDir,
}

impl Drop for Provider {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn provider_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/oidc-provider")
}

/// Node and the npm install, or `None` with a notice (a failure under CI, which installs both).
fn node_and_install() -> Option<PathBuf> {
    let node = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths).map(|p| p.join("node")).find(|p| p.is_file())
    });
    let installed = provider_dir().join("node_modules/oidc-provider/package.json").is_file();
    let missing = match (&node, installed) {
        (None, _) => "node is not installed (apt-get install nodejs)",
        (Some(_), false) => "tests/oidc-provider has no npm install (run npm ci there)",
        (Some(_), true) => return node,
    };
    assert!(
        std::env::var_os("CI").is_none(),
        "{missing}: .ci/run installs it; the OpenID Connect tests need it"
    );
    eprintln!("notice: {missing}; skipping the OpenID Connect provider test");
    None
}

/// A CA and a certificate for 127.0.0.1 signed by it, as PEM: (ca, cert, key).
fn provider_tls() -> (String, String, String) {
    let ca_key = rcgen::KeyPair::generate().unwrap();
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca_params.distinguished_name.push(rcgen::DnType::CommonName, "adebox test OpenID CA");
    let ca = ca_params.self_signed(&ca_key).unwrap();
    let issuer = rcgen::Issuer::new(ca_params, ca_key);
    let key = rcgen::KeyPair::generate().unwrap();
    let params = rcgen::CertificateParams::new(vec!["127.0.0.1".to_string()]).unwrap();
    let cert = params.signed_by(&key, &issuer).unwrap();
    (ca.pem(), cert.pem(), key.serialize_pem())
}

impl Provider {
    /// Starts the provider with one client sending users back to `redirect_uri`.
    pub(crate) async fn start(redirect_uri: &str) -> Option<Provider> {
        let node = node_and_install()?;
        let dir = tempfile::tempdir().unwrap();
        let (ca_pem, cert, key) = provider_tls();
        std::fs::write(dir.path().join("cert.pem"), cert).unwrap();
        std::fs::write(dir.path().join("key.pem"), key).unwrap();
        let port = free_port();
        let issuer = format!("https://127.0.0.1:{port}");
        let accounts = json!({
            "alice": {"password": "alice at the provider", "name": "Alice Example",
                      "email": "alice@example.org", "groups": ["staff", "teachers"]},
            "bob": {"password": "bob at the provider", "name": "Bob Example",
                    "email": "bob@example.org", "groups": ["students"]},
        });
        let child = Command::new(node)
            .arg("server.mjs")
            .current_dir(provider_dir())
            .env("OIDC_PORT", port.to_string())
            .env("OIDC_ISSUER", &issuer)
            .env("OIDC_TLS_CERT", dir.path().join("cert.pem"))
            .env("OIDC_TLS_KEY", dir.path().join("key.pem"))
            .env("OIDC_CLIENT_ID", CLIENT_ID)
            .env("OIDC_CLIENT_SECRET", CLIENT_SECRET)
            .env("OIDC_REDIRECT_URI", redirect_uri)
            .env("OIDC_ACCOUNTS", accounts.to_string())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("node starts");
        let mut provider = Provider { child, issuer, ca_pem, _dir: dir };
        let client = browser(&[provider.ca_pem.as_bytes()]);
        let discovery = format!("{}/.well-known/openid-configuration", provider.issuer);
        // Node loads oidc-provider's module tree in a few seconds when idle, but far slower on
        // a loaded 2-core machine running the rest of the suite: wait long, and stop at once
        // if the process ended (a port taken in between, a missing module).
        let deadline = Instant::now() + Duration::from_secs(120);
        while client.get(&discovery).send().await.is_err() {
            if let Ok(Some(status)) = provider.child.try_wait() {
                panic!("the OpenID provider exited with {status} before serving on {port}");
            }
            assert!(Instant::now() < deadline, "the OpenID provider did not start on {port}");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        Some(provider)
    }
}

/// The web view: keeps cookies, trusts `cas`, follows no redirect by itself.
fn browser(cas: &[&[u8]]) -> reqwest::Client {
    adebox::outbound::ensure_crypto_provider();
    let certs = cas.iter().map(|pem| reqwest::Certificate::from_pem(pem).unwrap());
    reqwest::Client::builder()
        .tls_certs_only(certs)
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

fn text(a: &Answer) -> String {
    String::from_utf8_lossy(&a.body).into_owned()
}

/// The sign-in link of a page (`/enroll/web/oidc/start?attempt=…`).
fn link(page: &Answer) -> String {
    let t = text(page);
    let start = t.find("href=\"/enroll/web/oidc/start").unwrap_or_else(|| panic!("no link: {t}"));
    t[start + 6..].split('"').next().unwrap().replace("&amp;", "&")
}

/// Follows redirects from `resp` (answered at `url`) until a page answers; that page and its URL.
async fn follow(
    client: &reqwest::Client,
    mut url: String,
    mut resp: reqwest::Response,
) -> (String, Answer) {
    for _ in 0..10 {
        if !resp.status().is_redirection() {
            let status = resp.status();
            let content_type = resp
                .headers()
                .get("content-type")
                .map(|v| v.to_str().unwrap().to_string())
                .unwrap_or_default();
            let body = resp.bytes().await.unwrap().to_vec();
            return (url, Answer { status, content_type, body });
        }
        let location = resp.headers()["location"].to_str().unwrap().to_string();
        url = reqwest::Url::parse(&url).unwrap().join(&location).unwrap().to_string();
        resp = client.get(&url).send().await.unwrap();
    }
    panic!("too many redirects, last {url}");
}

/// Starts the provider step of `page` and fills the login form: where it ended and what it said.
async fn sign_in_at_provider(
    d: &TestDaemon,
    client: &reqwest::Client,
    page: &Answer,
    username: &str,
    password: &str,
) -> (String, Answer) {
    let start = d.url(&link(page));
    let (login_url, login) =
        follow(client, start.clone(), client.get(&start).send().await.unwrap()).await;
    assert!(text(&login).contains("name=\"password\""), "{}", text(&login));
    let post = format!("{login_url}/login");
    use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
    let body = format!(
        "login={}&password={}",
        utf8_percent_encode(username, NON_ALPHANUMERIC),
        utf8_percent_encode(password, NON_ALPHANUMERIC)
    );
    let resp = client
        .post(&post)
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .unwrap();
    follow(client, post, resp).await
}

fn oidc_settings(issuer: &str, ca_pem: &str) -> Value {
    json!({"provider_name": "Example ID", "issuer": issuer, "client_id": CLIENT_ID,
           "client_secret": CLIENT_SECRET, "scopes": ["openid", "profile", "email", "groups"],
           "ca_pem": ca_pem, "timeout_seconds": 5})
}

fn oidc_profile() -> Value {
    json!({"name": "Staff devices", "platforms": ["iOS", "iPadOS", "macOS", "tvOS", "visionOS"],
           "user_affinity": "with_affinity", "department": "Example School IT",
           "sign_in": {"source": "oidc", "allowed_groups": ["staff"]}})
}

async fn daemon(pki: &std::sync::Arc<StandInApplePki>) -> (TestDaemon, Page) {
    let trust = adebox::daemon::DeviceTrust::StandIn(pki.clone());
    let d = TestDaemon::with_simulator_trusting_at(trust, adebox::clock::Clock::system()).await;
    let page = d.sandbox_admin().await;
    (d, page)
}

#[tokio::test]
async fn a_user_signs_in_at_the_openid_provider_and_the_device_gets_its_profile() {
    let now = adebox::clock::Clock::system().now();
    let pki = std::sync::Arc::new(StandInApplePki::generate(now).unwrap());
    let (d, page) = daemon(&pki).await;
    let (s, v) = page.get("/api/v1/signin/oidc").await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert!(v["provider"].is_null(), "{v}");
    let redirect_uri = v["redirect_uri"].as_str().unwrap().to_string();
    assert!(
        redirect_uri.starts_with("https://") && redirect_uri.ends_with("/enroll/web/oidc/callback")
    );
    // Not set up yet: a profile naming it is refused with the fix.
    let (s, v) = page.post("/api/v1/profiles", oidc_profile()).await;
    assert_eq!(
        (s, v["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("sign_in.source")),
        "{v}"
    );
    let Some(idp) = Provider::start(&redirect_uri).await else { return };

    let (s, v) = page
        .send(
            reqwest::Method::PUT,
            "/api/v1/signin/oidc",
            Some(oidc_settings(&idp.issuer, &idp.ca_pem)),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["provider"]["client_secret_set"], true, "{v}");
    assert!(!v.to_string().contains(CLIENT_SECRET), "{v}");
    let (s, v) = page.post("/api/v1/signin/oidc/test", json!({})).await;
    assert_eq!((s, v["ok"].as_bool()), (StatusCode::OK, Some(true)), "{v}");
    let (_, serials) = fleet_with_profile_on(&d, &page, 3, oidc_profile()).await;
    // Each device is a new web view: no provider session carries over.
    let web_view = || browser(&[&d.ca_pem(), idp.ca_pem.as_bytes()]);
    let client = web_view();

    // Device 1: the page offers the provider; a wrong password stays at the provider.
    let form = open(&d, Some(&signed(&pki, &serials[0], "00008101-0021"))).await;
    assert_eq!(form.status, StatusCode::OK, "{}", text(&form));
    assert!(
        text(&form).contains("Sign in with Example ID")
            && !text(&form).contains("name=\"password\"")
    );
    let (at, wrong) = sign_in_at_provider(&d, &client, &form, "alice", "not her password").await;
    assert!(
        at.starts_with(&idp.issuer) && text(&wrong).contains("Invalid username or password"),
        "{at}"
    );
    let (at, ok) = sign_in_at_provider(&d, &client, &form, "alice", "alice at the provider").await;
    assert_eq!(ok.status, StatusCode::OK, "{at}: {}", text(&ok));
    assert_eq!(ok.content_type, "application/x-apple-aspen-config");
    let signed_profile = adebox::crypto::cms::verify_signed(&ok.body).unwrap();
    assert!(String::from_utf8_lossy(&signed_profile.content).contains("com.apple.mdm"));
    // The same redirect again (a replayed state) is refused with a page.
    let replay = follow(&client, at.clone(), client.get(&at).send().await.unwrap()).await.1;
    assert_eq!(replay.status, StatusCode::GONE, "{}", text(&replay));
    assert!(replay.content_type.starts_with("text/html") && text(&replay).contains("expired"));
    let (_, device) = page.get(&format!("/api/v1/devices/{}", serials[0])).await;
    assert_eq!(device["user"]["username"], "alice", "{device}");
    assert_eq!(device["user"]["display_name"], "Alice Example", "{device}");
    assert_eq!(device["user"]["source"], "oidc", "{device}");

    // Device 2: bob signs in at the provider but is not in the allowed group.
    let form2 = open(&d, Some(&signed(&pki, &serials[1], "00008101-0022"))).await;
    let client = web_view();
    let (_, refused) = sign_in_at_provider(&d, &client, &form2, "bob", "bob at the provider").await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", text(&refused));
    assert!(text(&refused).contains("group") && text(&refused).contains("Sign in with Example ID"));

    // Device 3: the provider answers an error (the user cancelled); the page offers to retry.
    let form3 = open(&d, Some(&signed(&pki, &serials[2], "00008101-0023"))).await;
    let start = client.get(d.url(&link(&form3))).send().await.unwrap();
    assert_eq!(start.status(), StatusCode::SEE_OTHER);
    let to_idp = reqwest::Url::parse(start.headers()["location"].to_str().unwrap()).unwrap();
    let q: std::collections::HashMap<_, _> = to_idp.query_pairs().into_owned().collect();
    assert_eq!(q["code_challenge_method"], "S256");
    assert!(
        q.contains_key("nonce")
            && q.contains_key("code_challenge")
            && q["redirect_uri"] == redirect_uri
    );
    let cancelled = format!("{redirect_uri}?error=access_denied&state={}", q["state"]);
    let (_, denied) =
        follow(&client, cancelled.clone(), client.get(&cancelled).send().await.unwrap()).await;
    assert_eq!(denied.status, StatusCode::UNAUTHORIZED, "{}", text(&denied));
    assert!(
        text(&denied).contains("cancelled") && text(&denied).contains("Sign in with Example ID")
    );
    let unknown = format!("{redirect_uri}?code=x&state=not-a-state");
    let (_, gone) =
        follow(&client, unknown.clone(), client.get(&unknown).send().await.unwrap()).await;
    assert_eq!(gone.status, StatusCode::GONE, "{}", text(&gone));

    // The client secret is in no answer and not in the audit log; the sign-ins are.
    let (_, v) = page.get("/api/v1/signin/oidc").await;
    assert!(!v.to_string().contains(CLIENT_SECRET), "{v}");
    let (_, audit) = page.get("/api/v1/audit?limit=200").await;
    let t = audit.to_string();
    assert!(t.contains(&format!("user alice enrolled device {}", serials[0])), "{t}");
    assert!(t.contains("OpenID Connect settings saved") && !t.contains(CLIENT_SECRET), "{t}");
    assert!(!t.contains("alice at the provider"), "{t}");
}

#[tokio::test]
async fn a_provider_that_does_not_answer_gives_a_page_in_time() {
    let now = adebox::clock::Clock::system().now();
    let pki = std::sync::Arc::new(StandInApplePki::generate(now).unwrap());
    let (d, page) = daemon(&pki).await;
    // Accepts connections and never answers: discovery waits for the timeout.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let issuer = format!("https://127.0.0.1:{}", silent.local_addr().unwrap().port());
    let mut settings = oidc_settings(&issuer, "");
    settings["timeout_seconds"] = json!(2);
    let (s, v) = page.send(reqwest::Method::PUT, "/api/v1/signin/oidc", Some(settings)).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let (s, v) = page.post("/api/v1/signin/oidc/test", json!({})).await;
    assert_eq!((s, v["ok"].as_bool()), (StatusCode::OK, Some(false)), "{v}");
    assert!(v["steps"][0]["detail"].as_str().unwrap().contains("did not answer"), "{v}");
    let (_, serials) = fleet_with_profile_on(&d, &page, 1, oidc_profile()).await;
    let form = open(&d, Some(&signed(&pki, &serials[0], "00008101-0031"))).await;
    assert_eq!(form.status, StatusCode::OK, "{}", text(&form));
    let client = browser(&[&d.ca_pem()]);
    let started = Instant::now();
    let resp = client.get(d.url(&link(&form))).send().await.unwrap();
    let (_, down) = follow(&client, d.url("/"), resp).await;
    assert!(started.elapsed() < Duration::from_secs(10), "{:?}", started.elapsed());
    assert_eq!(down.status, StatusCode::SERVICE_UNAVAILABLE, "{}", text(&down));
    assert!(
        down.content_type.starts_with("text/html") && text(&down).contains("cannot be reached")
    );
    drop(silent);

    // Bad settings are refused with the field and nothing is stored; the secret never shows.
    let bad = json!({"issuer": "http://id.example.org", "client_id": CLIENT_ID});
    let (s, v) = page.send(reqwest::Method::PUT, "/api/v1/signin/oidc", Some(bad)).await;
    assert_eq!((s, v["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("issuer")), "{v}");
    let (_, v) = page.get("/api/v1/signin/oidc").await;
    assert_eq!(v["provider"]["issuer"], issuer.as_str(), "{v}");
    let (s, _) = page.send(reqwest::Method::DELETE, "/api/v1/signin/oidc", None).await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (_, audit) = page.get("/api/v1/audit?limit=200").await;
    assert!(!audit.to_string().contains(CLIENT_SECRET), "{audit}");
}

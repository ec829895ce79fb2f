//! Alerts outside the page, end to end: a real SMTP server (aiosmtpd from Debian's
//! python3-aiosmtpd, run by `smtp_server.py` beside this file with STARTTLS required and AUTH
//! checked) receives the e-mails; the webhook receiver of `webhooks.rs` receives the events
//! and checks them against adebox's event schema. Time is a manual clock the tests step.

use crate::common::*;
use crate::webhooks::{Receiver, Schemas, subscribe};
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

const SMTP_USER: &str = "alerts";
const SMTP_PASSWORD: &str = "smtp-secret-4711";

/// aiosmtpd on 127.0.0.1, trusted through its own CA; stopped when dropped.
pub struct Smtp {
    child: Child,
    dir: tempfile::TempDir,
    pub port: u16,
    pub ca_pem: String,
}

impl Smtp {
    /// `None` (with a notice) when Debian's python3-aiosmtpd is missing outside CI; in CI
    /// (`CI` set, `.ci/run` installs it) a missing server fails the test.
    pub fn start() -> Option<Smtp> {
        let python = "/usr/bin/python3";
        let found = Command::new(python)
            .args(["-c", "import aiosmtpd"])
            .status()
            .is_ok_and(|s| s.success());
        if !found {
            assert!(std::env::var_os("CI").is_none(), "python3-aiosmtpd is missing in CI");
            eprintln!(
                "notice: aiosmtpd is not installed (apt-get install python3-aiosmtpd); skipping"
            );
            return None;
        }
        let dir = tempfile::tempdir().unwrap();
        let now = adebox::clock::Clock::system().now();
        let ca = adebox::crypto::ca::Authority::generate(
            "adebox test SMTP CA",
            now,
            time::Duration::days(1),
        )
        .unwrap();
        let leaf = ca.issue_server(&["localhost".into()], now, time::Duration::days(1)).unwrap();
        let (cert, key) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
        std::fs::write(&cert, &leaf.cert_pem).unwrap();
        std::fs::write(&key, leaf.key_pem.expose()).unwrap();
        let maildir = dir.path().join("mail");
        std::fs::create_dir(&maildir).unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let script =
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/it/alerts/smtp_server.py");
        let mut child = Command::new(python)
            .arg(script)
            .arg(port.to_string())
            .arg(&maildir)
            .args([&cert, &key])
            .args([SMTP_USER, SMTP_PASSWORD])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        assert_eq!(line.trim(), "READY", "aiosmtpd did not start");
        Some(Smtp { child, dir, port, ca_pem: ca.cert_pem().to_string() })
    }

    /// The messages received so far, oldest first.
    pub fn messages(&self) -> Vec<String> {
        let mut names: Vec<_> = std::fs::read_dir(self.dir.path().join("mail"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "eml"))
            .collect();
        names.sort();
        names.iter().map(|p| std::fs::read_to_string(p).unwrap()).collect()
    }

    /// Waits (20 s at most) until `n` messages arrived.
    pub async fn wait_for(&self, n: usize) -> Vec<String> {
        for _ in 0..200 {
            let got = self.messages();
            if got.len() >= n {
                return got;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("the SMTP server got {} messages, not {n}", self.messages().len());
    }

    /// The settings that send through this server with `password`.
    pub fn settings(&self, password: &str, recipients: Value) -> Value {
        json!({
            "smtp": {
                "host": "localhost", "port": self.port, "security": "starttls",
                "username": SMTP_USER, "password": password,
                "from": "adebox@example.org", "ca_pem": self.ca_pem,
            },
            "recipients": recipients,
        })
    }
}

impl Drop for Smtp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn put_settings(page: &Page, body: Value) -> (StatusCode, Value) {
    page.send(reqwest::Method::PUT, "/api/v1/alerts/settings", Some(body)).await
}

#[tokio::test]
async fn send_test_shows_the_servers_answer_and_a_wrong_password_in_plain_words() {
    let Some(smtp) = Smtp::start() else { return };
    let d = TestDaemon::start().await;
    let page = d.setup_admin().await;

    let (s, v) = page.post("/api/v1/alerts/test", json!({"to": ["ops@example.org"]})).await;
    assert_eq!(s, StatusCode::CONFLICT, "no SMTP server yet: {v}");
    assert!(v.to_string().contains("SMTP settings"), "{v}");

    let (s, v) = put_settings(
        &page,
        smtp.settings("wrong-password-1", json!({"test": ["ops@example.org"]})),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let (s, v) = page.post("/api/v1/alerts/test", json!({})).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["sent"], false, "{v}");
    let answer = v["answer"].as_str().unwrap();
    assert!(answer.contains("refused the user name or password"), "{answer}");
    assert!(answer.contains("535"), "the server's own code: {answer}");
    assert!(smtp.messages().is_empty());

    let (s, v) = put_settings(&page, smtp.settings(SMTP_PASSWORD, json!({}))).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let (s, v) = page.post("/api/v1/alerts/test", json!({})).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["sent"], true, "{v}");
    let answer = v["answer"].as_str().unwrap();
    assert!(answer.contains("accepted") && answer.contains("250"), "{answer}");
    let mail = smtp.wait_for(1).await;
    assert!(mail[0].contains("Subject: [adebox] Test message"), "{}", mail[0]);
    assert!(mail[0].contains("X-Envelope-To: ops@example.org"), "{}", mail[0]);

    // The password is never shown, audited or stored in clear; changing other fields keeps it.
    let (s, shown) = page.get("/api/v1/alerts/settings").await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(shown["smtp"]["password_set"], true, "{shown}");
    let mut keep = smtp.settings("", json!({}));
    keep["smtp"].as_object_mut().unwrap().remove("password");
    let (s, _) = put_settings(&page, keep).await;
    assert_eq!(s, StatusCode::OK);
    let (_, v) = page.post("/api/v1/alerts/test", json!({})).await;
    assert_eq!(v["sent"], true, "the stored password was kept: {v}");
    let (_, audit) = page.get("/api/v1/audit?limit=100").await;
    assert!(audit.to_string().contains("alerts.settings_change"), "{audit}");
    for (what, text) in [("settings", shown.to_string()), ("audit log", audit.to_string())] {
        assert!(!text.contains(SMTP_PASSWORD), "the password is in the {what}");
        assert!(!text.contains("wrong-password-1"), "a password is in the {what}");
    }
    let store = std::fs::read(d.data_dir().join("adebox.redb")).unwrap_or_default();
    assert!(!store.is_empty(), "the store file is where the test expects it");
    assert!(!store.windows(SMTP_PASSWORD.len()).any(|w| w == SMTP_PASSWORD.as_bytes()));

    // Bad input names the field and the fix; nothing changes.
    let mut plain = smtp.settings("x", json!({}));
    plain["smtp"]["security"] = json!("none");
    let (s, v) = put_settings(&page, plain).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert!(v.to_string().contains("allow_plain"), "{v}");
    let (s, v) =
        put_settings(&page, json!({"recipients": {"token_expiring": ["not an address"]}})).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    let (s, v) = put_settings(&page, json!({"recipients": {"nope": []}})).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert!(v.to_string().contains("token_expiring"), "lists the kinds: {v}");
}

/// Waits until `GET /api/v1/alerts` satisfies `ok` (20 s at most).
async fn alerts_until(page: &Page, ok: impl Fn(&Value) -> bool) -> Value {
    for _ in 0..200 {
        let (_, v) = page.get("/api/v1/alerts").await;
        if ok(&v) {
            return v;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (_, v) = page.get("/api/v1/alerts").await;
    panic!("the alerts never got there: {v}");
}

/// A sandbox daemon and its simulated Apple side on one manual clock (and no push
/// certificate), so a token renewed after the clock jumped lasts a year from the jumped time.
async fn on_one_clock(clock: &adebox::clock::Clock) -> TestDaemon {
    let config =
        adebox::sim::dep::SimDepConfig { seed: 29, clock: clock.clone(), ..Default::default() };
    let sim = adebox::sim::dep::SimDep::start(config).await.unwrap();
    let apns = adebox::daemon::sandbox::start_apns_simulator().await.unwrap();
    start_on_clock(clock, tempfile::tempdir().unwrap(), sim, apns).await
}

/// The daemon of [`on_one_clock`] on `dir` (a first start or a restart).
async fn start_on_clock(
    clock: &adebox::clock::Clock,
    dir: tempfile::TempDir,
    sim: adebox::sim::dep::RunningSimDep,
    apns: adebox::sim::apns::RunningSimApns,
) -> TestDaemon {
    let mut opts = options(dir.path(), adebox::daemon::Mode::Sandbox);
    opts.alerts = crate::common::quick_alerts();
    opts.clock = clock.clone();
    opts.apple = adebox::daemon::sandbox::apple_side(&sim, &apns);
    opts.sandbox_pushes = Some(apns.feed());
    let running = adebox::daemon::start(opts).await.expect("daemon starts");
    let base = format!("https://localhost:{}", running.https_addrs[0].port());
    TestDaemon { running: Some(running), dir, base, sim: Some(sim), apns: Some(apns) }
}

#[tokio::test]
async fn a_token_near_expiry_mails_once_and_publishes_one_event_then_resolves_when_renewed() {
    let Some(smtp) = Smtp::start() else { return };
    let schemas = Schemas::load();
    let clock = adebox::clock::Clock::manual(adebox::clock::Clock::system().now());
    let d = on_one_clock(&clock).await;
    let page = d.sandbox_admin().await;
    let receiver = Receiver::start().await;
    let (_, secret) = subscribe(&page, &receiver.url, &["adebox.TokenExpiring"], json!({})).await;
    let to = json!(["ops@example.org", "second@example.org"]);
    let (s, v) =
        put_settings(&page, smtp.settings(SMTP_PASSWORD, json!({"token_expiring": to}))).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let (token, uuid) = add_token(&d, &page, "North campus").await;
    let id = token["id"].as_str().unwrap().to_string();
    let expires: time::OffsetDateTime = time::OffsetDateTime::parse(
        token["expires_at"].as_str().unwrap(),
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap();

    // Ten days before expiry: the 14-day step, announced once. (The push certificate, a year
    // long too, is in its own step by then: its alert is another kind, on the same topic.)
    clock.set(expires - time::Duration::days(10));
    // The session of a year ago has expired: sign in again.
    let (status, body, page) = d.login("admin", PASSWORD).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let v = alerts_until(&page, |v| token_alert(v).is_some()).await;
    let alert = token_alert(&v).unwrap();
    assert_eq!(alert["level"], "14d", "{v}");
    assert_eq!(alert["fix_path"], format!("/admin/tokens/{id}#renew"));
    let mail = smtp.wait_for(1).await;
    assert!(mail[0].contains("North campus"), "{}", mail[0]);
    assert!(mail[0].contains(&format!("/admin/tokens/{id}#renew")), "the fix: {}", mail[0]);
    assert!(mail[0].contains("X-Envelope-To: ops@example.org,second@example.org"), "{}", mail[0]);
    let events = token_events(&receiver, 1).await;
    let event = events[0].json();
    assert_eq!(event["topic"], "adebox.TokenExpiring");
    assert!(event["adebox_event"]["fix_url"].as_str().unwrap().ends_with("#renew"));
    assert!(events[0].signed_with(&secret));
    for got in receiver.received() {
        schemas.check(&got.json());
    }

    // Many more evaluations: nothing new.
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(smtp.messages().len(), 1, "one e-mail per state change");
    assert_eq!(token_events(&receiver, 1).await.len(), 1, "one event per state change");

    // Renewed: resolved, once.
    renew_token(&page, &uuid, &id).await;
    let v = alerts_until(&page, |v| token_alert(v).is_none()).await;
    let resolved = v["recent"].as_array().unwrap().iter().find(|e| e["kind"] == "token_expiring");
    assert_eq!(resolved.unwrap()["change"], "resolved", "{v}");
    let mail = smtp.wait_for(2).await;
    assert!(mail[1].contains("Subject: [adebox] Resolved: "), "{}", mail[1]);
    let events = token_events(&receiver, 2).await;
    let event = events[1].json();
    assert_eq!(event["adebox_event"]["kind"], "token_expiring_resolved");
    schemas.check(&event);
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!((smtp.messages().len(), token_events(&receiver, 2).await.len()), (2, 2));
}

/// The active token-expiry alert, if any.
fn token_alert(v: &Value) -> Option<Value> {
    v["active"].as_array()?.iter().find(|a| a["kind"] == "token_expiring").cloned()
}

/// The token-expiry events received, once there are `n` (20 s at most).
async fn token_events(receiver: &Receiver, n: usize) -> Vec<crate::webhooks::Received> {
    for _ in 0..200 {
        let got: Vec<_> = receiver
            .received()
            .into_iter()
            .filter(|r| {
                r.json()["adebox_event"]["kind"]
                    .as_str()
                    .unwrap_or("")
                    .starts_with("token_expiring")
            })
            .collect();
        if got.len() >= n {
            return got;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("fewer than {n} token expiry events arrived");
}

#[tokio::test]
async fn sync_failing_twice_in_a_row_alerts_and_the_page_lists_it() {
    let Some(smtp) = Smtp::start() else { return };
    let clock = adebox::clock::Clock::manual(adebox::clock::Clock::system().now());
    let d = TestDaemon::with_simulator_alerting_at(clock.clone()).await;
    let page = d.sandbox_admin().await;
    let (s, v) = put_settings(
        &page,
        smtp.settings(SMTP_PASSWORD, json!({"sync_failing": ["ops@example.org"]})),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let (token, _) = add_token(&d, &page, "South campus").await;
    let id = token["id"].as_str().unwrap().to_string();
    d.sim().set_faults(adebox::sim::dep::faults::Faults {
        server_error_rate: 1.0,
        ..Default::default()
    });
    let failing = |v: &Value| {
        v["active"].as_array().is_some_and(|a| a.iter().any(|a| a["kind"] == "sync_failing"))
    };
    let token_id = adebox::ids::TokenId::parse(&id).unwrap();
    for run in 1..=2u32 {
        clock.advance(time::Duration::hours(1));
        // The run's own result is the failure the alert reports; the status below counts it.
        let _ = d.running().services.sync.run_now(&token_id, adebox::sync::RunKind::Full).await;
        let status = d.running().services.sync.status(&token_id, false).await.unwrap();
        assert!(status.consecutive_failures >= run, "run {run} failed: {status:?}");
        if run == 1 {
            // Only while the count stays at one (the sync supervisor may run on its own): the
            // rules ran several times meanwhile and raised nothing.
            tokio::time::sleep(Duration::from_secs(1)).await;
            let count = || async {
                d.running()
                    .services
                    .sync
                    .status(&token_id, false)
                    .await
                    .unwrap()
                    .consecutive_failures
            };
            let before = count().await;
            let (_, v) = page.get("/api/v1/alerts").await;
            if before == 1 && count().await == 1 {
                assert!(!failing(&v), "one failure is not an alert: {v}");
            }
        }
    }
    alerts_until(&page, failing).await;
    let mail = smtp.wait_for(1).await;
    assert!(mail[0].contains("South campus"), "{}", mail[0]);
    assert!(mail[0].contains(&format!("/admin/tokens/{id}#token-sync")), "{}", mail[0]);
    let sent = |v: &Value| {
        v["recent"].as_array().and_then(|r| r.iter().find(|e| e["kind"] == "sync_failing")).cloned()
    };
    let v = alerts_until(&page, |v| sent(v).is_some_and(|e| e["mail"] == "sent")).await;
    assert_eq!(sent(&v).unwrap()["recipients"], json!(["ops@example.org"]));
}

/// Parses an RFC 3339 time of an API answer.
fn at(v: &Value) -> time::OffsetDateTime {
    let text = v.as_str().unwrap_or_else(|| panic!("not a time: {v}"));
    time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339).unwrap()
}

#[tokio::test]
async fn a_raised_alert_is_not_sent_again_after_a_restart_and_its_resolution_is_sent_once() {
    let Some(smtp) = Smtp::start() else { return };
    let clock = adebox::clock::Clock::manual(adebox::clock::Clock::system().now());
    let mut d = on_one_clock(&clock).await;
    let page = d.sandbox_admin().await;
    let receiver = Receiver::start().await;
    subscribe(&page, &receiver.url, &["adebox.TokenExpiring"], json!({})).await;
    let to = json!({"token_expiring": ["ops@example.org"]});
    let (s, v) = put_settings(&page, smtp.settings(SMTP_PASSWORD, to)).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let (token, uuid) = add_token(&d, &page, "West campus").await;
    let id = token["id"].as_str().unwrap().to_string();
    clock.set(at(&token["expires_at"]) - time::Duration::days(10));
    let (_, _, page) = d.login("admin", PASSWORD).await;
    let v = alerts_until(&page, |v| token_alert(v).is_some()).await;
    let since = token_alert(&v).unwrap()["since"].clone();
    smtp.wait_for(1).await;
    token_events(&receiver, 1).await;

    // Restart on the same data directory, the same clock and the same Apple side.
    let (sim, apns) = (d.sim.take().unwrap(), d.apns.take().unwrap());
    let dir = d.stop().await;
    let d = start_on_clock(&clock, dir, sim, apns).await;
    let (s, body, page) = d.login("admin", PASSWORD).await;
    assert_eq!(s, StatusCode::OK, "{body}");
    // The restarted rules run every 300 ms and find the alert already announced.
    let v = alerts_until(&page, |v| token_alert(v).is_some()).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(token_alert(&v).unwrap()["since"], since, "the same alert, not a new one");
    assert_eq!(smtp.messages().len(), 1, "not e-mailed again after the restart");
    assert_eq!(token_events(&receiver, 1).await.len(), 1, "not published again");

    // The state clears (the token renewed): "resolved" is sent, once.
    renew_token(&page, &uuid, &id).await;
    alerts_until(&page, |v| token_alert(v).is_none()).await;
    let mail = smtp.wait_for(2).await;
    assert!(mail[1].contains("Subject: [adebox] Resolved: "), "{}", mail[1]);
    let events = token_events(&receiver, 2).await;
    assert_eq!(events[1].json()["adebox_event"]["kind"], "token_expiring_resolved");
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!((smtp.messages().len(), token_events(&receiver, 2).await.len()), (2, 2));
}

#[tokio::test]
async fn removing_the_smtp_settings_erases_the_password_and_is_audited() {
    let d = TestDaemon::start().await;
    let page = d.setup_admin().await;
    let smtp = json!({"smtp": {
        "host": "smtp.example.org", "port": 587, "security": "starttls",
        "username": "alerts", "password": SMTP_PASSWORD, "from": "adebox@example.org",
    }, "recipients": {"test": ["ops@example.org"]}});
    let (s, v) = put_settings(&page, smtp.clone()).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let (s, v) = page.send(reqwest::Method::DELETE, "/api/v1/alerts/settings/smtp", None).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert!(v["smtp"].is_null(), "{v}");
    let recipients = v["kinds"].as_array().unwrap().iter().find(|k| k["kind"] == "test").cloned();
    assert_eq!(recipients.unwrap()["recipients"], json!(["ops@example.org"]), "recipients stay");
    let (s, v) = page.post("/api/v1/alerts/test", json!({})).await;
    assert_eq!(s, StatusCode::CONFLICT, "no SMTP server any more: {v}");
    // Setting the server again without a password does not bring the old one back.
    let mut again = smtp;
    again["smtp"].as_object_mut().unwrap().remove("password");
    let (s, v) = put_settings(&page, again).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["smtp"]["password_set"], false, "the password was erased: {v}");
    let (_, audit) = page.get("/api/v1/audit?limit=100").await;
    assert!(audit.to_string().contains("alerts.smtp_remove"), "{audit}");
    assert!(!audit.to_string().contains(SMTP_PASSWORD));
}

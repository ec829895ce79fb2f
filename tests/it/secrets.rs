//! Secrets never reach the logs: flows run with secrets of known values while every log record
//! of this test process is captured, then every captured line is searched for them.
//!
//! The capture is process-wide (the `log` facade has one logger), so other tests running at the
//! same time add their lines too; that only widens the search. A canary record proves the
//! capture is ours and working, so this test cannot pass by capturing nothing.

use crate::common::*;
use crate::tokens_api::sync_until;
use log::{LevelFilter, Log, Metadata, Record};
use reqwest::{Method, StatusCode};
use serde_json::json;
use std::sync::{Mutex, OnceLock};

static LINES: Mutex<Vec<String>> = Mutex::new(Vec::new());
static INSTALLED: OnceLock<bool> = OnceLock::new();

struct Capture;

impl Log for Capture {
    fn enabled(&self, _: &Metadata) -> bool {
        true
    }

    fn log(&self, record: &Record) {
        // Message and structured fields, as the journal and stderr loggers would write them.
        let mut line = format!("{} {}: {}", record.level(), record.target(), record.args());
        struct Fields<'a>(&'a mut String);
        impl<'kvs> log::kv::VisitSource<'kvs> for Fields<'_> {
            fn visit_pair(
                &mut self,
                key: log::kv::Key<'kvs>,
                value: log::kv::Value<'kvs>,
            ) -> Result<(), log::kv::Error> {
                self.0.push_str(&format!(" {key}={value}"));
                Ok(())
            }
        }
        let _ = record.key_values().visit(&mut Fields(&mut line));
        LINES.lock().unwrap_or_else(|e| e.into_inner()).push(line);
    }

    fn flush(&self) {}
}

pub(crate) fn capture_logs() {
    let ours = *INSTALLED.get_or_init(|| log::set_boxed_logger(Box::new(Capture)).is_ok());
    assert!(ours, "another logger was installed in the test process first");
    log::set_max_level(LevelFilter::Trace);
}

pub(crate) fn captured() -> Vec<String> {
    LINES.lock().unwrap_or_else(|e| e.into_inner()).clone()
}

pub(crate) fn assert_absent(lines: &[String], what: &str, secret: &str) {
    assert!(secret.len() >= 8, "{what} is too short to search for meaningfully");
    if let Some(line) = lines.iter().find(|l| l.contains(secret)) {
        panic!("{what} appears in a log line: {line}");
    }
}

#[tokio::test]
async fn no_secret_reaches_the_logs() {
    capture_logs();
    log::warn!(target: "adebox::secrets_test", "canary");

    // First-run setup (setup code, password), a failed and a good login (session cookie,
    // CSRF token), an API token used by a script.
    let d = TestDaemon::start().await;
    let setup_code = d.running().setup_code.as_ref().unwrap().expose().clone();
    let page = d.setup_admin().await;
    let (s, _, _) = d.login("alice", "wrong password 42").await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let login = d
        .client()
        .post(d.url("/api/v1/admin/login"))
        .json(&json!({"username": "alice", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), StatusCode::OK);
    let cookie = login.headers()["set-cookie"].to_str().unwrap().to_string();
    let session = cookie.split(';').next().unwrap().split_once('=').unwrap().1.to_string();
    let csrf = login.json::<serde_json::Value>().await.unwrap()["csrf_token"]
        .as_str()
        .unwrap()
        .to_string();
    let (s, created) = page.post("/api/v1/admin/api-tokens", json!({"name": "script"})).await;
    assert_eq!(s, StatusCode::CREATED);
    let api_token = created["token"].as_str().unwrap().to_string();
    let (s, _) =
        with_token(&d.client(), Method::GET, &d.url("/api/v1/status"), &api_token, None).await;
    assert_eq!(s, StatusCode::OK);
    let ca_key = std::fs::read_to_string(d.data_dir().join("tls/ca.key")).unwrap();
    let ca_key_body: String = ca_key.lines().filter(|l| !l.starts_with("-----")).collect();

    // A server token added through the simulated Apple Business Manager, then a sync with
    // it (OAuth secrets, the session Apple hands out).
    let s = TestDaemon::with_simulator().await;
    let admin = s.sandbox_admin().await;
    let (token, uuid) = add_token(&s, &admin, "Secrets test").await;
    let token_id = token["id"].as_str().unwrap().to_string();
    s.sim().add_devices(Some(&uuid), 3).unwrap();
    sync_until(&s, &admin, &token_id, 3).await;
    let oauth = s.sim().with_world(|w| {
        let id = w.server_by_uuid(&uuid).unwrap();
        w.server(id).unwrap().token.clone()
    });

    // Alert e-mail through an SMTP server that is not there: the test send fails in words.
    let closed_smtp =
        std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let smtp = json!({"smtp": {"host": "127.0.0.1", "port": closed_smtp, "security": "tls",
        "username": "alerts", "password": "smtp-log-secret-77", "from": "adebox@example.org"}});
    let (s, _) = page.send(Method::PUT, "/api/v1/alerts/settings", Some(smtp)).await;
    assert_eq!(s, StatusCode::OK);
    let (s, sent) = page.post("/api/v1/alerts/test", json!({"to": ["ops@example.org"]})).await;
    assert_eq!((s, sent["sent"].clone()), (StatusCode::OK, json!(false)), "{sent}");

    // A production daemon whose proxy wants a password: its start logs the proxy in use.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let proxied = crate::endpoints::serve_with(&format!(
        "[outbound]\nproxy = \"http://ops:proxy-secret-9@127.0.0.1:{closed}\"\n"
    ))
    .await;
    drop(proxied);

    let lines = captured();
    assert!(
        lines.iter().any(|l| l.contains(&format!("http://ops:***@127.0.0.1:{closed}"))),
        "the proxy in use is logged, redacted"
    );
    // The one-time setup code is the exception, by design: the journal is where the admin
    // who installed the package reads it (docs/admins.md "First sign-in"); it dies with the setup.
    assert!(lines.iter().any(|l| l.contains(&setup_code)), "the setup code is told to the admin");
    assert!(
        lines.iter().any(|l| l.contains("adebox::secrets_test: canary")),
        "the capture sees the logs"
    );
    assert!(lines.iter().any(|l| l.contains(&token_id)), "the flows above did log");
    for (what, secret) in [
        ("the admin password", PASSWORD),
        ("a mistyped password", "wrong password 42"),
        ("the session cookie", session.as_str()),
        ("the CSRF token", csrf.as_str()),
        ("the API token", api_token.as_str()),
        ("the CA private key", &ca_key_body[40..120]),
        ("the OAuth consumer secret", oauth.consumer_secret.expose().as_str()),
        ("the OAuth access token", oauth.access_token.expose().as_str()),
        ("the OAuth access secret", oauth.access_secret.expose().as_str()),
        ("the proxy password", "proxy-secret-9"),
        ("the SMTP password", "smtp-log-secret-77"),
    ] {
        assert_absent(&lines, what, secret);
    }
}

//! Sign-in under a flood, over HTTPS: wrong sign-ins from many addresses (each client bound
//! to its own loopback address, so the daemon sees distinct peers) get 429 once the bounded
//! password checks are full, while the real admin from another network still signs in; and
//! `adebox admin unlock` lifts a lockout.

use crate::common::{PASSWORD, TestDaemon, options};
use adebox::admin::{AdminOptions, GateLimits, HashCost};
use adebox::daemon::Mode;
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};
use std::net::IpAddr;
use std::time::{Duration, Instant};

/// A client whose connections come from `from`.
fn client_from(d: &TestDaemon, from: &str) -> Client {
    adebox::outbound::ensure_crypto_provider();
    let port = d.running().https_addrs[0].port();
    Client::builder()
        .tls_certs_only([reqwest::Certificate::from_pem(&d.ca_pem()).unwrap()])
        .local_address(from.parse::<IpAddr>().unwrap())
        .resolve("localhost", ([127, 0, 0, 1], port).into())
        .build()
        .unwrap()
}

async fn login(
    d: &TestDaemon,
    c: &Client,
    user: &str,
    password: &str,
) -> (StatusCode, Value, Option<String>) {
    let resp = c
        .post(d.url("/api/v1/admin/login"))
        .json(&json!({"username": user, "password": password}))
        .send()
        .await
        .unwrap();
    let status = resp.status();
    let retry = resp.headers().get("retry-after").map(|v| v.to_str().unwrap().to_string());
    (status, resp.json().await.unwrap_or(Value::Null), retry)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_flood_from_many_addresses_gets_429_while_the_admin_signs_in() {
    let dir = tempfile::tempdir().unwrap();
    let mut opts = options(dir.path(), Mode::Production);
    // A cost that takes a while even here (argon2 is built optimised in tests too), and a
    // small gate, so the flood overflows it however slowly a loaded machine starts its
    // clients.
    opts.admin = AdminOptions {
        hash_cost: HashCost { memory_kib: 8192, passes: 3 },
        gate: GateLimits { workers: 1, queue: 4, per_address: 2 },
        ..Default::default()
    };
    let d = TestDaemon::start_with(dir, opts).await;
    d.setup_admin().await;

    let flood_until = Instant::now() + Duration::from_secs(5);
    let mut flood = Vec::new();
    for i in 1..=60 {
        let c = client_from(&d, &format!("127.0.1.{i}"));
        let base = d.url("/api/v1/admin/login");
        flood.push(tokio::spawn(async move {
            let mut answers = Vec::new();
            while Instant::now() < flood_until {
                let resp = c
                    .post(&base)
                    .json(&json!({"username": "root", "password": "a wrong guess"}))
                    .send()
                    .await
                    .unwrap();
                let retry = resp.headers().contains_key("retry-after");
                let status = resp.status();
                let body: Value = resp.json().await.unwrap_or(Value::Null);
                answers.push((status, body["error"].as_str().unwrap_or("").to_string(), retry));
                if status == StatusCode::TOO_MANY_REQUESTS {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
            answers
        }));
    }
    tokio::time::sleep(Duration::from_millis(1000)).await;

    // The admin's browser has its connection open already (the sign-in page loaded).
    let admin = client_from(&d, "127.0.2.1");
    admin.get(d.url("/healthz")).send().await.unwrap();
    let (status, body, _) = login(&d, &admin, "alice", PASSWORD).await;
    assert_eq!(status, StatusCode::OK, "the admin signs in during the flood: {body}");
    let admin_in = Instant::now();

    let mut answers = Vec::new();
    for f in flood {
        answers.extend(f.await.unwrap());
    }
    assert!(
        admin_in < flood_until,
        "the admin got in only after the flood ended: starved behind it"
    );
    let busy =
        answers.iter().filter(|(s, e, _)| *s == StatusCode::TOO_MANY_REQUESTS && e == "busy");
    let busy: Vec<_> = busy.collect();
    assert!(!busy.is_empty(), "the flood overflowed the bounded checks: {answers:?}");
    assert!(busy.iter().all(|(_, _, retry)| *retry), "every 429 says when to retry");
    assert!(
        answers.iter().all(|(s, _, _)| matches!(
            *s,
            StatusCode::UNAUTHORIZED | StatusCode::TOO_MANY_REQUESTS
        )),
        "a wrong sign-in is refused, never an error: {answers:?}"
    );
}

#[tokio::test]
async fn unlock_from_the_command_line_lifts_a_lockout() {
    let d = TestDaemon::start().await;
    let page = d.setup_admin().await;
    let c = client_from(&d, "127.0.3.1");
    for _ in 0..5 {
        login(&d, &c, "alice", "a wrong guess").await;
    }
    let (status, body, retry) = login(&d, &c, "alice", PASSWORD).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::TOO_MANY_REQUESTS, Some("locked_out"))
    );
    assert!(retry.is_some());
    // Another address is not locked.
    let (status, _, _) = login(&d, &client_from(&d, "127.0.3.2"), "alice", PASSWORD).await;
    assert_eq!(status, StatusCode::OK);

    let req = adebox::control::Request::Unlock {
        address: Some("127.0.3.1".parse().unwrap()),
        username: None,
    };
    let resp = adebox::control::call(&d.data_dir(), &req).await.unwrap();
    assert!(resp.ok && resp.message.contains("127.0.3.1"), "{}", resp.message);
    let (status, body, _) = login(&d, &c, "alice", PASSWORD).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (_, audit) = page.get("/api/v1/audit?action=admin.unlock").await;
    let entries = audit["items"].as_array().expect("audit items");
    assert!(
        entries.iter().any(|e| e["action"] == "admin.unlock"
            && e["detail"].as_str().is_some_and(|d| d.contains("127.0.3.1"))),
        "the unlock is in the audit log: {audit}"
    );
}

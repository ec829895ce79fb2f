//! `GET /metrics`: after a fleet of simulated devices enrolled against a sandbox daemon, the
//! scrape parses with an independent Prometheus text-format parser and the figures moved
//! (HTTP requests, check-ins, syncs, assignments, pushes, the funnel, commits), no label
//! carries a serial; the endpoint is off by default, and when on it answers only admins' API
//! tokens or the configured address ranges.

use crate::common::*;
use crate::enroll::fleet_with_default_profile;
use adebox::daemon::Mode;
use adebox::sim::apple_pki::StandInApplePki;
use adebox::sim::fleet::{Fleet, FleetDevice, FleetTarget, Progress};
use prometheus_parse::{Sample, Scrape, Value};
use reqwest::{Method, StatusCode};
use serde_json::json;
use std::sync::Arc;

fn parse(text: &str) -> Scrape {
    Scrape::parse(text.lines().map(|l| Ok(l.to_string()))).expect("the scrape parses")
}

/// The value of the sample named `metric` whose labels include `labels` (0 when absent); a
/// histogram's value is its observation count.
fn value(scrape: &Scrape, metric: &str, labels: &[(&str, &str)]) -> f64 {
    scrape
        .samples
        .iter()
        .filter(|s: &&Sample| s.metric == metric)
        .filter(|s| labels.iter().all(|(k, v)| s.labels.get(k) == Some(*v)))
        .map(|s| match &s.value {
            Value::Counter(v) | Value::Gauge(v) | Value::Untyped(v) => *v,
            Value::Histogram(b) => b.iter().map(|c| c.count).fold(0.0, f64::max),
            Value::Summary(_) => 0.0,
        })
        .sum()
}

async fn scrape(d: &TestDaemon, token: Option<&str>) -> (StatusCode, String, String) {
    let mut req = d.client().get(d.url("/metrics"));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status();
    let ctype = resp
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    (status, ctype, resp.text().await.unwrap())
}

#[tokio::test]
async fn a_scrape_after_a_fleet_enrolled_parses_and_every_family_moved() {
    let now = adebox::clock::Clock::system().now();
    let pki = Arc::new(StandInApplePki::generate(now - time::Duration::days(1)).unwrap());
    let (d, page, _, serials) = fleet_with_default_profile(&pki, 4).await;
    let target = FleetTarget {
        profile_url: d.url("/enroll/machineinfo"),
        ca_pem: String::from_utf8(d.ca_pem()).unwrap(),
        resolve_to: None,
    };
    let fleet = Fleet::new(target, pki.clone()).unwrap().woken_by(d.apns().feed());
    let mut devices: Vec<FleetDevice> =
        serials.iter().enumerate().map(|(i, s)| FleetDevice::for_serial(s, i)).collect();
    devices.push(FleetDevice::for_serial("UNKNOWNMETRIC1", 4));
    let report = fleet.run(&devices, 3, &Progress::default(), now).await;
    assert_eq!(report.enrolled, 4, "{report:?}");

    // A session cookie is not enough, and neither is no credential at all.
    let (s, _) = page.get("/metrics").await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let (s, _, body) = scrape(&d, None).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED, "{body}");
    assert!(body.contains("Bearer"), "the refusal says how: {body}");
    let (s, _, _) = scrape(&d, Some("not-a-token")).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);

    let (s, created) = page.post("/api/v1/admin/api-tokens", json!({"name": "prometheus"})).await;
    assert_eq!(s, StatusCode::CREATED, "{created}");
    let token = created["token"].as_str().unwrap().to_string();
    let (s, ctype, text) = scrape(&d, Some(&token)).await;
    assert_eq!(s, StatusCode::OK, "{text}");
    assert!(ctype.starts_with("text/plain; version=0.0.4"), "{ctype}");
    let m = parse(&text);
    let v = |metric: &str, labels: &[(&str, &str)]| value(&m, metric, labels);

    assert!(
        v("adebox_http_requests_total", &[("class", "mdm_checkin"), ("status", "200")]) >= 8.0,
        "{text}"
    );
    assert!(v("adebox_http_requests_total", &[("class", "enroll")]) >= 5.0, "{text}");
    assert!(v("adebox_http_requests_total", &[("class", "api"), ("status", "201")]) >= 1.0);
    assert!(v("adebox_http_request_duration_seconds", &[("class", "acme")]) >= 1.0, "{text}");
    assert_eq!(v("adebox_mdm_checkins_total", &[("message_type", "Authenticate")]), 4.0, "{text}");
    assert!(v("adebox_mdm_checkins_total", &[("message_type", "TokenUpdate")]) >= 4.0);
    assert!(v("adebox_mdm_command_results_total", &[("status", "Acknowledged")]) >= 4.0, "{text}");
    assert!(v("adebox_sync_runs_total", &[("outcome", "completed")]) >= 1.0, "{text}");
    assert!(v("adebox_sync_run_duration_seconds", &[]) >= 1.0, "{text}");
    assert!(v("adebox_assignment_devices_total", &[("outcome", "assigned")]) >= 4.0, "{text}");
    assert!(v("adebox_apns_pushes_total", &[("result", "accepted")]) >= 1.0, "{text}");
    assert_eq!(v("adebox_devices", &[("lifecycle", "enrolled")]), 4.0, "{text}");
    assert_eq!(v("adebox_funnel_devices", &[("stage", "released")]), 4.0, "{text}");
    assert_eq!(v("adebox_enrollment_events_total", &[("step", "certificate_issued")]), 4.0);
    assert_eq!(v("adebox_enrollment_events_total", &[("step", "refused")]), 1.0, "{text}");
    assert_eq!(
        v("adebox_enrollment_recent_refusals", &[("reason", "unknown_device")]),
        1.0,
        "{text}"
    );
    assert!(v("adebox_store_commit_duration_seconds", &[]) >= 10.0, "{text}");
    assert!(v("adebox_store_commits_total", &[]) >= 10.0, "{text}");
    assert!(v("adebox_store_size_bytes", &[]) > 0.0, "{text}");
    for serial in serials.iter().map(String::as_str).chain(["UNKNOWNMETRIC1"]) {
        assert!(!text.contains(serial), "no label carries a serial: {serial}");
    }
    // docs/metrics.md documents exactly what is served (a family with no sample yet is not
    // written at all: no webhook was delivered here).
    let documented: Vec<&str> = include_str!("../../docs/metrics.md")
        .lines()
        .filter_map(|l| l.strip_prefix("| `adebox_")?.split('`').next())
        .filter(|name| *name != "webhook_deliveries_total")
        .collect();
    let mut served: Vec<&str> = m.docs.keys().filter_map(|k| k.strip_prefix("adebox_")).collect();
    served.sort();
    let mut documented_sorted = documented.clone();
    documented_sorted.sort();
    assert_eq!(documented_sorted, served, "docs/metrics.md lists every metric served");
    assert!(documented.len() >= 19, "the table was read: {documented:?}");
    // Counters only grow: the scrape itself is counted in the next one.
    let (_, _, again) = scrape(&d, Some(&token)).await;
    let m2 = parse(&again);
    let metrics_class = [("class", "metrics"), ("status", "200")];
    assert!(value(&m2, "adebox_http_requests_total", &metrics_class) >= 1.0, "{again}");
}

#[tokio::test]
async fn metrics_are_off_by_default_and_when_on_answer_only_tokens_or_listed_ranges() {
    let start = |metrics: adebox::config::MetricsConfig| async move {
        let dir = tempfile::tempdir().unwrap();
        let mut opts = options(dir.path(), Mode::Production);
        opts.config.metrics = metrics;
        TestDaemon::start_with(dir, opts).await
    };
    let toml = |t: &str| {
        adebox::config::Config::parse(t, std::path::Path::new("adebox.toml")).unwrap().metrics
    };

    let off = start(toml("")).await;
    let (s, _, body) = scrape(&off, None).await;
    assert_eq!(s, StatusCode::NOT_FOUND, "{body}");
    assert!(body.contains("metrics.") || body.contains("[metrics]"), "says how: {body}");
    let page = off.setup_admin().await;
    let (_, created) = page.post("/api/v1/admin/api-tokens", json!({"name": "p"})).await;
    let token = created["token"].as_str().unwrap().to_string();
    assert_eq!(scrape(&off, Some(&token)).await.0, StatusCode::NOT_FOUND);
    off.stop().await;

    // The test client is on 127.0.0.1: inside the listed range, no token is needed.
    let inside =
        start(toml("[metrics]\nenabled = true\nallow = [\"127.0.0.0/8\", \"::1\"]\n")).await;
    let (s, _, text) = scrape(&inside, None).await;
    assert_eq!(s, StatusCode::OK, "{text}");
    assert!(value(&parse(&text), "adebox_store_commits_total", &[]) >= 1.0, "{text}");
    inside.stop().await;

    // Outside it, an admin's API token is still enough; a bearer that is none is not.
    let outside = start(toml("[metrics]\nenabled = true\nallow = [\"10.0.0.0/8\"]\n")).await;
    assert_eq!(scrape(&outside, None).await.0, StatusCode::UNAUTHORIZED);
    let page = outside.setup_admin().await;
    let (_, created) = page.post("/api/v1/admin/api-tokens", json!({"name": "p"})).await;
    let token = created["token"].as_str().unwrap().to_string();
    let (s, _, text) = scrape(&outside, Some(&token)).await;
    assert_eq!(s, StatusCode::OK, "{text}");
    let (s, _) =
        with_token(&outside.client(), Method::GET, &outside.url("/metrics"), "x", None).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
}

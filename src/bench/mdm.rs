//! `adebox bench mdm`: enrolled devices polling the MDM server with nothing to do — what a
//! site's fleet costs the appliance all day. Each device holds an identity the appliance
//! issued (through the same issuing path SCEP uses), checks in over HTTPS with it as the TLS
//! client certificate (Authenticate, TokenUpdate), then polls `Idle` on its kept-alive
//! connection; `concurrency` devices poll at a time.

use super::{peak_rss_mb, round};
use crate::daemon::{self, DaemonOptions, Mode};
use crate::ids::{Serial, Udid};
use crate::sim::fleet::mdm_message as plist;
use crate::sim::fleet::report::percentile;
use plist::Value;
use rcgen::PublicKeyData;
use reqwest::Client;
use serde::Serialize;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The result of `bench mdm`.
#[derive(Debug, Serialize)]
pub struct MdmBench {
    pub devices: usize,
    pub concurrency: usize,
    /// Idle polls answered.
    pub polls: usize,
    pub wall_s: f64,
    /// Polls per second.
    pub per_s: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub peak_rss_mb: f64,
}

struct BenchDevice {
    udid: String,
    http: Client,
}

/// Enrolls `devices` devices, then has each poll `polls_per_device` times, `concurrency`
/// devices at a time.
pub async fn mdm(
    devices: usize,
    polls_per_device: usize,
    concurrency: usize,
) -> anyhow::Result<MdmBench> {
    let dir = tempfile::tempdir()?;
    let config =
        crate::config::Config::for_sandbox(dir.path().to_path_buf(), "127.0.0.1:0".parse()?);
    let running = daemon::start(DaemonOptions::new(config, Mode::Production)).await?;
    let addr = running.https_addrs[0];
    let base = format!("https://localhost:{}/mdm", addr.port());
    let ca = reqwest::Certificate::from_pem(&std::fs::read(dir.path().join("tls/ca.pem"))?)?;

    let mut fleet = Vec::with_capacity(devices);
    for i in 0..devices {
        let d = enroll_one(&running, &base, &ca, addr, i).await?;
        fleet.push(d);
    }

    let fleet = Arc::new(fleet);
    let workers = concurrency.clamp(1, devices.max(1));
    let started = Instant::now();
    let mut tasks = Vec::with_capacity(workers);
    for w in 0..workers {
        let fleet = fleet.clone();
        let url = format!("{base}/connect");
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            for _ in 0..polls_per_device {
                for d in fleet.iter().skip(w).step_by(workers) {
                    let t = Instant::now();
                    let body = put(&d.http, &url, idle(&d.udid)).await?;
                    anyhow::ensure!(body.is_empty(), "an idle device was sent a command");
                    latencies.push(t.elapsed().as_secs_f64() * 1000.0);
                }
            }
            Ok::<_, anyhow::Error>(latencies)
        }));
    }
    let mut latencies = Vec::new();
    for t in tasks {
        latencies.extend(t.await??);
    }
    let wall = started.elapsed().as_secs_f64();
    let result = MdmBench {
        devices,
        concurrency: workers,
        polls: latencies.len(),
        wall_s: round(wall),
        per_s: round(latencies.len() as f64 / wall),
        p50_ms: percentile(&mut latencies, 0.50),
        p99_ms: percentile(&mut latencies, 0.99),
        peak_rss_mb: round(peak_rss_mb()),
    };
    running.shutdown().await;
    Ok(result)
}

/// A device with a new key, an identity issued to its serial and UDID, checked in and
/// enrolled (not awaiting configuration, so nothing is queued for it).
async fn enroll_one(
    running: &daemon::Running,
    base: &str,
    ca: &reqwest::Certificate,
    addr: std::net::SocketAddr,
    i: usize,
) -> anyhow::Result<BenchDevice> {
    let serial = Serial::parse(&format!("MB{i:08}"))?;
    let udid = Udid::parse(&format!("00008110-{i:016X}"))?;
    let key = rcgen::KeyPair::generate()?;
    let spki = key.subject_public_key_info();
    let now = crate::clock::Clock::system().now();
    let acme = running.services.acme.clone();
    let (s, u) = (serial.clone(), udid.clone());
    let der = running
        .services
        .store
        .write(move |wtx| acme.issue_proven_in(wtx, &spki, &s, &u, "bench", now))
        .await?;
    let leaf = der::pem::encode_string("CERTIFICATE", der::pem::LineEnding::LF, &der)
        .map_err(|e| anyhow::anyhow!("the issued certificate: {e}"))?;
    let identity =
        reqwest::Identity::from_pem(format!("{leaf}\n{}", key.serialize_pem()).as_bytes())?;
    let http = Client::builder()
        .tls_certs_only([ca.clone()])
        .identity(identity)
        .resolve("localhost", addr)
        .timeout(Duration::from_secs(30))
        .build()?;
    let checkin = format!("{base}/checkin");
    let topic = "com.apple.mgmt.External.bench";
    let authenticate = plist(&[
        ("MessageType", "Authenticate".into()),
        ("UDID", udid.as_str().into()),
        ("Topic", topic.into()),
        ("SerialNumber", serial.as_str().into()),
    ]);
    put(&http, &checkin, authenticate).await?;
    let token_update = plist(&[
        ("MessageType", "TokenUpdate".into()),
        ("UDID", udid.as_str().into()),
        ("Topic", topic.into()),
        ("Token", Value::Data(crate::crypto::random_bytes::<32>().to_vec())),
        ("PushMagic", crate::apple::enroll_profile::random_uuid().into()),
        ("AwaitingConfiguration", false.into()),
    ]);
    put(&http, &checkin, token_update).await?;
    Ok(BenchDevice { udid: udid.into_string(), http })
}

fn idle(udid: &str) -> Vec<u8> {
    plist(&[("UDID", udid.into()), ("Status", "Idle".into())])
}

async fn put(http: &Client, url: &str, body: Vec<u8>) -> anyhow::Result<Vec<u8>> {
    let resp = http.put(url).body(body).send().await?;
    let status = resp.status();
    let body = resp.bytes().await?;
    anyhow::ensure!(
        status.is_success(),
        "{url}: {status} {}",
        String::from_utf8_lossy(&body[..body.len().min(300)])
    );
    Ok(body.to_vec())
}

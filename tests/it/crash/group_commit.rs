//! Group commit under kills: many API clients create API tokens at once against `adebox
//! sandbox` (each creation one grouped write, each authenticated request one more for the
//! token's last use), and the sandbox is killed with SIGKILL at seeded random points in the
//! storm. After the last restart every token the API answered `201 Created` for must be
//! listed and must still authenticate: an answered write was durable.

use super::{Sandbox, client_when_ready, env_u64, free_port, get_json, kills, log_tail};
use reqwest::Client;
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Clients writing at once: enough that the writer finds many changes waiting.
const WRITERS: usize = 48;

/// The tokens the API acknowledged: name and secret.
type Acked = Arc<Mutex<Vec<(String, String)>>>;

/// One client creating tokens one after another until its requests fail (the kill).
async fn create_until_killed(
    url: String,
    client: Client,
    admin: String,
    run: u64,
    w: usize,
    acked: Acked,
) {
    for i in 0.. {
        let name = format!("storm {run}-{w}-{i}");
        let sent =
            client.post(&url).bearer_auth(&admin).json(&json!({ "name": name })).send().await;
        let Ok(resp) = sent else { return };
        if resp.status() != reqwest::StatusCode::CREATED {
            return;
        }
        // The answer is the acknowledgement: from here on the token must survive.
        let Ok(body) = resp.json::<Value>().await else { return };
        let secret = body["token"].as_str().unwrap_or_default().to_string();
        acked.lock().unwrap().push((name, secret));
    }
}

#[tokio::test]
async fn acknowledged_grouped_writes_survive_kills() {
    let (_, mut rng, _root, data) = kills(0x6c0c);
    let runs = env_u64("ADEBOX_CRASH_RUNS", 12);
    let port = free_port();
    let acked: Acked = Arc::default();
    let started = Instant::now();
    for run in 0..runs {
        let mut sb = Sandbox::start_on(&data, 4, port);
        let (client, admin) = client_when_ready(&mut sb, &data, Duration::from_secs(60)).await;
        let url = sb.url("/api/v1/admin/api-tokens");
        let storm: Vec<_> = (0..WRITERS)
            .map(|w| {
                let (url, client, admin, acked) =
                    (url.clone(), client.clone(), admin.clone(), acked.clone());
                tokio::spawn(create_until_killed(url, client, admin, run, w, acked))
            })
            .collect();
        let at = Duration::from_millis(200 + rng.below(1300));
        tokio::time::sleep(at).await;
        sb.kill();
        for writer in storm {
            let _ = writer.await;
        }
        eprintln!(
            "group commit crash run {run}: killed after {at:?}; {} acknowledged so far",
            acked.lock().unwrap().len()
        );
    }

    let mut sb = Sandbox::start_on(&data, 4, port);
    let (client, admin) = client_when_ready(&mut sb, &data, Duration::from_secs(60)).await;
    let listed = get_json(&sb, &client, &admin, "/api/v1/admin/api-tokens").await;
    let names: BTreeSet<&str> =
        listed["items"].as_array().unwrap().iter().filter_map(|t| t["name"].as_str()).collect();
    let acked = acked.lock().unwrap().clone();
    assert!(
        acked.len() > runs as usize,
        "the storm got too few answers to test anything: {}",
        acked.len()
    );
    let lost: Vec<&str> =
        acked.iter().map(|(n, _)| n.as_str()).filter(|n| !names.contains(n)).collect();
    assert!(
        lost.is_empty(),
        "{} of {} acknowledged tokens are lost after {runs} kills: {:?}…; the log ends:\n{}",
        lost.len(),
        acked.len(),
        &lost[..lost.len().min(5)],
        log_tail(&data)
    );
    // The secrets too: a token of every run still signs a script in.
    let mut checked = BTreeSet::new();
    for (name, secret) in &acked {
        let run = name.split(['-', ' ']).nth(1).unwrap_or_default().to_string();
        if checked.insert(run) {
            let resp =
                client.get(sb.url("/api/v1/status")).bearer_auth(secret).send().await.unwrap();
            assert!(
                resp.status().is_success(),
                "{name} no longer authenticates: {}",
                resp.status()
            );
        }
    }
    eprintln!(
        "{runs} kills in a storm of {WRITERS} writers in {:?}: {} acknowledged tokens all kept",
        started.elapsed(),
        acked.len()
    );
}

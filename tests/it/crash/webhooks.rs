//! Webhook delivery under kills: `adebox sandbox` publishes test events to a subscription
//! whose receiver (tests/it/webhooks.rs) records every request, while the test kills the
//! sandbox with SIGKILL at seeded random points. After the last restart every event the API
//! acknowledged must reach the receiver, and an event that arrives again must carry a higher
//! `X-Adebox-Attempt` than the time before (never twice in a row without a retry reason).

use super::{Sandbox, client_when_ready, free_port, kills, log_tail};
use crate::webhooks::Receiver;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::time::Duration;

#[tokio::test]
async fn webhook_events_survive_kills_and_repeats_say_why() {
    let (runs, mut rng, _root, data) = kills(28);
    let runs = (runs / 10).max(3);
    let receiver = Receiver::start().await;
    let port = free_port();
    let mut sb = Sandbox::start_on(&data, 2, port);
    let (client, token) = client_when_ready(&mut sb, &data, Duration::from_secs(120)).await;
    let resp = client
        .post(sb.url("/api/v1/integrations/webhooks"))
        .bearer_auth(&token)
        .json(&json!({"name": "crash", "url": receiver.url, "topics": ["adebox.Alert"], "allow_http": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201, "{}", resp.text().await.unwrap());
    let id =
        resp.json::<Value>().await.unwrap()["subscription"]["id"].as_str().unwrap().to_string();

    let mut acknowledged = Vec::new();
    for _ in 0..runs {
        let (client, token) = client_when_ready(&mut sb, &data, Duration::from_secs(120)).await;
        // Publish events for a random while, then kill without warning.
        let deadline = tokio::time::Instant::now() + Duration::from_millis(rng.below(1500) + 100);
        while tokio::time::Instant::now() < deadline {
            let sent = client
                .post(sb.url(&format!("/api/v1/integrations/webhooks/{id}/test")))
                .bearer_auth(&token)
                .json(&json!({}))
                .send()
                .await;
            if let Ok(r) = sent
                && r.status().is_success()
            {
                acknowledged.push(
                    r.json::<Value>().await.unwrap()["event_id"].as_str().unwrap().to_string(),
                );
            }
        }
        sb.kill();
        sb = Sandbox::start_on(&data, 2, port);
    }
    client_when_ready(&mut sb, &data, Duration::from_secs(120)).await;
    // Every acknowledged event arrives (failed attempts are retried within seconds here: the
    // receiver always answers 200, only the kills interrupt).
    let mut by_event: BTreeMap<String, Vec<u64>> = BTreeMap::new();
    for _ in 0..600 {
        by_event.clear();
        for r in receiver.received() {
            let attempt = r.header("X-Adebox-Attempt").parse().unwrap();
            by_event.entry(r.header("X-Adebox-Event-Id").to_string()).or_default().push(attempt);
        }
        if acknowledged.iter().all(|e| by_event.contains_key(e)) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let missing: Vec<_> = acknowledged.iter().filter(|e| !by_event.contains_key(*e)).collect();
    assert!(missing.is_empty(), "events lost: {missing:?}\n{}", log_tail(&data));
    for (event, attempts) in &by_event {
        assert!(
            attempts.windows(2).all(|w| w[1] > w[0]),
            "event {event} sent again without a higher attempt: {attempts:?}"
        );
    }
    assert!(!acknowledged.is_empty());
}

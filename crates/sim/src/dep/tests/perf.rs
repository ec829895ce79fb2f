//! How fast a full fetch of 200,000 devices is (the sync benchmark's simulator half). Ignored
//! by default: run with `cargo test --release --lib sim::dep::tests::perf -- --ignored
//! --nocapture`.

use super::start;
use crate::dep::render;
use reqwest::Method;
use serde_json::json;
use std::time::Instant;

const DEVICES: usize = 200_000;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a benchmark; run in release"]
async fn full_fetch_of_200k_devices() {
    eprintln!("RSS before: {} MB", rss_mb());
    let t = Instant::now();
    let s = start(DEVICES).await;
    eprintln!("setup of {DEVICES} devices: {:?}, RSS {} MB", t.elapsed(), rss_mb());

    // Server side alone: one 1000-device page, taken and rendered without HTTP.
    let now = s.sim.now();
    let t = Instant::now();
    let page = s.sim.with_world(|w| w.fetch_page(s.server, None, 1000, now).unwrap());
    let taken = t.elapsed();
    let t = Instant::now();
    let bytes = serde_json::to_vec(&render::page(&page, 10)).unwrap();
    eprintln!(
        "first page: snapshot {taken:?}, render + serialize {:?} ({} bytes)",
        t.elapsed(),
        bytes.len()
    );

    let t = Instant::now();
    let mut body = json!({ "limit": 1000 });
    let (mut devices, mut pages) = (0, 0);
    loop {
        let r = s.call(Method::POST, "/server/devices", Some(&body)).await;
        assert_eq!(r.status, 200);
        let page: crate::apple::dep::FetchDeviceResponse = serde_json::from_str(&r.text).unwrap();
        devices += page.devices.len();
        pages += 1;
        if !page.more_to_follow {
            break;
        }
        body = json!({ "limit": 1000, "cursor": page.cursor });
    }
    let wall = t.elapsed();
    eprintln!(
        "full fetch over HTTPS: {devices} devices, {pages} pages in {wall:?} ({:.1} ms/page)",
        wall.as_secs_f64() * 1000.0 / pages as f64
    );
    eprintln!("RSS after the fetch: {} MB", rss_mb());
    assert_eq!(devices, DEVICES);
    s.sim.stop().await;
}

/// Resident set size of this process (Linux), for the memory half of the benchmark target.
fn rss_mb() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map_or(0, |kb| kb / 1024)
}

/// Memory of the simulated world alone (no server), for the benchmark's RSS budget.
#[test]
#[ignore = "a benchmark"]
fn memory_of_200k_devices() {
    use crate::dep::world::{Quirks, World};
    let before = rss_mb();
    let mut w = World::new(1, Quirks::default());
    let s = w.add_server("x", None, super::T0);
    w.add_devices(Some(s), DEVICES, &[], super::T0).unwrap();
    eprintln!(
        "world: {} MB -> {} MB; SimDevice is {} bytes",
        before,
        rss_mb(),
        std::mem::size_of::<crate::dep::device::SimDevice>()
    );
    let _p = w.fetch_page(s, None, 1000, super::T0).unwrap();
    eprintln!("after snapshot {} MB", rss_mb());
}

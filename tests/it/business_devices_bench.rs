//! `adebox bench org-devices` at a CI size: the Business simulator in its own process, the
//! sync, the list paged over HTTPS and the CSV export all run and report.

use std::process::Command;

#[test]
fn the_organisation_devices_benchmark_runs_and_reports_json() {
    let out = Command::new(env!("CARGO_BIN_EXE_adebox"))
        .args(["bench", "org-devices", "--devices", "1500", "--requests", "7", "--json"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(r["devices"], 1500, "{r}");
    assert_eq!(r["export_rows"], 1500, "the export has every device: {r}");
    assert_eq!(r["requests"], 7, "{r}");
    assert!(r["pages"].as_u64().unwrap() >= 4, "two device pages, servers, a server list: {r}");
    for key in ["sync_s", "sync_per_s", "p50_ms", "p99_ms", "export_s", "peak_rss_mb", "commits"] {
        assert!(r[key].as_f64().unwrap() > 0.0, "{key}: {r}");
    }
}

//! The size limits of the CSV uploads, through the daemon: an Apple Business action's CSV is
//! refused whole over 1,000 serials or over 1 MiB, with the limit and the fix (split the file)
//! named, and nothing is stored or sent to Apple; a profile assignment's CSV takes more than
//! the API's 1 MiB (a 200,000-device site's list) up to 5 MiB, and is refused beyond it with
//! the limit named.

use crate::business_world::{post_csv, world};
use crate::common::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

/// `n` serial numbers no device has, one per row under a header.
fn serials(n: usize) -> String {
    let mut csv = "serial\n".to_string();
    for i in 0..n {
        csv.push_str(&format!("C02LIM{i:06}\n"));
    }
    csv
}

/// Rows of `serial,note` with `note` long enough to make the file `bytes` long.
fn padded(serial: &str, bytes: usize) -> String {
    let note = "x".repeat(1000);
    let mut csv = format!("serial,note\n{serial},first\n");
    while csv.len() < bytes {
        csv.push_str(&format!("{serial},{note}\n"));
    }
    csv
}

/// A route's query parameters.
type Query<'a> = &'a [(&'a str, &'a str)];

fn message(e: &Value) -> &str {
    e["message"].as_str().unwrap_or_default()
}

#[tokio::test]
async fn an_apple_business_csv_over_its_limits_is_refused_whole_and_nothing_starts() {
    let w = world(1, 0).await;
    let (d, page, tid) = (&w.d, &w.page, w.tid.as_str());
    let assign = [("request_id", "lim-1"), ("action", "assign"), ("token", tid)];
    let release = [("request_id", "lim-2")];
    let routes: [(&str, Query, &str); 2] = [
        ("/business/actions/csv", &assign, "1001 devices"),
        ("/business/actions/release/csv", &release, "release 1001 devices"),
    ];
    for (path, query, confirm) in routes {
        // 1,001 serials: refused with the count, the limit and the fix, checked or sent.
        for check in [true, false] {
            let mut q = query.to_vec();
            q.push(("confirm", confirm));
            if check {
                q = vec![("check", "true")];
            }
            let (s, e) = post_csv(d, page, None, path, &q, serials(1001)).await;
            assert_eq!(
                (s, e["field"].as_str()),
                (StatusCode::UNPROCESSABLE_ENTITY, Some("csv")),
                "{path}: {e}"
            );
            let m = message(&e);
            assert!(m.contains("1001 devices") && m.contains("at most 1000"), "{m}");
            assert!(m.contains("split the file"), "{m}");
        }
        // Exactly 1,000 is read (and only checked here).
        let (s, ok) = post_csv(d, page, None, path, &[("check", "true")], serials(1000)).await;
        assert_eq!(s, StatusCode::OK, "{ok}");
        assert_eq!(ok["serials"].as_array().unwrap().len(), 1000);

        // Over 1 MiB, whatever it holds: 413 naming the limit and the fix.
        let mut q = query.to_vec();
        q.push(("confirm", "x"));
        let big = padded(&w.loose[0], 1024 * 1024 + 1);
        let (s, e) = post_csv(d, page, None, path, &q, big).await;
        assert_eq!(s, StatusCode::PAYLOAD_TOO_LARGE, "{path}: {e}");
        let m = message(&e);
        assert!(m.contains("1 MiB") && m.contains("split the file"), "{m}");
    }

    // Nothing was stored, audited as sent, or changed at Apple.
    let (_, list) = page.get("/api/v1/business/actions").await;
    assert_eq!(list["total"], 0, "{list}");
    let (_, audit) = page.get("/api/v1/audit?action=business.activity").await;
    assert!(!audit.to_string().contains("lim-"), "{audit}");
    let (_, at) = page.get(&format!("/api/v1/business/where/{}", w.loose[0])).await;
    assert_eq!(at["answer"], "unassigned", "{at}");
}

#[tokio::test]
async fn an_assignment_csv_takes_a_large_site_list_up_to_5_mib() {
    let d = TestDaemon::with_simulator().await;
    let page = d.sandbox_admin().await;
    let (s, p) = page
        .post("/api/v1/profiles", json!({"name": "Lab", "platforms": ["iOS", "iPadOS", "macOS"]}))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{p}");
    let query = format!("profile_id={}&dry_run=true", p["id"].as_str().unwrap());

    // Over the API's 1 MiB (a serial column with a note beside it): read and dry-run.
    let (s, dry) =
        crate::assignments_api::csv(&page, &query, padded("C02LIM000001", 2 << 20)).await;
    assert_eq!(s, StatusCode::OK, "{dry}");
    assert!(dry["summary"].is_object() || dry["summary"].is_array(), "{dry}");

    // Over 5 MiB: refused with the limit and the fix.
    let big = padded("C02LIM000001", 5 * 1024 * 1024 + 1);
    let (s, e) = crate::assignments_api::csv(&page, &query, big).await;
    assert_eq!(s, StatusCode::PAYLOAD_TOO_LARGE, "{e}");
    let m = message(&e);
    assert!(m.contains("5 MiB") && m.contains("200,000") && m.contains("split"), "{m}");
}

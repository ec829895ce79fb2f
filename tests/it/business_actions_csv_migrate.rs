//! Scheduling a migration and changing its deadline through the Apple Business CSV route,
//! against the simulated Apple Business: the file is checked first (nothing sent), the
//! deadline follows the single actions' rules (missing, in the past or beyond 90 days: refused
//! before anything is stored or sent), then each serial's outcome is told (a device on no MDM
//! server cannot be migrated: refused alone, with what to do) and the deadline reaches the
//! device records through the DEP sync.

use crate::assignments_api::wait_for;
use crate::business_actions::finished;
use crate::business_world::{World, days_from_now, listed, post_csv, world};
use reqwest::StatusCode;
use serde_json::Value;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

const PATH: &str = "/business/actions/csv";

/// Sends the CSV with `action`, the request id, the confirmation and `extra` parameters.
async fn send(
    w: &World,
    csv: &str,
    action: &str,
    request_id: &str,
    confirm: &str,
    extra: &[(&str, &str)],
) -> (StatusCode, Value) {
    let mut q = vec![("action", action), ("request_id", request_id), ("confirm", confirm)];
    q.extend_from_slice(extra);
    post_csv(&w.d, &w.page, None, PATH, &q, csv.to_string()).await
}

/// Asserts a 422 on the deadline whose message holds `words`.
fn refused_deadline((s, e): (StatusCode, Value), words: &str) {
    assert_eq!(
        (s, e["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("deadline")),
        "{e}"
    );
    assert!(e["message"].as_str().unwrap().contains(words), "{e}");
}

fn same_time(a: &Value, b: &str) -> bool {
    let at = |s: &str| OffsetDateTime::parse(s, &Rfc3339).ok();
    a.as_str().and_then(at).is_some_and(|a| Some(a) == at(b))
}

async fn actions_total(w: &World) -> Value {
    w.page.get("/api/v1/business/actions").await.1["total"].clone()
}

#[tokio::test]
async fn a_csv_schedules_a_migration_then_changes_its_deadline_with_the_single_actions_rules() {
    let w = world(1, 3).await;
    let (theirs, loose, tid) = (&w.theirs, &w.loose, w.tid.as_str());
    let csv = format!("serial\n{}\n{}\n{}\n{}\n", theirs[0], theirs[1], theirs[2], loose[0]);

    // The check reads the file only.
    let q = [("check", "true"), ("action", "migrate")];
    let (s, check) = post_csv(&w.d, &w.page, None, PATH, &q, csv.clone()).await;
    assert_eq!((s, check["confirm"].as_str()), (StatusCode::OK, Some("4 devices")), "{check}");
    assert_eq!(check["serials"].as_array().unwrap().len(), 4);

    // The deadline's rules, as for a single action: each refused before anything is sent.
    let token = [("token", tid)];
    refused_deadline(send(&w, &csv, "migrate", "mig-1", "4 devices", &token).await, "give");
    for (days, words) in [(-1, "1 to 90 days"), (0, "1 to 90 days"), (91, "no more than 90")] {
        let at = days_from_now(&w.d, days);
        let q = [("token", tid), ("deadline", at.as_str())];
        refused_deadline(send(&w, &csv, "migrate", "mig-1", "4 devices", &q).await, words);
    }
    assert_eq!(actions_total(&w).await, 0, "nothing stored or sent");

    // Scheduled: each serial's outcome; the device on no MDM server is refused alone.
    let deadline = days_from_now(&w.d, 30);
    let q = [("token", tid), ("deadline", deadline.as_str())];
    let (s, v) = send(&w, &csv, "migrate", "mig-1", "4 devices", &q).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let done = finished(&w.page, "mig-1").await;
    assert!(done["summary"].as_str().unwrap().contains("3 done, 1 refused"), "{done}");
    let results = done["results"].as_array().unwrap();
    assert_eq!(results.len(), 4, "{done}");
    for r in results {
        let serial = r["serial"].as_str().unwrap();
        if serial == loose[0] {
            assert_eq!(r["outcome"], "refused", "{r}");
            assert!(r["message"].as_str().unwrap().contains("not assigned"), "Apple's words: {r}");
            assert!(r["advice"].is_string(), "what to do: {r}");
        } else {
            assert_eq!(r["outcome"], "done", "{r}");
        }
    }
    // The same request again acts once.
    let (_, again) = send(&w, &csv, "migrate", "mig-1", "4 devices", &q).await;
    assert_eq!(again["apple_id"], done["apple_id"]);
    assert_eq!(actions_total(&w).await, 1);
    // The devices come to us with their deadline, through the sync that follows the action.
    for serial in theirs {
        let dev = listed(&w.page, serial, true).await;
        assert!(same_time(&dev["mdm_migration_deadline"], &deadline), "{dev}");
    }

    // A new deadline for two of them: the same rules (no MDM server to name).
    let two = format!("{}\n{}\n", theirs[0], theirs[1]);
    refused_deadline(send(&w, &two, "change_deadline", "mig-2", "2 devices", &[]).await, "give");
    let past = days_from_now(&w.d, -2);
    let q = [("deadline", past.as_str())];
    let refused = send(&w, &two, "change_deadline", "mig-2", "2 devices", &q).await;
    refused_deadline(refused, "1 to 90 days");
    assert_eq!(actions_total(&w).await, 1, "nothing stored or sent");
    let later = days_from_now(&w.d, 60);
    let q = [("deadline", later.as_str())];
    let (s, v) = send(&w, &two, "change_deadline", "mig-2", "2 devices", &q).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let changed = finished(&w.page, "mig-2").await;
    assert!(changed["summary"].as_str().unwrap().contains("2 done"), "{changed}");
    assert!(changed["results"].as_array().unwrap().iter().all(|r| r["outcome"] == "done"));
    crate::tokens_api::sync_until(&w.d, &w.page, tid, 3).await;
    for serial in &theirs[..2] {
        let path = format!("/api/v1/devices/{serial}");
        wait_for(&w.page, &path, "the new deadline", |d| {
            same_time(&d["mdm_migration_deadline"], &later)
        })
        .await;
    }
    // The third keeps its first deadline.
    let (_, third) = w.page.get(&format!("/api/v1/devices/{}", theirs[2])).await;
    assert!(same_time(&third["mdm_migration_deadline"], &deadline), "{third}");
}

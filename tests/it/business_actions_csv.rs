//! Apple Business actions for the serials of an uploaded CSV, through the daemon's API
//! against the simulated Apple Business: the file is checked first (nothing sent), then the
//! action goes through the same checks as a single one (typed confirmation, deadline, serials
//! the organisation does not own refused before any call, request id acting once), and
//! release keeps its own route, permission and stronger confirmation. The finished action
//! brings its devices into the devices list by itself: a sync follows it.

use crate::business_actions::finished;
use crate::business_world::{days_from_now, listed, post_csv, world};
use reqwest::StatusCode;
use serde_json::json;

fn assign<'a>(id: &'a str, token: &'a str, confirm: &'a str) -> [(&'a str, &'a str); 4] {
    [("request_id", id), ("action", "assign"), ("token", token), ("confirm", confirm)]
}

#[tokio::test]
async fn a_csv_is_checked_then_acted_on_once_and_its_devices_show_without_a_manual_sync() {
    let w = world(3, 0).await;
    let (d, page, tid, loose) = (&w.d, &w.page, &w.tid, &w.loose);
    let csv = format!("name,serial\nLab 1,{}\nLab 2,{}\nLab 3,{}\n", loose[0], loose[1], loose[2]);
    let path = "/business/actions/csv";

    // The check reads the file only: the serials, what to type, nothing sent.
    let (s, check) = post_csv(d, page, None, path, &[("check", "true")], csv.clone()).await;
    assert_eq!(s, StatusCode::OK, "{check}");
    let mut sorted = loose.clone();
    sorted.sort();
    assert_eq!(check["serials"], json!(sorted));
    assert_eq!(check["confirm"], "3 devices");
    let (_, list) = page.get("/api/v1/business/actions").await;
    assert_eq!(list["total"], 0, "a check sends nothing");

    // Refused in plain words before any call: no serial, a stranger, a wrong confirmation,
    // a deadline beyond 90 days.
    let (s, e) = post_csv(d, page, None, path, &[("check", "true")], "name\n??\n--\n".into()).await;
    assert_eq!((s, e["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("csv")), "{e}");
    assert!(e["message"].as_str().unwrap().contains("no serial numbers"), "{e}");
    let stranger = format!("{csv}Lab 4,NOTOURS00001\n");
    let q = assign("csv-1", tid, "4 devices");
    let (s, e) = post_csv(d, page, None, path, &q, stranger).await;
    assert_eq!(
        (s, e["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("serials")),
        "{e}"
    );
    assert!(e["message"].as_str().unwrap().contains("NOTOURS00001"), "{e}");
    let q = assign("csv-1", tid, "yes");
    let (s, e) = post_csv(d, page, None, path, &q, csv.clone()).await;
    assert_eq!(
        (s, e["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("confirm")),
        "{e}"
    );
    assert!(e["message"].as_str().unwrap().contains("type `3 devices`"), "{e}");
    let far = days_from_now(d, 120);
    let q = [
        ("request_id", "csv-0"),
        ("action", "migrate"),
        ("token", tid.as_str()),
        ("deadline", far.as_str()),
        ("confirm", "3 devices"),
    ];
    let (s, e) = post_csv(d, page, None, path, &q, csv.clone()).await;
    assert_eq!(
        (s, e["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("deadline")),
        "{e}"
    );
    let (_, list) = page.get("/api/v1/business/actions").await;
    assert_eq!(list["total"], 0, "nothing was sent: {list}");

    // Assign the file's devices: progress is visible, then each serial's outcome; the
    // devices show in the list with no sync asked for.
    let q = assign("csv-1", tid, "3 devices");
    let (s, v) = post_csv(d, page, None, path, &q, csv.clone()).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert!(v["state"] == "in_progress" || v["state"] == "finished", "{v}");
    assert_eq!(v["serials"].as_array().unwrap().len(), 3);
    let done = finished(page, "csv-1").await;
    assert!(done["summary"].as_str().unwrap().contains("3 done"), "{done}");
    for s in loose {
        listed(page, s, true).await;
    }
    // The same upload again acts once.
    let (s, again) = post_csv(d, page, None, path, &q, csv.clone()).await;
    assert_eq!((s, &again["apple_id"]), (StatusCode::OK, &done["apple_id"]));
    let (_, list) = page.get("/api/v1/business/actions").await;
    assert_eq!(list["total"], 1, "{list}");

    // Unassign one: it leaves the list by itself too.
    let one = format!("{}\n", loose[2]);
    let q = [
        ("request_id", "csv-2"),
        ("action", "unassign"),
        ("token", tid.as_str()),
        ("confirm", loose[2].as_str()),
    ];
    let (s, v) = post_csv(d, page, None, path, &q, one.clone()).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    finished(page, "csv-2").await;
    listed(page, &loose[2], false).await;

    // Release: not on the general route; its own route wants `release N devices` and the
    // Owner (an operator is refused).
    let rel = format!("{}\n{}\n", loose[0], loose[1]);
    let q = [("request_id", "csv-3"), ("action", "release"), ("confirm", "release 2 devices")];
    let (s, e) = post_csv(d, page, None, path, &q, rel.clone()).await;
    assert_eq!((s, e["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("action")), "{e}");
    let rpath = "/business/actions/release/csv";
    let (s, check) = post_csv(d, page, None, rpath, &[("check", "true")], rel.clone()).await;
    assert_eq!((s, check["confirm"].as_str()), (StatusCode::OK, Some("release 2 devices")));
    let (s, e) = post_csv(
        d,
        page,
        None,
        rpath,
        &[("request_id", "csv-3"), ("confirm", "2 devices")],
        rel.clone(),
    )
    .await;
    assert_eq!(
        (s, e["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("confirm")),
        "{e}"
    );
    let (s, t) =
        page.post("/api/v1/admin/api-tokens", json!({"name": "script", "role": "operator"})).await;
    assert_eq!(s, StatusCode::CREATED, "{t}");
    let operator = t["token"].as_str().unwrap();
    let q = [("request_id", "csv-3"), ("confirm", "release 2 devices")];
    let (s, _) = post_csv(d, page, Some(operator), rpath, &q, rel.clone()).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, v) = post_csv(d, page, None, rpath, &q, rel.clone()).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    finished(page, "csv-3").await;
    assert!(d.sim().with_world(|w| w.org_device(&loose[0]).is_none()), "released at Apple");
    listed(page, &loose[0], false).await;
    let (_, audit) = page.get("/api/v1/audit?action=business.activity").await;
    assert!(audit.to_string().contains("request csv-3"), "{audit}");
}

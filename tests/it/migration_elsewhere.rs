//! A migration deadline on a device not assigned to us (`../shared/spec/apple-2026.md` §1.1),
//! through the daemon's API against the simulated Apple Business and DEP: changing or
//! cancelling a migration of a device assigned to another MDM server, or to none, is refused
//! before anything is stored or sent, naming the serials and what to do; a deadline in the
//! past is refused for both the schedule and the change (the Business action and the
//! sandbox's portal route); a change right after a migration here is scheduled is taken even
//! before a sync shows it (Apple Business says where the device is); and once a cancelled
//! migration takes the device away, its deadline is recorded without effect.

use crate::business_actions::{finished, set_up_account};
use crate::common::*;
use crate::tokens_api::sync_until;
use reqwest::StatusCode;
use serde_json::{Value, json};
use time::format_description::well_known::Rfc3339;

fn days_from(d: &TestDaemon, days: i64) -> String {
    (d.running().services.clock.now() + time::Duration::days(days)).format(&Rfc3339).unwrap()
}

async fn act(
    page: &Page,
    id: &str,
    action: &str,
    serial: &str,
    extra: Value,
) -> (StatusCode, Value) {
    let mut body =
        json!({"request_id": id, "action": action, "serials": [serial], "confirm": serial});
    for (k, v) in extra.as_object().unwrap() {
        body[k] = v.clone();
    }
    page.post("/api/v1/business/actions", body).await
}

#[tokio::test]
async fn a_deadline_on_a_device_not_assigned_here_is_refused_and_nothing_is_stored() {
    let d = TestDaemon::with_simulator().await;
    let page = d.sandbox_admin().await;
    let (token, ours) = add_token(&d, &page, "Main campus").await;
    let tid = token["id"].as_str().unwrap().to_string();
    let now = d.sim().now();
    let (loose, theirs) = d.sim().with_world(|w| {
        let other = w.add_server("Previous MDM", None, now);
        (
            w.add_devices(None, 1, &[], now).unwrap(),
            w.add_devices(Some(other), 2, &[], now).unwrap(),
        )
    });
    sync_until(&d, &page, &tid, 0).await;
    set_up_account(&d, &page).await;
    let in_30 = json!({"deadline": days_from(&d, 30)});

    // A device of another MDM server and one of none: their migration is not ours to change
    // or cancel. Refused whole, naming each serial and what to do.
    for (serial, action, extra) in [
        (&theirs[0], "change_deadline", in_30.clone()),
        (&loose[0], "change_deadline", in_30.clone()),
        (&theirs[0], "cancel_migration", json!({})),
    ] {
        let (s, v) = act(&page, "elsewhere-1", action, serial, extra).await;
        assert_eq!(
            (s, v["field"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some("serials")),
            "{v}"
        );
        let message = v["message"].as_str().unwrap();
        assert!(message.contains(serial.as_str()), "{message}");
        assert!(message.contains("not assigned to one of adebox's MDM servers"), "{message}");
        assert!(message.contains("in Apple Business (nothing was sent to Apple)"), "{message}");
    }

    // A deadline in the past, or today, is refused for the schedule and the change alike.
    for (action, days) in [("migrate", -1), ("migrate", 0), ("change_deadline", -3)] {
        let extra = json!({"token": tid, "deadline": days_from(&d, days)});
        let (s, v) = act(&page, "elsewhere-1", action, &theirs[0], extra).await;
        assert_eq!(
            (s, v["field"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some("deadline")),
            "{action} {days}: {v}"
        );
        assert!(v["message"].as_str().unwrap().contains("1 to 90 days from now"), "{v}");
    }
    // The sandbox's portal route (the simulated Apple Business) refuses a past deadline too.
    let body = json!({"serials": [theirs[1]], "server_uuid": ours, "deadline_days": -2});
    let (s, v) = page.post("/api/v1/sandbox/devices/migrate", body).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert!(v.to_string().contains("between 1 and 90 days"), "{v}");

    // Nothing was stored or sent: no action listed, no activity at Apple, and the request id
    // is still free for the migration here.
    let (_, list) = page.get("/api/v1/business/actions").await;
    assert_eq!(list["items"], json!([]), "{list}");
    assert_eq!(d.sim().with_world(|w| w.migrations()).len(), 0);

    let extra = json!({"token": tid, "deadline": days_from(&d, 30)});
    let (s, v) = act(&page, "elsewhere-1", "migrate", &theirs[0], extra).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(finished(&page, "elsewhere-1").await["results"][0]["outcome"], "done");

    // Changed at once, whether or not the sync that follows has shown the device yet.
    let (s, v) = act(
        &page,
        "elsewhere-2",
        "change_deadline",
        &theirs[0],
        json!({"deadline": days_from(&d, 10)}),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(finished(&page, "elsewhere-2").await["results"][0]["outcome"], "done");
    sync_until(&d, &page, &tid, 1).await;
    let path = format!("/api/v1/devices/{}", theirs[0]);
    let (_, dev) = page.get(&path).await;
    assert!(dev["mdm_migration_deadline"].is_string(), "{dev}");

    // Cancelled: the device goes back to its origin. The deadline it carried stays on record,
    // without effect: not counted, and the timeline says why.
    let (s, v) = act(&page, "elsewhere-3", "cancel_migration", &theirs[0], json!({})).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(finished(&page, "elsewhere-3").await["results"][0]["outcome"], "done");
    let mut dev = Value::Null;
    for _ in 0..100 {
        d.running()
            .services
            .sync
            .run_now(&adebox::ids::TokenId::parse(&tid).unwrap(), adebox::sync::RunKind::Delta)
            .await
            .unwrap();
        dev = page.get(&path).await.1;
        if dev["removed"].is_object() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(dev["removed"].is_object(), "{dev}");
    let words: Vec<&str> =
        dev["timeline"].as_array().unwrap().iter().filter_map(|e| e["message"].as_str()).collect();
    assert!(
        words.iter().any(|w| w.starts_with("Its migration deadline no longer applies: the device is no longer assigned to this server")),
        "{words:?}"
    );
    let (_, counts) = page.get("/api/v1/devices/counts").await;
    assert_eq!(counts["migration_deadlines"], 0, "{counts}");

    // Now not ours: a change for it is refused, and nothing more is stored.
    let (s, v) = act(
        &page,
        "elsewhere-4",
        "change_deadline",
        &theirs[0],
        json!({"deadline": days_from(&d, 5)}),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert!(v["message"].as_str().unwrap().contains(theirs[0].as_str()), "{v}");
    let (_, list) = page.get("/api/v1/business/actions").await;
    assert_eq!(list["items"].as_array().unwrap().len(), 3, "{list}");
}

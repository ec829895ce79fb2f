//! Fetch, sync, device details, disown, activation lock and replacement details, with the
//! cursor and device errors the simulator produces.

use super::env;
use crate::apple::dep::{ActivationLockRequest, ActivationLockStatus, DeviceStatus, OpType};
use crate::depclient::DepError;
use std::collections::HashSet;
use time::Duration;

#[tokio::test]
async fn fetches_every_device_in_pages_then_the_cursor_is_exhausted() {
    let e = env(250).await;
    let mut cursor: Option<String> = None;
    let mut seen = HashSet::new();
    let mut pages = 0;
    loop {
        let page = e.client.fetch_devices(cursor.as_deref(), 100).await.unwrap();
        pages += 1;
        assert!(page.devices.iter().all(|d| d.op_type.is_none()), "fetch carries no op_type");
        seen.extend(page.devices.into_iter().map(|d| d.serial_number));
        cursor = Some(page.cursor);
        if !page.more_to_follow {
            break;
        }
        assert!(pages < 10, "paging does not end");
    }
    assert_eq!(pages, 3);
    assert_eq!(seen, e.serials.iter().cloned().collect::<HashSet<_>>());
    let cursor = cursor.unwrap();
    let err = e.client.fetch_devices(Some(&cursor), 100).await.unwrap_err();
    assert!(matches!(err, DepError::CursorExhausted), "{err:?}");

    // Continue with sync on the same cursor: nothing yet, then the new arrivals.
    let empty = e.client.sync_devices(&cursor, 100).await.unwrap();
    assert!(empty.devices.is_empty());
    let now = e.sim.now();
    let added = e.sim.with_world(|w| w.add_devices(Some(e.server), 3, &[], now).unwrap());
    let delta = e.client.sync_devices(&empty.cursor, 100).await.unwrap();
    let got: Vec<_> =
        delta.devices.iter().map(|d| (d.serial_number.clone(), d.op_type.clone())).collect();
    let want: Vec<_> = added.iter().map(|s| (s.clone(), Some(OpType::Added))).collect();
    assert_eq!(got, want);
    e.stop().await;
}

#[tokio::test]
async fn fetched_devices_carry_protocol_10_fields() {
    let e = env(5).await;
    let page = e.client.fetch_devices(None, 1000).await.unwrap();
    assert_eq!(page.devices.len(), 5);
    let d = &page.devices[0];
    assert!(d.model.is_some() && d.os.is_some() && d.device_family.is_some(), "{d:?}");
    assert!(d.device_assigned_date.is_some());
    e.stop().await;
}

#[tokio::test]
async fn sync_refuses_missing_invalid_and_expired_cursors() {
    let e = env(2).await;
    let err = e.client.sync_devices("", 100).await.unwrap_err();
    assert!(matches!(err, DepError::CursorRequired), "{err:?}");
    let err = e.client.sync_devices("bm90IGEgY3Vyc29y", 100).await.unwrap_err();
    assert!(matches!(err, DepError::CursorInvalid), "{err:?}");
    let err = e.client.fetch_devices(Some("garbage!"), 100).await.unwrap_err();
    assert!(matches!(err, DepError::CursorInvalid), "{err:?}");

    let page = e.client.fetch_devices(None, 100).await.unwrap();
    e.advance(Duration::days(8));
    let err = e.client.sync_devices(&page.cursor, 100).await.unwrap_err();
    assert!(matches!(err, DepError::CursorExpired), "{err:?}");
    assert!(err.admin_message().contains("full device fetch"));
    e.stop().await;
}

#[tokio::test]
async fn device_details_answer_known_and_unknown_serials() {
    let e = env(2).await;
    let serials = vec![e.serials[0].clone(), "UNKNOWN00001".to_string()];
    let details = e.client.device_details(&serials).await.unwrap();
    let known = &details.devices[&e.serials[0]];
    assert_eq!(known.response_status, Some(DeviceStatus::Success));
    assert_eq!(known.serial_number, e.serials[0]);
    assert_eq!(details.devices["UNKNOWN00001"].response_status, Some(DeviceStatus::NotAccessible));
    let err = e.client.device_details(&[]).await.unwrap_err();
    assert!(matches!(err, DepError::DeviceIdRequired), "{err:?}");
    e.stop().await;
}

#[tokio::test]
async fn disown_removes_devices_and_reports_unknown_ones() {
    let e = env(2).await;
    let serials = vec![e.serials[0].clone(), "UNKNOWN00001".to_string()];
    let answer = e.client.disown(&serials).await.unwrap();
    assert_eq!(answer.devices[&e.serials[0]], DeviceStatus::Success);
    assert_eq!(answer.devices["UNKNOWN00001"], DeviceStatus::NotAccessible);
    let page = e.client.fetch_devices(None, 100).await.unwrap();
    assert_eq!(page.devices.len(), 1);
    assert!(matches!(e.client.disown(&[]).await, Err(DepError::DeviceIdRequired)));
    e.stop().await;
}

#[tokio::test]
async fn activation_lock_answers_per_device_and_refuses_a_malformed_escrow_key() {
    let e = env(1).await;
    let ok = e
        .client
        .activation_lock(&ActivationLockRequest {
            device: e.serials[0].clone(),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(ok.serial_number, e.serials[0]);
    assert_eq!(ok.response_status, ActivationLockStatus::Success);
    let unknown = e
        .client
        .activation_lock(&ActivationLockRequest {
            device: "UNKNOWN00001".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(unknown.response_status, ActivationLockStatus::NotAccessible);
    let bad = ActivationLockRequest {
        device: e.serials[0].clone(),
        escrow_key: Some("not-hex".into()),
        lost_message: None,
    };
    let err = e.client.activation_lock(&bad).await.unwrap_err();
    assert!(matches!(err, DepError::MalformedRequest), "{err:?}");
    e.stop().await;
}

#[tokio::test]
async fn replacement_details_of_an_unknown_device_is_not_found() {
    let e = env(1).await;
    let err = e.client.replacement_details("UNKNOWN00001").await.unwrap_err();
    assert!(
        matches!(
            err,
            DepError::NotFound { code: Some(crate::apple::dep::DepErrorCode::DeviceNotFound) }
        ),
        "{err:?}"
    );
    let err = e.client.replacement_details("").await.unwrap_err();
    assert!(matches!(err, DepError::DeviceIdRequired), "{err:?}");
    e.stop().await;
}

#[tokio::test]
async fn more_than_1000_serials_are_not_sent() {
    let e = env(0).await;
    let many: Vec<String> = (0..1001).map(|i| format!("S{i:011}")).collect();
    assert!(matches!(e.client.device_details(&many).await, Err(DepError::InvalidArgument(_))));
    assert_eq!(e.sim.requests(), 0);
    e.stop().await;
}

//! The stored organisation device (`business.org_devices`) keeps its bytes now that the API
//! shows it through its own view (`src/http/api/views/orgdevices.rs`).

use adebox::business::orgdevices::OrgDevice;
use adebox::ids::Serial;

/// A row as `business.org_devices` kept it before the API had its own view: it reads back
/// and is written again byte for byte, its serial a [`Serial`].
#[test]
fn a_stored_org_device_keeps_its_bytes() {
    let stored = br#"{"serial":"C02XK0AAJG5H","model":"MacBook Air","product_family":"Mac","product_type":"Mac15,3","status":"ASSIGNED","purchase_source_type":"RESELLER","purchase_source_id":"R-1","order_number":"A1B2C3","order_date":"2026-02-01T00:00:00Z","added_at":"2026-03-01T10:00:00.000Z","migration_capable":true,"migration_status":"REQUESTED","migration_deadline":"2026-04-01T00:00:00Z","server_id":"8E7A","seen_run":7,"server_run":7}"#;
    let row: OrgDevice = adebox::store::decode("business.org_devices", stored).unwrap();
    assert_eq!(adebox::store::encode(&row), stored.to_vec());
    assert_eq!(row.facts.serial, Serial::parse("c02xk0aajg5h").unwrap());
    assert_eq!((row.server_id.as_deref(), row.seen_run, row.server_run), (Some("8E7A"), 7, 7));
    assert_eq!(row.facts.migration_capable, Some(true));
}

/// A row Apple sent little about (no migration fields before API 2.3, no server yet) reads
/// with those fields empty.
#[test]
fn a_stored_row_without_the_later_fields_reads() {
    let stored = br#"{"serial":"F2LX1234ABCD","status":"UNASSIGNED","seen_run":1}"#;
    let row: OrgDevice = adebox::store::decode("business.org_devices", stored).unwrap();
    assert_eq!(row.facts.serial.as_str(), "F2LX1234ABCD");
    assert_eq!((row.facts.model, row.facts.migration_status, row.server_id), (None, None, None));
    assert_eq!((row.seen_run, row.server_run), (1, 0));
}

//! Stored ACME records keep their bytes: a record written before its serial and UDID became
//! typed (`ids::Serial`, `ids::Udid`) reads back and is written again byte for byte, spelled
//! as it was held (lower case, spaces and all), so an upgrade rewrites nothing it touches.

use crate::acme::records::{CertRec, Expectation};

/// Reads `stored` as `T` and writes it again: the same bytes.
fn round_trip<T: serde::Serialize + serde::de::DeserializeOwned>(stored: &str) {
    let record: T = serde_json::from_str(stored).expect("an old record reads");
    assert_eq!(serde_json::to_string(&record).unwrap(), stored);
}

#[test]
fn an_old_expectation_keeps_its_bytes() {
    round_trip::<Expectation>(
        r#"{"serial":"c02 xyz0abc","udid":"00008030-001a2b3c4d5e6f70","expires_at":"2026-12-01T10:00:00Z","account_id":"acct1","cert_id":null}"#,
    );
}

#[test]
fn an_old_certificate_record_keeps_its_bytes() {
    round_trip::<CertRec>(
        r#"{"id":"c1","order_id":"o1","account_id":"a1","chain_pem":"-----BEGIN CERTIFICATE-----\n","sha256":"ab12","serial":"f17xk0lmq1gh","udid":"00008110-000A1B2C3D4E5F60","issued_at":"2026-11-30T08:15:00Z","not_after":"2027-11-30T08:15:00Z","revoked":null}"#,
    );
}

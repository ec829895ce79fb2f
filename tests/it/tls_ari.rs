//! ACME renewal information (RFC 9773) against Debian's pebble: when the CA's directory offers
//! `renewalInfo`, the next order is placed inside the window it suggests and Settings says so;
//! when it does not (pebble before 2.5 has none), the two-thirds rule stays and Settings says
//! that. The test reads pebble's directory to know which of the two it must see.

use crate::common;
use crate::tls_acme::{Pebble, free_port, page_trusting, start_daemon, tls_until};
use serde_json::Value;

fn at(v: &Value) -> time::OffsetDateTime {
    time::OffsetDateTime::parse(v.as_str().unwrap(), &time::format_description::well_known::Rfc3339)
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_renewal_follows_the_cas_window_or_two_thirds_without_one() {
    let http_port = free_port();
    let Some(pebble) = Pebble::start(http_port, false) else { return };
    let root = pebble.root_pem().await;
    let acme = pebble.acme_config(http_port, None);
    let listener_ca = std::fs::read(acme.ca_file.as_ref().unwrap()).unwrap();
    let directory: Value = common::client_trusting(&listener_ca)
        .get(&acme.directory_url)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let offers_ari = directory.get("renewalInfo").is_some();
    if !offers_ari {
        eprintln!(
            "notice: this pebble offers no renewalInfo (RFC 9773 came in pebble 2.5); checking the two-thirds fallback"
        );
    }

    let d = start_daemon(tempfile::tempdir().unwrap(), acme).await;
    let appliance_ca = d.ca_pem();
    let page = page_trusting(&d, &[&appliance_ca, root.as_bytes()], true).await;
    let v =
        tls_until(&page, &pebble, |v| v["mode"] == "acme" && !v["acme"]["renewal_basis"].is_null())
            .await;
    let (not_before, not_after) = (at(&v["server"]["not_before"]), at(&v["server"]["not_after"]));
    let renews = at(&v["renews_at"]);
    assert_eq!(v["acme"]["next_attempt_at"], v["renews_at"], "{v}");
    if offers_ari {
        assert_eq!(v["acme"]["renewal_basis"], "ca_suggestion", "{v}");
        let (start, end) =
            (at(&v["acme"]["suggested_window_start"]), at(&v["acme"]["suggested_window_end"]));
        assert!(start <= end && renews <= end, "{v}");
        assert!(renews >= not_before && renews <= not_after, "{v}");
    } else {
        assert_eq!(v["acme"]["renewal_basis"], "two_thirds", "{v}");
        assert!(v["acme"]["suggested_window_start"].is_null(), "{v}");
        let two_thirds = not_before + (not_after - not_before) * 2i32 / 3i32;
        assert!((renews - two_thirds).abs() < time::Duration::seconds(2), "{v}");
    }
}

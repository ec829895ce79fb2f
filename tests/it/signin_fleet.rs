//! The device fleet walking the web sign-in of a profile with user affinity, as Setup
//! Assistant does: it learns the profile's `configuration_web_url` from the simulated Apple
//! side, opens it with `x-apple-aspen-deviceinfo`, posts the form with the account it was
//! given, enrolls with the profile the form answers, and the devices API then shows each
//! device's user (and filters by it). Without an account, or with a wrong password, the
//! devices stop at the page.

use crate::common::*;
use crate::enroll::fleet_with_profile_at;
use crate::signin::{affinity_profile, user};
use adebox::sim::apple_pki::StandInApplePki;
use adebox::sim::dep::portal_client::PortalClient;
use adebox::sim::fleet::{Fleet, FleetDevice, FleetTarget, Progress, SignInAs};
use std::sync::Arc;

pub(crate) fn fleet(d: &TestDaemon, pki: &Arc<StandInApplePki>) -> Fleet {
    let target = FleetTarget {
        profile_url: d.url("/enroll/machineinfo"),
        ca_pem: String::from_utf8(d.ca_pem()).unwrap(),
        resolve_to: None,
    };
    let portal = PortalClient::new(d.sim().portal_url(), d.sim_client());
    Fleet::new(target, pki.clone()).unwrap().woken_by(d.apns().feed()).asking_apple(portal)
}

pub(crate) fn as_user(name: &str, password: &str) -> SignInAs {
    SignInAs { username: name.into(), password: adebox::crypto::Secret::new(password.into()) }
}

#[tokio::test]
async fn the_fleet_enrolls_through_the_web_sign_in_and_the_devices_show_their_user() {
    let clock = adebox::clock::Clock::system();
    let now = clock.now();
    let pki = Arc::new(StandInApplePki::generate(now - time::Duration::days(1)).unwrap());
    let users = [user("alice", &["staff"]), user("bob", &["staff"])];
    let (d, page, _, serials) =
        fleet_with_profile_at(&pki, 6, clock, affinity_profile(), &users).await;
    let devices: Vec<FleetDevice> =
        serials.iter().enumerate().map(|(i, s)| FleetDevice::for_serial(s, i)).collect();

    // Without an account the devices stop at the sign-in page; a wrong password too.
    let report = fleet(&d, &pki).run(&devices[..1], 1, &Progress::default(), now).await;
    assert_eq!(report.failures.get("web_sign_in_without_account"), Some(&1), "{report:?}");
    let wrong = fleet(&d, &pki).signing_in(as_user("alice", "not her password"));
    let report = wrong.run(&devices[..1], 1, &Progress::default(), now).await;
    assert_eq!(report.failures.get("web_sign_in_refused:http_401"), Some(&1), "{report:?}");

    // alice enrolls four devices, bob two: through the page, to release.
    let alice = fleet(&d, &pki).signing_in(as_user("alice", "alice password 1"));
    let report = alice.run(&devices[..4], 4, &Progress::default(), now).await;
    assert_eq!((report.enrolled, report.released), (4, 4), "{report:?}");
    let bob = fleet(&d, &pki).signing_in(as_user("bob", "bob password 1"));
    let report = bob.run(&devices[4..], 2, &Progress::default(), now).await;
    assert_eq!((report.enrolled, report.released), (2, 2), "{report:?}");

    // The list shows each device's user; `user` filters by username, name or e-mail.
    let (_, list) = page.get("/api/v1/devices?limit=50").await;
    let items = list["items"].as_array().unwrap();
    for item in items {
        let i = serials.iter().position(|s| item["serial"] == *s).unwrap();
        let want = if i < 4 { "alice" } else { "bob" };
        assert_eq!(item["user"]["username"], want, "{item}");
        assert_eq!(item["user"]["source"], "local", "{item}");
    }
    let (_, only) = page.get("/api/v1/devices?user=ALICE").await;
    assert_eq!(only["total"], 4, "{only}");
    assert!(only["items"].as_array().unwrap().iter().all(|i| i["user"]["username"] == "alice"));
    let (_, by_name) = page.get("/api/v1/devices?user=bob%20Exam").await;
    assert_eq!(by_name["total"], 2, "{by_name}");
    let (_, by_mail) = page.get("/api/v1/devices?user=bob@example.org").await;
    assert_eq!(by_mail["total"], 2, "{by_mail}");
    let (_, nobody) = page.get("/api/v1/devices?user=carol").await;
    assert_eq!(nobody["total"], 0, "{nobody}");
    let (_, blank) = page.get("/api/v1/devices?user=%20").await;
    assert_eq!(blank["total"], 6, "an empty filter matches every device: {blank}");
    let csv = export_csv(&d, &page, "user=bob").await;
    assert_eq!(csv.lines().count(), 3, "header and bob's two devices: {csv}");

    // The device page and its timeline name the user.
    let (_, one) = page.get(&format!("/api/v1/devices/{}", serials[5])).await;
    assert_eq!(one["user"]["display_name"], "bob Example", "{one}");
    let timeline = one["timeline"].to_string();
    assert!(timeline.contains("bob Example (bob) signed in during Setup Assistant"), "{timeline}");
}

//! Define, get, assign and remove profiles, with Apple's validation codes and per-device
//! results.

use super::env;
use crate::apple::dep::{DepErrorCode, DeviceStatus, Profile, ProfileStatus};
use crate::depclient::DepError;
use crate::sim::dep::Behaviour;

fn profile() -> Profile {
    Profile {
        profile_name: "Staff iPads".into(),
        url: "https://mdm.example.org/enroll".into(),
        is_supervised: Some(true),
        is_mdm_removable: Some(false),
        await_device_configured: Some(true),
        department: Some("IT".into()),
        support_email_address: Some("it@example.org".into()),
        skip_setup_items: vec!["Siri".into(), "Privacy".into()],
        ..Profile::default()
    }
}

#[tokio::test]
async fn defines_gets_assigns_and_removes_a_profile() {
    let e = env(2).await;
    let mut p = profile();
    p.devices = vec![e.serials[0].clone()];
    let defined = e.client.define_profile(&p).await.unwrap();
    assert_eq!(defined.profile_uuid.len(), 32);
    assert_eq!(defined.devices[&e.serials[0]], DeviceStatus::Success);

    let got = e.client.get_profile(&pu(&defined.profile_uuid)).await.unwrap();
    assert_eq!(got.profile_uuid.as_deref(), Some(defined.profile_uuid.as_str()));
    assert_eq!(got.profile_name, p.profile_name);
    assert_eq!(got.is_supervised, Some(true));
    assert_eq!(got.is_mdm_removable, Some(false));
    assert_eq!(got.skip_setup_items, p.skip_setup_items);

    let serials = vec![e.serials[1].clone(), "UNKNOWN00001".to_string()];
    let assigned = e.client.assign_profile(&pu(&defined.profile_uuid), &serials).await.unwrap();
    assert_eq!(assigned.devices[&e.serials[1]], DeviceStatus::Success);
    assert_eq!(assigned.devices["UNKNOWN00001"], DeviceStatus::NotAccessible);
    assert_eq!(assigned.retry_after_seconds, None);
    let details = e.client.device_details(&e.serials[1..2]).await.unwrap();
    let d = &details.devices[&e.serials[1]];
    assert_eq!(d.profile_uuid.as_deref(), Some(defined.profile_uuid.as_str()));
    assert_eq!(d.profile_status, Some(ProfileStatus::Assigned));

    let removed = e.client.remove_profile(&e.serials[1..2]).await.unwrap();
    assert_eq!(removed.devices[&e.serials[1]], DeviceStatus::Success);
    e.stop().await;
}

#[tokio::test]
async fn reads_profiles_served_with_unprefixed_flag_names() {
    let e = env(0).await;
    e.sim.set_behaviour(Behaviour { unprefixed_profile_names: true, ..Behaviour::default() });
    let defined = e.client.define_profile(&profile()).await.unwrap();
    let got = e.client.get_profile(&pu(&defined.profile_uuid)).await.unwrap();
    assert_eq!(got.is_supervised, Some(true));
    assert_eq!(got.is_mdm_removable, Some(false));
    e.stop().await;
}

/// Makes a valid profile invalid in one way.
type Breaker = Box<dyn Fn(&mut Profile)>;

#[tokio::test]
async fn every_profile_validation_code_is_typed() {
    let e = env(0).await;
    let long = |n: usize| "x".repeat(n);
    let cases: Vec<(DepErrorCode, Breaker)> = vec![
        (DepErrorCode::ConfigNameRequired, Box::new(|p| p.profile_name.clear())),
        (DepErrorCode::ConfigNameInvalid, Box::new(move |p| p.profile_name = long(126))),
        (DepErrorCode::ConfigUrlRequired, Box::new(|p| p.url.clear())),
        (DepErrorCode::ConfigUrlInvalid, Box::new(|p| p.url = "not a url".into())),
        (DepErrorCode::DepartmentInvalid, Box::new(move |p| p.department = Some(long(126)))),
        (DepErrorCode::FlagsInvalid, Box::new(|p| p.is_supervised = None)),
        (DepErrorCode::LocaleInvalid, Box::new(|p| p.language = Some("ENGLISH".into()))),
        (DepErrorCode::MagicInvalid, Box::new(move |p| p.org_magic = Some(long(257)))),
        (
            DepErrorCode::SupportEmailInvalid,
            Box::new(|p| p.support_email_address = Some("nope".into())),
        ),
        (
            DepErrorCode::SupportPhoneInvalid,
            Box::new(move |p| p.support_phone_number = Some(long(51))),
        ),
    ];
    for (code, break_it) in cases {
        let mut p = profile();
        break_it(&mut p);
        let err = e.client.define_profile(&p).await.unwrap_err();
        assert!(
            matches!(err, DepError::ProfileInvalid { code: c } if c == code),
            "{code}: {err:?}"
        );
        assert_eq!(err.admin_message(), code.admin_message());
    }
    e.stop().await;
}

#[tokio::test]
async fn profile_lookups_and_assignments_report_missing_pieces() {
    let e = env(1).await;
    let err = e.client.get_profile(&pu("0123456789ABCDEF0123456789ABCDEF")).await.unwrap_err();
    assert!(matches!(err, DepError::NotFound { code: Some(DepErrorCode::NotFound) }), "{err:?}");
    e.sim.set_behaviour(Behaviour { profile_not_found_status: 404, ..Behaviour::default() });
    let err = e.client.get_profile(&pu("0123456789ABCDEF0123456789ABCDEF")).await.unwrap_err();
    assert!(matches!(err, DepError::NotFound { code: Some(DepErrorCode::NotFound) }), "{err:?}");
    let err = e.client.get_profile(&pu("")).await.unwrap_err();
    assert!(matches!(err, DepError::ProfileUuidRequired), "{err:?}");

    let err = e
        .client
        .assign_profile(&pu("0123456789ABCDEF0123456789ABCDEF"), &e.serials)
        .await
        .unwrap_err();
    assert!(
        matches!(err, DepError::NotFound { code: Some(DepErrorCode::ProfileNotFound) }),
        "{err:?}"
    );
    let err = e.client.assign_profile(&pu(""), &e.serials).await.unwrap_err();
    assert!(matches!(err, DepError::ProfileUuidRequired), "{err:?}");
    let uuid = e.client.define_profile(&profile()).await.unwrap().profile_uuid;
    let err = e.client.assign_profile(&pu(&uuid), &[]).await.unwrap_err();
    assert!(matches!(err, DepError::DeviceIdRequired), "{err:?}");
    let err = e.client.remove_profile(&[]).await.unwrap_err();
    assert!(matches!(err, DepError::DeviceIdRequired), "{err:?}");
    e.stop().await;
}

#[tokio::test]
async fn throttled_and_failed_devices_come_back_per_device() {
    let e = env(3).await;
    let uuid = e.client.define_profile(&profile()).await.unwrap().profile_uuid;
    e.faults("throttle=1, throttle-retry=45");
    let answer = e.client.assign_profile(&pu(&uuid), &e.serials).await.unwrap();
    assert!(answer.devices.values().all(|s| *s == DeviceStatus::Throttled), "{answer:?}");
    assert_eq!(answer.retry_after_seconds, Some(45));
    e.faults("assign-fail=1");
    let answer = e.client.assign_profile(&pu(&uuid), &e.serials).await.unwrap();
    assert!(answer.devices.values().all(|s| *s == DeviceStatus::Failed), "{answer:?}");
    let answer = e.client.remove_profile(&e.serials).await.unwrap();
    assert!(answer.devices.values().all(|s| *s == DeviceStatus::Failed), "{answer:?}");
    e.stop().await;
}

/// A profile uuid as Apple or a test spells it, sent as it is (empty ones included, to see
/// Apple's answer).
fn pu(s: &str) -> crate::ids::ProfileUuid {
    crate::ids::ProfileUuid::from_stored(s.to_string())
}

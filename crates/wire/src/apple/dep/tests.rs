//! Every JSON body in `../shared/fixtures/dep-api-json/` deserializes into its type, with the
//! values the fixtures README lists.

use super::*;
use serde::de::DeserializeOwned;

fn load<T: DeserializeOwned>(name: &str) -> Option<T> {
    let bytes = crate::fixtures::read(&format!("dep-api-json/{name}"))?;
    Some(serde_json::from_slice(&bytes).unwrap_or_else(|e| panic!("{name}: {e}")))
}

#[test]
fn every_fixture_file_has_a_type() {
    let Some(dir) = crate::fixtures::path("dep-api-json") else { return };
    let known = [
        "account-driven-enrollment-profile.get.response.json",
        "account-driven-enrollment-profile.post.request.json",
        "account.get.response.json",
        "device-activationlock.post.request-escrow-key.json",
        "device-activationlock.post.request-minimal.json",
        "device-activationlock.post.response-not-accessible.json",
        "device-activationlock.post.response-success.json",
        "device-replacementdetails.get.response.json",
        "devices-sync.post.request.json",
        "devices-sync.post.response-empty.json",
        "devices-sync.post.response-modified-deleted.json",
        "devices.post.request.json",
        "devices.post.response.json",
        "os-beta-enrollment-tokens.get.response.json",
        "profile-devices.delete.response.json",
        "profile-devices.post.request.json",
        "profile-devices.post.response-throttled.json",
        "profile-devices.post.response.json",
        "profile.get.response.json",
        "profile.post.request.json",
        "profile.post.response.json",
        "server-devices.post.request.json",
        "server-devices.post.response.json",
        "session.get.response.json",
    ];
    let entries = std::fs::read_dir(dir).expect("fixture folder readable");
    for entry in entries {
        let name = entry.expect("fixture entry").file_name().to_string_lossy().into_owned();
        assert!(known.contains(&name.as_str()), "new fixture {name} needs a test here");
    }
}

#[test]
fn session_and_account_fixtures_parse() {
    let Some(s) = load::<SessionResponse>("session.get.response.json") else { return };
    assert!(s.auth_session_token.starts_with("1745786035268O1O"));
    assert!(!format!("{s:?}").contains("1745786035268"));

    let Some(a) = load::<AccountDetail>("account.get.response.json") else { return };
    assert_eq!(a.server_uuid, "F6E1E81A93837E1E87D6F4D99E235117");
    assert_eq!(a.admin(), Some("max.mustermann@petarov.appleid.com"));
    assert_eq!(a.org_type.as_deref(), Some("org"));
    assert_eq!(a.org_version.as_deref(), Some("v2"));
    let fetch = a.urls.iter().find(|u| u.uri == paths::FETCH_DEVICES).expect("/server/devices");
    assert_eq!(fetch.limit, Some(UrlLimit { default: 1000, maximum: 1000 }));
    assert_eq!(fetch.http_method, ["POST"]);
}

#[test]
fn fetch_and_sync_fixtures_parse() {
    let Some(r) = load::<FetchDeviceRequest>("server-devices.post.request.json") else { return };
    assert_eq!(r, FetchDeviceRequest { cursor: None, limit: Some(100) });

    let Some(page) = load::<FetchDeviceResponse>("server-devices.post.response.json") else {
        return;
    };
    assert_eq!(page.devices.len(), 2);
    assert!(!page.more_to_follow);
    assert_eq!(page.fetched_until, time_format::parse("2025-04-28T08:03:42Z"));
    assert_eq!(page.devices[0].profile_status, Some(ProfileStatus::Pushed));
    assert!(page.devices[0].profile_push_time.is_some());
    assert_eq!(page.devices[1].profile_status, Some(ProfileStatus::Empty));
    assert_eq!(page.devices[1].mdm_migration_deadline, time_format::parse("2026-03-02T09:00:00Z"));
    assert!(page.devices.iter().all(|d| d.op_type.is_none()), "fetch carries no op_type");

    let Some(r) = load::<SyncDeviceRequest>("devices-sync.post.request.json") else { return };
    assert_eq!(r.limit, Some(500));
    assert!(r.cursor.is_some());

    let Some(empty) = load::<FetchDeviceResponse>("devices-sync.post.response-empty.json") else {
        return;
    };
    assert!(empty.devices.is_empty() && !empty.cursor.is_empty());

    let Some(sync) =
        load::<FetchDeviceResponse>("devices-sync.post.response-modified-deleted.json")
    else {
        return;
    };
    let ops: Vec<_> = sync.devices.iter().map(|d| d.op_type.clone()).collect();
    assert_eq!(ops, [Some(OpType::Modified), Some(OpType::Modified), Some(OpType::Deleted)]);
    assert_eq!(sync.devices[2].released_by_replacement, Some(true));
    assert_eq!(sync.devices[0].profile_status, Some(ProfileStatus::Removed));
}

#[test]
fn device_detail_disown_and_activation_lock_fixtures_parse() {
    let Some(r) = load::<DeviceListRequest>("devices.post.request.json") else { return };
    assert_eq!(r.devices, ["B9FPP3Q6GMK7", "BNPT0GHHM7252"]);

    let Some(details) = load::<DeviceListResponse>("devices.post.response.json") else { return };
    let full = &details.devices["B9FPP3Q6GMK7"];
    assert_eq!(full.response_status, Some(DeviceStatus::Success));
    assert_eq!(full.imei, ["01 129600 314225 1"]);
    assert_eq!(full.meid, ["35795904370426"]);
    assert_eq!(full.is_replacement_device, Some(true));
    assert_eq!(full.wifi_mac_address.as_deref(), Some("3C:15:C2:D4:E5:F6"));
    assert_eq!(full.eid.as_deref(), Some("89049032000123456789012345678901"));
    let hidden = &details.devices["BNPT0GHHM7252"];
    assert_eq!(hidden.response_status, Some(DeviceStatus::NotAccessible));
    assert!(hidden.serial_number.is_empty());

    let Some(min) =
        load::<ActivationLockRequest>("device-activationlock.post.request-minimal.json")
    else {
        return;
    };
    assert_eq!(min.device, "B9FPP3Q6GMK7");
    assert!(min.escrow_key.is_none());
    let Some(esc) =
        load::<ActivationLockRequest>("device-activationlock.post.request-escrow-key.json")
    else {
        return;
    };
    assert!(esc.escrow_key.is_some() && esc.lost_message.is_some());
    let Some(ok) =
        load::<ActivationLockResponse>("device-activationlock.post.response-success.json")
    else {
        return;
    };
    assert_eq!(ok.response_status, ActivationLockStatus::Success);
    let Some(na) =
        load::<ActivationLockResponse>("device-activationlock.post.response-not-accessible.json")
    else {
        return;
    };
    assert_eq!(na.response_status, ActivationLockStatus::NotAccessible);

    let Some(rep) = load::<ReplacementDetails>("device-replacementdetails.get.response.json")
    else {
        return;
    };
    assert_eq!(rep.original_device_serial_number, "C112342756");
    assert_eq!(rep.replacement_date.as_deref(), Some("2025-01-15"));
}

#[test]
fn profile_fixtures_parse() {
    let Some(p) = load::<Profile>("profile.post.request.json") else { return };
    assert_eq!(p.profile_name, "mdm-server-01-sales-profile");
    assert_eq!(p.is_supervised, Some(true), "unprefixed `supervised` accepted");
    assert_eq!(p.is_return_to_service, Some(true));
    assert_eq!(p.is_mandatory, Some(false));
    assert_eq!(p.is_mdm_removable, Some(true));
    assert_eq!(p.devices.len(), 2);
    assert_eq!(p.skip_setup_items.len(), 4);
    let written = serde_json::to_string(&p).unwrap();
    assert!(written.contains(r#""is_supervised":true"#) && !written.contains(r#""supervised""#));

    let Some(got) = load::<Profile>("profile.get.response.json") else { return };
    assert_eq!(got.profile_uuid.as_deref(), Some("95C2189CB0EFB3192BC7B3C555091D22"));
    assert_eq!(got.skip_setup_items.len(), 42);
    assert_eq!(got.is_multi_user, Some(true));
    assert_eq!(got.org_magic.as_deref(), Some("petarov GmbH"));

    let Some(def) = load::<DefineProfileResponse>("profile.post.response.json") else { return };
    assert_eq!(def.profile_uuid, "F3325E3D2646895BC4261BDAC42D4708");
    assert_eq!(def.devices["A9C1R3Q8KJA9"], DeviceStatus::NotAccessible);

    let Some(req) = load::<AssignProfileRequest>("profile-devices.post.request.json") else {
        return;
    };
    assert_eq!(req.devices.len(), 2);
    let Some(clear) = load::<ClearProfileRequest>("profile-devices.post.request.json") else {
        return;
    };
    assert_eq!(clear.devices, req.devices);

    let Some(a) = load::<AssignProfileResponse>("profile-devices.post.response.json") else {
        return;
    };
    assert_eq!(a.devices["B222342AF8"], DeviceStatus::NotAccessible);
    assert_eq!(a.retry_after_seconds, None);
    let Some(t) = load::<AssignProfileResponse>("profile-devices.post.response-throttled.json")
    else {
        return;
    };
    assert_eq!(t.devices["B222342AF8"], DeviceStatus::Throttled);
    assert_eq!(t.retry_after_seconds, Some(30));

    let Some(c) = load::<ClearProfileResponse>("profile-devices.delete.response.json") else {
        return;
    };
    assert_eq!(c.devices["C112342756"], DeviceStatus::Success);
}

#[test]
fn account_level_fixtures_parse() {
    let Some(ade) = load::<AccountDrivenEnrollmentProfile>(
        "account-driven-enrollment-profile.get.response.json",
    ) else {
        return;
    };
    assert_eq!(ade.mdm_service_discovery_url, "https://mdm.example.com/discovery");
    assert!(ade.last_updated_timestamp.is_some());
    let Some(post) = load::<AccountDrivenEnrollmentProfile>(
        "account-driven-enrollment-profile.post.request.json",
    ) else {
        return;
    };
    assert!(post.mdm_service_discovery_url.starts_with("https://"));

    let Some(beta) = load::<BetaEnrollmentTokens>("os-beta-enrollment-tokens.get.response.json")
    else {
        return;
    };
    assert_eq!(beta.beta_enrollment_tokens.len(), 15);
    assert!(beta.beta_enrollment_tokens.iter().any(|t| t.os == "OSX"));
}

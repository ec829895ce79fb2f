//! Turns the simulated world into the DEP wire types of [`crate::apple::dep`], honouring
//! `X-Server-Protocol-Version` (dep-api.md §2.4):
//!
//! | version | adds |
//! | --- | --- |
//! | 2 | device `os`, `device_family`; profile `auto_advance_setup`, `await_device_configured`, `is_multi_user`, `support_email_address` |
//! | 3 | account `org_id`, `org_id_hash`, `org_type`, `org_version`, `urls` |
//! | 7 | iPads report `os: "iPadOS"` |
//! | 8 | device `mdm_migration_deadline` |
//! | 9 | assign may answer `THROTTLED` (decided in `api.rs`) |
//! | 10 | `retry_after_seconds`; device `eid`, MAC addresses, `imei`, `meid`, `is_replacement_device`, `released_by_replacement` |
//!
//! Pure; runs outside the world lock, so a 1000-device page renders in parallel with other
//! requests.

use crate::apple::dep::{self, AccountDetail, AccountUrl, Device, FetchDeviceResponse, UrlLimit};
use crate::dep::catalog;
use crate::dep::device::{Op, ProfileStatus as SimStatus, SimDevice};
use crate::dep::paging::{MAX_LIMIT, Page, PageItem};
use crate::dep::world::Server;
use time::OffsetDateTime;

/// Apple's timestamp form (`2025-04-28T08:03:42Z`) of Unix seconds.
pub fn rfc3339(secs: i64) -> String {
    OffsetDateTime::from_unix_timestamp(secs).map(dep::time_format::format).unwrap_or_default()
}

fn time(secs: i64) -> Option<OffsetDateTime> {
    OffsetDateTime::from_unix_timestamp(secs).ok()
}

fn status(s: SimStatus) -> dep::ProfileStatus {
    match s {
        SimStatus::Empty => dep::ProfileStatus::Empty,
        SimStatus::Assigned => dep::ProfileStatus::Assigned,
        SimStatus::Pushed => dep::ProfileStatus::Pushed,
        SimStatus::Removed => dep::ProfileStatus::Removed,
    }
}

fn op_type(op: Op) -> dep::OpType {
    match op {
        Op::Added => dep::OpType::Added,
        Op::Modified => dep::OpType::Modified,
        Op::Deleted => dep::OpType::Deleted,
    }
}

/// A full device record as fetch and `POST /devices` show it.
pub fn device(d: &SimDevice, protocol: u32) -> Device {
    let model = d.model();
    let mut out = Device {
        serial_number: d.serial.to_string(),
        model: Some(model.name.to_string()),
        description: Some(catalog::description(model, d.hw)),
        color: Some(catalog::color(model, d.hw).to_string()),
        asset_tag: d.has_asset_tag.then(|| catalog::asset_tag(d.hw)),
        profile_status: Some(status(d.profile_status)),
        profile_uuid: d.profile_uuid.as_deref().map(str::to_string),
        profile_assign_time: d.profile_assign_time.get().and_then(time),
        profile_push_time: d.profile_push_time.get().and_then(time),
        device_assigned_date: time(d.assigned_date),
        device_assigned_by: Some(d.assigned_by.to_string()),
        ..Device::default()
    };
    if protocol >= 2 {
        out.os = Some(model.family.os(protocol).to_string());
        out.device_family = Some(model.family.as_str().to_string());
    }
    if protocol >= 8 {
        out.mdm_migration_deadline = d.mdm_migration_deadline.get().and_then(time);
    }
    if protocol >= 10 {
        let hw = catalog::hardware(model, d.hw);
        out.eid = hw.eid;
        out.wifi_mac_address = Some(hw.wifi_mac);
        out.bluetooth_mac_address = Some(hw.bluetooth_mac);
        out.ethernet_mac_address = hw.ethernet_mac;
        out.imei = hw.imei;
        out.meid = hw.meid;
        out.is_replacement_device = Some(d.is_replacement);
    }
    out
}

/// A page record: fetch records have no `op_type`; `deleted` sync records carry only serial,
/// op_type, op_date and (v10) `released_by_replacement`, like Apple's sample.
pub fn item(i: &PageItem, protocol: u32) -> Device {
    match i.op {
        None => device(&i.device, protocol),
        Some((Op::Deleted, at)) => Device {
            serial_number: i.device.serial.to_string(),
            op_type: Some(dep::OpType::Deleted),
            op_date: time(at),
            released_by_replacement: (protocol >= 10 && i.released_by_replacement).then_some(true),
            ..Device::default()
        },
        Some((op, at)) => {
            Device { op_type: Some(op_type(op)), op_date: time(at), ..device(&i.device, protocol) }
        }
    }
}

/// A fetch or sync answer.
pub fn page(p: &Page, protocol: u32) -> FetchDeviceResponse {
    FetchDeviceResponse {
        cursor: p.cursor.clone(),
        devices: p.items.iter().map(|i| item(i, protocol)).collect(),
        fetched_until: time(p.fetched_until),
        more_to_follow: p.more_to_follow,
    }
}

/// `GET /account`. `urls` lists what Apple was observed to answer and nothing more (§3.1):
/// zentral's "what /account really answers" (`/session`, `/devices`, `/server/devices` and
/// `/devices/sync` with limit 1000/1000, `/profile/devices`, `/devices/disown`) plus the
/// `/account-driven-enrollment/profile` entry of petarov's sample
/// (`../shared/fixtures/dep-api-json/account.get.response.json`). Endpoints Apple serves but
/// was never seen listing (`/account`, `/profile`, activation lock, …) are not added.
pub fn account(s: &Server, protocol: u32) -> AccountDetail {
    let mut out = AccountDetail {
        server_name: s.name.clone(),
        server_uuid: s.uuid.clone(),
        admin_id: Some(s.admin_id.clone()),
        facilitator_id: Some(s.admin_id.clone()),
        org_name: Some(s.org.name.clone()),
        org_email: Some(s.org.email.clone()),
        org_phone: Some(s.org.phone.clone()),
        org_address: Some(s.org.address.clone()),
        ..AccountDetail::default()
    };
    if protocol >= 3 {
        out.org_id = Some(s.org.id.clone());
        out.org_id_hash = Some(s.org.id_hash.clone());
        out.org_type = Some(s.org.org_type.clone());
        out.org_version = Some(s.org.version.clone());
        let limit = Some(UrlLimit { default: MAX_LIMIT as u32, maximum: MAX_LIMIT as u32 });
        let url = |uri: &str, methods: &[&str], limit: Option<UrlLimit>| AccountUrl {
            uri: uri.to_string(),
            http_method: methods.iter().map(|m| m.to_string()).collect(),
            limit,
        };
        out.urls = vec![
            url("/session", &["GET"], None),
            url("/devices", &["POST"], None),
            url("/server/devices", &["POST"], limit),
            url("/devices/sync", &["POST"], limit),
            url("/profile/devices", &["DELETE", "POST", "PUT"], None),
            url("/devices/disown", &["POST"], None),
            url("/account-driven-enrollment/profile", &["DELETE", "POST", "GET"], None),
        ];
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dep::device::generate;
    use crate::rng::SimRng;
    use std::sync::Arc;

    fn ipad() -> SimDevice {
        let by: Arc<str> = Arc::from("a@b.example");
        let mut rng = SimRng::new(0);
        loop {
            let d = generate(&mut rng, None, &by, 1_700_000_000);
            if d.model().family == catalog::Family::IPad && d.model().cellular {
                return d;
            }
        }
    }

    #[test]
    fn optional_fields_follow_the_protocol_version() {
        let d = ipad();
        let v1 = device(&d, 1);
        assert!(v1.os.is_none() && v1.device_family.is_none() && v1.eid.is_none());
        assert_eq!(device(&d, 2).os.as_deref(), Some("iOS"));
        assert_eq!(device(&d, 7).os.as_deref(), Some("iPadOS"));
        assert!(device(&d, 9).wifi_mac_address.is_none());
        let v10 = device(&d, 10);
        assert!(v10.wifi_mac_address.is_some() && v10.eid.is_some() && !v10.imei.is_empty());
        assert_eq!(v10.is_replacement_device, Some(d.is_replacement));
    }

    #[test]
    fn a_deleted_record_carries_only_what_apple_sends() {
        let d = Arc::new(ipad());
        let i = PageItem {
            device: d,
            op: Some((Op::Deleted, 1_700_000_100)),
            released_by_replacement: true,
        };
        let json = serde_json::to_value(item(&i, 10)).unwrap();
        let keys: Vec<&str> = json.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(keys.len(), 4, "{keys:?}");
        assert_eq!(json["op_type"], "deleted");
        assert_eq!(json["released_by_replacement"], true);
        assert!(
            serde_json::to_value(item(&i, 9)).unwrap().get("released_by_replacement").is_none()
        );
    }

    #[test]
    fn fetch_records_have_no_op_type() {
        let i = PageItem { device: Arc::new(ipad()), op: None, released_by_replacement: false };
        assert!(item(&i, 10).op_type.is_none());
    }
}

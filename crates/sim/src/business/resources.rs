//! The world as the Apple Business API shows it (apple-2026.md §8.4–§8.6): JSON:API
//! resources for organisation devices and MDM servers, sparse fieldsets, and Apple's error
//! body. Built from the shared DEP world, so both APIs describe the same devices.
//!
//! Attributes the DEP world does not keep (order number, purchase source, capacity) are
//! derived from the device's hardware seed, so they are stable across calls. The MDM server
//! id is the DEP server's uuid: the identity both APIs report (§8.6 marks the equality
//! UNCERTAIN for Apple; the simulator makes it hold). Pure.

use crate::dep::catalog;
use crate::dep::device::{Migration, SimDevice};
use crate::dep::render::rfc3339;
use crate::dep::world::Server;
use crate::rng::mix;
use serde_json::{Map, Value, json};

/// Every attribute an organisation device has, in Apple's names (what `fields[orgDevices]`
/// may name, with the two relationships).
pub const DEVICE_FIELDS: &[&str] = &[
    "serialNumber",
    "addedToOrgDateTime",
    "updatedDateTime",
    "releasedFromOrgDateTime",
    "deviceModel",
    "productFamily",
    "productType",
    "deviceCapacity",
    "partNumber",
    "orderNumber",
    "orderDateTime",
    "color",
    "status",
    "imei",
    "meid",
    "eid",
    "purchaseSourceType",
    "purchaseSourceId",
    "wifiMacAddress",
    "bluetoothMacAddress",
    "ethernetMacAddress",
    "isMdmMigrationCapable",
    "mdmMigrationStatus",
    "mdmMigrationDeadlineDateTime",
    "assignedServer",
    "appleCareCoverage",
];

/// Every attribute an MDM server has.
pub const SERVER_FIELDS: &[&str] = &[
    "serverName",
    "serverType",
    "enableMdmDisownFlag",
    "defaultProductFamilies",
    "deviceCount",
    "status",
    "createdDateTime",
    "updatedDateTime",
    "devices",
];

/// Apple's ISO form with milliseconds (`2026-03-01T10:00:00.000Z`).
fn when(secs: i64) -> String {
    rfc3339(secs).replace('Z', ".000Z")
}

/// What a device list or single device shows.
pub struct DeviceView<'a> {
    pub device: &'a SimDevice,
    pub assigned: bool,
    pub migration: Option<&'a Migration>,
    /// `releasedFromOrgDateTime` only appears on single-device answers (§8.5).
    pub single: bool,
}

/// An `orgDevices` resource object, projected on `fields` (`None`: every field).
pub fn device(base: &str, v: &DeviceView, fields: Option<&[String]>) -> Value {
    let d = v.device;
    let model = d.model();
    let hw = catalog::hardware(model, d.hw);
    let cap = model.capacities_gb[(mix(d.hw ^ 2) % model.capacities_gb.len() as u64) as usize];
    let reseller = mix(d.hw ^ 5).is_multiple_of(3);
    let order = mix(d.hw ^ 6) % 1_000_000;
    let mut a = Map::new();
    a.insert("serialNumber".into(), json!(&*d.serial));
    a.insert("addedToOrgDateTime".into(), json!(when(d.assigned_date)));
    a.insert("updatedDateTime".into(), json!(when(d.assigned_date)));
    if v.single {
        a.insert("releasedFromOrgDateTime".into(), Value::Null);
    }
    a.insert("deviceModel".into(), json!(model.name));
    a.insert("productFamily".into(), json!(model.family.as_str()));
    a.insert("productType".into(), json!(model.marketing));
    a.insert("deviceCapacity".into(), json!(format!("{cap}GB")));
    a.insert("partNumber".into(), json!(format!("M{:04}LL/A", mix(d.hw ^ 7) % 10_000)));
    a.insert("orderNumber".into(), json!(format!("ORD{order:06}")));
    a.insert("orderDateTime".into(), json!(when(d.assigned_date - 86_400)));
    a.insert("color".into(), json!(catalog::color(model, d.hw)));
    a.insert("status".into(), json!(if v.assigned { "ASSIGNED" } else { "UNASSIGNED" }));
    a.insert("imei".into(), json!(hw.imei));
    a.insert("meid".into(), json!(hw.meid));
    if let Some(eid) = hw.eid {
        a.insert("eid".into(), json!(eid));
    }
    a.insert("purchaseSourceType".into(), json!(if reseller { "RESELLER" } else { "APPLE" }));
    a.insert(
        "purchaseSourceId".into(),
        json!(format!("{}", 1_000_000 + mix(d.hw ^ 8) % 9_000_000)),
    );
    a.insert("wifiMacAddress".into(), json!(hw.wifi_mac));
    a.insert("bluetoothMacAddress".into(), json!(hw.bluetooth_mac));
    if let Some(mac) = hw.ethernet_mac {
        a.insert("ethernetMacAddress".into(), json!([mac]));
    }
    a.insert("isMdmMigrationCapable".into(), json!(model.family != catalog::Family::IPod));
    if let Some(m) = v.migration {
        a.insert("mdmMigrationStatus".into(), json!("REQUESTED"));
        a.insert("mdmMigrationDeadlineDateTime".into(), json!(when(m.deadline)));
    }
    let self_link = format!("{base}/v1/orgDevices/{}", d.serial);
    let mut relationships = Map::new();
    relationships.insert(
        "assignedServer".into(),
        json!({"links": {"self": format!("{self_link}/relationships/assignedServer"),
                          "related": format!("{self_link}/assignedServer")}}),
    );
    relationships.insert(
        "appleCareCoverage".into(),
        json!({"links": {"related": format!("{self_link}/appleCareCoverage")}}),
    );
    project(&mut a, fields);
    project(&mut relationships, fields);
    let mut out = json!({"type": "orgDevices", "id": &*d.serial, "attributes": a,
                         "links": {"self": self_link}});
    if !relationships.is_empty() {
        out["relationships"] = Value::Object(relationships);
    }
    out
}

/// An `mdmServers` resource object.
pub fn server(base: &str, s: &Server, fields: Option<&[String]>) -> Value {
    let mut a = Map::new();
    a.insert("serverName".into(), json!(s.name));
    a.insert("serverType".into(), json!("MDM"));
    a.insert("enableMdmDisownFlag".into(), json!(true));
    a.insert("defaultProductFamilies".into(), json!([]));
    a.insert("deviceCount".into(), json!(s.device_count()));
    a.insert("status".into(), json!("ACTIVE"));
    let created = when(s.token.expiry.unix_timestamp() - 365 * 86_400);
    a.insert("createdDateTime".into(), json!(created));
    a.insert("updatedDateTime".into(), json!(created));
    let self_link = format!("{base}/v1/mdmServers/{}", s.uuid);
    let mut relationships = Map::new();
    relationships.insert(
        "devices".into(),
        json!({"links": {"self": format!("{self_link}/relationships/devices")}}),
    );
    project(&mut a, fields);
    project(&mut relationships, fields);
    let mut out = json!({"type": "mdmServers", "id": s.uuid, "attributes": a,
                         "links": {"self": self_link}});
    if !relationships.is_empty() {
        out["relationships"] = Value::Object(relationships);
    }
    out
}

fn project(map: &mut Map<String, Value>, fields: Option<&[String]>) {
    if let Some(keep) = fields {
        map.retain(|k, _| keep.iter().any(|f| f == k));
    }
}

/// Apple's `ErrorResponse` body with one error (§8.4).
pub fn error(status: u16, code: &str, title: &str, detail: &str, parameter: Option<&str>) -> Value {
    let mut e = json!({"id": format!("{:016x}", mix(status as u64 ^ detail.len() as u64)),
                       "status": status.to_string(), "code": code,
                       "title": title, "detail": detail});
    if let Some(p) = parameter {
        e["source"] = json!({"parameter": p});
    }
    json!({"errors": [e]})
}

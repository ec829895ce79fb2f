//! What the DEP API's routes share: the state handle they are given, the strict reading of
//! request bodies and serial lists, and per-device results. A leaf beside `api` and
//! `api_profiles`, which both use it.

use crate::apple::dep::DeviceStatus;
use crate::dep::codes::Code;
use crate::dep::profiles::DeviceResult;
use crate::dep::requests;
use crate::dep::respond::Reply;
use crate::dep::state::Shared;
use actix_web::web;
use std::collections::BTreeMap;

/// Most serials per assign, remove and disown request: "limit requests to 1000 devices at a
/// time" (§3.3).
pub const MAX_SERIALS: usize = 1000;

pub(super) type Data = web::Data<Shared>;

/// Reads a body strictly (see `requests.rs`); a refusal is Apple's error answer.
pub(super) fn body<T: serde::de::DeserializeOwned + Default>(
    what: &str,
    bytes: &[u8],
) -> Result<T, Reply> {
    requests::read(what, bytes).map_err(Reply::error)
}

/// A list of serials must name at least one (`DEVICE_ID_REQUIRED`) and, where Apple asks for
/// batches of at most 1000 (§3.3), no more: Apple documents no error for more, so the
/// simulator refuses with `MALFORMED_REQUEST_BODY` and a client that ignores the limit is
/// caught in tests.
pub(super) fn serials(devices: Option<Vec<String>>, capped: bool) -> Result<Vec<String>, Reply> {
    let devices = devices.unwrap_or_default();
    if devices.is_empty() {
        return Err(Reply::error(Code::DeviceIdRequired));
    }
    if capped && devices.len() > MAX_SERIALS {
        log::warn!(target: "sim::dep", "refused {} serials in one request (at most {MAX_SERIALS})", devices.len());
        return Err(Reply::error(Code::MalformedRequestBody));
    }
    Ok(devices)
}

pub(super) fn status(r: DeviceResult) -> DeviceStatus {
    match r {
        DeviceResult::Success => DeviceStatus::Success,
        DeviceResult::NotAccessible => DeviceStatus::NotAccessible,
        DeviceResult::Failed => DeviceStatus::Failed,
        DeviceResult::Throttled => DeviceStatus::Throttled,
    }
}

pub(super) fn results(list: Vec<(String, DeviceResult)>) -> BTreeMap<String, DeviceStatus> {
    list.into_iter().map(|(s, r)| (s, status(r))).collect()
}

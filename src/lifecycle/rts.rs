//! A device's Return to Service settings (`../shared/spec/apple-2026.md` §2): the Wi-Fi
//! profile the admin uploaded (sealed: it holds the network's password), stored when the admin
//! starts Return to Service. The erase command reads them when it is sent, and a later
//! `ReturnToService` check-in from the device (§2.4) is answered with them; the bootstrap token
//! is added where the OS uses it. The enrollment profile is not stored: its one-time ACME
//! identity lives an hour, so `mdm` has one signed each time the device is handed the settings.

use crate::apple::mdm::rts::{ReturnToService, retries_enrollment, uses_bootstrap_token};
use crate::crypto::Secret;
use crate::ids::Udid;
use crate::store::{self, Sealed, Sealer, SecretField, StoreError, Table};
use base64ct::{Base64, Encoding};
use redb::WriteTransaction;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// UDID (upper case) → [`RtsRec`].
pub const RETURN_TO_SERVICE: Table = store::table("lifecycle.return_to_service");

/// The Wi-Fi profile, base64, sealed and bound to the UDID row.
pub const WIFI: SecretField = SecretField::new("lifecycle.return_to_service", "wifi_profile");

#[derive(Clone, Debug, Serialize, Deserialize)]
struct RtsRec {
    v: u8,
    wifi_profile: Option<Sealed>,
    /// The Wi-Fi profile's display name, for the page.
    wifi_name: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    set_at: OffsetDateTime,
    set_by: String,
}

/// What is stored for one device's Return to Service.
#[derive(Clone)]
pub struct RtsSettings {
    /// The Wi-Fi profile's name and bytes, when one was given.
    pub wifi: Option<(String, Vec<u8>)>,
    pub by: String,
}

/// Stores `udid`'s settings, replacing older ones.
pub fn set_in(
    wtx: &WriteTransaction,
    sealer: &Sealer,
    udid: &Udid,
    settings: &RtsSettings,
    now: OffsetDateTime,
) -> Result<(), StoreError> {
    let key = udid.key();
    let wifi = settings.wifi.as_ref().map(|(_, bytes)| {
        sealer.seal(WIFI, key.as_bytes(), &Secret::new(Base64::encode_string(bytes)))
    });
    // v1 also kept a signed enrollment profile, whose identity expired after an hour; its
    // field is ignored when read.
    let rec = RtsRec {
        v: 2,
        wifi_profile: wifi,
        wifi_name: settings.wifi.as_ref().map(|(name, _)| name.clone()),
        set_at: now,
        set_by: settings.by.clone(),
    };
    store::put(&mut wtx.open_table(RETURN_TO_SERVICE)?, key.as_bytes(), &rec)
}

/// Whether the admin started Return to Service for `udid` (its settings are stored).
pub fn is_set_in(rtx: &redb::ReadTransaction, udid: &Udid) -> Result<bool, StoreError> {
    Ok(rtx.open_table(RETURN_TO_SERVICE)?.get(udid.key().as_bytes())?.is_some())
}

/// What the device is handed for Return to Service, `None` when the admin never started it:
/// the stored Wi-Fi profile, `mdm_profile` (signed for this hand-over) and, where the device's
/// OS uses them (§2.2), its escrowed bootstrap token and `ShouldRetryEnrollment`.
pub fn settings_in(
    wtx: &WriteTransaction,
    sealer: &Sealer,
    udid: &Udid,
    device: (Option<&str>, Option<&str>),
    mdm_profile: Option<Vec<u8>>,
) -> Result<Option<ReturnToService>, StoreError> {
    let (product, os_version) = device;
    let key = udid.key();
    let table = wtx.open_table(RETURN_TO_SERVICE)?;
    let Some(rec) = store::get::<RtsRec, _>(&table, key.as_bytes())? else { return Ok(None) };
    let malformed = |field: SecretField| StoreError::Unseal {
        table: field.table(),
        field: field.field(),
        reason: "the stored value is not base64",
    };
    let wifi_profile = match &rec.wifi_profile {
        Some(sealed) => {
            let text = sealer.open(WIFI, key.as_bytes(), sealed)?;
            Some(Base64::decode_vec(text.expose()).map_err(|_| malformed(WIFI))?)
        }
        None => None,
    };
    let bootstrap_token = match uses_bootstrap_token(product, os_version) {
        true => super::bootstrap::token_in(wtx, sealer, udid)?.map(|t| t.expose().clone()),
        false => None,
    };
    let should_retry_enrollment = retries_enrollment(product, os_version);
    Ok(Some(ReturnToService {
        wifi_profile,
        mdm_profile,
        bootstrap_token,
        should_retry_enrollment,
    }))
}

//! A device's Return to Service settings (`../shared/spec/apple-2026.md` §2): the Wi-Fi
//! profile the admin uploaded (sealed: it holds the network's password) and the enrollment
//! profile made for the device, stored when the admin starts Return to Service. The erase
//! command reads them when it is sent, and a later `ReturnToService` check-in from the device
//! (§2.4) is answered with them; the bootstrap token is added where the OS uses it.

use crate::apple::mdm::rts::{ReturnToService, uses_bootstrap_token};
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
    /// The signed enrollment profile, base64 (no secret: its one-time identity is bound to
    /// this device).
    mdm_profile: String,
    #[serde(with = "time::serde::rfc3339")]
    set_at: OffsetDateTime,
    set_by: String,
}

/// What is stored for one device's Return to Service.
#[derive(Clone)]
pub struct RtsSettings {
    /// The Wi-Fi profile's name and bytes, when one was given.
    pub wifi: Option<(String, Vec<u8>)>,
    pub mdm_profile: Vec<u8>,
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
    let rec = RtsRec {
        v: 1,
        wifi_profile: wifi,
        wifi_name: settings.wifi.as_ref().map(|(name, _)| name.clone()),
        mdm_profile: Base64::encode_string(&settings.mdm_profile),
        set_at: now,
        set_by: settings.by.clone(),
    };
    store::put(&mut wtx.open_table(RETURN_TO_SERVICE)?, key.as_bytes(), &rec)
}

/// What the device is handed for Return to Service, `None` when the admin never started it:
/// the stored profiles and, where the device's OS uses it (§2.2), its escrowed bootstrap
/// token.
pub fn settings_in(
    wtx: &WriteTransaction,
    sealer: &Sealer,
    udid: &Udid,
    product: Option<&str>,
    os_version: Option<&str>,
) -> Result<Option<ReturnToService>, StoreError> {
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
    let mdm_profile = Base64::decode_vec(&rec.mdm_profile)
        .map_err(|_| malformed(SecretField::new("lifecycle.return_to_service", "mdm_profile")))?;
    let bootstrap_token = match uses_bootstrap_token(product, os_version) {
        true => super::bootstrap::token_in(wtx, sealer, udid)?.map(|t| t.expose().clone()),
        false => None,
    };
    Ok(Some(ReturnToService { wifi_profile, mdm_profile: Some(mdm_profile), bootstrap_token }))
}

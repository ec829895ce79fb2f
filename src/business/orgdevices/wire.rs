//! The organisation-device pages as Apple sends them (apple-2026.md §8.5), read leniently:
//! every attribute is optional (the migration fields came with API 2.3, a sparse fieldset
//! may leave any out), unknown ones are ignored, `purchaseSourceUid` is read as
//! `purchaseSourceId` (§8.5 UNCERTAIN which name is current), and `imei`-style fields adebox
//! does not keep are never read. No sparse fieldset is asked for: a field name the
//! account's API version does not know would be refused, and a page of 1,000 is small anyway.

use super::{Facts, OrgDevice};
use crate::ids::Serial;
use serde::Deserialize;

/// `OrgDevice.Attributes`, the members the list keeps.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Attributes {
    serial_number: Option<String>,
    device_model: Option<String>,
    product_family: Option<String>,
    product_type: Option<String>,
    status: Option<String>,
    purchase_source_type: Option<String>,
    #[serde(alias = "purchaseSourceUid")]
    purchase_source_id: Option<String>,
    order_number: Option<String>,
    order_date_time: Option<String>,
    added_to_org_date_time: Option<String>,
    is_mdm_migration_capable: Option<bool>,
    mdm_migration_status: Option<String>,
    mdm_migration_deadline_date_time: Option<String>,
}

impl Attributes {
    /// The row for the device `id` seen by `run` (Apple's id is the serial; the attribute
    /// wins if both are there). The server is set later, from the servers' lists. None when
    /// Apple's serial is not one ([`Serial::parse`]): such a device could not be searched,
    /// acted on or matched with the inventory, so it is left out as the DEP sync does.
    pub fn into_row(self, id: String, run: u64) -> Option<OrgDevice> {
        let text = self.serial_number.filter(|s| !s.is_empty()).unwrap_or(id);
        let Ok(serial) = Serial::parse(&text) else {
            log::debug!(serial = text.as_str(); "organisation device ignored: not a serial number");
            return None;
        };
        let facts = Facts {
            serial,
            model: self.device_model,
            product_family: self.product_family,
            product_type: self.product_type,
            status: self.status,
            purchase_source_type: self.purchase_source_type,
            purchase_source_id: self.purchase_source_id,
            order_number: self.order_number,
            order_date: self.order_date_time,
            added_at: self.added_to_org_date_time,
            migration_capable: self.is_mdm_migration_capable,
            migration_status: self.mdm_migration_status,
            migration_deadline: self.mdm_migration_deadline_date_time,
        };
        Some(OrgDevice { facts, server_id: None, seen_run: run, server_run: 0 })
    }
}

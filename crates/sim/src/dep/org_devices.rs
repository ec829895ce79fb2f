//! The organisation-wide view of the world that the Apple Business API simulator serves:
//! every device the organisation owns in serial order with the server it is assigned to,
//! a server's serials, and unassigning (a device leaving its server for the unassigned pool).
//!
//! Accessors only: the Business API keeps its own state (accounts, activities) in
//! `crate::business`, and reaches the shared devices through these methods, so the same
//! change shows up in the DEP API's next sync. Pure: time comes in as `now`.

use crate::dep::changes::ChangeReport;
use crate::dep::device::SimDevice;
use crate::dep::world::{Location, ServerId, World};
use std::sync::Arc;
use time::OffsetDateTime;

/// A device of the organisation and the server it is assigned to (`None`: unassigned).
pub type OrgDevice = (Arc<SimDevice>, Option<ServerId>);

impl World {
    /// Up to `limit` organisation devices with serials after `after`, in serial order. Each
    /// holder (the unassigned pool and each server, few of them) gives its next `limit`
    /// serials and the smallest win, so a page costs `limit × holders`, never the whole org.
    pub fn org_devices_after(&self, after: Option<&str>, limit: usize) -> Vec<OrgDevice> {
        use std::ops::Bound::{Excluded, Unbounded};
        let lower = after.map_or(Unbounded, Excluded);
        let mut page: Vec<OrgDevice> = self
            .unassigned
            .range::<str, _>((lower, Unbounded))
            .take(limit)
            .map(|(_, d)| (Arc::clone(d), None))
            .collect();
        for (i, s) in self.servers.iter().enumerate() {
            page.extend(
                s.devices
                    .range::<str, _>((lower, Unbounded))
                    .take(limit)
                    .map(|(_, d)| (Arc::clone(d), Some(i as ServerId))),
            );
        }
        page.sort_unstable_by(|a, b| a.0.serial.cmp(&b.0.serial));
        page.truncate(limit);
        page
    }

    /// How many devices the organisation owns.
    pub fn org_device_count(&self) -> usize {
        self.unassigned.len() + self.servers.iter().map(|s| s.devices.len()).sum::<usize>()
    }

    /// One organisation device and its server.
    pub fn org_device(&self, serial: &str) -> Option<OrgDevice> {
        match self.locate(serial)? {
            Location::Unassigned => self.unassigned.get(serial).map(|d| (Arc::clone(d), None)),
            Location::Server(id) => self.device_at(id, serial).map(|d| (d, Some(id))),
        }
    }

    /// Up to `limit` serials a server holds after `after`, in serial order.
    pub fn server_serials_after(
        &self,
        server: ServerId,
        after: Option<&str>,
        limit: usize,
    ) -> Vec<Arc<str>> {
        use std::ops::Bound::{Excluded, Unbounded};
        let Some(s) = self.servers.get(server as usize) else { return Vec::new() };
        let lower = after.map_or(Unbounded, Excluded);
        s.devices
            .range::<str, _>((lower, Unbounded))
            .take(limit)
            .map(|(k, _)| Arc::clone(k))
            .collect()
    }

    /// Unassigns devices from `from` (Apple Business "Unassign"): `deleted` there, and the
    /// device waits in the unassigned pool. Serials not at `from` are reported unknown.
    pub fn unassign_devices(
        &mut self,
        serials: &[String],
        from: ServerId,
        now: OffsetDateTime,
    ) -> ChangeReport {
        let at = now.unix_timestamp();
        let mut report = ChangeReport::default();
        for serial in serials {
            if self.locate(serial) != Some(Location::Server(from)) {
                report.unknown.push(serial.clone());
                continue;
            }
            if let Some(dev) = self.take(serial, Location::Server(from), at, true, false) {
                self.place(
                    Arc::new(dev.without_profile()),
                    None,
                    crate::dep::device::Op::Added,
                    at,
                );
                report.changed.push(serial.clone());
            }
        }
        report
    }
}

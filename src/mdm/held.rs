//! The devices a failed blocking setup step holds in Setup Assistant, indexed so the alerts can
//! find them without reading every enrollment: `mdm.held` (serial → [`HeldRec`]) follows each
//! saved enrollment ([`follow_in`], called by `records::save_enrollment`, the one place an
//! enrollment is written; the table and its record are in `records`).
//!
//! A store written before the index existed has held devices it does not list: the first
//! [`Mdm::held`] reads every enrollment once, fills the index and notes it in `mdm.meta`.
//! Doing it there rather than in a store migration keeps the decoding of enrollments and setup
//! runs in this module.

use super::records::{ENROLLMENTS, EnrollmentRec, HELD, HELD_INDEXED, HeldRec, META, holding};
use super::{Mdm, MdmError};
use crate::ids::Serial;
use crate::store::{self, StoreError};
use redb::{ReadableTable, ReadableTableMetadata, WriteTransaction};
use time::OffsetDateTime;

/// How many held devices [`Mdm::held`] returns at most (the total is counted whole).
pub const MAX_LISTED: usize = 200;

/// A device a failed blocking setup step holds in Setup Assistant.
#[derive(Clone, Debug, PartialEq)]
pub struct HeldDevice {
    pub serial: Serial,
    /// 1-based, as the timeline counts steps.
    pub step_number: usize,
    pub step_title: String,
    pub why: Option<String>,
    pub since: OffsetDateTime,
}

/// The held devices: how many, and the first [`MAX_LISTED`] by serial.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Held {
    pub total: u64,
    pub devices: Vec<HeldDevice>,
}

/// Fills `mdm.held` from every enrollment, once per store.
fn index_once_in(wtx: &WriteTransaction) -> Result<(), StoreError> {
    let mut meta = wtx.open_table(META)?;
    if meta.get(HELD_INDEXED)?.is_some() {
        return Ok(());
    }
    let mut held = wtx.open_table(HELD)?;
    for row in wtx.open_table(ENROLLMENTS)?.iter()? {
        let (_, v) = row?;
        let e: EnrollmentRec = store::decode("mdm.enrollments", v.value())?;
        if let Some(h) = holding(&e) {
            store::put(&mut held, e.serial.as_bytes(), &h)?;
        }
    }
    store::put(&mut meta, HELD_INDEXED, &true)?;
    Ok(())
}

impl Mdm {
    /// The devices a failed blocking setup step holds in Setup Assistant: they wait for an
    /// admin's "Retry" or "Release anyway" (the release timeout does not release them), so the
    /// alerts tell someone.
    pub async fn held(&self) -> Result<Held, MdmError> {
        let indexed = self
            .inner
            .store
            .read(|rtx| Ok::<_, MdmError>(rtx.open_table(META)?.get(HELD_INDEXED)?.is_some()))
            .await?;
        if !indexed {
            self.inner.store.write(|wtx| Ok::<_, MdmError>(index_once_in(wtx)?)).await?;
        }
        self.inner
            .store
            .read(|rtx| {
                let t = rtx.open_table(HELD)?;
                let mut devices = Vec::new();
                for row in t.iter()?.take(MAX_LISTED) {
                    let (k, v) = row?;
                    let h: HeldRec = store::decode("mdm.held", v.value())?;
                    let serial = String::from_utf8_lossy(k.value()).into_owned();
                    devices.push(HeldDevice {
                        serial: Serial::from_stored(serial),
                        step_number: h.step + 1,
                        step_title: h.title,
                        why: h.why,
                        since: h.since,
                    });
                }
                Ok::<_, MdmError>(Held { total: t.len()?, devices })
            })
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::apple::mdm::Command;
    use crate::ids::Udid;
    use crate::setup::{OnError, RunStep, SetupRun};
    use crate::store::Store;
    use time::macros::datetime;

    const T0: OffsetDateTime = datetime!(2026-12-07 10:00 UTC);

    fn enrollment(serial: &str, run: SetupRun) -> EnrollmentRec {
        EnrollmentRec {
            v: 1,
            udid: Udid::parse(&format!("0000-{serial}")).unwrap(),
            serial: Serial::parse(serial).unwrap(),
            cert_sha256: "ab".into(),
            topic: "com.apple.mgmt.test".into(),
            push_token: None,
            push_magic: None,
            unlock_token: None,
            product: None,
            os_version: None,
            authenticated_at: T0,
            token_updated_at: None,
            last_seen: T0,
            awaiting_configuration: true,
            release_deadline: None,
            released_at: None,
            checked_out_at: None,
            next_seq: 0,
            setup: Some(run),
        }
    }

    fn failed_run() -> SetupRun {
        let step =
            RunStep::send("Install \"VPN\"".into(), Command::DeviceConfigured, OnError::Block);
        let mut run = SetupRun::new(vec![step]);
        run.sent(0, "c1".into());
        run.answered(0, false, "refused");
        run
    }

    fn held_serials(store: &Store) -> Vec<String> {
        store
            .read_blocking(|rtx| {
                let mut out = Vec::new();
                for row in rtx.open_table(HELD)?.iter()? {
                    out.push(String::from_utf8_lossy(row?.0.value()).into_owned());
                }
                Ok::<_, StoreError>(out)
            })
            .unwrap()
    }

    #[test]
    fn the_index_follows_each_save_and_fills_once_for_an_older_store() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path(), &[crate::mdm::TABLES]).unwrap();
        let mut e = enrollment("C02HELD1", failed_run());
        let saved = e.clone();
        store
            .write_blocking(move |wtx| super::super::records::save_enrollment(wtx, &saved))
            .unwrap();
        assert_eq!(held_serials(&store), ["C02HELD1"]);

        // Released anyway: no longer held.
        e.setup.as_mut().unwrap().release_anyway("ana");
        let saved = e.clone();
        store
            .write_blocking(move |wtx| super::super::records::save_enrollment(wtx, &saved))
            .unwrap();
        assert!(held_serials(&store).is_empty());

        // A held device written before the index existed is found by the one-time fill.
        let old = enrollment("C02HELD2", failed_run());
        store
            .write_blocking(move |wtx| {
                store::put(&mut wtx.open_table(ENROLLMENTS)?, old.udid.key().as_bytes(), &old)?;
                index_once_in(wtx)?;
                assert_eq!(wtx.open_table(HELD)?.len()?, 1, "the fill finds the older device");
                // Once only: a second fill finds the marker and reads nothing.
                wtx.open_table(HELD)?.remove(b"C02HELD2".as_slice())?;
                index_once_in(wtx)
            })
            .unwrap();
        assert!(held_serials(&store).is_empty(), "the fill ran twice");
        let mut checked_out = enrollment("C02HELD3", failed_run());
        checked_out.checked_out_at = Some(T0);
        assert_eq!(holding(&checked_out), None);
    }
}

//! The enrollment funnel's storage: a bounded table of recent enrollment events, all-time
//! counts per step, and the enrollment settings.
//!
//! Owns the tables `enroll.events` (sequence → event; the oldest are dropped past
//! [`MAX_EVENTS`]), `enroll.counts` (step → count since the appliance started counting) and
//! `enroll.settings`. Counts for the last 24 hours are read from the events, so they are
//! exact as long as fewer than [`MAX_EVENTS`] events happened in that day.
//!
//! Events come from the profile URL, from SCEP, and from ACME ([`acme_event`]: a refused
//! device attestation, an identity issued), recorded in the same transaction as the change
//! they describe.

use crate::devices::TimelineKind;
use crate::ids::{Serial, Udid};
use crate::store::{self, StoreError, Table};
use redb::{ReadTransaction, ReadableTable, ReadableTableMetadata, WriteTransaction};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

pub(super) const EVENTS: Table = store::table("enroll.events");
pub(super) const COUNTS: Table = store::table("enroll.counts");
pub(super) const SETTINGS: Table = store::table("enroll.settings");
const SETTINGS_KEY: &[u8] = b"settings";

/// Recent events kept (each a few hundred bytes).
pub const MAX_EVENTS: u64 = 10_000;

/// One step of the funnel, in the order a device goes through them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Step {
    /// Posted a MachineInfo to the profile URL.
    Contacted,
    /// Refused (the reason is in the event).
    Refused,
    /// Would have been refused, let through because audit-only mode is on.
    Audited,
    /// Told to update its OS first.
    OsUpdateRequired,
    /// Got the signed enrollment profile.
    ProfileServed,
    /// Was issued its device identity (by ACME or SCEP).
    CertificateIssued,
}

impl Step {
    pub const ALL: [Step; 6] = [
        Step::Contacted,
        Step::Refused,
        Step::Audited,
        Step::OsUpdateRequired,
        Step::ProfileServed,
        Step::CertificateIssued,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Step::Contacted => "contacted",
            Step::Refused => "refused",
            Step::Audited => "audited",
            Step::OsUpdateRequired => "os_update_required",
            Step::ProfileServed => "profile_served",
            Step::CertificateIssued => "certificate_issued",
        }
    }
}

/// One enrollment event: what a device did at the profile URL, SCEP or ACME.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EnrollEvent {
    pub at: OffsetDateTime,
    pub step: Step,
    /// The serial the device claimed (absent when its MachineInfo could not be read).
    pub serial: Option<Serial>,
    pub udid: Option<Udid>,
    pub product: Option<String>,
    /// The refusal's stable code (refused and audited events).
    pub reason: Option<String>,
    /// Plain words.
    pub message: String,
}

/// An [`EnrollEvent`] as `enroll.events` keeps it (the bytes are this module's own, apart
/// from the event the rest of adebox sees).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
struct EventRecord {
    #[serde(with = "time::serde::rfc3339")]
    at: OffsetDateTime,
    step: Step,
    serial: Option<Serial>,
    udid: Option<Udid>,
    product: Option<String>,
    reason: Option<String>,
    message: String,
}

impl From<&EnrollEvent> for EventRecord {
    fn from(e: &EnrollEvent) -> EventRecord {
        let e = e.clone();
        let EnrollEvent { at, step, serial, udid, product, reason, message } = e;
        EventRecord { at, step, serial, udid, product, reason, message }
    }
}

impl From<EventRecord> for EnrollEvent {
    fn from(r: EventRecord) -> EnrollEvent {
        let EventRecord { at, step, serial, udid, product, reason, message } = r;
        EnrollEvent { at, step, serial, udid, product, reason, message }
    }
}

/// Enrollment settings the admin edits.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct EnrollSettings {
    /// Log and record devices the gate would refuse, and let them enroll anyway.
    pub audit_only: bool,
}

/// [`EnrollSettings`] as `enroll.settings` keeps them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
struct SettingsRecord {
    #[serde(default)]
    audit_only: bool,
}

pub fn settings_in(rtx: &ReadTransaction) -> Result<EnrollSettings, StoreError> {
    let r: SettingsRecord =
        store::get(&rtx.open_table(SETTINGS)?, SETTINGS_KEY)?.unwrap_or_default();
    Ok(EnrollSettings { audit_only: r.audit_only })
}

pub fn set_settings_in(wtx: &WriteTransaction, s: &EnrollSettings) -> Result<(), StoreError> {
    let r = SettingsRecord { audit_only: s.audit_only };
    store::put(&mut wtx.open_table(SETTINGS)?, SETTINGS_KEY, &r)
}

/// Appends an event, counts it, and drops the oldest past [`MAX_EVENTS`].
pub fn record_in(wtx: &WriteTransaction, event: &EnrollEvent) -> Result<(), StoreError> {
    let mut events = wtx.open_table(EVENTS)?;
    let next = match events.last()? {
        Some((k, _)) => seq_of(k.value()) + 1,
        None => 0,
    };
    store::put(&mut events, &next.to_be_bytes(), &EventRecord::from(event))?;
    while events.len()? > MAX_EVENTS {
        if events.pop_first()?.is_none() {
            break;
        }
    }
    let mut counts = wtx.open_table(COUNTS)?;
    let key = event.step.code().as_bytes();
    let n: u64 = store::get(&counts, key)?.unwrap_or(0);
    store::put(&mut counts, key, &(n + 1))
}

/// [`record_in`], and a note on the device's timeline (kind `enrollment_<step>`) when the
/// event names a serial.
pub fn record_with_timeline_in(
    wtx: &WriteTransaction,
    event: &EnrollEvent,
) -> Result<(), StoreError> {
    record_in(wtx, event)?;
    if let Some(serial) = &event.serial {
        let kind = timeline_kind(event.step);
        crate::devices::note_in(wtx, serial, kind, event.message.clone(), event.at)?;
    }
    Ok(())
}

/// The timeline kind of a funnel step (`enrollment_<step code>`).
fn timeline_kind(step: Step) -> TimelineKind {
    match step {
        Step::Contacted => TimelineKind::EnrollmentContacted,
        Step::Refused => TimelineKind::EnrollmentRefused,
        Step::Audited => TimelineKind::EnrollmentAudited,
        Step::OsUpdateRequired => TimelineKind::EnrollmentOsUpdateRequired,
        Step::ProfileServed => TimelineKind::EnrollmentProfileServed,
        Step::CertificateIssued => TimelineKind::EnrollmentCertificateIssued,
    }
}

/// The refusal code of a device attestation ACME refused.
pub const ACME_ATTESTATION_REFUSED: &str = "acme_attestation_refused";

/// The funnel event of an ACME outcome: a refused attestation is a refusal with its reason
/// (the problem ACME recorded on the challenge), an issued identity the last step.
pub fn acme_event(o: &crate::acme::DeviceOutcome) -> EnrollEvent {
    use crate::acme::OutcomeKind;
    let (step, reason, message) = match &o.kind {
        OutcomeKind::AttestationRefused { detail } => (
            Step::Refused,
            Some(ACME_ATTESTATION_REFUSED.to_string()),
            format!("ACME refused the device attestation: {detail}"),
        ),
        OutcomeKind::CertificateIssued => {
            (Step::CertificateIssued, None, "certificate issued (ACME)".to_string())
        }
    };
    EnrollEvent {
        at: o.at,
        step,
        serial: o.serial.clone(),
        udid: o.udid.clone(),
        product: None,
        reason,
        message,
    }
}

fn seq_of(k: &[u8]) -> u64 {
    k.try_into().map(u64::from_be_bytes).unwrap_or(0)
}

/// Counts per step: all time, and since `since`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Funnel {
    pub steps: Vec<FunnelStep>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FunnelStep {
    pub step: Step,
    pub all_time: u64,
    pub last_24h: u64,
}

pub fn funnel_in(rtx: &ReadTransaction, since: OffsetDateTime) -> Result<Funnel, StoreError> {
    let mut recent = [0u64; Step::ALL.len()];
    let mut all = [0u64; Step::ALL.len()];
    // Newest first; stop at the first event older than `since`.
    for row in rtx.open_table(EVENTS)?.iter()?.rev() {
        let (_, v) = row?;
        let e: EventRecord = store::decode("enroll.events", v.value())?;
        if e.at < since {
            break;
        }
        recent[index(e.step)] += 1;
    }
    let counts = rtx.open_table(COUNTS)?;
    for (i, step) in Step::ALL.iter().enumerate() {
        all[i] = store::get(&counts, step.code().as_bytes())?.unwrap_or(0);
    }
    let steps = Step::ALL
        .iter()
        .enumerate()
        .map(|(i, &step)| FunnelStep { step, all_time: all[i], last_24h: recent[i] })
        .collect();
    Ok(Funnel { steps })
}

fn index(step: Step) -> usize {
    Step::ALL.iter().position(|s| *s == step).unwrap_or(0)
}

/// When refusals (not audited events) at or after `since` happened, and the newest event's
/// sequence number. With `after` (the newest sequence of an earlier call) only the events
/// recorded since are read, so a caller keeping a window reads each event once; without it
/// the newest events back to `since`.
pub fn refused_after_in(
    rtx: &ReadTransaction,
    after: Option<u64>,
    since: OffsetDateTime,
) -> Result<(Vec<OffsetDateTime>, Option<u64>), StoreError> {
    let events = rtx.open_table(EVENTS)?;
    let newest = events.last()?.map(|(k, _)| seq_of(k.value()));
    let mut times = Vec::new();
    let mut take = |v: &[u8]| -> Result<bool, StoreError> {
        let e: EventRecord = store::decode("enroll.events", v)?;
        if e.at >= since && e.step == Step::Refused {
            times.push(e.at);
        }
        Ok(e.at >= since)
    };
    match after {
        Some(after) => {
            let start = (after + 1).to_be_bytes();
            for row in events.range::<&[u8]>(start.as_slice()..)? {
                take(row?.1.value())?;
            }
        }
        None => {
            for row in events.iter()?.rev() {
                if !take(row?.1.value())? {
                    break;
                }
            }
            times.reverse();
        }
    }
    Ok((times, newest))
}

/// Refused and audited events, newest first, with the total of such events kept.
pub fn refusals_in(
    rtx: &ReadTransaction,
    limit: usize,
    offset: usize,
) -> Result<(Vec<EnrollEvent>, u64), StoreError> {
    let events = rtx.open_table(EVENTS)?;
    let mut items = Vec::new();
    let mut total = 0u64;
    for row in events.iter()?.rev() {
        let (_, v) = row?;
        let e: EventRecord = store::decode("enroll.events", v.value())?;
        if matches!(e.step, Step::Refused | Step::Audited) {
            if total as usize >= offset && items.len() < limit {
                items.push(e.into());
            }
            total += 1;
        }
    }
    Ok((items, total))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;
    use time::macros::datetime;

    const NOW: OffsetDateTime = datetime!(2026-12-07 12:00 UTC);

    fn event(minutes_ago: i64, step: Step) -> EnrollEvent {
        let at = NOW - time::Duration::minutes(minutes_ago);
        EnrollEvent {
            at,
            step,
            serial: None,
            udid: None,
            product: None,
            reason: None,
            message: String::new(),
        }
    }

    #[test]
    fn refusals_are_read_back_to_the_hour_then_only_the_new_ones() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path(), &[super::super::TABLES]).unwrap();
        let record = |e: EnrollEvent| store.write_blocking(move |wtx| record_in(wtx, &e)).unwrap();
        for (ago, step) in [
            (120, Step::Refused),
            (30, Step::Refused),
            (10, Step::Contacted),
            (5, Step::Audited),
            (1, Step::Refused),
        ] {
            record(event(ago, step));
        }
        let since = NOW - time::Duration::hours(1);
        let read = |after| store.read_blocking(move |rtx| refused_after_in(rtx, after, since));
        let (times, newest) = read(None).unwrap();
        let at = |ago| NOW - time::Duration::minutes(ago);
        assert_eq!((times, newest), (vec![at(30), at(1)], Some(4)), "oldest first, audited not");

        record(event(0, Step::Refused));
        record(event(0, Step::Contacted));
        assert_eq!(read(Some(4)).unwrap(), (vec![at(0)], Some(6)), "only what came since");
        assert_eq!(read(Some(6)).unwrap(), (vec![], Some(6)));
    }

    /// The stored forms are this module's: an event and the settings written before they were
    /// split from the types the rest of adebox sees read back and are re-written as they were.
    #[test]
    fn stored_events_and_settings_keep_their_bytes() {
        let event = br#"{"at":"2026-12-07T11:59:00Z","step":"refused","serial":"C02XK1ABCD12","udid":"00008101-00aa","product":"iPad13,1","reason":"foreign_profile","message":"refused"}"#;
        let r: EventRecord = store::decode("enroll.events", event).unwrap();
        assert_eq!(store::encode(&r), event.to_vec());
        let e = EnrollEvent::from(r);
        assert_eq!(e.udid.as_ref().map(|u| u.as_str()), Some("00008101-00aa"), "as held");
        assert_eq!(store::encode(&EventRecord::from(&e)), event.to_vec());
        let none = br#"{"at":"2026-12-07T11:59:00Z","step":"contacted","serial":null,"udid":null,"product":null,"reason":null,"message":""}"#;
        let r: EventRecord = store::decode("enroll.events", none).unwrap();
        assert_eq!(store::encode(&EventRecord::from(&EnrollEvent::from(r))), none.to_vec());
        for settings in [&br#"{"audit_only":true}"#[..], br#"{"audit_only":false}"#] {
            let r: SettingsRecord = store::decode("enroll.settings", settings).unwrap();
            assert_eq!(store::encode(&r), settings.to_vec());
        }
        let old: SettingsRecord = store::decode("enroll.settings", b"{}").unwrap();
        assert!(!old.audit_only, "settings from before audit-only mode read as off");
    }
}

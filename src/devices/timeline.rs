//! The timeline table as written inside a transaction, together with the events publisher:
//! every timeline event a site's tools are told about (device synced, profile assigned,
//! enrolled, released, refused) becomes an `adebox.*` webhook event in the same transaction,
//! so the event exists exactly when the change it reports was committed (and costs nothing
//! when no subscription wants it).

use super::records::{
    DeviceRecord, TIMELINE, TIMELINE_LIMIT, TimelineEvent, TimelineKind, timeline_key,
};
use crate::events::{AdeboxEvent, Publisher, Topic, envelope};
use crate::ids::Serial;
use crate::store::{self, StoreError, WriteTable};
use redb::WriteTransaction;

/// The open timeline table and the publisher of the same transaction.
pub struct Timeline<'txn> {
    pub(super) table: WriteTable<'txn>,
    events: Publisher<'txn>,
}

impl<'txn> Timeline<'txn> {
    pub fn open(wtx: &'txn WriteTransaction) -> Result<Timeline<'txn>, StoreError> {
        Ok(Timeline { table: wtx.open_table(TIMELINE)?, events: Publisher::open(wtx)? })
    }

    /// Publishes `e` of `serial` if its kind is one the webhooks carry.
    pub(super) fn publish(&mut self, serial: &Serial, e: &TimelineEvent) -> Result<(), StoreError> {
        let Some(topic) = topic_of(e.kind) else { return Ok(()) };
        self.events.publish(topic, || {
            let kind = serde_json::to_value(e.kind)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default();
            let what = AdeboxEvent {
                serial: Some(serial.clone()),
                kind,
                message: e.message.clone(),
                fix_url: None,
            };
            envelope::adebox_event(topic, &what, e.at)
        })
    }
}

/// Adds an event to a device's timeline (bounded), inside the caller's transaction.
pub(super) fn push_event(
    timeline: &mut Timeline<'_>,
    record: &mut DeviceRecord,
    e: TimelineEvent,
) -> Result<(), StoreError> {
    if let Some(stage) = super::funnel::stage_of_event(e.kind) {
        record.reached = record.reached.max(Some(stage));
    }
    timeline.publish(&record.serial, &e)?;
    let timeline = &mut timeline.table;
    let seq = record.next_event;
    store::put(timeline, &timeline_key(&record.serial, seq), &e)?;
    record.next_event += 1;
    if seq >= TIMELINE_LIMIT {
        timeline.remove(timeline_key(&record.serial, seq - TIMELINE_LIMIT).as_slice())?;
    }
    Ok(())
}

/// The webhook topic of a timeline event, for the kinds a site's tools are told about.
pub fn topic_of(kind: TimelineKind) -> Option<Topic> {
    use TimelineKind as K;
    match kind {
        K::Added | K::Modified | K::Moved | K::Restored | K::Removed => Some(Topic::DeviceSynced),
        K::ProfileAssigned => Some(Topic::ProfileAssigned),
        K::MdmEnrolled => Some(Topic::Enrolled),
        K::MdmReleased | K::MdmReleaseTimeout => Some(Topic::Released),
        K::EnrollmentRefused => Some(Topic::EnrollmentRefused),
        K::ProfileRemoved
        | K::ProfileNotAssigned
        | K::MdmAuthenticated
        | K::MdmAwaitingConfiguration
        | K::MdmRenamed
        | K::MdmErased
        | K::MdmCheckedOut
        | K::MdmCommandQueued
        | K::MdmCommandFailed
        | K::PushUnreachable
        | K::EnrollmentContacted
        | K::EnrollmentAudited
        | K::EnrollmentOsUpdateRequired
        | K::EnrollmentProfileServed
        | K::EnrollmentCertificateIssued
        | K::MdmSetupStep
        | K::UserSignedIn => None,
    }
}

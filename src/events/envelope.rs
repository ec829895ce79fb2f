//! The event envelope: MicroMDM's webhook event JSON (`topic`, `event_id`, `created_at`, and
//! `checkin_event` or `acknowledge_event` carrying the device's exact request body as base64
//! `raw_payload`), and adebox's own topics in the same envelope with an `adebox_event` object
//! (`schemas/webhook-event.adebox.schema.json`). Bodies are built once per event, so every
//! subscription receives — and signs — the same bytes.

use super::topic::Topic;
use base64ct::{Base64, Encoding};
use serde::Serialize;
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// An event ready for the outbox: its id, topic and exact JSON body.
#[derive(Clone, Debug)]
pub struct Event {
    pub id: String,
    pub topic: Topic,
    pub created_at: OffsetDateTime,
    pub body: String,
}

/// Which MDM endpoint a message came to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MdmChannel {
    /// `PUT /mdm/checkin`: Authenticate, TokenUpdate, CheckOut, …
    CheckIn,
    /// `PUT /mdm/connect`: a command result or an idle poll.
    Connect,
}

/// The few keys of an MDM message the envelope repeats beside the raw body.
#[derive(Debug, Default)]
struct Keys {
    message_type: Option<String>,
    udid: Option<String>,
    user_id: Option<String>,
    enrollment_id: Option<String>,
    status: Option<String>,
    command_uuid: Option<String>,
}

fn keys_of(body: &[u8]) -> Keys {
    // The MDM module accepted this body already; a body it could read but this cannot
    // still yields an event with the raw payload, only without the repeated keys.
    let Ok(plist::Value::Dictionary(d)) = plist::Value::from_reader(std::io::Cursor::new(body))
    else {
        return Keys::default();
    };
    let text = |k: &str| d.get(k).and_then(|v| v.as_string()).map(str::to_string);
    Keys {
        message_type: text("MessageType"),
        udid: text("UDID"),
        user_id: text("UserID"),
        enrollment_id: text("EnrollmentID"),
        status: text("Status"),
        command_uuid: text("CommandUUID"),
    }
}

/// The topic an MDM message is published under; `None` when MicroMDM has none for it.
pub fn mdm_topic(channel: MdmChannel, body: &[u8]) -> Option<Topic> {
    match channel {
        MdmChannel::Connect => Some(Topic::MdmConnect),
        MdmChannel::CheckIn => keys_of(body).message_type.as_deref().and_then(Topic::of_check_in),
    }
}

/// A new random event id (128 bits, hex).
pub fn new_event_id() -> String {
    hex::encode(crate::crypto::random_bytes::<16>())
}

fn rfc3339(at: OffsetDateTime) -> String {
    at.format(&Rfc3339).unwrap_or_else(|_| at.unix_timestamp().to_string())
}

fn envelope(topic: Topic, id: &str, at: OffsetDateTime, key: &str, inner: Value) -> String {
    let mut out = Map::new();
    out.insert("topic".into(), json!(topic.name()));
    out.insert("event_id".into(), json!(id));
    out.insert("created_at".into(), json!(rfc3339(at)));
    out.insert(key.into(), inner);
    Value::Object(out).to_string()
}

/// A MicroMDM event for an MDM message `body` that came to `channel` with `url_params`.
pub fn mdm_event(
    topic: Topic,
    channel: MdmChannel,
    body: &[u8],
    url_params: &BTreeMap<String, String>,
    at: OffsetDateTime,
) -> Event {
    let keys = keys_of(body);
    let mut inner = Map::new();
    if let Some(udid) = &keys.udid {
        inner.insert("udid".into(), json!(udid));
        // NanoMDM's enrollment ids: the device channel is the UDID, a user channel is the
        // user's id under it (operations guide, "Enrollment IDs").
        let ids = match &keys.user_id {
            Some(user) => {
                json!({"id": format!("{udid}:{user}"), "type": "User", "parent_id": udid})
            }
            None => json!({"id": udid, "type": "Device"}),
        };
        inner.insert("ids".into(), ids);
    }
    if let Some(e) = &keys.enrollment_id {
        inner.insert("enrollment_id".into(), json!(e));
    }
    if !url_params.is_empty() {
        inner.insert("url_params".into(), json!(url_params));
    }
    inner.insert("raw_payload".into(), json!(Base64::encode_string(body)));
    let key = match channel {
        MdmChannel::CheckIn => "checkin_event",
        MdmChannel::Connect => {
            // Required by the schema; a poll without Status is not one adebox accepts, but
            // the event must stay valid whatever the body says.
            inner.insert("status".into(), json!(keys.status.as_deref().unwrap_or("")));
            if let Some(c) = &keys.command_uuid {
                inner.insert("command_uuid".into(), json!(c));
            }
            "acknowledge_event"
        }
    };
    let id = new_event_id();
    let body = envelope(topic, &id, at, key, Value::Object(inner));
    Event { id, topic, created_at: at, body }
}

/// What an `adebox.*` event says: the device (if any), a stable code and plain words.
#[derive(Clone, Debug, Serialize)]
pub struct AdeboxEvent {
    /// The device's serial number, for device events.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub serial: Option<crate::ids::Serial>,
    /// A stable code (`mdm_enrolled`, `token_expiring`, …).
    pub kind: String,
    /// Plain words, as on the device timeline or the alert.
    pub message: String,
    /// Where to fix it, for alerts: the admin page's URL.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix_url: Option<String>,
}

/// An `adebox.*` event.
pub fn adebox_event(topic: Topic, what: &AdeboxEvent, at: OffsetDateTime) -> Event {
    let id = new_event_id();
    let inner = serde_json::to_value(what).unwrap_or(Value::Null);
    let body = envelope(topic, &id, at, "adebox_event", inner);
    Event { id, topic, created_at: at, body }
}

#[cfg(test)]
mod tests {
    use super::*;

    const AUTH: &[u8] = br#"<?xml version="1.0" encoding="UTF-8"?>
<plist version="1.0"><dict>
<key>MessageType</key><string>Authenticate</string>
<key>UDID</key><string>0000-ABC</string>
<key>Topic</key><string>com.apple.mgmt.x</string>
</dict></plist>"#;

    #[test]
    fn a_check_in_becomes_a_checkin_event_with_the_exact_body() {
        let at = time::macros::datetime!(2026-12-07 08:00 UTC);
        let topic = mdm_topic(MdmChannel::CheckIn, AUTH).unwrap();
        assert_eq!(topic, Topic::MdmAuthenticate);
        let e = mdm_event(topic, MdmChannel::CheckIn, AUTH, &BTreeMap::new(), at);
        let v: Value = serde_json::from_str(&e.body).unwrap();
        assert_eq!(v["topic"], "mdm.Authenticate");
        assert_eq!(v["created_at"], "2026-12-07T08:00:00Z");
        assert_eq!(v["checkin_event"]["udid"], "0000-ABC");
        assert_eq!(v["checkin_event"]["ids"]["type"], "Device");
        let raw = v["checkin_event"]["raw_payload"].as_str().unwrap();
        assert_eq!(Base64::decode_vec(raw).unwrap(), AUTH);
    }

    #[test]
    fn a_command_result_becomes_an_acknowledge_event() {
        let body = br#"<plist version="1.0"><dict><key>Status</key><string>Acknowledged</string>
<key>UDID</key><string>U1</string><key>CommandUUID</key><string>c-1</string></dict></plist>"#;
        let at = time::macros::datetime!(2026-12-07 08:00 UTC);
        let e = mdm_event(Topic::MdmConnect, MdmChannel::Connect, body, &BTreeMap::new(), at);
        let v: Value = serde_json::from_str(&e.body).unwrap();
        assert_eq!(v["acknowledge_event"]["status"], "Acknowledged");
        assert_eq!(v["acknowledge_event"]["command_uuid"], "c-1");
        assert_eq!(v["event_id"], e.id);
    }
}

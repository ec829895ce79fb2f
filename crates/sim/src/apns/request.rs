//! What an MDM push request may carry, read strictly with the simulator's own types
//! (../shared/spec/enrollment.md §5.1), and the reason Apple answers for anything else.
//!
//! Exposes [`Refusal`] (Apple's documented reasons the simulator answers, each with its
//! status, from Apple's "Handling notification responses from APNs" as listed in §5.1) and
//! [`read`], which checks a push in the order a reader meets it: repeated `apns-*` headers, the
//! device token in the path, `apns-topic` against the client certificate's topic,
//! `apns-push-type`, `apns-priority`, `apns-expiration`, `apns-id`, `apns-collapse-id`, then the
//! body, which must be exactly `{"mdm": "<PushMagic>"}`. Pure; the simulator keeps its own list
//! of reasons rather than the product's reader of them.

use actix_web::http::header::HeaderMap;
use serde::Deserialize;

/// Largest payload APNs takes (4 KB for pushes other than VoIP, Apple's documentation).
pub const MAX_PAYLOAD: usize = 4096;

/// A reason Apple documents, as the simulator answers it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    BadCollapseId,
    BadDeviceToken,
    BadExpirationDate,
    BadMessageId,
    BadPriority,
    BadTopic,
    DuplicateHeaders,
    InvalidPushType,
    MissingDeviceToken,
    PayloadEmpty,
    TopicDisallowed,
    BadCertificate,
    MissingProviderToken,
    BadPath,
    MethodNotAllowed,
    Unregistered,
    PayloadTooLarge,
    TooManyRequests,
    InternalServerError,
    ServiceUnavailable,
}

impl Refusal {
    /// The `reason` and the status it comes with.
    pub fn wire(self) -> (&'static str, u16) {
        match self {
            Refusal::BadCollapseId => ("BadCollapseId", 400),
            Refusal::BadDeviceToken => ("BadDeviceToken", 400),
            Refusal::BadExpirationDate => ("BadExpirationDate", 400),
            Refusal::BadMessageId => ("BadMessageId", 400),
            Refusal::BadPriority => ("BadPriority", 400),
            Refusal::BadTopic => ("BadTopic", 400),
            Refusal::DuplicateHeaders => ("DuplicateHeaders", 400),
            Refusal::InvalidPushType => ("InvalidPushType", 400),
            Refusal::MissingDeviceToken => ("MissingDeviceToken", 400),
            Refusal::PayloadEmpty => ("PayloadEmpty", 400),
            Refusal::TopicDisallowed => ("TopicDisallowed", 400),
            Refusal::BadCertificate => ("BadCertificate", 403),
            Refusal::MissingProviderToken => ("MissingProviderToken", 403),
            Refusal::BadPath => ("BadPath", 404),
            Refusal::MethodNotAllowed => ("MethodNotAllowed", 405),
            Refusal::Unregistered => ("Unregistered", 410),
            Refusal::PayloadTooLarge => ("PayloadTooLarge", 413),
            Refusal::TooManyRequests => ("TooManyRequests", 429),
            Refusal::InternalServerError => ("InternalServerError", 500),
            Refusal::ServiceUnavailable => ("ServiceUnavailable", 503),
        }
    }
}

/// The whole MDM push body (§5.1): one key, the device's PushMagic; no `aps`, nothing else.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct MdmPayload {
    mdm: String,
}

/// A push that passed every check.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Push {
    /// Lower-case hex.
    pub token: String,
    /// The certificate's topic (the header, when sent, equals it).
    pub topic: String,
    pub push_type: Option<String>,
    pub priority: Option<String>,
    pub expiration: Option<i64>,
    pub apns_id: Option<String>,
    pub push_magic: String,
}

/// The `apns-*` headers a push may carry. Any other `apns-*` header is ignored, as a header
/// Apple does not know would be.
const PUSH_HEADERS: [&str; 6] = [
    "apns-topic",
    "apns-push-type",
    "apns-priority",
    "apns-expiration",
    "apns-id",
    "apns-collapse-id",
];

/// Checks a push to `token` (the path's last segment) from a client whose certificate carries
/// `cert_topic`.
pub fn read(
    headers: &HeaderMap,
    token: &str,
    body: &[u8],
    cert_topic: &str,
) -> Result<Push, Refusal> {
    if PUSH_HEADERS.iter().any(|h| headers.get_all(*h).count() > 1) {
        return Err(Refusal::DuplicateHeaders);
    }
    let header = |name: &str| -> Result<Option<&str>, ()> {
        headers.get(name).map(|v| v.to_str().map_err(|_| ())).transpose()
    };
    if token.is_empty() {
        return Err(Refusal::MissingDeviceToken);
    }
    // Device tokens are 32 bytes, sent as hex (§5.1); Apple writes lower case, and upper case
    // is still the same hex, so it is tolerated.
    if token.len() != 64 || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(Refusal::BadDeviceToken);
    }
    // With a certificate of one topic the header may be left out (§5.1: nanomdm sends none);
    // when sent it must name that topic.
    let topic = match header("apns-topic").map_err(|_| Refusal::BadTopic)? {
        None => cert_topic.to_string(),
        Some(t) if t.trim().is_empty() || t.trim() != t => return Err(Refusal::BadTopic),
        Some(t) if t != cert_topic => return Err(Refusal::TopicDisallowed),
        Some(t) => t.to_string(),
    };
    // Optional (nanomdm sends none, zentral `mdm`, §5.1); a push to an MDM topic is `mdm`.
    let push_type = header("apns-push-type").map_err(|_| Refusal::InvalidPushType)?;
    if push_type.is_some_and(|t| t != "mdm") {
        return Err(Refusal::InvalidPushType);
    }
    let priority = header("apns-priority").map_err(|_| Refusal::BadPriority)?;
    if priority.is_some_and(|p| !["10", "5", "1"].contains(&p)) {
        return Err(Refusal::BadPriority);
    }
    // A UNIX epoch in whole seconds; 0 means "deliver once or drop".
    let expiration = match header("apns-expiration").map_err(|_| Refusal::BadExpirationDate)? {
        None => None,
        Some(e) if !e.is_empty() && e.bytes().all(|b| b.is_ascii_digit()) => {
            Some(e.parse::<i64>().map_err(|_| Refusal::BadExpirationDate)?)
        }
        Some(_) => return Err(Refusal::BadExpirationDate),
    };
    let apns_id = header("apns-id").map_err(|_| Refusal::BadMessageId)?;
    if apns_id.is_some_and(|id| !is_uuid(id)) {
        return Err(Refusal::BadMessageId);
    }
    let collapse = header("apns-collapse-id").map_err(|_| Refusal::BadCollapseId)?;
    if collapse.is_some_and(|c| c.len() > 64) {
        return Err(Refusal::BadCollapseId);
    }
    if body.is_empty() {
        return Err(Refusal::PayloadEmpty);
    }
    if body.len() > MAX_PAYLOAD {
        return Err(Refusal::PayloadTooLarge);
    }
    // Apple documents no reason for a body that is not the MDM payload; PayloadEmpty ("the
    // message payload is empty") is the one that says "no PushMagic here".
    let payload: MdmPayload = serde_json::from_slice(body).map_err(|e| {
        log::warn!(target: "sim::apns", "refused a push body as PayloadEmpty: {e}");
        Refusal::PayloadEmpty
    })?;
    if payload.mdm.is_empty() {
        return Err(Refusal::PayloadEmpty);
    }
    Ok(Push {
        token: token.to_ascii_lowercase(),
        topic,
        push_type: push_type.map(str::to_string),
        priority: priority.map(str::to_string),
        expiration,
        apns_id: apns_id.map(str::to_string),
        push_magic: payload.mdm,
    })
}

/// `8-4-4-4-12` hex digits, as Apple's `apns-id` is written.
fn is_uuid(s: &str) -> bool {
    let groups: Vec<&str> = s.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(g, n)| g.len() == n && g.bytes().all(|b| b.is_ascii_hexdigit()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::http::header::{HeaderName, HeaderValue};

    const TOPIC: &str = "com.apple.mgmt.External.0f1e2d3c-4b5a-4978-a695-b4c3d2e1f000";

    fn token() -> String {
        "ab".repeat(32)
    }

    /// What the product sends (push/apns.rs).
    fn good() -> Vec<(&'static str, String)> {
        vec![
            ("apns-push-type", "mdm".into()),
            ("apns-topic", TOPIC.into()),
            ("apns-priority", "10".into()),
            ("apns-expiration", "1767225600".into()),
            ("content-type", "application/json".into()),
        ]
    }

    fn headers(list: &[(&'static str, String)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (k, v) in list {
            map.append(HeaderName::from_static(k), HeaderValue::from_str(v).unwrap());
        }
        map
    }

    fn with(name: &'static str, value: &str) -> HeaderMap {
        let mut list: Vec<_> = good().into_iter().filter(|(k, _)| *k != name).collect();
        list.push((name, value.to_string()));
        headers(&list)
    }

    const BODY: &[u8] = br#"{"mdm":"magic-1"}"#;

    #[test]
    fn reads_what_the_product_sends_and_the_bare_minimum() {
        let p = read(&headers(&good()), &token(), BODY, TOPIC).unwrap();
        assert_eq!(p.push_magic, "magic-1");
        assert_eq!((p.topic.as_str(), p.expiration), (TOPIC, Some(1_767_225_600)));
        let bare = read(&HeaderMap::new(), &token().to_uppercase(), BODY, TOPIC).unwrap();
        assert_eq!((bare.token, bare.topic), (token(), TOPIC.to_string()));
    }

    #[test]
    fn answers_apples_reason_for_each_deviation() {
        let h = headers(&good());
        let cases: Vec<(HeaderMap, String, &[u8], Refusal)> = vec![
            (h.clone(), String::new(), BODY, Refusal::MissingDeviceToken),
            (h.clone(), "ab".repeat(31), BODY, Refusal::BadDeviceToken),
            (h.clone(), "zz".repeat(32), BODY, Refusal::BadDeviceToken),
            (
                with("apns-topic", "com.apple.mgmt.External.other"),
                token(),
                BODY,
                Refusal::TopicDisallowed,
            ),
            (with("apns-topic", " "), token(), BODY, Refusal::BadTopic),
            (with("apns-push-type", "alert"), token(), BODY, Refusal::InvalidPushType),
            (with("apns-push-type", "MDM"), token(), BODY, Refusal::InvalidPushType),
            (with("apns-priority", "7"), token(), BODY, Refusal::BadPriority),
            (with("apns-expiration", "tomorrow"), token(), BODY, Refusal::BadExpirationDate),
            (with("apns-expiration", "-1"), token(), BODY, Refusal::BadExpirationDate),
            (with("apns-id", "not-a-uuid"), token(), BODY, Refusal::BadMessageId),
            (with("apns-collapse-id", &"c".repeat(65)), token(), BODY, Refusal::BadCollapseId),
            (h.clone(), token(), b"", Refusal::PayloadEmpty),
            (h.clone(), token(), br#"{"mdm":""}"#, Refusal::PayloadEmpty),
            (h.clone(), token(), br#"{"mdm":5}"#, Refusal::PayloadEmpty),
            (h.clone(), token(), br#"{"aps":{},"mdm":"m"}"#, Refusal::PayloadEmpty),
            (h.clone(), token(), br#"{"mdm":"m","mdm":"n"}"#, Refusal::PayloadEmpty),
            (h.clone(), token(), b"mdm=m", Refusal::PayloadEmpty),
        ];
        for (headers, token, body, refusal) in cases {
            let got = read(&headers, &token, body, TOPIC);
            assert_eq!(
                got.err(),
                Some(refusal),
                "{headers:?} {token} {}",
                String::from_utf8_lossy(body)
            );
        }
        let big = format!(r#"{{"mdm":"{}"}}"#, "m".repeat(MAX_PAYLOAD));
        assert_eq!(read(&h, &token(), big.as_bytes(), TOPIC).err(), Some(Refusal::PayloadTooLarge));
        let mut twice = headers(&good());
        twice.append(HeaderName::from_static("apns-priority"), HeaderValue::from_static("10"));
        assert_eq!(read(&twice, &token(), BODY, TOPIC).err(), Some(Refusal::DuplicateHeaders));
        assert!(
            read(&with("apns-id", "6F2B9A1C-0D3E-4F5A-8B7C-9D0E1F2A3B4C"), &token(), BODY, TOPIC)
                .is_ok()
        );
    }

    #[test]
    fn the_product_reads_every_reason_the_simulator_sends() {
        for r in [
            Refusal::BadCollapseId,
            Refusal::BadDeviceToken,
            Refusal::BadExpirationDate,
            Refusal::BadMessageId,
            Refusal::BadPriority,
            Refusal::BadTopic,
            Refusal::DuplicateHeaders,
            Refusal::InvalidPushType,
            Refusal::MissingDeviceToken,
            Refusal::PayloadEmpty,
            Refusal::TopicDisallowed,
            Refusal::BadCertificate,
            Refusal::MissingProviderToken,
            Refusal::BadPath,
            Refusal::MethodNotAllowed,
            Refusal::Unregistered,
            Refusal::PayloadTooLarge,
            Refusal::TooManyRequests,
            Refusal::InternalServerError,
            Refusal::ServiceUnavailable,
        ] {
            let (reason, status) = r.wire();
            let read =
                crate::apple::apns::Reason::parse(reason).unwrap_or_else(|| panic!("{reason}"));
            assert_eq!(read.status(), status, "{reason}");
        }
    }
}

//! The APNs wire format for MDM pushes (../shared/spec/enrollment.md §5.1): the request path,
//! headers and body, and Apple's error reasons with the status each comes with and whether it
//! is permanent for the device, the certificate, or worth retrying.
//!
//! Exposes [`Reason`] (one exhaustive match, tested over every variant), [`body`],
//! [`device_path`], [`PRODUCTION_URL`] and [`ErrorBody`]. Used by the APNs client (`push`) and
//! the APNs simulator (`sim::apns`). Pure: no tokio, redb, reqwest or actix.

use serde::{Deserialize, Serialize};

/// Apple's production APNs host. Portal certificates are production only (spec §5.1).
pub const PRODUCTION_URL: &str = "https://api.push.apple.com";

/// `apns-push-type` for MDM wake-ups.
pub const PUSH_TYPE_MDM: &str = "mdm";
/// `apns-priority`: deliver now.
pub const PRIORITY_NOW: &str = "10";

/// Largest body APNs accepts (4 KB for non-VoIP pushes); an MDM body is ~60 bytes.
pub const MAX_PAYLOAD: usize = 4096;

/// `/3/device/<lower-case hex token>`.
pub fn device_path(token: &[u8]) -> String {
    format!("/3/device/{}", hex::encode(token))
}

/// `{"mdm":"<PushMagic>"}`: the whole MDM push payload (no `aps`).
pub fn body(push_magic: &str) -> Vec<u8> {
    serde_json::json!({ "mdm": push_magic }).to_string().into_bytes()
}

/// The body APNs answers errors with.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct ErrorBody {
    pub reason: String,
    /// Milliseconds since the epoch; sent with `410 Unregistered` (when the token stopped
    /// being valid).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<i64>,
}

/// What a reason means for the appliance.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    /// This device's token is no good: mark the device, do not retry.
    Device,
    /// The push certificate or topic is refused: every push fails until the admin acts.
    Certificate,
    /// The request itself was malformed: a bug on our side; do not retry.
    Request,
    /// Try again later.
    Transient,
}

macro_rules! reasons {
    ($($name:ident = $status:expr, $scope:ident;)*) => {
        /// APNs' error reasons (Apple "Handling notification responses from APNs"; permanence
        /// as fleet's `apns_errors.go`, spec §5.1).
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub enum Reason { $($name,)* }

        impl Reason {
            pub const ALL: &'static [Reason] = &[$(Reason::$name,)*];

            /// The name in the `reason` field.
            pub fn code(self) -> &'static str {
                match self { $(Reason::$name => stringify!($name),)* }
            }

            /// The HTTP status APNs answers with it.
            pub fn status(self) -> u16 {
                match self { $(Reason::$name => $status,)* }
            }

            pub fn scope(self) -> Scope {
                match self { $(Reason::$name => Scope::$scope,)* }
            }

            /// Reads a `reason`; unknown reasons are `None` (classified by status instead).
            pub fn parse(s: &str) -> Option<Reason> {
                match s { $(stringify!($name) => Some(Reason::$name),)* _ => None }
            }
        }
    };
}

reasons! {
    BadCollapseId = 400, Request;
    BadDeviceToken = 400, Device;
    BadExpirationDate = 400, Request;
    BadMessageId = 400, Request;
    BadPriority = 400, Request;
    BadTopic = 400, Certificate;
    DeviceTokenNotForTopic = 400, Device;
    DuplicateHeaders = 400, Request;
    IdleTimeout = 400, Transient;
    InvalidPushType = 400, Request;
    MissingDeviceToken = 400, Request;
    MissingTopic = 400, Request;
    PayloadEmpty = 400, Request;
    TopicDisallowed = 400, Certificate;
    BadCertificate = 403, Certificate;
    BadCertificateEnvironment = 403, Certificate;
    ExpiredProviderToken = 403, Certificate;
    Forbidden = 403, Certificate;
    InvalidProviderToken = 403, Certificate;
    MissingProviderToken = 403, Certificate;
    BadPath = 404, Request;
    MethodNotAllowed = 405, Request;
    ExpiredToken = 410, Device;
    Unregistered = 410, Device;
    PayloadTooLarge = 413, Request;
    TooManyProviderTokenUpdates = 429, Transient;
    TooManyRequests = 429, Transient;
    InternalServerError = 500, Transient;
    ServiceUnavailable = 503, Transient;
    Shutdown = 503, Transient;
}

impl Reason {
    /// Plain words for the device timeline and the log.
    pub fn words(self) -> &'static str {
        match self.scope() {
            Scope::Device => {
                "Apple no longer accepts this device's push token; the device is unreachable until it checks in again with a new token (or is re-enrolled)"
            }
            Scope::Certificate => {
                "Apple refused the push certificate or its topic; check the push certificate on the Enrollment page (renew it if it expired)"
            }
            Scope::Request => "Apple refused the push request as malformed (a bug in adebox)",
            Scope::Transient => "Apple's push service is busy or unavailable; retrying",
        }
    }
}

/// How to treat an answer whose reason is unknown or missing: by status.
pub fn scope_of_status(status: u16) -> Scope {
    match status {
        410 => Scope::Device,
        403 => Scope::Certificate,
        429 | 500..=599 => Scope::Transient,
        _ => Scope::Request,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_reason_round_trips_and_agrees_with_its_status() {
        for r in Reason::ALL {
            assert_eq!(Reason::parse(r.code()), Some(*r));
            let by_status = scope_of_status(r.status());
            match r.scope() {
                Scope::Transient => assert!(r.status() >= 429 || *r == Reason::IdleTimeout),
                Scope::Device if r.status() == 410 => assert_eq!(by_status, Scope::Device),
                Scope::Certificate if r.status() == 403 => {
                    assert_eq!(by_status, Scope::Certificate)
                }
                _ => {}
            }
            assert!(!r.words().is_empty());
        }
        assert_eq!(Reason::parse("SomethingNew"), None);
    }

    #[test]
    fn the_permanent_reasons_of_the_spec_are_not_retried() {
        for code in ["Unregistered", "ExpiredToken", "BadDeviceToken", "DeviceTokenNotForTopic"] {
            assert_eq!(Reason::parse(code).unwrap().scope(), Scope::Device, "{code}");
        }
        for code in [
            "BadCertificate",
            "BadCertificateEnvironment",
            "Forbidden",
            "BadTopic",
            "TopicDisallowed",
        ] {
            assert_eq!(Reason::parse(code).unwrap().scope(), Scope::Certificate, "{code}");
        }
        assert_eq!(Reason::TooManyRequests.scope(), Scope::Transient);
        assert_eq!(scope_of_status(502), Scope::Transient);
    }

    #[test]
    fn the_request_is_a_bare_mdm_payload_on_the_hex_token_path() {
        assert_eq!(device_path(&[0xab, 0x01]), "/3/device/ab01");
        assert_eq!(body("magic-1"), br#"{"mdm":"magic-1"}"#);
    }
}

//! The device family: what devices are told as JSON when a request is refused.
//!
//! - `/enroll` answers in the shape Setup Assistant reads (../shared/spec/enrollment.md §1.4):
//!   `{"code", "message", "description", "details"}`, `message` possibly shown on the device,
//!   `description` for logs; an OS too old for the profile gets Apple's own
//!   `com.apple.softwareupdate.required` 403 with `details.OSVersion` (§1.5). [`EnrollRefusal`].
//! - `/mdm` and the other device prefixes answer in the API's error shape ([`ApiError`]); the
//!   MDM service's errors are mapped here, once, for the check-in channel and the admin's MDM
//!   actions alike.
//!
//! Devices never get 401: Setup Assistant and the MDM client treat it as fatal (spec §4.1), so
//! identity problems are 403.

use super::api::ApiError;
use crate::enroll::EnrollError;
use crate::http::DEVICE_BODY_LIMIT;
use crate::mdm::MdmError;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use serde_json::{Value, json};

/// A refused `/enroll` request, answered in Apple's JSON shape (spec §1.4).
#[derive(Debug)]
pub struct EnrollRefusal {
    status: StatusCode,
    body: Value,
}

impl EnrollRefusal {
    fn new(status: StatusCode, code: &str, message: &str, description: &str) -> EnrollRefusal {
        let body =
            json!({"code": code, "message": message, "description": description, "details": {}});
        EnrollRefusal { status, body }
    }

    /// The request body could not be read.
    pub fn unreadable() -> EnrollRefusal {
        EnrollRefusal::new(
            StatusCode::BAD_REQUEST,
            "adebox.bad_request",
            "the request body could not be read",
            "",
        )
    }

    /// A body of `len` bytes (or more) is over the device limit.
    pub fn too_large(len: usize) -> EnrollRefusal {
        EnrollRefusal::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "adebox.too_large",
            "This device could not be identified. Contact your IT department.",
            &format!(
                "the body is over {len} bytes; a MachineInfo is a few KiB (limit {DEVICE_BODY_LIMIT})"
            ),
        )
    }
}

impl From<EnrollError> for EnrollRefusal {
    fn from(e: EnrollError) -> EnrollRefusal {
        match e {
            EnrollError::TooLarge { len, .. } => EnrollRefusal::too_large(len),
            EnrollError::Malformed(detail) => EnrollRefusal::new(
                StatusCode::BAD_REQUEST,
                "adebox.bad_machine_info",
                "This device could not be identified. Contact your IT department.",
                &format!("the body is not a signed MachineInfo: {detail}"),
            ),
            EnrollError::Refused(r) => EnrollRefusal::new(
                StatusCode::FORBIDDEN,
                &format!("adebox.enrollment.{}", r.code()),
                r.device_message(),
                &r.words(),
            ),
            EnrollError::OsUpdateRequired { os_version } => EnrollRefusal {
                status: StatusCode::FORBIDDEN,
                body: json!({
                    "code": "com.apple.softwareupdate.required",
                    "message": format!("Update this device to {os_version} or later to continue."),
                    "description": "the enrollment profile requires a newer OS",
                    "details": {"OSVersion": os_version},
                }),
            },
            EnrollError::Unavailable(detail) => EnrollRefusal::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "adebox.enrollment.unavailable",
                "Enrollment is not available yet. Contact your IT department.",
                &detail,
            ),
            EnrollError::NoPushCertificate(detail) => EnrollRefusal::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "adebox.enrollment.no_push_certificate",
                "Enrollment is not available yet. Try again later or contact your IT department.",
                &detail,
            ),
            EnrollError::Store(s) => {
                log::error!("enrollment failed: {s}");
                EnrollRefusal::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "adebox.internal",
                    "Enrollment failed on the server. Try again later.",
                    "",
                )
            }
        }
    }
}

impl std::fmt::Display for EnrollRefusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.status, self.body["code"].as_str().unwrap_or_default())
    }
}

impl ResponseError for EnrollRefusal {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        HttpResponse::build(self.status)
            .insert_header(("Cache-Control", "no-store"))
            .json(&self.body)
    }
}

/// A device request without an identity this appliance accepts (TLS client certificate or
/// `Mdm-Signature`, spec §4.2); `code` says which check failed.
pub fn identity_refused(code: &str, message: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::FORBIDDEN, code, message)
}

/// A device prefix's path that this appliance does not serve.
pub fn not_enabled() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "not_found",
        "this device endpoint is not enabled on this appliance",
    )
}

impl From<MdmError> for ApiError {
    fn from(e: MdmError) -> Self {
        use MdmError as E;
        let e = match e {
            E::Setup(s) => return ApiError::from(s),
            e => e,
        };
        // Devices must never get 401 (spec enrollment.md §4.1): identity problems are 403.
        let (status, code) = match &e {
            E::Wire(_) => (StatusCode::BAD_REQUEST, "mdm_bad_message"),
            E::UnknownIdentity => (StatusCode::FORBIDDEN, "unrecognized_identity"),
            E::WrongDevice => (StatusCode::FORBIDDEN, "identity_for_another_device"),
            E::IdentityExpired => (StatusCode::FORBIDDEN, "identity_expired"),
            E::IdentityRevoked => (StatusCode::FORBIDDEN, "identity_revoked"),
            E::NotEnrolled => (StatusCode::FORBIDDEN, "not_enrolled"),
            E::CheckedOut => (StatusCode::FORBIDDEN, "checked_out"),
            E::UnknownDevice(_) => (StatusCode::NOT_FOUND, "not_found"),
            E::QueueFull { .. } => (StatusCode::CONFLICT, "queue_full"),
            E::Invalid { field, message } => return ApiError::validation(field, message.clone()),
            E::NotBlocked(_) => (StatusCode::CONFLICT, "not_blocked"),
            E::NotAwaiting(_) => (StatusCode::CONFLICT, "not_awaiting_configuration"),
            E::DuplicateCommand { .. } => (StatusCode::CONFLICT, "duplicate_command_uuid"),
            E::Setup(_) => unreachable!("answered above"),
            E::Lookup(_) | E::Store(_) => return ApiError::internal(&e),
        };
        ApiError::new(status, code, e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::apple::mdm::MdmWireError;
    use crate::enroll::gate::Refusal;
    use crate::store::StoreError;

    fn enroll(e: EnrollError) -> (u16, Value) {
        let r = EnrollRefusal::from(e).error_response();
        assert_eq!(r.headers().get("Cache-Control").unwrap(), "no-store");
        assert_eq!(r.headers().get("Content-Type").unwrap(), "application/json");
        let status = r.status().as_u16();
        let body = actix_web::body::MessageBody::try_into_bytes(r.into_body()).unwrap();
        (status, serde_json::from_slice(&body).unwrap())
    }

    #[test]
    fn every_enrollment_refusal_has_its_status_and_code() {
        let s = || "x".to_string();
        let cases = [
            (EnrollError::TooLarge { len: 70_000, max: 65_536 }, 413, "adebox.too_large"),
            (EnrollError::Malformed(s()), 400, "adebox.bad_machine_info"),
            (EnrollError::Refused(Refusal::UnknownDevice), 403, "adebox.enrollment.unknown_device"),
            (
                EnrollError::OsUpdateRequired { os_version: "26.0".into() },
                403,
                "com.apple.softwareupdate.required",
            ),
            (EnrollError::Unavailable(s()), 503, "adebox.enrollment.unavailable"),
            (EnrollError::NoPushCertificate(s()), 503, "adebox.enrollment.no_push_certificate"),
            (EnrollError::Store(StoreError::TaskFailed), 500, "adebox.internal"),
        ];
        for (e, want_status, code) in cases {
            let what = format!("{e:?}");
            let (status, body) = enroll(e);
            assert_eq!((status, body["code"].as_str().unwrap()), (want_status, code), "{what}");
            assert!(body["message"].is_string() && body["description"].is_string(), "{what}");
            assert!(body["details"].is_object(), "{what}: §1.4 always has details");
        }
    }

    #[test]
    fn an_os_too_old_gets_apples_own_answer_with_the_version() {
        let (_, body) = enroll(EnrollError::OsUpdateRequired { os_version: "26.1".into() });
        assert_eq!(body["details"]["OSVersion"], "26.1");
        assert_eq!(body["message"], "Update this device to 26.1 or later to continue.");
    }

    #[test]
    fn a_store_failure_keeps_its_detail_in_the_log() {
        let (_, body) = enroll(EnrollError::Store(StoreError::Redb("/var/lib/adebox".into())));
        assert_eq!(body["description"], "");
    }

    #[test]
    fn no_mdm_refusal_is_a_401() {
        let s = || "x".to_string();
        let cases = [
            (MdmError::Wire(MdmWireError::Malformed(s())), 400, "mdm_bad_message"),
            (MdmError::UnknownIdentity, 403, "unrecognized_identity"),
            (MdmError::WrongDevice, 403, "identity_for_another_device"),
            (MdmError::IdentityExpired, 403, "identity_expired"),
            (MdmError::IdentityRevoked, 403, "identity_revoked"),
            (MdmError::NotEnrolled, 403, "not_enrolled"),
            (MdmError::CheckedOut, 403, "checked_out"),
            (MdmError::UnknownDevice(s()), 404, "not_found"),
            (
                MdmError::QueueFull { serial: crate::ids::Serial::from_stored(s()), max: 1 },
                409,
                "queue_full",
            ),
            (MdmError::Invalid { field: "name", message: s() }, 422, "validation"),
            (MdmError::Lookup(s()), 500, "internal"),
            (MdmError::Store(StoreError::TaskFailed), 500, "internal"),
        ];
        for (e, want_status, code) in cases {
            let what = format!("{e:?}");
            let api = ApiError::from(e);
            assert_eq!((api.status, api.error.as_str()), (want_status, code), "{what}");
        }
        assert_eq!(identity_refused("identity_mismatch", "x").status, 403);
    }
}

//! The one place that turns domain errors into HTTP status codes and the API's error body
//! `{"error": "<stable_code>", "message": "<plain words>", "field": "<name>"}`.

use crate::admin::AdminError;
use crate::store::StoreError;
use crate::tls::TlsError;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;

/// An error as the API answers it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ApiError {
    #[serde(skip)]
    pub status: u16,
    /// Stable machine-readable code.
    pub error: String,
    /// Plain words for a person, naming the problem and the fix.
    pub message: String,
    /// The input field at fault, when one is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// Details some errors carry (boxed: errors travel through every handler's `Result`).
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub extra: Option<Box<ErrorExtra>>,
}

/// Details that only some errors have.
#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
pub struct ErrorExtra {
    /// Seconds until the request may be retried (lockouts).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_after_s: Option<i64>,
    /// When the refused action will be allowed (the sync budget).
    #[serde(skip_serializing_if = "Option::is_none", with = "time::serde::rfc3339::option")]
    pub next_allowed_at: Option<time::OffsetDateTime>,
    /// Apple's error code, when Apple refused something.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// What keeps a token from being deleted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub blockers: Option<Vec<crate::tokens::Blocker>>,
    /// Every field at fault (validation), the first also as `field` / `message`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fields: Option<Vec<crate::profiles::FieldIssue>>,
    /// The limit a request went over.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<u64>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &str, message: impl Into<String>) -> ApiError {
        ApiError {
            status: status.as_u16(),
            error: code.to_string(),
            message: message.into(),
            field: None,
            extra: None,
        }
    }

    fn extra_mut(&mut self) -> &mut ErrorExtra {
        self.extra.get_or_insert_with(Default::default)
    }

    pub fn field(mut self, field: &str) -> ApiError {
        self.field = Some(field.to_string());
        self
    }

    pub fn unauthenticated() -> ApiError {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            "unauthenticated",
            "sign in first (or send an API token as `Authorization: Bearer …`)",
        )
    }

    pub fn not_found(what: &str) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, "not_found", format!("{what} not found"))
    }

    pub fn validation(field: &str, message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "validation", message).field(field)
    }

    pub fn internal(detail: &dyn std::fmt::Display) -> ApiError {
        // The detail goes to the log, not to the client: it may name paths and internals.
        log::error!("internal error answering a request: {detail}");
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "something went wrong inside adebox; the daemon log has the details",
        )
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.error, self.message)
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    fn error_response(&self) -> HttpResponse {
        let mut resp = HttpResponse::build(self.status_code());
        let extra = self.extra.as_deref();
        if let Some(s) = extra.and_then(|e| e.retry_after_s) {
            resp.insert_header(("Retry-After", s.to_string()));
        }
        if let Some(at) = extra.and_then(|e| e.next_allowed_at) {
            #[allow(clippy::disallowed_methods)] // a header hint, not a decision
            let secs = (at - time::OffsetDateTime::now_utc()).whole_seconds().max(1);
            resp.insert_header(("Retry-After", secs.to_string()));
        }
        resp.insert_header(("Cache-Control", "no-store")).json(self)
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            // The admin can fix this one: say what it is and what to do.
            StoreError::DiskFull { .. } | StoreError::EarlierWriteFailed => {
                log::error!("{e}");
                ApiError::new(StatusCode::INSUFFICIENT_STORAGE, "disk_full", e.to_string())
            }
            e => ApiError::internal(&e),
        }
    }
}

impl From<AdminError> for ApiError {
    fn from(e: AdminError) -> Self {
        let msg = e.to_string();
        match e {
            AdminError::BadCredentials => {
                ApiError::new(StatusCode::UNAUTHORIZED, "bad_credentials", msg)
            }
            AdminError::LockedOut { retry_after } => {
                let mut err = ApiError::new(StatusCode::TOO_MANY_REQUESTS, "locked_out", msg);
                err.extra_mut().retry_after_s = Some(retry_after.whole_seconds().max(1));
                err
            }
            AdminError::BadSetupCode => {
                ApiError::new(StatusCode::UNAUTHORIZED, "bad_setup_code", msg)
            }
            AdminError::SetupDone => ApiError::new(StatusCode::CONFLICT, "setup_done", msg),
            AdminError::Validation { field, message } => ApiError::validation(field, message),
            AdminError::NotFound(what) => ApiError::not_found(&what),
            AdminError::Conflict(m) => ApiError::new(StatusCode::CONFLICT, "conflict", m),
            AdminError::Store(s) => ApiError::internal(&s),
        }
    }
}

impl From<TlsError> for ApiError {
    fn from(e: TlsError) -> Self {
        match e {
            TlsError::Custom(p) => ApiError::validation(p.field, p.message),
            TlsError::ConfigManaged => {
                ApiError::new(StatusCode::CONFLICT, "conflict", e.to_string())
            }
            other => ApiError::internal(&other),
        }
    }
}

/// JSON, query and path extraction failures in the API's error shape.
pub fn json_error(
    err: actix_web::error::JsonPayloadError,
    _req: &actix_web::HttpRequest,
) -> actix_web::Error {
    use actix_web::error::JsonPayloadError as J;
    let api = match &err {
        J::OverflowKnownLength { .. } | J::Overflow { .. } => ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            "the request body is larger than this endpoint accepts",
        ),
        J::ContentType => ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "send the body as JSON with `Content-Type: application/json`",
        ),
        J::Deserialize(d) => ApiError::new(
            StatusCode::BAD_REQUEST,
            "bad_request",
            format!("the JSON body is not what this endpoint expects: {d}"),
        ),
        other => ApiError::new(
            StatusCode::BAD_REQUEST,
            "bad_request",
            format!("the request body could not be read: {other}"),
        ),
    };
    api.into()
}

pub fn query_error(
    err: actix_web::error::QueryPayloadError,
    _req: &actix_web::HttpRequest,
) -> actix_web::Error {
    ApiError::new(StatusCode::BAD_REQUEST, "bad_request", format!("bad query parameters: {err}"))
        .into()
}

pub fn path_error(
    err: actix_web::error::PathError,
    _req: &actix_web::HttpRequest,
) -> actix_web::Error {
    ApiError::new(StatusCode::BAD_REQUEST, "bad_request", format!("bad path: {err}")).into()
}

/// A serial number or UDID in a path or body that is not one: the message says what is wrong.
impl From<crate::ids::IdError> for ApiError {
    fn from(e: crate::ids::IdError) -> Self {
        ApiError::new(StatusCode::BAD_REQUEST, "bad_request", e.to_string())
    }
}

impl From<crate::tokens::TokenError> for ApiError {
    fn from(e: crate::tokens::TokenError) -> Self {
        use crate::tokens::TokenError as T;
        let msg = e.to_string();
        match e {
            T::NotFound(what) => ApiError::not_found(&what),
            T::Validation { field, message } => ApiError::validation(field, message),
            T::Refused { code, message } => {
                let mut err = ApiError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "apple_refused",
                    format!("Apple refused this token: {message}"),
                )
                .field("token");
                err.extra_mut().code = code;
                err
            }
            T::AppleUnreachable(_) => {
                ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "apple_unreachable", msg)
            }
            T::ForeignServer { .. } => {
                ApiError::new(StatusCode::CONFLICT, "foreign_server", msg).field("token")
            }
            T::AlreadyAdded { .. } => {
                ApiError::new(StatusCode::CONFLICT, "already_added", msg).field("token")
            }
            T::InUse(blockers) => {
                let mut err = ApiError::new(StatusCode::CONFLICT, "token_in_use", msg);
                err.extra_mut().blockers = Some(blockers);
                err
            }
            T::Store(s) => ApiError::internal(&s),
        }
    }
}

impl From<crate::sync::SyncError> for ApiError {
    fn from(e: crate::sync::SyncError) -> Self {
        use crate::sync::SyncError as S;
        let msg = e.to_string();
        match e {
            S::UnknownToken(what) => ApiError::not_found(&what),
            S::TooSoon { next_allowed_at, .. } => {
                let mut err = ApiError::new(StatusCode::TOO_MANY_REQUESTS, "sync_budget", msg);
                err.extra_mut().next_allowed_at = Some(next_allowed_at);
                err
            }
            S::Validation { field, message } => ApiError::validation(field, message),
            S::Store(s) => ApiError::internal(&s),
        }
    }
}

impl From<crate::mdm::MdmError> for ApiError {
    fn from(e: crate::mdm::MdmError) -> Self {
        use crate::mdm::MdmError as E;
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
            E::Lookup(_) | E::Store(_) => return ApiError::internal(&e),
        };
        ApiError::new(status, code, e.to_string())
    }
}

impl From<crate::profiles::ProfileError> for ApiError {
    fn from(e: crate::profiles::ProfileError) -> Self {
        use crate::profiles::ProfileError as P;
        let msg = e.to_string();
        match e {
            P::NotFound(what) => ApiError::not_found(&what),
            P::Invalid(fields) => {
                let first = fields.first().cloned().unwrap_or_else(|| {
                    crate::profiles::FieldIssue::new("", "the profile is not valid")
                });
                let mut err = ApiError::validation(&first.field, first.message);
                err.extra_mut().fields = Some(fields);
                err
            }
            P::Limit { limit, .. } => {
                let mut err = ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "limit", msg);
                err.extra_mut().limit = Some(limit);
                err
            }
            P::InUse(blockers) => {
                let mut err = ApiError::new(StatusCode::CONFLICT, "profile_in_use", msg);
                err.extra_mut().blockers = Some(blockers);
                err
            }
            P::Store(s) => ApiError::internal(&s),
        }
    }
}

impl From<crate::push::PushError> for ApiError {
    fn from(e: crate::push::PushError) -> Self {
        use crate::push::PushError as P;
        let msg = e.to_string();
        match e {
            P::NoCertificate | P::Expired(_) => {
                ApiError::new(StatusCode::CONFLICT, "no_push_certificate", msg)
            }
            P::NoRequest => ApiError::new(StatusCode::CONFLICT, "no_request", msg),
            P::TopicChanged { .. } => {
                ApiError::new(StatusCode::CONFLICT, "topic_changed", msg).field("certificate")
            }
            P::Certificate(
                crate::crypto::push_cert::PushCertError::VendorCertificate(_)
                | crate::crypto::push_cert::PushCertError::VendorMismatch,
            ) => ApiError::validation("vendor_certificate", msg),
            P::Certificate(crate::crypto::push_cert::PushCertError::VendorKey(_)) => {
                ApiError::validation("vendor_key", msg)
            }
            P::Certificate(_) | P::KeyMismatch | P::UploadExpired(_) => {
                ApiError::validation("certificate", msg)
            }
            P::Validation { field, message } => ApiError::validation(field, message),
            P::Store(s) => ApiError::internal(&s),
        }
    }
}

/// Middleware (for `App::wrap_fn`): a body that actix's own extractors (`web::Bytes`,
/// `String`) could not read comes back from them as plain text ("payload reached size
/// limit"); clients of every route get the API's error shape instead.
pub fn payload_errors_as_json<S, B>(
    req: actix_web::dev::ServiceRequest,
    srv: &S,
) -> impl std::future::Future<
    Output = Result<
        actix_web::dev::ServiceResponse<actix_web::body::EitherBody<B>>,
        actix_web::Error,
    >,
> + use<S, B>
where
    S: actix_web::dev::Service<
            actix_web::dev::ServiceRequest,
            Response = actix_web::dev::ServiceResponse<B>,
            Error = actix_web::Error,
        >,
{
    let call = srv.call(req);
    async move {
        let res = call.await?;
        let payload =
            res.response().error().and_then(|e| e.as_error::<actix_web::error::PayloadError>());
        let Some(err) = payload.map(payload_error) else {
            return Ok(res.map_into_left_body());
        };
        let (req, _) = res.into_parts();
        Ok(actix_web::dev::ServiceResponse::new(req, err.error_response()).map_into_right_body())
    }
}

fn payload_error(err: &actix_web::error::PayloadError) -> ApiError {
    use actix_web::error::PayloadError as P;
    match err {
        P::Overflow => ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            "the request body is larger than this endpoint accepts",
        ),
        P::UnknownLength => ApiError::new(
            StatusCode::LENGTH_REQUIRED,
            "length_required",
            "send the body with a Content-Length",
        ),
        other => ApiError::new(
            StatusCode::BAD_REQUEST,
            "bad_request",
            format!("the request body could not be read: {other}"),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_disk_is_a_507_that_names_the_fix() {
        let e = ApiError::from(StoreError::DiskFull {
            detail: "No space left on device (os error 28)".into(),
        });
        assert_eq!((e.status, e.error.as_str()), (507, "disk_full"));
        assert!(
            e.message.contains("data_dir") && e.message.contains("Free space"),
            "{}",
            e.message
        );
        let other = ApiError::from(StoreError::Redb("boom".into()));
        assert_eq!((other.status, other.error.as_str()), (500, "internal"));
        assert!(!other.message.contains("boom"), "internal details stay in the log");
    }
}

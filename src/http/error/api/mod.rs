//! The API family: how the JSON API under `/api/v1` (the admin page, scripts) answers errors,
//! `{"error": "<stable_code>", "message": "<plain words>", "field": "<name>"}`, with
//! `Cache-Control: no-store` and `Retry-After` where a wait is known. [`ApiError`] is that
//! body; its constructors are the status table of request-level refusals, [`domain`] maps
//! each domain error, and the extractor and payload handlers here give actix's own failures
//! the same shape. The MDM service's errors are mapped once, in [`super::device`], because
//! the `/mdm` channel answers in this shape too.

mod business;
mod domain;

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
    pub blockers: Option<Vec<crate::http::api::views::Blocker>>,
    /// Every field at fault (validation), the first also as `field` / `message`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fields: Option<Vec<crate::http::api::views::FieldIssue>>,
    /// The limit a request went over.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<u64>,
    /// The permission the caller's role lacks (403 `forbidden`), e.g. `device_erase`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub missing_permission: Option<String>,
    /// The caller's role, when a permission is missing.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
}

impl ApiError {
    /// Only the maps choose statuses and codes; handlers use the named refusals below.
    pub(in crate::http::error) fn new(
        status: StatusCode,
        code: &str,
        message: impl Into<String>,
    ) -> ApiError {
        ApiError {
            status: status.as_u16(),
            error: code.to_string(),
            message: message.into(),
            field: None,
            extra: None,
        }
    }

    pub(in crate::http::error) fn extra_mut(&mut self) -> &mut ErrorExtra {
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

    /// A 404 whose message says more than "… not found".
    pub fn not_found_because(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, "not_found", message)
    }

    /// A request this endpoint cannot read (body, query, path).
    pub fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, "bad_request", message)
    }

    /// A JSON body that does not deserialize as this endpoint's request type.
    pub fn bad_json(detail: &dyn std::fmt::Display) -> ApiError {
        ApiError::bad_request(format!("the JSON body is not what this endpoint expects: {detail}"))
    }

    /// A body in a media type the endpoint does not read; `message` names the one it does.
    pub fn unsupported_media_type(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type", message)
    }

    /// A body over the endpoint's limit; `message` names the limit and what to do.
    pub fn payload_too_large(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large", message)
    }

    /// Credentials that were sent but do not sign anyone in; `message` says which and why.
    pub fn unauthenticated_because(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::UNAUTHORIZED, "unauthenticated", message)
    }

    /// A browser request that fails the CSRF checks.
    pub fn csrf(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::FORBIDDEN, "csrf", message)
    }

    /// Signed in, but this caller may not do this.
    pub fn forbidden(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::FORBIDDEN, "forbidden", message)
    }

    /// The caller's role lacks the permission a route needs: says which, and who has it.
    pub fn missing_permission(missing: crate::admin::Missing) -> ApiError {
        let mut e = ApiError::forbidden(missing.to_string());
        let extra = e.extra_mut();
        extra.missing_permission = Some(missing.permission.code().to_string());
        extra.role = Some(missing.role.code().to_string());
        e
    }

    /// A session-only action called with an API token.
    pub fn not_a_session() -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, "not_a_session", "API tokens have no session")
    }

    /// The request conflicts with the current state; `code` names the state.
    pub fn conflict(code: &str, message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::CONFLICT, code, message)
    }

    /// An outside service adebox asked on the admin's behalf refused or failed; `message`
    /// carries its own words.
    pub fn upstream(code: &str, message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_GATEWAY, code, message)
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

impl ApiError {
    /// The response this error is answered with, for handlers that do not return `Result`.
    pub fn into_response(self) -> HttpResponse {
        self.error_response()
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

/// JSON, query and path extraction failures in the API's error shape.
pub fn json_error(
    err: actix_web::error::JsonPayloadError,
    _req: &actix_web::HttpRequest,
) -> actix_web::Error {
    use actix_web::error::JsonPayloadError as J;
    let api = match &err {
        J::OverflowKnownLength { .. } | J::Overflow { .. } => {
            ApiError::payload_too_large("the request body is larger than this endpoint accepts")
        }
        J::ContentType => ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "send the body as JSON with `Content-Type: application/json`",
        ),
        J::Deserialize(d) => ApiError::bad_json(d),
        other => ApiError::bad_request(format!("the request body could not be read: {other}")),
    };
    api.into()
}

pub fn query_error(
    err: actix_web::error::QueryPayloadError,
    _req: &actix_web::HttpRequest,
) -> actix_web::Error {
    ApiError::bad_request(format!("bad query parameters: {err}")).into()
}

pub fn path_error(
    err: actix_web::error::PathError,
    _req: &actix_web::HttpRequest,
) -> actix_web::Error {
    ApiError::bad_request(format!("bad path: {err}")).into()
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
        P::Overflow => {
            ApiError::payload_too_large("the request body is larger than this endpoint accepts")
        }
        P::UnknownLength => ApiError::new(
            StatusCode::LENGTH_REQUIRED,
            "length_required",
            "send the body with a Content-Length",
        ),
        other => ApiError::bad_request(format!("the request body could not be read: {other}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::StoreError;

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

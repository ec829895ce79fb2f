//! The SCEP family (RFC 8894): a request the SCEP service refuses is still answered `200` with
//! a CertRep whose pkiStatus is FAILURE and whose failInfo says why (§3.3.2); the service
//! builds and signs that itself, because only it holds the RA key. What reaches this map is
//! what gets no CertRep at all: a request too broken to answer (`400`), too large (`413`),
//! too frequent from one client (`429` with `Retry-After`), or a server failure (`500`).
//! SCEP clients show such answers to a person at most, so they are plain text.

use crate::acme::limit::WINDOW;
use crate::enroll::scep::ScepFailure;
use actix_web::http::StatusCode;
use actix_web::http::header::{HeaderValue, RETRY_AFTER};
use actix_web::{HttpResponse, ResponseError};

/// A SCEP request answered without a CertRep.
#[derive(Debug, thiserror::Error)]
pub enum ScepError {
    /// The SCEP service refused the message before any CertRep could be made.
    #[error(transparent)]
    Failure(ScepFailure),
    #[error("the query string is not readable")]
    UnreadableQuery,
    #[error("PKIOperation by GET carries the pkiMessage as `message`")]
    MissingMessage,
    #[error("the `message` parameter is not base64")]
    MessageNotBase64,
    #[error("unknown SCEP operation; this server offers GetCACaps, GetCACert and PKIOperation")]
    UnknownOperation,
}

impl From<ScepFailure> for ScepError {
    fn from(e: ScepFailure) -> ScepError {
        if matches!(e, ScepFailure::Internal(_) | ScepFailure::Store(_)) {
            log::error!("SCEP request failed: {e}");
        }
        ScepError::Failure(e)
    }
}

impl ResponseError for ScepError {
    fn status_code(&self) -> StatusCode {
        match self {
            ScepError::Failure(ScepFailure::TooLarge { .. }) => StatusCode::PAYLOAD_TOO_LARGE,
            ScepError::Failure(ScepFailure::RateLimited { .. }) => StatusCode::TOO_MANY_REQUESTS,
            ScepError::Failure(ScepFailure::Internal(_) | ScepFailure::Store(_)) => {
                StatusCode::INTERNAL_SERVER_ERROR
            }
            ScepError::Failure(ScepFailure::Malformed(_))
            | ScepError::UnreadableQuery
            | ScepError::MissingMessage
            | ScepError::MessageNotBase64
            | ScepError::UnknownOperation => StatusCode::BAD_REQUEST,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let words = match self {
            // Internal details stay in the log.
            ScepError::Failure(ScepFailure::Internal(_) | ScepFailure::Store(_)) => {
                "the SCEP server failed; see the appliance log".to_string()
            }
            other => other.to_string(),
        };
        let mut r = HttpResponse::build(self.status_code())
            .content_type("text/plain; charset=utf-8")
            .insert_header(("Cache-Control", "no-store"))
            .body(words);
        if let ScepError::Failure(ScepFailure::RateLimited { .. }) = self {
            // At most one window away.
            if let Ok(v) = HeaderValue::from_str(&WINDOW.whole_seconds().to_string()) {
                r.headers_mut().insert(RETRY_AFTER, v);
            }
        }
        r
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::StoreError;

    fn answer(e: ScepError) -> (u16, Option<String>, String) {
        let r = e.error_response();
        let status = r.status().as_u16();
        let retry = r.headers().get(RETRY_AFTER).map(|v| v.to_str().unwrap().to_string());
        let ct = r.headers().get("Content-Type").unwrap().to_str().unwrap().to_string();
        assert_eq!(ct, "text/plain; charset=utf-8");
        let body = actix_web::body::MessageBody::try_into_bytes(r.into_body()).unwrap();
        (status, retry, String::from_utf8(body.to_vec()).unwrap())
    }

    #[test]
    fn every_answer_without_a_cert_rep_has_its_status() {
        let at = time::OffsetDateTime::UNIX_EPOCH;
        let cases = [
            (ScepError::from(ScepFailure::TooLarge { len: 9, max: 8 }), 413),
            (ScepError::from(ScepFailure::Malformed("x".into())), 400),
            (ScepError::from(ScepFailure::RateLimited { retry_at: at }), 429),
            (ScepError::from(ScepFailure::Internal("x".into())), 500),
            (ScepError::from(ScepFailure::Store(StoreError::TaskFailed)), 500),
            (ScepError::UnreadableQuery, 400),
            (ScepError::MissingMessage, 400),
            (ScepError::MessageNotBase64, 400),
            (ScepError::UnknownOperation, 400),
        ];
        for (e, want) in cases {
            let what = format!("{e:?}");
            assert_eq!(answer(e).0, want, "{what}");
        }
    }

    #[test]
    fn a_rate_limited_client_is_told_when_to_retry() {
        let at = time::OffsetDateTime::UNIX_EPOCH;
        let (_, retry, _) = answer(ScepFailure::RateLimited { retry_at: at }.into());
        assert_eq!(retry.as_deref(), Some("60"));
        let (_, retry, _) = answer(ScepError::UnknownOperation);
        assert_eq!(retry, None);
    }

    #[test]
    fn a_server_failure_keeps_its_detail_in_the_log() {
        let (_, _, body) = answer(ScepFailure::Internal("RA key at /var/lib/x".into()).into());
        assert_eq!(body, "the SCEP server failed; see the appliance log");
    }
}

//! The ACME family: how a refused ACME request is answered (RFC 8555 §6.7): an RFC 7807
//! problem document as `application/problem+json`, its HTTP status, and the `Location` a
//! keyChange conflict names (§7.3.5). The domain names the refusal ([`AcmeError`] and its
//! RFC 8555 error type, which it also stores on failed challenges); the status table, the
//! document sent and what stays in the log are decided here. The ACME headers every answer
//! carries (`Replay-Nonce`, `Link: rel="index"`) are the route's: see `http::acme`.

use crate::acme::{AcmeError, Problem};
use crate::crypto::jws::{Alg, JwsError};
use crate::http::DEVICE_BODY_LIMIT;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, HttpResponseBuilder};

/// A refused ACME request as the client receives it.
#[derive(Debug)]
pub struct AcmeProblem {
    status: StatusCode,
    problem: Problem,
    location: Option<String>,
    retry_after_secs: Option<u64>,
}

/// The HTTP status of each refusal (RFC 8555 §6.7 leaves most to the server; 403 for
/// authorization failures, 404 for unknown objects, 409 for a taken key (§7.3.5), 415 for the
/// wrong media type (§6.2), 429 for a client over its rate limit (§6.6), 503 while the cap on
/// unfinished state is reached, 400 otherwise).
fn status(e: &AcmeError) -> StatusCode {
    match e {
        AcmeError::Jws(JwsError::WrongUrl { .. })
        | AcmeError::Unauthorized(_)
        | AcmeError::RejectedIdentifier(_)
        | AcmeError::OrderNotReady(_) => StatusCode::FORBIDDEN,
        AcmeError::NotFound(_) => StatusCode::NOT_FOUND,
        AcmeError::Conflict { .. } => StatusCode::CONFLICT,
        AcmeError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
        AcmeError::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
        AcmeError::Full { .. } => StatusCode::SERVICE_UNAVAILABLE,
        AcmeError::Issue(_) | AcmeError::Store(_) => StatusCode::INTERNAL_SERVER_ERROR,
        AcmeError::Jws(_)
        | AcmeError::Malformed(_)
        | AcmeError::UnsupportedIdentifier(_)
        | AcmeError::BadAttestation(_)
        | AcmeError::BadCsr(_)
        | AcmeError::AlreadyRevoked(_)
        | AcmeError::UnsupportedContact(_)
        | AcmeError::InvalidContact(_)
        | AcmeError::BadRevocationReason(_) => StatusCode::BAD_REQUEST,
    }
}

impl From<&AcmeError> for AcmeProblem {
    fn from(e: &AcmeError) -> AcmeProblem {
        if matches!(e, AcmeError::Store(_) | AcmeError::Issue(_)) {
            log::error!("ACME request failed: {e}");
        }
        let status = status(e);
        let mut problem = match e {
            AcmeError::BadAttestation(p) => p.clone(),
            // Internal details stay in the log.
            AcmeError::Store(_) => Problem::new("serverInternal", "the server's store failed"),
            _ => Problem::new(e.problem_type(), e.to_string()),
        };
        problem.status = Some(status.as_u16());
        if let AcmeError::Jws(JwsError::BadSignatureAlgorithm(_)) = e {
            // RFC 8555 §6.2: the problem lists the algorithms the server accepts.
            problem.algorithms = Alg::ALL.iter().map(|a| a.name().to_string()).collect();
        }
        let location = match e {
            AcmeError::Conflict { location, .. } => Some(location.clone()),
            _ => None,
        };
        AcmeProblem { status, problem, location, retry_after_secs: e.retry_after_secs() }
    }
}

impl AcmeProblem {
    /// A body actix could not hand over (over the limit, most often): `malformed`, with the
    /// client error actix found (413) or 400.
    pub fn unreadable(e: &actix_web::Error) -> AcmeProblem {
        let status = e.as_response_error().status_code();
        let detail = if status == StatusCode::PAYLOAD_TOO_LARGE {
            format!("the request body is over the {DEVICE_BODY_LIMIT}-byte limit of ACME requests")
        } else {
            "the request body could not be read".to_string()
        };
        let status = if status.is_client_error() { status } else { StatusCode::BAD_REQUEST };
        AcmeProblem {
            status,
            problem: Problem::new("malformed", detail),
            location: None,
            retry_after_secs: None,
        }
    }

    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The answer, on a builder that already has the status and the ACME headers.
    pub fn respond(&self, mut b: HttpResponseBuilder) -> HttpResponse {
        if let Some(l) = &self.location {
            b.insert_header(("Location", l.as_str()));
        }
        if let Some(secs) = self.retry_after_secs {
            b.insert_header(("Retry-After", secs.to_string()));
        }
        b.content_type("application/problem+json")
            .body(serde_json::to_string(&self.problem).unwrap_or_else(|_| "{}".into()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::StoreError;

    fn answer(e: AcmeError) -> (u16, serde_json::Value) {
        let p = AcmeProblem::from(&e);
        (p.status.as_u16(), serde_json::to_value(&p.problem).unwrap())
    }

    #[test]
    fn every_refusal_has_its_status_and_problem_type() {
        let s = || "x".to_string();
        let cases = [
            (AcmeError::Jws(JwsError::Malformed(s())), 400, "malformed"),
            (AcmeError::Jws(JwsError::BadSignatureAlgorithm(s())), 400, "badSignatureAlgorithm"),
            (AcmeError::Jws(JwsError::BadSignature), 400, "malformed"),
            (AcmeError::Jws(JwsError::BadNonce), 400, "badNonce"),
            (AcmeError::Jws(JwsError::WrongUrl { got: s(), expected: s() }), 403, "unauthorized"),
            (AcmeError::Jws(JwsError::AccountDoesNotExist(s())), 400, "accountDoesNotExist"),
            (AcmeError::Jws(JwsError::NoAccountForKey), 400, "accountDoesNotExist"),
            (AcmeError::Malformed(s()), 400, "malformed"),
            (AcmeError::NotFound(s()), 404, "malformed"),
            (AcmeError::Unauthorized(s()), 403, "unauthorized"),
            (AcmeError::UnsupportedIdentifier(s()), 400, "unsupportedIdentifier"),
            (AcmeError::RejectedIdentifier(s()), 403, "rejectedIdentifier"),
            (
                AcmeError::BadAttestation(Problem::new("badAttestationStatement", "x")),
                400,
                "badAttestationStatement",
            ),
            (AcmeError::OrderNotReady(s()), 403, "orderNotReady"),
            (AcmeError::BadCsr(s()), 400, "badCSR"),
            (AcmeError::AlreadyRevoked(s()), 400, "alreadyRevoked"),
            (AcmeError::UnsupportedMediaType(s()), 415, "malformed"),
            (AcmeError::UnsupportedContact(s()), 400, "unsupportedContact"),
            (AcmeError::InvalidContact(s()), 400, "invalidContact"),
            (AcmeError::Conflict { detail: s(), location: s() }, 409, "conflict"),
            (AcmeError::BadRevocationReason(s()), 400, "badRevocationReason"),
            (AcmeError::RateLimited { detail: s(), retry_after_secs: 1 }, 429, "rateLimited"),
            (AcmeError::Full { detail: s(), retry_after_secs: 1 }, 503, "rateLimited"),
            (AcmeError::Issue(s()), 500, "serverInternal"),
            (AcmeError::Store(StoreError::TaskFailed), 500, "serverInternal"),
        ];
        for (e, want_status, short) in cases {
            let what = format!("{e:?}");
            let (status, doc) = answer(e);
            assert_eq!(status, want_status, "{what}");
            assert_eq!(doc["type"], format!("urn:ietf:params:acme:error:{short}"), "{what}");
            assert_eq!(doc["status"], want_status, "{what}: the document repeats the status");
        }
    }

    #[test]
    fn bad_signature_algorithm_lists_the_accepted_algorithms() {
        let (_, doc) = answer(AcmeError::Jws(JwsError::BadSignatureAlgorithm("ES512".into())));
        assert_eq!(doc["algorithms"], serde_json::json!(["ES256", "ES384", "RS256"]));
        // Other problems carry no such member.
        let (_, other) = answer(AcmeError::Malformed("x".into()));
        assert!(other.get("algorithms").is_none());
    }

    #[test]
    fn a_store_failure_keeps_its_detail_in_the_log() {
        let (_, doc) = answer(AcmeError::Store(StoreError::Redb("disk /dev/vda1 broke".into())));
        assert_eq!(doc["detail"], "the server's store failed");
    }

    #[test]
    fn an_attestation_problem_is_sent_as_recorded_with_its_subproblems() {
        let mut p = Problem::new("badAttestationStatement", "attested serial differs");
        p.subproblems.push(Problem::new("rejectedIdentifier", "attested serial differs"));
        let (status, doc) = answer(AcmeError::BadAttestation(p));
        assert_eq!(status, 400);
        assert_eq!(doc["subproblems"][0]["type"], "urn:ietf:params:acme:error:rejectedIdentifier");
    }

    #[test]
    fn a_key_change_conflict_names_the_account_that_holds_the_key() {
        let e = AcmeError::Conflict { detail: "taken".into(), location: "https://a/acct/1".into() };
        let p = AcmeProblem::from(&e);
        let resp = p.respond(HttpResponse::build(p.status()));
        assert_eq!(resp.headers().get("Location").unwrap(), "https://a/acct/1");
        assert_eq!(resp.headers().get("Content-Type").unwrap(), "application/problem+json");
    }
}

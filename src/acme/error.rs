//! [`AcmeError`]: every refusal of the ACME server, with its RFC 8555 problem type, and
//! [`Problem`], the problem document (RFC 7807) a device receives and a failed challenge
//! keeps. The HTTP status and the document sent are `http::error::acme`'s.
//!
//! Details are sentences a client's operator can act on: they name what was wrong and, where
//! there is one, the fix.

use crate::crypto::jws::JwsError;
use crate::store::StoreError;
use serde::{Deserialize, Serialize};

/// The `type` prefix of ACME problem documents.
pub const ERROR_NS: &str = "urn:ietf:params:acme:error:";

/// An RFC 7807 problem document, as sent and as kept on a failed challenge.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Problem {
    #[serde(rename = "type")]
    pub kind: String,
    pub detail: String,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub status: Option<u16>,
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub subproblems: Vec<Problem>,
    /// The JWS algorithms the server accepts, on `badSignatureAlgorithm` (RFC 8555 §6.2).
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub algorithms: Vec<String>,
}

impl Problem {
    pub fn new(short_type: &str, detail: impl Into<String>) -> Problem {
        Problem {
            kind: format!("{ERROR_NS}{short_type}"),
            detail: detail.into(),
            status: None,
            subproblems: vec![],
            algorithms: vec![],
        }
    }
}

/// Why an ACME request was refused. Messages are the problem's `detail`.
#[derive(Debug, thiserror::Error)]
pub enum AcmeError {
    #[error(transparent)]
    Jws(#[from] JwsError),
    #[error("{0}")]
    Malformed(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Unauthorized(String),
    #[error("{0}")]
    UnsupportedIdentifier(String),
    #[error("{0}")]
    RejectedIdentifier(String),
    #[error("{}", .0.detail)]
    BadAttestation(Problem),
    #[error("{0}")]
    OrderNotReady(String),
    #[error("{0}")]
    BadCsr(String),
    #[error("{0}")]
    AlreadyRevoked(String),
    /// A request's media type is not `application/jose+json` (RFC 8555 §6.2: 415).
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// A contact URL the server does not support (only `mailto:`, RFC 8555 §7.3).
    #[error("{0}")]
    UnsupportedContact(String),
    /// A `mailto:` contact that is not one plain address (RFC 8555 §7.3).
    #[error("{0}")]
    InvalidContact(String),
    /// keyChange to a key another account (or this one) already has (RFC 8555 §7.3.5: 409 with
    /// the Location of that account).
    #[error("{detail}")]
    Conflict { detail: String, location: String },
    #[error("{0}")]
    BadRevocationReason(String),
    /// Too many `newAccount` / `newOrder` requests from one address (RFC 8555 §6.6: 429 with
    /// `Retry-After`).
    #[error("{detail}")]
    RateLimited { detail: String, retry_after_secs: u64 },
    /// The cap on stored unfinished state is reached (503 with `Retry-After`).
    #[error("{detail}")]
    Full { detail: String, retry_after_secs: u64 },
    #[error("the certificate could not be issued: {0}")]
    Issue(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

crate::store::redb_errors_into!(AcmeError);

impl AcmeError {
    /// Seconds a client should wait before trying again (`Retry-After`), for refusals that
    /// pass with time.
    pub fn retry_after_secs(&self) -> Option<u64> {
        match self {
            AcmeError::RateLimited { retry_after_secs, .. }
            | AcmeError::Full { retry_after_secs, .. } => Some(*retry_after_secs),
            _ => None,
        }
    }

    /// The RFC 8555 error type, without the namespace.
    pub fn problem_type(&self) -> &'static str {
        match self {
            AcmeError::Jws(e) => e.problem_type(),
            AcmeError::Malformed(_) | AcmeError::NotFound(_) => "malformed",
            AcmeError::Unauthorized(_) => "unauthorized",
            AcmeError::UnsupportedIdentifier(_) => "unsupportedIdentifier",
            AcmeError::RejectedIdentifier(_) => "rejectedIdentifier",
            AcmeError::BadAttestation(_) => "badAttestationStatement",
            AcmeError::OrderNotReady(_) => "orderNotReady",
            AcmeError::BadCsr(_) => "badCSR",
            AcmeError::AlreadyRevoked(_) => "alreadyRevoked",
            AcmeError::UnsupportedMediaType(_) => "malformed",
            AcmeError::UnsupportedContact(_) => "unsupportedContact",
            AcmeError::InvalidContact(_) => "invalidContact",
            // Not in RFC 8555's registry; Boulder and Pebble answer this case with it.
            AcmeError::Conflict { .. } => "conflict",
            AcmeError::BadRevocationReason(_) => "badRevocationReason",
            AcmeError::RateLimited { .. } | AcmeError::Full { .. } => "rateLimited",
            AcmeError::Issue(_) | AcmeError::Store(_) => "serverInternal",
        }
    }
}

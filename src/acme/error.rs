//! [`AcmeError`]: every refusal of the ACME server, with its RFC 8555 problem type and HTTP
//! status, and [`Problem`], the problem document (RFC 7807) a device receives.
//!
//! Details are sentences a client's operator can act on: they name what was wrong and, where
//! there is one, the fix.

use crate::crypto::jws::{Alg, JwsError};
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
    #[error("the certificate could not be issued: {0}")]
    Issue(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

crate::store::redb_errors_into!(AcmeError);

impl AcmeError {
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
            AcmeError::Issue(_) | AcmeError::Store(_) => "serverInternal",
        }
    }

    /// The HTTP status the problem is sent with.
    pub fn status(&self) -> u16 {
        match self {
            AcmeError::Jws(JwsError::WrongUrl { .. })
            | AcmeError::Unauthorized(_)
            | AcmeError::RejectedIdentifier(_)
            | AcmeError::OrderNotReady(_) => 403,
            AcmeError::NotFound(_) => 404,
            AcmeError::Conflict { .. } => 409,
            AcmeError::UnsupportedMediaType(_) => 415,
            AcmeError::Issue(_) | AcmeError::Store(_) => 500,
            _ => 400,
        }
    }

    /// The problem document a device receives.
    pub fn problem(&self) -> Problem {
        let mut p = match self {
            AcmeError::BadAttestation(p) => p.clone(),
            // Internal details stay in the log.
            AcmeError::Store(_) => Problem::new("serverInternal", "the server's store failed"),
            _ => Problem::new(self.problem_type(), self.to_string()),
        };
        p.status = Some(self.status());
        if let AcmeError::Jws(JwsError::BadSignatureAlgorithm(_)) = self {
            p.algorithms = Alg::ALL.iter().map(|a| a.name().to_string()).collect();
        }
        p
    }

    /// The `Location` sent with the problem (a keyChange conflict names the account).
    pub fn location(&self) -> Option<&str> {
        match self {
            AcmeError::Conflict { location, .. } => Some(location),
            _ => None,
        }
    }
}

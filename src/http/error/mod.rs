//! Where domain errors become HTTP answers: one map per protocol family, because each family
//! has its own body shape fixed by a client we do not control. Handlers return these types
//! with `?` (or call the family's map); no handler picks a status code for an error.
//!
//! - [`api`]: the JSON API under `/api/v1` (the admin page and scripts):
//!   `{"error": "<stable_code>", "message": "<plain words>", "field": "<name>"}` ([`ApiError`]).
//! - [`device`]: what devices see as JSON: the `/enroll` refusals in Apple's shape
//!   (../shared/spec/enrollment.md §1.4) and the `/mdm` channel's refusals (403, never 401).
//! - [`acme`]: ACME problem documents, `application/problem+json` (RFC 8555 §6.7, RFC 7807).
//! - [`scep`]: SCEP's plain-text answers to requests too broken for a CertRep (RFC 8894 §4).
//! - [`signin`]: the user sign-in page's HTML refusals (`/enroll/web`).

pub mod acme;
pub mod api;
pub mod device;
pub mod scep;
pub mod signin;

pub use api::{ApiError, json_error, path_error, payload_errors_as_json, query_error};

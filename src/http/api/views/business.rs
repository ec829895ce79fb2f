//! Views of Apple Business actions: one serial's outcome as Apple's activity log tells it.
//! Its own name in the OpenAPI document: the assignment request's `SerialOutcome`
//! (`views::profiles`) is another shape, and two schemas of one name would document one
//! route with the other's.

use crate::business::activities::{self as domain, logfile::Outcome};
use serde::Serialize;
use utoipa::ToSchema;

/// One serial's outcome in a Business action.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct ActionSerialOutcome {
    pub serial: String,
    /// `done`, `refused` or `unknown`.
    #[schema(value_type = String)]
    pub outcome: Outcome,
    /// Apple's status word for it, as in the log.
    pub status: String,
    /// Apple's message, as in the log.
    pub message: String,
    /// What to do, for a refused serial.
    pub advice: Option<String>,
}

impl From<domain::SerialOutcome> for ActionSerialOutcome {
    fn from(o: domain::SerialOutcome) -> Self {
        let domain::SerialOutcome { serial, outcome, status, message, advice } = o;
        ActionSerialOutcome { serial: serial.into_string(), outcome, status, message, advice }
    }
}

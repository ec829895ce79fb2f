//! What one round of talking to Apple did, and how Apple's refusal of a call is put in
//! words: shared by the worker and the await variants it defines, kept in a leaf so neither
//! imports the other back.

use super::AppleRefusal;
use crate::depclient::DepError;

/// What one round did (logs and tests).
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Round {
    pub defined: u32,
    pub refused: u32,
    pub batches: u32,
    pub sent: u32,
}

pub(super) fn refusal(e: &DepError) -> AppleRefusal {
    let code = match e {
        DepError::ProfileInvalid { code } => code.as_str().to_string(),
        DepError::Refused { code: Some(c), .. } => c.as_str().to_string(),
        DepError::Refused { status, .. } => format!("HTTP_{status}"),
        other => format!("{other:?}").split([' ', '{', '(']).next().unwrap_or("ERROR").to_string(),
    };
    AppleRefusal { code, message: e.to_string() }
}

//! How the API answers the errors of the actions at Apple Business and of AppleCare coverage
//! (`business::activities`, `business::applecare`): a mistake in the request is a 422 naming
//! the field, Apple's own refusals and failures are a 502 carrying Apple's words and code.

use super::ApiError;
use crate::business::activities::ActivityError;
use crate::business::applecare::AppleCareError;
use crate::business::{BusinessError, ClientError};
use actix_web::http::StatusCode;

fn client(e: ClientError) -> ApiError {
    let msg = e.to_string();
    match e {
        ClientError::Refused { .. } => ApiError::upstream("business_refused", msg),
        ClientError::Api { code, .. } => {
            let mut err = ApiError::upstream("business_error", msg);
            err.extra_mut().code = Some(code);
            err
        }
        ClientError::RateLimited(_) => {
            ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "business_rate_limited", msg)
        }
        ClientError::Transport(_) | ClientError::Decode(_) => {
            ApiError::upstream("business_unreachable", msg)
        }
    }
}

fn account(e: BusinessError) -> ApiError {
    match e {
        BusinessError::NotSet => ApiError::conflict(
            "business_not_set",
            "no Apple Business API account is set up; an Owner adds one on the Apple Business page first",
        ),
        BusinessError::Store(s) => s.into(),
        other => ApiError::internal(&other),
    }
}

impl From<ActivityError> for ApiError {
    fn from(e: ActivityError) -> Self {
        let msg = e.to_string();
        match e {
            ActivityError::Invalid { field, message } => ApiError::validation(field, message),
            ActivityError::NotOwned(_) | ActivityError::NotAssignedHere(_) => {
                ApiError::validation("serials", msg)
            }
            ActivityError::Tokens(t) => t.into(),
            ActivityError::UnknownServer(_) => ApiError::validation("token", msg),
            ActivityError::RequestIdReused(_) => {
                ApiError::conflict("request_id_reused", msg).field("request_id")
            }
            ActivityError::NotFound(_) => ApiError::not_found_because(msg),
            ActivityError::Client(c) => client(c),
            ActivityError::Account(a) => account(a),
            ActivityError::Store(s) => s.into(),
        }
    }
}

impl From<AppleCareError> for ApiError {
    fn from(e: AppleCareError) -> Self {
        let msg = e.to_string();
        match e {
            AppleCareError::NotInOrganisation(_) => ApiError::not_found_because(msg),
            AppleCareError::Client(c) => client(c),
            AppleCareError::Account(a) => account(a),
            AppleCareError::Store(s) => s.into(),
        }
    }
}

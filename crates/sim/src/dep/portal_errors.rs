//! The portal's failures in plain words (`{"error": "…"}` with 400/404/409/500) and the
//! helpers every portal route answers with: shared by `portal.rs` and
//! `portal_migrations.rs`.

use crate::dep::migration::MigrationError;
use crate::dep::world::WorldError;
use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::json;

/// A portal failure in plain words.
#[derive(Debug, thiserror::Error)]
pub enum PortalError {
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    NotFound(String),
    /// What Apple's API answers 409 to (a migration deadline out of range).
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    Internal(String),
}

impl From<WorldError> for PortalError {
    fn from(e: WorldError) -> Self {
        match e {
            WorldError::UnknownServer(_) => PortalError::NotFound(e.to_string()),
            _ => PortalError::BadRequest(e.to_string()),
        }
    }
}

impl PortalError {
    pub fn response(&self) -> HttpResponse {
        let status = match self {
            PortalError::BadRequest(_) => StatusCode::BAD_REQUEST,
            PortalError::NotFound(_) => StatusCode::NOT_FOUND,
            PortalError::Conflict(_) => StatusCode::CONFLICT,
            PortalError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        };
        HttpResponse::build(status).json(json!({ "error": self.to_string() }))
    }
}

pub fn reply<T: Serialize>(result: Result<T, PortalError>) -> HttpResponse {
    match result {
        Ok(v) => HttpResponse::Ok().json(v),
        Err(e) => e.response(),
    }
}

pub fn parse<T: for<'de> Deserialize<'de>>(body: &[u8]) -> Result<T, PortalError> {
    serde_json::from_slice(body).map_err(|e| {
        PortalError::BadRequest(format!("the request body is not the JSON this route takes: {e}"))
    })
}

impl From<MigrationError> for PortalError {
    fn from(e: MigrationError) -> Self {
        match e {
            MigrationError::DeadlineOutOfRange { .. } => PortalError::Conflict(e.to_string()),
            MigrationError::UnknownServer(_) => PortalError::NotFound(e.to_string()),
        }
    }
}

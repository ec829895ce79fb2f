//! `/api/v1/business/account`: the Apple Business API account (client id, key id, private
//! key). Thin: the business module checks, seals and audits; the private key is taken, never
//! answered. `GET` always answers 200 with `configured`, so the page and scripts tell "not set
//! up" from a missing route.

use crate::business::{AccountInput, AccountView, BusinessError};
use crate::crypto::Secret;
use crate::http::error::ApiError;
use crate::http::extract::Authenticated;
use crate::http::json::ApiJson;
use crate::http::state::AppState;
use actix_web::{HttpResponse, delete, get, put, web};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

impl From<BusinessError> for ApiError {
    fn from(e: BusinessError) -> Self {
        match e {
            // 400, not 422: the page shows the message next to the field either way.
            BusinessError::Key(_) => ApiError::bad_request(e.to_string()).field("private_key_pem"),
            BusinessError::ClientId(_) => ApiError::bad_request(e.to_string()).field("client_id"),
            BusinessError::KeyId => ApiError::bad_request(e.to_string()).field("key_id"),
            BusinessError::NotSet => ApiError::conflict("business_not_set_up", e.to_string()),
            BusinessError::Store(s) => s.into(),
        }
    }
}

/// The account as shown: never the private key.
#[derive(Serialize, ToSchema)]
pub struct BusinessAccount {
    /// False until an account is saved; the other members are then absent.
    pub configured: bool,
    /// `BUSINESSAPI.<uuid>` (or `SCHOOLAPI.<uuid>`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_id: Option<String>,
    /// When the account was saved (RFC 3339).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub saved_at: Option<String>,
}

impl From<Option<AccountView>> for BusinessAccount {
    fn from(v: Option<AccountView>) -> Self {
        match v {
            None => {
                BusinessAccount { configured: false, client_id: None, key_id: None, saved_at: None }
            }
            Some(v) => BusinessAccount {
                configured: true,
                client_id: Some(v.client_id),
                key_id: Some(v.key_id),
                saved_at: v.saved_at.format(&time::format_description::well_known::Rfc3339).ok(),
            },
        }
    }
}

/// The account to save (replaces any earlier one).
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BusinessAccountInput {
    pub client_id: String,
    pub key_id: String,
    /// The `.pem` file Apple Business downloaded (EC P-256, PKCS#8 or SEC1).
    #[schema(value_type = String, format = Password)]
    pub private_key_pem: Secret<String>,
}

/// The Apple Business API account, if one is set up (never its private key).
#[utoipa::path(tag = "business", responses((status = OK, body = BusinessAccount)))]
#[get("/business/account")]
async fn get_account(
    state: web::Data<AppState>,
    _auth: Authenticated,
) -> Result<web::Json<BusinessAccount>, ApiError> {
    Ok(web::Json(state.business.account().view().await?.into()))
}

/// Saves the Apple Business API account; a refused one leaves the saved one as it was.
#[utoipa::path(
    tag = "business",
    request_body = BusinessAccountInput,
    responses((status = OK, body = BusinessAccount), (status = BAD_REQUEST, body = ApiError))
)]
#[put("/business/account")]
async fn put_account(
    state: web::Data<AppState>,
    auth: Authenticated,
    body: ApiJson<BusinessAccountInput>,
) -> Result<web::Json<BusinessAccount>, ApiError> {
    let b = body.into_inner();
    let input = AccountInput {
        client_id: b.client_id,
        key_id: b.key_id,
        private_key_pem: b.private_key_pem,
    };
    let saved = state.business.save(auth.actor(), input).await?;
    Ok(web::Json(Some(saved).into()))
}

/// Removes the Apple Business API account and erases its key.
#[utoipa::path(tag = "business", responses((status = NO_CONTENT), (status = NOT_FOUND, body = ApiError)))]
#[delete("/business/account")]
async fn delete_account(
    state: web::Data<AppState>,
    auth: Authenticated,
) -> Result<HttpResponse, ApiError> {
    if !state.business.remove(auth.actor()).await? {
        return Err(ApiError::not_found("Apple Business API account"));
    }
    Ok(HttpResponse::NoContent().finish())
}

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(get_account).service(put_account).service(delete_account);
}

//! `/api/v1/business/servers` and `/api/v1/business/where/{serial}`: which of our server
//! tokens is which Apple Business MDM server (mapped once by the admin where the ids differ),
//! and where a serial the inventory does not have is. Thin: `business::Business` asks Apple
//! and decides; the answers here say what to do in plain words.

use crate::business::ClientError;
use crate::business::mapping::ServerLink;
use crate::business::service::{ServiceError, WhereIs};
use crate::http::error::ApiError;
use crate::http::extract::Authenticated;
use crate::http::json::ApiJson;
use crate::http::state::AppState;
use crate::ids::{Serial, TokenId};
use actix_web::{HttpResponse, get, put, web};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

impl From<ServiceError> for ApiError {
    fn from(e: ServiceError) -> Self {
        match e {
            ServiceError::Account(a) => a.into(),
            ServiceError::Apple(c) => apple_error(c),
            ServiceError::Tokens(t) => t.into(),
            ServiceError::Store(s) => s.into(),
            ServiceError::Invalid(m) => ApiError::validation("mdm_server_id", m),
        }
    }
}

/// Apple's refusals and outages as a 502 naming what to do.
fn apple_error(e: ClientError) -> ApiError {
    let code = match &e {
        ClientError::Refused { .. } => "business_account_refused",
        ClientError::RateLimited(_) => "business_rate_limited",
        _ => "business_unavailable",
    };
    ApiError::upstream(code, e.to_string())
}

/// One Apple Business MDM server and the server token of ours it is, if any.
#[derive(Serialize, ToSchema)]
pub struct BusinessServer {
    pub mdm_server_id: String,
    pub server_name: Option<String>,
    /// `MDM`, `APPLE_CONFIGURATOR`, `APPLE_MDM`.
    pub server_type: Option<String>,
    pub device_count: Option<u64>,
    /// Our token, when this server is ours.
    #[schema(value_type = Option<String>)]
    pub token: Option<TokenId>,
    pub token_name: Option<String>,
    /// `server_uuid` (the ids are equal) or `admin` (mapped on the page).
    pub matched_by: Option<String>,
}

impl From<ServerLink> for BusinessServer {
    fn from(l: ServerLink) -> Self {
        BusinessServer {
            mdm_server_id: l.mdm_server_id,
            server_name: l.server_name,
            server_type: l.server_type,
            device_count: l.device_count,
            token: l.token,
            token_name: l.token_name,
            matched_by: l.matched_by.map(|m| {
                serde_json::to_value(m)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_string))
                    .unwrap_or_default()
            }),
        }
    }
}

/// The organisation's MDM servers and our tokens none of them matched.
#[derive(Serialize, ToSchema)]
pub struct BusinessServers {
    pub servers: Vec<BusinessServer>,
    /// Our tokens no server matched: map each on the page.
    pub unmatched_tokens: Vec<UnmatchedToken>,
}

#[derive(Serialize, ToSchema)]
pub struct UnmatchedToken {
    #[schema(value_type = String)]
    pub id: TokenId,
    pub server_name: String,
    pub server_uuid: String,
}

/// The organisation's MDM servers, each with the server token of ours it is.
#[utoipa::path(tag = "business", responses((status = OK, body = BusinessServers), (status = BAD_GATEWAY, body = ApiError)))]
#[get("/business/servers")]
async fn get_servers(
    state: web::Data<AppState>,
    _auth: Authenticated,
) -> Result<web::Json<BusinessServers>, ApiError> {
    let links = state.business.servers().await?;
    let tokens = state.tokens.list().await?;
    let unmatched_tokens = tokens
        .into_iter()
        .filter(|t| !links.iter().any(|l| l.token.as_ref() == Some(&t.id)))
        .map(|t| UnmatchedToken {
            id: t.id,
            server_name: t.server_name,
            server_uuid: t.server_uuid,
        })
        .collect();
    Ok(web::Json(BusinessServers {
        servers: links.into_iter().map(BusinessServer::from).collect(),
        unmatched_tokens,
    }))
}

/// Which Apple Business MDM server a token is (null: match by server uuid again).
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ServerMapping {
    pub mdm_server_id: Option<String>,
}

/// Maps one of our server tokens to an Apple Business MDM server, for when their ids differ.
#[utoipa::path(tag = "business", request_body = ServerMapping, responses((status = NO_CONTENT), (status = BAD_REQUEST, body = ApiError)))]
#[put("/business/servers/{token_id}")]
async fn put_mapping(
    state: web::Data<AppState>,
    auth: Authenticated,
    path: web::Path<String>,
    body: ApiJson<ServerMapping>,
) -> Result<HttpResponse, ApiError> {
    let token = TokenId::parse(&path.into_inner())
        .map_err(|e| ApiError::validation("token_id", e.to_string()))?;
    auth.require_token(&token)?;
    let id =
        body.into_inner().mdm_server_id.map(|s| s.trim().to_string()).filter(|s| !s.is_empty());
    state.business.map_server(auth.actor(), token, id).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Where a serial is, with what to do.
#[derive(Serialize, ToSchema)]
pub struct WhereAnswer {
    pub serial: String,
    /// `ours`, `elsewhere`, `unassigned`, `not_in_organisation`, `not_set_up`.
    pub answer: String,
    pub mdm_server_id: Option<String>,
    pub server_name: Option<String>,
    #[schema(value_type = Option<String>)]
    pub token: Option<TokenId>,
    /// What it means and what to do, in plain words.
    pub message: String,
}

fn answer(serial: &Serial, w: WhereIs) -> WhereAnswer {
    let mut a = WhereAnswer {
        serial: serial.to_string(),
        answer: String::new(),
        mdm_server_id: None,
        server_name: None,
        token: None,
        message: String::new(),
    };
    match w {
        WhereIs::Ours { token, server_name, mdm_server_id } => {
            a.answer = "ours".into();
            a.message = format!(
                "{serial} is assigned to this appliance's server “{server_name}”; it appears here after the next sync of that token (Sync now on its page)."
            );
            (a.token, a.server_name, a.mdm_server_id) =
                (Some(token), Some(server_name), Some(mdm_server_id));
        }
        WhereIs::Elsewhere { mdm_server_id, server_name } => {
            a.answer = "elsewhere".into();
            let name = server_name.clone().unwrap_or_else(|| format!("with id {mdm_server_id}"));
            a.message = format!(
                "{serial} is assigned to another MDM server, “{name}”. In Apple Business open Devices, find {serial} and assign it to this appliance's server (or ask whoever runs “{name}”); it appears here after the next sync."
            );
            (a.server_name, a.mdm_server_id) = (server_name, Some(mdm_server_id));
        }
        WhereIs::Unassigned => {
            a.answer = "unassigned".into();
            a.message = format!(
                "Your organisation has {serial}, but it is assigned to no MDM server. In Apple Business open Devices, find {serial} and assign it to this appliance's server; it appears here after the next sync."
            );
        }
        WhereIs::NotInOrganisation => {
            a.answer = "not_in_organisation".into();
            a.message = format!(
                "Apple Business does not know {serial} in your organisation. Check the serial; if it is right, the device was not bought through Apple or an enrolled reseller: ask the reseller to add it, or add it with Apple Configurator."
            );
        }
        WhereIs::NotSetUp => {
            a.answer = "not_set_up".into();
            a.message = format!(
                "{serial} is not in this appliance's inventory. To ask Apple Business where it is, set up the Apple Business API account on the Apple Business page; without it, look the serial up in Apple Business under Devices."
            );
        }
    }
    a
}

/// Where a serial is, asked of Apple Business: one of our servers, another server, none, or
/// not the organisation's.
#[utoipa::path(tag = "business", responses((status = OK, body = WhereAnswer), (status = BAD_GATEWAY, body = ApiError)))]
#[get("/business/where/{serial}")]
async fn where_is(
    state: web::Data<AppState>,
    _auth: Authenticated,
    path: web::Path<String>,
) -> Result<web::Json<WhereAnswer>, ApiError> {
    let serial = Serial::parse(&path.into_inner())
        .map_err(|e| ApiError::validation("serial", e.to_string()))?;
    let w = state.business.where_is(&serial).await?;
    Ok(web::Json(answer(&serial, w)))
}

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(get_servers).service(put_mapping).service(where_is);
}

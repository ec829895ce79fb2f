//! The Apple Business API routes of the simulator (apple-2026.md §8.3–§8.7): the token
//! endpoint, organisation devices, MDM servers, device activities and their CSV logs.
//!
//! Every `/v1` route passes [`gate`]: the 429 fault, then the bearer token (401
//! `NOT_AUTHORIZED` when unknown or expired), then due activities are applied to the shared
//! world. Query parameters are checked strictly: an unknown one, a `limit` over 1000, a bad
//! cursor or an unknown field name is a 400 `PARAMETER_ERROR.INVALID` naming it.

use crate::business::resources::{self, DEVICE_FIELDS, DeviceView, SERVER_FIELDS};
use crate::business::{Business, assertion};
use crate::dep::state::{Shared, lock};
use crate::rng::mix;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use base64ct::{Base64UrlUnpadded, Encoding};
use serde_json::{Value, json};
use std::sync::atomic::Ordering;

const MAX_LIMIT: usize = 1000;
const DEFAULT_LIMIT: usize = 100;
pub(super) const JSON: &str = "application/json";

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/auth/oauth2/token", web::post().to(token))
        .route("/v1/orgDevices", web::get().to(list_devices))
        .route("/v1/orgDevices/{serial}", web::get().to(get_device))
        .route(
            "/v1/orgDevices/{serial}/relationships/assignedServer",
            web::get().to(assigned_server_linkage),
        )
        .route("/v1/orgDevices/{serial}/assignedServer", web::get().to(assigned_server))
        .route("/v1/orgDevices/{serial}/appleCareCoverage", web::get().to(apple_care))
        .route("/v1/mdmServers", web::get().to(list_servers))
        .route("/v1/mdmServers/{id}/relationships/devices", web::get().to(server_devices))
        .route("/v1/mdmServers/{id}/devices", web::get().to(server_devices_related));
}

pub(super) fn error(
    status: u16,
    code: &str,
    title: &str,
    detail: &str,
    parameter: Option<&str>,
) -> Box<HttpResponse> {
    Box::new(
        HttpResponse::build(StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST))
            .content_type(JSON)
            .json(resources::error(status, code, title, detail, parameter)),
    )
}

fn invalid(parameter: &str, detail: &str) -> Box<HttpResponse> {
    error(
        400,
        "PARAMETER_ERROR.INVALID",
        "A parameter has an invalid value",
        detail,
        Some(parameter),
    )
}

pub(super) fn not_found(what: &str) -> Box<HttpResponse> {
    error(404, "NOT_FOUND", "The specified resource does not exist", what, None)
}

pub(super) fn conflict(code: &str, detail: &str, pointer: &str) -> Box<HttpResponse> {
    let mut body = resources::error(409, code, "The request entity is invalid", detail, None);
    body["errors"][0]["source"] = json!({"pointer": pointer});
    Box::new(HttpResponse::Conflict().content_type(JSON).json(body))
}

pub(super) fn base(req: &HttpRequest) -> String {
    format!("https://{}", req.connection_info().host())
}

/// The 429 fault, the bearer token, then due activities.
pub(super) fn gate(
    req: &HttpRequest,
    shared: &Shared,
    b: &Business,
) -> Result<(), Box<HttpResponse>> {
    let faults = *lock(&b.faults);
    let n = b.requests.fetch_add(1, Ordering::Relaxed) + 1;
    if faults.rate_limit_every > 0 && n.is_multiple_of(u64::from(faults.rate_limit_every)) {
        let mut r = error(
            429,
            "RATE_LIMIT_EXCEEDED",
            "The request rate limit has been reached.",
            "We've received too many requests for this API. Please wait and try again or slow down your request rate.",
            None,
        );
        if let Some(secs) = faults.retry_after {
            r.headers_mut().insert(
                actix_web::http::header::RETRY_AFTER,
                actix_web::http::header::HeaderValue::from(secs),
            );
        }
        return Err(r);
    }
    let now = shared.now();
    let token = req
        .headers()
        .get("Authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    let known = token.is_some_and(|t| lock(&b.accounts).bearer(t, now.unix_timestamp()).is_some());
    if !known {
        return Err(error(
            401,
            "NOT_AUTHORIZED",
            "Authentication credentials are missing or invalid.",
            "Provide a properly configured and signed bearer token, and make sure that it has not expired.",
            None,
        ));
    }
    let mut acts = lock(&b.activities);
    acts.settle(&mut lock(&shared.world), now);
    Ok(())
}

/// The query's pairs, refusing names outside `allowed`.
fn query(req: &HttpRequest, allowed: &[&str]) -> Result<Vec<(String, String)>, Box<HttpResponse>> {
    let pairs = web::Query::<Vec<(String, String)>>::from_query(req.query_string())
        .map_err(|_| invalid("query", "The query string cannot be read."))?
        .into_inner();
    if let Some((k, _)) = pairs.iter().find(|(k, _)| !allowed.contains(&k.as_str())) {
        return Err(invalid(k, &format!("The parameter '{k}' is not allowed on this resource.")));
    }
    Ok(pairs)
}

fn get<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

fn limit(pairs: &[(String, String)]) -> Result<usize, Box<HttpResponse>> {
    match get(pairs, "limit") {
        None => Ok(DEFAULT_LIMIT),
        Some(v) => {
            v.parse::<usize>().ok().filter(|n| (1..=MAX_LIMIT).contains(n)).ok_or_else(|| {
                invalid("limit", &format!("'{v}' is not a valid value; use 1 to {MAX_LIMIT}."))
            })
        }
    }
}

fn cursor(pairs: &[(String, String)]) -> Result<Option<String>, Box<HttpResponse>> {
    get(pairs, "cursor")
        .map(|c| {
            Base64UrlUnpadded::decode_vec(c)
                .ok()
                .and_then(|b| String::from_utf8(b).ok())
                .ok_or_else(|| invalid("cursor", "The cursor is not valid."))
        })
        .transpose()
}

fn fields(
    pairs: &[(String, String)],
    name: &str,
    known: &[&str],
) -> Result<Option<Vec<String>>, Box<HttpResponse>> {
    let Some(v) = get(pairs, name) else { return Ok(None) };
    let list: Vec<String> = v.split(',').map(str::to_string).collect();
    if let Some(bad) = list.iter().find(|f| !known.contains(&f.as_str())) {
        return Err(invalid(name, &format!("'{bad}' is not a valid field name.")));
    }
    Ok(Some(list))
}

fn list_answer(
    data: Vec<Value>,
    self_link: String,
    next: Option<(String, String)>,
    limit: usize,
) -> HttpResponse {
    let mut links = json!({"self": self_link});
    let mut paging = json!({"limit": limit});
    if let Some((next_link, cursor)) = next {
        links["next"] = json!(next_link);
        paging["nextCursor"] = json!(cursor);
    }
    HttpResponse::Ok()
        .content_type(JSON)
        .json(json!({"data": data, "links": links, "meta": {"paging": paging}}))
}

fn next_link(base: &str, path: &str, pairs: &[(String, String)], cursor: &str) -> String {
    let mut q: Vec<String> = pairs
        .iter()
        .filter(|(k, _)| k != "cursor")
        .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
        .collect();
    q.push(format!("cursor={cursor}"));
    format!("{base}{path}?{}", q.join("&"))
}

fn enc(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
}

async fn token(
    req: HttpRequest,
    shared: web::Data<Shared>,
    b: web::Data<Business>,
    body: web::Bytes,
) -> HttpResponse {
    let oauth = |status: StatusCode, error: &str, description: &str| {
        HttpResponse::build(status)
            .content_type(JSON)
            .json(json!({"error": error, "error_description": description}))
    };
    // Apple's sample sends the parameters in the query string, standard OAuth in a form body:
    // both are read (§8.3).
    let mut pairs = web::Query::<Vec<(String, String)>>::from_query(req.query_string())
        .map(|q| q.into_inner())
        .unwrap_or_default();
    match web::Query::<Vec<(String, String)>>::from_query(&String::from_utf8_lossy(&body)) {
        Ok(q) => pairs.extend(q.into_inner()),
        Err(_) => {
            return oauth(StatusCode::BAD_REQUEST, "invalid_request", "the body is not a form");
        }
    }
    const NAMES: &[&str] =
        &["grant_type", "client_id", "client_assertion_type", "client_assertion", "scope"];
    if let Some((k, _)) = pairs.iter().find(|(k, _)| !NAMES.contains(&k.as_str())) {
        return oauth(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            &format!("unknown parameter `{k}`"),
        );
    }
    let Some([grant, client_id, assertion_type, jwt, scope]) = NAMES
        .iter()
        .map(|n| get(&pairs, n))
        .collect::<Option<Vec<_>>>()
        .and_then(|v| <[&str; 5]>::try_from(v).ok())
    else {
        return oauth(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "grant_type, client_id, client_assertion_type, client_assertion and scope are all required",
        );
    };
    if grant != "client_credentials" {
        return oauth(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "grant_type must be client_credentials",
        );
    }
    if assertion_type != "urn:ietf:params:oauth:client-assertion-type:jwt-bearer" {
        return oauth(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "client_assertion_type must be urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        );
    }
    if scope != "business.api" && scope != "school.api" {
        return oauth(
            StatusCode::BAD_REQUEST,
            "invalid_scope",
            "scope must be business.api or school.api",
        );
    }
    let now = shared.now().unix_timestamp();
    let mut accounts = lock(&b.accounts);
    let audience = match b.audience_moved.load(std::sync::atomic::Ordering::SeqCst) {
        true => assertion::MOVED_AUDIENCE,
        false => assertion::AUDIENCE,
    };
    if let Err(r) = assertion::check(&accounts, client_id, jwt, now, audience) {
        return oauth(StatusCode::UNAUTHORIZED, r.error, &r.description);
    }
    let token = accounts.issue(client_id, now);
    HttpResponse::Ok().content_type(JSON).json(json!({
        "access_token": token, "token_type": "Bearer",
        "expires_in": crate::business::accounts::TOKEN_TTL_SECS, "scope": scope}))
}

async fn list_devices(
    req: HttpRequest,
    shared: web::Data<Shared>,
    b: web::Data<Business>,
) -> HttpResponse {
    if let Err(r) = gate(&req, &shared, &b) {
        return *r;
    }
    let run = || -> Result<HttpResponse, Box<HttpResponse>> {
        let pairs = query(&req, &["limit", "cursor", "fields[orgDevices]"])?;
        let (limit, after) = (limit(&pairs)?, cursor(&pairs)?);
        let fields = fields(&pairs, "fields[orgDevices]", DEVICE_FIELDS)?;
        let base = base(&req);
        let world = lock(&shared.world);
        // One more than asked tells whether a next page exists.
        let mut page = world.org_devices_after(after.as_deref(), limit + 1);
        let more = page.len() > limit;
        page.truncate(limit);
        let data = page
            .iter()
            .map(|(d, at)| {
                let migration = world.migration(&d.serial).filter(|m| m.is_open());
                let v = DeviceView { device: d, assigned: at.is_some(), migration, single: false };
                resources::device(&base, &v, fields.as_deref())
            })
            .collect();
        let next = more.then(|| page.last()).flatten().map(|(d, _)| {
            let c = Base64UrlUnpadded::encode_string(d.serial.as_bytes());
            (next_link(&base, "/v1/orgDevices", &pairs, &c), c)
        });
        Ok(list_answer(data, format!("{base}{}", req.uri()), next, limit))
    };
    run().unwrap_or_else(|r| *r)
}

async fn get_device(
    req: HttpRequest,
    shared: web::Data<Shared>,
    b: web::Data<Business>,
    serial: web::Path<String>,
) -> HttpResponse {
    if let Err(r) = gate(&req, &shared, &b) {
        return *r;
    }
    let run = || -> Result<HttpResponse, Box<HttpResponse>> {
        let pairs = query(&req, &["fields[orgDevices]"])?;
        let fields = fields(&pairs, "fields[orgDevices]", DEVICE_FIELDS)?;
        let base = base(&req);
        let world = lock(&shared.world);
        let (d, at) = world
            .org_device(&serial)
            .ok_or_else(|| not_found("There is no resource of type 'orgDevices' with id."))?;
        let migration = world.migration(&d.serial).filter(|m| m.is_open());
        let v = DeviceView { device: &d, assigned: at.is_some(), migration, single: true };
        let data = resources::device(&base, &v, fields.as_deref());
        Ok(HttpResponse::Ok()
            .content_type(JSON)
            .json(json!({"data": data, "links": {"self": format!("{base}{}", req.uri())}})))
    };
    run().unwrap_or_else(|r| *r)
}

async fn assigned_server_linkage(
    req: HttpRequest,
    shared: web::Data<Shared>,
    b: web::Data<Business>,
    serial: web::Path<String>,
) -> HttpResponse {
    if let Err(r) = gate(&req, &shared, &b) {
        return *r;
    }
    let base = base(&req);
    let world = lock(&shared.world);
    let Some((_, at)) = world.org_device(&serial) else {
        return *not_found("There is no resource of type 'orgDevices' with id.");
    };
    // An unassigned device's shape is undocumented (§8.5 UNCERTAIN): `data: null` is our guess.
    let data =
        at.and_then(|id| world.server(id)).map(|s| json!({"type": "mdmServers", "id": s.uuid}));
    HttpResponse::Ok().content_type(JSON).json(json!({"data": data, "links": {
        "self": format!("{base}/v1/orgDevices/{serial}/relationships/assignedServer"),
        "related": format!("{base}/v1/orgDevices/{serial}/assignedServer")}}))
}

async fn assigned_server(
    req: HttpRequest,
    shared: web::Data<Shared>,
    b: web::Data<Business>,
    serial: web::Path<String>,
) -> HttpResponse {
    if let Err(r) = gate(&req, &shared, &b) {
        return *r;
    }
    let run = || -> Result<HttpResponse, Box<HttpResponse>> {
        let pairs = query(&req, &["fields[mdmServers]"])?;
        let fields = fields(&pairs, "fields[mdmServers]", SERVER_FIELDS)?;
        let base = base(&req);
        let world = lock(&shared.world);
        let (_, at) = world
            .org_device(&serial)
            .ok_or_else(|| not_found("There is no resource of type 'orgDevices' with id."))?;
        let s = at
            .and_then(|id| world.server(id))
            .ok_or_else(|| not_found("The device is not assigned to an MDM server."))?;
        Ok(HttpResponse::Ok().content_type(JSON).json(json!({"data": resources::server(&base, s, fields.as_deref()), "links": {"self": format!("{base}{}", req.uri())}})))
    };
    run().unwrap_or_else(|r| *r)
}

async fn apple_care(
    req: HttpRequest,
    shared: web::Data<Shared>,
    b: web::Data<Business>,
    serial: web::Path<String>,
) -> HttpResponse {
    if let Err(r) = gate(&req, &shared, &b) {
        return *r;
    }
    if b.applecare_refused.load(Ordering::SeqCst) {
        let mut r = error(
            429,
            "RATE_LIMIT_EXCEEDED",
            "The request rate limit has been reached.",
            "We've received too many requests for this API. Please wait and try again or slow down your request rate.",
            None,
        );
        r.headers_mut().insert(
            actix_web::http::header::RETRY_AFTER,
            actix_web::http::header::HeaderValue::from(0),
        );
        return *r;
    }
    let base = base(&req);
    let world = lock(&shared.world);
    let Some((d, _)) = world.org_device(&serial) else {
        return *not_found("There is no resource of type 'orgDevices' with id.");
    };
    // Two devices in three have coverage: three years from their arrival.
    let covered = !mix(d.hw ^ 9).is_multiple_of(3);
    let data: Vec<Value> = if covered {
        let end = d.assigned_date + 3 * 365 * 86_400;
        let active = shared.now().unix_timestamp() < end;
        vec![json!({"type": "appleCareCoverage", "id": format!("{}-AC", d.serial), "attributes": {
            "status": if active { "ACTIVE" } else { "INACTIVE" }, "paymentType": "PAID_UP_FRONT",
            "description": "AppleCare+ for Business", "agreementNumber": format!("AC{:08}", mix(d.hw ^ 10) % 100_000_000),
            "startDateTime": crate::dep::render::rfc3339(d.assigned_date), "endDateTime": crate::dep::render::rfc3339(end),
            "isRenewable": false, "isCanceled": false, "contractCancelDateTime": null}})]
    } else {
        Vec::new()
    };
    list_answer(data, format!("{base}{}", req.uri()), None, DEFAULT_LIMIT)
}

async fn list_servers(
    req: HttpRequest,
    shared: web::Data<Shared>,
    b: web::Data<Business>,
) -> HttpResponse {
    if let Err(r) = gate(&req, &shared, &b) {
        return *r;
    }
    let run = || -> Result<HttpResponse, Box<HttpResponse>> {
        let pairs = query(&req, &["limit", "cursor", "fields[mdmServers]"])?;
        let (limit, after) = (limit(&pairs)?, cursor(&pairs)?);
        let fields = fields(&pairs, "fields[mdmServers]", SERVER_FIELDS)?;
        let base = base(&req);
        let world = lock(&shared.world);
        let skip: usize = after.as_deref().map_or(Ok(0), |a| {
            a.parse().map_err(|_| invalid("cursor", "The cursor is not valid."))
        })?;
        let all: Vec<_> = world.servers().skip(skip).take(limit + 1).collect();
        let data = all
            .iter()
            .take(limit)
            .map(|(_, s)| resources::server(&base, s, fields.as_deref()))
            .collect();
        let next = (all.len() > limit).then(|| {
            let c = Base64UrlUnpadded::encode_string((skip + limit).to_string().as_bytes());
            (next_link(&base, "/v1/mdmServers", &pairs, &c), c)
        });
        Ok(list_answer(data, format!("{base}{}", req.uri()), next, limit))
    };
    run().unwrap_or_else(|r| *r)
}

async fn server_devices(
    req: HttpRequest,
    shared: web::Data<Shared>,
    b: web::Data<Business>,
    id: web::Path<String>,
) -> HttpResponse {
    if let Err(r) = gate(&req, &shared, &b) {
        return *r;
    }
    let run = || -> Result<HttpResponse, Box<HttpResponse>> {
        let pairs = query(&req, &["limit", "cursor"])?;
        let (limit, after) = (limit(&pairs)?, cursor(&pairs)?);
        let base = base(&req);
        let world = lock(&shared.world);
        let server = world
            .server_by_uuid(&id)
            .map_err(|_| not_found("There is no resource of type 'mdmServers' with id."))?;
        let mut serials = world.server_serials_after(server, after.as_deref(), limit + 1);
        let more = serials.len() > limit;
        serials.truncate(limit);
        let path = format!("/v1/mdmServers/{id}/relationships/devices");
        let next = more.then(|| serials.last()).flatten().map(|s| {
            let c = Base64UrlUnpadded::encode_string(s.as_bytes());
            (next_link(&base, &path, &pairs, &c), c)
        });
        let data = serials.iter().map(|s| json!({"type": "orgDevices", "id": &**s})).collect();
        Ok(list_answer(data, format!("{base}{}", req.uri()), next, limit))
    };
    run().unwrap_or_else(|r| *r)
}

/// Apple refuses the related form (§8.6, seen live: "allowed: GET_RELATIONSHIP").
async fn server_devices_related(
    req: HttpRequest,
    shared: web::Data<Shared>,
    b: web::Data<Business>,
) -> HttpResponse {
    if let Err(r) = gate(&req, &shared, &b) {
        return *r;
    }
    *error(
        403,
        "FORBIDDEN_ERROR",
        "This request is forbidden for security reasons",
        "The resource 'mdmServers' does not allow 'GET_RELATED'. Allowed operation is: GET_RELATIONSHIP",
        None,
    )
}

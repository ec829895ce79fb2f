//! The stand-in Apple Business Manager portal: a small JSON API under `/portal/` on the
//! simulator's own server, for tests, the sandbox and anyone driving scenarios by hand.
//!
//! | route | what |
//! | --- | --- |
//! | `GET /portal/servers` | MDM servers with device counts and token expiry |
//! | `POST /portal/servers` `{server_name, public_key_pem, org_name?}` | create an MDM server; answers its `.p7m` token |
//! | `POST /portal/servers/{uuid}/token` `{public_key_pem}` | renew: a new `.p7m`; the old token then gets `token_rejected` |
//! | `POST /portal/devices` `{server_uuid?, count?, serials?}` | add devices (generated and/or explicit) to a server or the unassigned pool |
//! | `POST /portal/devices/move` `{serials, server_uuid}` | move devices to a server |
//! | `POST /portal/devices/release` `{serials, released_by_replacement?}` | release devices from the organisation |
//! | `POST /portal/devices/pushed` `{serials}` | mark assigned profiles as pushed (a device fetched it) |
//! | `GET /portal/truth[?server_uuid=]` | which serial is at which server with which profile |
//! | `GET`/`PUT /portal/faults` `{spec}` | read or switch faults (SPEC as in `faults.rs`) |
//! | `GET`/`PUT /portal/quirks` `{move_emits_modified, release_emits_deleted}` | Apple quirks |
//! | `GET /portal/clock`, `POST /portal/clock/advance` `{seconds}` | simulated time |
//! | `/portal/migrations…` | MDM migrations (`portal_migrations.rs`) |
//!
//! Errors are `{"error": "<plain words>"}` with 400/404/409/500. The portal has no
//! authentication: it stands in for a web page an admin signs in to, and the simulator only
//! ever listens where tests and the sandbox put it. Tokens are made by
//! [`crate::apple::server_token::mint_p7m`], exactly as Apple would send them.

use crate::apple::server_token::mint_p7m;
use crate::dep::changes::ChangeReport;
use crate::dep::faults::Faults;
use crate::dep::org::TokenSecrets;
pub use crate::dep::portal_errors::PortalError;
use crate::dep::portal_errors::{parse, reply};
use crate::dep::state::{Shared, lock};
use crate::dep::world::Quirks;
use actix_web::{HttpResponse, web};
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::sync::Arc;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/portal")
            .route("/servers", web::get().to(list_servers))
            .route("/servers", web::post().to(post_server))
            .route("/servers/{uuid}/token", web::post().to(post_token))
            .route("/devices", web::post().to(add_devices))
            .route("/devices/move", web::post().to(move_devices))
            .route("/devices/release", web::post().to(release_devices))
            .route("/devices/pushed", web::post().to(mark_pushed))
            .route("/truth", web::get().to(truth))
            .route("/faults", web::get().to(get_faults))
            .route("/faults", web::put().to(set_faults))
            .route("/quirks", web::get().to(get_quirks))
            .route("/quirks", web::put().to(set_quirks))
            .route("/clock", web::get().to(get_clock))
            .route("/clock/advance", web::post().to(advance_clock))
            .configure(crate::dep::portal_migrations::routes),
    );
}

/// A token as the portal hands it out.
#[derive(Debug, Serialize)]
pub struct IssuedToken {
    pub server_uuid: String,
    pub server_name: String,
    /// Apple's file-name pattern, `<server>_Token_<YYYY-MM-DDTHH-MM-SSZ>_smime.p7m` (§1.1).
    pub token_file_name: String,
    /// The `.p7m` file's text (S/MIME headers and base64).
    pub token_p7m: String,
}

/// Makes the `.p7m` of `token` (a server's secrets) for `public_key_pem`.
fn issue_token(
    shared: &Shared,
    uuid: &str,
    name: &str,
    token: &TokenSecrets,
    public_key_pem: &str,
) -> Result<IssuedToken, PortalError> {
    let p7m = mint_p7m(public_key_pem, &token.to_credentials())
        .map_err(|e| PortalError::Internal(format!("cannot make the server token: {e}")))?;
    let now = shared.now();
    let stamp = format!(
        "{:04}-{:02}-{:02}T{:02}-{:02}-{:02}Z",
        now.year(),
        u8::from(now.month()),
        now.day(),
        now.hour(),
        now.minute(),
        now.second()
    );
    let safe_name: String =
        name.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' { c } else { '_' }).collect();
    Ok(IssuedToken {
        server_uuid: uuid.to_string(),
        server_name: name.to_string(),
        token_file_name: format!("{safe_name}_Token_{stamp}_smime.p7m"),
        token_p7m: String::from_utf8_lossy(&p7m).into_owned(),
    })
}

/// The public key certificate an admin uploads must at least be a PEM certificate.
fn check_public_key(pem: &str) -> Result<(), PortalError> {
    crate::crypto::ca::pem_to_der(pem).map(|_| ()).map_err(|_| {
        PortalError::BadRequest(
            "public_key_pem is not a PEM certificate; upload the public key certificate (.pem) the MDM server gave you".into(),
        )
    })
}

/// Creates an MDM server and its first token; nothing is left behind if the token cannot
/// be made.
pub fn create_server(
    shared: &Shared,
    name: &str,
    org_name: Option<&str>,
    public_key_pem: &str,
) -> Result<IssuedToken, PortalError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(PortalError::BadRequest("server_name must be 1 to 100 characters".into()));
    }
    check_public_key(public_key_pem)?;
    let now = shared.now();
    let (id, uuid, token) = {
        let mut world = shared.world();
        // Apple Business Manager refuses a second MDM server of the same name.
        if world.servers().any(|(_, s)| s.name.trim().eq_ignore_ascii_case(name)) {
            return Err(PortalError::BadRequest(format!(
                "an MDM server named \"{name}\" already exists; choose another name"
            )));
        }
        let id = world.add_server(name, org_name, now);
        let s = world
            .server(id)
            .ok_or_else(|| PortalError::Internal("the new server vanished".into()))?;
        (id, s.uuid.clone(), s.token.clone())
    };
    issue_token(shared, &uuid, name, &token, public_key_pem).inspect_err(|_| {
        shared.world().discard_new_server(id);
    })
}

/// Renews a server's token: the new `.p7m` first, then the new secrets go in force, the old
/// access token is rejected and its sessions end, as when an admin downloads a new token.
pub fn renew_server_token(
    shared: &Shared,
    uuid: &str,
    public_key_pem: &str,
) -> Result<IssuedToken, PortalError> {
    check_public_key(public_key_pem)?;
    let now = shared.now();
    let (id, name, token) = {
        let mut world = shared.world();
        let id = world.server_by_uuid(uuid)?;
        let token = world
            .next_token(id, now)
            .ok_or_else(|| PortalError::NotFound(format!("no MDM server with uuid `{uuid}`")))?;
        (id, world.server(id).map(|s| s.name.clone()).unwrap_or_default(), token)
    };
    let issued = issue_token(shared, uuid, &name, &token, public_key_pem)?;
    shared.world().install_token(id, token);
    lock(&shared.sessions).close_server(id);
    Ok(issued)
}

#[derive(Serialize)]
struct ServerSummary {
    server_uuid: String,
    server_name: String,
    org_name: String,
    devices: usize,
    token_expiry: String,
}

async fn list_servers(shared: web::Data<Shared>) -> HttpResponse {
    let world = shared.world();
    let list: Vec<ServerSummary> = world
        .servers()
        .map(|(_, s)| ServerSummary {
            server_uuid: s.uuid.clone(),
            server_name: s.name.clone(),
            org_name: s.org.name.clone(),
            devices: s.device_count(),
            token_expiry: crate::dep::render::rfc3339(s.token.expiry.unix_timestamp()),
        })
        .collect();
    HttpResponse::Ok().json(list)
}

#[derive(Deserialize)]
struct CreateServer {
    server_name: String,
    public_key_pem: String,
    org_name: Option<String>,
}

async fn post_server(shared: web::Data<Shared>, body: web::Bytes) -> HttpResponse {
    reply(parse::<CreateServer>(&body).and_then(|req| {
        create_server(&shared, &req.server_name, req.org_name.as_deref(), &req.public_key_pem)
    }))
}

#[derive(Deserialize)]
struct RenewToken {
    public_key_pem: String,
}

async fn post_token(
    shared: web::Data<Shared>,
    path: web::Path<String>,
    body: web::Bytes,
) -> HttpResponse {
    reply(
        parse::<RenewToken>(&body)
            .and_then(|req| renew_server_token(&shared, &path, &req.public_key_pem)),
    )
}

#[derive(Deserialize)]
struct AddDevices {
    server_uuid: Option<String>,
    #[serde(default)]
    count: usize,
    #[serde(default)]
    serials: Vec<String>,
}

async fn add_devices(shared: web::Data<Shared>, body: web::Bytes) -> HttpResponse {
    reply((|| {
        let req: AddDevices = parse(&body)?;
        let now = shared.now();
        let mut world = shared.world();
        let to = req.server_uuid.as_deref().map(|u| world.server_by_uuid(u)).transpose()?;
        let added = world.add_devices(to, req.count, &req.serials, now)?;
        Ok(json!({ "added": added }))
    })())
}

#[derive(Deserialize)]
struct MoveDevices {
    serials: Vec<String>,
    server_uuid: String,
}

async fn move_devices(shared: web::Data<Shared>, body: web::Bytes) -> HttpResponse {
    reply((|| -> Result<ChangeReport, PortalError> {
        let req: MoveDevices = parse(&body)?;
        let now = shared.now();
        let mut world = shared.world();
        let to = world.server_by_uuid(&req.server_uuid)?;
        Ok(world.move_devices(&req.serials, to, now)?)
    })())
}

#[derive(Deserialize)]
struct ReleaseDevices {
    serials: Vec<String>,
    #[serde(default)]
    released_by_replacement: bool,
}

async fn release_devices(shared: web::Data<Shared>, body: web::Bytes) -> HttpResponse {
    reply((|| -> Result<ChangeReport, PortalError> {
        let req: ReleaseDevices = parse(&body)?;
        let now = shared.now();
        Ok(shared.world().release_devices(&req.serials, req.released_by_replacement, now))
    })())
}

#[derive(Deserialize)]
struct Serials {
    serials: Vec<String>,
}

async fn mark_pushed(shared: web::Data<Shared>, body: web::Bytes) -> HttpResponse {
    reply((|| -> Result<ChangeReport, PortalError> {
        let req: Serials = parse(&body)?;
        let now = shared.now();
        Ok(shared.world().mark_pushed(&req.serials, now))
    })())
}

#[derive(Deserialize)]
struct TruthQuery {
    server_uuid: Option<String>,
}

async fn truth(shared: web::Data<Shared>, query: web::Query<TruthQuery>) -> HttpResponse {
    let mut truth = shared.world().truth();
    if let Some(uuid) = &query.server_uuid {
        truth.servers.retain(|s| s.server_uuid.eq_ignore_ascii_case(uuid));
        if truth.servers.is_empty() {
            return PortalError::NotFound(format!("no MDM server with uuid `{uuid}`")).response();
        }
    }
    HttpResponse::Ok().json(truth)
}

#[derive(Deserialize, Serialize)]
struct FaultSpec {
    spec: String,
}

async fn get_faults(shared: web::Data<Shared>) -> HttpResponse {
    HttpResponse::Ok().json(FaultSpec { spec: shared.faults.load().to_string() })
}

async fn set_faults(shared: web::Data<Shared>, body: web::Bytes) -> HttpResponse {
    reply((|| {
        let req: FaultSpec = parse(&body)?;
        let faults =
            Faults::parse(&req.spec).map_err(|e| PortalError::BadRequest(e.to_string()))?;
        let spec = faults.to_string();
        shared.faults.store(Arc::new(faults));
        Ok(FaultSpec { spec })
    })())
}

#[derive(Deserialize, Serialize)]
struct QuirkSwitches {
    move_emits_modified: bool,
    release_emits_deleted: bool,
}

async fn get_quirks(shared: web::Data<Shared>) -> HttpResponse {
    let q = shared.world().quirks;
    HttpResponse::Ok().json(QuirkSwitches {
        move_emits_modified: q.move_emits_modified,
        release_emits_deleted: q.release_emits_deleted,
    })
}

async fn set_quirks(shared: web::Data<Shared>, body: web::Bytes) -> HttpResponse {
    reply((|| {
        let req: QuirkSwitches = parse(&body)?;
        shared.world().quirks = Quirks {
            move_emits_modified: req.move_emits_modified,
            release_emits_deleted: req.release_emits_deleted,
        };
        Ok(req)
    })())
}

async fn get_clock(shared: web::Data<Shared>) -> HttpResponse {
    HttpResponse::Ok()
        .json(json!({ "now": crate::dep::render::rfc3339(shared.now().unix_timestamp()) }))
}

#[derive(Deserialize)]
struct Advance {
    seconds: i64,
}

async fn advance_clock(shared: web::Data<Shared>, body: web::Bytes) -> HttpResponse {
    reply((|| {
        let req: Advance = parse(&body)?;
        // Up to ten years forward; time never runs backwards (cursors and sessions assume it).
        if !(0..=10 * 365 * 86_400).contains(&req.seconds) {
            return Err(PortalError::BadRequest("seconds must be between 0 and ten years".into()));
        }
        shared.advance(time::Duration::seconds(req.seconds));
        Ok(json!({ "now": crate::dep::render::rfc3339(shared.now().unix_timestamp()) }))
    })())
}

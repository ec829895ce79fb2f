//! The local control socket, `<data_dir>/control.sock`, through which `adebox admin …`
//! commands reach a running daemon (the daemon holds the store's write lock, so the CLI
//! cannot write to it directly while it runs).
//!
//! One JSON request line, one JSON response line. The socket lives in the 0700 data
//! directory, is itself 0600, and only root or the daemon's own user may use it (checked with
//! the peer's credentials).

use crate::admin::Admin;
use crate::audit::AuditLog;
use crate::crypto::Secret;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{UnixListener, UnixStream};

pub const SOCKET_NAME: &str = "control.sock";
const MAX_REQUEST: u64 = 64 * 1024;

#[derive(Deserialize, Serialize)]
#[serde(tag = "cmd", rename_all = "kebab-case")]
pub enum Request {
    SetPassword {
        username: String,
        #[serde(serialize_with = "expose")]
        password: Secret<String>,
        /// Absent from older clients: then the role rule of `set_password_cli` applies.
        #[serde(default)]
        role: Option<crate::admin::Role>,
    },
    /// Verifies the audit chain; `ok` says whether it verifies, `message` is the report.
    VerifyAudit,
    /// Lifts sign-in lockouts and delays: of `address` and/or `username`, or all of them.
    Unlock {
        #[serde(default)]
        address: Option<std::net::IpAddr>,
        #[serde(default)]
        username: Option<String>,
    },
}

fn expose<S: serde::Serializer>(s: &Secret<String>, ser: S) -> Result<S::Ok, S::Error> {
    ser.serialize_str(s.expose())
}

#[derive(Debug, Deserialize, Serialize)]
pub struct Response {
    pub ok: bool,
    pub message: String,
}

/// Serves the control socket until the task is dropped.
pub async fn serve(path: PathBuf, admin: Admin, audit: AuditLog) {
    let _ = std::fs::remove_file(&path);
    let listener = match UnixListener::bind(&path) {
        Ok(l) => l,
        Err(e) => {
            log::error!(
                "cannot open the control socket {} ({e}); `adebox admin set-password` will need the daemon stopped",
                path.display()
            );
            return;
        }
    };
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600));
    }
    loop {
        let Ok((stream, _)) = listener.accept().await else { continue };
        let (admin, audit) = (admin.clone(), audit.clone());
        tokio::spawn(async move {
            let _ = tokio::time::timeout(
                std::time::Duration::from_secs(30),
                handle(stream, admin, audit),
            )
            .await;
        });
    }
}

async fn handle(stream: UnixStream, admin: Admin, audit: AuditLog) {
    let allowed = stream
        .peer_cred()
        .map(|c| c.uid() == 0 || c.uid() == nix::unistd::getuid().as_raw())
        .unwrap_or(false);
    let (read, mut write) = stream.into_split();
    let mut line = String::new();
    let response = if !allowed {
        Response {
            ok: false,
            message: "only root or the adebox user may use the control socket".into(),
        }
    } else {
        match BufReader::new(read.take(MAX_REQUEST)).read_line(&mut line).await {
            Ok(_) => match serde_json::from_str::<Request>(&line) {
                Ok(req) => execute(req, &admin, &audit).await,
                Err(e) => Response { ok: false, message: format!("bad request: {e}") },
            },
            Err(e) => Response { ok: false, message: format!("cannot read the request: {e}") },
        }
    };
    let mut out = serde_json::to_string(&response)
        .unwrap_or_else(|_| "{\"ok\":false,\"message\":\"\"}".into());
    out.push('\n');
    let _ = write.write_all(out.as_bytes()).await;
}

async fn execute(req: Request, admin: &Admin, audit: &AuditLog) -> Response {
    match req {
        Request::SetPassword { username, password, role } => {
            match admin.set_password_cli(&username, password, role).await {
                Ok(true) => Response { ok: true, message: format!("created admin {username}") },
                Ok(false) => Response {
                    ok: true,
                    message: format!("password of {username} replaced; their sessions ended"),
                },
                Err(e) => Response { ok: false, message: e.to_string() },
            }
        }
        Request::VerifyAudit => match audit.verify().await {
            Ok(v) => Response { ok: v.verifies(), message: v.report() },
            Err(e) => Response { ok: false, message: format!("cannot verify: {e}") },
        },
        Request::Unlock { address, username } => {
            let cleared = admin.unlock(address, username.as_deref());
            let what = match (address, &username) {
                (None, None) => "every address and username".to_string(),
                (Some(a), None) => format!("address {a}"),
                (None, Some(u)) => format!("username {u}"),
                (Some(a), Some(u)) => format!("address {a} and username {u}"),
            };
            log::info!("sign-in lockouts and delays lifted for {what} from the command line");
            let entry = crate::audit::NewEntry::new(
                crate::clock::Clock::system().now(),
                crate::audit::Actor::Cli,
                crate::audit::Action::AdminUnlock,
                crate::audit::Outcome::Success,
            )
            .detail(format!("lifted for {what}; {cleared} lockouts or delays were active"));
            if let Err(e) = audit.record(entry).await {
                log::error!("the unlock could not be written to the audit log: {e}");
            }
            Response {
                ok: true,
                message: if cleared == 0 {
                    format!("nothing was locked or slowed for {what}")
                } else {
                    format!("lifted the sign-in lockout and delay of {what}")
                },
            }
        }
    }
}

/// Sends one request to a running daemon.
pub async fn call(data_dir: &Path, req: &Request) -> std::io::Result<Response> {
    let stream = UnixStream::connect(data_dir.join(SOCKET_NAME)).await?;
    let (read, mut write) = stream.into_split();
    let mut line = serde_json::to_string(req).map_err(std::io::Error::other)?;
    line.push('\n');
    write.write_all(line.as_bytes()).await?;
    let mut answer = String::new();
    BufReader::new(read.take(MAX_REQUEST)).read_line(&mut answer).await?;
    serde_json::from_str(&answer).map_err(std::io::Error::other)
}

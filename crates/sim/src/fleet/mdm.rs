//! The MDM part of a simulated device (../shared/spec/enrollment.md §4): with the identity
//! ACME just issued as its TLS client certificate, it checks in (Authenticate, then
//! TokenUpdate with `AwaitingConfiguration` true, as Setup Assistant does; a Mac or a device on
//! 26 or later then escrows a bootstrap token with SetBootstrapToken) and polls the
//! ServerURL, answering commands (Settings → Acknowledged, DeviceInformation → its facts,
//! DeviceConfigured → Acknowledged) until it is released. A fleet may keep its devices busy
//! after DeviceConfigured: they answer the next commands with NotNow, then Idle ([`Busy`]).
//!
//! What the server answers is read strictly ([`super::wire::command`]): a check-in answer
//! with a body, a report answered with anything but an empty `200` or a well-formed command
//! fails the device with the key and the problem. Woken by the APNs simulator's pushes when
//! the fleet has one; otherwise the device polls on a short interval, up to a deadline (spec
//! §8 item 5: whether real devices poll unprompted is uncertain; the simulator does).

use super::FleetDevice;
use super::messages::{authenticate, report, set_bootstrap_token, token_update};
use super::step::{Ctx, Fail, Timer, deviation, fail, transport};
use super::wire::command::{Command, Request, read_check_in_answer, read_connect_answer};
use super::wire::profile::Mdm;
use super::{Seen, Wiretap};
use reqwest::Client;
use std::sync::Arc;
use std::time::Duration;

/// Between polls while the queue is empty.
const POLL_INTERVAL: Duration = Duration::from_millis(100);
/// How long a device woken by pushes waits for one before polling anyway.
const PUSH_WAIT: Duration = Duration::from_secs(2);
/// How long a device waits to be released.
const RELEASE_DEADLINE: Duration = Duration::from_secs(60);
/// Largest command a device reads (an InstallProfile carries a whole profile).
const MAX_COMMAND: usize = 1024 * 1024;

/// A profile whose `PayloadIdentifier` ends with this fails to install on a simulated
/// device (the sandbox and tests show a failing setup step with it).
pub const FAILING_PROFILE_SUFFIX: &str = ".sim-fail";

/// The device's MDM session: its client (with the identity) and where it talks.
struct Session<'a> {
    http: Client,
    device: &'a FleetDevice,
    server_url: &'a str,
    check_in_url: &'a str,
    tap: Option<Arc<Wiretap>>,
}

impl Session<'_> {
    async fn check_in(&self, message_type: &str, body: Vec<u8>, step: &str) -> Result<(), Fail> {
        self.seen(Seen::CheckIn, &body);
        let (status, bytes) =
            put(&self.http, self.check_in_url, "application/x-apple-aspen-mdm-checkin", body, step)
                .await?;
        read_check_in_answer(message_type, status, &bytes)
            .map_err(|e| deviation(self.device, "check_in_answer", &e))
    }

    fn seen(&self, what: Seen, bytes: &[u8]) {
        if let Some(tap) = &self.tap {
            tap.record(self.device, what, bytes);
        }
    }
}

/// Checks in and polls until released. `chain_pem` is the issued chain (leaf first),
/// `key_pem` the identity's private key (PKCS#8).
pub(super) async fn release(
    ctx: &Ctx,
    d: &FleetDevice,
    mdm: &Mdm,
    chain_pem: &str,
    key_pem: &str,
    t: &mut Timer,
) -> Result<(), Fail> {
    let s = Session {
        http: client(ctx, &mdm.server_url, chain_pem, key_pem)?,
        device: d,
        server_url: &mdm.server_url,
        check_in_url: &mdm.check_in_url,
        tap: ctx.tap.clone(),
    };
    t.step("mdm_authenticate");
    s.check_in("Authenticate", authenticate(d, &mdm.topic), "authenticate").await?;
    t.done();

    t.step("mdm_token_update");
    let token = crate::crypto::random_bytes::<32>().to_vec();
    let token_hex = hex::encode(&token);
    s.check_in("TokenUpdate", token_update(d, &mdm.topic, token), "token_update").await?;
    t.done();

    // Escrowed during initial setup, only to a server that asks for it (§3.1).
    let capable = mdm.server_capabilities.iter().any(|c| c == "com.apple.mdm.bootstraptoken");
    if capable && d.escrows_bootstrap_token() {
        t.step("mdm_set_bootstrap_token");
        let escrow = crate::crypto::random_bytes::<32>().repeat(8);
        s.check_in("SetBootstrapToken", set_bootstrap_token(d, escrow), "set_bootstrap_token")
            .await?;
        t.done();
    }

    t.step("mdm_release");
    let start = std::time::Instant::now();
    let mut body: Vec<u8> = report(d, "Idle", None).into();
    let mut pushes_seen = ctx.push.as_ref().map_or(0, |f| f.count(&token_hex));
    loop {
        let Some(command) = connect(&s, body).await? else {
            if start.elapsed() > RELEASE_DEADLINE {
                return Err(fail("mdm_not_released"));
            }
            match &ctx.push {
                Some(feed) => {
                    feed.wait_beyond(&token_hex, pushes_seen, PUSH_WAIT).await;
                    pushes_seen = feed.count(&token_hex);
                }
                None => tokio::time::sleep(POLL_INTERVAL).await,
            }
            body = report(d, "Idle", None).into();
            continue;
        };
        body = answer(d, &command);
        if command.request == Request::DeviceConfigured {
            // The acknowledgement goes out; whatever comes next waits for the next session,
            // unless the device is still busy finishing Setup Assistant.
            let next = connect(&s, body).await?;
            if ctx.not_now_after_configured > 0 {
                let busy = Busy { ctx, s: &s, token_hex: &token_hex, start };
                busy.finish(next, ctx.not_now_after_configured).await?;
            }
            t.done();
            if let Some(keep) = &ctx.keep {
                let kept = EnrolledDevice {
                    device: d.clone(),
                    http: s.http.clone(),
                    server_url: mdm.server_url.clone(),
                    check_in_url: mdm.check_in_url.clone(),
                    tap: ctx.tap.clone(),
                };
                keep.lock().unwrap_or_else(|e| e.into_inner()).push(kept);
            }
            return Ok(());
        }
    }
}

/// A device that acknowledged DeviceConfigured but is still finishing Setup Assistant.
struct Busy<'a> {
    ctx: &'a Ctx,
    s: &'a Session<'a>,
    token_hex: &'a str,
    /// When the device started waiting to be released (the same deadline bounds this).
    start: std::time::Instant,
}

impl Busy<'_> {
    /// apple-2026.md §2.5 steps 9 and 12: while it finishes (apps download, a snapshot is
    /// taken) the device answers every further command with NotNow, and sends Idle once done
    /// if it had answered NotNow. Apple says neither how long that lasts nor how many commands
    /// it defers, so the simulator defers the first `n` it is sent (`next`, the answer to its
    /// DeviceConfigured acknowledgement, first), then sends Idle and carries out the commands
    /// until the server has none. Woken by pushes like a released device; a device woken while
    /// busy reports Idle to fetch the command, which the server may answer with one it
    /// deferred before: that one is deferred again (the count goes on).
    async fn finish(&self, mut next: Option<Command>, n: usize) -> Result<(), Fail> {
        let d = self.s.device;
        let mut pushes_seen = self.ctx.push.as_ref().map_or(0, |f| f.count(self.token_hex));
        let mut deferred = 0;
        while deferred < n {
            let body: Vec<u8> = match &next {
                Some(c) => {
                    deferred += 1;
                    report(d, "NotNow", Some(&c.uuid)).into()
                }
                None => {
                    if self.start.elapsed() > RELEASE_DEADLINE {
                        return Err(fail("mdm_busy_no_commands"));
                    }
                    match &self.ctx.push {
                        Some(feed) => {
                            feed.wait_beyond(self.token_hex, pushes_seen, PUSH_WAIT).await;
                            pushes_seen = feed.count(self.token_hex);
                        }
                        None => tokio::time::sleep(POLL_INTERVAL).await,
                    }
                    report(d, "Idle", None).into()
                }
            };
            next = connect(self.s, body).await?;
        }
        // Done: Idle asks for what was deferred; each is carried out.
        let mut body: Vec<u8> = report(d, "Idle", None).into();
        while let Some(c) = connect(self.s, body).await? {
            body = answer(d, &c);
        }
        Ok(())
    }
}

/// One report to the ServerURL; the command it was answered with, if any.
async fn connect(s: &Session<'_>, body: Vec<u8>) -> Result<Option<Command>, Fail> {
    s.seen(Seen::Report, &body);
    let (status, bytes) =
        put(&s.http, s.server_url, "application/x-apple-aspen-mdm", body, "poll").await?;
    if !bytes.is_empty() {
        s.seen(Seen::Command, &bytes);
    }
    read_connect_answer(status, &bytes).map_err(|e| deviation(s.device, "command", &e))
}

/// The device's report on `command`: facts for DeviceInformation, Acknowledged for what it
/// carries out, CommandFormatError for a command it does not implement.
fn answer(d: &FleetDevice, command: &Command) -> Vec<u8> {
    let uuid = Some(command.uuid.as_str());
    match &command.request {
        Request::DeviceInformation { queries } => {
            report(d, "Acknowledged", uuid).with_facts(d, Some(queries))
        }
        Request::InstallProfile { identifier: Some(id) }
            if id.ends_with(FAILING_PROFILE_SUFFIX) =>
        {
            report(d, "Error", uuid).with_error(
                4001,
                "MCProfileErrorDomain",
                &format!("The profile \u{201c}{id}\u{201d} could not be installed."),
            )
        }
        Request::Settings { .. }
        | Request::DeviceConfigured
        | Request::EraseDevice { .. }
        | Request::InstallProfile { .. } => report(d, "Acknowledged", uuid),
        // Only a Mac takes AccountConfiguration; the fleet's iPhones and iPads do not.
        Request::AccountConfiguration { .. } | Request::Unsupported(_) => {
            report(d, "CommandFormatError", uuid)
        }
    }
    .into()
}

/// A released device that keeps its identity: each [`EnrolledDevice::poll`] is one request to
/// the ServerURL, as a device woken by a push makes.
#[derive(Clone)]
pub struct EnrolledDevice {
    pub device: FleetDevice,
    http: Client,
    server_url: String,
    check_in_url: String,
    tap: Option<Arc<Wiretap>>,
}

impl EnrolledDevice {
    /// Sends the check-in message `message_type` with only its `UDID` (`ReturnToService`, as
    /// the user starting it from Control Center does); the answer's body. A status other than
    /// 200 is the error, with the appliance's code.
    pub async fn check_in(&self, message_type: &str) -> Result<Vec<u8>, String> {
        let mut d = plist::Dictionary::new();
        d.insert("MessageType".into(), message_type.into());
        d.insert("UDID".into(), self.device.udid.as_str().into());
        let mut body = Vec::new();
        plist::Value::Dictionary(d).to_writer_xml(&mut body).map_err(|e| e.to_string())?;
        if let Some(tap) = &self.tap {
            tap.record(&self.device, Seen::CheckIn, &body);
        }
        let ct = "application/x-apple-aspen-mdm-checkin";
        let (_, answer) = put(&self.http, &self.check_in_url, ct, body, "check_in")
            .await
            .map_err(|Fail(reason)| reason)?;
        Ok(answer)
    }

    /// Reports `answer` (the uuid and request type of the command it carried out, answered
    /// as the fleet does: facts for DeviceInformation, Acknowledged for what it knows,
    /// CommandFormatError otherwise), or Idle with `None`; returns the next command's uuid and
    /// request type, or `None` when the queue is empty. The error is a short reason; a command
    /// that deviates from Apple's schema is one (`command_invalid:<key>:<problem>`).
    pub async fn poll(
        &self,
        answer: Option<(&str, &str)>,
    ) -> Result<Option<(String, String)>, String> {
        let next = self.exchange(answer).await?;
        Ok(next.map(|c| (c.uuid, c.request.request_type().to_string())))
    }

    /// [`EnrolledDevice::poll`], returning the whole next command.
    pub(super) async fn exchange(
        &self,
        answer: Option<(&str, &str)>,
    ) -> Result<Option<Command>, String> {
        let d = &self.device;
        let body: Vec<u8> = match answer {
            None => report(d, "Idle", None).into(),
            Some((uuid, "DeviceInformation")) => {
                report(d, "Acknowledged", Some(uuid)).with_facts(d, None).into()
            }
            Some((uuid, "Settings" | "EraseDevice" | "DeviceConfigured" | "InstallProfile")) => {
                report(d, "Acknowledged", Some(uuid)).into()
            }
            Some((uuid, _)) => report(d, "CommandFormatError", Some(uuid)).into(),
        };
        let s = Session {
            http: self.http.clone(),
            device: d,
            server_url: &self.server_url,
            check_in_url: &self.server_url,
            tap: self.tap.clone(),
        };
        connect(&s, body).await.map_err(|Fail(reason)| reason)
    }
}

fn client(ctx: &Ctx, url: &str, chain_pem: &str, key_pem: &str) -> Result<Client, Fail> {
    let identity = reqwest::Identity::from_pem(format!("{chain_pem}\n{key_pem}").as_bytes())
        .map_err(|_| fail("mdm_identity"))?;
    let ca = reqwest::Certificate::from_pem(ctx.target.ca_pem.as_bytes())
        .map_err(|_| fail("mdm_identity"))?;
    let mut b =
        Client::builder().tls_certs_only([ca]).identity(identity).timeout(Duration::from_secs(30));
    let host = reqwest::Url::parse(url).ok().and_then(|u| u.host_str().map(str::to_string));
    if let (Some(addr), Some(host)) = (ctx.target.resolve_to, host) {
        b = b.resolve(&host, addr);
    }
    b.build().map_err(|_| fail("mdm_client"))
}

/// PUTs `body`; the answer's status and body. A status other than 200 fails here with the
/// appliance's error code, as before the strict reading (the reason codes tests count).
async fn put(
    http: &Client,
    url: &str,
    content_type: &str,
    body: Vec<u8>,
    what: &str,
) -> Result<(u16, Vec<u8>), Fail> {
    let resp = http
        .put(url)
        .header("Content-Type", content_type)
        .body(body)
        .send()
        .await
        .map_err(|e| fail(format!("mdm_{what}:{}", transport(&e))))?;
    let status = resp.status();
    if status != reqwest::StatusCode::OK {
        let code = resp
            .json::<serde_json::Value>()
            .await
            .ok()
            .and_then(|v| v["error"].as_str().map(str::to_string))
            .unwrap_or_else(|| format!("http_{}", status.as_u16()));
        return Err(fail(format!("mdm_{what}_refused:{code}")));
    }
    let bytes = resp.bytes().await.map_err(|e| fail(transport(&e)))?;
    if bytes.len() > MAX_COMMAND {
        return Err(fail("mdm_command_too_large"));
    }
    Ok((status.as_u16(), bytes.to_vec()))
}

//! The MDM part of a simulated device (../shared/spec/enrollment.md §4): with the identity
//! ACME just issued as its TLS client certificate, it checks in (Authenticate, then
//! TokenUpdate with `AwaitingConfiguration` true, as Setup Assistant does) and polls the
//! ServerURL, answering commands (Settings → Acknowledged, DeviceInformation → its facts,
//! DeviceConfigured → Acknowledged) until it is released.
//!
//! Until APNs exists the device polls on a short interval, up to a deadline (spec §8 item 5:
//! whether real devices poll unprompted is uncertain; the simulator does).

use super::FleetDevice;
use super::device::{Ctx, Fail, Timer, fail, transport};
use crate::apple::mdm::parse_command;
use plist::{Dictionary, Value};
use reqwest::{Client, StatusCode};
use std::time::Duration;

/// Between polls while the queue is empty.
const POLL_INTERVAL: Duration = Duration::from_millis(100);
/// How long a device woken by pushes waits for one before polling anyway.
const PUSH_WAIT: Duration = Duration::from_secs(2);
/// How long a device waits to be released.
const RELEASE_DEADLINE: Duration = Duration::from_secs(60);
/// Largest command a device reads.
const MAX_COMMAND: usize = 64 * 1024;

/// Where the enrollment profile's `com.apple.mdm` payload says to check in.
pub(super) struct MdmEndpoints {
    pub server_url: String,
    pub check_in_url: String,
    pub topic: String,
}

/// The MDM payload's URLs and topic.
pub(super) fn endpoints(payload: &Dictionary) -> Option<MdmEndpoints> {
    let get = |k: &str| payload.get(k).and_then(|v| v.as_string()).map(str::to_string);
    Some(MdmEndpoints {
        server_url: get("ServerURL")?,
        check_in_url: get("CheckInURL").or_else(|| get("ServerURL"))?,
        topic: get("Topic")?,
    })
}

/// Checks in and polls until released. `chain_pem` is the issued chain (leaf first),
/// `key_pem` the identity's private key (PKCS#8).
pub(super) async fn release(
    ctx: &Ctx,
    d: &FleetDevice,
    ep: &MdmEndpoints,
    chain_pem: &str,
    key_pem: &str,
    t: &mut Timer,
) -> Result<(), Fail> {
    let http = client(ctx, &ep.server_url, chain_pem, key_pem)?;
    t.step("mdm_authenticate");
    let auth = message(&[
        ("MessageType", "Authenticate".into()),
        ("UDID", d.udid.as_str().into()),
        ("Topic", ep.topic.as_str().into()),
        ("SerialNumber", d.serial.as_str().into()),
        ("ProductName", d.product.as_str().into()),
        ("OSVersion", d.os_version.as_str().into()),
        ("BuildVersion", d.build.as_str().into()),
    ]);
    put(&http, &ep.check_in_url, "application/x-apple-aspen-mdm-checkin", auth, "authenticate")
        .await?;
    t.done();

    t.step("mdm_token_update");
    let token = crate::crypto::random_bytes::<32>().to_vec();
    let token_hex = hex::encode(&token);
    let update = message(&[
        ("MessageType", "TokenUpdate".into()),
        ("UDID", d.udid.as_str().into()),
        ("Topic", ep.topic.as_str().into()),
        ("Token", Value::Data(token)),
        ("PushMagic", crate::apple::enroll_profile::random_uuid().into()),
        ("AwaitingConfiguration", true.into()),
    ]);
    put(&http, &ep.check_in_url, "application/x-apple-aspen-mdm-checkin", update, "token_update")
        .await?;
    t.done();

    t.step("mdm_release");
    let start = std::time::Instant::now();
    let mut report = status(d, "Idle", None, None);
    let mut pushes_seen = ctx.push.as_ref().map_or(0, |f| f.count(&token_hex));
    loop {
        let body =
            put(&http, &ep.server_url, "application/x-apple-aspen-mdm", report, "poll").await?;
        if body.is_empty() {
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
            report = status(d, "Idle", None, None);
            continue;
        }
        let (uuid, request_type, _) = parse_command(&body).map_err(|_| fail("mdm_bad_command"))?;
        report = match request_type.as_str() {
            "DeviceInformation" => status(d, "Acknowledged", Some(&uuid), Some(facts(d))),
            "Settings" | "EraseDevice" => status(d, "Acknowledged", Some(&uuid), None),
            "DeviceConfigured" => {
                let ack = status(d, "Acknowledged", Some(&uuid), None);
                put(&http, &ep.server_url, "application/x-apple-aspen-mdm", ack, "poll").await?;
                t.done();
                if let Some(keep) = &ctx.keep {
                    let kept = EnrolledDevice {
                        device: d.clone(),
                        http,
                        server_url: ep.server_url.clone(),
                    };
                    keep.lock().unwrap_or_else(|e| e.into_inner()).push(kept);
                }
                return Ok(());
            }
            _ => status(d, "CommandFormatError", Some(&uuid), None),
        };
    }
}

/// A released device that keeps its identity: each [`EnrolledDevice::poll`] is one request to
/// the ServerURL, as a device woken by a push makes.
#[derive(Clone)]
pub struct EnrolledDevice {
    pub device: FleetDevice,
    http: Client,
    server_url: String,
}

impl EnrolledDevice {
    /// Reports `answer` (the uuid and request type of the command it carried out, answered
    /// as the fleet does: facts for DeviceInformation, Acknowledged for what it knows,
    /// CommandFormatError otherwise), or Idle with `None`; returns the next command's uuid and
    /// request type, or `None` when the queue is empty. The error is a short reason.
    pub async fn poll(
        &self,
        answer: Option<(&str, &str)>,
    ) -> Result<Option<(String, String)>, String> {
        let d = &self.device;
        let report = match answer {
            None => status(d, "Idle", None, None),
            Some((uuid, "DeviceInformation")) => {
                status(d, "Acknowledged", Some(uuid), Some(facts(d)))
            }
            Some((uuid, "Settings" | "EraseDevice" | "DeviceConfigured")) => {
                status(d, "Acknowledged", Some(uuid), None)
            }
            Some((uuid, _)) => status(d, "CommandFormatError", Some(uuid), None),
        };
        let body =
            put(&self.http, &self.server_url, "application/x-apple-aspen-mdm", report, "poll")
                .await
                .map_err(|Fail(reason)| reason)?;
        if body.is_empty() {
            return Ok(None);
        }
        let (uuid, request_type, _) =
            parse_command(&body).map_err(|_| "mdm_bad_command".to_string())?;
        Ok(Some((uuid, request_type)))
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

async fn put(
    http: &Client,
    url: &str,
    content_type: &str,
    body: Vec<u8>,
    what: &str,
) -> Result<Vec<u8>, Fail> {
    let resp = http
        .put(url)
        .header("Content-Type", content_type)
        .body(body)
        .send()
        .await
        .map_err(|e| fail(format!("mdm_{what}:{}", transport(&e))))?;
    let status = resp.status();
    if status != StatusCode::OK {
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
    Ok(bytes.to_vec())
}

/// An XML plist dictionary of `pairs`, as a device sends its check-in and status messages.
pub fn message(pairs: &[(&str, Value)]) -> Vec<u8> {
    let d: Dictionary = pairs.iter().map(|(k, v)| (k.to_string(), v.clone())).collect();
    let mut out = Vec::new();
    Value::Dictionary(d).to_writer_xml(&mut out).expect("writing a plist into a Vec cannot fail");
    out
}

fn status(d: &FleetDevice, status: &str, uuid: Option<&str>, extra: Option<Dictionary>) -> Vec<u8> {
    let mut pairs: Vec<(&str, Value)> =
        vec![("UDID", d.udid.as_str().into()), ("Status", status.into())];
    if let Some(u) = uuid {
        pairs.push(("CommandUUID", u.into()));
    }
    if let Some(q) = extra {
        pairs.push(("QueryResponses", Value::Dictionary(q)));
    }
    message(&pairs)
}

/// What the device answers to DeviceInformation.
fn facts(d: &FleetDevice) -> Dictionary {
    let mut q = Dictionary::new();
    q.insert("UDID".into(), d.udid.as_str().into());
    q.insert("SerialNumber".into(), d.serial.as_str().into());
    q.insert("ProductName".into(), d.product.as_str().into());
    q.insert("OSVersion".into(), d.os_version.as_str().into());
    q.insert("BuildVersion".into(), d.build.as_str().into());
    q.insert("IsSupervised".into(), true.into());
    q
}

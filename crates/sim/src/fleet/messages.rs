//! What a simulated device sends on the MDM channels (../shared/spec/enrollment.md §4.3–4.4):
//! its check-in messages ([`authenticate`], [`token_update`], [`set_bootstrap_token`]) and its reports on the command
//! channel ([`report`], with [`Report::with_facts`] for a DeviceInformation answer). The keys
//! are the ones Apple's `mdm/checkin/*.yaml` and `information.device.yaml` define for an
//! iPhone or iPad on the device channel; the tests check them against those files.
//!
//! [`message`] writes any dictionary as a device does (XML plist); the MDM benchmark uses it.

use super::FleetDevice;
use plist::{Dictionary, Value};

/// An XML plist dictionary of `pairs`, as a device sends its check-in and status messages.
pub fn message(pairs: &[(&str, Value)]) -> Vec<u8> {
    let d: Dictionary = pairs.iter().map(|(k, v)| (k.to_string(), v.clone())).collect();
    let mut out = Vec::new();
    Value::Dictionary(d).to_writer_xml(&mut out).expect("writing a plist into a Vec cannot fail");
    out
}

/// A random UUID in upper case, the form a device's `PushMagic` takes.
fn uuid() -> String {
    let mut b = crate::crypto::random_bytes::<16>();
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = hex::encode_upper(b);
    format!("{}-{}-{}-{}-{}", &h[0..8], &h[8..12], &h[12..16], &h[16..20], &h[20..32])
}

/// `Authenticate` (`authenticate.yaml`): an iOS device sends no DeviceName/Model/ModelName.
pub fn authenticate(d: &FleetDevice, topic: &str) -> Vec<u8> {
    message(&[
        ("MessageType", "Authenticate".into()),
        ("UDID", d.udid.as_str().into()),
        ("Topic", topic.into()),
        ("SerialNumber", d.serial.as_str().into()),
        ("ProductName", d.product.as_str().into()),
        ("OSVersion", d.os_version.as_str().into()),
        ("BuildVersion", d.build.as_str().into()),
    ])
}

/// `TokenUpdate` (`tokenupdate.yaml`) from Setup Assistant: awaiting configuration.
pub fn token_update(d: &FleetDevice, topic: &str, token: Vec<u8>) -> Vec<u8> {
    message(&[
        ("MessageType", "TokenUpdate".into()),
        ("UDID", d.udid.as_str().into()),
        ("Topic", topic.into()),
        ("Token", Value::Data(token)),
        ("PushMagic", uuid().into()),
        ("AwaitingConfiguration", true.into()),
    ])
}

/// `SetBootstrapToken` (`setbootstraptoken.yaml`, apple-2026.md §3.2) sent while Setup
/// Assistant waits.
pub fn set_bootstrap_token(d: &FleetDevice, token: Vec<u8>) -> Vec<u8> {
    message(&[
        ("MessageType", "SetBootstrapToken".into()),
        ("UDID", d.udid.as_str().into()),
        ("BootstrapToken", Value::Data(token)),
        ("AwaitingConfiguration", true.into()),
    ])
}

/// A report on the command channel (§4.4).
pub struct Report(Dictionary);

/// A report with `status`, about command `uuid` (none for Idle).
pub fn report(d: &FleetDevice, status: &str, uuid: Option<&str>) -> Report {
    let mut r = Dictionary::new();
    r.insert("UDID".into(), d.udid.as_str().into());
    r.insert("Status".into(), status.into());
    if let Some(u) = uuid {
        r.insert("CommandUUID".into(), u.into());
    }
    Report(r)
}

impl Report {
    /// Adds `QueryResponses`: the device's answers to `queries` it knows (all it knows when
    /// `None`), as `information.device.yaml` types them.
    pub fn with_facts(mut self, d: &FleetDevice, queries: Option<&[String]>) -> Report {
        let facts: [(&str, Value); 6] = [
            ("UDID", d.udid.as_str().into()),
            ("SerialNumber", d.serial.as_str().into()),
            ("ProductName", d.product.as_str().into()),
            ("OSVersion", d.os_version.as_str().into()),
            ("BuildVersion", d.build.as_str().into()),
            ("IsSupervised", true.into()),
        ];
        let asked = |k: &str| queries.is_none_or(|q| q.iter().any(|x| x == k));
        let answers: Dictionary =
            facts.into_iter().filter(|(k, _)| asked(k)).map(|(k, v)| (k.to_string(), v)).collect();
        self.0.insert("QueryResponses".into(), Value::Dictionary(answers));
        self
    }
}

impl Report {
    /// Adds an `ErrorChain` of one error, as a device reports a command it could not carry out.
    pub fn with_error(mut self, code: i64, domain: &str, description: &str) -> Report {
        let mut e = Dictionary::new();
        e.insert("ErrorCode".into(), code.into());
        e.insert("ErrorDomain".into(), domain.into());
        e.insert("LocalizedDescription".into(), description.into());
        e.insert("USEnglishDescription".into(), description.into());
        self.0.insert("ErrorChain".into(), Value::Array(vec![Value::Dictionary(e)]));
        self
    }
}

impl From<Report> for Vec<u8> {
    fn from(r: Report) -> Vec<u8> {
        let mut out = Vec::new();
        Value::Dictionary(r.0)
            .to_writer_xml(&mut out)
            .expect("writing a plist into a Vec cannot fail");
        out
    }
}

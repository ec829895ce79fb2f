//! MDM wire formats (../shared/spec/enrollment.md §4): the check-in messages a device PUTs to
//! the CheckInURL, the status reports it PUTs to the ServerURL, and the command plists the
//! appliance answers with.
//!
//! Exposes [`parse_check_in`] → [`CheckIn`], [`parse_report`] → [`Report`], [`Command`] with
//! [`Command::to_plist`], and [`MdmWireError`]. Parsing is lenient (spec §7): unknown keys are
//! ignored, optional keys may be missing; only what the protocol cannot do without is required.
//! Pure: no tokio, redb, reqwest or actix.

pub mod request_types;
pub mod rts;

use crate::ids::{IdError, Udid};
use plist::{Dictionary, Value};
use serde::{Deserialize, Serialize};

/// Largest check-in or report accepted. Real ones are a few KiB (an UnlockToken is ~1.3 KiB);
/// DeviceInformation answers with many queries stay well under this. Room for a
/// `SetBootstrapToken` carrying a 64 KiB token in base64 (apple-2026.md §3), so that such a
/// token reaches the size check that names it.
pub const MAX_MESSAGE: usize = 128 * 1024;

/// Why a device's message could not be read.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum MdmWireError {
    #[error("the message is {len} bytes, over the {max}-byte limit")]
    TooLarge { len: usize, max: usize },
    #[error("the message is not a property list dictionary: {0}")]
    Malformed(String),
    #[error("the message lacks the required key {0}")]
    MissingKey(&'static str),
    #[error("the key {key} has the wrong type (expected {expected})")]
    WrongType { key: &'static str, expected: &'static str },
    #[error("the {key} is refused: {problem}")]
    BadId { key: &'static str, problem: IdError },
    #[error("the check-in MessageType {0:?} is not supported by this appliance")]
    UnknownMessageType(String),
    #[error(
        "the report Status {0:?} is not one of Idle, Acknowledged, Error, CommandFormatError, NotNow"
    )]
    UnknownStatus(String),
}

/// `Authenticate` (§4.3): the device announces itself; the server clears its queue.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Authenticate {
    pub udid: Udid,
    pub topic: String,
    pub serial_number: Option<String>,
    pub product_name: Option<String>,
    pub os_version: Option<String>,
    pub build_version: Option<String>,
    /// macOS only.
    pub device_name: Option<String>,
    /// macOS only.
    pub model: Option<String>,
}

/// `TokenUpdate` (§4.3): how to push to the device.
#[derive(Clone, PartialEq, Eq)]
pub struct TokenUpdate {
    pub udid: Udid,
    pub topic: String,
    /// The APNs device token (32 bytes; hex-encoded for APNs).
    pub token: Vec<u8>,
    pub push_magic: String,
    /// The passcode-clearing keybag (secret-like: never logged).
    pub unlock_token: Option<Vec<u8>>,
    /// iOS 9+: true while Setup Assistant waits for DeviceConfigured.
    pub awaiting_configuration: bool,
}

impl std::fmt::Debug for TokenUpdate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenUpdate")
            .field("udid", &self.udid)
            .field("topic", &self.topic)
            .field("token", &hex::encode(&self.token))
            .field("unlock_token", &self.unlock_token.as_ref().map(|_| "<redacted>"))
            .field("awaiting_configuration", &self.awaiting_configuration)
            .finish_non_exhaustive()
    }
}

/// `CheckOut` (§4.3): the MDM profile was removed (best effort).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckOut {
    pub udid: Udid,
    pub topic: Option<String>,
}

/// `SetBootstrapToken` (apple-2026.md §3.2): the device escrows its bootstrap token; none or
/// an empty one means "delete the stored token".
#[derive(Clone, PartialEq, Eq)]
pub struct SetBootstrapToken {
    pub udid: Udid,
    /// A secret: never logged ([`std::fmt::Debug`] shows only its length).
    pub token: Vec<u8>,
    pub awaiting_configuration: bool,
}

impl std::fmt::Debug for SetBootstrapToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SetBootstrapToken")
            .field("udid", &self.udid)
            .field("token_len", &self.token.len())
            .field("awaiting_configuration", &self.awaiting_configuration)
            .finish()
    }
}

/// `GetBootstrapToken` (§3.2): the device asks for the token it escrowed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GetBootstrapToken {
    pub udid: Udid,
    pub awaiting_configuration: bool,
}

/// `ReturnToService` (§2.4, iOS/visionOS 26+): the user or an idle timer starts Return to
/// Service; the answer carries the settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReturnToServiceCheckIn {
    pub udid: Udid,
}

/// A check-in message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CheckIn {
    Authenticate(Authenticate),
    TokenUpdate(TokenUpdate),
    CheckOut(CheckOut),
    SetBootstrapToken(SetBootstrapToken),
    GetBootstrapToken(GetBootstrapToken),
    ReturnToService(ReturnToServiceCheckIn),
}

impl CheckIn {
    pub fn udid(&self) -> &Udid {
        match self {
            CheckIn::Authenticate(a) => &a.udid,
            CheckIn::TokenUpdate(t) => &t.udid,
            CheckIn::CheckOut(c) => &c.udid,
            CheckIn::SetBootstrapToken(b) => &b.udid,
            CheckIn::GetBootstrapToken(b) => &b.udid,
            CheckIn::ReturnToService(r) => &r.udid,
        }
    }

    pub fn message_type(&self) -> &'static str {
        match self {
            CheckIn::Authenticate(_) => "Authenticate",
            CheckIn::TokenUpdate(_) => "TokenUpdate",
            CheckIn::CheckOut(_) => "CheckOut",
            CheckIn::SetBootstrapToken(_) => "SetBootstrapToken",
            CheckIn::GetBootstrapToken(_) => "GetBootstrapToken",
            CheckIn::ReturnToService(_) => "ReturnToService",
        }
    }
}

fn dictionary(bytes: &[u8]) -> Result<Dictionary, MdmWireError> {
    if bytes.len() > MAX_MESSAGE {
        return Err(MdmWireError::TooLarge { len: bytes.len(), max: MAX_MESSAGE });
    }
    let v = Value::from_reader(std::io::Cursor::new(bytes))
        .map_err(|e| MdmWireError::Malformed(e.to_string()))?;
    v.into_dictionary().ok_or_else(|| MdmWireError::Malformed("the top level is not a dict".into()))
}

fn opt_string(d: &Dictionary, key: &'static str) -> Result<Option<String>, MdmWireError> {
    match d.get(key) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(MdmWireError::WrongType { key, expected: "string" }),
    }
}

fn string(d: &Dictionary, key: &'static str) -> Result<String, MdmWireError> {
    opt_string(d, key)?.filter(|s| !s.is_empty()).ok_or(MdmWireError::MissingKey(key))
}

/// The device's UDID under `key`; one that is not a UDID is refused (../shared/spec/enrollment.md
/// §4.3 makes `UDID` required for device enrollment).
fn udid(d: &Dictionary, key: &'static str) -> Result<Udid, MdmWireError> {
    Udid::parse(&string(d, key)?).map_err(|problem| MdmWireError::BadId { key, problem })
}

fn opt_data(d: &Dictionary, key: &'static str) -> Result<Option<Vec<u8>>, MdmWireError> {
    match d.get(key) {
        None => Ok(None),
        Some(Value::Data(b)) => Ok(Some(b.clone())),
        Some(_) => Err(MdmWireError::WrongType { key, expected: "data" }),
    }
}

/// `AwaitingConfiguration`, false when absent.
fn awaiting(d: &Dictionary) -> Result<bool, MdmWireError> {
    match d.get("AwaitingConfiguration") {
        None => Ok(false),
        Some(Value::Boolean(b)) => Ok(*b),
        Some(_) => {
            Err(MdmWireError::WrongType { key: "AwaitingConfiguration", expected: "boolean" })
        }
    }
}

/// The answer to `GetBootstrapToken` (§3.2): `{BootstrapToken: <data>}`, zero-length data when
/// none is stored (Apple: still 200).
pub fn bootstrap_token_response(token: &[u8]) -> Vec<u8> {
    let mut d = Dictionary::new();
    d.insert("BootstrapToken".into(), Value::Data(token.to_vec()));
    let mut out = Vec::new();
    Value::Dictionary(d).to_writer_xml(&mut out).expect("writing a plist into a Vec cannot fail");
    out
}

/// Parses a check-in body (`application/x-apple-aspen-mdm-checkin`).
pub fn parse_check_in(bytes: &[u8]) -> Result<CheckIn, MdmWireError> {
    let d = dictionary(bytes)?;
    let message_type = string(&d, "MessageType")?;
    match message_type.as_str() {
        "Authenticate" => Ok(CheckIn::Authenticate(Authenticate {
            udid: udid(&d, "UDID")?,
            topic: string(&d, "Topic")?,
            serial_number: opt_string(&d, "SerialNumber")?,
            product_name: opt_string(&d, "ProductName")?,
            os_version: opt_string(&d, "OSVersion")?,
            build_version: opt_string(&d, "BuildVersion")?,
            device_name: opt_string(&d, "DeviceName")?,
            model: opt_string(&d, "Model")?,
        })),
        "TokenUpdate" => Ok(CheckIn::TokenUpdate(TokenUpdate {
            udid: udid(&d, "UDID")?,
            topic: string(&d, "Topic")?,
            token: opt_data(&d, "Token")?
                .filter(|t| !t.is_empty())
                .ok_or(MdmWireError::MissingKey("Token"))?,
            push_magic: string(&d, "PushMagic")?,
            unlock_token: opt_data(&d, "UnlockToken")?,
            awaiting_configuration: awaiting(&d)?,
        })),
        "CheckOut" => Ok(CheckIn::CheckOut(CheckOut {
            udid: udid(&d, "UDID")?,
            topic: opt_string(&d, "Topic")?,
        })),
        "SetBootstrapToken" => Ok(CheckIn::SetBootstrapToken(SetBootstrapToken {
            udid: udid(&d, "UDID")?,
            token: opt_data(&d, "BootstrapToken")?.unwrap_or_default(),
            awaiting_configuration: awaiting(&d)?,
        })),
        "GetBootstrapToken" => Ok(CheckIn::GetBootstrapToken(GetBootstrapToken {
            udid: udid(&d, "UDID")?,
            awaiting_configuration: awaiting(&d)?,
        })),
        "ReturnToService" => {
            Ok(CheckIn::ReturnToService(ReturnToServiceCheckIn { udid: udid(&d, "UDID")? }))
        }
        other => Err(MdmWireError::UnknownMessageType(other.chars().take(64).collect())),
    }
}

/// A command report's `Status` (§4.4).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Status {
    Idle,
    Acknowledged,
    Error,
    CommandFormatError,
    NotNow,
}

impl Status {
    pub const ALL: [Status; 5] = [
        Status::Idle,
        Status::Acknowledged,
        Status::Error,
        Status::CommandFormatError,
        Status::NotNow,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Idle => "Idle",
            Status::Acknowledged => "Acknowledged",
            Status::Error => "Error",
            Status::CommandFormatError => "CommandFormatError",
            Status::NotNow => "NotNow",
        }
    }

    pub fn parse(s: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|v| v.as_str() == s)
    }
}

/// One entry of a report's `ErrorChain`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChainedError {
    pub code: Option<i64>,
    pub domain: Option<String>,
    pub description: Option<String>,
}

/// A device's report on the command channel.
#[derive(Clone, Debug, PartialEq)]
pub struct Report {
    pub udid: Udid,
    pub status: Status,
    /// Absent for Idle.
    pub command_uuid: Option<String>,
    pub error_chain: Vec<ChainedError>,
    /// Every other key (command results such as `QueryResponses`), as JSON.
    pub results: serde_json::Map<String, serde_json::Value>,
}

/// Parses a command-channel report (`application/x-apple-aspen-mdm`).
pub fn parse_report(bytes: &[u8]) -> Result<Report, MdmWireError> {
    let d = dictionary(bytes)?;
    let status_word = string(&d, "Status")?;
    let status = Status::parse(&status_word)
        .ok_or_else(|| MdmWireError::UnknownStatus(status_word.chars().take(64).collect()))?;
    let command_uuid = opt_string(&d, "CommandUUID")?.filter(|s| !s.is_empty());
    if status != Status::Idle && command_uuid.is_none() {
        return Err(MdmWireError::MissingKey("CommandUUID"));
    }
    let error_chain = match d.get("ErrorChain") {
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(|i| i.as_dictionary())
            .map(|e| ChainedError {
                code: e.get("ErrorCode").and_then(|c| c.as_signed_integer()),
                domain: e.get("ErrorDomain").and_then(|c| c.as_string()).map(str::to_string),
                description: e
                    .get("USEnglishDescription")
                    .or_else(|| e.get("LocalizedDescription"))
                    .and_then(|c| c.as_string())
                    .map(str::to_string),
            })
            .collect(),
        _ => Vec::new(),
    };
    const ENVELOPE: [&str; 7] =
        ["UDID", "Status", "CommandUUID", "ErrorChain", "EnrollmentID", "UserID", "RequestType"];
    let results = d
        .iter()
        .filter(|(k, _)| !ENVELOPE.contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), to_json(v)))
        .collect();
    Ok(Report {
        udid: match d.get("UDID") {
            Some(_) => udid(&d, "UDID")?,
            None => udid(&d, "EnrollmentID")?,
        },
        status,
        command_uuid,
        error_chain,
        results,
    })
}

/// A plist value as JSON: data becomes base64, dates RFC 3339 text.
pub fn to_json(v: &Value) -> serde_json::Value {
    use serde_json::Value as J;
    match v {
        Value::Array(a) => J::Array(a.iter().map(to_json).collect()),
        Value::Dictionary(d) => J::Object(d.iter().map(|(k, v)| (k.clone(), to_json(v))).collect()),
        Value::Boolean(b) => J::Bool(*b),
        Value::Data(b) => {
            use base64ct::{Base64, Encoding};
            J::String(Base64::encode_string(b))
        }
        Value::Date(d) => J::String(d.to_xml_format()),
        Value::Real(r) => serde_json::Number::from_f64(*r).map_or(J::Null, J::Number),
        Value::Integer(i) => {
            i.as_signed().map(J::from).or_else(|| i.as_unsigned().map(J::from)).unwrap_or(J::Null)
        }
        Value::String(s) => J::String(s.clone()),
        Value::Uid(u) => J::from(u.get()),
        _ => J::Null,
    }
}

/// The DeviceInformation queries asked by "Refresh device information".
pub const DEFAULT_QUERIES: &[&str] = &[
    "DeviceName",
    "OSVersion",
    "BuildVersion",
    "ModelName",
    "Model",
    "ProductName",
    "SerialNumber",
    "UDID",
    "DeviceCapacity",
    "AvailableDeviceCapacity",
    "BatteryLevel",
    "WiFiMAC",
    "IsSupervised",
];

/// A command the appliance sends (§4.4, §4.5).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "request_type")]
pub enum Command {
    DeviceInformation {
        queries: Vec<String>,
    },
    /// `Settings` with one `DeviceName` item.
    DeviceName {
        name: String,
    },
    DeviceConfigured,
    /// Erase for re-enrollment: the device runs Setup Assistant (and ADE) again.
    EraseDevice,
    /// `EraseDevice` with Return to Service (apple-2026.md §2.2): the settings are the
    /// device's, read when the command is sent ([`Command::to_plist_with`]).
    ReturnToService,
    /// `InstallProfile`: a configuration profile (`.mobileconfig`, signed or not) exactly as
    /// the admin uploaded it; `name` is its `PayloadDisplayName` for the page.
    InstallProfile {
        name: String,
        #[serde(with = "base64_bytes")]
        payload: Vec<u8>,
    },
    /// `AccountConfiguration` (macOS only, while Setup Assistant waits): pre-fills the primary
    /// account's names; `lock` keeps Setup Assistant from editing them.
    AccountConfiguration {
        short_name: String,
        full_name: String,
        lock: bool,
    },
    /// Any other command, kept as the `Command` dictionary the caller gave (XML plist bytes):
    /// the command API and the setup steps' "other command". `kind` is its `RequestType`.
    Raw {
        kind: String,
        #[serde(with = "base64_bytes")]
        command: Vec<u8>,
    },
}

/// Bytes as base64 text in the stored JSON (a profile would be a long array of numbers).
mod base64_bytes {
    use base64ct::{Base64, Encoding};
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(b: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&Base64::encode_string(b))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let text = String::deserialize(d)?;
        Base64::decode_vec(&text).map_err(serde::de::Error::custom)
    }
}

impl Command {
    /// The wire `RequestType`.
    pub fn request_type(&self) -> &str {
        match self {
            Command::DeviceInformation { .. } => "DeviceInformation",
            Command::DeviceName { .. } => "Settings",
            Command::DeviceConfigured => "DeviceConfigured",
            Command::EraseDevice | Command::ReturnToService => "EraseDevice",
            Command::InstallProfile { .. } => "InstallProfile",
            Command::AccountConfiguration { .. } => "AccountConfiguration",
            Command::Raw { kind, .. } => kind,
        }
    }

    /// Plain words for the page.
    pub fn words(&self) -> String {
        match self {
            Command::DeviceInformation { queries } => {
                format!("Device information ({} queries)", queries.len())
            }
            Command::DeviceName { name } => format!("Set the device name to \"{name}\""),
            Command::DeviceConfigured => "Release from \"Awaiting final configuration\"".into(),
            Command::EraseDevice => "Erase the device".into(),
            Command::ReturnToService => "Erase the device and return it to service".into(),
            Command::InstallProfile { name, .. } => format!("Install the profile \"{name}\""),
            Command::AccountConfiguration { short_name, full_name, lock } => {
                let how = if *lock { ", locked" } else { "" };
                format!("Pre-fill the Mac's account: {full_name} ({short_name}){how}")
            }
            Command::Raw { kind, .. } => format!("Send {kind}"),
        }
    }

    /// The command plist (`{CommandUUID, Command: {RequestType, …}}`), XML, for the device
    /// whose Authenticate named `product` (`iPhone15,2`; `None` when it named none): some keys
    /// exist only on some systems (Apple's `device.erase.yaml`).
    pub fn to_plist(&self, command_uuid: &str, product: Option<&str>) -> Vec<u8> {
        self.to_plist_with(command_uuid, product, None)
    }

    /// [`Command::to_plist`], with the device's Return to Service settings for
    /// [`Command::ReturnToService`] (without them it carries `Enabled` only).
    pub fn to_plist_with(
        &self,
        command_uuid: &str,
        product: Option<&str>,
        rts: Option<&rts::ReturnToService>,
    ) -> Vec<u8> {
        let mut cmd = Dictionary::new();
        cmd.insert("RequestType".into(), self.request_type().into());
        match self {
            Command::InstallProfile { payload, .. } => {
                cmd.insert("Payload".into(), Value::Data(payload.clone()));
            }
            Command::AccountConfiguration { short_name, full_name, lock } => {
                cmd.insert("PrimaryAccountUserName".into(), short_name.as_str().into());
                cmd.insert("PrimaryAccountFullName".into(), full_name.as_str().into());
                cmd.insert("LockPrimaryAccountInfo".into(), (*lock).into());
            }
            Command::Raw { command, .. } => {
                // Checked when it was queued (`parse_raw_command`); a stored one that no
                // longer reads goes out with its RequestType only and the device says why.
                if let Ok(Value::Dictionary(d)) =
                    Value::from_reader(std::io::Cursor::new(command.as_slice()))
                {
                    cmd = d;
                }
            }
            Command::DeviceInformation { queries } => {
                let q = queries.iter().map(|s| Value::String(s.clone())).collect();
                cmd.insert("Queries".into(), Value::Array(q));
            }
            Command::DeviceName { name } => {
                let mut item = Dictionary::new();
                item.insert("Item".into(), "DeviceName".into());
                item.insert("DeviceName".into(), name.as_str().into());
                cmd.insert("Settings".into(), Value::Array(vec![Value::Dictionary(item)]));
            }
            Command::DeviceConfigured => {}
            Command::EraseDevice | Command::ReturnToService => {
                if *self == Command::ReturnToService {
                    let d = rts.cloned().unwrap_or_default().dictionary();
                    cmd.insert("ReturnToService".into(), Value::Dictionary(d));
                }
                // iOS ignores a PIN; keep the data plan so a cellular device is usable after.
                // `PreserveDataPlan` exists on iOS/iPadOS only (device.erase.yaml: n/a on
                // macOS, tvOS, visionOS); a device that named no product is taken for one.
                use crate::apple::enroll_profile::Platform;
                let platform = product.map(Platform::of_product);
                if matches!(platform, None | Some(Platform::Ios | Platform::IpadOs)) {
                    cmd.insert("PreserveDataPlan".into(), true.into());
                }
            }
        }
        let mut top = Dictionary::new();
        top.insert("CommandUUID".into(), command_uuid.into());
        top.insert("Command".into(), Value::Dictionary(cmd));
        let mut out = Vec::new();
        Value::Dictionary(top)
            .to_writer_xml(&mut out)
            .expect("writing a plist into a Vec cannot fail");
        out
    }
}

/// Parses a command plist the appliance sent (the device side; fuzzed). The fleet simulator
/// reads commands with its own strict types instead (`sim::fleet::wire::command`).
pub fn parse_command(bytes: &[u8]) -> Result<(String, String, Dictionary), MdmWireError> {
    let d = dictionary(bytes)?;
    let uuid = string(&d, "CommandUUID")?;
    let cmd = match d.get("Command") {
        Some(Value::Dictionary(c)) => c.clone(),
        Some(_) => return Err(MdmWireError::WrongType { key: "Command", expected: "dict" }),
        None => return Err(MdmWireError::MissingKey("Command")),
    };
    let rt = string(&cmd, "RequestType")?;
    Ok((uuid, rt, cmd))
}

/// Largest command the command API takes (an `InstallProfile` carries a whole profile).
pub const MAX_COMMAND_REQUEST: usize = 1024 * 1024;

/// A command as a script sends it (NanoMDM's `/v1/enqueue` body): its CommandUUID, its
/// RequestType and the `Command` dictionary re-encoded as XML.
#[derive(Clone, Debug, PartialEq)]
pub struct CommandRequest {
    pub uuid: String,
    pub request_type: String,
    /// The `Command` dictionary (its `RequestType` included), XML.
    pub command: Vec<u8>,
    pub value: Value,
}

/// Reads a command plist sent to the command API: at most [`MAX_COMMAND_REQUEST`] bytes, XML
/// or binary, `CommandUUID` (1–128 printable characters) and `Command.RequestType` required.
pub fn parse_command_request(bytes: &[u8]) -> Result<CommandRequest, MdmWireError> {
    if bytes.len() > MAX_COMMAND_REQUEST {
        return Err(MdmWireError::TooLarge { len: bytes.len(), max: MAX_COMMAND_REQUEST });
    }
    let value = Value::from_reader(std::io::Cursor::new(bytes))
        .map_err(|e| MdmWireError::Malformed(e.to_string()))?;
    let d = value
        .as_dictionary()
        .ok_or_else(|| MdmWireError::Malformed("the top level is not a dict".into()))?;
    let uuid = string(d, "CommandUUID")?;
    if uuid.chars().count() > 128 || uuid.chars().any(char::is_control) {
        return Err(MdmWireError::WrongType {
            key: "CommandUUID",
            expected: "1 to 128 printable characters",
        });
    }
    let cmd = match d.get("Command") {
        Some(Value::Dictionary(c)) => c.clone(),
        Some(_) => return Err(MdmWireError::WrongType { key: "Command", expected: "dict" }),
        None => return Err(MdmWireError::MissingKey("Command")),
    };
    let request_type = string(&cmd, "RequestType")?;
    if request_type.len() > 64 || !request_type.chars().all(|c| c.is_ascii_alphanumeric()) {
        return Err(MdmWireError::WrongType {
            key: "Command.RequestType",
            expected: "a request type name (letters and digits)",
        });
    }
    let mut command = Vec::new();
    Value::Dictionary(cmd)
        .to_writer_xml(&mut command)
        .expect("writing a plist into a Vec cannot fail");
    Ok(CommandRequest { uuid, request_type, command, value })
}

#[cfg(test)]
pub(crate) mod tests;

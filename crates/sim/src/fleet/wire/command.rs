//! The server's answers on the MDM channels as a device reads them
//! (../shared/spec/enrollment.md §4.3–4.5; Apple's `mdm/commands/*.yaml`).
//!
//! Exposes [`read_check_in_answer`] (a check-in is answered `200` with nothing in the body),
//! [`read_connect_answer`] (an empty `200`, or a [`Command`]) and [`read_command`]. A command
//! is the envelope `{CommandUUID, Command: {RequestType, …}}` and nothing else; the commands a
//! simulated device carries out are read key by key against Apple's schema for them. A
//! `RequestType` it does not implement is not a deviation ([`Request::Unsupported`]: the device
//! answers `CommandFormatError`, as one that does not know a command does).

use super::{Fields, WireError, WireProblem, plist_value};

/// A command from the server.
#[derive(Clone, Debug, PartialEq)]
pub struct Command {
    pub uuid: String,
    pub request: Request,
}

/// What the command asks.
#[derive(Clone, Debug, PartialEq)]
pub enum Request {
    /// `DeviceInformation` (`information.device.yaml`).
    DeviceInformation { queries: Vec<String> },
    /// `Settings` (`settings.yaml`): the items, by their `Item`.
    Settings { items: Vec<Setting> },
    /// `DeviceConfigured` (`device.configured.yaml`): no keys.
    DeviceConfigured,
    /// `EraseDevice` (`device.erase.yaml`), with what it gives for Return to Service.
    EraseDevice { preserve_data_plan: bool, return_to_service: Option<Rts> },
    /// `InstallProfile` (`profile.install.yaml`): the profile's `PayloadIdentifier`, read from
    /// its plist (a signed profile's content is not unwrapped: `None`).
    InstallProfile { identifier: Option<String> },
    /// `AccountConfiguration` (`account.configuration.yaml`, macOS).
    AccountConfiguration { short_name: Option<String>, full_name: Option<String> },
    /// A command this simulated device does not implement.
    Unsupported(String),
}

impl Request {
    pub fn request_type(&self) -> &str {
        match self {
            Request::DeviceInformation { .. } => "DeviceInformation",
            Request::Settings { .. } => "Settings",
            Request::DeviceConfigured => "DeviceConfigured",
            Request::EraseDevice { .. } => "EraseDevice",
            Request::InstallProfile { .. } => "InstallProfile",
            Request::AccountConfiguration { .. } => "AccountConfiguration",
            Request::Unsupported(rt) => rt,
        }
    }
}

/// The `ReturnToService` dictionary of an `EraseDevice` (apple-2026.md §2.2).
#[derive(Clone, Debug, PartialEq)]
pub struct Rts {
    pub enabled: bool,
    pub wifi_profile: Option<Vec<u8>>,
    pub mdm_profile: Option<Vec<u8>>,
    pub bootstrap_token: bool,
    /// `ShouldRetryEnrollment` (27+): retry a failed first enrollment after the erase.
    pub should_retry_enrollment: bool,
}

/// One `Settings` item.
#[derive(Clone, Debug, PartialEq)]
pub enum Setting {
    DeviceName(String),
    /// An item this device does not implement (it reports an error for it).
    Other(String),
}

/// The `Item`s of `settings.yaml` this device knows but does not carry out.
const OTHER_ITEMS: &[&str] = &[
    "Wallpaper",
    "DataRoaming",
    "VoiceRoaming",
    "PersonalHotspot",
    "Bluetooth",
    "ApplicationConfiguration",
    "ApplicationAttributes",
    "HostName",
    "OrganizationInfo",
    "MDMOptions",
    "MaximumResidentUsers",
    "SharedDeviceConfiguration",
    "DiagnosticSubmission",
    "AppAnalytics",
    "PasscodeLockGracePeriod",
    "TimeZone",
    "SoftwareUpdateSettings",
    "AccessibilitySettings",
];

fn setting(v: &plist::Value, at: &str) -> Result<Setting, WireError> {
    let mut f = Fields::of(v, at)?;
    let item = f.string("Item")?;
    match item.as_str() {
        "DeviceName" => {
            let name = f.string("DeviceName")?;
            f.finish()?;
            Ok(Setting::DeviceName(name))
        }
        other if OTHER_ITEMS.contains(&other) => Ok(Setting::Other(item)),
        other => Err(WireError::invalid(f.path("Item"), format!("{other:?} is not a setting"))),
    }
}

/// The `ReturnToService` dictionary, key by key (`device.erase.yaml`, `returntoservice.yaml`).
fn read_rts(mut rts: Fields<'_>) -> Result<Rts, WireError> {
    let given = Rts {
        enabled: rts.boolean("Enabled")?,
        wifi_profile: rts.opt_data("WiFiProfileData")?,
        mdm_profile: rts.opt_data("MDMProfileData")?,
        bootstrap_token: rts.opt_data("BootstrapToken")?.is_some(),
        should_retry_enrollment: rts.opt_boolean("ShouldRetryEnrollment")?.unwrap_or(false),
    };
    rts.finish()?;
    Ok(given)
}

/// Reads the answer to a `ReturnToService` check-in (apple-2026.md §2.4): a plist whose one
/// key is the `ReturnToService` dictionary an `EraseDevice` carries.
pub fn read_return_to_service_answer(bytes: &[u8]) -> Result<Rts, WireError> {
    let top = plist_value(bytes)?;
    let mut f = Fields::of(&top, "")?;
    let rts = read_rts(f.dict("ReturnToService")?)?;
    f.finish()?;
    Ok(rts)
}

/// Reads the command plist the ServerURL answered with.
pub fn read_command(bytes: &[u8]) -> Result<Command, WireError> {
    let top = plist_value(bytes)?;
    let mut envelope = Fields::of(&top, "")?;
    let uuid = envelope.string("CommandUUID")?;
    if uuid.trim().is_empty() {
        return Err(WireError::invalid("CommandUUID", "empty"));
    }
    let mut f = envelope.dict("Command")?;
    envelope.finish()?;
    let request_type = f.string("RequestType")?;
    let request = match request_type.as_str() {
        "DeviceInformation" => {
            let queries = f
                .opt_strings("Queries")?
                .ok_or_else(|| WireError::new(f.path("Queries"), WireProblem::Missing))?;
            Request::DeviceInformation { queries }
        }
        "Settings" => {
            let at = f.path("Settings");
            let items = f.array("Settings")?;
            let items = items
                .iter()
                .enumerate()
                .map(|(i, v)| setting(v, &format!("{at}[{i}]")))
                .collect::<Result<_, _>>()?;
            Request::Settings { items }
        }
        "DeviceConfigured" => Request::DeviceConfigured,
        "EraseDevice" => {
            let preserve_data_plan = f.opt_boolean("PreserveDataPlan")?.unwrap_or(false);
            f.opt_boolean("DisallowProximitySetup")?;
            f.opt_string("PIN")?;
            f.opt_string("ObliterationBehavior")?;
            let return_to_service = f.opt_dict("ReturnToService")?.map(read_rts).transpose()?;
            Request::EraseDevice { preserve_data_plan, return_to_service }
        }
        "InstallProfile" => {
            let payload = f.data("Payload")?;
            // A device reads the profile it installs; an unsigned one is a plist.
            let identifier =
                plist::Value::from_reader(std::io::Cursor::new(&payload)).ok().and_then(|v| {
                    let d = v.into_dictionary()?;
                    d.get("PayloadIdentifier")?.as_string().map(str::to_string)
                });
            Request::InstallProfile { identifier }
        }
        "AccountConfiguration" => {
            f.opt_boolean("SkipPrimarySetupAccountCreation")?;
            f.opt_boolean("SetPrimarySetupAccountAsRegularUser")?;
            f.opt_boolean("DontAutoPopulatePrimaryAccountInfo")?;
            f.opt_boolean("LockPrimaryAccountInfo")?;
            let short_name = f.opt_string("PrimaryAccountUserName")?;
            let full_name = f.opt_string("PrimaryAccountFullName")?;
            f.opt_array("AutoSetupAdminAccounts")?;
            Request::AccountConfiguration { short_name, full_name }
        }
        _ => return Ok(Command { uuid, request: Request::Unsupported(request_type) }),
    };
    f.finish()?;
    Ok(Command { uuid, request })
}

/// What the ServerURL answered a report with (`200` expected): nothing (the queue is empty)
/// or a command.
pub fn read_connect_answer(status: u16, body: &[u8]) -> Result<Option<Command>, WireError> {
    if status != 200 {
        return Err(WireError::invalid(
            "",
            format!("HTTP {status} to a report; a device expects 200"),
        ));
    }
    if body.is_empty() {
        return Ok(None);
    }
    read_command(body).map(Some)
}

/// What the CheckInURL answered `message_type` with: `200` and no body (Apple's
/// `authenticate.yaml`, `tokenupdate.yaml` notes; §4.3).
pub fn read_check_in_answer(message_type: &str, status: u16, body: &[u8]) -> Result<(), WireError> {
    if status != 200 {
        let words = format!("HTTP {status} to {message_type}; a device expects 200");
        return Err(WireError::invalid("", words));
    }
    if !body.is_empty() {
        let words = format!("{} bytes in the answer to {message_type}, which has none", body.len());
        return Err(WireError::invalid("", words));
    }
    Ok(())
}

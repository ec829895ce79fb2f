//! The schema model: what one YAML file of Apple's `device-management` repository says about a
//! payload, a command or a check-in message, after loading.
//!
//! [`Schema`] is one file (its [`Kind`], name, the OSes it supports and its keys); [`KeySpec`]
//! is one entry of `payloadkeys` / `responsekeys` / `subkeys`; [`Support`] holds the
//! `supportedOS` facts the checker uses. Nothing here reads files or checks values.

use std::collections::BTreeMap;
use std::fmt;

/// The value types Apple's schemas name (`<string>`, `<integer>`, …).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Type {
    String,
    Integer,
    Real,
    Boolean,
    Date,
    Data,
    Array,
    Dictionary,
    /// `<any>`: every value is accepted.
    Any,
}

impl Type {
    /// Parses the schema's spelling (`<string>`).
    pub fn parse(s: &str) -> Option<Type> {
        Some(match s {
            "<string>" => Type::String,
            "<integer>" => Type::Integer,
            "<real>" => Type::Real,
            "<boolean>" => Type::Boolean,
            "<date>" => Type::Date,
            "<data>" => Type::Data,
            "<array>" => Type::Array,
            "<dictionary>" => Type::Dictionary,
            "<any>" => Type::Any,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            Type::String => "string",
            Type::Integer => "integer",
            Type::Real => "real",
            Type::Boolean => "boolean",
            Type::Date => "date",
            Type::Data => "data",
            Type::Array => "array",
            Type::Dictionary => "dictionary",
            Type::Any => "any",
        }
    }
}

impl fmt::Display for Type {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One allowed value of a `rangelist`.
#[derive(Clone, Debug, PartialEq)]
pub enum Scalar {
    String(String),
    Integer(i64),
    Real(f64),
    Boolean(bool),
}

impl fmt::Display for Scalar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Scalar::String(s) => write!(f, "{s:?}"),
            Scalar::Integer(i) => write!(f, "{i}"),
            Scalar::Real(r) => write!(f, "{r}"),
            Scalar::Boolean(b) => write!(f, "{b}"),
        }
    }
}

/// The operating systems Apple's schemas describe.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Os {
    Ios,
    MacOs,
    TvOs,
    VisionOs,
    WatchOs,
}

impl Os {
    pub const ALL: [Os; 5] = [Os::Ios, Os::MacOs, Os::TvOs, Os::VisionOs, Os::WatchOs];

    /// The schema's spelling (`iOS`); iPadOS is `iOS` in Apple's files.
    pub fn name(self) -> &'static str {
        match self {
            Os::Ios => "iOS",
            Os::MacOs => "macOS",
            Os::TvOs => "tvOS",
            Os::VisionOs => "visionOS",
            Os::WatchOs => "watchOS",
        }
    }

    pub fn parse(s: &str) -> Option<Os> {
        Os::ALL.into_iter().find(|o| o.name() == s)
    }
}

impl fmt::Display for Os {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A dotted OS version (`13.4`, `10.13.4`), compared numerically part by part.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Version(Vec<u32>);

impl Version {
    pub fn parse(s: &str) -> Option<Version> {
        let parts: Option<Vec<u32>> = s.trim().split('.').map(|p| p.parse().ok()).collect();
        parts.filter(|p| !p.is_empty()).map(Version)
    }
}

impl PartialOrd for Version {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Version {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        let n = self.0.len().max(other.0.len());
        let at = |v: &Version, i: usize| v.0.get(i).copied().unwrap_or(0);
        (0..n)
            .map(|i| at(self, i).cmp(&at(other, i)))
            .find(|o| o.is_ne())
            .unwrap_or(std::cmp::Ordering::Equal)
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self.0.iter().map(u32::to_string).collect();
        f.write_str(&parts.join("."))
    }
}

/// `introduced`: a version, or `n/a` (not on this OS).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Introduced {
    NotAvailable,
    In(Version),
}

/// `userenrollment: mode:` of Apple's files.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UserEnrollment {
    Allowed,
    Forbidden,
    Required,
    /// Accepted and ignored under user enrollment.
    Ignored,
}

/// What one `supportedOS` entry says for one OS; absent fields inherit from the enclosing key
/// or payload.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct OsSupport {
    pub introduced: Option<Introduced>,
    pub removed: Option<Version>,
    pub device_channel: Option<bool>,
    pub user_channel: Option<bool>,
    pub user_enrollment: Option<UserEnrollment>,
}

impl OsSupport {
    /// `self` with the fields `inner` sets replaced: a key's entry over its payload's.
    pub fn under(&self, inner: &OsSupport) -> OsSupport {
        OsSupport {
            introduced: inner.introduced.clone().or_else(|| self.introduced.clone()),
            removed: inner.removed.clone().or_else(|| self.removed.clone()),
            device_channel: inner.device_channel.or(self.device_channel),
            user_channel: inner.user_channel.or(self.user_channel),
            user_enrollment: inner.user_enrollment.or(self.user_enrollment),
        }
    }
}

/// `supportedOS`: per OS, what the file says. An OS a payload does not list is not supported;
/// an OS a key does not list inherits the payload's entry.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Support(pub BTreeMap<Os, OsSupport>);

/// One key of a payload, command, message or nested dictionary.
#[derive(Clone, Debug)]
pub struct KeySpec {
    /// The plist key; `ANY` (or `ANY <words>`) stands for every key not named by a sibling.
    pub key: String,
    pub ty: Type,
    pub required: bool,
    /// Allowed values, when the schema lists them.
    pub rangelist: Vec<Scalar>,
    /// Numeric bounds (`range: {min, max}`).
    pub min: Option<f64>,
    pub max: Option<f64>,
    /// `format`: a pattern string values must match.
    pub format: Option<Format>,
    /// `repetition` of an array's item: how many items the array holds.
    pub repetition: (Option<u64>, Option<u64>),
    pub support: Support,
    /// A dictionary's keys; an array's item (several: the item is one of them); a string's
    /// allowed values (DeviceInformation queries).
    pub subkeys: Vec<KeySpec>,
    /// For keys the project overlay adds: the spec section that documents the key.
    pub source: Option<String>,
}

impl KeySpec {
    /// A plain key of type `ty` (tests and implicit keys such as a command's `RequestType`).
    pub fn new(key: &str, ty: Type, required: bool) -> KeySpec {
        KeySpec {
            key: key.to_string(),
            ty,
            required,
            rangelist: Vec::new(),
            min: None,
            max: None,
            format: None,
            repetition: (None, None),
            support: Support::default(),
            subkeys: Vec::new(),
            source: None,
        }
    }

    /// Whether this entry stands for any key (`ANY`, `ANY app identifier`).
    pub fn is_wildcard(&self) -> bool {
        self.key == "ANY" || self.key.starts_with("ANY ")
    }
}

/// A compiled `format` pattern, kept with its text for messages.
#[derive(Clone, Debug)]
pub struct Format {
    pub pattern: String,
    pub regex: regex_lite::Regex,
}

/// What a schema file describes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    /// A profile payload (`mdm/profiles/`: `payloadtype`), including `TopLevel` and
    /// `CommonPayloadKeys`.
    Payload,
    /// An MDM command (`mdm/commands/`: `requesttype`).
    Command,
    /// A check-in message (`mdm/checkin/`: `requesttype`, the `MessageType`).
    CheckIn,
    /// A wrapper Apple publishes no file for (the overlay's `mdm/envelope/`): the command
    /// plist around `Command`, the device's report around a command's result.
    Envelope,
}

impl Kind {
    /// The folder under `mdm/` holding this kind's files.
    pub fn folder(self) -> &'static str {
        match self {
            Kind::Payload => "profiles",
            Kind::Command => "commands",
            Kind::CheckIn => "checkin",
            Kind::Envelope => "envelope",
        }
    }
}

/// One schema file.
#[derive(Clone, Debug)]
pub struct Schema {
    pub kind: Kind,
    /// `payloadtype` or `requesttype`.
    pub name: String,
    /// The file it came from (and the overlay file that added to it), for messages.
    pub files: Vec<String>,
    pub support: Support,
    pub keys: Vec<KeySpec>,
    /// `responsekeys`: what a device reports for a command (or the server answers a message).
    pub response_keys: Vec<KeySpec>,
    /// `payload.source`: in an overlay file that adds OSes to Apple's `supportedOS`, the spec
    /// section that documents them.
    pub source: Option<String>,
}

//! What a simulated device reads off the wire, read strictly with the fleet's own types: the
//! enrollment profile ([`profile`]), the MDM commands and the server's answers on the MDM
//! channels ([`command`]), the ACME documents ([`acme`]).
//!
//! This is the other side of the wire: nothing here uses the product's builders or parsers
//! (`apple::enroll_profile`, `apple::mdm`), so a defect in what the appliance writes cannot
//! hide behind the same types reading it back. Every key a device reads is checked for
//! presence and type, and a key outside what Apple documents for that dictionary is refused;
//! the first deviation is a [`WireError`] naming the key path and what is wrong, which the
//! fleet reports as the device's failure. The keys are the ones of Apple's device-management
//! schemas (`../shared/fixtures/device-management/`), written out here by hand: the schema
//! files stay test fixtures and are never compiled into the binary.
//!
//! [`Fields`] is the reader: it hands out typed values by key and, on [`Fields::finish`],
//! refuses any key nobody asked for.

pub mod acme;
pub mod command;
mod payloads;
pub mod profile;

pub use profile::{Profile, read_profile};

#[cfg(test)]
mod tests;

use plist::{Dictionary, Value};

/// A deviation from what Apple specifies, at a key path (`PayloadContent[2].Topic`).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{}: {problem}", if .at.is_empty() { "(top level)" } else { .at.as_str() })]
pub struct WireError {
    pub at: String,
    pub problem: WireProblem,
}

/// What is wrong at the key.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum WireProblem {
    #[error("not a property list: {0}")]
    NotPlist(String),
    #[error("required key missing")]
    Missing,
    #[error("expected {expected}, found {found}")]
    WrongType { expected: &'static str, found: &'static str },
    #[error("key not defined for this dictionary")]
    Unknown,
    #[error("{0}")]
    Invalid(String),
}

impl WireError {
    pub fn new(at: impl Into<String>, problem: WireProblem) -> WireError {
        WireError { at: at.into(), problem }
    }

    pub fn invalid(at: impl Into<String>, words: impl Into<String>) -> WireError {
        WireError::new(at, WireProblem::Invalid(words.into()))
    }

    /// A short code for the fleet report: `<what>:<key path>:<problem>`
    /// (`profile_invalid:PayloadDescription:wrong_type`).
    pub fn code(&self, what: &str) -> String {
        let problem = match self.problem {
            WireProblem::NotPlist(_) => "not_plist",
            WireProblem::Missing => "missing",
            WireProblem::WrongType { .. } => "wrong_type",
            WireProblem::Unknown => "unknown_key",
            WireProblem::Invalid(_) => "invalid",
        };
        format!("{what}:{}:{problem}", self.at)
    }
}

/// Parses plist bytes (XML or binary) into a value.
pub fn plist_value(bytes: &[u8]) -> Result<Value, WireError> {
    Value::from_reader(std::io::Cursor::new(bytes))
        .map_err(|e| WireError::new("", WireProblem::NotPlist(e.to_string())))
}

pub(crate) fn join(at: &str, key: &str) -> String {
    if at.is_empty() { key.to_string() } else { format!("{at}.{key}") }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Array(_) => "array",
        Value::Dictionary(_) => "dictionary",
        Value::Boolean(_) => "boolean",
        Value::Data(_) => "data",
        Value::Date(_) => "date",
        Value::Real(_) => "real",
        Value::Integer(_) => "integer",
        Value::String(_) => "string",
        _ => "another value",
    }
}

fn wrong(at: &str, expected: &'static str, v: &Value) -> WireError {
    WireError::new(at, WireProblem::WrongType { expected, found: kind(v) })
}

/// A string value, or the error naming `at`.
pub(crate) fn as_string(v: &Value, at: &str) -> Result<String, WireError> {
    v.as_string().map(str::to_string).ok_or_else(|| wrong(at, "string", v))
}

/// A dictionary read key by key; keys nobody reads are refused by [`Fields::finish`].
pub struct Fields<'a> {
    dict: &'a Dictionary,
    at: String,
    read: Vec<String>,
}

impl<'a> Fields<'a> {
    /// `v` as a dictionary at path `at`.
    pub fn of(v: &'a Value, at: &str) -> Result<Fields<'a>, WireError> {
        match v {
            Value::Dictionary(dict) => Ok(Fields { dict, at: at.to_string(), read: Vec::new() }),
            other => Err(wrong(at, "dictionary", other)),
        }
    }

    /// The path of `key` in this dictionary.
    pub fn path(&self, key: &str) -> String {
        join(&self.at, key)
    }

    fn get(&mut self, key: &str) -> Option<&'a Value> {
        self.read.push(key.to_string());
        self.dict.get(key)
    }

    fn need<T>(&self, key: &str, v: Option<T>) -> Result<T, WireError> {
        v.ok_or_else(|| WireError::new(self.path(key), WireProblem::Missing))
    }

    /// An optional value of any type (checked by the caller).
    pub fn opt_value(&mut self, key: &str) -> Option<&'a Value> {
        self.get(key)
    }

    pub fn value(&mut self, key: &str) -> Result<&'a Value, WireError> {
        let v = self.get(key);
        self.need(key, v)
    }

    pub fn opt_string(&mut self, key: &str) -> Result<Option<String>, WireError> {
        let at = self.path(key);
        self.get(key).map(|v| as_string(v, &at)).transpose()
    }

    pub fn string(&mut self, key: &str) -> Result<String, WireError> {
        let v = self.opt_string(key)?;
        self.need(key, v)
    }

    pub fn opt_integer(&mut self, key: &str) -> Result<Option<i64>, WireError> {
        let at = self.path(key);
        match self.get(key) {
            None => Ok(None),
            Some(Value::Integer(i)) => i
                .as_signed()
                .map(Some)
                .ok_or_else(|| WireError::invalid(at, "integer out of range")),
            Some(other) => Err(wrong(&at, "integer", other)),
        }
    }

    pub fn integer(&mut self, key: &str) -> Result<i64, WireError> {
        let v = self.opt_integer(key)?;
        self.need(key, v)
    }

    pub fn opt_boolean(&mut self, key: &str) -> Result<Option<bool>, WireError> {
        let at = self.path(key);
        match self.get(key) {
            None => Ok(None),
            Some(Value::Boolean(b)) => Ok(Some(*b)),
            Some(other) => Err(wrong(&at, "boolean", other)),
        }
    }

    pub fn boolean(&mut self, key: &str) -> Result<bool, WireError> {
        let v = self.opt_boolean(key)?;
        self.need(key, v)
    }

    pub fn opt_data(&mut self, key: &str) -> Result<Option<Vec<u8>>, WireError> {
        let at = self.path(key);
        match self.get(key) {
            None => Ok(None),
            Some(Value::Data(d)) => Ok(Some(d.clone())),
            Some(other) => Err(wrong(&at, "data", other)),
        }
    }

    pub fn data(&mut self, key: &str) -> Result<Vec<u8>, WireError> {
        let v = self.opt_data(key)?;
        self.need(key, v)
    }

    pub fn opt_array(&mut self, key: &str) -> Result<Option<&'a [Value]>, WireError> {
        let at = self.path(key);
        match self.get(key) {
            None => Ok(None),
            Some(Value::Array(a)) => Ok(Some(a.as_slice())),
            Some(other) => Err(wrong(&at, "array", other)),
        }
    }

    pub fn array(&mut self, key: &str) -> Result<&'a [Value], WireError> {
        let v = self.opt_array(key)?;
        self.need(key, v)
    }

    /// An optional array of strings.
    pub fn opt_strings(&mut self, key: &str) -> Result<Option<Vec<String>>, WireError> {
        let at = self.path(key);
        let Some(items) = self.opt_array(key)? else { return Ok(None) };
        let read = items.iter().enumerate().map(|(i, v)| as_string(v, &format!("{at}[{i}]")));
        read.collect::<Result<Vec<_>, _>>().map(Some)
    }

    /// A nested dictionary.
    pub fn dict(&mut self, key: &str) -> Result<Fields<'a>, WireError> {
        let at = self.path(key);
        let v = self.value(key)?;
        Fields::of(v, &at)
    }

    pub fn opt_dict(&mut self, key: &str) -> Result<Option<Fields<'a>>, WireError> {
        let at = self.path(key);
        self.get(key).map(|v| Fields::of(v, &at)).transpose()
    }

    /// Refuses any key nobody read.
    pub fn finish(self) -> Result<(), WireError> {
        match self.dict.keys().find(|k| !self.read.contains(k)) {
            Some(k) => Err(WireError::new(join(&self.at, k), WireProblem::Unknown)),
            None => Ok(()),
        }
    }
}

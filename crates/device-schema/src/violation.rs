//! What a check finds: [`Violation`]s (a key path and a [`Problem`]), collected in
//! [`Violations`], whose `Display` lists one per line.

use crate::spec::Type;
use std::fmt;

/// What is wrong at one key.
#[derive(Clone, Debug, PartialEq)]
pub enum Problem {
    /// A required key is absent.
    Missing,
    /// The key is in no schema (and no overlay).
    Unknown,
    /// The value has another type than the schema's.
    WrongType { expected: Type, found: &'static str },
    /// The value is not one of the schema's `rangelist` (or a string's listed values).
    NotAllowed { value: String, allowed: Vec<String> },
    /// A number outside `range`.
    OutOfRange { value: String, min: Option<f64>, max: Option<f64> },
    /// A string that does not match the schema's `format`.
    Format { value: String, pattern: String },
    /// An array with more or fewer items than `repetition` allows.
    Count { len: usize, min: Option<u64>, max: Option<u64> },
    /// The key exists, but not for this reader (`supportedOS`, channel, enrollment type).
    NotSupported(String),
    /// An array item that matches none of the item shapes the schema offers.
    NoVariant { variants: Vec<String> },
    /// No schema describes this payload type, command or message.
    NoSchema(String),
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::Missing => write!(f, "required key missing"),
            Problem::Unknown => write!(f, "key not in the schema"),
            Problem::WrongType { expected, found } => {
                write!(f, "expected {expected}, found {found}")
            }
            Problem::NotAllowed { value, allowed } => {
                write!(f, "{value} is not one of {}", allowed.join(", "))
            }
            Problem::OutOfRange { value, min, max } => {
                write!(f, "{value} is outside {}..{}", show(min), show(max))
            }
            Problem::Format { value, pattern } => {
                write!(f, "{value:?} does not match the format {pattern}")
            }
            Problem::Count { len, min, max } => {
                write!(f, "{len} items, expected {}..{}", show(min), show(max))
            }
            Problem::NotSupported(why) => write!(f, "key {why}"),
            Problem::NoVariant { variants } => {
                write!(f, "the item matches none of {}", variants.join(", "))
            }
            Problem::NoSchema(what) => write!(f, "no schema for {what}"),
        }
    }
}

fn show<T: fmt::Display>(v: &Option<T>) -> String {
    v.as_ref().map(ToString::to_string).unwrap_or_default()
}

/// One finding: where (`PayloadContent[1].Subject[0][0]`) and what.
#[derive(Clone, Debug, PartialEq)]
pub struct Violation {
    pub path: String,
    pub problem: Problem,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let path = if self.path.is_empty() { "(top level)" } else { &self.path };
        write!(f, "{path}: {}", self.problem)
    }
}

/// Every finding of one check (never empty when returned as an error).
#[derive(Clone, Debug, PartialEq)]
pub struct Violations(pub Vec<Violation>);

impl Violations {
    /// The finding at `path`, if any.
    pub fn at(&self, path: &str) -> Option<&Problem> {
        self.0.iter().find(|v| v.path == path).map(|v| &v.problem)
    }
}

impl fmt::Display for Violations {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{} schema violation(s):", self.0.len())?;
        for v in &self.0 {
            writeln!(f, "  {v}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Violations {}

/// `Ok` for no findings, the findings otherwise.
pub(crate) fn result(found: Vec<Violation>) -> Result<(), Violations> {
    if found.is_empty() { Ok(()) } else { Err(Violations(found)) }
}

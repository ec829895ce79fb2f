//! Identifiers as types: a device's [`Serial`] and [`Udid`], adebox's names for an Apple
//! server token ([`TokenId`]) and for an enrollment profile ([`ProfileId`]), and Apple's for a
//! defined profile ([`ProfileUuid`]); each with one normalisation, made where the value enters (an HTTP
//! path or body, a CSV row, a DEP device page, a MachineInfo, an MDM check-in) and trusted
//! everywhere after. None can be passed where another is meant, and two spellings of one
//! device or one profile uuid always meet.
//!
//! Two ways in, on purpose: `parse` validates (strict, for what arrives from outside, with an
//! [`IdError`] naming the problem and the fix), while `from_stored` and `serde`
//! deserialisation take the stored string as it is and never refuse one, so a record stored by
//! an older adebox always reads back. All serialise as the plain string they hold, the form
//! stored and returned by the API before these types existed.
//!
//! Pure: no tokio, redb, reqwest, actix or utoipa (the product marks fields holding these
//! with `#[schema(value_type = String)]`).

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};

/// Longest serial accepted. Apple's are 10–12 letters and digits (older ones 11, randomised
/// ones since 2021 10); the margin is tolerance, not a known format.
pub const SERIAL_MAX: usize = 32;
/// Longest UDID accepted: the forms Apple uses are 40 (older iOS), 25 (`00008030-…`) and 36
/// (a Mac's hardware UUID) characters; a few more are tolerated for forms not seen yet.
pub const UDID_MAX: usize = 64;

/// Why a text is not a serial number or a UDID. The messages say how to correct it.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    #[error("the {what} is empty; give the device's {what} as shown in Apple Business Manager")]
    Empty { what: &'static str },
    #[error(
        "the {what} is {len} characters long; a {what} has at most {max}: check that only the \
         {what} was given"
    )]
    TooLong { what: &'static str, len: usize, max: usize },
    #[error(
        "the {what} contains {found:?}, which a {what} never holds ({allowed}); remove it and \
         try again"
    )]
    BadCharacter { what: &'static str, found: char, allowed: &'static str },
}

fn check(
    what: &'static str,
    s: &str,
    max: usize,
    allowed: &'static str,
    ok: impl Fn(char) -> bool,
) -> Result<(), IdError> {
    if s.is_empty() {
        return Err(IdError::Empty { what });
    }
    let len = s.chars().count();
    if len > max {
        return Err(IdError::TooLong { what, len, max });
    }
    match s.chars().find(|c| !ok(*c)) {
        Some(found) => Err(IdError::BadCharacter { what, found, allowed }),
        None => Ok(()),
    }
}

/// A device serial number, as Apple's DEP API writes it (dep-api.md §3.2 `serial_number`).
///
/// Normalisation: surrounding white space and double quotes dropped (pasted lists and CSV
/// cells carry them), ASCII letters upper-cased. Apple's serials are upper case, and MachineInfo
/// `SERIAL`, check-in `SerialNumber` and the attestation's serial OID carry the same text, so
/// upper case meets all of them; an admin typing `c02xk1abcd12` means the same device.
/// Validation: 1–[`SERIAL_MAX`] ASCII letters and digits. Apple documents no length, so the
/// bound is wider than any serial seen; a request sent to Apple adds its own 8–20 check.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Serial(String);

impl Serial {
    /// Normalises and validates a serial from outside (HTTP, CSV, DEP, MachineInfo).
    pub fn parse(text: &str) -> Result<Serial, IdError> {
        let s = Serial::normalise(text);
        check("serial number", &s, SERIAL_MAX, "letters and digits only", |c| {
            c.is_ascii_alphanumeric()
        })?;
        Ok(Serial(s))
    }

    fn normalise(text: &str) -> String {
        text.trim().trim_matches('"').trim().to_ascii_uppercase()
    }

    /// The bytes of the store key of records kept by serial.
    pub fn as_bytes(&self) -> &[u8] {
        self.0.as_bytes()
    }
}

/// A device's UDID (MachineInfo `UDID`, check-in `UDID`, attestation OID `…8.9.2`).
///
/// Normalisation: surrounding white space dropped; the letters keep the case the device sent.
/// Older iOS devices send 40 lower-case hex digits (`663b07bb…`, the check-in fixtures), newer
/// ones `00008030-001A2C3E0A12802E`, Macs an upper-case hardware UUID. Keeping the device's
/// case means the certificate, the API and the logs show what the device and Apple
/// Configurator show. Equality, hashing and order ignore ASCII case, and [`Udid::key`] is the
/// upper-cased form used as a store key, so a device that changed the case it sends (Apple
/// does not promise a case) still meets its records.
/// Validation: 1–[`UDID_MAX`] ASCII letters, digits and hyphens; nothing else (no spaces, no
/// control or direction-changing characters that would end up in a certificate subject).
/// Apple documents no grammar for UDIDs (../shared/spec/enrollment.md §1.1, §4.3 only say
/// "string"), so hex is not required and hyphens may stand anywhere: tolerant of a form not
/// seen yet, strict about what cannot be one.
#[derive(Clone)]
pub struct Udid(String);

impl Udid {
    /// Normalises and validates a UDID from outside (MachineInfo, check-ins, HTTP).
    pub fn parse(text: &str) -> Result<Udid, IdError> {
        let s = text.trim();
        check("UDID", s, UDID_MAX, "letters, digits and hyphens only", |c| {
            c.is_ascii_alphanumeric() || c == '-'
        })?;
        Ok(Udid(s.to_string()))
    }

    /// The case-free form: the key of records stored by UDID.
    pub fn key(&self) -> String {
        self.0.to_ascii_uppercase()
    }
}

/// `from_stored`, `as_str`, `into_string`, `Display`, `Debug`, `AsRef<str>`, `FromStr` and
/// serde for an identifier. `from_stored` and deserialising take the stored string exactly as
/// it is: a record written before every edge normalised keeps matching its own store key, and
/// reading never fails on an old value.
macro_rules! plain_string {
    ($name:ident) => {
        impl $name {
            /// An identifier read back from the store (a table key, an index value, a stored
            /// reference): taken as it is, like deserialisation, so an older record still
            /// finds itself.
            pub fn from_stored(text: String) -> $name {
                $name(text)
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }

            pub fn into_string(self) -> String {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Debug::fmt(&self.0, f)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl std::str::FromStr for $name {
            type Err = IdError;
            fn from_str(s: &str) -> Result<$name, IdError> {
                $name::parse(s)
            }
        }

        impl PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                $name::parse(other).is_ok_and(|o| *self == o)
            }
        }

        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                *self == **other
            }
        }

        impl PartialEq<String> for $name {
            fn eq(&self, other: &String) -> bool {
                *self == *other.as_str()
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(&self.0)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<$name, D::Error> {
                Ok($name(String::deserialize(d)?))
            }
        }
    };
}

/// Random bytes in an id adebox makes ([`TokenId`], [`ProfileId`]): 6 bytes are 8 base64url
/// characters (48 bits, plenty for the handful of tokens and profiles one appliance holds).
const OWN_ID_RANDOM_BYTES: usize = 6;

/// Longest token id accepted. Every id adebox makes is 8 characters; the margin is tolerance
/// for ids not made by [`TokenId::generate`] (none are known), not a format.
pub const TOKEN_ID_MAX: usize = 64;

/// Longest profile id accepted (every id adebox makes is 8 characters; see [`TOKEN_ID_MAX`]).
pub const PROFILE_ID_MAX: usize = 64;

/// adebox's own name for an Apple server token (`oCaG2Svw`): the key of `tokens.by_id`, the
/// `{id}` of `/api/v1/tokens/{id}` and `/api/v1/sync/{token_id}`, and the token a device,
/// a sync state, a profile default or an assignment belongs to.
///
/// Normalisation: none beyond trimming surrounding white space; the id is case-sensitive
/// (base64url). Validation: 1–[`TOKEN_ID_MAX`] characters of the URL-safe base64 alphabet
/// (letters, digits, `-`, `_`), the alphabet [`TokenId::generate`] draws from.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TokenId(String);

/// adebox's own name for an enrollment profile (`k3Vx9QaB`): the key of `profiles.by_id`, the
/// `{id}` of `/api/v1/profiles/{id}` and the `profile_id` of defaults and assignments. One
/// profile keeps its id across revisions, while Apple gives each revision at each token a new
/// [`ProfileUuid`].
///
/// Normalisation and validation as [`TokenId`]'s, up to [`PROFILE_ID_MAX`] characters.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ProfileId(String);

/// adebox's own name for a configuration profile an admin uploaded for the setup steps (the
/// `{id}` of `/api/v1/setup/profiles/{id}`). Normalisation and validation as [`ProfileId`]'s.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ConfigProfileId(String);

/// `generate`, `parse` and `as_bytes` for an id adebox makes itself (random base64url).
macro_rules! own_id {
    ($name:ident, $what:literal, $max:expr) => {
        impl $name {
            /// A new random id, for a record being created.
            pub fn generate() -> $name {
                $name(crate::crypto::random_token::<OWN_ID_RANDOM_BYTES>())
            }

            /// Validates an id from outside (an HTTP path, body or query).
            pub fn parse(text: &str) -> Result<$name, IdError> {
                let s = text.trim();
                check($what, s, $max, "letters, digits, '-' and '_' only", |c| {
                    c.is_ascii_alphanumeric() || c == '-' || c == '_'
                })?;
                Ok($name(s.to_string()))
            }

            /// The bytes of the store key of records kept by this id.
            pub fn as_bytes(&self) -> &[u8] {
                self.0.as_bytes()
            }
        }
    };
}

own_id!(TokenId, "token id", TOKEN_ID_MAX);
own_id!(ProfileId, "profile id", PROFILE_ID_MAX);
own_id!(ConfigProfileId, "configuration profile id", PROFILE_ID_MAX);

/// adebox's own name for a webhook subscription (`Qm3x_7aZ`): the key of
/// `events.subscriptions` and the `{id}` of `/api/v1/integrations/webhooks/{id}`.
/// Normalisation and validation as [`TokenId`]'s, up to [`TOKEN_ID_MAX`] characters.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SubscriptionId(String);

own_id!(SubscriptionId, "subscription id", TOKEN_ID_MAX);

/// Longest profile uuid accepted: Apple's are 32 characters; the margin is tolerance.
pub const PROFILE_UUID_MAX: usize = 64;

/// Apple's name for one defined revision of a profile at one server token (`profile_uuid` of
/// `POST /profile`, of a device record and of `/profile/devices`; dep-api.md §3.2, §3.3).
///
/// Normalisation: surrounding white space dropped, letters upper-cased: Apple documents "32
/// upper-case hex, no dashes" but promises no case, so a lower-case spelling means the same
/// profile. Equality, hashing and order ignore ASCII case, so a uuid stored as it came (by an
/// older adebox, read with [`ProfileUuid::from_stored`]) still meets its normalised spelling.
/// Validation: 1–[`PROFILE_UUID_MAX`] hex digits and hyphens. Tolerant of other lengths and of
/// the dashed UUID form, which Apple does not send today (../shared/spec/dep-api.md §3.2).
#[derive(Clone)]
pub struct ProfileUuid(String);

impl ProfileUuid {
    /// Normalises and validates a uuid from outside (a DEP answer, an HTTP query).
    pub fn parse(text: &str) -> Result<ProfileUuid, IdError> {
        let s = text.trim().to_ascii_uppercase();
        check("profile uuid", &s, PROFILE_UUID_MAX, "hex digits and hyphens only", |c| {
            c.is_ascii_hexdigit() || c == '-'
        })?;
        Ok(ProfileUuid(s))
    }
}

/// `Eq`, `Hash` and `Ord` without regard to ASCII case, for identifiers whose case the sender
/// does not promise.
macro_rules! case_free {
    ($name:ident) => {
        impl PartialEq for $name {
            fn eq(&self, other: &$name) -> bool {
                self.0.eq_ignore_ascii_case(&other.0)
            }
        }

        impl Eq for $name {}

        impl Hash for $name {
            fn hash<H: Hasher>(&self, state: &mut H) {
                for b in self.0.bytes() {
                    state.write_u8(b.to_ascii_uppercase());
                }
                state.write_u8(0xff);
            }
        }

        impl PartialOrd for $name {
            fn partial_cmp(&self, other: &$name) -> Option<Ordering> {
                Some(self.cmp(other))
            }
        }

        impl Ord for $name {
            fn cmp(&self, other: &$name) -> Ordering {
                let up = |s: &str| s.bytes().map(|b| b.to_ascii_uppercase()).collect::<Vec<_>>();
                up(&self.0).cmp(&up(&other.0))
            }
        }
    };
}

case_free!(Udid);
case_free!(ProfileUuid);
plain_string!(Serial);
plain_string!(Udid);
plain_string!(TokenId);
plain_string!(ProfileId);
plain_string!(ConfigProfileId);
plain_string!(SubscriptionId);
plain_string!(ProfileUuid);

#[cfg(test)]
mod tests;

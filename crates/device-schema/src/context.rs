//! Who a plist is for: the OS (and optionally its version), the channel and the enrollment
//! type. Apple's `presence` and `supportedOS` only mean something against these: `UDID` is
//! required in a device enrollment and forbidden in a user enrollment, `DeviceName` exists in a
//! macOS Authenticate and not in an iOS one.
//!
//! Exposes [`Context`], [`Channel`], [`Enrollment`] and [`Context::applies`], which folds a
//! key's `supportedOS` entry (over its parent's) into an [`Applies`] verdict.

use crate::spec::{Introduced, Os, OsSupport, Support, UserEnrollment, Version};

/// The MDM channel a message travels on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Channel {
    Device,
    User,
}

/// How the device is enrolled.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Enrollment {
    /// Device enrollment (ADE, what adebox does).
    Device,
    /// User enrollment (BYOD).
    User,
}

/// The reader a plist is checked for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Context {
    pub os: Os,
    /// When set, keys introduced later or removed by then count as not supported.
    pub version: Option<Version>,
    pub channel: Channel,
    pub enrollment: Enrollment,
}

/// Whether a key belongs in a plist for a [`Context`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Applies {
    /// It belongs; `required` is its presence there.
    Yes { required: bool },
    /// It does not (the words say why).
    No(String),
}

impl Context {
    /// The device channel of a device enrollment on `os`, any version: what adebox serves.
    pub fn device(os: Os) -> Context {
        Context { os, version: None, channel: Channel::Device, enrollment: Enrollment::Device }
    }

    /// The same context at OS `version` (`"17.5"`); an unreadable version is ignored.
    pub fn at(mut self, version: &str) -> Context {
        self.version = Version::parse(version);
        self
    }

    /// The effective `supportedOS` entry of a payload on this context's OS, or why the payload
    /// does not exist there. A payload that lists no entry for the OS is not supported on it.
    pub fn payload_entry(&self, support: &Support) -> Result<OsSupport, String> {
        match support.0.get(&self.os) {
            Some(entry) => Ok(entry.clone()),
            None if support.0.is_empty() => Ok(OsSupport::default()),
            None => Err(format!("not available on {}", self.os)),
        }
    }

    /// The entry a key sees: its own `supportedOS` entry for this OS over `parent`'s.
    pub fn entry(&self, parent: &OsSupport, own: &Support) -> OsSupport {
        match own.0.get(&self.os) {
            Some(e) => parent.under(e),
            None => parent.clone(),
        }
    }

    /// Whether a key with effective entry `e` and schema presence `required` belongs.
    ///
    /// Apple writes conditional presence with `userenrollment: mode:`: `UDID` is `required`
    /// and `forbidden` under user enrollment, `EnrollmentID` is `required` and `required` under
    /// user enrollment. So: `forbidden` removes the key in a user enrollment; `required` makes
    /// it required there and merely optional in a device enrollment (a device-enrolled device
    /// does not send `EnrollmentID`, and a payload may still carry such a key).
    pub fn applies(&self, e: &OsSupport, required: bool) -> Applies {
        match &e.introduced {
            Some(Introduced::NotAvailable) => {
                return Applies::No(format!("not available on {}", self.os));
            }
            Some(Introduced::In(v)) if self.version.as_ref().is_some_and(|at| at < v) => {
                return Applies::No(format!("introduced in {} {v}", self.os));
            }
            _ => {}
        }
        if let (Some(removed), Some(at)) = (&e.removed, &self.version)
            && at >= removed
        {
            return Applies::No(format!("removed in {} {removed}", self.os));
        }
        match self.channel {
            Channel::Device if e.device_channel == Some(false) => {
                return Applies::No("not on the device channel".into());
            }
            Channel::User if e.user_channel == Some(false) => {
                return Applies::No("not on the user channel".into());
            }
            _ => {}
        }
        match (self.enrollment, e.user_enrollment) {
            (Enrollment::User, Some(UserEnrollment::Forbidden)) => {
                Applies::No("not in a user enrollment".into())
            }
            (Enrollment::User, Some(UserEnrollment::Required)) => Applies::Yes { required: true },
            (Enrollment::Device, Some(UserEnrollment::Required)) => {
                Applies::Yes { required: false }
            }
            _ => Applies::Yes { required },
        }
    }
}

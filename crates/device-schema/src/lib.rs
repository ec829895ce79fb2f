//! Checks property lists against Apple's device-management schemas, key by key and type by
//! type, with a reader that shares nothing with the product's builders.
//!
//! Apple publishes the keys of every profile payload, MDM command and check-in message as YAML
//! (`apple/device-management`, copied under `../shared/fixtures/device-management/`). [`Schemas`]
//! loads that folder plus the project overlay (`schemas/overlay/`, same format, each added key
//! citing its spec section) and checks a `plist::Value`:
//!
//! - [`Schemas::check_profile`]: `TopLevel`, then every payload against its `PayloadType`'s
//!   file plus `CommonPayloadKeys` (a type with no file only needs its common keys right);
//! - [`Schemas::check_command`]: the command envelope, then `Command` against its
//!   `RequestType`'s `payloadkeys`;
//! - [`Schemas::check_check_in`]: a check-in message against its `MessageType`'s file;
//! - [`Schemas::check_report`]: a device's report, with the command's `responsekeys` when it
//!   acknowledges one.
//!
//! Every finding comes back in [`Violations`] with the key path (`PayloadContent[2].Topic`) and
//! the [`Problem`]: a required key missing, a key not in the schema, a wrong type (string,
//! integer, real, boolean, date, data, array, dictionary; `<any>` takes everything), a value
//! outside `rangelist`/`range`/`format`, an array of the wrong length (`repetition`), a key
//! that exists but not for this [`Context`] (OS and version, channel, enrollment type).
//!
//! What the checker models of `supportedOS`: `introduced` (`n/a` or a version), `removed`,
//! `devicechannel`, `userchannel` and `userenrollment` (see [`Context::applies`]). It reads and
//! ignores what it cannot judge from a plist alone: `accessrights`, `supervised`,
//! `requiresdep`, `sharedipad`, `multiple`, `allowmanualinstall`, `userapprovedmdm`,
//! `deprecated`, and the documentation attributes (`title`, `content`, `default`,
//! `subkeytype`). An attribute it does not know at all stops the load.
//!
//! The tests load Apple's folder from the fixtures and the overlay from `schemas/overlay/`
//! ([`Schemas::from_fixtures`]); the daemon loads a site's checkout (`[mdm] schemas_dir`) with
//! the overlay compiled in ([`Schemas::load_checkout`], [`OVERLAY`]) to check the commands of
//! the command API and the profiles admins upload. Its dependencies stay light (plist, a YAML
//! reader, regex-lite): no I/O crate, no async runtime.

mod catalog;
mod check;
mod checkout;
mod context;
pub mod spec;
mod violation;
mod yaml;

pub use catalog::{COMMAND_ENVELOPE, REPORT_ENVELOPE, Schemas, overlay_dir};
pub use checkout::OVERLAY;
pub use context::{Applies, Channel, Context, Enrollment};
pub use spec::{Kind, Os, Type};
pub use violation::{Problem, Violation, Violations};
pub use yaml::{LoadError, parse};

#[cfg(test)]
mod tests;

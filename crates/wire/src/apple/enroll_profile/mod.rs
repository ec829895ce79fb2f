//! The enrollment profile a device receives at the profile URL (../shared/spec/enrollment.md
//! §1.3–1.7, §2).
//!
//! - [`model`]: the typed payloads (root, ACME, SCEP, MDM) serialised with the `plist` crate.
//! - [`build`]: [`build_profile`] from explicit inputs (URLs, topic, CA, one-time values, UUID
//!   source); it decides nothing from the environment.
//! - [`identity`]: [`choose_identity`], ACME or SCEP from the MachineInfo (§1.7).
//! - [`serve`]: the signed bytes and content type, and the 403 bodies of §1.4–1.5.
//! - [`inspect`]: reading a signed .mobileconfig back for `adebox inspect profile`.
//!
//! Pure: no tokio, redb, reqwest or actix; time is a parameter.

pub mod build;
#[doc(hidden)]
pub mod examples;
pub mod identity;
pub mod inspect;
pub mod model;
pub mod serve;

pub use build::{
    IdentityInputs, MdmInputs, ProfileError, ProfileInputs, build_profile, random_uuid, subject,
};
pub use identity::{IdentityKind, Platform, choose_identity};
pub use model::EnrollmentProfile;
pub use serve::{
    CONTENT_TYPE_PROFILE, CONTENT_TYPE_REFUSAL, Refusal, ServeError, SoftwareUpdateRequired,
    sign_profile,
};

#[cfg(test)]
mod tests;

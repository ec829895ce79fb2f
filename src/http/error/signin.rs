//! The sign-in page family: what the person at the device reads when `/enroll/web` cannot
//! go on. Always an HTML page in plain words (never a bare status), except Apple's own
//! `com.apple.softwareupdate.required` 403, which Setup Assistant handles itself on this URL
//! as on the profile URL (../shared/spec/enrollment.md §1.6).

use super::device::EnrollRefusal;
use crate::directory::SignInFailure;
use crate::enroll::EnrollError;
use crate::signin::SubmitError;
use actix_web::http::StatusCode;

/// A refusal the page shows: status, title and the words for the person at the device.
#[derive(Debug)]
pub struct PageRefusal {
    pub status: StatusCode,
    pub title: &'static str,
    pub words: String,
    /// Seconds to wait, for 429 and 503 answers.
    pub retry_after: Option<u64>,
}

impl PageRefusal {
    fn new(status: StatusCode, title: &'static str, words: impl Into<String>) -> PageRefusal {
        PageRefusal { status, title, words: words.into(), retry_after: None }
    }
}

/// How the page answers an enrollment error: Apple's JSON for an OS update, else a page.
pub enum EnrollAnswer {
    Json(EnrollRefusal),
    Page(PageRefusal),
}

pub fn from_enroll(e: EnrollError) -> EnrollAnswer {
    let page = match e {
        e @ EnrollError::OsUpdateRequired { .. } => return EnrollAnswer::Json(e.into()),
        EnrollError::TooLarge { .. } | EnrollError::Malformed(_) => PageRefusal::new(
            StatusCode::BAD_REQUEST,
            "This device could not be identified",
            "Setup Assistant did not send this device's identity in a form we accept. \
             Restart the device and try again; if it happens again, contact your IT department.",
        ),
        EnrollError::Refused(r) => {
            let title = match r {
                crate::enroll::Refusal::BadMachineInfo(_) => "This device could not be identified",
                _ => "This device cannot be enrolled",
            };
            PageRefusal::new(StatusCode::FORBIDDEN, title, r.device_message())
        }
        EnrollError::Unavailable(detail) => {
            log::warn!("sign-in page not available: {detail}");
            PageRefusal::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "Enrollment is not available yet",
                "Enrollment is not set up on the server yet. Contact your IT department.",
            )
        }
        EnrollError::NoPushCertificate(_) => PageRefusal::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "Enrollment is not available yet",
            "The server cannot enroll devices right now. Try again later or contact your IT \
             department.",
        ),
        EnrollError::Store(s) => {
            log::error!("sign-in page failed: {s}");
            PageRefusal::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "Something went wrong",
                "The server could not finish this step. Try again in a minute.",
            )
        }
    };
    EnrollAnswer::Page(page)
}

/// How the page answers a failed sign-in; `retry_form` when the form should be shown again.
pub fn from_submit(e: SubmitError) -> (EnrollAnswer, bool) {
    let page = match e {
        SubmitError::Expired => PageRefusal::new(
            StatusCode::GONE,
            "This page has expired",
            "Go back to the previous screen and continue again to get a new sign-in page.",
        ),
        SubmitError::Forged => PageRefusal::new(
            StatusCode::FORBIDDEN,
            "This sign-in was not accepted",
            "The form did not come from this sign-in page. Go back and continue again.",
        ),
        SubmitError::SignIn(f) => return (EnrollAnswer::Page(from_failure(f)), true),
        SubmitError::NotAllowed { .. } => {
            let p = PageRefusal::new(
                StatusCode::FORBIDDEN,
                "Sign in",
                "Your account may not enroll this device. Ask your IT department to add you \
                 to a group allowed to enroll, or sign in with another account.",
            );
            return (EnrollAnswer::Page(p), true);
        }
        SubmitError::Enroll(e) => return (from_enroll(e), false),
    };
    (EnrollAnswer::Page(page), false)
}

fn from_failure(f: SignInFailure) -> PageRefusal {
    match f {
        SignInFailure::Wrong => PageRefusal::new(
            StatusCode::UNAUTHORIZED,
            "Sign in",
            "The username or password is not right. Try again.",
        ),
        SignInFailure::LockedOut { retry_after } => PageRefusal {
            retry_after: Some(retry_after.whole_seconds().max(1) as u64),
            ..PageRefusal::new(
                StatusCode::TOO_MANY_REQUESTS,
                "Sign in",
                format!(
                    "Too many wrong passwords. Wait {} minutes, then try again.",
                    retry_after.whole_minutes().max(1)
                ),
            )
        },
        SignInFailure::Busy { retry_after } => PageRefusal {
            retry_after: Some(retry_after.whole_seconds().max(1) as u64),
            ..PageRefusal::new(
                StatusCode::TOO_MANY_REQUESTS,
                "Sign in",
                format!(
                    "The server is busy. Wait {} seconds, then try again.",
                    retry_after.whole_seconds().max(1)
                ),
            )
        },
        SignInFailure::Unavailable(detail) => {
            log::warn!("sign-in directory unavailable: {detail}");
            PageRefusal {
                retry_after: Some(30),
                ..PageRefusal::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "Sign in",
                    "The account directory cannot be reached right now. Try again in a few \
                     minutes; if it goes on, contact your IT department.",
                )
            }
        }
        SignInFailure::Provider(detail) => {
            log::warn!("OpenID Connect sign-in refused: {detail}");
            PageRefusal::new(
                StatusCode::UNAUTHORIZED,
                "Sign in",
                format!(
                    "Your organisation's sign-in did not complete: {detail}. Try again; if it \
                     goes on, contact your IT department."
                ),
            )
        }
        SignInFailure::Store(s) => {
            log::error!("sign-in failed: {s}");
            PageRefusal::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "Sign in",
                "The server could not check your sign-in. Try again in a minute.",
            )
        }
    }
}

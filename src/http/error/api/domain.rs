//! How the API answers each domain's errors: one `From` per domain error enum, so handlers
//! only `?`. Internal failures (the store, I/O) answer `internal` and keep their detail in the
//! log; everything else names the problem and, where there is one, the field and the fix.

use super::ApiError;
use crate::admin::AdminError;
use crate::http::api::views;
use crate::store::StoreError;
use crate::tls::TlsError;
use actix_web::http::StatusCode;

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            // The admin can fix this one: say what it is and what to do.
            StoreError::DiskFull { .. } | StoreError::EarlierWriteFailed => {
                log::error!("{e}");
                ApiError::new(StatusCode::INSUFFICIENT_STORAGE, "disk_full", e.to_string())
            }
            e => ApiError::internal(&e),
        }
    }
}

impl From<AdminError> for ApiError {
    fn from(e: AdminError) -> Self {
        let msg = e.to_string();
        match e {
            AdminError::BadCredentials => {
                ApiError::new(StatusCode::UNAUTHORIZED, "bad_credentials", msg)
            }
            AdminError::LockedOut { retry_after } => {
                let mut err = ApiError::new(StatusCode::TOO_MANY_REQUESTS, "locked_out", msg);
                err.extra_mut().retry_after_s = Some(retry_after.whole_seconds().max(1));
                err
            }
            AdminError::Busy { retry_after } => {
                let mut err = ApiError::new(StatusCode::TOO_MANY_REQUESTS, "busy", msg);
                err.extra_mut().retry_after_s = Some(retry_after.whole_seconds().max(1));
                err
            }
            AdminError::BadSetupCode => {
                ApiError::new(StatusCode::UNAUTHORIZED, "bad_setup_code", msg)
            }
            AdminError::SetupDone => ApiError::new(StatusCode::CONFLICT, "setup_done", msg),
            AdminError::Validation { field, message } => ApiError::validation(field, message),
            AdminError::NotFound(what) => ApiError::not_found(&what),
            AdminError::Conflict(m) => ApiError::new(StatusCode::CONFLICT, "conflict", m),
            AdminError::Forbidden(m) => ApiError::forbidden(m),
            AdminError::Store(s) => ApiError::internal(&s),
        }
    }
}

/// A scoped admin reaching outside their server tokens: 403 `out_of_scope`, naming what.
impl From<crate::admin::OutOfScope> for ApiError {
    fn from(e: crate::admin::OutOfScope) -> Self {
        ApiError::new(StatusCode::FORBIDDEN, "out_of_scope", e.to_string())
    }
}

impl From<TlsError> for ApiError {
    fn from(e: TlsError) -> Self {
        match e {
            TlsError::Custom(p) => ApiError::validation(p.field, p.message),
            TlsError::ConfigManaged | TlsError::AcmeManaged => {
                ApiError::new(StatusCode::CONFLICT, "conflict", e.to_string())
            }
            other => ApiError::internal(&other),
        }
    }
}

/// A serial number, UDID or token id in a path or body that is not one: the message says what is wrong.
impl From<crate::ids::IdError> for ApiError {
    fn from(e: crate::ids::IdError) -> Self {
        ApiError::bad_request(e.to_string())
    }
}

impl From<crate::tokens::TokenError> for ApiError {
    fn from(e: crate::tokens::TokenError) -> Self {
        use crate::tokens::TokenError as T;
        let msg = e.to_string();
        match e {
            T::NotFound(what) => ApiError::not_found(&what),
            T::Validation { field, message } => ApiError::validation(field, message),
            T::Refused { code, message } => {
                let mut err = ApiError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "apple_refused",
                    format!("Apple refused this token: {message}"),
                )
                .field("token");
                err.extra_mut().code = code;
                err
            }
            T::AppleUnreachable(_) => {
                ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "apple_unreachable", msg)
            }
            T::ForeignServer { .. } => {
                ApiError::new(StatusCode::CONFLICT, "foreign_server", msg).field("token")
            }
            T::AlreadyAdded { .. } => {
                ApiError::new(StatusCode::CONFLICT, "already_added", msg).field("token")
            }
            T::InUse(blockers) => {
                let mut err = ApiError::new(StatusCode::CONFLICT, "token_in_use", msg);
                err.extra_mut().blockers = Some(views::list(&blockers));
                err
            }
            T::Store(s) => ApiError::internal(&s),
        }
    }
}

impl From<crate::sync::SyncError> for ApiError {
    fn from(e: crate::sync::SyncError) -> Self {
        use crate::sync::SyncError as S;
        let msg = e.to_string();
        match e {
            S::UnknownToken(what) => ApiError::not_found(&what),
            S::TooSoon { next_allowed_at, .. } => {
                let mut err = ApiError::new(StatusCode::TOO_MANY_REQUESTS, "sync_budget", msg);
                err.extra_mut().next_allowed_at = Some(next_allowed_at);
                err
            }
            S::Validation { field, message } => ApiError::validation(field, message),
            S::Store(s) => ApiError::internal(&s),
        }
    }
}

impl From<crate::profiles::ProfileError> for ApiError {
    fn from(e: crate::profiles::ProfileError) -> Self {
        use crate::profiles::ProfileError as P;
        let msg = e.to_string();
        match e {
            P::NotFound(what) => ApiError::not_found(&what),
            P::Invalid(fields) => {
                let first = fields.first().cloned().unwrap_or_else(|| {
                    crate::profiles::FieldIssue::new("", "the profile is not valid")
                });
                let mut err = ApiError::validation(&first.field, first.message);
                err.extra_mut().fields = Some(views::list(&fields));
                err
            }
            P::Limit { limit, .. } => {
                let mut err = ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "limit", msg);
                err.extra_mut().limit = Some(limit);
                err
            }
            P::InUse(blockers) => {
                let mut err = ApiError::new(StatusCode::CONFLICT, "profile_in_use", msg);
                err.extra_mut().blockers = Some(views::list(&blockers));
                err
            }
            P::Store(s) => ApiError::internal(&s),
        }
    }
}

impl From<crate::push::PushError> for ApiError {
    fn from(e: crate::push::PushError) -> Self {
        use crate::push::PushError as P;
        let msg = e.to_string();
        match e {
            P::NoCertificate | P::Expired(_) => {
                ApiError::new(StatusCode::CONFLICT, "no_push_certificate", msg)
            }
            P::NoRequest => ApiError::new(StatusCode::CONFLICT, "no_request", msg),
            P::TopicChanged { .. } => {
                ApiError::new(StatusCode::CONFLICT, "topic_changed", msg).field("certificate")
            }
            P::Certificate(
                crate::crypto::push_cert::PushCertError::VendorCertificate(_)
                | crate::crypto::push_cert::PushCertError::VendorMismatch,
            ) => ApiError::validation("vendor_certificate", msg),
            P::Certificate(crate::crypto::push_cert::PushCertError::VendorKey(_)) => {
                ApiError::validation("vendor_key", msg)
            }
            P::Certificate(_) | P::KeyMismatch | P::UploadExpired(_) => {
                ApiError::validation("certificate", msg)
            }
            P::Validation { field, message } => ApiError::validation(field, message),
            P::Store(s) => ApiError::internal(&s),
        }
    }
}

impl From<crate::enroll::EnrollError> for ApiError {
    /// The API only reads enrollment settings and history; any failure there is internal.
    fn from(e: crate::enroll::EnrollError) -> Self {
        ApiError::internal(&e)
    }
}

impl From<crate::sim::dep::portal_client::PortalClientError> for ApiError {
    /// The simulator's portal (sandbox mode): what it refuses is the admin's input, anything
    /// else is the simulator failing behind this appliance.
    fn from(e: crate::sim::dep::portal_client::PortalClientError) -> Self {
        match e.status {
            // 409: a migration deadline out of range, as Apple's API answers it.
            400 | 404 | 409 => {
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "validation", e.message)
            }
            _ => ApiError::new(StatusCode::BAD_GATEWAY, "simulator", e.message),
        }
    }
}

impl From<crate::setup::SetupError> for ApiError {
    fn from(e: crate::setup::SetupError) -> Self {
        use crate::setup::SetupError as E;
        match e {
            E::Invalid { ref field, ref message } => ApiError::validation(field, message.clone()),
            E::TooLarge { .. } => ApiError::payload_too_large(e.to_string()),
            E::UnknownProfile(_) => ApiError::not_found_because(e.to_string()),
            E::InUse(_) => ApiError::conflict("in_use", e.to_string()),
            E::Full => ApiError::conflict("too_many_profiles", e.to_string()),
            E::Store(s) => ApiError::from(s),
        }
    }
}

impl From<crate::events::EventsError> for ApiError {
    fn from(e: crate::events::EventsError) -> Self {
        use crate::events::EventsError as E;
        let msg = e.to_string();
        match e {
            E::NotFound(what) => {
                ApiError::not_found_because(format!("webhook subscription {what} does not exist"))
            }
            E::NoSuchDelivery(_) => ApiError::not_found_because(msg),
            E::Invalid { field, message } => ApiError::validation(field, message),
            E::TooMany(_) => ApiError::new(StatusCode::CONFLICT, "limit", msg),
            E::Store(s) => s.into(),
        }
    }
}

impl From<crate::alerts::AlertsError> for ApiError {
    fn from(e: crate::alerts::AlertsError) -> Self {
        use crate::alerts::AlertsError as E;
        match e {
            E::Invalid { field, message } => ApiError::validation(field, message),
            E::NoSmtp => ApiError::new(StatusCode::CONFLICT, "no_smtp", e.to_string()),
            E::Store(s) => s.into(),
        }
    }
}

impl From<crate::directory::DirectoryError> for ApiError {
    fn from(e: crate::directory::DirectoryError) -> Self {
        use crate::directory::DirectoryError;
        match e {
            DirectoryError::Validation { field, message } => ApiError::validation(field, message),
            DirectoryError::NotFound(what) => ApiError::not_found(&what),
            DirectoryError::Conflict(m) => ApiError::new(StatusCode::CONFLICT, "conflict", m),
            DirectoryError::Store(s) => s.into(),
        }
    }
}

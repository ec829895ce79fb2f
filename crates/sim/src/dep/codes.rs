//! The error codes the DEP simulator answers, each with the status Apple documents or was
//! observed to send (../shared/spec/dep-api.md §2.3, §2.4, §3). Apple writes them as bare
//! text bodies; `respond.rs` decides the exact spelling (bare, with a newline, JSON-quoted).
//!
//! The simulator keeps its own list rather than the product's reader of these codes: what it
//! sends must follow the spec, not whatever the product expects to read. Pure.

/// One of Apple's documented error codes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Code {
    // Cursors (§3.2; fetch documents only INVALID_CURSOR and EXHAUSTED_CURSOR, §3).
    ExhaustedCursor,
    ExpiredCursor,
    InvalidCursor,
    CursorRequired,
    // Authentication (§2.3) and the User-Agent rule (§2.4).
    TermsNotSigned,
    AccessDenied,
    TokenRejected,
    SignatureInvalid,
    /// micromdm's depsim for an unknown session (§2.2), behind a behaviour switch.
    Forbidden,
    UserAgentMissing,
    UserAgentInvalid,
    // Devices (§3).
    DeviceIdRequired,
    DeviceNotFound,
    MalformedRequestBody,
    // Profiles (§3, §4).
    ProfileUuidRequired,
    NotFound,
    ProfileNotFound,
    ConfigNameRequired,
    ConfigNameInvalid,
    ConfigUrlRequired,
    ConfigUrlInvalid,
    DepartmentInvalid,
    FlagsInvalid,
    LocaleInvalid,
    MagicInvalid,
    SupportEmailInvalid,
    SupportPhoneInvalid,
    // Account-driven enrollment (§3, petarov's messages).
    MdmServiceDiscoveryUrlRequired,
    MdmServiceDiscoveryUrlNotValid,
}

impl Code {
    /// Every code, for exhaustive tests.
    pub const ALL: [Code; 29] = [
        Code::ExhaustedCursor,
        Code::ExpiredCursor,
        Code::InvalidCursor,
        Code::CursorRequired,
        Code::TermsNotSigned,
        Code::AccessDenied,
        Code::TokenRejected,
        Code::SignatureInvalid,
        Code::Forbidden,
        Code::UserAgentMissing,
        Code::UserAgentInvalid,
        Code::DeviceIdRequired,
        Code::DeviceNotFound,
        Code::MalformedRequestBody,
        Code::ProfileUuidRequired,
        Code::NotFound,
        Code::ProfileNotFound,
        Code::ConfigNameRequired,
        Code::ConfigNameInvalid,
        Code::ConfigUrlRequired,
        Code::ConfigUrlInvalid,
        Code::DepartmentInvalid,
        Code::FlagsInvalid,
        Code::LocaleInvalid,
        Code::MagicInvalid,
        Code::SupportEmailInvalid,
        Code::SupportPhoneInvalid,
        Code::MdmServiceDiscoveryUrlRequired,
        Code::MdmServiceDiscoveryUrlNotValid,
    ];

    /// The body text and the status Apple sends it with.
    pub fn wire(self) -> (&'static str, u16) {
        match self {
            Code::ExhaustedCursor => ("EXHAUSTED_CURSOR", 400),
            Code::ExpiredCursor => ("EXPIRED_CURSOR", 400),
            Code::InvalidCursor => ("INVALID_CURSOR", 400),
            Code::CursorRequired => ("CURSOR_REQUIRED", 400),
            Code::TermsNotSigned => ("T_C_NOT_SIGNED", 403),
            Code::AccessDenied => ("ACCESS_DENIED", 403),
            // Fleet #47700: `/session` of a revoked or superseded token (§1.6, §2.3).
            Code::TokenRejected => ("token_rejected", 401),
            Code::SignatureInvalid => ("signature_invalid", 403),
            Code::Forbidden => ("FORBIDDEN", 403),
            Code::UserAgentMissing => ("USER_AGENT_MISSING", 400),
            Code::UserAgentInvalid => ("USER_AGENT_INVALID", 400),
            Code::DeviceIdRequired => ("DEVICE_ID_REQUIRED", 400),
            // Documented 404; petarov and zentral observe 400 (§3).
            Code::DeviceNotFound => ("DEVICE_NOT_FOUND", 400),
            Code::MalformedRequestBody => ("MALFORMED_REQUEST_BODY", 400),
            Code::ProfileUuidRequired => ("PROFILE_UUID_REQUIRED", 400),
            // AppleDoc says 400 for `GET /profile`; the behaviour switch can make it 404.
            Code::NotFound => ("NOT_FOUND", 400),
            Code::ProfileNotFound => ("PROFILE_NOT_FOUND", 404),
            Code::ConfigNameRequired => ("CONFIG_NAME_REQUIRED", 400),
            Code::ConfigNameInvalid => ("CONFIG_NAME_INVALID", 400),
            Code::ConfigUrlRequired => ("CONFIG_URL_REQUIRED", 400),
            Code::ConfigUrlInvalid => ("CONFIG_URL_INVALID", 400),
            Code::DepartmentInvalid => ("DEPARTMENT_INVALID", 400),
            Code::FlagsInvalid => ("FLAGS_INVALID", 400),
            Code::LocaleInvalid => ("LOCALE_INVALID", 400),
            Code::MagicInvalid => ("MAGIC_INVALID", 400),
            Code::SupportEmailInvalid => ("SUPPORT_EMAIL_INVALID", 400),
            Code::SupportPhoneInvalid => ("SUPPORT_PHONE_INVALID", 400),
            Code::MdmServiceDiscoveryUrlRequired => ("MDM_SERVICE_DISCOVERY_URL_REQUIRED", 400),
            Code::MdmServiceDiscoveryUrlNotValid => ("MDM_SERVICE_DISCOVERY_URL_NOT_VALID", 400),
        }
    }

    pub fn as_str(self) -> &'static str {
        self.wire().0
    }

    pub fn status(self) -> u16 {
        self.wire().1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_is_upper_snake_case_or_one_of_the_observed_lower_case_ones() {
        let mut seen = std::collections::HashSet::new();
        for code in Code::ALL {
            let (text, status) = code.wire();
            assert!(seen.insert(text), "{text} twice");
            assert!([400, 401, 403, 404].contains(&status), "{text}: {status}");
            let lower = ["token_rejected", "signature_invalid"].contains(&text);
            assert!(lower || text.bytes().all(|b| b.is_ascii_uppercase() || b == b'_'), "{text}");
        }
    }

    #[test]
    fn the_product_reads_every_code_the_simulator_sends() {
        // The two sides of the wire agree on the spelling (the product reads bodies leniently).
        for code in Code::ALL {
            let read = crate::apple::dep::DepErrorCode::parse(code.as_str());
            assert_eq!(read.map(|c| c.as_str()), Some(code.as_str()), "{code:?}");
        }
    }
}

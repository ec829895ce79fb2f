//! The bare-text error codes Apple puts in DEP error bodies (dep-api.md §2.3, §2.4, §3), one
//! exhaustive enum with a plain-words admin message for each.
//!
//! Error bodies are plain text (`T_C_NOT_SIGNED\n`), sometimes JSON-quoted (`"INVALID_CURSOR"`,
//! depsim and Fleet's stored form), sometimes embedded in a longer text. [`DepErrorCode::parse`]
//! therefore trims, unquotes, and then looks for a whole word that is a known code, so
//! `NOT_FOUND` never matches inside `DEVICE_NOT_FOUND`. Codes are case-sensitive
//! (`token_rejected` is lower case) so a status-line `Forbidden` is not `FORBIDDEN`.

macro_rules! codes {
    ($( $(#[$vmeta:meta])* $variant:ident => $wire:literal, $status:literal, $msg:literal; )+) => {
        /// Every documented DEP error-body code.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum DepErrorCode {
            $( $(#[$vmeta])* $variant, )+
        }

        impl DepErrorCode {
            /// Every variant, for exhaustive tests and the simulator.
            pub const ALL: &'static [DepErrorCode] = &[$(DepErrorCode::$variant),+];

            /// The code as Apple writes it.
            pub fn as_str(self) -> &'static str {
                match self { $( DepErrorCode::$variant => $wire, )+ }
            }

            /// The HTTP status Apple documents (or was observed to send) with this code.
            pub fn status(self) -> u16 {
                match self { $( DepErrorCode::$variant => $status, )+ }
            }

            /// What went wrong and what the admin should do, in plain words.
            pub fn admin_message(self) -> &'static str {
                match self { $( DepErrorCode::$variant => $msg, )+ }
            }

            fn from_exact(s: &str) -> Option<Self> {
                match s { $( $wire => Some(DepErrorCode::$variant), )+ _ => None }
            }
        }
    };
}

codes! {
    // Cursors (dep-api.md §3.2).
    /// The fetch cursor has returned every device: switch to sync with the same cursor.
    ExhaustedCursor => "EXHAUSTED_CURSOR", 400,
        "Apple has already sent every device for this sync position; adebox continues with incremental sync. Nothing to do.";
    /// Sync cursor older than 7 days: start a full fetch.
    ExpiredCursor => "EXPIRED_CURSOR", 400,
        "The saved sync position is older than the 7 days Apple keeps; adebox starts a full device fetch. Nothing to do, but if it recurs make sure syncs run at least weekly.";
    /// Apple does not recognise the cursor: start a full fetch.
    InvalidCursor => "INVALID_CURSOR", 400,
        "Apple did not recognise the saved sync position; adebox starts a full device fetch. Nothing to do unless it keeps happening; then report it.";
    /// Sync sent without a cursor.
    CursorRequired => "CURSOR_REQUIRED", 400,
        "An incremental sync was sent without a sync position; adebox falls back to a full device fetch. If it recurs, report it as an adebox bug.";

    // Authentication and authorisation (§2.3).
    /// The organisation must accept new Apple Business Manager terms.
    TermsNotSigned => "T_C_NOT_SIGNED", 403,
        "Apple Business Manager has new terms and conditions that your organisation has not accepted yet. Sign in as an administrator and accept the new terms and conditions in Apple Business Manager (Preferences); syncing resumes by itself afterwards.";
    /// The server or token lacks access.
    AccessDenied => "ACCESS_DENIED", 403,
        "Apple refused access for this MDM server token. Check in Apple Business Manager that the MDM server still exists; then download a new server token for it and renew the token in adebox.";
    /// Token revoked, or superseded by a newer download (Fleet #47700).
    TokenRejected => "token_rejected", 401,
        "Apple rejected this server token: it was revoked, or someone downloaded a newer token for the same MDM server in Apple Business Manager. Download the current token from Apple Business Manager and renew the token in adebox.";
    /// Seen with revoked or superseded tokens (Fleet #47700).
    SignatureInvalid => "signature_invalid", 403,
        "Apple did not accept this server token's signature: the token was revoked or replaced by a newer one in Apple Business Manager. Download the current token from Apple Business Manager and renew the token in adebox.";
    /// Unknown session (depsim after a restart): re-authenticate.
    Forbidden => "FORBIDDEN", 403,
        "Apple no longer accepts the sign-in session. adebox signs in again by itself; if this message stays, renew the server token.";
    /// Apple requires a User-Agent.
    UserAgentMissing => "USER_AGENT_MISSING", 400,
        "Apple requires a User-Agent header and received none. This is an adebox bug: please report it.";
    /// Apple filters User-Agents.
    UserAgentInvalid => "USER_AGENT_INVALID", 400,
        "Apple refused adebox's User-Agent header. Update adebox to the current version; if it persists, report it.";

    // Devices (§3).
    /// No serial in a device request.
    DeviceIdRequired => "DEVICE_ID_REQUIRED", 400,
        "The request to Apple named no device serial number. Select at least one device and try again.";
    /// Unknown serial (documented 404; observed 400).
    DeviceNotFound => "DEVICE_NOT_FOUND", 400,
        "Apple does not know this device serial number. Check the serial number and that the device is assigned to this MDM server in Apple Business Manager.";
    /// Apple could not read the body.
    MalformedRequestBody => "MALFORMED_REQUEST_BODY", 400,
        "Apple could not read the request. Check the values entered (an escrow key is 64 hexadecimal characters); if they are right, report it as an adebox bug.";

    // Profiles (§3, §4).
    /// No profile UUID in a profile request.
    ProfileUuidRequired => "PROFILE_UUID_REQUIRED", 400,
        "The request to Apple named no enrollment profile. Choose a profile and try again.";
    /// `GET /profile` or account-driven enrollment profile: nothing there.
    NotFound => "NOT_FOUND", 400,
        "Apple has no such item for this MDM server (for example a profile defined with another server token). Save the profile again so adebox defines it with this token.";
    /// Assign to a profile Apple does not know (older docs).
    ProfileNotFound => "PROFILE_NOT_FOUND", 404,
        "Apple does not know this enrollment profile for this MDM server. Save the profile again so adebox defines it with this token, then assign it again.";
    ConfigNameRequired => "CONFIG_NAME_REQUIRED", 400,
        "The enrollment profile has no name. Give it a name of 1 to 125 characters.";
    ConfigNameInvalid => "CONFIG_NAME_INVALID", 400,
        "Apple refused the enrollment profile's name. Use 1 to 125 characters.";
    ConfigUrlRequired => "CONFIG_URL_REQUIRED", 400,
        "The enrollment profile has no enrollment URL. Set the appliance's public host name in the configuration file.";
    ConfigUrlInvalid => "CONFIG_URL_INVALID", 400,
        "Apple refused the enrollment profile's URL: it must be a valid URL of at most 2000 characters. Check the appliance's public host name in the configuration file.";
    DepartmentInvalid => "DEPARTMENT_INVALID", 400,
        "Apple refused the profile's department. Use 1 to 125 characters, or leave it empty.";
    /// e.g. `is_mdm_removable: false` without `is_supervised: true`.
    FlagsInvalid => "FLAGS_INVALID", 400,
        "Apple refused the profile's options: they contradict each other. A profile that prevents removing MDM must also be supervised; turn on supervision or allow removal.";
    LocaleInvalid => "LOCALE_INVALID", 400,
        "Apple refused the profile's language and region. Use a 2- or 3-letter ISO 639 language code and a 2-letter upper-case ISO 3166 region code, or leave both empty.";
    MagicInvalid => "MAGIC_INVALID", 400,
        "Apple refused the profile's organisation magic. Use 1 to 256 characters.";
    SupportEmailInvalid => "SUPPORT_EMAIL_INVALID", 400,
        "Apple refused the profile's support e-mail address. Use a valid address of at most 250 characters, or leave it empty.";
    SupportPhoneInvalid => "SUPPORT_PHONE_INVALID", 400,
        "Apple refused the profile's support phone number. Use 1 to 50 characters, or leave it empty.";

    // Other features (§3).
    /// Beta enrollment tokens are off for the organisation.
    AppleSeedForItTurnedOff => "APPLE_SEED_FOR_IT_TURNED_OFF", 403,
        "AppleSeed for IT is turned off for your organisation. Turn it on in Apple Business Manager to use beta enrollment tokens.";
    /// The organisation type does not support the feature.
    OrgNotSupported => "ORG_NOT_SUPPORTED", 400,
        "Apple says your organisation's type does not support this feature. Nothing adebox can change; check the organisation's programme in Apple Business Manager.";
    MdmServiceDiscoveryUrlRequired => "MDM_SERVICE_DISCOVERY_URL_REQUIRED", 400,
        "The MDM service discovery URL is missing. Set it and try again.";
    MdmServiceDiscoveryUrlNotValid => "MDM_SERVICE_DISCOVERY_URL_NOT_VALID", 400,
        "Apple refused the MDM service discovery URL. It must be a valid https:// URL.";
}

/// Longest error body looked at; Apple's are a few bytes, anything longer is not a code list.
const MAX_SCANNED: usize = 4096;

impl DepErrorCode {
    /// Finds the code in an error body: trimmed, JSON quotes and a trailing newline tolerated,
    /// then the first whole word that is a known code. `None` for HTML, garbage or unknown codes.
    pub fn parse(body: &str) -> Option<Self> {
        let head = truncate(body, MAX_SCANNED).trim();
        let unquoted: std::borrow::Cow<'_, str> = if head.len() >= 2 && head.starts_with('"') {
            match serde_json::from_str::<String>(head) {
                Ok(s) => s.into(),
                Err(_) => head.trim_matches('"').into(),
            }
        } else {
            head.into()
        };
        let text = unquoted.trim();
        Self::from_exact(text).or_else(|| {
            text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .find_map(Self::from_exact)
        })
    }

    /// A profile field Apple refused (define).
    pub fn is_profile_validation(self) -> bool {
        use DepErrorCode::*;
        matches!(
            self,
            ConfigNameRequired
                | ConfigNameInvalid
                | ConfigUrlRequired
                | ConfigUrlInvalid
                | DepartmentInvalid
                | FlagsInvalid
                | LocaleInvalid
                | MagicInvalid
                | SupportEmailInvalid
                | SupportPhoneInvalid
        )
    }
}

impl std::fmt::Display for DepErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The longest prefix of `s` of at most `max` bytes that ends on a char boundary.
fn truncate(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_round_trips_and_has_a_message() {
        for &code in DepErrorCode::ALL {
            assert_eq!(DepErrorCode::parse(code.as_str()), Some(code), "{code}");
            assert_eq!(DepErrorCode::parse(&format!("\"{code}\"\n")), Some(code), "{code}");
            assert_eq!(DepErrorCode::parse(&format!("{code}\n")), Some(code), "{code}");
            let msg = code.admin_message();
            assert!(msg.len() > 20 && msg.ends_with('.'), "{code}: {msg}");
            assert!(!msg.contains(code.as_str()), "message speaks plain words: {code}");
            assert!((400..500).contains(&code.status()), "{code}");
        }
    }

    #[test]
    fn codes_are_unique() {
        let mut seen = std::collections::HashSet::new();
        for code in DepErrorCode::ALL {
            assert!(seen.insert(code.as_str()), "duplicate {code}");
        }
    }

    #[test]
    fn terms_message_tells_where_to_accept() {
        let msg = DepErrorCode::TermsNotSigned.admin_message();
        assert!(msg.contains(
            "accept the new terms and conditions in Apple Business Manager (Preferences)"
        ));
    }

    #[test]
    fn finds_code_inside_longer_text() {
        assert_eq!(
            DepErrorCode::parse("DEP auth error: 403 Forbidden: T_C_NOT_SIGNED"),
            Some(DepErrorCode::TermsNotSigned)
        );
        assert_eq!(
            DepErrorCode::parse("  \"token_rejected\"  "),
            Some(DepErrorCode::TokenRejected)
        );
    }

    #[test]
    fn does_not_confuse_not_found_variants() {
        assert_eq!(DepErrorCode::parse("DEVICE_NOT_FOUND"), Some(DepErrorCode::DeviceNotFound));
        assert_eq!(DepErrorCode::parse("PROFILE_NOT_FOUND\n"), Some(DepErrorCode::ProfileNotFound));
        assert_eq!(DepErrorCode::parse("NOT_FOUND"), Some(DepErrorCode::NotFound));
    }

    #[test]
    fn html_garbage_and_status_words_are_not_codes() {
        assert_eq!(DepErrorCode::parse("<html><body>Forbidden</body></html>"), None);
        assert_eq!(DepErrorCode::parse(""), None);
        assert_eq!(DepErrorCode::parse("\u{0}\u{1}ÿ"), None);
        assert_eq!(DepErrorCode::parse("SOMETHING_NEW"), None);
        assert_eq!(DepErrorCode::parse("\""), None);
    }

    #[test]
    fn huge_bodies_are_scanned_only_at_the_start() {
        let body = format!("{}T_C_NOT_SIGNED", "x ".repeat(10_000));
        assert_eq!(DepErrorCode::parse(&body), None);
        let body = format!("T_C_NOT_SIGNED {}é", "x".repeat(5000));
        assert_eq!(DepErrorCode::parse(&body), Some(DepErrorCode::TermsNotSigned));
    }
}

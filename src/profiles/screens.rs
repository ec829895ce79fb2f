//! Setup Assistant screens in an admin's words: the name of each screen a skip key hides and
//! what the user sees on it (Apple's key and title stay secondary text), and the screens that
//! can no longer be hidden on some systems whatever the profile says
//! (`../shared/spec/apple-2026.md` §4.2).

use serde::Serialize;

/// One skip key as the profile form names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Screen {
    /// The screen's name ("Apple Pay").
    pub name: &'static str,
    /// What the user sees or is asked there.
    pub user_sees: &'static str,
}

/// A platform on which a screen shows even when the profile hides it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct NotHideable {
    /// As the skip-key catalog names platforms (`macOS`).
    pub platform: &'static str,
    /// From this version on.
    pub since: &'static str,
    /// Where this comes from (UNCERTAIN wording: not Apple's own, see the spec).
    pub source: &'static str,
}

/// Screens that show anyway. `Restore` on macOS 15.4+: Intune's documentation, consistent with
/// fleetdm/fleet#45411 (the Mac still shows the migration screen with `Restore` skipped).
const NOT_HIDEABLE: &[(&str, NotHideable)] = &[(
    "Restore",
    NotHideable {
        platform: "macOS",
        since: "15.4",
        source: "apple-2026.md §4.2: Intune's macOS enrollment documentation (2025-07-22); fleetdm/fleet#45411",
    },
)];

/// Where `key` shows even when hidden.
pub fn not_hideable(key: &str) -> Vec<NotHideable> {
    NOT_HIDEABLE.iter().filter(|(k, _)| *k == key).map(|(_, n)| *n).collect()
}

/// The admin's words for `key`, when adebox has them (every key of Apple's catalog does; a
/// test keeps it so).
pub fn screen(key: &str) -> Option<Screen> {
    SCREENS
        .iter()
        .find(|(k, _, _)| *k == key)
        .map(|(_, name, user_sees)| Screen { name, user_sees })
}

const SCREENS: &[(&str, &str, &str)] = &[
    ("Accessibility", "Accessibility", "Vision, motor, hearing and other accessibility options"),
    (
        "AccessibilityAppearance",
        "Accessibility appearance",
        "Text size and display options for accessibility",
    ),
    ("ActionButton", "Action button", "Choosing what the Action button does"),
    ("Android", "Move from Android", "Copying data from an Android phone"),
    ("Appearance", "Appearance", "Choosing light or dark mode"),
    ("AppleID", "Apple Account", "Signing in to an Apple Account and iCloud"),
    ("AppStore", "App Store", "An introduction to the App Store"),
    ("Biometric", "Face ID / Touch ID", "Setting up Face ID or Touch ID"),
    ("CameraButton", "Camera Control", "Setting up the Camera Control button"),
    (
        "DeviceToDeviceMigration",
        "Transfer from another device",
        "Copying data directly from another iPhone or iPad",
    ),
    ("Diagnostics", "Analytics", "Whether to share diagnostics with Apple"),
    ("DisplayTone", "True Tone", "The True Tone display introduction"),
    ("EnableLockdownMode", "Lockdown Mode", "Whether to turn on Lockdown Mode"),
    ("FileVault", "FileVault", "Turning on disk encryption"),
    ("HomeButtonSensitivity", "Home button", "Choosing how the Home button clicks"),
    ("iCloudDiagnostics", "iCloud Analytics", "Whether to share iCloud analytics"),
    ("iCloudStorage", "iCloud Desktop and Documents", "Storing Desktop and Documents in iCloud"),
    ("iMessageAndFaceTime", "iMessage and FaceTime", "Which addresses iMessage and FaceTime use"),
    ("Intelligence", "Apple Intelligence", "Turning on Apple Intelligence"),
    ("Keyboard", "Keyboard", "Choosing keyboards"),
    ("LiquidGlass", "Liquid Glass", "Choosing the Liquid Glass look"),
    ("Location", "Location Services", "Whether apps may use the location"),
    (
        "MessagingActivationUsingPhoneNumber",
        "iMessage by phone number",
        "Activating iMessage with the phone number",
    ),
    ("Multitasking", "Multitasking", "Choosing how windows and apps share the screen"),
    ("OnBoarding", "Getting around", "How to go home, open Control Center and switch apps"),
    ("OSShowcase", "What's new", "A tour of the new system's features"),
    ("Passcode", "Passcode", "Setting a passcode"),
    ("Payment", "Apple Pay", "Adding cards to Apple Pay"),
    ("Privacy", "Data & Privacy", "Apple's privacy information"),
    ("Restore", "Apps & Data / Migration", "Restoring from a backup or migrating from another Mac"),
    ("RestoreCompleted", "Restore completed", "The message after a restore"),
    ("ScreenSaver", "Screen saver", "Using aerial screen savers on Apple TV"),
    ("Safety", "Safety", "Emergency SOS and safety features"),
    ("SafetyAndHandling", "Safety and handling", "Safety and handling information"),
    ("ScreenTime", "Screen Time", "Setting up Screen Time"),
    ("SIMSetup", "Cellular plan", "Adding a cellular or eSIM plan"),
    ("Siri", "Siri", "Setting up Siri"),
    ("SoftwareUpdate", "Software updates", "Choosing automatic updates"),
    ("SpokenLanguage", "Dictation", "Choosing the dictation language"),
    ("TapToSetup", "Quick Start", "Setting up by holding another device nearby"),
    ("TermsOfAddress", "Terms of address", "How the system addresses the user"),
    ("Tips", "Tips", "Whether to get tips"),
    ("TOS", "Terms and Conditions", "Apple's terms and conditions to accept"),
    ("TVHomeScreenSync", "Home screen sync", "Syncing the Apple TV home screen"),
    ("TVProviderSignIn", "TV provider", "Signing in to a TV provider"),
    ("TVRoom", "Room", "Choosing which room the Apple TV is in"),
    ("UnlockWithWatch", "Unlock with Apple Watch", "Unlocking the Mac with an Apple Watch"),
    ("UpdateCompleted", "Update completed", "The message after a software update"),
    ("Wallpaper", "Wallpaper", "Choosing a wallpaper"),
    ("WatchMigration", "Apple Watch", "Moving a paired Apple Watch to this iPhone"),
    ("WebContentFiltering", "Web content filter", "Setting up web content filtering"),
    ("Welcome", "Get Started", "The welcome screen"),
    ("Zoom", "Display zoom", "Choosing standard or larger display zoom"),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_of_apples_catalog_has_admin_words() {
        for k in crate::apple::skipkeys::all() {
            assert!(screen(k.key).is_some(), "{} has no screen name", k.key);
        }
    }

    #[test]
    fn restore_shows_anyway_on_macos_15_4() {
        let n = not_hideable("Restore");
        assert_eq!((n[0].platform, n[0].since), ("macOS", "15.4"));
        assert!(not_hideable("Siri").is_empty());
    }
}

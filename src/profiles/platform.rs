//! The platform guard: a profile is for the platforms its admin chose, and a device of another
//! family never gets it — not by an explicit assignment, a CSV (dry run included), a default,
//! nor at the enrollment gate. One function, [`guard`], answers for all of them, so the words
//! an admin reads are the same wherever the refusal shows.
//!
//! Pure (no I/O). Exposes [`platform_of_family`], [`guard`] and [`PlatformMismatch`].

use crate::apple::skipkeys::Platform;

/// The platform a device of Apple's `device_family` runs (../shared/spec/dep-api.md, Device
/// table: `iPad`, `iPhone`, `iPod`, `Mac`, `AppleTV`, `Vision`). An iPod touch runs iOS.
pub fn platform_of_family(family: &str) -> Option<Platform> {
    match family.trim() {
        "iPhone" | "iPod" => Some(Platform::Ios),
        "iPad" => Some(Platform::IpadOs),
        "Mac" => Some(Platform::MacOs),
        "AppleTV" => Some(Platform::TvOs),
        "Vision" => Some(Platform::VisionOs),
        _ => None,
    }
}

/// Why a profile may not go to a device: the device's family and platform, the profile's
/// name and platforms. Its `Display` is the sentence the admin reads, with the fix.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlatformMismatch {
    pub family: String,
    pub platform: Platform,
    pub profile: String,
    pub profile_platforms: Vec<String>,
}

impl std::fmt::Display for PlatformMismatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let device = format!("this {} runs", article_free(&self.family));
        f.write_str(&self.sentence(&device, ""))
    }
}

impl PlatformMismatch {
    /// The words when the profile is chosen as the default of a whole family.
    pub fn for_default(&self) -> String {
        let devices = format!("{} devices run", article_free(&self.family));
        self.sentence(&devices, " as their default")
    }

    fn sentence(&self, device_runs: &str, choice: &str) -> String {
        let platform = self.platform.name();
        format!(
            "{} is for {} only and {device_runs} {platform}; choose a profile for {platform}\
             {choice} or add {platform} to the profile's platforms",
            quoted(&self.profile),
            self.profile_platforms.join(", "),
        )
    }
}

fn quoted(name: &str) -> String {
    if name.is_empty() { "the profile".into() } else { format!("profile \"{name}\"") }
}

/// "AppleTV" reads as "Apple TV" in a sentence.
fn article_free(family: &str) -> &str {
    match family {
        "AppleTV" => "Apple TV",
        "Vision" => "Apple Vision device",
        "iPod" => "iPod touch",
        other => other,
    }
}

/// May the profile named `profile` with `platforms` go to a device of `family`?
///
/// A device whose family is unknown passes: Apple omits `device_family` before API version 2
/// and may add families later (dep-api.md marks the list as what it documents today), and
/// refusing those would block devices the guard knows nothing about.
pub fn guard(
    profile: &str,
    platforms: &[String],
    family: Option<&str>,
) -> Result<(), PlatformMismatch> {
    let Some(family) = family else { return Ok(()) };
    let Some(platform) = platform_of_family(family) else { return Ok(()) };
    if platforms.iter().any(|p| Platform::parse(p) == Some(platform)) {
        return Ok(());
    }
    Err(PlatformMismatch {
        family: family.trim().to_string(),
        platform,
        profile: profile.to_string(),
        profile_platforms: platforms.to_vec(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn refuses_an_ipad_only_profile_for_an_iphone_and_says_the_fix() {
        let e = guard("Shared iPad", &p(&["iPadOS"]), Some("iPhone")).unwrap_err();
        assert_eq!(e.platform, Platform::Ios);
        let words = e.to_string();
        assert!(words.contains("\"Shared iPad\" is for iPadOS only"), "{words}");
        assert!(words.contains("this iPhone runs iOS"), "{words}");
        assert!(words.contains("add iOS to the profile's platforms"), "{words}");
    }

    #[test]
    fn each_family_needs_its_own_platform() {
        let cases = [
            ("iPhone", "iOS"),
            ("iPod", "iOS"),
            ("iPad", "iPadOS"),
            ("Mac", "macOS"),
            ("AppleTV", "tvOS"),
            ("Vision", "visionOS"),
        ];
        for (family, platform) in cases {
            assert!(guard("x", &p(&[platform]), Some(family)).is_ok(), "{family}");
            let others: Vec<String> = Platform::ALL
                .iter()
                .map(|p| p.name().to_string())
                .filter(|n| n != platform)
                .collect();
            assert!(guard("x", &others, Some(family)).is_err(), "{family} with {others:?}");
        }
    }

    #[test]
    fn lets_devices_of_unknown_family_through() {
        assert!(guard("x", &p(&["macOS"]), None).is_ok());
        assert!(guard("x", &p(&["macOS"]), Some("Watch")).is_ok());
    }
}

//! Setup Assistant skip keys (`skip_setup_items` of a DEP profile): Apple's catalog as Rust
//! data, the platforms a profile can target, and the per-platform check a profile's hidden
//! screens go through (../shared/spec/dep-api.md §4.1, §4.2).
//!
//! Exposes [`SkipKey`], [`Availability`], [`Platform`], [`all`], [`find`] and [`check`].
//! Pure data and functions: no I/O, no tokio, redb, reqwest or actix. The catalog itself is in
//! `catalog.rs` (derived from Apple's `skipkeys.yaml`; the YAML is not part of the project).
//!
//! Apple silently ignores keys it does not know (dep-api.md §4.1, uncertain), so an unknown
//! key would just not hide anything: adebox refuses it instead, so a typo is caught on the form.

mod catalog;
#[cfg(test)]
mod tests;

use serde::{Deserialize, Serialize};
use std::cmp::Ordering;

/// When a pane exists on one platform. Versions are Apple's dotted strings (`"9.3.2"`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Availability {
    pub introduced: &'static str,
    pub deprecated: Option<&'static str>,
    pub removed: Option<&'static str>,
}

/// One skip key of Apple's catalog.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SkipKey {
    /// The value that goes into `skip_setup_items`.
    pub key: &'static str,
    /// Apple's title ("Skips Apple Pay setup").
    pub title: &'static str,
    /// Apple's description, whitespace collapsed.
    pub description: &'static str,
    /// iOS; iPadOS follows it (Apple's list has no separate iPadOS column).
    pub ios: Option<Availability>,
    pub macos: Option<Availability>,
    pub tvos: Option<Availability>,
    pub visionos: Option<Availability>,
    /// False when Apple says the pane may still show on some platform (e.g. `Keyboard`, shown
    /// before the device has its cloud configuration).
    pub always_skippable: bool,
    /// The screen's name on Intune's enrollment profile form, where Intune offers it.
    pub intune_name: Option<&'static str>,
}

/// What a profile is meant for; drives the skip-key checks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Platform {
    #[serde(rename = "iOS")]
    Ios,
    #[serde(rename = "iPadOS")]
    IpadOs,
    #[serde(rename = "macOS")]
    MacOs,
    #[serde(rename = "tvOS")]
    TvOs,
    #[serde(rename = "visionOS")]
    VisionOs,
}

impl Platform {
    pub const ALL: &'static [Platform] =
        &[Platform::Ios, Platform::IpadOs, Platform::MacOs, Platform::TvOs, Platform::VisionOs];

    /// Apple's spelling.
    pub fn name(self) -> &'static str {
        match self {
            Platform::Ios => "iOS",
            Platform::IpadOs => "iPadOS",
            Platform::MacOs => "macOS",
            Platform::TvOs => "tvOS",
            Platform::VisionOs => "visionOS",
        }
    }

    pub fn parse(name: &str) -> Option<Platform> {
        Platform::ALL.iter().copied().find(|p| p.name().eq_ignore_ascii_case(name.trim()))
    }
}

impl SkipKey {
    /// Availability on `platform` (`None`: the pane does not exist there).
    pub fn on(&self, platform: Platform) -> Option<Availability> {
        match platform {
            Platform::Ios | Platform::IpadOs => self.ios,
            Platform::MacOs => self.macos,
            Platform::TvOs => self.tvos,
            Platform::VisionOs => self.visionos,
        }
    }

    /// The platforms the key exists on, in the API's spelling (iPadOS is folded into iOS, as
    /// in Apple's list).
    pub fn platforms(&self) -> Vec<(&'static str, Availability)> {
        [("iOS", self.ios), ("macOS", self.macos), ("tvOS", self.tvos), ("visionOS", self.visionos)]
            .into_iter()
            .filter_map(|(n, a)| a.map(|a| (n, a)))
            .collect()
    }
}

/// Every skip key, in Apple's order.
pub fn all() -> &'static [SkipKey] {
    catalog::CATALOG
}

/// The key named exactly `key` (skip keys are case-sensitive: `iMessageAndFaceTime`).
pub fn find(key: &str) -> Option<&'static SkipKey> {
    catalog::CATALOG.iter().find(|k| k.key == key)
}

/// What is wrong with hiding a key on the chosen platforms.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Issue {
    /// Not in Apple's list at all (a typo, or a key Apple withdrew).
    Unknown { close: Option<&'static str> },
    /// The pane does not exist on any of the chosen platforms.
    NotOnPlatforms,
    /// Apple removed the key on a chosen platform (an error: hiding it does nothing there).
    Removed { platform: Platform, version: &'static str },
    /// Deprecated on a chosen platform (a warning: older devices still use it).
    Deprecated { platform: Platform, version: &'static str },
}

impl Issue {
    pub fn is_error(&self) -> bool {
        !matches!(self, Issue::Deprecated { .. })
    }

    /// Plain words for the form, naming the key.
    pub fn message(&self, key: &str) -> String {
        match self {
            Issue::Unknown { close: Some(c) } => {
                format!(
                    "\"{key}\" is not one of Apple's Setup Assistant screens; did you mean \"{c}\"?"
                )
            }
            Issue::Unknown { close: None } => format!(
                "\"{key}\" is not one of Apple's Setup Assistant screens; pick screens from the list (GET /api/v1/profiles/skip-keys)"
            ),
            Issue::NotOnPlatforms => format!(
                "the screen \"{key}\" does not exist on any platform this profile is for; remove it or add a platform it exists on"
            ),
            Issue::Removed { platform, version } => format!(
                "Apple removed the screen \"{key}\" in {} {version}; remove it from the hidden screens",
                platform.name()
            ),
            Issue::Deprecated { platform, version } => format!(
                "the screen \"{key}\" is deprecated since {} {version}: newer devices ignore it, older ones still hide it",
                platform.name()
            ),
        }
    }
}

/// Checks hiding `key` on `platforms`: unknown keys, keys on none of the platforms, and keys
/// removed (errors) or deprecated (warnings) on a chosen platform where the key exists.
pub fn check(key: &str, platforms: &[Platform]) -> Vec<Issue> {
    let Some(k) = find(key) else {
        let close =
            catalog::CATALOG.iter().find(|k| k.key.eq_ignore_ascii_case(key)).map(|k| k.key);
        return vec![Issue::Unknown { close }];
    };
    let on: Vec<(Platform, Availability)> =
        platforms.iter().filter_map(|p| k.on(*p).map(|a| (*p, a))).collect();
    if on.is_empty() {
        return vec![Issue::NotOnPlatforms];
    }
    let mut issues = Vec::new();
    for (platform, a) in on {
        if let Some(version) = a.removed {
            issues.push(Issue::Removed { platform, version });
        } else if let Some(version) = a.deprecated {
            issues.push(Issue::Deprecated { platform, version });
        }
    }
    issues.dedup_by(|a, b| match (a, b) {
        // iOS and iPadOS share a column: say it once.
        (Issue::Removed { version: v1, .. }, Issue::Removed { version: v2, .. })
        | (Issue::Deprecated { version: v1, .. }, Issue::Deprecated { version: v2, .. }) => {
            v1 == v2
        }
        _ => false,
    });
    issues
}

/// Compares Apple's dotted versions numerically (`"9.3.2" < "10.0"`); a non-numeric part
/// compares as 0.
pub fn compare_versions(a: &str, b: &str) -> Ordering {
    let parts =
        |v: &str| -> Vec<u32> { v.split('.').map(|p| p.trim().parse().unwrap_or(0)).collect() };
    let (mut x, mut y) = (parts(a), parts(b));
    let n = x.len().max(y.len());
    x.resize(n, 0);
    y.resize(n, 0);
    x.cmp(&y)
}

//! The enrollment gate: which devices may enroll, decided from facts only (pure).
//!
//! Exposes [`Gate`] (the facts about one device the decision needs), [`decide`] and
//! [`Refusal`] (the reason, as a stable code and in plain words), plus the minimum-OS check
//! ([`os_update_needed`], ../shared/spec/enrollment.md §1.5). No I/O: `enroll::handle`
//! gathers the facts from devices, tokens and profiles.

use crate::apple::machineinfo::MachineInfo;
use std::collections::BTreeMap;

/// Why a device may not enroll. The code is stable (API, events); the words are shown to the
/// admin and, best effort, to the person at the device (spec §1.4).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// The MachineInfo did not verify (bad signature, untrusted signer, not a MachineInfo).
    BadMachineInfo(String),
    /// The serial is not in the synced inventory.
    UnknownDevice,
    /// Apple removed the device from this appliance's MDM server (kept until retention).
    RemovedDevice,
    /// The device's token is not one of this appliance's tokens (any more).
    ForeignToken,
    /// Apple shows no enrollment profile for the device.
    NoProfile,
    /// The device's profile at Apple was not defined by this appliance.
    ForeignProfile,
    /// The device is too old for ACME device attestation and needs a SCEP identity, which this
    /// appliance does not issue yet.
    NeedsScep,
    /// The device's profile is not for its platform (the words of `profiles::platform::guard`):
    /// an iPhone that got an iPad-only profile would need an erase to undo.
    WrongPlatform(String),
    /// The device's profile has user affinity, but the device posted to the profile URL
    /// instead of signing in at the profile's `configuration_web_url` (the URL, spec §1.6):
    /// the profile is only served after a sign-in there.
    SignInRequired(String),
}

impl Refusal {
    pub fn code(&self) -> &'static str {
        match self {
            Refusal::BadMachineInfo(_) => "bad_machine_info",
            Refusal::UnknownDevice => "unknown_device",
            Refusal::RemovedDevice => "removed_device",
            Refusal::ForeignToken => "foreign_token",
            Refusal::NoProfile => "no_profile",
            Refusal::ForeignProfile => "foreign_profile",
            Refusal::NeedsScep => "needs_scep",
            Refusal::WrongPlatform(_) => "wrong_platform",
            Refusal::SignInRequired(_) => "sign_in_required",
        }
    }

    /// Plain words for the admin; the fix where there is one.
    pub fn words(&self) -> String {
        match self {
            Refusal::BadMachineInfo(why) => format!(
                "the device's signed MachineInfo was not accepted ({why}); only genuine Apple \
                 devices in Setup Assistant can enroll"
            ),
            Refusal::UnknownDevice => "the serial number is not in this appliance's device list; \
                 assign the device to this MDM server in Apple Business Manager and sync"
                .into(),
            Refusal::RemovedDevice => "Apple removed the device from this appliance's MDM server; \
                 assign it to this MDM server again in Apple Business Manager and sync"
                .into(),
            Refusal::ForeignToken => "the device belongs to a server token this appliance no \
                 longer holds; add the token again or assign the device to another MDM server"
                .into(),
            Refusal::NoProfile => "the device has no enrollment profile at Apple; assign a \
                 profile on the Profiles page (or set a default) and wait for Apple to push it"
                .into(),
            Refusal::ForeignProfile => "the device's enrollment profile at Apple was not made by \
                 this appliance; assign one of this appliance's profiles to it"
                .into(),
            Refusal::NeedsScep => "the device's system or hardware is too old for an attested \
                 (ACME) identity and this appliance does not issue SCEP identities yet; update the \
                 device to iOS 16 / iPadOS 16.1 / macOS 13.1 or later, or enroll it elsewhere"
                .into(),
            Refusal::WrongPlatform(why) => {
                format!("{why}; then assign the right profile to the device and try again")
            }
            Refusal::SignInRequired(web_url) => format!(
                "the device's profile has user affinity, so its user must sign in at {web_url} \
                 (the profile's configuration_web_url, which Setup Assistant opens) before the \
                 profile is served; the device posted to the profile URL without signing in"
            ),
        }
    }

    /// What the person at the device reads (short, no internals).
    pub fn device_message(&self) -> &'static str {
        match self {
            Refusal::BadMachineInfo(_) => {
                "This device could not be identified. Contact your IT department."
            }
            Refusal::SignInRequired(_) => {
                "Sign in with your organisation account to enroll this device. Restart Setup \
                 Assistant or contact your IT department."
            }
            _ => {
                "This device is not set up for enrollment with this organisation. Contact your \
                  IT department."
            }
        }
    }
}

/// What the gate knows about the device that asked.
#[derive(Clone, Debug, Default)]
pub struct Gate {
    /// `None` when the serial is not in the inventory.
    pub device: Option<DeviceFacts>,
}

#[derive(Clone, Debug)]
pub struct DeviceFacts {
    pub removed: bool,
    pub token_is_ours: bool,
    pub has_profile: bool,
    /// The profile this appliance defined that Apple shows for the device, if any.
    pub our_profile: Option<crate::ids::ProfileId>,
    /// Why that profile is not for this device's platform, if it is not.
    pub wrong_platform: Option<String>,
}

/// Decides whether the device may enroll.
pub fn decide(gate: &Gate) -> Result<(), Refusal> {
    let Some(d) = &gate.device else { return Err(Refusal::UnknownDevice) };
    if d.removed {
        return Err(Refusal::RemovedDevice);
    }
    if !d.token_is_ours {
        return Err(Refusal::ForeignToken);
    }
    if !d.has_profile {
        return Err(Refusal::NoProfile);
    }
    if d.our_profile.is_none() {
        return Err(Refusal::ForeignProfile);
    }
    if let Some(why) = &d.wrong_platform {
        return Err(Refusal::WrongPlatform(why.clone()));
    }
    Ok(())
}

/// Apple's `device_family` for a device model (`iPhone15,2` → iPhone), for devices whose
/// inventory record lacks one.
pub fn family_of(product: Option<&str>) -> Option<&'static str> {
    let p = product?;
    [("iPhone", "iPhone"), ("iPod", "iPod"), ("iPad", "iPad"), ("AppleTV", "AppleTV")]
        .into_iter()
        .chain([("Mac", "Mac"), ("iMac", "Mac"), ("VirtualMac", "Mac")])
        .find(|(prefix, _)| p.starts_with(prefix))
        .map(|(_, family)| family)
}

/// The platform name a profile's `minimum_os` uses for a device model (`iPhone15,2` → iOS).
pub fn platform_of(product: Option<&str>) -> Option<&'static str> {
    let p = product?;
    [("iPhone", "iOS"), ("iPod", "iOS"), ("iPad", "iPadOS"), ("AppleTV", "tvOS"), ("Mac", "macOS")]
        .into_iter()
        .find(|(prefix, _)| p.starts_with(prefix))
        .map(|(_, platform)| platform)
}

/// The device's OS version: `OS_VERSION` (iOS 17+), else the major derived from the build
/// train (`20x` = 16, `21x` = 17, `22x` = 18; spec §1.1 calls this heuristic uncertain for
/// future trains, so an unknown train yields `None` and the check is skipped).
pub fn os_version_of(mi: &MachineInfo) -> Option<Vec<u64>> {
    if let Some(v) = &mi.os_version {
        return parse_version(v);
    }
    let build = mi.version.as_deref()?;
    let digits: String = build.chars().take_while(|c| c.is_ascii_digit()).collect();
    let train: u64 = digits.parse().ok()?;
    (train >= 16).then(|| vec![train - 4])
}

/// A version's numbers (`17.4.1` → [17, 4, 1]); a supplemental suffix (`16.1 (a)`) is ignored.
pub fn parse_version(v: &str) -> Option<Vec<u64>> {
    let v = v.split_whitespace().next()?;
    v.split('.').map(|p| p.parse().ok()).collect()
}

/// Whether version `a` is older than `b` (missing parts count as 0).
pub fn older(a: &[u64], b: &[u64]) -> bool {
    let len = a.len().max(b.len());
    let pad = |v: &[u64]| (0..len).map(|i| v.get(i).copied().unwrap_or(0)).collect::<Vec<_>>();
    pad(a) < pad(b)
}

/// The version to send the device to (`details.OSVersion` of the software-update 403), if
/// any: only for a device that said it can update (`MDM_CAN_REQUEST_SOFTWARE_UPDATE`,
/// spec §1.5). A device older than the profile's minimum for its platform goes to the pinned
/// version, or the minimum when none is pinned; a Mac about to make a mandatory update in
/// Setup Assistant (`MANDATORY_SOFTWARE_UPDATE_REQUIRED`, macOS 26.1+) goes to the pinned
/// version when it is older than that, instead of a version it picks itself (apple-2026.md
/// §5.2). A device whose version is unknown is let through (Setup Assistant has no other way
/// to tell it).
pub fn os_update_needed(
    mi: &MachineInfo,
    minimum_os: Option<&BTreeMap<String, String>>,
    pinned_os: Option<&BTreeMap<String, String>>,
) -> Option<String> {
    if mi.mdm_can_request_software_update != Some(true) {
        return None;
    }
    let platform = platform_of(mi.product.as_deref())?;
    let have = os_version_of(mi)?;
    let pinned = pinned_os.and_then(|p| p.get(platform));
    let below = |v: &String| parse_version(v).is_some_and(|want| older(&have, &want));
    if let Some(min) = minimum_os.and_then(|m| m.get(platform))
        && below(min)
    {
        return Some(pinned.filter(|p| below(p)).unwrap_or(min).clone());
    }
    let mandatory = platform == "macOS" && mi.mandatory_software_update_required == Some(true);
    pinned.filter(|p| mandatory && below(p)).cloned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::{Serial, Udid};

    fn ours() -> DeviceFacts {
        DeviceFacts {
            removed: false,
            token_is_ours: true,
            has_profile: true,
            our_profile: Some(crate::ids::ProfileId::parse("p1").unwrap()),
            wrong_platform: None,
        }
    }

    #[test]
    fn lets_a_synced_device_with_our_profile_through() {
        assert_eq!(decide(&Gate { device: Some(ours()) }), Ok(()));
    }

    #[test]
    fn refuses_unknown_removed_foreign_and_profileless_devices() {
        assert_eq!(decide(&Gate { device: None }), Err(Refusal::UnknownDevice));
        type Change = fn(&mut DeviceFacts);
        let cases: [(Change, Refusal); 5] = [
            (|d| d.removed = true, Refusal::RemovedDevice),
            (|d| d.token_is_ours = false, Refusal::ForeignToken),
            (|d| d.has_profile = false, Refusal::NoProfile),
            (|d| d.our_profile = None, Refusal::ForeignProfile),
            (|d| d.wrong_platform = Some("x".into()), Refusal::WrongPlatform("x".into())),
        ];
        for (change, want) in cases {
            let mut d = ours();
            change(&mut d);
            let got = decide(&Gate { device: Some(d) }).unwrap_err();
            assert_eq!(got, want);
            assert!(!got.words().is_empty() && !got.code().is_empty());
        }
    }

    fn device(product: &str, os: Option<&str>, build: &str, can_update: bool) -> MachineInfo {
        let (udid, serial) = (Udid::parse("U").unwrap(), Serial::parse("S").unwrap());
        MachineInfo {
            product: Some(product.into()),
            version: Some(build.into()),
            os_version: os.map(String::from),
            mdm_can_request_software_update: Some(can_update),
            ..MachineInfo::new(udid, serial)
        }
    }

    #[test]
    fn asks_for_an_update_only_when_older_and_able_to_update() {
        let min: BTreeMap<String, String> = [("iOS".to_string(), "17.4".to_string())].into();
        let old = device("iPhone15,2", Some("17.1.2"), "21B101", true);
        assert_eq!(os_update_needed(&old, Some(&min), None), Some("17.4".into()));
        let new = device("iPhone15,2", Some("17.4"), "21E219", true);
        assert_eq!(os_update_needed(&new, Some(&min), None), None);
        let cannot = device("iPhone15,2", Some("17.1"), "21B74", false);
        assert_eq!(os_update_needed(&cannot, Some(&min), None), None);
        let ipad = device("iPad13,18", Some("17.1"), "21B74", true);
        assert_eq!(os_update_needed(&ipad, Some(&min), None), None, "the minimum is for iOS only");
        assert_eq!(os_update_needed(&old, None, None), None);
    }

    #[test]
    fn derives_the_major_version_from_the_build_train_when_os_version_is_missing() {
        let mi = device("iPhone14,5", None, "20G75", true);
        assert_eq!(os_version_of(&mi), Some(vec![16]));
        let min: BTreeMap<String, String> = [("iOS".to_string(), "17".to_string())].into();
        assert_eq!(os_update_needed(&mi, Some(&min), None), Some("17".into()));
        assert_eq!(os_version_of(&device("iPhone14,5", None, "garbage", true)), None);
    }

    fn versions(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn a_pinned_version_replaces_the_minimum_as_the_target() {
        let (min, pin) = (versions(&[("iOS", "26.0")]), versions(&[("iOS", "26.2")]));
        let old = device("iPhone15,2", Some("18.6"), "22G86", true);
        assert_eq!(os_update_needed(&old, Some(&min), Some(&pin)), Some("26.2".into()));
        // Past the minimum, an iPhone is let through even below the pin.
        let mid = device("iPhone15,2", Some("26.1"), "23B85", true);
        assert_eq!(os_update_needed(&mid, Some(&min), Some(&pin)), None);
        // A pin the device already passed is not a target: the minimum is.
        let newer = versions(&[("iOS", "18.0")]);
        assert_eq!(os_update_needed(&old, Some(&min), Some(&newer)), Some("26.0".into()));
    }

    #[test]
    fn a_mac_about_to_update_goes_to_the_pinned_version() {
        let pin = versions(&[("macOS", "26.2")]);
        let mac = |os: &str, mandatory: bool| MachineInfo {
            mandatory_software_update_required: Some(mandatory),
            ..device("Mac14,2", Some(os), "25B78", true)
        };
        assert_eq!(os_update_needed(&mac("26.1", true), None, Some(&pin)), Some("26.2".into()));
        assert_eq!(os_update_needed(&mac("26.1", false), None, Some(&pin)), None);
        assert_eq!(os_update_needed(&mac("26.2", true), None, Some(&pin)), None, "already there");
        let iphone = MachineInfo {
            mandatory_software_update_required: Some(true),
            ..device("iPhone15,2", Some("26.1"), "23B85", true)
        };
        let pin_ios = versions(&[("iOS", "26.2")]);
        assert_eq!(os_update_needed(&iphone, None, Some(&pin_ios)), None, "macOS only");
    }
}

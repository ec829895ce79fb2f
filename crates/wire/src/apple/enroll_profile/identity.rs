//! Which identity payload a device gets: ACME with attestation or SCEP
//! (../shared/spec/enrollment.md §1.7).
//!
//! Exposes [`IdentityKind`], [`Platform`], [`choose_identity`] and [`os_version`]. ACME with
//! `HardwareBound` + `Attest` needs iOS 16.0+, iPadOS 16.1+, tvOS 16.0+ or macOS 13.1+ on
//! hardware that can attest; everything else, and anything we cannot tell, gets SCEP, which
//! every device supports. Pure: decides only from the MachineInfo given.

use crate::apple::machineinfo::MachineInfo;

/// The identity payload to put in a device's profile.
#[derive(Clone, Copy, Debug, Eq, PartialEq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum IdentityKind {
    /// `com.apple.security.acme`, hardware-bound and attested.
    Acme,
    /// `com.apple.security.scep`, for older systems and hardware.
    Scep,
}

/// The operating system a MachineInfo's PRODUCT names.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub enum Platform {
    Ios,
    IpadOs,
    TvOs,
    MacOs,
    Other,
}

impl Platform {
    /// From a model identifier such as `iPhone15,2`, `iPad13,18`, `AppleTV11,1`, `Mac14,3`.
    pub fn of_product(product: &str) -> Platform {
        let p = product.trim();
        if p.starts_with("iPhone") || p.starts_with("iPod") {
            Platform::Ios
        } else if p.starts_with("iPad") {
            Platform::IpadOs
        } else if p.starts_with("AppleTV") {
            Platform::TvOs
        } else if ["Mac", "iMac", "VirtualMac"].iter().any(|m| p.starts_with(m)) {
            Platform::MacOs
        } else {
            Platform::Other
        }
    }

    /// The first version whose ACME payload supports HardwareBound + Attest (§1.7, §2.3).
    fn acme_minimum(self) -> Option<(u32, u32)> {
        match self {
            Platform::Ios | Platform::TvOs => Some((16, 0)),
            Platform::IpadOs => Some((16, 1)),
            Platform::MacOs => Some((13, 1)),
            Platform::Other => None,
        }
    }
}

/// Models whose chip (A10X Fusion or earlier) ignores `Attest` (§1.7, from Apple's ACME
/// payload notes; the model mapping is inferred, UNCERTAIN). What they answer to
/// device-attest-01 is unknown, so they get SCEP.
const NO_ATTESTATION: &[&str] = &[
    "iPad7,1",
    "iPad7,2",
    "iPad7,3",
    "iPad7,4",
    "iPad7,5",
    "iPad7,6",
    "iPad7,11",
    "iPad7,12",
    "AppleTV6,2",
];

/// Macs that can attest: Apple silicon only (§1.7). Apple silicon model identifiers start at
/// these generations (`Mac13,1` and later `MacN,M`, `MacBookAir10,1`, `MacBookPro17,1`,
/// `iMac21,1`, `Macmini9,1`) or are virtual Macs on Apple silicon. Intel Macs (hardware-bound
/// at most on T2, never attested) get SCEP.
fn mac_can_attest(product: &str) -> bool {
    let generation = |prefix: &str| -> Option<u32> {
        let rest = product.strip_prefix(prefix)?;
        let major = rest.split(',').next()?;
        major.parse().ok()
    };
    if product.starts_with("VirtualMac") {
        return true;
    }
    [("MacBookAir", 10), ("MacBookPro", 17), ("iMac", 21), ("Macmini", 9), ("Mac", 13)]
        .iter()
        .any(|(prefix, first)| generation(prefix).is_some_and(|g| g >= *first))
}

/// The OS version as (major, minor): `OS_VERSION` when sent (iOS 17+ / macOS 14+), else derived
/// from the build in `VERSION` (§1.1: `20x` = iOS 16, `21x` = 17, `22x` = 18; the build letter
/// counts minor releases on iOS; macOS builds are `22x` = 13 with 13.1 from `22C`). The build
/// mapping is a heuristic (UNCERTAIN for future trains); `None` when neither can be read.
pub fn os_version(info: &MachineInfo, platform: Platform) -> Option<(u32, u32)> {
    if let Some(v) = &info.os_version {
        let mut parts = v.trim().split(|c: char| c == '.' || c.is_whitespace());
        let major = parts.next()?.parse().ok()?;
        let minor = parts.next().and_then(|m| m.parse().ok()).unwrap_or(0);
        return Some((major, minor));
    }
    let build = info.version.as_deref()?.trim();
    let digits: String = build.chars().take_while(char::is_ascii_digit).collect();
    let train: u32 = digits.parse().ok()?;
    let letter = build[digits.len()..].chars().next().filter(char::is_ascii_uppercase)?;
    let step = letter as u32 - 'A' as u32;
    match platform {
        Platform::MacOs => {
            let major = train.checked_sub(9)?;
            // macOS 13.0 and 13.0.1 are 22A; 13.1 is 22C.
            let minor = if major == 13 { u32::from(step >= 2) } else { step };
            Some((major, minor))
        }
        _ => Some((train.checked_sub(4)?, step)),
    }
}

/// ACME for devices that can attest on a new enough system, SCEP otherwise (§1.7).
pub fn choose_identity(info: &MachineInfo) -> IdentityKind {
    let product = info.product.as_deref().unwrap_or("").trim();
    let platform = Platform::of_product(product);
    let Some(minimum) = platform.acme_minimum() else { return IdentityKind::Scep };
    if NO_ATTESTATION.contains(&product) {
        return IdentityKind::Scep;
    }
    if platform == Platform::MacOs && !mac_can_attest(product) {
        return IdentityKind::Scep;
    }
    match os_version(info, platform) {
        Some(v) if v >= minimum => IdentityKind::Acme,
        _ => IdentityKind::Scep,
    }
}

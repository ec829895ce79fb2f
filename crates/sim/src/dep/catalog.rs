//! The simulated device catalogue: realistic models, families, OS names, colours,
//! descriptions, serial numbers and hardware identifiers.
//!
//! Exposes [`Model`] entries (indexed by a `u16` so a simulated device stays small), a
//! weighted pick of a model, serial generation, and hardware identifiers derived from a per-
//! device 64-bit seed (so 200,000 devices do not each store MAC addresses and IMEIs). The
//! shapes follow the real bodies in `../shared/fixtures/dep-api-json/` (description like
//! `IPHONE 14 MIDNIGHT 128GB-ZDD`, IMEI `01 129600 314225 1`, 32-digit EID). Pure.

use crate::rng::{SimRng, mix};

/// Apple's `device_family` values (dep-api.md §3.2 Device table).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Family {
    IPhone,
    IPad,
    IPod,
    Mac,
    AppleTv,
    Vision,
}

impl Family {
    pub fn as_str(self) -> &'static str {
        match self {
            Family::IPhone => "iPhone",
            Family::IPad => "iPad",
            Family::IPod => "iPod",
            Family::Mac => "Mac",
            Family::AppleTv => "AppleTV",
            Family::Vision => "Vision",
        }
    }

    /// The `os` value at a protocol version: iPads say `iPadOS` only from version 7
    /// (dep-api.md §2.4).
    pub fn os(self, protocol: u32) -> &'static str {
        match self {
            Family::IPad if protocol >= 7 => "iPadOS",
            Family::IPhone | Family::IPad | Family::IPod => "iOS",
            Family::Mac => "OSX",
            Family::AppleTv => "tvOS",
            Family::Vision => "visionOS",
        }
    }
}

/// One sellable model.
#[derive(Debug)]
pub struct Model {
    pub name: &'static str,
    pub family: Family,
    /// Upper-case marketing prefix of `description`.
    pub marketing: &'static str,
    pub colors: &'static [&'static str],
    pub capacities_gb: &'static [u16],
    /// 12 for pre-2021 serials, 10 for the randomised ones.
    pub serial_len: usize,
    pub cellular: bool,
    pub ethernet: bool,
    /// Relative share in a generated fleet.
    pub weight: u32,
}

const PHONE_COLORS: &[&str] = &["MIDNIGHT", "STARLIGHT", "BLUE", "PURPLE", "(PRODUCT)RED"];
const PAD_COLORS: &[&str] = &["SPACE GRAY", "SILVER", "STARLIGHT", "PINK"];
const MAC_COLORS: &[&str] = &["MIDNIGHT", "SPACE GRAY", "SILVER", "STARLIGHT"];

#[rustfmt::skip]
pub const MODELS: &[Model] = &[
    Model { name: "iPhone 14", family: Family::IPhone, marketing: "IPHONE 14", colors: PHONE_COLORS, capacities_gb: &[128, 256, 512], serial_len: 10, cellular: true, ethernet: false, weight: 14 },
    Model { name: "iPhone 15", family: Family::IPhone, marketing: "IPHONE 15", colors: &["BLACK", "BLUE", "GREEN", "YELLOW", "PINK"], capacities_gb: &[128, 256], serial_len: 10, cellular: true, ethernet: false, weight: 16 },
    Model { name: "iPhone 16 Pro", family: Family::IPhone, marketing: "IPHONE 16 PRO", colors: &["BLACK TITANIUM", "WHITE TITANIUM", "DESERT TITANIUM"], capacities_gb: &[128, 256, 512], serial_len: 10, cellular: true, ethernet: false, weight: 8 },
    Model { name: "iPhone SE (3rd generation)", family: Family::IPhone, marketing: "IPHONE SE 3RD GEN", colors: &["MIDNIGHT", "STARLIGHT", "(PRODUCT)RED"], capacities_gb: &[64, 128], serial_len: 10, cellular: true, ethernet: false, weight: 5 },
    Model { name: "iPhone X", family: Family::IPhone, marketing: "IPHONE X", colors: &["SPACE GRAY", "SILVER"], capacities_gb: &[64, 256], serial_len: 12, cellular: true, ethernet: false, weight: 2 },
    Model { name: "iPad (9th generation)", family: Family::IPad, marketing: "IPAD 9TH GEN WI-FI", colors: &["SPACE GRAY", "SILVER"], capacities_gb: &[64, 256], serial_len: 10, cellular: false, ethernet: false, weight: 14 },
    Model { name: "iPad Air (5th generation)", family: Family::IPad, marketing: "IPAD AIR 5TH GEN WI-FI + CELLULAR", colors: PAD_COLORS, capacities_gb: &[64, 256], serial_len: 10, cellular: true, ethernet: false, weight: 7 },
    Model { name: "iPad mini 4", family: Family::IPad, marketing: "IPAD MINI 4 WI-FI", colors: &["SPACE GRAY", "SILVER", "GOLD"], capacities_gb: &[16, 32, 128], serial_len: 12, cellular: false, ethernet: false, weight: 3 },
    Model { name: "iPad Pro 11-inch (M4)", family: Family::IPad, marketing: "IPAD PRO 11 M4 WI-FI", colors: &["SPACE BLACK", "SILVER"], capacities_gb: &[256, 512, 1024], serial_len: 10, cellular: false, ethernet: false, weight: 4 },
    Model { name: "iPod touch (7th generation)", family: Family::IPod, marketing: "IPOD TOUCH 7TH GEN", colors: &["SPACE GRAY", "SILVER", "BLUE"], capacities_gb: &[32, 128], serial_len: 12, cellular: false, ethernet: false, weight: 2 },
    Model { name: "MacBook Air (M2, 2022)", family: Family::Mac, marketing: "MACBOOK AIR 13 M2", colors: MAC_COLORS, capacities_gb: &[256, 512], serial_len: 10, cellular: false, ethernet: false, weight: 10 },
    Model { name: "MacBook Pro (14-inch, M3, 2023)", family: Family::Mac, marketing: "MACBOOK PRO 14 M3", colors: &["SPACE GRAY", "SILVER"], capacities_gb: &[512, 1024], serial_len: 10, cellular: false, ethernet: false, weight: 5 },
    Model { name: "Mac mini (2023)", family: Family::Mac, marketing: "MAC MINI M2", colors: &["SILVER"], capacities_gb: &[256, 512], serial_len: 10, cellular: false, ethernet: true, weight: 3 },
    Model { name: "Apple TV 4K (3rd generation)", family: Family::AppleTv, marketing: "APPLE TV 4K WI-FI + ETHERNET", colors: &["BLACK"], capacities_gb: &[128], serial_len: 10, cellular: false, ethernet: true, weight: 4 },
    Model { name: "Apple Vision Pro", family: Family::Vision, marketing: "APPLE VISION PRO", colors: &["SILVER"], capacities_gb: &[256, 512], serial_len: 10, cellular: false, ethernet: false, weight: 1 },
];

/// Characters Apple uses in serials (no vowels that read as digits, like `O` and `I`).
const SERIAL_CHARS: &[u8] = b"0123456789BCDFGHJKLMNPQRTVWXYZ";
/// Sales-region suffixes seen in descriptions (`…-ZDD`, `…-FRD`).
const REGIONS: &[&str] = &["ZDD", "FRD", "LLA", "ZPA", "B/A", "ZML"];

/// Picks a model index by weight.
pub fn pick_model(rng: &mut SimRng) -> u16 {
    let total: u32 = MODELS.iter().map(|m| m.weight).sum();
    let mut n = rng.below(u64::from(total)) as u32;
    for (i, m) in MODELS.iter().enumerate() {
        if n < m.weight {
            return i as u16;
        }
        n -= m.weight;
    }
    0
}

/// The model at `index`; out-of-range falls back to the first entry (indices only come from
/// [`pick_model`], so that never happens in practice).
pub fn model(index: u16) -> &'static Model {
    MODELS.get(usize::from(index)).unwrap_or(&MODELS[0])
}

/// A random serial of the model's length.
pub fn serial(rng: &mut SimRng, len: usize) -> String {
    (0..len)
        .map(|_| char::from(SERIAL_CHARS[rng.below(SERIAL_CHARS.len() as u64) as usize]))
        .collect()
}

/// Colour of a device with hardware seed `hw`.
pub fn color(model: &Model, hw: u64) -> &'static str {
    model.colors[(mix(hw ^ 1) % model.colors.len() as u64) as usize]
}

/// `description`, e.g. `IPHONE 14 MIDNIGHT 128GB-ZDD`.
pub fn description(model: &Model, hw: u64) -> String {
    let cap = model.capacities_gb[(mix(hw ^ 2) % model.capacities_gb.len() as u64) as usize];
    let cap = if cap >= 1024 { format!("{}TB", cap / 1024) } else { format!("{cap}GB") };
    let region = REGIONS[(mix(hw ^ 3) % REGIONS.len() as u64) as usize];
    format!("{} {} {}-{}", model.marketing, color(model, hw), cap, region)
}

/// The asset tag of a device that has one, e.g. `ASSET-004217`.
pub fn asset_tag(hw: u64) -> String {
    format!("ASSET-{:06}", mix(hw ^ 4) % 1_000_000)
}

/// Protocol-10 hardware identifiers of one device (dep-api.md §2.4).
#[derive(Debug, Clone, PartialEq)]
pub struct Hardware {
    pub wifi_mac: String,
    pub bluetooth_mac: String,
    pub ethernet_mac: Option<String>,
    pub imei: Vec<String>,
    pub meid: Vec<String>,
    pub eid: Option<String>,
}

/// Derives the identifiers from `hw`, so they are stable for a device without being stored.
pub fn hardware(model: &Model, hw: u64) -> Hardware {
    let mac = |salt: u64| {
        let b = mix(hw ^ salt).to_be_bytes();
        // Apple OUI 3C:15:C2, device part from the seed.
        format!("3C:15:C2:{:02X}:{:02X}:{:02X}", b[0], b[1], b[2])
    };
    let digits = |salt: u64, n: usize| {
        let mut v = mix(hw ^ salt);
        let mut s = String::with_capacity(n);
        for i in 0..n {
            if i % 16 == 15 {
                v = mix(v);
            }
            s.push(char::from(b'0' + (v % 10) as u8));
            v /= 10;
        }
        s
    };
    let (imei, meid, eid) = if model.cellular {
        let d = digits(0x11, 14);
        let imei = format!("35 {} {} {}", &d[0..6], &d[6..12], &d[12..13]);
        (
            vec![imei],
            vec![format!("35{}", &digits(0x12, 12))],
            Some(format!("8904903200{}", digits(0x13, 22))),
        )
    } else {
        (Vec::new(), Vec::new(), None)
    };
    Hardware {
        wifi_mac: mac(0x21),
        bluetooth_mac: mac(0x22),
        ethernet_mac: model.ethernet.then(|| mac(0x23)),
        imei,
        meid,
        eid,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_generated_fleet_covers_every_family() {
        let mut rng = SimRng::new(9);
        let mut seen = std::collections::HashSet::new();
        for _ in 0..2000 {
            seen.insert(model(pick_model(&mut rng)).family.as_str());
        }
        assert_eq!(seen.len(), 6, "{seen:?}");
    }

    #[test]
    fn ipads_say_ipados_only_from_protocol_7() {
        assert_eq!(Family::IPad.os(6), "iOS");
        assert_eq!(Family::IPad.os(7), "iPadOS");
        assert_eq!(Family::IPhone.os(10), "iOS");
        assert_eq!(Family::Mac.os(10), "OSX");
    }

    #[test]
    fn descriptions_and_hardware_look_like_apples() {
        let m = &MODELS[0];
        let d = description(m, 5);
        assert!(d.starts_with("IPHONE 14 ") && d.contains("GB-"), "{d}");
        let hw = hardware(m, 5);
        assert_eq!(hw.imei[0].len(), "01 129600 314225 1".len());
        assert_eq!(hw.eid.as_ref().unwrap().len(), 32);
        assert_eq!(hw.wifi_mac.len(), 17);
        assert_eq!(hardware(m, 5), hw, "derived identifiers are stable");
        let wifi_only = MODELS.iter().find(|m| !m.cellular).unwrap();
        assert!(hardware(wifi_only, 5).imei.is_empty());
    }

    #[test]
    fn serials_use_apple_characters_and_length() {
        let mut rng = SimRng::new(1);
        let s = serial(&mut rng, 12);
        assert_eq!(s.len(), 12);
        assert!(s.bytes().all(|b| SERIAL_CHARS.contains(&b)));
    }
}

//! Return to Service on the wire (`../shared/spec/apple-2026.md` §2): which devices take it,
//! the `ReturnToService` dictionary of `EraseDevice` (§2.2, Apple's `device.erase.yaml`) and
//! the answer to the `ReturnToService` check-in (§2.4, `returntoservice.yaml`), which carries
//! the same dictionary.

use crate::apple::enroll_profile::Platform;
use plist::{Dictionary, Value};

/// What a Return to Service erase hands the device. The bytes are secrets (a Wi-Fi password,
/// the bootstrap token): Debug shows only which are present.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct ReturnToService {
    /// A `.mobileconfig` with a `com.apple.wifi.managed` payload, as uploaded.
    pub wifi_profile: Option<Vec<u8>>,
    /// The full enrollment profile the device installs after the erase.
    pub mdm_profile: Option<Vec<u8>>,
    /// The token the device escrowed, only where the OS uses it ([`uses_bootstrap_token`]).
    pub bootstrap_token: Option<Vec<u8>>,
    /// `ShouldRetryEnrollment`: the device retries a failed first enrollment after the erase,
    /// backing off up to 5 minutes (§2.2, §2.6); only where the OS knows the key
    /// ([`retries_enrollment`]).
    pub should_retry_enrollment: bool,
}

impl std::fmt::Debug for ReturnToService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReturnToService")
            .field("wifi_profile", &self.wifi_profile.is_some())
            .field("mdm_profile", &self.mdm_profile.is_some())
            .field("bootstrap_token", &self.bootstrap_token.is_some())
            .field("should_retry_enrollment", &self.should_retry_enrollment)
            .finish()
    }
}

/// The systems Return to Service exists on (§2.1, §2.2; Apple's `device.erase.yaml`): iOS and
/// iPadOS 17+, tvOS 18+, visionOS 26+. `Err` names why this device cannot take it.
pub fn allowed(product: Option<&str>, os_version: Option<&str>) -> Result<(), String> {
    let Some(product) = product else {
        return Err("the device has not said what it is (no ProductName yet); \
                    refresh its information and try again"
            .into());
    };
    let major = major(os_version);
    let (name, min) = match Platform::of_product(product) {
        Platform::Ios => ("iOS", 17),
        Platform::IpadOs => ("iPadOS", 17),
        Platform::TvOs => ("tvOS", 18),
        _ if is_vision(product) => ("visionOS", 26),
        Platform::MacOs => {
            return Err("Return to Service is for iPhone, iPad, Apple TV and Apple Vision Pro; \
                        erase a Mac with the ordinary erase"
                .into());
        }
        Platform::Other => {
            return Err(format!("Return to Service is not available on {product}"));
        }
    };
    match major {
        Some(m) if m >= min => Ok(()),
        Some(_) | None => Err(format!(
            "Return to Service needs {name} {min} or later; this device runs {}",
            os_version.unwrap_or("an unknown version")
        )),
    }
}

/// Whether the OS uses the bootstrap token in Return to Service (§2.2, §3.4: app
/// preservation on iOS, iPadOS and visionOS 26 and later). Elsewhere it is not sent.
pub fn uses_bootstrap_token(product: Option<&str>, os_version: Option<&str>) -> bool {
    let Some(product) = product else { return false };
    let mobile = matches!(Platform::of_product(product), Platform::Ios | Platform::IpadOs);
    (mobile || is_vision(product)) && major(os_version).is_some_and(|m| m >= 26)
}

/// Whether the OS takes `ShouldRetryEnrollment` (§2.2: new in 27.0; Apple's
/// `device.erase.yaml` and `returntoservice.yaml` name iOS 27.0, which covers iPadOS, and mark
/// tvOS and visionOS n/a). An unattended device that fails its first enrollment after the
/// erase, say while the network comes up, tries again instead of stopping in Setup Assistant,
/// so it is sent wherever it is known.
pub fn retries_enrollment(product: Option<&str>, os_version: Option<&str>) -> bool {
    let Some(product) = product else { return false };
    let mobile = matches!(Platform::of_product(product), Platform::Ios | Platform::IpadOs);
    mobile && major(os_version).is_some_and(|m| m >= 27)
}

fn is_vision(product: &str) -> bool {
    product.trim().starts_with("RealityDevice")
}

fn major(os_version: Option<&str>) -> Option<u32> {
    os_version?.split('.').next()?.trim().parse().ok()
}

impl ReturnToService {
    /// The `ReturnToService` dictionary: `Enabled` and the data that is present.
    pub fn dictionary(&self) -> Dictionary {
        let mut d = Dictionary::new();
        d.insert("Enabled".into(), true.into());
        let data = [
            ("WiFiProfileData", &self.wifi_profile),
            ("MDMProfileData", &self.mdm_profile),
            ("BootstrapToken", &self.bootstrap_token),
        ];
        for (key, value) in data {
            if let Some(bytes) = value {
                d.insert(key.into(), Value::Data(bytes.clone()));
            }
        }
        if self.should_retry_enrollment {
            d.insert("ShouldRetryEnrollment".into(), true.into());
        }
        d
    }

    /// The answer to a `ReturnToService` check-in (§2.4): `{ReturnToService: {…}}`, XML.
    pub fn check_in_response(&self) -> Vec<u8> {
        let mut top = Dictionary::new();
        top.insert("ReturnToService".into(), Value::Dictionary(self.dictionary()));
        let mut out = Vec::new();
        Value::Dictionary(top)
            .to_writer_xml(&mut out)
            .expect("writing a plist into a Vec cannot fail");
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_systems_apple_names_take_return_to_service() {
        assert!(allowed(Some("iPhone15,2"), Some("17.5")).is_ok());
        assert!(allowed(Some("iPad13,18"), Some("26.1")).is_ok());
        assert!(allowed(Some("AppleTV14,1"), Some("18.0")).is_ok());
        assert!(allowed(Some("RealityDevice14,1"), Some("26.0")).is_ok());
        assert!(allowed(Some("RealityDevice14,1"), Some("2.0")).is_err());
        let old = allowed(Some("iPhone12,1"), Some("16.7")).unwrap_err();
        assert!(old.contains("iOS 17"), "{old}");
        let mac = allowed(Some("Mac14,3"), Some("26.0")).unwrap_err();
        assert!(mac.contains("Mac"), "{mac}");
        assert!(allowed(None, Some("17.5")).is_err());
    }

    #[test]
    fn the_bootstrap_token_goes_only_to_systems_that_use_it() {
        assert!(uses_bootstrap_token(Some("iPhone15,2"), Some("26.0")));
        assert!(uses_bootstrap_token(Some("RealityDevice14,1"), Some("26.1")));
        assert!(!uses_bootstrap_token(Some("iPhone15,2"), Some("18.1")));
        assert!(!uses_bootstrap_token(Some("AppleTV14,1"), Some("26.0")));
        assert!(!uses_bootstrap_token(None, Some("26.0")));
    }

    #[test]
    fn only_ios_and_ipados_27_retry_enrollment() {
        assert!(retries_enrollment(Some("iPhone17,1"), Some("27.0")));
        assert!(retries_enrollment(Some("iPad16,3"), Some("27.1")));
        assert!(!retries_enrollment(Some("iPhone17,1"), Some("26.4")));
        assert!(!retries_enrollment(Some("RealityDevice14,1"), Some("27.0")));
        assert!(!retries_enrollment(Some("AppleTV14,1"), Some("27.0")));
        assert!(!retries_enrollment(None, Some("27.0")));
        let rts = ReturnToService { should_retry_enrollment: true, ..Default::default() };
        let d = rts.dictionary();
        assert_eq!(d.get("ShouldRetryEnrollment").and_then(Value::as_boolean), Some(true));
        let d = ReturnToService::default().dictionary();
        assert!(d.get("ShouldRetryEnrollment").is_none(), "left out, not false");
    }

    #[test]
    fn the_dictionary_carries_enabled_and_only_the_data_given() {
        let rts = ReturnToService { mdm_profile: Some(b"p".to_vec()), ..Default::default() };
        let d = rts.dictionary();
        assert_eq!(d.get("Enabled").and_then(Value::as_boolean), Some(true));
        assert_eq!(d.get("MDMProfileData").and_then(Value::as_data), Some(&b"p"[..]));
        assert!(d.get("WiFiProfileData").is_none() && d.get("BootstrapToken").is_none());
        assert!(!format!("{rts:?}").contains("112"), "Debug shows no bytes");
    }
}

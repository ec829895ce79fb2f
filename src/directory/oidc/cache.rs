//! The provider's discovery document and JWKS, kept for [`DISCOVERY_TTL`] so a sign-in click
//! does not fetch both from the provider each time. One entry (the appliance has one
//! provider), keyed by what the fetch depended on (issuer and trusted CA): saving or removing
//! the settings forgets it, and an ID token signed with a key the kept JWKS lacks (the
//! provider rotated its keys) makes the caller fetch again ([`super::provider::finish`]).
//! Dated by the directory's clock, so a test moves time instead of waiting.

use super::OidcSettings;
use openidconnect::core::CoreProviderMetadata;
use std::sync::Mutex;
use time::{Duration, OffsetDateTime};

/// How long a discovery document and its JWKS are used before they are fetched again.
pub const DISCOVERY_TTL: Duration = Duration::minutes(15);

#[derive(Default)]
pub struct DiscoveryCache {
    kept: Mutex<Option<Kept>>,
}

struct Kept {
    key: String,
    fetched_at: OffsetDateTime,
    metadata: CoreProviderMetadata,
}

/// What a fetched document depends on.
fn key_of(settings: &OidcSettings) -> String {
    format!("{}\n{}", settings.issuer, settings.ca_pem.as_deref().unwrap_or_default())
}

impl DiscoveryCache {
    /// The kept document for `settings`, unless it is older than [`DISCOVERY_TTL`] at `now`.
    pub fn get(
        &self,
        settings: &OidcSettings,
        now: OffsetDateTime,
    ) -> Option<CoreProviderMetadata> {
        let kept = self.kept.lock().unwrap_or_else(|e| e.into_inner());
        kept.as_ref()
            .filter(|k| k.key == key_of(settings))
            .filter(|k| now >= k.fetched_at && now - k.fetched_at < DISCOVERY_TTL)
            .map(|k| k.metadata.clone())
    }

    /// Keeps `metadata`, fetched at `now` for `settings`.
    pub fn put(
        &self,
        settings: &OidcSettings,
        now: OffsetDateTime,
        metadata: &CoreProviderMetadata,
    ) {
        let kept = Kept { key: key_of(settings), fetched_at: now, metadata: metadata.clone() };
        *self.kept.lock().unwrap_or_else(|e| e.into_inner()) = Some(kept);
    }

    /// Forgets the kept document (the settings changed).
    pub fn forget(&self) {
        *self.kept.lock().unwrap_or_else(|e| e.into_inner()) = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: OffsetDateTime = time::macros::datetime!(2026-12-01 09:00 UTC);

    fn settings(issuer: &str) -> OidcSettings {
        super::super::NewOidcSettings {
            issuer: issuer.into(),
            client_id: "adebox".into(),
            ..Default::default()
        }
        .check()
        .unwrap()
    }

    fn document(issuer: &str) -> CoreProviderMetadata {
        serde_json::from_value(serde_json::json!({
            "issuer": issuer,
            "authorization_endpoint": format!("{issuer}/auth"),
            "jwks_uri": format!("{issuer}/jwks"),
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
        }))
        .unwrap()
    }

    #[test]
    fn a_document_is_kept_for_its_issuer_until_the_ttl_or_a_change() {
        let cache = DiscoveryCache::default();
        let (a, b) = (settings("https://id.example.org"), settings("https://other.example.org"));
        assert!(cache.get(&a, T0).is_none(), "nothing kept yet");
        cache.put(&a, T0, &document("https://id.example.org"));
        let kept = cache.get(&a, T0 + Duration::minutes(14)).expect("kept within the TTL");
        assert_eq!(kept.issuer().as_str(), "https://id.example.org");
        assert!(cache.get(&a, T0 + DISCOVERY_TTL).is_none(), "fetched again after the TTL");
        assert!(cache.get(&a, T0 - Duration::seconds(1)).is_none(), "a clock set back refetches");
        assert!(cache.get(&b, T0).is_none(), "another issuer is never served this one");
        let mut other_ca = a.clone();
        other_ca.ca_pem = Some("-----BEGIN CERTIFICATE-----".into());
        assert!(cache.get(&other_ca, T0).is_none(), "another trusted CA fetches again");
        cache.forget();
        assert!(cache.get(&a, T0).is_none(), "a settings change forgets it");
    }
}

//! The profiles' `anchor_certs` follow the appliance's server certificate: the appliance CA
//! while it serves its own certificate, none for a publicly trusted one (pinning a public
//! CA's rotating intermediates would break enrollment). The certificates are read live at
//! each definition ([`Anchors`]), and the set Apple last received is recorded in
//! `profiles.anchors`, so a switch (on the page, by the ACME CA, or across a restart) redefines
//! every profile exactly once, and a crash in between is caught up at the next start.

use super::records::{ANCHORS, PROFILES, ProfileRecord};
use super::{ProfileError, Profiles};
use crate::store;
use base64ct::{Base64, Encoding};
use redb::{ReadableTable, WriteTransaction};
use std::sync::Arc;

/// The key of the anchors Apple last received with the profiles, in [`ANCHORS`].
const DEFINED_WITH: &[u8] = b"defined_with";

/// Where the profile's `anchor_certs` come from (DER certificates), read at each definition.
#[derive(Clone)]
pub struct Anchors(Arc<dyn Fn() -> Vec<Vec<u8>> + Send + Sync>);

impl Anchors {
    /// Read from `source` each time (the daemon: the TLS certificate in use).
    pub fn live(source: impl Fn() -> Vec<Vec<u8>> + Send + Sync + 'static) -> Anchors {
        Anchors(Arc::new(source))
    }

    /// Always these certificates.
    pub fn fixed(certs: Vec<Vec<u8>>) -> Anchors {
        Anchors::live(move || certs.clone())
    }

    /// The certificates now, base64 as Apple's `anchor_certs` wants them.
    pub fn base64(&self) -> Vec<String> {
        (self.0)().iter().map(|der| Base64::encode_string(der)).collect()
    }

    /// The certificates now, DER.
    pub fn der(&self) -> Vec<Vec<u8>> {
        (self.0)()
    }
}

impl Default for Anchors {
    fn default() -> Anchors {
        Anchors::fixed(vec![])
    }
}

impl std::fmt::Debug for Anchors {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Anchors").field(&self.base64().len()).finish()
    }
}

impl Profiles {
    /// The certificates a device is to trust the appliance's server through, DER: what the
    /// profiles' `anchor_certs` carry now, and the enrollment profile's root payload.
    pub fn anchor_certs(&self) -> Vec<Vec<u8>> {
        self.inner.endpoints.anchors.der()
    }

    /// Whether the profiles Apple last received pin a CA (`anchor_certs` not empty); true
    /// when nothing is recorded yet (earlier versions always sent the appliance CA).
    pub async fn apple_pins_a_ca(&self) -> Result<bool, ProfileError> {
        let sent: Option<Vec<String>> = self
            .inner
            .store
            .read(|rtx| store::get(&rtx.open_table(ANCHORS)?, DEFINED_WITH))
            .await?;
        Ok(sent.is_none_or(|s| !s.is_empty()))
    }

    /// Redefines every profile at Apple when the anchors changed since they were last
    /// defined; `unrecorded` is what was sent before this was recorded (the appliance CA:
    /// earlier versions always sent it). Returns how many profiles it redefined.
    pub async fn follow_anchors(&self, unrecorded: Vec<Vec<u8>>) -> Result<usize, ProfileError> {
        let now = self.inner.endpoints.anchors.base64();
        let before: Vec<String> = unrecorded.iter().map(|d| Base64::encode_string(d)).collect();
        let changed = self
            .inner
            .store
            .write(move |wtx| {
                let mut t = wtx.open_table(ANCHORS)?;
                let sent: Vec<String> = store::get(&t, DEFINED_WITH)?.unwrap_or(before);
                if sent == now {
                    return Ok::<_, ProfileError>(0);
                }
                store::put(&mut t, DEFINED_WITH, &now)?;
                drop(t);
                redefine_all_in(wtx)
            })
            .await?;
        if changed > 0 {
            self.inner.changed.notify_one();
        }
        Ok(changed)
    }
}

/// Marks every profile for definition anew at every token (the old uuids kept, so devices
/// holding them follow the new definition); returns how many profiles there are.
pub(super) fn redefine_all_in(wtx: &WriteTransaction) -> Result<usize, ProfileError> {
    let records: Vec<ProfileRecord> = {
        let t = wtx.open_table(PROFILES)?;
        let mut v = Vec::new();
        for row in t.iter()? {
            let (_, val) = row?;
            v.push(store::decode::<ProfileRecord>("profiles.by_id", val.value())?);
        }
        v
    };
    let mut t = wtx.open_table(PROFILES)?;
    let count = records.len();
    for mut r in records {
        for d in r.tokens.values_mut() {
            if let Some(u) = d.profile_uuid.take() {
                d.old_uuids.push(u);
            }
            d.revision = 0;
            d.error = None;
            d.next_try_at = None;
        }
        store::put(&mut t, r.id.as_bytes(), &r)?;
    }
    Ok(count)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn live_anchors_are_read_each_time() {
        let flag = Arc::new(std::sync::atomic::AtomicBool::new(true));
        let f = flag.clone();
        let a = Anchors::live(move || {
            if f.load(std::sync::atomic::Ordering::SeqCst) { vec![vec![1, 2, 3]] } else { vec![] }
        });
        assert_eq!(a.base64(), vec!["AQID".to_string()]);
        flag.store(false, std::sync::atomic::Ordering::SeqCst);
        assert!(a.base64().is_empty());
        assert!(Anchors::default().base64().is_empty());
    }
}

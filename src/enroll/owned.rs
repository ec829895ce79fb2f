//! Which Apple profile uuids this appliance defined, per token: the gate's "profile is ours"
//! check and the profile's minimum OS.
//!
//! Built from `profiles::Profiles::list` and cached briefly, since a device posts once per
//! enrollment and the list walks every profile. Only each profile's current uuid is known
//! through that API, so a device still holding the uuid of an older revision (while the new
//! one is being defined at Apple) reads as "not ours" until Apple shows the new uuid.

use crate::clock::Clock;
use crate::profiles::Profiles;
use std::collections::{BTreeMap, HashMap};
use time::{Duration, OffsetDateTime};
use tokio::sync::Mutex;

/// How long the list is reused.
const FRESH_FOR: Duration = Duration::seconds(10);

#[derive(Clone, Debug)]
pub struct OwnedProfile {
    pub profile_id: String,
    pub minimum_os: Option<BTreeMap<String, String>>,
}

/// (token id, upper-case profile uuid) → the appliance profile.
type ByUuid = HashMap<(String, String), OwnedProfile>;

pub struct OwnedProfiles {
    profiles: Profiles,
    clock: Clock,
    cache: Mutex<Option<(OffsetDateTime, ByUuid)>>,
}

impl OwnedProfiles {
    pub fn new(profiles: Profiles, clock: Clock) -> OwnedProfiles {
        OwnedProfiles { profiles, clock, cache: Mutex::new(None) }
    }

    /// The appliance profile that `token` defined at Apple as `uuid`, if any.
    pub async fn lookup(&self, token: &str, uuid: &str) -> Option<OwnedProfile> {
        let now = self.clock.now();
        let mut cache = self.cache.lock().await;
        let stale = cache.as_ref().is_none_or(|(at, _)| now - *at > FRESH_FOR || *at > now);
        if stale {
            match self.profiles.list().await {
                Ok(list) => {
                    let mut map = HashMap::new();
                    for p in list {
                        for t in &p.tokens {
                            if let Some(u) = &t.profile_uuid {
                                map.insert(
                                    (t.token_id.clone(), u.to_ascii_uppercase()),
                                    OwnedProfile {
                                        profile_id: p.id.clone(),
                                        minimum_os: p.input.minimum_os.clone(),
                                    },
                                );
                            }
                        }
                    }
                    *cache = Some((now, map));
                }
                Err(e) => log::error!("enrollment gate: cannot read the profiles: {e}"),
            }
        }
        cache
            .as_ref()
            .and_then(|(_, map)| map.get(&(token.to_string(), uuid.to_ascii_uppercase())).cloned())
    }
}

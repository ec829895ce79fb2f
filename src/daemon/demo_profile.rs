//! The sandbox's demo profiles are found by name or created, and made the default of their
//! family at the demo token unless that family already has one. A leaf, so the sandbox and
//! its sign-in demo share it without importing each other.

use super::Running;
use crate::audit::Actor;

/// A demo profile, made from `definition` only if no profile has its name, and made the demo
/// token's default for `family` (every family when `None`) only if that default is not set:
/// what an admin changed in the sandbox is kept across restarts. Devices an earlier run
/// already synced get it at the profile worker's next round.
pub(super) async fn ensure_demo_profile(
    running: &Running,
    token_id: &crate::ids::TokenId,
    definition: serde_json::Value,
    family: Option<&str>,
) -> anyhow::Result<crate::ids::ProfileId> {
    let name = definition["name"].as_str().unwrap_or_default().to_string();
    let profiles = running.services.profiles.list().await?;
    let id = match profiles.iter().find(|p| p.input.name == name) {
        Some(p) => p.id.clone(),
        None => running.services.profiles.create(Actor::System, definition).await?.id,
    };
    let defaults = running.services.profiles.defaults().await?;
    if !defaults.iter().any(|d| d.token_id == *token_id && d.family.as_deref() == family) {
        let family = family.map(str::to_string);
        running
            .services
            .profiles
            .set_default(Actor::System, token_id, family, Some(id.clone()))
            .await?;
    }
    Ok(id)
}

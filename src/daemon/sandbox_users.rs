//! The sandbox's user-affinity demo: two local sign-in accounts (fresh passwords at every
//! start, printed with the other sandbox credentials), a profile with user affinity signing
//! its users in with them, made the demo server's default for its iPads so some demo devices
//! get it, and the sandbox's device fleet signing in as the first account on the web page.
//! Everything goes through the product's real paths (the directory and profile services).

use super::Running;
use crate::audit::Actor;
use crate::crypto::Secret;
use crate::directory::NewLocalUser;
use serde::Serialize;

pub const AFFINITY_PROFILE: &str = "Sandbox user affinity profile";
/// The device family whose demo devices get [`AFFINITY_PROFILE`] (the others keep the demo
/// profile).
const AFFINITY_FAMILY: &str = "iPad";

/// (username, display name, e-mail, group) of the demo accounts.
const DEMO_USERS: [(&str, &str, &str, &str); 2] = [
    ("ana.lopez", "Ana López", "ana.lopez@example.org", "staff"),
    ("sam.taylor", "Sam Taylor", "sam.taylor@example.org", "students"),
];

/// A demo account as `sandbox.json` and the start-up lines show it.
#[derive(Clone, Debug, Serialize)]
pub struct DemoUser {
    pub username: String,
    pub display_name: String,
    pub password: String,
}

/// Makes (or renews the passwords of) the demo accounts, the affinity profile and its
/// default, and hands the first account to the sandbox's fleet.
pub async fn demo_sign_in(
    running: &Running,
    token_id: Option<&crate::ids::TokenId>,
) -> anyhow::Result<Vec<DemoUser>> {
    let existing = running.services.directory.local_users().await?;
    let mut users = Vec::new();
    for (username, display_name, email, group) in DEMO_USERS {
        // A fresh password at every start, as the admin's: the account is made again (devices
        // enrolled for it keep their user).
        if existing.iter().any(|u| u.username == username) {
            running.services.directory.delete_local_user(Actor::System, username).await?;
        }
        let password = crate::crypto::random_token::<12>();
        let new = NewLocalUser {
            username: username.into(),
            display_name: display_name.into(),
            email: Some(email.into()),
            groups: vec![group.into()],
            password: Secret::new(password.clone()),
        };
        running.services.directory.add_local_user(Actor::System, new, None).await?;
        users.push(DemoUser {
            username: username.into(),
            display_name: display_name.into(),
            password,
        });
    }
    if let Some(token_id) = token_id {
        affinity_profile(running, token_id).await?;
    }
    if let (Some(fleet), Some(first)) = (&running.sandbox_fleet, users.first()) {
        fleet.sign_in_as(crate::sim::fleet::SignInAs {
            username: first.username.clone(),
            password: Secret::new(first.password.clone()),
        });
    }
    Ok(users)
}

/// The demo profile with user affinity (local accounts, pre-filled Mac account), the demo
/// token's default for its iPads unless that default is set already.
async fn affinity_profile(running: &Running, token_id: &crate::ids::TokenId) -> anyhow::Result<()> {
    let definition = serde_json::json!({
        "name": AFFINITY_PROFILE,
        "description": "Made by the sandbox: users sign in with a demo local account during Setup Assistant.",
        // Every platform, Macs included: the sign-in also pre-fills a Mac's account.
        "platforms": ["iOS", "iPadOS", "macOS", "tvOS", "visionOS"],
        "user_affinity": "with_affinity",
        "sign_in": {
            "source": "local",
            "allowed_groups": ["staff", "students"],
            "prefill_macos_account": true,
        },
        "supervised": true,
        "await_device_configured": true,
        "department": "Sandbox IT",
        "support_email_address": "help@example.org",
    });
    super::demo_profile::ensure_demo_profile(running, token_id, definition, Some(AFFINITY_FAMILY))
        .await?;
    Ok(())
}

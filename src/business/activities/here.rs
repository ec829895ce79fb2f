//! Which serials a change or cancellation of a migration may name: only devices assigned to
//! one of adebox's MDM servers. adebox schedules migrations to its own servers only
//! (`../shared/spec/apple-2026.md` §1.1), so a deadline on a device not assigned to us is not
//! one adebox can change or cancel: the whole action is refused before anything is stored or
//! sent, naming the serials and what to do (a migration elsewhere is changed in Apple
//! Business). Apple would refuse such a serial only after the fact, in the activity's log.
//!
//! Our inventory answers first; a serial it does not list as one of ours (a sync may not have
//! shown a migration scheduled a moment ago) is looked up at Apple Business: the MDM server it
//! is assigned to, compared with the servers our tokens are ([`crate::business::mapping`]).

use super::{Action, Activities, ActivityError};
use crate::business::client::BusinessClient;
use crate::business::mapping;
use crate::ids::Serial;

impl Action {
    /// Whether the action acts on a migration already scheduled to one of our servers.
    pub fn changes_a_migration(self) -> bool {
        matches!(self, Action::ChangeDeadline | Action::CancelMigration)
    }
}

impl Activities {
    /// The serials of `serials` assigned to none of our MDM servers.
    pub(super) async fn not_assigned_here(
        &self,
        client: &BusinessClient,
        serials: &[Serial],
    ) -> Result<Vec<String>, ActivityError> {
        let known = self.devices.facts(serials.to_vec()).await?;
        let mut ours: Option<Vec<String>> = None;
        let mut out = Vec::new();
        for s in serials {
            if known.iter().any(|f| &f.serial == s && !f.removed) {
                continue;
            }
            let servers = match &mut ours {
                Some(ids) => ids,
                empty => empty.insert(self.our_servers(client).await?),
            };
            match client.assigned_server(s).await? {
                Some(id) if servers.contains(&id) => {}
                _ => out.push(s.as_str().to_string()),
            }
        }
        Ok(out)
    }

    /// The Apple Business ids of the MDM servers our tokens are; none when this service was
    /// not given the tokens (then only the inventory tells).
    async fn our_servers(&self, client: &BusinessClient) -> Result<Vec<String>, ActivityError> {
        let Some(tokens) = &self.tokens else { return Ok(Vec::new()) };
        let servers = client.mdm_servers().await?;
        let tokens = tokens.list().await?;
        let mapped = mapping::stored(&self.store).await?;
        Ok(mapping::link(&servers, &tokens, &mapped)
            .into_iter()
            .filter(|l| l.token.is_some())
            .map(|l| l.mdm_server_id)
            .collect())
    }
}

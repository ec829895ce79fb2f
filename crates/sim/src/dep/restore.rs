//! Giving a recreated simulator back the credentials a client already holds, so a sandbox
//! restarted on a data directory without a saved simulated Apple side (one made before the
//! side was saved, `persist.rs`) keeps working with the token it stored.

use super::org::TokenSecrets;
use super::world::{ServerId, World};
use crate::apple::server_token::OAuthCredentials;
use crate::rng::SimRng;

impl World {
    /// Makes `creds` the current token of server `id` (in-process sandbox use only).
    pub fn adopt_token(&mut self, id: ServerId, creds: &OAuthCredentials) -> bool {
        let Some(server) = self.servers.get_mut(id as usize) else { return false };
        server.token = TokenSecrets {
            consumer_key: creds.consumer_key.clone(),
            consumer_secret: creds.consumer_secret.clone(),
            access_token: creds.access_token.clone(),
            access_secret: creds.access_secret.clone(),
            expiry: creds.access_token_expiry,
        };
        true
    }
}

impl World {
    /// Moves the generator off its seeded course: a world recreated from its seed would
    /// otherwise hand out the earlier run's identifiers again (profile uuids included, so a
    /// device could meet another profile under a uuid it knew).
    pub fn diverge(&mut self, salt: u64) {
        self.rng = SimRng::new(self.rng.state() ^ salt);
    }
}

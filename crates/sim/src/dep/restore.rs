//! Giving a recreated simulator back the credentials a client already holds, so a sandbox
//! restarted on the same data directory keeps working with the token it stored.

use super::org::TokenSecrets;
use super::world::{ServerId, World};
use crate::apple::server_token::OAuthCredentials;

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

//! What the API's Apple Business actions are served from, gathered in a leaf file so that the
//! actions (which reach Apple through [`super::connect`]) and the connection do not import
//! each other.

use super::connect::Connection;

/// What the API's Apple Business actions use: the actions, the AppleCare cache and the way
/// to Apple.
#[derive(Clone)]
pub struct BusinessActions {
    pub activities: super::activities::Activities,
    pub applecare: super::applecare::AppleCare,
    pub connection: Connection,
}

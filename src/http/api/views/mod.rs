//! What the API shows of the domain: one view type per record or domain answer the API
//! returns (or, for a few settings, accepts), with its OpenAPI schema. They are built from
//! the domain's types (`From<&Record>`), so the records the store keeps and the domain's own
//! types can change without changing the API, and the other way round: the API's shape is
//! written here, once. Field names, order and serde attributes are the API contract.
//!
//! The component names of the OpenAPI document are these types' names; they are the names
//! the domain types had when the API was first published, and stay so.

mod admin;
mod alerts;
mod audit;
mod backup;
mod business;
mod devices;
mod directory;
mod enroll;
mod mdm;
mod orgdevices;
mod profiles;
mod push;
mod settings;
mod sync;
mod tokens;

pub use admin::*;
pub use alerts::*;
pub use audit::*;
pub use backup::*;
pub use business::*;
pub use devices::*;
pub use directory::*;
pub use enroll::*;
pub use mdm::*;
pub use orgdevices::*;
pub use profiles::*;
pub use push::*;
pub use settings::*;
pub use sync::*;
pub use tokens::*;

/// The views of a list of domain items, in order.
pub fn list<D, V>(items: &[D]) -> Vec<V>
where
    for<'a> V: From<&'a D>,
{
    items.iter().map(V::from).collect()
}

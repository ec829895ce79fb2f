//! The Apple DEP (Device Assignment) simulator and its stand-in Apple Business Manager portal.

pub mod catalog;
pub mod changes;
pub mod cursor;
pub mod device;
pub mod faults;
pub mod org;
pub mod paging;
pub mod profiles;
pub mod world;

//! Throttled device sync: the budget is a pure state machine ([`budget`]); the runner (a
//! task per token) and its status come with the DEP client.

pub mod budget;

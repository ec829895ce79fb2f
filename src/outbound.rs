//! The one builder for outbound HTTP clients (timeouts, user agent, trust roots).

//! Integration tests: the real daemon, started in-process on 127.0.0.1:0 with its own data
//! directory, driven over HTTPS by a client that trusts only the daemon's CA.

mod common;

mod acme;
mod acme_client;
mod admin_api;
mod assignments_api;
mod audit_chain;
mod binary;
mod bootstrap;
mod browser;
mod command_api;
mod crash;
mod disk_full;
mod endpoints;
mod enroll;
mod faults;
mod fleet;
mod http2;
mod lifecycle;
mod login_flood;
mod mdm;
mod packaging;
mod platform_guard;
mod profiles_api;
mod push;
mod reassignment;
mod roles;
mod sandbox_restart;
mod scep;
mod scep_clients;
mod schema;
mod scope;
mod secrets;
mod secrets_at_rest;
mod security;
mod shutdown;
mod service_config;
mod setup_steps;
mod sim_devices;
mod sim_standalone;
mod strict_api;
mod tls_api;
mod tls_rules;
mod tokens_api;
mod webhooks;

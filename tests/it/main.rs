//! Integration tests: the real daemon, started in-process on 127.0.0.1:0 with its own data
//! directory, driven over HTTPS by a client that trusts only the daemon's CA.

mod common;

mod acme;
mod acme_client;
mod admin_api;
mod assignments_api;
mod audit_chain;
mod binary;
mod browser;
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
mod profiles_api;
mod push;
mod roles;
mod sandbox_restart;
mod scep;
mod scep_clients;
mod schema;
mod secrets;
mod secrets_at_rest;
mod security;
mod sim_devices;
mod signin;
mod sim_standalone;
mod strict_api;
mod tls_api;
mod tokens_api;

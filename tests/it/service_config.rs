//! `/MDMServiceConfig` (`../shared/spec/apple-2026.md` §6): unauthenticated, Apple's content
//! type, this appliance's enrollment URL, and anchors usable as a profile's `anchor_certs`.

use crate::common::*;
use base64ct::{Base64, Encoding};
use reqwest::StatusCode;
use serde_json::Value;

#[tokio::test]
async fn the_service_config_names_the_enrollment_url_and_its_anchors() {
    let d = TestDaemon::start().await;
    let anon = d.client();
    let resp = anon.get(d.url("/MDMServiceConfig")).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.headers()["content-type"], "application/json; charset=UTF8");
    let config: Value = resp.json().await.unwrap();
    assert_eq!(config["dep_enrollment_url"], d.url("/enroll/machineinfo"), "{config}");
    assert!(config.get("trust_profile_url").is_none(), "omitted when not needed");
    let anchors_url = config["dep_anchor_certs_url"].as_str().unwrap();
    assert_eq!(anchors_url, d.url("/enroll/anchors"));
    let resp = anon.get(anchors_url).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let anchors: Vec<String> = resp.json().await.unwrap();
    assert_eq!(anchors.len(), 1, "the appliance CA");
    let der = Base64::decode_vec(&anchors[0]).unwrap();
    let ca_der = adebox::crypto::ca::pem_to_der(std::str::from_utf8(&d.ca_pem()).unwrap()).unwrap();
    assert_eq!(der, ca_der);
}

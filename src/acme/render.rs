//! The JSON objects ACME returns (RFC 8555 §7.1.2–7.1.5).

use super::Inner;
use super::records::{AuthzRec, OrderRec};
use crate::urls;
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// The identifier type Apple devices order (../shared/spec/enrollment.md §3.1).
pub const PERMANENT_IDENTIFIER: &str = "permanent-identifier";
/// The only challenge type offered.
pub const DEVICE_ATTEST_01: &str = "device-attest-01";

pub fn time(t: OffsetDateTime) -> String {
    t.format(&Rfc3339).unwrap_or_default()
}

impl Inner {
    pub(super) fn order_url(&self, id: &str) -> String {
        self.urls.acme(&format!("{}/{id}", urls::ACME_ORDER))
    }

    pub(super) fn authz_url(&self, id: &str) -> String {
        self.urls.acme(&format!("{}/{id}", urls::ACME_AUTHZ))
    }

    pub(super) fn order_json(&self, o: &OrderRec) -> Value {
        let mut v = json!({
            "status": o.status.as_str(),
            "expires": time(o.expires),
            "identifiers": [{"type": PERMANENT_IDENTIFIER, "value": o.identifier}],
            "authorizations": [self.authz_url(&o.authz_id)],
            "finalize": self.urls.acme(&format!("{}/{}/{}", urls::ACME_ORDER, o.id, urls::ACME_FINALIZE)),
        });
        if let Some(cert) = &o.cert_id {
            v["certificate"] = json!(self.urls.acme(&format!("{}/{cert}", urls::ACME_CERT)));
        }
        if let Some(e) = &o.error {
            v["error"] = json!(e);
        }
        v
    }

    pub(super) fn challenge_json(&self, a: &AuthzRec) -> Value {
        let mut v = json!({
            "type": DEVICE_ATTEST_01,
            "url": self.urls.acme(&format!("{}/{}", urls::ACME_CHALLENGE, a.id)),
            "status": a.challenge_status.as_str(),
            "token": a.token,
        });
        if let Some(t) = a.validated {
            v["validated"] = json!(time(t));
        }
        if let Some(e) = &a.challenge_error {
            v["error"] = json!(e);
        }
        v
    }

    pub(super) fn authz_json(&self, a: &AuthzRec) -> Value {
        json!({
            "status": a.status.as_str(),
            "expires": time(a.expires),
            "identifier": {"type": PERMANENT_IDENTIFIER, "value": a.identifier},
            "challenges": [self.challenge_json(a)],
        })
    }
}

//! The `device-attest-01` challenge (../shared/spec/enrollment.md §3.4): the attestation
//! object must be Apple's format, chain to the trust anchors at `now`, carry SHA-256 of this
//! challenge's token as its freshness code, and state the serial / UDID the ClientIdentifier
//! was issued for. A failure makes the challenge, its authorization and its order invalid,
//! with the problem in their `error` (RFC 8555 §7.1.3, §7.1.4, §8), is answered with that
//! challenge object, and is reported to the enrollment funnel ([`super::outcomes`]).

use super::error::Problem;
use super::outcomes::{DeviceOutcome, OutcomeKind};
use super::precheck::{BAD_ATTESTATION as BAD, attested_chain};
use super::records::{self, AuthzRec, Expectation, Status};
use super::{AcmeError, Ctx, Reply, load};
use crate::apple::attestation::{AttestedLeaf, check_freshness};
use serde_json::Value;

impl Ctx<'_> {
    pub(super) fn challenge(&self, id: &str) -> Result<Reply, AcmeError> {
        let mut authz = self.own_authz(id)?;
        let link_up = Some(self.inner.authz_url(&authz.id));
        let reply = |a: &AuthzRec| {
            let mut r = Reply::json(200, self.inner.challenge_json(a));
            r.link_up = link_up.clone();
            r
        };
        // POST-as-GET reads the challenge; so does a repeated response to a valid one.
        if self.payload.is_empty() || authz.challenge_status == Status::Valid {
            return Ok(reply(&authz));
        }
        if authz.challenge_status != Status::Pending {
            return Err(AcmeError::Malformed(
                "this challenge has already failed; the device must start a new order".into(),
            ));
        }
        let mut order = self
            .order_rec(&authz.order_id)
            .ok_or_else(|| AcmeError::NotFound("this challenge's order no longer exists".into()))?;
        if authz.expires <= self.now {
            return Err(AcmeError::Malformed(
                "this authorization has expired; the device must start a new order".into(),
            ));
        }
        let payload = self.json_payload()?;
        if payload.get("attObj").is_none() && payload.get("error").is_none() {
            return Err(AcmeError::Malformed(
                "a device-attest-01 response must carry \"attObj\", the base64url attestation \
                 object (draft-ietf-acme-device-attest)"
                    .into(),
            ));
        }
        match self.validate(&authz, &payload) {
            Ok(leaf) => {
                authz.challenge_status = Status::Valid;
                authz.status = Status::Valid;
                authz.validated = Some(self.now);
                authz.attested_spki_hex = Some(hex::encode(&leaf.public_key_spki));
                order.status = Status::Ready;
                self.stage_authz(&authz);
                self.stage_order(&order);
                log::info!(
                    serial = leaf.serial.as_deref().unwrap_or(""),
                    udid = leaf.udid.as_deref().unwrap_or("");
                    "ACME: device attestation accepted"
                );
                Ok(reply(&authz))
            }
            Err(problem) => {
                // The refusal is recorded (`report`): a run in a read goes to the writer here,
                // before it logs anything.
                let wtx = self.wtx()?;
                authz.challenge_status = Status::Invalid;
                authz.status = Status::Invalid;
                authz.challenge_error = Some(problem.clone());
                order.status = Status::Invalid;
                order.error = Some(problem.clone());
                self.stage_authz(&authz);
                self.stage_order(&order);
                let exp = load::<Expectation>(&self.tx, records::EXPECTED, &authz.identifier)?;
                let (serial, udid) = exp.map(|e| (e.serial, e.udid)).unzip();
                log::warn!(
                    serial = serial.as_ref().map_or("", |s| s.as_str()), identifier = authz.identifier.as_str();
                    "ACME: device attestation refused: {}", problem.detail
                );
                let outcome = DeviceOutcome {
                    at: self.now,
                    serial,
                    udid,
                    kind: OutcomeKind::AttestationRefused { detail: problem.detail.clone() },
                };
                self.inner.report(wtx, &outcome)?;
                // RFC 8555 §7.5.1, §8: the response to the challenge is the challenge object;
                // a failed validation shows as its status and error (and the order's), not as
                // an error response.
                Ok(reply(&authz))
            }
        }
    }

    /// §3.4 steps 1–5; returns the attested leaf. The chain was checked before the write
    /// ([`super::precheck`]); freshness and identity depend on the stored records.
    fn validate(&self, authz: &AuthzRec, payload: &Value) -> Result<AttestedLeaf, Problem> {
        let bad = |detail: String| Problem::new(BAD, detail);
        let leaf = match &self.checked.attestation {
            Some(checked) => checked.clone()?,
            None => attested_chain(payload, &self.inner.anchors, self.now)?,
        };
        check_freshness(&leaf, &authz.token).map_err(|e| bad(e.to_string()))?;
        let exp = load::<Expectation>(&self.tx, records::EXPECTED, &authz.identifier)
            .ok()
            .flatten()
            .ok_or_else(|| bad("this order's ClientIdentifier is no longer registered; install the enrollment profile \
                 again"
                .into()))?;
        check_identity(&leaf, &exp)?;
        Ok(leaf)
    }
}

/// The attested serial and UDID must be those the ClientIdentifier was issued for: each one
/// the leaf states must match, and it must state at least one (Apple omits them only for
/// User Enrollment, which ADE never is).
fn check_identity(leaf: &AttestedLeaf, exp: &Expectation) -> Result<(), Problem> {
    let mismatch = |what: &str, got: &str, want: &str| {
        let mut p = Problem::new(
            BAD,
            format!(
                "the attestation is for another device: its {what} is \"{got}\", but this \
                 enrollment was for \"{want}\""
            ),
        );
        p.subproblems.push(Problem::new("rejectedIdentifier", format!("attested {what} differs")));
        p
    };
    // The leaf's raw UTF-8 is an entry point like any other: what is not a serial or a UDID
    // is refused by its format first, and never echoed (a 3,000-character or bidi-control
    // value would reach the problem document, the store and the log).
    let malformed = |what: &str, e: crate::ids::IdError| {
        let mut p = Problem::new(BAD, format!("the attestation's {what} is refused: {e}"));
        p.subproblems
            .push(Problem::new("rejectedIdentifier", format!("attested {what} malformed")));
        p
    };
    if let Some(serial) = &leaf.serial {
        crate::ids::Serial::parse(serial).map_err(|e| malformed("serial number", e))?;
    }
    if let Some(udid) = &leaf.udid {
        crate::ids::Udid::parse(udid).map_err(|e| malformed("UDID", e))?;
    }
    // Compared as identifiers (serial upper-cased, UDID in any case): the leaf's raw UTF-8
    // (enrollment.md §3.3) meets the MachineInfo's normalised value.
    if let Some(serial) = &leaf.serial
        && exp.serial != serial.as_str()
    {
        return Err(mismatch("serial number", serial, exp.serial.as_str()));
    }
    if let Some(udid) = &leaf.udid
        && exp.udid != udid.as_str()
    {
        return Err(mismatch("UDID", udid, exp.udid.as_str()));
    }
    if leaf.serial.is_none() && leaf.udid.is_none() {
        return Err(Problem::new(BAD, "the attestation states neither a serial number nor a UDID"));
    }
    Ok(())
}

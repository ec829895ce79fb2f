//! What ACME tells the enrollment funnel about a device: its attestation was refused, or it
//! was issued its identity. The enrollment service (later in the module order) registers an
//! [`OutcomeSink`] once with [`AcmeService::report_outcomes_to`]; ACME calls it inside the
//! request's write transaction, so the funnel, the refusal list and the device's timeline
//! change together with the challenge or the certificate, or not at all.

use super::{AcmeError, AcmeService, Inner};
use crate::ids::{Serial, Udid};
use crate::store::StoreError;
use std::sync::Arc;
use time::OffsetDateTime;

/// One outcome for the device an enrollment handed a ClientIdentifier to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeviceOutcome {
    pub at: OffsetDateTime,
    /// The device the ClientIdentifier was issued for (absent only if that record is gone).
    pub serial: Option<Serial>,
    pub udid: Option<Udid>,
    pub kind: OutcomeKind,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OutcomeKind {
    /// The device-attest-01 challenge failed; `detail` is the problem's detail.
    AttestationRefused { detail: String },
    /// Finalize issued the device identity (a renewal included).
    CertificateIssued,
}

/// Records an outcome inside the caller's write transaction.
pub type OutcomeSink =
    Arc<dyn Fn(&redb::WriteTransaction, &DeviceOutcome) -> Result<(), StoreError> + Send + Sync>;

impl AcmeService {
    /// Sends every [`DeviceOutcome`] to `sink` from now on. Only the first sink registered
    /// counts (one enrollment service per ACME service); returns false for a later one.
    pub fn report_outcomes_to(&self, sink: OutcomeSink) -> bool {
        self.inner.outcomes.set(sink).is_ok()
    }
}

impl Inner {
    /// Hands `outcome` to the registered sink, if any.
    pub(super) fn report(
        &self,
        wtx: &redb::WriteTransaction,
        outcome: &DeviceOutcome,
    ) -> Result<(), AcmeError> {
        match self.outcomes.get() {
            Some(sink) => Ok(sink(wtx, outcome)?),
            None => Ok(()),
        }
    }
}

//! ACME Renewal Information (RFC 9773): the CA's suggested window for renewing the certificate
//! in use. When the CA's directory offers `renewalInfo`, the next order is placed at a random
//! moment inside the window (the RFC's advice: it spreads a CA's renewals), the window is
//! asked again when the CA's `Retry-After` says so, and a window that moved earlier (a CA
//! revoking early) is followed. A CA without it keeps the two-thirds rule.

use super::AcmeError;
use instant_acme::{Account, CertificateIdentifier};
use rustls_pki_types::CertificateDer;
use serde::Serialize;
use time::{Duration, OffsetDateTime};

/// Asked again at the latest after this long, whatever the CA's `Retry-After` says (RFC 9773
/// §4.3.2 lets clients cap it), and at the earliest after [`MIN_RECHECK`].
const MAX_RECHECK: Duration = Duration::hours(24);
const MIN_RECHECK: Duration = Duration::minutes(1);
/// After a failed request for the window (the CA unreachable), try again after this long.
pub(super) const RETRY_AFTER_FAILURE: Duration = Duration::hours(1);

/// Where the renewal time comes from (shown on Settings).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RenewalBasis {
    /// The CA's `renewalInfo` window (RFC 9773).
    CaSuggestion,
    /// Two thirds of the certificate's lifetime (the CA offers no renewal information).
    TwoThirds,
}

/// The CA's answer for one certificate.
#[derive(Clone, Debug)]
pub(super) struct Hint {
    pub start: OffsetDateTime,
    pub end: OffsetDateTime,
    /// When to ask again.
    pub recheck_at: OffsetDateTime,
}

/// The window for `leaf` (DER), or `None` when the CA's directory has no `renewalInfo`.
pub(super) async fn ask(
    account: &Account,
    leaf: &[u8],
    now: OffsetDateTime,
) -> Result<Option<Hint>, AcmeError> {
    let der = CertificateDer::from(leaf);
    let id = CertificateIdentifier::try_from(&der).map_err(|e| AcmeError::Ca {
        step: "reading the certificate for the CA's renewal information",
        detail: e.to_string(),
    })?;
    match account.renewal_info(&id).await {
        Ok((info, retry)) => {
            let retry = Duration::try_from(retry).unwrap_or(MAX_RECHECK);
            Ok(Some(Hint {
                start: info.suggested_window.start,
                end: info.suggested_window.end,
                recheck_at: now + retry.clamp(MIN_RECHECK, MAX_RECHECK),
            }))
        }
        Err(instant_acme::Error::Unsupported(_)) => Ok(None),
        Err(e) => Err(super::ca("asking the CA's renewal information (RFC 9773)")(e)),
    }
}

/// A moment inside `[start, end]` chosen by `fraction` (0..1, random), never before `now`:
/// a window that has begun means renewing at once.
pub(super) fn pick(
    start: OffsetDateTime,
    end: OffsetDateTime,
    now: OffsetDateTime,
    fraction: f64,
) -> OffsetDateTime {
    if end <= now {
        return now;
    }
    let start = start.max(now);
    let span = (end - start).max(Duration::ZERO);
    start + span * fraction.clamp(0.0, 1.0)
}

/// A uniformly random fraction in [0, 1).
pub(super) fn random_fraction() -> f64 {
    let bytes = crate::crypto::random_bytes::<8>();
    (u64::from_be_bytes(bytes) >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn the_renewal_moment_is_inside_the_window_and_never_in_the_past() {
        let (start, end) = (datetime!(2026-03-10 00:00 UTC), datetime!(2026-03-12 00:00 UTC));
        let before = datetime!(2026-03-01 00:00 UTC);
        assert_eq!(pick(start, end, before, 0.0), start);
        assert_eq!(pick(start, end, before, 0.5), datetime!(2026-03-11 00:00 UTC));
        assert_eq!(pick(start, end, before, 1.0), end);
        // The window has begun: somewhere between now and its end.
        let inside = datetime!(2026-03-11 00:00 UTC);
        assert_eq!(pick(start, end, inside, 0.0), inside);
        assert!(pick(start, end, inside, 0.99) < end);
        // The window has passed (a CA asking for an early renewal): at once.
        let after = datetime!(2026-03-20 00:00 UTC);
        assert_eq!(pick(start, end, after, 0.7), after);
        for _ in 0..100 {
            let f = random_fraction();
            assert!((0.0..1.0).contains(&f), "{f}");
        }
    }
}

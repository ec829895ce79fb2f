//! The TLS settings as the API shows them: the certificate in use with the ACME client's
//! state beside it. Its own leaf so that the settings routes and the certificate switch's
//! confirmation both answer with it without importing each other.

use super::views::TlsInfo;
use crate::http::state::AppState;

/// The TLS view with the ACME state, when `[tls.acme]` is set.
pub(super) fn tls_view(state: &AppState, info: &crate::tls::TlsInfo) -> TlsInfo {
    let mut view = TlsInfo::from(info);
    view.acme = state.tls_acme.as_ref().map(|a| a.status());
    // The CA's suggestion (RFC 9773) decides when an ACME certificate renews.
    if let Some(acme) = &view.acme
        && info.mode == crate::tls::TlsMode::Acme
        && acme.renewal_basis == Some(crate::tls::RenewalBasis::CaSuggestion)
    {
        view.renews_at = acme.next_attempt_at;
    }
    view
}

//! The one rustls crypto provider of the process: ring, installed as the default once.
//!
//! rustls refuses to pick a provider by itself when more than one could be meant, and the first
//! one installed wins for the whole process. The daemon's clients and servers and the
//! simulators' (linked into the same binary for `adebox sandbox` and run in the same test
//! processes) all call [`ensure_crypto_provider`] before they build a TLS configuration, so
//! they agree on one provider whichever starts first.

use std::sync::Once;

/// Installs rustls's ring provider as the process default, once. Later calls, and calls after
/// another part of the process installed one, do nothing (the first provider wins).
pub fn ensure_crypto_provider() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        // Err means a provider is already installed: exactly what we want.
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

#[cfg(test)]
mod tests {
    use super::ensure_crypto_provider;

    #[test]
    fn installing_twice_leaves_one_provider() {
        ensure_crypto_provider();
        ensure_crypto_provider();
        assert!(rustls::crypto::CryptoProvider::get_default().is_some());
    }
}

//! [`TokenId`]: adebox's own name for an Apple server token (`oCaG2Svw`), the key of
//! `tokens.by_id` and the `{id}` of `/api/v1/tokens/{id}`. Made by [`TokenId::generate`] when a
//! token is added, parsed where a path names one, and trusted everywhere after, so a token id
//! cannot be passed where a serial, a profile id or a server UUID is meant.
//!
//! Follows [`crate::ids`]: [`TokenId::parse`] validates what arrives from outside (with an
//! [`IdError`] naming the problem), while deserialisation and [`TokenId::from_stored`] take a
//! stored string as it is, so a record written by an older adebox always reads back. It
//! serialises as the plain string, the form stored and returned by the API before this type.

use crate::ids::IdError;
use serde::{Deserialize, Serialize};
use std::fmt;

/// Random bytes in a new id: 6 bytes are 8 base64url characters (48 bits, plenty for the
/// handful of tokens one appliance holds).
const RANDOM_BYTES: usize = 6;

/// Longest id accepted. Every id adebox makes is 8 characters; the margin is tolerance for
/// ids not made by [`TokenId::generate`] (none are known), not a format.
pub const TOKEN_ID_MAX: usize = 64;

/// The id of an Apple server token kept by adebox.
///
/// Normalisation: none beyond trimming surrounding white space; the id is case-sensitive
/// (base64url). Validation: 1–[`TOKEN_ID_MAX`] characters of the URL-safe base64 alphabet
/// (letters, digits, `-`, `_`), the alphabet [`TokenId::generate`] draws from.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct TokenId(String);

impl TokenId {
    /// A new random id, for a token being added.
    pub fn generate() -> TokenId {
        TokenId(crate::crypto::random_token::<RANDOM_BYTES>())
    }

    /// Validates an id from outside (an HTTP path or body).
    pub fn parse(text: &str) -> Result<TokenId, IdError> {
        let what = "token id";
        let s = text.trim();
        if s.is_empty() {
            return Err(IdError::Empty { what });
        }
        let len = s.chars().count();
        if len > TOKEN_ID_MAX {
            return Err(IdError::TooLong { what, len, max: TOKEN_ID_MAX });
        }
        if let Some(found) =
            s.chars().find(|c| !(c.is_ascii_alphanumeric() || *c == '-' || *c == '_'))
        {
            return Err(IdError::BadCharacter {
                what,
                found,
                allowed: "letters, digits, '-' and '_' only",
            });
        }
        Ok(TokenId(s.to_string()))
    }

    /// An id read back from the store (a table key, an index value, a stored reference):
    /// taken as it is, like deserialisation.
    pub fn from_stored(text: String) -> TokenId {
        TokenId(text)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }

    /// The bytes of the `tokens.by_id` key.
    pub fn as_bytes(&self) -> &[u8] {
        self.0.as_bytes()
    }
}

impl fmt::Display for TokenId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for TokenId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

impl AsRef<str> for TokenId {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl std::str::FromStr for TokenId {
    type Err = IdError;
    fn from_str(s: &str) -> Result<TokenId, IdError> {
        TokenId::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_ids_parse_back_unchanged() {
        for _ in 0..50 {
            let id = TokenId::generate();
            assert_eq!(id.as_str().len(), 8);
            assert_eq!(TokenId::parse(id.as_str()).unwrap(), id);
        }
    }

    #[test]
    fn parse_refuses_what_cannot_be_an_id() {
        assert!(matches!(TokenId::parse("  "), Err(IdError::Empty { .. })));
        assert!(matches!(
            TokenId::parse("oCaG/2Svw"),
            Err(IdError::BadCharacter { found: '/', .. })
        ));
        assert!(matches!(TokenId::parse(&"a".repeat(65)), Err(IdError::TooLong { .. })));
        assert_eq!(TokenId::parse(" oCaG2S-_ ").unwrap().as_str(), "oCaG2S-_");
    }

    #[test]
    fn serialises_as_the_plain_stored_string() {
        let id: TokenId = serde_json::from_str("\"any stored/text\"").unwrap();
        assert_eq!(id.as_str(), "any stored/text");
        assert_eq!(serde_json::to_string(&id).unwrap(), "\"any stored/text\"");
    }
}

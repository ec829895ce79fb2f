//! The content-encryption algorithms adebox accepts in EnvelopedData: AES-128/192/256-CBC with
//! PKCS#7 padding.
//!
//! Every Apple server token seen so far uses AES-128-CBC (../shared/spec/dep-api.md §1.4); the
//! larger AES key sizes cost nothing extra and cover a future switch. 3DES is deliberately
//! not accepted: no Apple token has used it, it would need another crate (`des`) for a cipher
//! NIST has withdrawn for encryption, and refusing it yields a clear error naming the
//! algorithm, so an admin would know what happened if Apple ever sent one.

use aes::cipher::block_padding::Pkcs7;
use aes::cipher::{
    BlockCipherDecrypt, BlockCipherEncrypt, BlockModeDecrypt, BlockModeEncrypt, KeyInit, KeyIvInit,
};
use const_oid::db::rfc5911::{ID_AES_128_CBC, ID_AES_192_CBC, ID_AES_256_CBC};
use der::asn1::ObjectIdentifier;

/// AES block and CBC IV size.
pub(super) const IV_LEN: usize = 16;

/// Named like the OIDs (`id-aes128-CBC`, …).
#[allow(clippy::enum_variant_names)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum ContentCipher {
    Aes128Cbc,
    Aes192Cbc,
    Aes256Cbc,
}

impl ContentCipher {
    pub fn from_oid(oid: &ObjectIdentifier) -> Option<Self> {
        match *oid {
            ID_AES_128_CBC => Some(Self::Aes128Cbc),
            ID_AES_192_CBC => Some(Self::Aes192Cbc),
            ID_AES_256_CBC => Some(Self::Aes256Cbc),
            _ => None,
        }
    }

    pub fn oid(self) -> ObjectIdentifier {
        match self {
            Self::Aes128Cbc => ID_AES_128_CBC,
            Self::Aes192Cbc => ID_AES_192_CBC,
            Self::Aes256Cbc => ID_AES_256_CBC,
        }
    }

    pub fn key_len(self) -> usize {
        match self {
            Self::Aes128Cbc => 16,
            Self::Aes192Cbc => 24,
            Self::Aes256Cbc => 32,
        }
    }

    /// Decrypts and unpads. `None` when the key or IV has the wrong length, the ciphertext is
    /// not whole blocks, or the padding is invalid: after an RSA key-transport step with
    /// implicit rejection, all of these mean "wrong key" (or a damaged message).
    pub fn decrypt(self, key: &[u8], iv: &[u8], ciphertext: &[u8]) -> Option<Vec<u8>> {
        if key.len() != self.key_len() || iv.len() != IV_LEN {
            return None;
        }
        match self {
            Self::Aes128Cbc => decrypt_with::<aes::Aes128>(key, iv, ciphertext),
            Self::Aes192Cbc => decrypt_with::<aes::Aes192>(key, iv, ciphertext),
            Self::Aes256Cbc => decrypt_with::<aes::Aes256>(key, iv, ciphertext),
        }
    }

    /// Pads and encrypts. `None` only when the key or IV has the wrong length.
    pub fn encrypt(self, key: &[u8], iv: &[u8], plaintext: &[u8]) -> Option<Vec<u8>> {
        if key.len() != self.key_len() || iv.len() != IV_LEN {
            return None;
        }
        match self {
            Self::Aes128Cbc => encrypt_with::<aes::Aes128>(key, iv, plaintext),
            Self::Aes192Cbc => encrypt_with::<aes::Aes192>(key, iv, plaintext),
            Self::Aes256Cbc => encrypt_with::<aes::Aes256>(key, iv, plaintext),
        }
    }
}

fn decrypt_with<C: BlockCipherDecrypt + KeyInit>(
    key: &[u8],
    iv: &[u8],
    ciphertext: &[u8],
) -> Option<Vec<u8>> {
    let dec = cbc::Decryptor::<C>::new_from_slices(key, iv).ok()?;
    dec.decrypt_padded_vec::<Pkcs7>(ciphertext).ok()
}

fn encrypt_with<C: BlockCipherEncrypt + KeyInit>(
    key: &[u8],
    iv: &[u8],
    plaintext: &[u8],
) -> Option<Vec<u8>> {
    let enc = cbc::Encryptor::<C>::new_from_slices(key, iv).ok()?;
    Some(enc.encrypt_padded_vec::<Pkcs7>(plaintext))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_cipher_round_trips_and_rejects_a_wrong_key() {
        for cipher in [ContentCipher::Aes128Cbc, ContentCipher::Aes192Cbc, ContentCipher::Aes256Cbc]
        {
            assert_eq!(ContentCipher::from_oid(&cipher.oid()), Some(cipher));
            let key = vec![0x42; cipher.key_len()];
            let iv = [0x24; IV_LEN];
            let ct = cipher.encrypt(&key, &iv, b"hello world").unwrap();
            assert_eq!(ct.len(), 16);
            assert_eq!(cipher.decrypt(&key, &iv, &ct).unwrap(), b"hello world");
            assert!(cipher.decrypt(&key[1..], &iv, &ct).is_none(), "short key");
            assert!(cipher.decrypt(&key, &iv, &ct[1..]).is_none(), "partial block");
            let wrong = vec![0x43; cipher.key_len()];
            // A wrong key fails the padding check almost always; this pair happens to.
            assert_ne!(cipher.decrypt(&wrong, &iv, &ct).as_deref(), Some(&b"hello world"[..]));
        }
    }

    #[test]
    fn des_ede3_cbc_is_not_accepted() {
        assert_eq!(ContentCipher::from_oid(&const_oid::db::rfc5911::DES_EDE_3_CBC), None);
    }
}

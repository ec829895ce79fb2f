//! The content-encryption algorithms adebox accepts in EnvelopedData: AES-128/192/256-CBC and
//! 3DES (des-ede3-cbc), with PKCS#7 padding.
//!
//! Every Apple server token seen so far uses AES-128-CBC (../shared/spec/dep-api.md §1.4); the
//! larger AES key sizes cost nothing extra and cover a future switch. 3DES is accepted for SCEP
//! requests: RFC 8894 §3.5.2 lists it (`DES3`), and clients that ignore `AES` in GetCACaps
//! (certmonger without AES, network gear, older devices) send it. It protects one CSR once, so
//! the 64-bit block (Sweet32) is no concern; adebox never chooses it itself, it only answers a
//! 3DES request in kind. Single DES (`desCBC`) and RC2 stay refused: RFC 8894 §3.5.2 and §6
//! deprecate them, a 56-bit key is searchable, and refusing them names the algorithm.

use aes::cipher::block_padding::Pkcs7;
use aes::cipher::{
    BlockCipherDecrypt, BlockCipherEncrypt, BlockModeDecrypt, BlockModeEncrypt, KeyInit, KeyIvInit,
};
use const_oid::db::rfc5911::{DES_EDE_3_CBC, ID_AES_128_CBC, ID_AES_192_CBC, ID_AES_256_CBC};
use der::asn1::ObjectIdentifier;

/// Longest CBC IV (the AES block); 3DES uses the first 8 bytes of one this long.
pub(super) const MAX_IV_LEN: usize = 16;

/// `desCBC` (OIW, 1.3.14.3.2.7), the single DES that old SCEP clients send; the OID database
/// does not name it.
const DES_CBC: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.14.3.2.7");
/// `rc2CBC` (RFC 8018).
const RC2_CBC: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.3.2");

/// Named like the OIDs (`id-aes128-CBC`, …, `des-ede3-cbc`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ContentCipher {
    Aes128Cbc,
    Aes192Cbc,
    Aes256Cbc,
    DesEde3Cbc,
}

impl ContentCipher {
    pub const ALL: [ContentCipher; 4] =
        [Self::Aes128Cbc, Self::Aes192Cbc, Self::Aes256Cbc, Self::DesEde3Cbc];

    pub fn from_oid(oid: &ObjectIdentifier) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.oid() == *oid)
    }

    pub fn oid(self) -> ObjectIdentifier {
        match self {
            Self::Aes128Cbc => ID_AES_128_CBC,
            Self::Aes192Cbc => ID_AES_192_CBC,
            Self::Aes256Cbc => ID_AES_256_CBC,
            Self::DesEde3Cbc => DES_EDE_3_CBC,
        }
    }

    pub fn key_len(self) -> usize {
        match self {
            Self::Aes128Cbc => 16,
            Self::Aes192Cbc => 24,
            Self::Aes256Cbc => 32,
            Self::DesEde3Cbc => 24,
        }
    }

    /// The CBC IV length: the cipher's block size.
    pub fn iv_len(self) -> usize {
        match self {
            Self::DesEde3Cbc => 8,
            _ => 16,
        }
    }

    /// Decrypts and unpads. `None` when the key or IV has the wrong length, the ciphertext is
    /// not whole blocks, or the padding is invalid: after an RSA key-transport step with
    /// implicit rejection, all of these mean "wrong key" (or a damaged message).
    pub fn decrypt(self, key: &[u8], iv: &[u8], ciphertext: &[u8]) -> Option<Vec<u8>> {
        if key.len() != self.key_len() || iv.len() != self.iv_len() {
            return None;
        }
        match self {
            Self::Aes128Cbc => decrypt_with::<aes::Aes128>(key, iv, ciphertext),
            Self::Aes192Cbc => decrypt_with::<aes::Aes192>(key, iv, ciphertext),
            Self::Aes256Cbc => decrypt_with::<aes::Aes256>(key, iv, ciphertext),
            Self::DesEde3Cbc => decrypt_with::<des::TdesEde3>(key, iv, ciphertext),
        }
    }

    /// Pads and encrypts. `None` only when the key or IV has the wrong length.
    pub fn encrypt(self, key: &[u8], iv: &[u8], plaintext: &[u8]) -> Option<Vec<u8>> {
        if key.len() != self.key_len() || iv.len() != self.iv_len() {
            return None;
        }
        match self {
            Self::Aes128Cbc => encrypt_with::<aes::Aes128>(key, iv, plaintext),
            Self::Aes192Cbc => encrypt_with::<aes::Aes192>(key, iv, plaintext),
            Self::Aes256Cbc => encrypt_with::<aes::Aes256>(key, iv, plaintext),
            Self::DesEde3Cbc => encrypt_with::<des::TdesEde3>(key, iv, plaintext),
        }
    }
}

/// A content-encryption OID as people know it: `DES-CBC (1.3.14.3.2.7)`, or the OID
/// database's name, or the dotted OID.
pub fn cipher_name(oid: &ObjectIdentifier) -> String {
    match *oid {
        DES_CBC => format!("DES-CBC ({oid})"),
        RC2_CBC => format!("RC2-CBC ({oid})"),
        _ => super::ber::oid_name(oid),
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
        for cipher in ContentCipher::ALL {
            assert_eq!(ContentCipher::from_oid(&cipher.oid()), Some(cipher));
            let key = vec![0x42; cipher.key_len()];
            let iv = vec![0x24; cipher.iv_len()];
            let ct = cipher.encrypt(&key, &iv, b"hello world").unwrap();
            assert_eq!(ct.len(), (11 / cipher.iv_len() + 1) * cipher.iv_len(), "padded to a block");
            assert_eq!(cipher.decrypt(&key, &iv, &ct).unwrap(), b"hello world");
            assert!(cipher.decrypt(&key[1..], &iv, &ct).is_none(), "short key");
            assert!(cipher.decrypt(&key, &iv[1..], &ct).is_none(), "short IV");
            assert!(cipher.decrypt(&key, &iv, &ct[1..]).is_none(), "partial block");
            // 0x52, not 0x43: DES ignores each key byte's low (parity) bit.
            let wrong = vec![0x52; cipher.key_len()];
            // A wrong key fails the padding check almost always; this pair happens to.
            assert_ne!(cipher.decrypt(&wrong, &iv, &ct).as_deref(), Some(&b"hello world"[..]));
        }
    }

    #[test]
    fn single_des_and_rc2_are_not_accepted_and_are_named() {
        assert_eq!(ContentCipher::from_oid(&DES_CBC), None);
        assert_eq!(ContentCipher::from_oid(&RC2_CBC), None);
        assert_eq!(cipher_name(&DES_CBC), "DES-CBC (1.3.14.3.2.7)");
        assert_eq!(cipher_name(&DES_EDE_3_CBC), "des-ede3-cbc (1.2.840.113549.3.7)");
    }
}

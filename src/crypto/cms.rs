//! CMS EnvelopedData (RFC 5652 §6): decrypting what Apple encrypts to us (the DEP server
//! token) and encrypting the same way (the simulator's stand-in ABM portal).
//!
//! Apple's token is BER with indefinite lengths and a constructed `[0]` encryptedContent of
//! OCTET STRING chunks (../shared/spec/dep-api.md §1.4); `der` 0.8 decodes that in BER mode,
//! and DER input decodes the same way. Key transport is RSA PKCS#1 v1.5 to the uploaded
//! certificate; content encryption AES-CBC (Apple uses AES-128; AES-192/256 are accepted
//! too). 3DES is refused by name: no Apple token has used it, and accepting it would add a
//! cipher crate for a path nobody exercises.

use cbc::cipher::block_padding::Pkcs7;
use cbc::cipher::{BlockModeDecrypt, BlockModeEncrypt, KeyIvInit};
use cms::content_info::{CmsVersion, ContentInfo};
use cms::enveloped_data::{
    EnvelopedData, KeyTransRecipientInfo, RecipientIdentifier, RecipientInfo,
};
use der::asn1::{ObjectIdentifier, OctetString};
use der::{Any, Decode, Encode, EncodingRules};
use spki::AlgorithmIdentifierOwned;

pub const ID_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.1");
pub const ID_ENVELOPED_DATA: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.3");
const RSA_ENCRYPTION: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");
const AES_128_CBC: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.1.2");
const AES_192_CBC: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.1.22");
const AES_256_CBC: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.1.42");
const DES_EDE3_CBC: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.3.7");

/// Encrypted content is written in chunks of this size, like streaming encoders do.
const CHUNK: usize = 1000;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CmsError {
    #[error("not CMS data: {0}")]
    NotCms(String),
    #[error("CMS content of type {0}, not enveloped (encrypted) data")]
    NotEnveloped(String),
    #[error("the CMS structure is damaged: {0}")]
    Malformed(String),
    #[error("no recipient this appliance can decrypt for (only RSA key transport is supported)")]
    NoUsableRecipient,
    #[error("encrypted with {0}, which adebox does not accept (Apple uses AES-128-CBC)")]
    UnsupportedCipher(String),
    /// The key did not open the envelope: a different key, or damaged ciphertext.
    #[error("the private key does not decrypt this content")]
    WrongKey,
    #[error("the recipient certificate cannot be used: {0}")]
    BadRecipient(String),
}

fn malformed(e: impl std::fmt::Display) -> CmsError {
    CmsError::Malformed(e.to_string())
}

/// Decrypts an EnvelopedData (BER or DER) with an RSA private key.
pub fn decrypt_enveloped(bytes: &[u8], key: &rsa::PrivateKey) -> Result<Vec<u8>, CmsError> {
    let info = ContentInfo::from_ber(bytes).map_err(|e| CmsError::NotCms(e.to_string()))?;
    if info.content_type != ID_ENVELOPED_DATA {
        return Err(CmsError::NotEnveloped(info.content_type.to_string()));
    }
    let env: EnvelopedData =
        info.content.decode_as_encoding(EncodingRules::Ber).map_err(malformed)?;
    let ktri = env
        .recip_infos
        .0
        .iter()
        .find_map(|ri| match ri {
            RecipientInfo::Ktri(k) if k.key_enc_alg.oid == RSA_ENCRYPTION => Some(k),
            _ => None,
        })
        .ok_or(CmsError::NoUsableRecipient)?;
    let cipher = Cipher::from_algorithm(&env.encrypted_content.content_enc_alg)?;
    let iv = env
        .encrypted_content
        .content_enc_alg
        .parameters
        .as_ref()
        .ok_or_else(|| CmsError::Malformed("the cipher has no IV".into()))?
        .decode_as::<OctetString>()
        .map_err(malformed)?;
    let ciphertext = env
        .encrypted_content
        .encrypted_content
        .as_ref()
        .ok_or_else(|| CmsError::Malformed("no encrypted content".into()))?;
    // rsa 0.10 answers a wrong key with synthetic plaintext (implicit rejection) rather than
    // an error, so the wrong key shows only afterwards: a content key of the wrong length,
    // or padding that does not check out.
    let cek = key
        .decrypt(rsa::Pkcs1v15Encrypt, ktri.enc_key.as_bytes())
        .map_err(|_| CmsError::WrongKey)?;
    cipher.decrypt(&cek, iv.as_bytes(), ciphertext.as_bytes())
}

/// Encrypts `plaintext` for the holder of `recipient_cert_der`'s key, as Apple does for a
/// server token: BER with indefinite lengths, one KeyTransRecipientInfo (issuerAndSerialNumber,
/// rsaEncryption with NULL parameters), AES-128-CBC with a random IV, the ciphertext as a
/// constructed `[0]` of OCTET STRING chunks.
pub fn encrypt_enveloped_ber(
    plaintext: &[u8],
    recipient_cert_der: &[u8],
) -> Result<Vec<u8>, CmsError> {
    use rsa::pkcs8::DecodePublicKey;
    let cert = x509_cert::Certificate::from_der(recipient_cert_der)
        .map_err(|e| CmsError::BadRecipient(e.to_string()))?;
    let tbs = cert.tbs_certificate();
    let spki = tbs
        .subject_public_key_info()
        .to_der()
        .map_err(|e| CmsError::BadRecipient(e.to_string()))?;
    let public = rsa::PublicKey::from_public_key_der(&spki)
        .map_err(|_| CmsError::BadRecipient("its key is not an RSA key".into()))?;
    let cek = crate::crypto::random_bytes::<16>();
    let iv = crate::crypto::random_bytes::<16>();
    let enc_key = public
        .encrypt(&mut getrandom::SysRng, rsa::Pkcs1v15Encrypt, &cek)
        .map_err(|e| CmsError::BadRecipient(e.to_string()))?;
    let ktri = RecipientInfo::Ktri(KeyTransRecipientInfo {
        version: CmsVersion::V0,
        rid: RecipientIdentifier::IssuerAndSerialNumber(cms::cert::IssuerAndSerialNumber {
            issuer: tbs.issuer().clone(),
            serial_number: tbs.serial_number().clone(),
        }),
        key_enc_alg: AlgorithmIdentifierOwned {
            oid: RSA_ENCRYPTION,
            parameters: Some(Any::null()),
        },
        enc_key: OctetString::new(enc_key).map_err(malformed)?,
    });
    let recipients = der::asn1::SetOfVec::try_from(vec![ktri])
        .map_err(malformed)?
        .to_der()
        .map_err(malformed)?;
    let alg = AlgorithmIdentifierOwned {
        oid: AES_128_CBC,
        parameters: Some(
            Any::encode_from(&OctetString::new(iv.to_vec()).map_err(malformed)?)
                .map_err(malformed)?,
        ),
    };
    let ciphertext = cbc::Encryptor::<aes::Aes128>::new_from_slices(&cek, &iv)
        .map_err(malformed)?
        .encrypt_padded_vec::<Pkcs7>(plaintext);

    // Hand-built BER: the five indefinite-length containers Apple's tokens have.
    let mut out = Vec::with_capacity(ciphertext.len() + 600);
    out.extend_from_slice(&[0x30, 0x80]); // ContentInfo
    out.extend(ID_ENVELOPED_DATA.to_der().map_err(malformed)?);
    out.extend_from_slice(&[0xa0, 0x80]); // [0] EXPLICIT content
    out.extend_from_slice(&[0x30, 0x80]); // EnvelopedData
    out.extend(CmsVersion::V0.to_der().map_err(malformed)?);
    out.extend(recipients);
    out.extend_from_slice(&[0x30, 0x80]); // EncryptedContentInfo
    out.extend(ID_DATA.to_der().map_err(malformed)?);
    out.extend(alg.to_der().map_err(malformed)?);
    out.extend_from_slice(&[0xa0, 0x80]); // [0] IMPLICIT encryptedContent, constructed
    for chunk in ciphertext.chunks(CHUNK) {
        out.extend(
            OctetString::new(chunk.to_vec()).map_err(malformed)?.to_der().map_err(malformed)?,
        );
    }
    out.extend_from_slice(&[0, 0, 0, 0, 0, 0, 0, 0, 0, 0]); // five end-of-contents
    Ok(out)
}

/// Encrypts like [`encrypt_enveloped_ber`] but in DER (definite lengths), as `openssl smime`
/// writes; used to test that both encodings decrypt.
pub fn encrypt_enveloped_der(
    plaintext: &[u8],
    recipient_cert_der: &[u8],
) -> Result<Vec<u8>, CmsError> {
    let ber = encrypt_enveloped_ber(plaintext, recipient_cert_der)?;
    let info = ContentInfo::from_ber(&ber).map_err(malformed)?;
    let env: EnvelopedData =
        info.content.decode_as_encoding(EncodingRules::Ber).map_err(malformed)?;
    ContentInfo {
        content_type: ID_ENVELOPED_DATA,
        content: Any::encode_from(&env).map_err(malformed)?,
    }
    .to_der()
    .map_err(malformed)
}

/// The content ciphers accepted.
enum Cipher {
    Aes128,
    Aes192,
    Aes256,
}

impl Cipher {
    fn from_algorithm(alg: &AlgorithmIdentifierOwned) -> Result<Cipher, CmsError> {
        match alg.oid {
            o if o == AES_128_CBC => Ok(Cipher::Aes128),
            o if o == AES_192_CBC => Ok(Cipher::Aes192),
            o if o == AES_256_CBC => Ok(Cipher::Aes256),
            o if o == DES_EDE3_CBC => {
                Err(CmsError::UnsupportedCipher("3DES (des-ede3-cbc)".into()))
            }
            o => Err(CmsError::UnsupportedCipher(o.to_string())),
        }
    }

    fn key_len(&self) -> usize {
        match self {
            Cipher::Aes128 => 16,
            Cipher::Aes192 => 24,
            Cipher::Aes256 => 32,
        }
    }

    fn decrypt(&self, cek: &[u8], iv: &[u8], ciphertext: &[u8]) -> Result<Vec<u8>, CmsError> {
        if cek.len() != self.key_len() {
            return Err(CmsError::WrongKey);
        }
        if iv.len() != 16 || ciphertext.is_empty() || !ciphertext.len().is_multiple_of(16) {
            return Err(CmsError::Malformed(
                "the encrypted content is not whole AES blocks".into(),
            ));
        }
        let out = match self {
            Cipher::Aes128 => cbc::Decryptor::<aes::Aes128>::new_from_slices(cek, iv)
                .map_err(malformed)?
                .decrypt_padded_vec::<Pkcs7>(ciphertext),
            Cipher::Aes192 => cbc::Decryptor::<aes::Aes192>::new_from_slices(cek, iv)
                .map_err(malformed)?
                .decrypt_padded_vec::<Pkcs7>(ciphertext),
            Cipher::Aes256 => cbc::Decryptor::<aes::Aes256>::new_from_slices(cek, iv)
                .map_err(malformed)?
                .decrypt_padded_vec::<Pkcs7>(ciphertext),
        };
        out.map_err(|_| CmsError::WrongKey)
    }
}

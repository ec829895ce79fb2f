//! EnvelopedData (RFC 5652 §6): decrypt with an RSA private key, encrypt the way Apple does.
//!
//! Decryption accepts BER (reshaped by [`super::normalize`] where `der` is stricter than BER)
//! and DER, KeyTransRecipientInfo with `rsaEncryption` (RSAES-PKCS1-v1_5) and AES-CBC or
//! 3DES-CBC content (see [`super::cipher`]). rsa 0.10 decrypts PKCS#1 v1.5 with implicit
//! rejection: a wrong key yields a synthetic key, not an error. We detect that by requiring the
//! recovered key to have exactly the cipher's key length and the content to unpad cleanly;
//! callers also check the plaintext's shape (a random key passes both tests with a
//! probability of roughly 2^-16).

use super::ber::{self, BerWriter, CertificateAny, IssuerAndSerialNumberAny, oid_name};
use super::cipher::{ContentCipher, MAX_IV_LEN, cipher_name};
use super::{CmsError, Recipient};
use cms::content_info::CmsVersion;
use cms::enveloped_data::{EnvelopedData, KeyTransRecipientInfo, RecipientInfo};
use const_oid::db::rfc5911::{ID_DATA, ID_ENVELOPED_DATA};
use const_oid::db::rfc5912::RSA_ENCRYPTION;
use der::asn1::{OctetString, SetOfVec};
use der::{Any, Decode, Encode, Sequence, ValueOrd};
use rsa::pkcs8::DecodePublicKey;
use rsa::{Pkcs1v15Encrypt, PrivateKey, PublicKey};
use spki::AlgorithmIdentifierOwned;
use x509_cert::Certificate;
use zeroize::Zeroizing;

/// Size of the OCTET STRING chunks inside the constructed encryptedContent. OpenSSL's
/// streaming encoder uses 4 KiB pieces; a server token (~512 bytes) fits in one chunk, as in
/// Apple's tokens.
const CHUNK: usize = 4096;

/// Decrypts an EnvelopedData (BER or DER) with `key` and returns the content.
///
/// A key that does not open the message gives [`CmsError::WrongKey`].
pub fn decrypt_enveloped(bytes: &[u8], key: &PrivateKey) -> Result<Vec<u8>, CmsError> {
    decrypt(bytes, key, None)
}

/// Like [`decrypt_enveloped`], knowing the key's certificate (DER): recipients that designate
/// it are tried first, and a [`CmsError::WrongKey`] says when no recipient designates it.
pub fn decrypt_enveloped_for_cert(
    bytes: &[u8],
    key: &PrivateKey,
    cert_der: &[u8],
) -> Result<Vec<u8>, CmsError> {
    let cert =
        Certificate::from_der(cert_der).map_err(|e| CmsError::BadCertificate(e.to_string()))?;
    decrypt(bytes, key, Some(&cert))
}

/// The recipients an EnvelopedData is addressed to, without decrypting it.
pub fn recipients(bytes: &[u8]) -> Result<Vec<Recipient>, CmsError> {
    let data = parse(bytes)?;
    Ok(key_transport_recipients(&data).map(|k| Recipient::from_rid(&k.rid)).collect())
}

/// The content cipher of an EnvelopedData, without decrypting it; [`CmsError::UnsupportedCipher`]
/// names one adebox does not accept.
pub fn content_cipher(bytes: &[u8]) -> Result<ContentCipher, CmsError> {
    cipher_of(&parse(bytes)?)
}

fn cipher_of(data: &EnvelopedData) -> Result<ContentCipher, CmsError> {
    let oid = &data.encrypted_content.content_enc_alg.oid;
    ContentCipher::from_oid(oid).ok_or_else(|| CmsError::UnsupportedCipher(cipher_name(oid)))
}

fn parse(bytes: &[u8]) -> Result<EnvelopedData, CmsError> {
    let bytes = super::normalize::enveloped_data(bytes)?;
    let info = ber::content_info(&bytes, ID_ENVELOPED_DATA, "EnvelopedData")?;
    ber::decode_content::<EnvelopedData>(&info)
}

fn key_transport_recipients(data: &EnvelopedData) -> impl Iterator<Item = &KeyTransRecipientInfo> {
    data.recip_infos.0.iter().filter_map(|ri| match ri {
        RecipientInfo::Ktri(k) => Some(k),
        _ => None,
    })
}

fn decrypt(
    bytes: &[u8],
    key: &PrivateKey,
    cert: Option<&Certificate>,
) -> Result<Vec<u8>, CmsError> {
    let data = parse(bytes)?;
    // The content algorithm is checked before any key: a message we could never decrypt
    // should say why rather than blame the key.
    let eci = &data.encrypted_content;
    let cipher = cipher_of(&data)?;
    let iv = eci
        .content_enc_alg
        .parameters
        .as_ref()
        .and_then(|p| p.decode_as::<OctetString>().ok())
        .filter(|iv| iv.as_bytes().len() == cipher.iv_len())
        .ok_or_else(|| {
            CmsError::Malformed(format!(
                "the {} parameters are not a {}-byte IV",
                cipher_name(&cipher.oid()),
                cipher.iv_len()
            ))
        })?;
    let ciphertext = eci.encrypted_content.as_ref().ok_or(CmsError::NoContent)?.as_bytes();

    let mut candidates: Vec<&KeyTransRecipientInfo> =
        key_transport_recipients(&data).filter(|k| k.key_enc_alg.oid == RSA_ENCRYPTION).collect();
    if candidates.is_empty() {
        return Err(CmsError::UnsupportedRecipient(describe_recipients(&data)));
    }
    let addressed_to: Vec<Recipient> =
        candidates.iter().map(|k| Recipient::from_rid(&k.rid)).collect();
    let designates_cert = |k: &&KeyTransRecipientInfo| {
        cert.is_some_and(|c| Recipient::from_rid(&k.rid).designates(c))
    };
    // Stable sort: recipients naming the key's certificate first, then the rest in order.
    candidates.sort_by_key(|k| !designates_cert(k));

    for ktri in &candidates {
        // An error here is a public one (ciphertext longer than the modulus): not our key.
        let Ok(cek) = key.decrypt(Pkcs1v15Encrypt, ktri.enc_key.as_bytes()).map(Zeroizing::new)
        else {
            continue;
        };
        if let Some(plaintext) = cipher.decrypt(&cek, iv.as_bytes(), ciphertext) {
            return Ok(plaintext);
        }
    }
    let key_certificate = match cert {
        Some(c) if !candidates.iter().any(designates_cert) => Some(Recipient::of_certificate(c)),
        _ => None,
    };
    Err(CmsError::WrongKey { addressed_to, key_certificate })
}

/// A `KeyTransRecipientInfo` (RFC 5652 §6.2.1) naming its recipient by issuer and serial
/// number, of any serial-number length (the stock type refuses more than 20 bytes).
#[derive(Clone, Debug, Eq, PartialEq, Sequence, ValueOrd)]
struct KeyTransRecipientAny {
    version: CmsVersion,
    rid: IssuerAndSerialNumberAny,
    key_enc_alg: AlgorithmIdentifierOwned,
    enc_key: OctetString,
}

fn describe_recipients(data: &EnvelopedData) -> String {
    let kinds: Vec<String> = data
        .recip_infos
        .0
        .iter()
        .map(|ri| match ri {
            RecipientInfo::Ktri(k) => {
                format!("key transport with {}", oid_name(&k.key_enc_alg.oid))
            }
            RecipientInfo::Kari(_) => "key agreement".into(),
            RecipientInfo::Kekri(_) => "pre-shared key".into(),
            RecipientInfo::Pwri(_) => "password".into(),
            RecipientInfo::Ori(_) => "other".into(),
        })
        .collect();
    format!("only RSA key transport is supported, the message has {}", kinds.join(", "))
}

/// Encrypts `plaintext` for the RSA key in `recipient_cert_der`, shaped like Apple's server
/// tokens (../shared/spec/dep-api.md §1.4): a BER indefinite-length ContentInfo holding
/// EnvelopedData v0 with one KeyTransRecipientInfo v0 (issuerAndSerialNumber, rsaEncryption
/// with NULL parameters), content type `data`, AES-128-CBC with a random IV, and the
/// encrypted content as a constructed indefinite `[0]` of OCTET STRING chunks.
pub fn encrypt_enveloped_ber(
    plaintext: &[u8],
    recipient_cert_der: &[u8],
) -> Result<Vec<u8>, CmsError> {
    encrypt_enveloped_ber_with(plaintext, recipient_cert_der, ContentCipher::Aes128Cbc)
}

/// [`encrypt_enveloped_ber`] with another content cipher: a SCEP reply is encrypted with the
/// cipher its request used, which the client is known to have.
pub fn encrypt_enveloped_ber_with(
    plaintext: &[u8],
    recipient_cert_der: &[u8],
    cipher: ContentCipher,
) -> Result<Vec<u8>, CmsError> {
    // Any serial-number length: a SCEP reply goes to the client's own self-signed certificate.
    let cert = CertificateAny::from_der(recipient_cert_der)
        .map_err(|e| CmsError::BadCertificate(e.to_string()))?;
    let spki = cert.tbs_certificate().subject_public_key_info();
    if spki.algorithm.oid != RSA_ENCRYPTION {
        return Err(CmsError::BadCertificate(format!(
            "its key is {}, not RSA",
            oid_name(&spki.algorithm.oid)
        )));
    }
    let public = PublicKey::from_public_key_der(&spki.to_der()?)
        .map_err(|e| CmsError::BadCertificate(format!("its RSA key is unusable: {e}")))?;

    let cek = Zeroizing::new(crate::crypto::random_bytes::<32>());
    let cek = &cek[..cipher.key_len()];
    let iv = &crate::crypto::random_bytes::<MAX_IV_LEN>()[..cipher.iv_len()];
    let enc_key = public
        .encrypt(&mut getrandom::SysRng, Pkcs1v15Encrypt, cek)
        .map_err(|e| CmsError::Encrypt(e.to_string()))?;
    let ciphertext = cipher
        .encrypt(cek, iv, plaintext)
        .expect("the key and IV are generated with the cipher's lengths");

    let recipient = KeyTransRecipientAny {
        version: CmsVersion::V0,
        rid: IssuerAndSerialNumberAny::of(&cert),
        key_enc_alg: AlgorithmIdentifierOwned {
            oid: RSA_ENCRYPTION,
            parameters: Some(Any::null()),
        },
        enc_key: OctetString::new(enc_key)?,
    };
    let content_alg = AlgorithmIdentifierOwned {
        oid: cipher.oid(),
        parameters: Some(Any::encode_from(&OctetString::new(iv.to_vec())?)?),
    };

    let mut w = BerWriter::default();
    w.begin(0x30); // ContentInfo
    w.der(&ID_ENVELOPED_DATA.to_der()?);
    w.begin(0xa0); // [0] EXPLICIT content
    w.begin(0x30); // EnvelopedData
    w.der(&CmsVersion::V0.to_der()?);
    w.der(&SetOfVec::try_from(vec![recipient])?.to_der()?);
    w.begin(0x30); // EncryptedContentInfo
    w.der(&ID_DATA.to_der()?);
    w.der(&content_alg.to_der()?);
    w.begin(0xa0); // [0] IMPLICIT OCTET STRING, constructed
    for chunk in ciphertext.chunks(CHUNK) {
        w.primitive(0x04, chunk);
    }
    for _ in 0..5 {
        w.end(); // [0], EncryptedContentInfo, EnvelopedData, [0], ContentInfo
    }
    Ok(w.finish())
}

//! BER that `der`'s BER mode refuses, reshaped before it reads an EnvelopedData.
//!
//! `der` 0.8 reads indefinite lengths and chunked OCTET STRINGs with an indefinite length
//! (Apple's shape, ../shared/spec/dep-api.md §1.4), but refuses a chunked OCTET STRING with a
//! definite length as "not canonically encoded" — valid BER (X.690 §8.7.3) that SCEP clients
//! send: Go's `pkcs7` (micromdm's `scepclient`, many MDM agents) writes the encryptedContent
//! as a constructed `[0]` of one OCTET STRING. [`enveloped_data`] re-encodes a ContentInfo as
//! a tree of tag-length-value nodes with definite lengths, every chunked OCTET STRING joined
//! into one primitive value, and the EncryptedContentInfo's `[0] IMPLICIT OCTET STRING` too
//! (its type is known only by its place, RFC 5652 §6.1). Signed bytes never pass through here:
//! re-encoding would break a signature, and an envelope is checked by decrypting it.
//!
//! Hand-written because it is a few dozen lines over X.690's length rules; the ASN.1 crates
//! in the tree either refuse this form (`der`) or would need the whole CMS schema restated.

use super::{CmsError, MAX_CMS_LEN};
use std::borrow::Cow;

/// Deepest nesting read; an EnvelopedData is about eight levels deep.
const MAX_DEPTH: usize = 32;
/// `[0]` constructed: the ContentInfo's content and the EncryptedContentInfo's content.
const CONTEXT_0_CONSTRUCTED: u8 = 0xa0;
const SEQUENCE: u8 = 0x30;
const OCTET_STRING: u8 = 0x04;
const OID: u8 = 0x06;

/// One tag-length-value; only single-byte tags (every tag CMS uses).
struct Node<'a> {
    tag: u8,
    body: Body<'a>,
}

enum Body<'a> {
    Primitive(Cow<'a, [u8]>),
    Constructed(Vec<Node<'a>>),
}

/// A BER ContentInfo holding an EnvelopedData, re-encoded for `der` (see the module docs).
/// Other shapes come back re-encoded with definite lengths, for the caller's parser to judge.
pub(super) fn enveloped_data(bytes: &[u8]) -> Result<Vec<u8>, CmsError> {
    if bytes.len() > MAX_CMS_LEN {
        return Err(CmsError::TooLarge { len: bytes.len(), max: MAX_CMS_LEN });
    }
    let (mut root, rest) = read(bytes, 0)?;
    if !rest.is_empty() {
        return Err(malformed("trailing bytes after the message"));
    }
    if let Some(eci) = encrypted_content_info(&mut root)
        && let Body::Constructed(children) = &mut eci.body
    {
        for child in children.iter_mut().filter(|c| c.tag == CONTEXT_0_CONSTRUCTED) {
            let joined = join_octets(child)?;
            *child = Node { tag: 0x80, body: Body::Primitive(Cow::Owned(joined)) };
        }
    }
    let mut out = Vec::with_capacity(bytes.len());
    write(&root, &mut out);
    Ok(out)
}

/// ContentInfo → `[0]` → EnvelopedData → its one SEQUENCE starting with an OID.
fn encrypted_content_info<'n, 'a>(root: &'n mut Node<'a>) -> Option<&'n mut Node<'a>> {
    let content = children(root)?.iter_mut().find(|c| c.tag == CONTEXT_0_CONSTRUCTED)?;
    let enveloped = children(content)?.first_mut().filter(|c| c.tag == SEQUENCE)?;
    children(enveloped)?.iter_mut().find(|c| {
        c.tag == SEQUENCE
            && matches!(&c.body, Body::Constructed(k) if k.first().is_some_and(|f| f.tag == OID))
    })
}

fn children<'n, 'a>(node: &'n mut Node<'a>) -> Option<&'n mut Vec<Node<'a>>> {
    match &mut node.body {
        Body::Constructed(c) => Some(c),
        Body::Primitive(_) => None,
    }
}

/// The content of a constructed OCTET STRING: its chunks (OCTET STRINGs, maybe chunked
/// themselves) joined.
fn join_octets(node: &Node) -> Result<Vec<u8>, CmsError> {
    match &node.body {
        Body::Primitive(bytes) => Ok(bytes.to_vec()),
        Body::Constructed(chunks) => {
            let mut out = Vec::new();
            for chunk in chunks {
                if chunk.tag & !0x20 != OCTET_STRING {
                    return Err(malformed("a chunked OCTET STRING holds something else"));
                }
                out.extend(join_octets(chunk)?);
            }
            Ok(out)
        }
    }
}

/// Reads one node; returns it and the bytes after it.
fn read(bytes: &[u8], depth: usize) -> Result<(Node<'_>, &[u8]), CmsError> {
    if depth > MAX_DEPTH {
        return Err(malformed("nested too deeply"));
    }
    let [tag, first, rest @ ..] = bytes else { return Err(malformed("truncated")) };
    if tag & 0x1f == 0x1f {
        return Err(malformed("a multi-byte tag"));
    }
    let constructed = tag & 0x20 != 0;
    if *first == 0x80 {
        if !constructed {
            return Err(malformed("an indefinite length on a primitive value"));
        }
        let mut kids = Vec::new();
        let mut rest = rest;
        loop {
            if let [0, 0, after @ ..] = rest {
                return Ok((node(*tag, Body::Constructed(kids))?, after));
            }
            let (kid, after) = read(rest, depth + 1)?;
            kids.push(kid);
            rest = after;
        }
    }
    let (len, rest) = match *first {
        n if n < 0x80 => (n as usize, rest),
        n => {
            let count = (n & 0x7f) as usize;
            if count > 4 || rest.len() < count {
                return Err(malformed("a length too long to be read"));
            }
            let len = rest[..count].iter().fold(0usize, |acc, b| (acc << 8) | *b as usize);
            (len, &rest[count..])
        }
    };
    if rest.len() < len {
        return Err(malformed("truncated"));
    }
    let (content, after) = rest.split_at(len);
    let body = if constructed {
        let mut kids = Vec::new();
        let mut inner = content;
        while !inner.is_empty() {
            let (kid, more) = read(inner, depth + 1)?;
            kids.push(kid);
            inner = more;
        }
        Body::Constructed(kids)
    } else {
        Body::Primitive(Cow::Borrowed(content))
    };
    Ok((node(*tag, body)?, after))
}

/// A node as read; a chunked universal OCTET STRING (0x24) is joined into a primitive one.
fn node(tag: u8, body: Body<'_>) -> Result<Node<'_>, CmsError> {
    let node = Node { tag, body };
    if tag == OCTET_STRING | 0x20 {
        return Ok(Node {
            tag: OCTET_STRING,
            body: Body::Primitive(Cow::Owned(join_octets(&node)?)),
        });
    }
    Ok(node)
}

/// Writes a node with definite, shortest-form lengths.
fn write(node: &Node, out: &mut Vec<u8>) {
    let content = match &node.body {
        Body::Primitive(bytes) => Cow::Borrowed(&bytes[..]),
        Body::Constructed(kids) => {
            let mut inner = Vec::new();
            for kid in kids {
                write(kid, &mut inner);
            }
            Cow::Owned(inner)
        }
    };
    out.push(node.tag);
    let len = content.len();
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes = len.to_be_bytes();
        let skip = bytes.iter().take_while(|b| **b == 0).count();
        out.push(0x80 | (bytes.len() - skip) as u8);
        out.extend_from_slice(&bytes[skip..]);
    }
    out.extend_from_slice(&content);
}

fn malformed(what: &str) -> CmsError {
    CmsError::Malformed(format!("the BER encoding is not readable: {what}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// ContentInfo { envelopedData, [0] { SEQUENCE { INTEGER 0, SET {}, SEQUENCE { OID data,
    /// SEQUENCE {}, `encrypted` } } } } with definite lengths throughout.
    fn envelope(encrypted: &[u8]) -> Vec<u8> {
        let tlv = |tag: u8, parts: &[&[u8]]| {
            let content = parts.concat();
            let mut out = vec![tag];
            if content.len() < 0x80 {
                out.push(content.len() as u8);
            } else {
                out.extend([0x82, (content.len() >> 8) as u8, content.len() as u8]);
            }
            out.extend(content);
            out
        };
        let data_oid = [0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x01];
        let env_oid = [0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x03];
        let eci = tlv(SEQUENCE, &[&data_oid, &[0x30, 0x00], encrypted]);
        let ed = tlv(SEQUENCE, &[&[0x02, 0x01, 0x00], &[0x31, 0x00], &eci]);
        tlv(SEQUENCE, &[&env_oid, &tlv(0xa0, &[&ed])])
    }

    #[test]
    fn joins_a_definite_length_chunked_encrypted_content() {
        // What Go's pkcs7 writes: [0] constructed, definite, holding one OCTET STRING.
        let go = envelope(&[0xa0, 0x07, 0x04, 0x02, 1, 2, 0x04, 0x01, 3]);
        let flat = envelope(&[0x80, 0x03, 1, 2, 3]);
        assert_eq!(enveloped_data(&go).unwrap(), flat);
        assert_eq!(enveloped_data(&flat).unwrap(), flat, "DER passes unchanged");
    }

    #[test]
    fn turns_indefinite_lengths_into_definite_ones() {
        let mut indefinite = vec![0x30, 0x80];
        indefinite.extend(&envelope(&[0x80, 0x01, 9])[2..]);
        indefinite.extend([0, 0]);
        assert_eq!(enveloped_data(&indefinite).unwrap(), envelope(&[0x80, 0x01, 9]));
    }

    #[test]
    fn refuses_broken_input_without_panicking() {
        for bytes in [
            &b""[..],
            &[0x30],
            &[0x30, 0x05, 0x02],
            &[0x30, 0x80, 0x02, 0x01, 0x00],
            &[0x04, 0x80, 0, 0],
            &[0x30, 0x85, 1, 1, 1, 1, 1],
            &[0x1f, 0x01, 0x00],
            &[0x30, 0x00, 0x00],
        ] {
            assert!(enveloped_data(bytes).is_err(), "{bytes:02x?}");
        }
        let deep: Vec<u8> = std::iter::repeat_n([0x30, 0x80], 40).flatten().collect();
        assert!(enveloped_data(&deep).is_err());
    }
}

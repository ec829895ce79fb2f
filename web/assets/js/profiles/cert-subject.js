/**
 * profiles/cert-subject.js — what a PEM certificate says about itself, read in the page so a
 * Configurator certificate is listed by its subject (“Apple Configurator (Lab Mac)”, valid
 * until …) rather than by its base64. Reads just enough DER (X.509 TBSCertificate: version,
 * serial, signature, issuer, validity, subject); anything it cannot read returns null and the
 * caller falls back to its size.
 *
 * Exposes: `certSubject(pem)` → `{subject, notAfter}` or null.
 * Must not use: the API or the DOM.
 */

function base64Bytes(pem) {
  const body = String(pem).replace(/-----[A-Z ]+-----/g, '').replace(/\s+/g, '');
  try {
    const raw = atob(body);
    return Uint8Array.from(raw, (c) => c.charCodeAt(0));
  } catch {
    return null;
  }
}

/** One DER element at `at`: {tag, start (of contents), end}. Throws on a malformed length. */
function element(bytes, at) {
  const tag = bytes[at];
  let len = bytes[at + 1];
  let start = at + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n < 1 || n > 3) throw new Error('length');
    len = 0;
    for (let i = 0; i < n; i += 1) len = (len << 8) | bytes[start + i];
    start += n;
  }
  const end = start + len;
  if (tag === undefined || end > bytes.length) throw new Error('truncated');
  return { tag, start, end };
}

function children(bytes, parent) {
  const out = [];
  for (let at = parent.start; at < parent.end;) {
    const e = element(bytes, at);
    out.push(e);
    at = e.end;
  }
  return out;
}

const OID_NAMES = { '2.5.4.3': 'CN', '2.5.4.10': 'O', '2.5.4.11': 'OU' };

function oid(bytes, e) {
  const b = bytes.subarray(e.start, e.end);
  const parts = [Math.floor(b[0] / 40), b[0] % 40];
  let value = 0;
  for (const x of b.subarray(1)) {
    value = value * 128 + (x & 0x7f);
    if (!(x & 0x80)) {
      parts.push(value);
      value = 0;
    }
  }
  return parts.join('.');
}

function text(bytes, e) {
  return new TextDecoder().decode(bytes.subarray(e.start, e.end));
}

function nameOf(bytes, name) {
  const found = {};
  for (const rdn of children(bytes, name)) {
    for (const atv of children(bytes, rdn)) {
      const [type, value] = children(bytes, atv);
      const key = OID_NAMES[oid(bytes, type)];
      if (key && !found[key]) found[key] = text(bytes, value);
    }
  }
  return found.CN ?? [found.O, found.OU].filter(Boolean).join(', ') ?? '';
}

function timeOf(bytes, e) {
  const t = text(bytes, e);
  // UTCTime YYMMDDhhmmssZ (years 50–99 are 19xx) or GeneralizedTime YYYYMMDDhhmmssZ.
  const m = e.tag === 0x17 ? /^(\d{2})(\d{2})(\d{2})/.exec(t) : /^(\d{4})(\d{2})(\d{2})/.exec(t);
  if (!m) return null;
  const year = e.tag === 0x17 ? (Number(m[1]) >= 50 ? 1900 : 2000) + Number(m[1]) : Number(m[1]);
  return new Date(Date.UTC(year, Number(m[2]) - 1, Number(m[3])));
}

export function certSubject(pem) {
  const bytes = base64Bytes(pem);
  if (!bytes || bytes.length < 16) return null;
  try {
    const cert = element(bytes, 0);
    const tbs = children(bytes, cert)[0];
    let fields = children(bytes, tbs);
    if (fields[0]?.tag === 0xa0) fields = fields.slice(1); // the explicit version
    const [, , , validity, subject] = fields;
    const [, notAfter] = children(bytes, validity);
    return { subject: nameOf(bytes, subject) || '(no subject name)', notAfter: timeOf(bytes, notAfter) };
  } catch {
    return null;
  }
}

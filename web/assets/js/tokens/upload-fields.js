/**
 * tokens/upload-fields.js — the fields the add and renew forms share: the server token
 * (choose the `.p7m` file or paste its text) and the Apple Account that downloaded it, each
 * checked as the admin types for what can be told locally (a certificate or key where the
 * token belongs, an address that is not one).
 *
 * Exposes: `tokenFileField({id})` → `{field, input, validate, fill(text)}`;
 * `appleIdField({id, required, value})` → `{field, input, validate}`.
 * Must not use: the API.
 */

import { h } from '../dom.js';
import { clearFieldError, fileToField, liveValidate, textField } from '../components/form.js';

// A .p7m from Apple Business Manager is a few kilobytes; anything much bigger is another file.
const MAX_TOKEN_BYTES = 64 * 1024;
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

export function checkTokenText(value) {
  if (value.trim() === '') return 'Choose the .p7m file you downloaded from Apple Business Manager, or paste its text.';
  if (/-----BEGIN CERTIFICATE-----/.test(value)) return 'This is a certificate (perhaps the public key from step 1), not the server token. Choose the .p7m file Apple Business Manager gave you.';
  if (/PRIVATE KEY-----/.test(value)) return 'This is a private key, not the server token. Choose the .p7m file Apple Business Manager gave you.';
  return null;
}

export function checkAppleId(value, required) {
  const v = value.trim();
  if (v === '') return required ? 'Enter the Apple Account (an email address) that downloaded the token.' : null;
  return EMAIL.test(v) ? null : 'An Apple Account is an email address, such as it.admin@example.org.';
}

export function tokenFileField({ id }) {
  const built = textField({
    id, name: 'token', label: 'Server token (.p7m)', multiline: true, rows: 5,
    hint: 'Choose the file (its name ends in .p7m), or open it in a text editor and paste all of it.',
    attrs: { class: 'mono', autocomplete: 'off' },
  });
  built.field.append(fileToField(built.input, {
    label: 'Choose the .p7m file', accept: '.p7m,application/pkcs7-mime,.txt', id: `${id}-file`, maxBytes: MAX_TOKEN_BYTES,
  }));
  const validate = liveValidate(built.input, checkTokenText);
  const fill = (text) => {
    built.input.value = text;
    clearFieldError(built.input);
  };
  return { field: built.field, input: built.input, validate, fill };
}

export function appleIdField({ id, required = true, value = '' }) {
  const built = textField({
    id, name: 'apple_id', label: 'Apple Account that downloaded the token', type: 'email', required, value,
    autocomplete: 'email',
    hint: 'The email address you signed in to Apple Business Manager with. It is shown on the token so the next person knows whose account to use for the renewal.',
    attrs: { spellcheck: 'false', autocapitalize: 'off' },
  });
  const validate = liveValidate(built.input, (v) => checkAppleId(v, required));
  return { field: built.field, input: built.input, validate };
}

/** A link that saves `text` as a file named `name` (the rehearsal's .p7m). */
export function textDownloadLink(text, name, { id, label, type = 'application/pkcs7-mime' }) {
  const url = URL.createObjectURL(new Blob([text], { type }));
  return h('a', { class: 'button', id, href: url, download: name }, label);
}

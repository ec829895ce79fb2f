/**
 * profiles/certs.js — the certificates of the Macs allowed to pair with a device when sync
 * with computers is "Allow Apple Configurator by certificate" (supervising_host_certs, at most
 * 10): choose PEM files (several at once; a file holding several certificates is split) or
 * paste one, see each in a list, remove any.
 *
 * Exposes: `certsSlot()` → a field slot (field-kit.js) named `supervising_host_certs`, with
 * `itemLabel(index)` so an error on `supervising_host_certs.<n>` names the certificate.
 * Element ids for tests: #certs (root), #certs-file, #certs-paste, #certs-add, #certs-list
 * (items data-index).
 * Must not use: the API.
 */

import { h, replaceChildren } from '../dom.js';
import { formatDate, formatNumber } from '../format.js';
import { certSubject } from './cert-subject.js';
import { slot } from './field-kit.js';

const MAX_CERTS = 10;
const MAX_FILE_BYTES = 256 * 1024;
const PEM_BLOCK = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g;

/** Every certificate block in a text; the whole text when it has none (the check then says so). */
export function splitPem(text) {
  const blocks = String(text).match(PEM_BLOCK);
  return blocks ? blocks.map((b) => b.trim()) : [String(text).trim()].filter(Boolean);
}

/** The certificate by its subject and end date; one the page cannot read by its size. */
function summary(pem) {
  const info = certSubject(pem);
  if (info) {
    const until = info.notAfter ? `, valid until ${formatDate(info.notAfter.toISOString())}` : '';
    return `${info.subject}${until}`;
  }
  const body = pem.replace(/-----[A-Z ]+-----/g, '').replace(/\s+/g, '');
  return body ? `not a readable certificate (${formatNumber(Math.round((body.length * 3) / 4))} bytes)` : 'empty';
}

export function certsSlot() {
  let certs = [];
  const anchor = h('div', { id: 'certs', class: 'certs field', tabindex: '-1', 'aria-describedby': 'certs-error certs-warning' });
  const list = h('ol', { id: 'certs-list', class: 'certs-list' });
  const file = h('input', { type: 'file', id: 'certs-file', accept: '.pem,.crt,.cer,application/x-pem-file', multiple: true, class: 'file-input' });
  const paste = h('textarea', { id: 'certs-paste', rows: 4, class: 'mono', spellcheck: 'false', autocomplete: 'off', placeholder: '-----BEGIN CERTIFICATE-----' });
  const add = h('button', { type: 'button', class: 'button button-small', id: 'certs-add' }, 'Add the pasted certificate');
  const error = h('p', { class: 'field-error', id: 'certs-error', hidden: true });
  const warning = h('p', { class: 'field-warning', id: 'certs-warning', hidden: true });
  const room = h('p', { class: 'muted small', 'aria-live': 'polite' });

  const changed = () => {
    render();
    anchor.dispatchEvent(new Event('input', { bubbles: true }));
  };

  function render() {
    replaceChildren(list, certs.map((pem, i) => {
      const remove = h('button', { type: 'button', class: 'button button-small button-danger-quiet' }, 'Remove', h('span', { class: 'sr-only' }, ` certificate ${i + 1}`));
      remove.addEventListener('click', () => {
        certs.splice(i, 1);
        changed();
        (list.querySelector('button') ?? file).focus();
      });
      return h('li', { dataset: { index: String(i) } }, h('span', {}, `Certificate ${i + 1}: `, h('span', { class: 'cert-summary' }, summary(pem))), remove);
    }));
    list.hidden = certs.length === 0;
    room.textContent = certs.length === 0
      ? 'No certificate yet: no computer can pair until you add one.'
      : `${certs.length} of ${MAX_CERTS} certificates.`;
    const full = certs.length >= MAX_CERTS;
    file.disabled = full;
    add.disabled = full;
  }

  file.addEventListener('change', async () => {
    for (const f of [...(file.files ?? [])]) {
      if (f.size > MAX_FILE_BYTES) {
        error.textContent = `“${f.name}” is too large for a certificate file (${Math.ceil(f.size / 1024)} KiB). Choose the PEM certificate of the Mac.`;
        error.hidden = false;
        continue;
      }
      try {
        certs.push(...splitPem(await f.text()));
      } catch {
        error.textContent = `Could not read “${f.name}”. Choose it again or paste its contents.`;
        error.hidden = false;
      }
    }
    file.value = '';
    changed();
  });
  add.addEventListener('click', () => {
    if (paste.value.trim() === '') {
      paste.focus();
      return;
    }
    certs.push(...splitPem(paste.value));
    paste.value = '';
    changed();
  });

  anchor.append(
    room, list,
    h('div', { class: 'file-choice' }, h('label', { for: 'certs-file' }, 'Choose certificate files (PEM)'), file),
    h('div', { class: 'field' }, h('label', { for: 'certs-paste' }, 'Or paste a certificate'), paste),
    h('div', { class: 'actions' }, add), error, warning);
  render();

  return {
    ...slot({
      name: 'supervising_host_certs', element: anchor, anchor,
      read: () => [...certs],
      write: (value) => {
        certs = [...(value ?? [])];
        render();
      },
      focus: () => (list.querySelector('button') ?? file).focus(),
    }),
    itemLabel: (index) => `Certificate ${Number(index) + 1}`,
  };
}

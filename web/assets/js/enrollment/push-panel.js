/**
 * enrollment/push-panel.js — the "Push certificate" section of the Enrollment page: the Apple
 * push (APNs) certificate every enrollment profile names, and how to get and renew it.
 *
 * Owns: loading `GET /api/v1/push` (state as a badge with words, topic, expiry, guidance), making
 * a request (`POST /api/v1/push/request`) and downloading its CSR (`/api/v1/push/request.csr`),
 * the optional vendor-signed request (`POST /api/v1/push/request/vendor-signed`, saved as a
 * file), and uploading the portal's certificate (`POST /api/v1/push/certificate`; server errors
 * next to the field, what was pasted stays on failure).
 * Exposes: `pushPanel(ctx, onChange)` → element; `onChange(status)` after every load.
 * Element ids for tests: #push-certificate, #push-state ([data-state]), #push-topic,
 * #push-new-request, #push-csr-download, #push-vendor-form, #push-upload-form, #push-cert-pem,
 * #push-upload-submit.
 * Must not use: anything but the API, the components and the ctx it is given.
 */

import { h, replaceChildren } from '../dom.js';
import { apiGet, apiPost, apiUrl } from '../api.js';
import { badge, expiryBadge } from '../components/badge.js';
import { actionsRow, fileToField, liveValidate, runSubmit, setBusy, textField } from '../components/form.js';
import { panel } from '../components/panel.js';
import { showError, toast } from '../components/toast.js';
import { timeElement } from '../format.js';

const STATE_WORDS = {
  missing: ['No push certificate', 'danger'],
  ok: ['Valid', 'success'],
  expiring: ['Expires soon', 'warning'],
  expired: ['Expired', 'danger'],
};

function checkCert(value) {
  if (value.trim() === '') return 'Paste the certificate from the Apple Push Certificates Portal, or choose its file.';
  if (/PRIVATE KEY-----/.test(value)) return 'This is a private key. Upload only the certificate (.pem) the portal gave you.';
  if (!value.includes('-----BEGIN CERTIFICATE-----')) return 'This is not a PEM certificate: it must contain a line “-----BEGIN CERTIFICATE-----”.';
  return null;
}

function facts(status) {
  const [words, tone] = STATE_WORDS[status.state] ?? [status.state, 'neutral'];
  const rows = [['Status', h('span', { id: 'push-state', dataset: { state: status.state } }, badge(words, tone))]];
  if (status.topic) {
    rows.push(['Topic', h('code', { id: 'push-topic' }, status.topic)]);
    rows.push(['Expires', [expiryBadge(status.expires_at), ' ', timeElement(status.expires_at, { mode: 'absolute' })]]);
    if (status.renewed_at) rows.push(['Last renewed', timeElement(status.renewed_at)]);
  }
  if (status.pending_request) rows.push(['Open request', ['made ', timeElement(status.pending_request.created_at), ` by ${status.pending_request.created_by}`]]);
  return [
    h('dl', { class: 'facts' }, rows.map(([k, v]) => [h('dt', {}, k), h('dd', {}, v)])),
    h('p', { class: 'callout', id: 'push-guidance' }, status.guidance, ' ',
      h('a', { href: status.portal_url, rel: 'noopener noreferrer', target: '_blank' }, 'Open the Apple Push Certificates Portal')),
  ];
}

function requestSection(status, reload) {
  const button = h('button', { type: 'button', id: 'push-new-request', class: 'button' },
    status.pending_request ? 'Make a new request' : 'Make a certificate request');
  button.addEventListener('click', async () => {
    const restore = setBusy(button, 'Making the key and request…');
    try {
      await apiPost('/push/request', {});
      toast('Request made. Download it and upload it at the Apple Push Certificates Portal.');
      reload();
    } catch (err) {
      showError(err);
    } finally {
      restore();
    }
  });
  const download = status.pending_request
    ? h('a', { id: 'push-csr-download', class: 'button button-primary', href: apiUrl('/push/request.csr'), download: 'adebox-push.csr' }, 'Download the request (CSR)')
    : null;
  return h('div', { class: 'stack' },
    h('h3', { class: 'subtitle' }, '1. Request'),
    h('p', { class: 'muted' }, 'adebox makes a key (it never leaves the appliance) and a certificate request. Upload the request at the portal; if your MDM vendor signs requests for you, sign it below first.'),
    actionsRow(button, download),
    status.pending_request ? vendorForm() : null);
}

function vendorForm() {
  const cert = textField({ id: 'push-vendor-cert', name: 'vendor_certificate', label: 'MDM vendor certificate (PEM)', multiline: true, rows: 4, attrs: { class: 'mono', autocomplete: 'off' } });
  const key = textField({ id: 'push-vendor-key', name: 'vendor_key', label: 'MDM vendor private key (PEM)', multiline: true, rows: 4, hint: 'Used for this signature only; not kept.', attrs: { class: 'mono', autocomplete: 'off' } });
  cert.field.append(fileToField(cert.input, { label: 'Or choose the certificate file', accept: '.pem,.crt,.cer,.txt', id: 'push-vendor-cert-file' }));
  key.field.append(fileToField(key.input, { label: 'Or choose the key file', accept: '.pem,.key,.txt', id: 'push-vendor-key-file' }));
  const submit = h('button', { type: 'submit', id: 'push-vendor-submit', class: 'button' }, 'Download the vendor-signed request');
  const form = h('form', { id: 'push-vendor-form', class: 'stack', novalidate: true },
    h('details', {}, h('summary', {}, 'Sign the request with an MDM vendor certificate (optional)'),
      h('div', { class: 'grid-2' }, cert.field, key.field), actionsRow(submit)));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    runSubmit(form, {
      button: submit,
      busyLabel: 'Signing…',
      validate: () => [
        { input: cert.input, message: cert.input.value.includes('BEGIN CERTIFICATE') ? null : 'Paste the vendor certificate (PEM).' },
        { input: key.input, message: /PRIVATE KEY-----/.test(key.input.value) ? null : 'Paste the vendor private key (PEM).' },
      ],
      submit: () => apiPost('/push/request/vendor-signed', { vendor_certificate: cert.input.value, vendor_key: key.input.value }),
      onSuccess: (signed) => {
        key.input.value = '';
        const url = URL.createObjectURL(new Blob([signed.request], { type: 'text/plain' }));
        const a = h('a', { href: url, download: signed.file_name });
        document.body.append(a);
        a.click();
        a.remove();
        setTimeout(() => URL.revokeObjectURL(url), 10_000);
        toast('Signed request downloaded. Upload it at the Apple Push Certificates Portal.');
      },
    });
  });
  return form;
}

function uploadForm(status, reload) {
  const cert = textField({
    id: 'push-cert-pem', name: 'certificate', label: 'Push certificate (PEM)', multiline: true, rows: 6,
    hint: status.topic ? 'The renewed certificate: it must keep the topic shown above.' : 'The .pem file the portal gave you for this request.',
    attrs: { class: 'mono', autocomplete: 'off' },
  });
  cert.field.append(fileToField(cert.input, { label: 'Or choose the certificate file', accept: '.pem,.crt,.cer,.txt', id: 'push-cert-file' }));
  const validate = liveValidate(cert.input, checkCert);
  const submit = h('button', { type: 'submit', id: 'push-upload-submit', class: 'button button-primary' }, status.topic ? 'Upload the renewed certificate' : 'Upload the certificate');
  const form = h('form', { id: 'push-upload-form', class: 'stack', novalidate: true },
    h('h3', { class: 'subtitle' }, '2. Upload what the portal issued'), cert.field, actionsRow(submit));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    runSubmit(form, {
      button: submit,
      busyLabel: 'Checking and installing…',
      validate: () => [{ input: cert.input, message: validate() }],
      submit: () => apiPost('/push/certificate', { certificate: cert.input.value }),
      onSuccess: () => {
        cert.input.value = '';
        toast('Push certificate installed. Devices can enroll.');
        reload();
      },
    });
  });
  return form;
}

export function pushPanel(ctx, onChange = () => {}) {
  const body = h('div', { class: 'panel-body' }, h('p', { class: 'muted' }, 'Loading the push certificate…'));
  const section = panel({ id: 'push-certificate', title: 'Push certificate', intro: 'Apple’s push service wakes enrolled devices with this certificate. Every enrollment profile names its topic, so devices cannot enroll without it, and it must be renewed (not replaced) every year.' }, body);
  const load = () => apiGet('/push', { signal: ctx.signal }).then((status) => {
    replaceChildren(body, facts(status), h('hr', { class: 'divider' }), requestSection(status, load), h('hr', { class: 'divider' }), uploadForm(status, load));
    onChange(status);
  }).catch((err) => {
    if (err.name === 'AbortError') return;
    replaceChildren(body, h('p', { class: 'error-text' }, `Could not load the push certificate: ${err.message}`));
  });
  load();
  return section;
}

/**
 * views/settings/tls.js — the TLS certificate panel of Settings.
 *
 * Owns: loading `GET /api/v1/settings/tls`, the "use your own certificate" form (paste or
 * choose files for the chain PEM and the key PEM; local checks that the right kind of PEM is
 * in each box; server errors next to the field at fault; what was typed stays on failure; the
 * key is cleared once installed) and "go back to the self-managed certificate" with a
 * confirmation. A switch between the appliance CA and another certificate redefines every
 * enrollment profile at Apple (`anchor_certs`): the number of devices that re-assigns
 * (`GET /api/v1/settings/tls/switch-impact`) is shown first and must be confirmed.
 * Exposes: `tlsPanel(ctx)` → element.
 * Element ids for tests: #tls, #tls-form, #tls-cert-pem, #tls-key-pem, #tls-submit,
 * #tls-revert, #tls-switch-impact, #tls-confirm-reassign (plus the ids in tls-info.js).
 * Must not use: anything but the API, the form/dialog helpers and the ctx it is given.
 */

import { h, replaceChildren } from '../../dom.js';
import { apiDelete, apiGet, apiPost } from '../../api.js';
import { confirmDialog } from '../../components/dialog.js';
import { actionsRow, fileToField, liveValidate, runSubmit, textField } from '../../components/form.js';
import { panel } from '../../components/panel.js';
import { showError, toast } from '../../components/toast.js';
import { tlsInfo } from './tls-info.js';
import { acmeSection } from './tls-acme.js';
import { heldSection } from './tls-held.js';

const CERT_BEGIN = '-----BEGIN CERTIFICATE-----';
const KEY_BEGIN = /-----BEGIN (RSA |EC |ENCRYPTED )?PRIVATE KEY-----/;

function checkCert(value) {
  if (value.trim() === '') return 'Paste the certificate chain, or choose its file.';
  if (KEY_BEGIN.test(value)) return 'This box holds a private key. Put the key in the box below and the certificate chain here.';
  if (!value.includes(CERT_BEGIN)) return `This is not a PEM certificate: it must contain a line “${CERT_BEGIN}”.`;
  return null;
}

function checkKey(value) {
  if (value.trim() === '') return 'Paste the private key, or choose its file.';
  if (/-----BEGIN ENCRYPTED PRIVATE KEY-----/.test(value)) return 'This key is protected by a passphrase. Remove it first (e.g. openssl pkey -in key.pem -out plain.pem).';
  if (!KEY_BEGIN.test(value)) return 'This is not a PEM private key: it must contain a line like “-----BEGIN PRIVATE KEY-----”.';
  return null;
}

/** What switching away from (or back to) the appliance CA re-assigns, in words. */
function reassignText(impact) {
  const n = impact.devices_to_reassign;
  const devices = n === 1 ? '1 device' : `${n} devices`;
  const enrolled = impact.enrolled ? ` (${impact.enrolled} already set up keep their old settings until erased)` : '';
  return `Switching redefines every enrollment profile at Apple, because the profiles pin the appliance CA only while it issues this certificate: ${devices} will be re-assigned${enrolled}.`;
}

/** The count and, when devices would be re-assigned, the box that confirms it. */
function reassignConfirm(impact) {
  if (!impact || impact.devices_to_reassign === 0) return { element: null, confirmed: () => false };
  const input = h('input', { type: 'checkbox', id: 'tls-confirm-reassign', name: 'confirm' });
  const element = h('div', { class: 'field', id: 'tls-switch-impact' },
    h('p', { class: 'callout' }, reassignText(impact)),
    h('label', { for: input.id }, input, ` Re-assign ${impact.devices_to_reassign === 1 ? 'this device' : `these ${impact.devices_to_reassign} devices`}`));
  return { element, confirmed: () => input.checked };
}

function installForm(onInstalled, hosts, impact) {
  const cert = textField({
    id: 'tls-cert-pem', name: 'cert_pem', label: 'Certificate chain (PEM)', multiline: true, rows: 7,
    hint: 'Your server certificate first, then the intermediate certificates.',
    attrs: { class: 'mono', autocomplete: 'off' },
  });
  const key = textField({
    id: 'tls-key-pem', name: 'key_pem', label: 'Private key (PEM)', multiline: true, rows: 5,
    hint: 'The unencrypted key of that certificate. It is stored on the appliance only and never shown again.',
    attrs: { class: 'mono', autocomplete: 'off' },
  });
  cert.field.append(fileToField(cert.input, { label: 'Or choose the chain file', accept: '.pem,.crt,.cer,.txt', id: 'tls-cert-file' }));
  key.field.append(fileToField(key.input, { label: 'Or choose the key file', accept: '.pem,.key,.txt', id: 'tls-key-file' }));
  const validateCert = liveValidate(cert.input, checkCert);
  const validateKey = liveValidate(key.input, checkKey);
  const submit = h('button', { type: 'submit', id: 'tls-submit', class: 'button button-primary' }, 'Install certificate');
  const names = hosts.length ? hosts.join(', ') : 'the configured public host names';
  const reassign = reassignConfirm(impact);

  const form = h('form', { id: 'tls-form', class: 'stack', novalidate: true },
    h('h3', { class: 'subtitle' }, 'Use your own certificate'),
    h('p', { class: 'muted' }, `Instead of the self-managed certificate, the appliance can serve one from your own CA. It is checked before it is used: the key must match, it must not have expired, and its names must cover ${names}.`),
    h('div', { class: 'grid-2' }, cert.field, key.field), reassign.element, actionsRow(submit));

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    runSubmit(form, {
      button: submit,
      busyLabel: 'Checking and installing…',
      validate: () => [{ input: cert.input, message: validateCert() }, { input: key.input, message: validateKey() }],
      submit: () => apiPost('/settings/tls/custom', { cert_pem: cert.input.value, key_pem: key.input.value, confirm: reassign.confirmed() }),
      onSuccess: (tls) => {
        key.input.value = '';
        cert.input.value = '';
        toast('Your certificate is installed. New connections get it from now on.');
        onInstalled(tls);
      },
    });
  });
  return form;
}

function revertSection(onReverted, impact) {
  const button = h('button', { type: 'button', id: 'tls-revert', class: 'button' }, 'Go back to the self-managed certificate');
  button.addEventListener('click', async () => {
    const tls = await confirmDialog({
      id: 'tls-revert-dialog',
      title: 'Go back to the self-managed certificate?',
      message: [
        'The appliance will serve a certificate from its own CA again, and renew it by itself. Your certificate and key are removed from the appliance.',
        'Browsers and devices that trust only your CA will warn about this page until they trust the appliance CA.',
        impact && impact.devices_to_reassign > 0 ? reassignText(impact) : null,
      ].filter(Boolean),
      confirmLabel: 'Use the self-managed certificate',
      busyLabel: 'Switching…',
      action: () => apiDelete('/settings/tls/custom?confirm=true'),
    });
    if (tls) {
      toast('The self-managed certificate is in use again.');
      onReverted(tls);
    }
  });
  return h('div', { class: 'stack' },
    h('h3', { class: 'subtitle' }, 'Self-managed certificate'),
    h('p', { class: 'muted' }, 'Stop using your certificate and let the appliance issue and renew its own.'),
    actionsRow(button));
}

function configNote() {
  return h('div', { class: 'callout' },
    h('p', {}, 'This certificate is named in the configuration file (/etc/adebox/adebox.toml), so it cannot be changed here. Edit the file, then run ',
      h('code', {}, 'systemctl reload adebox'), '.'));
}

export function tlsPanel(ctx) {
  const body = h('div', { class: 'panel-body' }, h('p', { class: 'muted' }, 'Loading the certificate details…'));
  const section = panel({ id: 'tls', title: 'TLS certificate', intro: 'Browsers and devices reach this appliance over HTTPS with this certificate.' }, body);

  const show = (tls, impact) => {
    const manage = tls.acme
      ? [acmeSection(tls, changed, impact)]
      : tls.mode === 'custom_config'
      ? [configNote()]
      : [
        installForm(changed, tls.public_hosts ?? [], tls.mode === 'self_managed' ? impact : null),
        tls.mode === 'custom_upload' ? [h('hr', { class: 'divider' }), revertSection(changed, impact)] : null,
      ];
    const held = heldSection(tls, impact, changed);
    replaceChildren(body, tlsInfo(tls), h('hr', { class: 'divider' }), held, held ? h('hr', { class: 'divider' }) : null, manage);
  };
  // After a change the form that had focus is gone; start reading again at the panel title.
  const changed = (tls) => {
    apiGet('/settings/tls/switch-impact').catch(() => null).then((impact) => {
      show(tls, impact);
      section.querySelector('#tls-title').focus();
    });
  };

  Promise.all([
    apiGet('/settings/tls', { signal: ctx.signal }),
    // Only the count is missing without it: the server still asks for the confirmation.
    apiGet('/settings/tls/switch-impact', { signal: ctx.signal }).catch(() => null),
  ]).then(([tls, impact]) => show(tls, impact)).catch((err) => {
    if (err.name === 'AbortError') return;
    replaceChildren(body, h('p', { class: 'error-text' }, `Could not load the certificate details: ${err.message}`));
    showError(err);
  });
  return section;
}

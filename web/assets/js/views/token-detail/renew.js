/**
 * views/token-detail/renew.js — renewing one server token: upload the new .p7m (optionally
 * made for a new key), staged by the appliance: the current token keeps working until the new
 * one is checked with Apple and found to belong to the same MDM server. In the sandbox the
 * simulated ABM can issue the renewed token.
 *
 * Exposes: `renewPanel({token, keys, sandbox, onRenewed, onKeysChanged})` → element.
 * Element ids for tests: #renew, #renew-form, #renew-token-file, #renew-apple-id,
 * #renew-submit, #renew-new-key, #renew-key-download, #rehearse-renew, #rehearse-renew-use.
 * Must not use: anything but the API, the form helpers and the callbacks it is given.
 */

import { h, replaceChildren } from '../../dom.js';
import { apiPost, apiUrl } from '../../api.js';
import { formatDate, timeElement } from '../../format.js';
import { actionsRow, runSubmit, setBusy } from '../../components/form.js';
import { panel } from '../../components/panel.js';
import { showError, toast } from '../../components/toast.js';
import { formatFingerprint } from '../settings/tls-info.js';
import { appleIdField, textDownloadLink, tokenFileField } from '../../tokens/upload-fields.js';

export function renewPanel({ token, keys, sandbox, onRenewed, onKeysChanged }) {
  let key = keys.find((k) => k.for_token === token.id) ?? null;
  const file = tokenFileField({ id: 'renew-token-file' });
  const appleId = appleIdField({ id: 'renew-apple-id', required: false, value: token.apple_id ?? '' });
  const submit = h('button', { type: 'submit', id: 'renew-submit', class: 'button button-primary' }, 'Renew token');
  const keySlot = h('div', { class: 'stack' });
  const rehearsalSlot = h('div', { class: 'stack', 'aria-live': 'polite' });
  const form = h('form', { id: 'renew-form', class: 'stack', novalidate: true }, keySlot, file.field, appleId.field, actionsRow(submit));

  function renderKey() {
    if (key) {
      const back = h('button', { type: 'button', class: 'button button-small' }, 'Renew with the current key instead');
      back.addEventListener('click', () => { key = null; renderKey(); });
      replaceChildren(keySlot, h('div', { class: 'callout' },
        h('p', {}, 'This renewal uses a new key, made ', timeElement(key.created_at), '. Upload its public key on this server in Apple Business Manager before downloading the token.'),
        h('p', { class: 'mono small' }, formatFingerprint(key.fingerprint_sha256)),
        actionsRow(h('a', { class: 'button', id: 'renew-key-download', href: apiUrl(`/tokens/keys/${encodeURIComponent(key.id)}/public-key.pem`), download: `adebox-public-key-${key.id}.pem` }, 'Download the new public key'), back)));
    } else {
      const make = h('button', { type: 'button', class: 'button button-small', id: 'renew-new-key' }, 'Make a new key for this renewal');
      make.addEventListener('click', async () => {
        const restore = setBusy(make, 'Making the key…');
        try {
          key = await apiPost('/tokens/keys', { for_token: token.id });
          restore();
          renderKey();
          onKeysChanged?.();
          toast('New key made. Upload its public key on this server in Apple Business Manager, then download the token.');
          document.getElementById('renew-key-download')?.focus();
        } catch (err) {
          restore();
          showError(err, 'Could not make the key');
        }
      });
      replaceChildren(keySlot, h('p', { class: 'muted' }, 'Usually the current key is kept: just download a new token in Apple Business Manager. To replace the key as well (for example when the old one may have leaked), make a new one.'), actionsRow(make));
    }
  }

  function rehearsal() {
    const go = h('button', { type: 'button', id: 'rehearse-renew', class: 'button' }, 'Have the simulated ABM issue a renewed token');
    go.addEventListener('click', async () => {
      const restore = setBusy(go, 'The simulated ABM is making the token…');
      try {
        const body = key ? { key_id: key.id } : { token_id: token.id };
        const issued = await apiPost(`/sandbox/abm/servers/${encodeURIComponent(token.server_uuid)}/token`, body);
        restore();
        const use = h('button', { type: 'button', id: 'rehearse-renew-use', class: 'button' }, 'Put it into the form for me');
        use.addEventListener('click', () => { file.fill(issued.token_p7m); file.input.focus(); });
        replaceChildren(rehearsalSlot, h('p', { class: 'callout' }, `The simulated ABM issued a new token for “${issued.server_name}”. Download it and choose it below, as you would with Apple’s file.`),
          actionsRow(textDownloadLink(issued.token_p7m, issued.token_file_name, { id: 'rehearse-renew-download', label: `Download ${issued.token_file_name}` }), use));
        toast('The simulated ABM issued a renewed token. Upload it below.');
      } catch (err) {
        restore();
        showError(err, 'The simulated ABM refused');
      }
    });
    return h('div', { class: 'rehearsal stack' },
      h('p', { class: 'rehearsal-label' }, 'Sandbox: rehearse the renewal'),
      h('p', {}, 'The simulated Apple Business Manager plays “Download Token” on this server.'), actionsRow(go), rehearsalSlot);
  }

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    runSubmit(form, {
      button: submit,
      busyLabel: 'Checking the new token with Apple…',
      validate: () => [{ input: file.input, message: file.validate() }, { input: appleId.input, message: appleId.validate() }],
      submit: () => apiPost(`/tokens/${encodeURIComponent(token.id)}/renew`, {
        token: file.input.value, key_id: key?.id ?? undefined, apple_id: appleId.input.value.trim() || undefined,
      }),
      onSuccess: (renewed) => {
        file.fill('');
        toast(`Token for “${renewed.server_name}” renewed: valid until ${formatDate(renewed.expires_at)}.`);
        onRenewed?.(renewed);
      },
    });
  });

  renderKey();
  return panel({ id: 'renew', title: 'Renew', intro: `In Apple Business Manager, open the MDM server “${token.server_name}” and choose Download Token; upload the file here. The current token keeps working until the new one is checked with Apple and found to belong to this same server.` },
    sandbox ? rehearsal() : null, form);
}
